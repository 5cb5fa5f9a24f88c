"""The Who's Who on the Rasa server, at /whos-who/: the page, its search box and the
published booklets and audio guide (``make publish``). Thin: ``bot.publish.site`` answers.

Not a chat channel: it takes no messages, it only serves pages, so it is registered in
``credentials.yml`` like the other connectors and mounted at /whos-who/ (not /webhooks/).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.config import Settings, load_settings
from bot.db import shared_engine
from bot.publish.site import SECURITY_HEADERS, UNAVAILABLE, Site

log = logging.getLogger(__name__)


class WhosWhoInput(InputChannel):
    """Serves the Who's Who pages; never passes anything to Rasa."""

    @classmethod
    def name(cls) -> str:
        return "whos_who"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WhosWhoInput:
        return cls(load_settings())

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._site: Site | None = None

    def url_prefix(self) -> str:
        return "/whos-who"  # absolute, so Rasa mounts it here rather than under /webhooks/

    @property
    def site(self) -> Site:
        if self._site is None:
            engine = shared_engine(self.settings.database_url)
            self._site = Site(engine, self.settings.publish_dir)
        return self._site

    async def page(self, make: Callable[[], str]) -> HTTPResponse:
        """A page made in a worker thread; a kind page (503) if the database is down."""
        try:
            body = await asyncio.to_thread(make)
        except Exception:
            log.exception("whos-who: could not make the page")
            return response.html(UNAVAILABLE, status=503, headers=SECURITY_HEADERS)
        return response.html(body, headers=SECURITY_HEADERS)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        pages = Blueprint("whos_who", __name__)

        @pages.route("/", methods=["GET"], strict_slashes=True)
        async def index(_request: Request) -> HTTPResponse:
            return await self.page(self.site.index_page)

        @pages.route("", methods=["GET"], strict_slashes=True)
        async def bare(_request: Request) -> HTTPResponse:
            return response.redirect(f"{self.url_prefix()}/")  # so relative links work

        @pages.route("/index.html", methods=["GET"])
        async def index_file(_request: Request) -> HTTPResponse:
            return await self.page(self.site.index_page)

        @pages.route("/search", methods=["GET"])
        async def search(request: Request) -> HTTPResponse:
            query = request.args.get("q", "")
            return await self.page(lambda: self.site.search_page(query))

        @pages.route("/you-said-we-did.html", methods=["GET"])
        async def you_said(_request: Request) -> HTTPResponse:
            return await self.page(self.site.you_said_page)

        @pages.route("/<name:path>", methods=["GET"])
        async def published(_request: Request, name: str) -> HTTPResponse:
            found = self.site.file(name)
            if found is None:
                return response.text("Not found", status=404)
            path, kind = found
            return await response.file(path, mime_type=kind, headers=SECURITY_HEADERS)

        return pages
