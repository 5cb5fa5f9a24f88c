"""The cases inbox: per service and status, age against the target time, overdue first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine

from bot.db import session_scope, utcnow
from bot.notify.outbox import OutboxRow
from bot.routing.cases import (
    ACKNOWLEDGED,
    CLOSED,
    IN_PROGRESS,
    NEW,
    SENT,
    Case,
    list_cases,
)
from bot.routing.rules import Routing

TABS = {
    "new": ("New", (NEW, SENT)),
    "acknowledged": ("Acknowledged", (ACKNOWLEDGED,)),
    "in_progress": ("In progress", (IN_PROGRESS,)),
    "closed": ("Closed", (CLOSED,)),
}
STATUS_LABELS = {
    NEW: "New",
    SENT: "New",
    ACKNOWLEDGED: "Acknowledged",
    IN_PROGRESS: "In progress",
    CLOSED: "Closed",
}


@dataclass(frozen=True)
class CaseView:
    """A case with what the inbox shows about its age."""

    case: Case
    age: timedelta
    target_hours: int
    overdue: bool

    @property
    def age_words(self) -> str:
        return duration_words(self.age)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.case.status, self.case.status)


def duration_words(span: timedelta) -> str:
    """'3 days 4 hours', '5 hours', '12 minutes'."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} day{'s' * (days != 1)} {hours} hour{'s' * (hours != 1)}"
    if hours:
        return f"{hours} hour{'s' * (hours != 1)}"
    return f"{mins} minute{'s' * (mins != 1)}"


def view(case: Case, routing: Routing, now: datetime | None = None) -> CaseView:
    moment = now or utcnow()
    waiting = case.status in (NEW, SENT)
    return CaseView(
        case=case,
        age=moment - case.created_at,
        target_hours=routing.route_for(case.service_key).target_hours,
        overdue=waiting and moment > case.due_at,
    )


def inbox(
    engine: Engine,
    routing: Routing,
    service: str | None,
    tab: str = "new",
    now: datetime | None = None,
) -> list[CaseView]:
    """Cases on one tab (for one service, or all when ``service`` is None), overdue first,
    then the oldest first."""
    statuses = TABS[tab][1]
    views = [
        view(case, routing, now)
        for case in list_cases(engine)
        if case.status in statuses and (service is None or case.service_key == service)
    ]
    return sorted(views, key=lambda v: (not v.overdue, v.case.created_at))


def tab_counts(engine: Engine, service: str | None) -> dict[str, int]:
    cases = [c for c in list_cases(engine) if service is None or c.service_key == service]
    return {tab: sum(c.status in statuses for c in cases) for tab, (_, statuses) in TABS.items()}


def case_messages(engine: Engine, reference: str) -> list[OutboxRow]:
    """Every message sent about a case: to the service(s) and to the family."""
    with session_scope(engine) as session:
        query = select(OutboxRow).where(
            or_(
                OutboxRow.dedupe_key.like(f"case:{reference}:%"),
                OutboxRow.dedupe_key.like(f"family:{reference}:%"),
            )
        )
        return list(session.scalars(query.order_by(OutboxRow.id)))
