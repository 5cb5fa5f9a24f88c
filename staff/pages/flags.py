"""The safeguarding lead's queue of safety flags, the conversation, and "reviewed"."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.safety_log import all_flags, get_flag, review_flag
from bot.staff import audit
from bot.staff.conversation import conversation
from staff.render import render
from staff.security import flash, form_value, page

MAX_NOTE = 2000


def category(flag: object) -> str:
    """The flag's category when the safety module records one; else its reasons."""
    value = getattr(flag, "category", None)
    if value:
        return str(value)
    return ", ".join(getattr(flag, "reasons", None) or []) or "not recorded"


@page("flags")
async def flag_list(request: Request) -> Response:
    engine = request.app.state.engine
    return render(
        request,
        "flags.html",
        {
            "open": all_flags(engine, reviewed=False),
            "reviewed": all_flags(engine, reviewed=True)[:50],
            "category": category,
        },
    )


def _flag_page(
    request: Request, errors: dict[str, str] | None = None, note: str = "", status_code: int = 200
) -> Response:
    flag = get_flag(request.app.state.engine, int(request.path_params["flag_id"]))
    if flag is None:
        raise HTTPException(404)
    turns = conversation(request.app.state.tracker_engine, str(flag.conversation_id))
    audit.record(
        request.app.state.engine,
        request.state.account.email,
        "flag conversation viewed",
        str(flag.id),
    )
    return render(
        request,
        "flag.html",
        {
            "flag": flag,
            "turns": turns,
            "category": category(flag),
            "errors": errors or {},
            "note": note,
        },
        status_code=status_code,
    )


@page("flags")
async def flag_detail(request: Request) -> Response:
    return _flag_page(request)


@page("flags")
async def flag_review(request: Request) -> Response:
    note = form_value(request, "note")
    if not note:
        return _flag_page(request, {"note": "Write what you found or did"}, note, 400)
    if len(note) > MAX_NOTE:
        error = f"The note must be {MAX_NOTE} characters or fewer"
        return _flag_page(request, {"note": error}, note, 400)
    flag_id = int(request.path_params["flag_id"])
    engine = request.app.state.engine
    if not review_flag(engine, flag_id, request.state.account.email, note):
        raise HTTPException(404)
    audit.record(engine, request.state.account.email, "flag reviewed", str(flag_id))
    flash(request, f"Flag {flag_id} is marked as reviewed.")
    return RedirectResponse("/flags", 303)
