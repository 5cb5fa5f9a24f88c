"""Sessions, CSRF tokens and the guard every page goes through.

The session is Starlette's signed cookie (itsdangerous), HttpOnly, SameSite=Strict, and
Secure when the console's public address is https. It holds the account id, the account's
session version (bumped when an account is switched off or its password changes or is
reset, which ends every session made before) and the CSRF token. An account whose password
an admin reset reaches only the password page until it chooses a new one.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.staff.access import PUBLIC, can
from bot.staff.accounts import Account, get_account

Handler = Callable[[Request], Awaitable[Response]]
SESSION_HOURS = 8
CHANGE_FIRST = frozenset({"/password", "/logout"})  # all a reset account may use


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def valid_csrf(request: Request, sent: Any) -> bool:
    expected = request.session.get("csrf")
    return bool(expected) and isinstance(sent, str) and secrets.compare_digest(expected, sent)


def sign_in(request: Request, account: Account) -> None:
    """A fresh session for ``account`` (a new CSRF token too: no session fixation)."""
    request.session.clear()
    request.session.update({"account": account.id, "version": account.session_version})
    csrf_token(request)


def current_account(request: Request) -> Account | None:
    account_id = request.session.get("account")
    if account_id is None:
        return None
    account = get_account(request.app.state.engine, int(account_id))
    if (
        account is None
        or not account.active
        or account.session_version != request.session.get("version")
    ):
        request.session.clear()
        return None
    return account


def flash(request: Request, message: str) -> None:
    request.session["flash"] = message


def take_flash(request: Request) -> str | None:
    return request.session.pop("flash", None)


def page(area: str) -> Callable[[Handler], Handler]:
    """Guard a page: signed in (unless public), allowed in ``area``, CSRF-checked on POST."""

    def decorate(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            from staff.render import render

            account = current_account(request)
            request.state.account = account
            if area != PUBLIC:
                if account is None:
                    return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
                if account.must_change_password and request.url.path not in CHANGE_FIRST:
                    return RedirectResponse("/password", 303)
                if not can(account, area):
                    return render(request, "error.html", {"status": 403}, status_code=403)
            if request.method == "POST":
                form = await request.form()
                if not valid_csrf(request, form.get("csrf_token")):
                    return render(request, "error.html", {"status": "csrf"}, status_code=403)
                request.state.form = form
            return await handler(request)

        endpoint.area = area  # type: ignore[attr-defined]
        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    return decorate


def form_value(request: Request, name: str) -> str:
    value = request.state.form.get(name)
    return value.strip() if isinstance(value, str) else ""


def form_secret(request: Request, name: str) -> str:
    """A password field exactly as typed (spaces are part of a password)."""
    value = request.state.form.get(name)
    return value if isinstance(value, str) else ""
