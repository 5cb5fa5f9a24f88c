"""A person's own open cases, for "any news on my case?" without a reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.db import session_scope
from bot.routing.cases import CLOSED, STATUS_WORDS, Case, CaseRow, _case

MAX_LISTED = 5


def open_cases_for(engine: Engine, sender: str) -> list[Case]:
    """The cases ``sender`` raised that are not closed, newest first."""
    with session_scope(engine) as session:
        rows = session.scalars(
            select(CaseRow)
            .where(CaseRow.sender == sender, CaseRow.status != CLOSED)
            .order_by(CaseRow.id.desc())
        )
        return [_case(row) for row in rows]


def my_cases_text(cases: Sequence[Case], service_name: Callable[[str], str]) -> str:
    """Easy read: each open case, its reference shown plainly, who has it and its status."""
    if not cases:
        return (
            "I can't find any open cases from this chat. "
            "If you have a case reference, tell me it. It looks like TW-7K3QXZ."
        )
    intro = "You have 1 open case:" if len(cases) == 1 else f"You have {len(cases)} open cases:"
    lines = [intro]
    for case in cases[:MAX_LISTED]:
        lines.append(
            f"{case.reference}, sent to {service_name(case.service_key)} on "
            f"{case.created_at:%-d %B}. It {STATUS_WORDS[case.status]}."
        )
    if len(cases) > MAX_LISTED:
        lines.append(f"And {len(cases) - MAX_LISTED} more.")
    return "\n".join(lines)
