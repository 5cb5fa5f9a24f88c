"""Logging in and out, changing your own password, and the start page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from bot.staff import audit
from bot.staff.access import HOME, PUBLIC, SIGNED_IN
from bot.staff.accounts import (
    LOCK_MINUTES,
    MIN_PASSWORD_LENGTH,
    authenticate,
    change_password,
    get_account,
    normalise_email,
)
from staff.render import render
from staff.security import flash, form_secret, form_value, page, sign_in


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
    if result.account.must_change_password:
        return RedirectResponse("/password", 303)
    return RedirectResponse(_safe_next(target) or HOME[result.account.role], 303)


@page(SIGNED_IN)
async def password(request: Request) -> Response:
    """Change your own password: the current one, then the new one twice."""
    engine = request.app.state.engine
    account = request.state.account
    context = {
        "errors": {},
        "must_change": account.must_change_password,
        "min_length": MIN_PASSWORD_LENGTH,
    }
    if request.method == "GET":
        return render(request, "password.html", context)
    current = form_secret(request, "current_password")
    if not current:
        errors = {"current_password": "Enter your current password"}
        return render(request, "password.html", {**context, "errors": errors}, 400)
    changed, errors = change_password(
        engine,
        account.id,
        current,
        form_secret(request, "new_password"),
        form_secret(request, "confirm_password"),
    )
    if changed is None:
        audit.record(engine, account.email, "password change refused", detail=", ".join(errors))
        after = get_account(engine, account.id)
        if after is None or after.session_version != account.session_version:  # now locked
            request.session.clear()
            flash(request, f"Too many wrong passwords. This account is locked for {LOCK_MINUTES} "
                  "minutes. An admin can unlock it sooner.")  # fmt: skip
            return RedirectResponse("/login", 303)
        return render(request, "password.html", {**context, "errors": errors}, 400)
    sign_in(request, changed)  # this session goes on; every other one has ended
    audit.record(engine, changed.email, "password changed")
    flash(request, "Your password is changed. You were logged out everywhere else.")
    return RedirectResponse(HOME[changed.role], 303)


@page(SIGNED_IN)
async def logout(request: Request) -> Response:
    audit.record(request.app.state.engine, request.state.account.email, "logout")
    request.session.clear()
    flash(request, "You have logged out.")
    return RedirectResponse("/login", 303)
