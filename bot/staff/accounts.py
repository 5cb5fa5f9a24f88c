"""Staff accounts: roles, Argon2 password hashes, and lockout after repeated failures.

An account has one role. Service staff also have the directory key of their service.
After ``MAX_FAILURES`` wrong passwords in a row the account is locked for ``LOCK_MINUTES``;
a locked account cannot log in even with the right password until then (or an admin unlocks).
Staff change their own password (the current one is required); an admin who resets someone
else's gets a one-time password to pass on, which must be changed at the next login.
Changing, resetting or switching off an account ends its other sessions.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Boolean, Column, DateTime, Integer, String, func, select
from sqlalchemy.engine import Engine

from bot.db import Base, session_scope, utcnow

SERVICE, LOCAL_OFFER, SAFEGUARDING, ADMIN = "service", "local_offer", "safeguarding", "admin"
ROLES = {
    SERVICE: "Service staff",
    LOCAL_OFFER: "Local Offer team",
    SAFEGUARDING: "Safeguarding lead",
    ADMIN: "Admin",
}
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 12
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# One-time passwords are read aloud or typed from a note: no 0/O, 1/l/I look-alikes.
ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
ONE_TIME_GROUPS, ONE_TIME_GROUP_LENGTH = 4, 4
_hasher = PasswordHasher()


class StaffAccountRow(Base):
    """A person who works in the staff console."""

    __tablename__ = "staff_accounts"
    id = Column(Integer, primary_key=True)
    email = Column(String(200), nullable=False, unique=True)
    password_hash = Column(String(200), nullable=False)
    role = Column(String(16), nullable=False)
    service_key = Column(String(64))
    active = Column(Boolean, nullable=False, default=True)
    failed_attempts = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    session_version = Column(Integer, nullable=False, default=1)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = Column(DateTime(timezone=True))
    must_change_password = Column(Boolean, nullable=False, default=False)
    password_changed_at = Column(DateTime(timezone=True))


@dataclass(frozen=True)
class Account:
    """Who is signed in, and what their role lets them see."""

    id: int
    email: str
    role: str
    service_key: str | None
    active: bool
    session_version: int
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    must_change_password: bool = False

    @property
    def role_name(self) -> str:
        return ROLES.get(self.role, self.role)


class AccountError(ValueError):
    """An account that cannot be made as asked; the message says why, plainly."""


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _account(row: StaffAccountRow) -> Account:
    return Account(
        id=int(row.id),
        email=str(row.email),
        role=str(row.role),
        service_key=row.service_key,
        active=bool(row.active),
        session_version=int(row.session_version),
        locked_until=_aware(row.locked_until),
        last_login_at=_aware(row.last_login_at),
        must_change_password=bool(row.must_change_password),
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_new_account(email: str, password: str, role: str, service_key: str | None) -> list[str]:
    """Every problem with a new account's details, in plain words (empty when fine)."""
    problems = []
    if not EMAIL_RE.match(normalise_email(email)):
        problems.append("Enter an email address, like name@example.org")
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"The password must be at least {MIN_PASSWORD_LENGTH} characters")
    if role not in ROLES:
        problems.append(f"The role must be one of: {', '.join(ROLES)}")
    if role == SERVICE and not service_key:
        problems.append("Choose the service this person works for")
    return problems


def create_account(
    engine: Engine, email: str, password: str, role: str, service_key: str | None = None
) -> Account:
    """Store a new account with an Argon2 hash of its password; refuse bad details."""
    problems = check_new_account(email, password, role, service_key)
    address = normalise_email(email)
    if not problems and find_account(engine, address) is not None:
        problems.append(f"There is already an account for {address}")
    if problems:
        raise AccountError(". ".join(problems) + ".")
    with session_scope(engine) as session:
        row = StaffAccountRow(
            email=address,
            password_hash=_hasher.hash(password),
            role=role,
            service_key=service_key if role == SERVICE else None,
            active=True,
            failed_attempts=0,
            session_version=1,
            must_change_password=False,
            password_changed_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return _account(row)


def find_account(engine: Engine, email: str) -> Account | None:
    with session_scope(engine) as session:
        row = session.scalars(
            select(StaffAccountRow).where(StaffAccountRow.email == normalise_email(email))
        ).first()
        return _account(row) if row else None


def get_account(engine: Engine, account_id: int) -> Account | None:
    with session_scope(engine) as session:
        row = session.get(StaffAccountRow, account_id)
        return _account(row) if row else None


def list_accounts(engine: Engine) -> list[Account]:
    with session_scope(engine) as session:
        rows = session.scalars(select(StaffAccountRow).order_by(StaffAccountRow.email))
        return [_account(row) for row in rows]


def count_accounts(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count(StaffAccountRow.id))) or 0)


