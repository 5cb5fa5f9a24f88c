"""Logging in and out, and the start page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.staff import audit
from bot.staff.access import HOME, PUBLIC, SIGNED_IN
from bot.staff.accounts import LOCK_MINUTES, authenticate, normalise_email
from staff.render import render
from staff.security import flash, form_value, page, sign_in


@page(PUBLIC)
async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@page(SIGNED_IN)
async def start(request: Request) -> Response:
    return RedirectResponse(HOME[request.state.account.role], 303)


def _safe_next(target: str) -> str | None:
    """Only a path on this site (never ``//elsewhere`` or a full address)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@page(PUBLIC)
async def login(request: Request) -> Response:
    engine = request.app.state.engine
    target = request.query_params.get("next", "")
    if request.method == "GET":
        if request.state.account is not None:
            return RedirectResponse(HOME[request.state.account.role], 303)
        return render(request, "login.html", {"next": target})
    email = form_value(request, "email")
    password = request.state.form.get("password")
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not isinstance(password, str) or not password:
        errors["password"] = "Enter your password"  # noqa: S105 (a message)
    if errors:
        return render(
            request, "login.html", {"errors": errors, "email": email, "next": target}, 400
        )
    result = authenticate(engine, email, str(password))
    if result.account is None:
        audit.record(engine, normalise_email(email)[:200], f"login {result.problem}")
        message = (
            f"Too many wrong passwords. This account is locked for {LOCK_MINUTES} minutes. "
            "An admin can unlock it sooner."
            if result.problem == "locked"
            else "The email address or password is not right"
        )
        return render(
            request,
            "login.html",
            {"errors": {"password": message}, "email": email, "next": target},
            401,
        )
    sign_in(request, result.account)
    audit.record(engine, result.account.email, "login")
    return RedirectResponse(_safe_next(target) or HOME[result.account.role], 303)


@page(SIGNED_IN)
async def logout(request: Request) -> Response:
    audit.record(request.app.state.engine, request.state.account.email, "logout")
    request.session.clear()
    flash(request, "You have logged out.")
    return RedirectResponse("/login", 303)
