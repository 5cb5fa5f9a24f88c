"""A local SMTP server's mailbox: the handler given to aiosmtpd's ``Controller``, which
keeps each delivered email as (recipient, raw message)."""

from __future__ import annotations

from typing import Any


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.rcpt_tos[0], envelope.content.decode()))
        return "250 OK"
