"""The staff console's Starlette application: routes, sessions, security headers, assets.

``create_app`` takes the engine and settings (tests hand it a temporary database); every
page calls ``bot/`` for the work, so the console and the CLI share one copy of the rules.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.config import PROJECT_ROOT, Settings
from bot.db import make_engine, session_scope
from bot.directory.models import EntryRow
from bot.directory.store import load_directory
from bot.feedback.themes import load_themes
from bot.routing.rules import Routing, load_routing
from staff.pages import admin, auth, cases, directory, feedback, flags
from staff.render import render
from staff.security import SESSION_HOURS, current_account

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
GOVUK_DIST = PROJECT_ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"

ROUTES = [
    Route("/", auth.start),
    Route("/health", auth.health),
    Route("/login", auth.login, methods=["GET", "POST"]),
    Route("/logout", auth.logout, methods=["POST"]),
    Route("/password", auth.password, methods=["GET", "POST"]),
    Route("/cases", cases.case_list),
    Route("/cases/{reference}", cases.case_detail),
    Route("/cases/{reference}/update", cases.case_update, methods=["POST"]),
    Route("/cases/{reference}/reassign", cases.case_reassign, methods=["POST"]),
    Route("/outbox", cases.outbox_dead),
    Route("/outbox/{outbox_id:int}/retry", cases.outbox_retry, methods=["POST"]),
    Route("/flags", flags.flag_list),
    Route("/flags/{flag_id:int}", flags.flag_detail),
    Route("/flags/{flag_id:int}/review", flags.flag_review, methods=["POST"]),
    Route("/feedback", feedback.feedback),
    Route("/feedback/export.csv", feedback.feedback_csv),
    Route("/you-said", feedback.you_said, methods=["GET", "POST"]),
    Route("/directory", directory.directory_list),
    Route("/directory/new", directory.entry_new, methods=["GET", "POST"]),
    Route("/directory/import", directory.directory_import, methods=["GET", "POST"]),
    Route("/directory/{key}", directory.entry_detail),
    Route("/directory/{key}/edit", directory.entry_edit, methods=["GET", "POST"]),
    Route("/accounts", admin.accounts),
    Route("/accounts/new", admin.account_new, methods=["GET", "POST"]),
    Route("/accounts/{account_id:int}/active", admin.account_active, methods=["POST"]),
    Route("/accounts/{account_id:int}/unlock", admin.account_unlock, methods=["POST"]),
    Route("/accounts/{account_id:int}/password", admin.account_reset, methods=["POST"]),
    Route("/audit", admin.audit_log),
]


def csp(nonce: str) -> str:
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeaders:
    """A CSP with a per-request nonce (for GOV.UK's one inline script), no framing, no
    caching of pages with case or family details."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["nonce"] = nonce
        static = scope["path"].startswith(("/assets/", "/static/"))

        async def send_with_headers(message):  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp(nonce).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                ]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if not hasattr(request.state, "account"):
        request.state.account = current_account(request) if "session" in request.scope else None
    return render(request, "error.html", {"status": status}, status_code=status)


def secret_key(settings: Settings, folder: Path) -> str:
    """STAFF_SECRET_KEY, or a random key kept in ``var/`` for local runs."""
    if settings.staff_secret_key:
        return settings.staff_secret_key
    path = folder / "staff-secret-key"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def create_app(
    engine: Engine,
    settings: Settings,
    routing: Routing | None = None,
    tracker_engine: Engine | None = None,
    var_dir: Path | None = None,
) -> Starlette:
    """The console over ``engine``; sessions are Secure when STAFF_PUBLIC_URL is https."""
    folder = var_dir or PROJECT_ROOT / "var"
    mounts = [Mount("/static", StaticFiles(directory=HERE / "static"), name="static")]
    if GOVUK_DIST.is_dir():
        mounts += [
            Mount("/assets", StaticFiles(directory=GOVUK_DIST / "assets"), name="assets"),
            Mount("/govuk", StaticFiles(directory=GOVUK_DIST), name="govuk"),
        ]
    else:
        log.warning("GOV.UK Frontend is not installed (run `make assets`): pages are unstyled")
    app = Starlette(
        routes=ROUTES + mounts,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key(settings, folder),
                session_cookie="staff_session",
                max_age=SESSION_HOURS * 3600,
                same_site="strict",
                https_only=settings.staff_public_url.startswith("https://"),
            ),
        ],
        exception_handlers={HTTPException: _error, 500: _error},
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.routing = routing or load_routing()
    app.state.tracker_engine = tracker_engine or make_engine(settings.tracker_database_url)
    app.state.import_dir = folder / "staff-imports"
    themes = {t.key: t.label for t in load_themes()}

    def service_names() -> dict[str, str]:
        names = {e.key: e.name for e in load_directory(engine).entries}
        return {
            key: names.get(key, key.replace("_", " "))
            for key in sorted(set(names) | set(app.state.routing.services))
        }

    def sample_data() -> bool:
        with session_scope(engine) as session:
            query = select(EntryRow.id).where(EntryRow.sample_data.is_(True)).limit(1)
            return session.scalars(query).first() is not None

    app.state.service_names = service_names
    app.state.sample_data = sample_data
    app.state.themes = lambda: themes
    return app
