"""Templates: our own pages plus the GOV.UK Frontend Jinja macros."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from bot.staff.access import AREAS, HOME, can
from bot.staff.clock import uk
from staff.security import csrf_token, take_flash

TEMPLATES = Path(__file__).resolve().parent / "templates"
NAVIGATION = (
    ("cases", "/cases", "Cases"),
    ("outbox", "/outbox", "Outbox"),
    ("flags", "/flags", "Safety flags"),
    ("feedback", "/feedback", "Feedback"),
    ("you_said", "/you-said", "You said, we did"),
    ("directory", "/directory", "Directory"),
    ("accounts", "/accounts", "Accounts"),
    ("audit", "/audit", "Audit log"),
)

environment = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(TEMPLATES)),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def error_list(errors: dict[str, str]) -> list[dict[str, str]]:
    """An error summary's links to the fields with problems."""
    return [{"text": text, "href": f"#{field}"} for field, text in errors.items()]


def when(moment: Any) -> str:
    """A date and time staff read easily, on a UK clock: '24 Nov 2026, 14:05'."""
    return f"{uk(moment):%d %b %Y, %H:%M}" if moment else ""


environment.filters["error_list"] = error_list
environment.filters["when"] = when
templates = Jinja2Templates(env=environment)


def navigation(request: Request) -> list[dict[str, Any]]:
    account = request.state.account
    if account is None:
        return []
    path = request.url.path
    return [
        {"href": href, "text": text, "active": path == href or path.startswith(href + "/")}
        for area, href, text in NAVIGATION
        if area in AREAS and can(account, area)
    ]


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    account = getattr(request.state, "account", None)
    values = {
        "account": account,
        "csrf_token": csrf_token(request),
        "navigation": navigation(request) if account and not account.must_change_password else [],
        "flash": take_flash(request),
        "nonce": getattr(request.state, "nonce", ""),
        "home": HOME.get(account.role, "/") if account else "/login",
        "sample_data": request.app.state.sample_data(),
        "service_name": request.app.state.service_names().get(account.service_key, "")
        if account and account.service_key
        else "",
        **(context or {}),
    }
    return templates.TemplateResponse(request, name, values, status_code=status_code)
