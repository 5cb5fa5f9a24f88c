"""Who may see what in the staff console: one table of areas and the roles allowed in each.

Every console page belongs to one area; a role not listed for an area gets "not allowed"
for every address in it. Service staff also see only their own service's cases and feedback.
"""

from __future__ import annotations

from bot.staff.accounts import ADMIN, LOCAL_OFFER, SAFEGUARDING, SERVICE, Account

PUBLIC = "public"
SIGNED_IN = "signed_in"
AREAS: dict[str, frozenset[str]] = {
    "cases": frozenset({SERVICE, LOCAL_OFFER}),
    "outbox": frozenset({LOCAL_OFFER}),
    "flags": frozenset({SAFEGUARDING}),
    "feedback": frozenset({SERVICE, LOCAL_OFFER}),
    "you_said": frozenset({LOCAL_OFFER}),
    "directory": frozenset({LOCAL_OFFER}),
    "accounts": frozenset({ADMIN}),
    "audit": frozenset({ADMIN}),
}
HOME = {SERVICE: "/cases", LOCAL_OFFER: "/cases", SAFEGUARDING: "/flags", ADMIN: "/accounts"}


def can(account: Account, area: str) -> bool:
    """True if ``account`` may use pages in ``area``."""
    if area in (PUBLIC, SIGNED_IN):
        return True
    return account.active and account.role in AREAS.get(area, frozenset())


def service_scope(account: Account) -> str | None:
    """The one service whose cases and feedback this account sees; None means all."""
    return account.service_key if account.role == SERVICE else None


def sees_service(account: Account, service_key: str) -> bool:
    scope = service_scope(account)
    return scope is None or scope == service_key
