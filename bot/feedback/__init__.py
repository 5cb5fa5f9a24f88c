"""Feedback from families and young people, its themes, and "You said, we did"."""
