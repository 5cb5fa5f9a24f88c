"""The cases inbox, a case page, status changes with a message to the family, reassigning,
and dead outbox messages with "send again"."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.notify.outbox import dead_letters, retry
from bot.routing.cases import (
    ACKNOWLEDGED,
    ALLOWED,
    CLOSED,
    IN_PROGRESS,
    PUSH_CHANNELS,
    CaseNotFound,
    InvalidTransition,
    get_case,
    history,
    reassign,
    staff_update,
)
from bot.staff import audit
from bot.staff.access import sees_service, service_scope
from bot.staff.inbox import TABS, case_messages, inbox, tab_counts, view
from staff.render import render
from staff.security import flash, form_value, page

ACTIONS = {
    ACKNOWLEDGED: "Acknowledge",
    IN_PROGRESS: "Mark in progress",
    CLOSED: "Close the case",
}
MAX_MESSAGE = 600


def _case_or_404(request: Request, reference: str):  # type: ignore[no-untyped-def]
    """The case, only if this account may see it; otherwise 'not found' (no hint it exists)."""
    try:
        case = get_case(request.app.state.engine, reference)
    except CaseNotFound:
        raise HTTPException(404) from None
    if not sees_service(request.state.account, case.service_key):
        raise HTTPException(404)
    return case


def _names(request: Request) -> dict[str, str]:
    return request.app.state.service_names()


@page("cases")
async def case_list(request: Request) -> Response:
    tab = request.query_params.get("status", "new")
    if tab not in TABS:
        tab = "new"
    scope = service_scope(request.state.account)
    engine, routing = request.app.state.engine, request.app.state.routing
    return render(
        request,
        "cases.html",
        {
            "tab": tab,
            "tabs": TABS,
            "counts": tab_counts(engine, scope),
            "cases": inbox(engine, routing, scope, tab),
            "scope": scope,
            "names": _names(request),
        },
    )


def _case_page(
    request: Request,
    reference: str,
    errors: dict[str, str] | None = None,
    message: str = "",
    status_code: int = 200,
) -> Response:
    case = _case_or_404(request, reference)
    engine, routing = request.app.state.engine, request.app.state.routing
    next_steps = [
        (s, ACTIONS[s])
        for s in (ACKNOWLEDGED, IN_PROGRESS, CLOSED)
        if s in ALLOWED.get(case.status, set())
    ]
    names = _names(request)
    return render(
        request,
        "case.html",
        {
            "item": view(case, routing),
            "events": history(engine, reference),
            "messages": case_messages(engine, reference),
            "next_steps": next_steps,
            "services": sorted(
                ((k, names.get(k, k)) for k in routing.services if k != case.service_key),
                key=lambda kv: kv[1],
            ),
            "names": names,
            "errors": errors or {},
            "message": message,
            "reaches_family": bool(case.sender) and case.channel in PUSH_CHANNELS,
        },
        status_code=status_code,
    )


@page("cases")
async def case_detail(request: Request) -> Response:
    return _case_page(request, request.path_params["reference"])


@page("cases")
async def case_update(request: Request) -> Response:
    reference = request.path_params["reference"]
    case = _case_or_404(request, reference)
    status = form_value(request, "status")
    message = form_value(request, "message")
    if status not in ACTIONS:
        return _case_page(request, reference, {"status": "Choose what to do"}, message, 400)
    if len(message) > MAX_MESSAGE:
        error = f"The message must be {MAX_MESSAGE} characters or fewer"
        return _case_page(request, reference, {"message": error}, message, 400)
    account = request.state.account
    engine = request.app.state.engine
    try:
        updated = staff_update(
            engine, case.reference, status, by=account.email, message=message or None
        )
    except InvalidTransition as exc:
        return _case_page(request, reference, {"status": str(exc)}, message, 409)
    audit.record(
        engine,
        account.email,
        f"case {status}",
        case.reference,
        "with a message to the family" if message else "",
    )
    told = " The family will be sent an update." if updated.sender else ""
    flash(
        request,
        f"Case {case.reference} is now {ACTIONS[status].lower()}d.{told}"
        if status == ACKNOWLEDGED
        else f"Case {case.reference} updated.{told}",
    )
    return RedirectResponse(f"/cases/{case.reference}", 303)


@page("cases")
async def case_reassign(request: Request) -> Response:
    reference = request.path_params["reference"]
    case = _case_or_404(request, reference)
    service = form_value(request, "service")
    note = form_value(request, "note")[:MAX_MESSAGE]
    engine, routing = request.app.state.engine, request.app.state.routing
    account = request.state.account
    try:
        updated = reassign(
            engine, routing, case.reference, service, by=account.email, note=note or None
        )
    except InvalidTransition as exc:
        return _case_page(request, reference, {"service": str(exc)}, status_code=400)
    audit.record(engine, account.email, "case reassigned", case.reference, f"to {service}")
    told = (
        " The family will be told." if updated.sender and updated.channel in PUSH_CHANNELS else ""
    )
    name = _names(request).get(service, service)
    flash(request, f"Case {case.reference} was passed to {name}.{told}")
    if sees_service(account, service):
        return RedirectResponse(f"/cases/{case.reference}", 303)
    return RedirectResponse("/cases", 303)


@page("outbox")
async def outbox_dead(request: Request) -> Response:
    return render(request, "outbox.html", {"rows": dead_letters(request.app.state.engine)})


@page("outbox")
async def outbox_retry(request: Request) -> Response:
    outbox_id = int(request.path_params["outbox_id"])
    engine = request.app.state.engine
    if retry(engine, outbox_id):
        audit.record(engine, request.state.account.email, "outbox send again", str(outbox_id))
        flash(request, f"Message {outbox_id} will be sent again.")
    else:
        flash(request, f"Message {outbox_id} was not waiting to be sent again.")
    return RedirectResponse("/outbox", 303)