@dataclass(frozen=True)
class LoginResult:
    """The account when the password was right; otherwise why not: ``locked``, ``wrong``, or
    ``off`` (an account switched off: the person is told only that it did not work)."""

    account: Account | None
    problem: str = ""


def authenticate(
    engine: Engine, email: str, password: str, now: datetime | None = None
) -> LoginResult:
    """Check a password; count failures and lock the account after ``MAX_FAILURES``."""
    moment = now or utcnow()
    with session_scope(engine) as session:
        row = session.scalars(
            select(StaffAccountRow).where(StaffAccountRow.email == normalise_email(email))
        ).first()
        if row is None or not row.active:
            _hasher.hash(password)  # the same work as a real check: no timing hint
            return LoginResult(None, "wrong" if row is None else "off")
        locked_until = _aware(row.locked_until)
        if locked_until and locked_until > moment:
            return LoginResult(None, "locked")
        try:
            _hasher.verify(str(row.password_hash), password)
        except (VerificationError, InvalidHashError):
            row.failed_attempts = int(row.failed_attempts) + 1
            if row.failed_attempts >= MAX_FAILURES:
                row.locked_until = moment + timedelta(minutes=LOCK_MINUTES)
                row.failed_attempts = 0
                return LoginResult(None, "locked")
            return LoginResult(None, "wrong")
        if _hasher.check_needs_rehash(str(row.password_hash)):
            row.password_hash = _hasher.hash(password)
        row.failed_attempts = 0
        row.locked_until = None
        row.last_login_at = moment
        return LoginResult(_account(row))


def set_active(engine: Engine, account_id: int, active: bool) -> Account:
    """Turn an account on or off; turning it off ends its sessions."""
    with session_scope(engine) as session:
        row = session.get(StaffAccountRow, account_id)
        if row is None:
            raise AccountError("No such account.")
        row.active = active
        row.session_version = int(row.session_version) + 1
        return _account(row)


def unlock(engine: Engine, account_id: int) -> Account:
    """Lift a lockout early (an admin has checked it is really that person)."""
    with session_scope(engine) as session:
        row = session.get(StaffAccountRow, account_id)
        if row is None:
            raise AccountError("No such account.")
        row.locked_until = None
        row.failed_attempts = 0
        return _account(row)


def check_new_password(new: str, confirm: str, current: str = "") -> dict[str, str]:
    """Problems with a chosen password, by form field (empty when fine)."""
    problems = {}
    if len(new) < MIN_PASSWORD_LENGTH:
        problems["new_password"] = (
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    elif current and new == current:
        problems["new_password"] = "The new password must be different from the current one"  # noqa: S105
    if not problems and new != confirm:
        problems["confirm_password"] = "The two new passwords are not the same"  # noqa: S105
    return problems


def change_password(
    engine: Engine, account_id: int, current: str, new: str, confirm: str
) -> tuple[Account | None, dict[str, str]]:
    """Change your own password: the current one must be right. Returns the account (with a
    new session version: other sessions end) or the problems by form field. A wrong current
    password counts as a failed login, so this cannot be used to guess it."""
    with session_scope(engine) as session:
        row = session.get(StaffAccountRow, account_id)
        if row is None or not row.active:
            return None, {"current_password": "This account cannot change its password"}
        try:
            _hasher.verify(str(row.password_hash), current)
        except (VerificationError, InvalidHashError):
            row.failed_attempts = int(row.failed_attempts) + 1
            if row.failed_attempts >= MAX_FAILURES:
                row.locked_until = utcnow() + timedelta(minutes=LOCK_MINUTES)
                row.failed_attempts = 0
                row.session_version = int(row.session_version) + 1  # locked: signed out
            return None, {"current_password": "Your current password is not right"}
        problems = check_new_password(new, confirm, current)
        if problems:
            return None, problems
        _set_password(row, new, must_change=False)
        return _account(row), {}


def one_time_password() -> str:
    """A random password to pass on by phone or in person: 'k7qm-3vxa-9dtr-hp2w'."""
    return "-".join(
        "".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(ONE_TIME_GROUP_LENGTH))
        for _ in range(ONE_TIME_GROUPS)
    )


def reset_password(engine: Engine, account_id: int) -> tuple[Account, str]:
    """An admin resets someone's password: a one-time password (returned once, stored only
    as its hash) that must be changed at the next login. The account is unlocked and every
    session it had ends."""
    password = one_time_password()
    with session_scope(engine) as session:
        row = session.get(StaffAccountRow, account_id)
        if row is None:
            raise AccountError("No such account.")
        _set_password(row, password, must_change=True)
        row.failed_attempts = 0
        row.locked_until = None
        return _account(row), password


def _set_password(row: StaffAccountRow, password: str, must_change: bool) -> None:
    row.password_hash = _hasher.hash(password)
    row.must_change_password = must_change
    row.password_changed_at = utcnow()
    row.session_version = int(row.session_version) + 1
