"""Outbound messages: one persisted outbox, and one small sender class per method."""
