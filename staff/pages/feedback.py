"""Feedback per service and theme with charts and CSV export; "You said, we did"."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.feedback.you_said import publish_and_notify
from bot.staff import audit
from bot.staff.access import service_scope
from bot.staff.feedback_view import (
    Filters,
    by_month,
    by_service,
    by_theme,
    filtered,
    notice_preview,
    ratings_chart_svg,
    to_csv,
)
from staff.render import render
from staff.security import flash, form_value, page

CHANNELS = ("sms", "telegram", "voice", "webchat", "rest")
MAX_TEXT = 300


def _date(value: str | None) -> tuple[date | None, bool]:
    if not value:
        return None, True
    try:
        return date.fromisoformat(value), True
    except ValueError:
        return None, False


def _filters(request: Request) -> tuple[Filters, dict[str, str], dict[str, str]]:
    """Filters from the query string; service staff are always held to their service."""
    query = request.query_params
    start, start_ok = _date(query.get("from"))
    end, end_ok = _date(query.get("to"))
    errors = {}
    if not start_ok:
        errors["from"] = "Enter the start date as YYYY-MM-DD, like 2026-11-01"
    if not end_ok:
        errors["to"] = "Enter the end date as YYYY-MM-DD, like 2026-11-30"
    scope = service_scope(request.state.account)
    service = scope or query.get("service") or None
    channel = query.get("channel") if query.get("channel") in CHANNELS else None
    values = {
        "from": query.get("from", ""),
        "to": query.get("to", ""),
        "service": service or "",
        "channel": channel or "",
    }
    return Filters(start, end, service, channel), values, errors


@page("feedback")
async def feedback(request: Request) -> Response:
    filters, values, errors = _filters(request)
    rows = filtered(request.app.state.engine, filters)
    months = by_month(rows)
    title = "Average rating by month (1 to 5)"
    return render(
        request,
        "feedback.html",
        {
            "rows": rows[-50:][::-1],
            "total": len(rows),
            "services": by_service(rows),
            "themes": by_theme(rows),
            "months": months,
            "chart": ratings_chart_svg(months, title),
            "values": values,
            "errors": errors,
            "channels": CHANNELS,
            "scope": service_scope(request.state.account),
            "names": request.app.state.service_names(),
            "query": str(request.url.query),
        },
        status_code=400 if errors else 200,
    )


@page("feedback")
async def feedback_csv(request: Request) -> Response:
    filters, _values, errors = _filters(request)
    if errors:
        return RedirectResponse("/feedback", 303)
    rows = filtered(request.app.state.engine, filters)
    audit.record(
        request.app.state.engine,
        request.state.account.email,
        "feedback exported",
        filters.service or "all services",
        f"{len(rows)} rows",
    )
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


@page("you_said")
async def you_said(request: Request) -> Response:
    engine = request.app.state.engine
    names = request.app.state.service_names()
    themes = request.app.state.themes()
    context = {"names": names, "themes": themes, "values": {}, "errors": {}, "preview": None}
    if request.method == "GET":
        return render(request, "you_said.html", context)
    values = {k: form_value(request, k) for k in ("you_said", "we_did", "service", "theme")}
    errors = {}
    for name, label in (("you_said", "what families said"), ("we_did", "what was done")):
        if not values[name]:
            errors[name] = f"Write {label}"
        elif len(values[name]) > MAX_TEXT:
            errors[name] = f"Keep it to {MAX_TEXT} characters or fewer"
    if values["service"] and values["service"] not in names:
        errors["service"] = "Choose a service from the list"
    if values["theme"] and values["theme"] not in themes:
        errors["theme"] = "Choose a theme from the list"
    if not values["service"] and not values["theme"]:
        errors["service"] = "Choose the service or the theme (or both) this answers"
    context.update(values=values, errors=errors)
    if errors:
        return render(request, "you_said.html", context, 400)
    service, theme = values["service"] or None, values["theme"] or None
    if form_value(request, "action") != "publish":
        context["preview"] = notice_preview(
            engine, values["you_said"], values["we_did"], service, theme
        )
        return render(request, "you_said.html", context)
    item_id, told, unreachable = publish_and_notify(
        engine, values["you_said"], values["we_did"], service, theme
    )
    audit.record(
        engine,
        request.state.account.email,
        "you said we did published",
        str(item_id),
        f"{told} told, {unreachable} see it by asking",
    )
    flash(
        request,
        f"Published. {told} families will be sent it on their channel; "
        f"{unreachable} will see it when they ask what has changed.",
    )
    return RedirectResponse("/you-said", 303)
