"""Accounts (made by an admin) and the audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.staff import audit
from bot.staff.accounts import (
    ROLES,
    SERVICE,
    AccountError,
    check_new_account,
    create_account,
    get_account,
    list_accounts,
    reset_password,
    set_active,
    unlock,
)
from staff.render import render
from staff.security import flash, form_value, page


@page("accounts")
async def accounts(request: Request) -> Response:
    return render(
        request,
        "accounts.html",
        {
            "accounts": list_accounts(request.app.state.engine),
            "roles": ROLES,
            "names": request.app.state.service_names(),
        },
    )


@page("accounts")
async def account_new(request: Request) -> Response:
    engine = request.app.state.engine
    names = request.app.state.service_names()
    context = {"roles": ROLES, "names": names, "values": {}, "errors": {}}
    if request.method == "GET":
        return render(request, "account_new.html", context)
    values = {k: form_value(request, k) for k in ("email", "role", "service")}
    password = request.state.form.get("password")
    password = password if isinstance(password, str) else ""
    errors = {}
    for problem in check_new_account(
        values["email"], password, values["role"], values["service"] or None
    ):
        field = (
            "email"
            if "email" in problem
            else "password"
            if "password" in problem
            else "role"
            if "role" in problem
            else "service"
        )
        errors.setdefault(field, problem)
    if values["role"] == SERVICE and values["service"] and values["service"] not in names:
        errors["service"] = "Choose a service from the list"
    if not errors:
        try:
            account = create_account(
                engine, values["email"], password, values["role"], values["service"] or None
            )
        except AccountError as exc:
            errors["email"] = str(exc).rstrip(".")
    if errors:
        context.update(values=values, errors=errors)
        return render(request, "account_new.html", context, 400)
    audit.record(
        engine,
        request.state.account.email,
        "account created",
        account.email,
        account.role + (f" for {account.service_key}" if account.service_key else ""),
    )
    flash(
        request,
        f"Account made for {account.email}. Give them their password in person "
        "or by phone, not by email.",
    )
    return RedirectResponse("/accounts", 303)


@page("accounts")
async def account_active(request: Request) -> Response:
    engine = request.app.state.engine
    account_id = int(request.path_params["account_id"])
    target = get_account(engine, account_id)
    me = request.state.account
    if target is None or target.id == me.id:
        flash(request, "You cannot switch off your own account.")
        return RedirectResponse("/accounts", 303)
    active = form_value(request, "active") == "yes"
    set_active(engine, account_id, active)
    audit.record(
        engine, me.email, "account switched on" if active else "account switched off", target.email
    )
    flash(request, f"{target.email} is now {'on' if active else 'off'}.")
    return RedirectResponse("/accounts", 303)


@page("accounts")
async def account_unlock(request: Request) -> Response:
    engine = request.app.state.engine
    try:
        target = unlock(engine, int(request.path_params["account_id"]))
    except AccountError:
        flash(request, "No such account.")
        return RedirectResponse("/accounts", 303)
    audit.record(engine, request.state.account.email, "account unlocked", target.email)
    flash(request, f"{target.email} is unlocked.")
    return RedirectResponse("/accounts", 303)


@page("accounts")
async def account_reset(request: Request) -> Response:
    """Reset someone else's password: a one-time password, shown on this page only once."""
    engine = request.app.state.engine
    target = get_account(engine, int(request.path_params["account_id"]))
    me = request.state.account
    if target is None:
        flash(request, "No such account.")
        return RedirectResponse("/accounts", 303)
    if target.id == me.id:
        flash(request, "Change your own password with 'Change your password' at the top.")
        return RedirectResponse("/accounts", 303)
    account, one_time = reset_password(engine, target.id)
    audit.record(engine, me.email, "password reset", account.email, "must change at next login")
    return render(request, "account_reset.html", {"target": account, "password": one_time})


@page("audit")
async def audit_log(request: Request) -> Response:
    return render(request, "audit.html", {"entries": audit.recent(request.app.state.engine)})
