"""Open311 GeoReport v2, so a council's case system can read services and cases.

Mounted by Rasa at /webhooks/open311/:
  GET  v2/services.json              the directory entries that can receive cases
  POST v2/requests.json              create a case (api_key required)
  GET  v2/requests.json              cases, optionally by service_code (api_key required)
  GET  v2/requests/<reference>.json  one case (api_key required)
Cases hold what a family said, so every request endpoint needs OPEN311_API_KEY; with no
key set they answer 403. Location fields (lat, long, address) do not apply to SEND issues
and are ignored.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.directory.store import load_directory
from bot.routing.cases import CLOSED, Case, CaseNotFound, create_case, get_case, list_cases
from bot.routing.rules import Decision, load_routing


def _error(status: int, description: str) -> HTTPResponse:
    return response.json([{"code": status, "description": description}], status=status)


def request_json(case: Case) -> dict[str, Any]:
    """A case in the GeoReport v2 service request shape."""
    return {
        "service_request_id": case.reference,
        "status": "closed" if case.status == CLOSED else "open",
        "status_notes": case.status,
        "service_code": case.service_key,
        "description": case.summary,
        "requested_datetime": case.created_at.isoformat(),
        "expected_datetime": case.due_at.isoformat(),
        "agency_responsible": case.service_key,
    }


class Open311Input(InputChannel):
    """Not a chat channel: an API beside the channels, on the same server."""

    @classmethod
    def name(cls) -> str:
        return "open311"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> Open311Input:
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _authorised(self, request: Request) -> bool:
        key = request.args.get("api_key") or request.form.get("api_key") or ""
        expected = self.settings.open311_api_key
        return bool(expected) and hmac.compare_digest(key, expected)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        api = Blueprint("open311", __name__)
        engine = shared_engine(self.settings.database_url)

        @api.route("/v2/services.json", methods=["GET"])
        async def services(_request: Request) -> HTTPResponse:
            routing = load_routing()
            entries = load_directory(engine).entries
            return response.json(
                [
                    {
                        "service_code": e.key,
                        "service_name": e.name,
                        "description": e.summary,
                        "metadata": False,
                        "type": "realtime",
                        "keywords": ",".join(e.keywords),
                        "group": e.kind,
                    }
                    for e in entries
                    if e.key in routing.services or e.key == routing.fallback_owner
                ]
            )

        @api.route("/v2/requests.json", methods=["POST"])
        async def create(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return _error(403, "api_key missing or wrong")
            code = request.form.get("service_code") or ""
            description = (request.form.get("description") or "").strip()
            routing = load_routing()
            if code not in routing.services or not description:
                return _error(400, "service_code and description are required")
            case = create_case(
                engine,
                routing,
                Decision(code, "open311", "normal", "open311"),
                description[:4000],
                channel="open311",
                sender="open311",
                consent=False,
                turn_id=request.form.get("service_request_id") or str(request.id).replace("-", ""),
            )
            return response.json(
                [{"service_request_id": case.reference, "service_notice": "Sent to the team."}],
                status=201,
            )

        @api.route("/v2/requests.json", methods=["GET"])
        async def listing(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return _error(403, "api_key missing or wrong")
            code = request.args.get("service_code")
            cases = [c for c in list_cases(engine) if not code or c.service_key == code]
            return response.json([request_json(c) for c in cases])

        @api.route("/v2/requests/<name>", methods=["GET"])
        async def one(request: Request, name: str) -> HTTPResponse:
            # sanic's router cannot declare "<reference>.json", so the suffix is cut here.
            if not self._authorised(request):
                return _error(403, "api_key missing or wrong")
            reference = name.removesuffix(".json")
            try:
                return response.json([request_json(get_case(engine, reference))])
            except CaseNotFound:
                return _error(404, f"no service request {reference}")

        return api
