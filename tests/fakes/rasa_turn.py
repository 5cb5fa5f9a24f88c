"""A fake Rasa turn endpoint (``/webhooks/turn/webhook``, as :mod:`channels.turn` answers
it) on loopback, an aiohttp test server in the test's event loop, for the thin receiver.

It checks the bearer token (401/403 as the real one), records every body it accepts, and
answers each by ``plan[text]``: ``"fail"`` (500, the turn raised), ``"action"`` (502, an
action failed), ``"proxy"`` (503 and an HTML page, as a load balancer answers), ``"hang"``
(no answer for an hour), a list of messages, or by default
``You said: <text>``. ``slots`` are sent back when a body asks for them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

PATH = "/webhooks/turn/webhook"


class FakeRasaTurns:
    """Start with ``async with FakeRasaTurns(token, plan) as rasa:``; ``rasa.url`` is the
    turn endpoint's address."""

    def __init__(
        self,
        token: str,
        plan: dict[str, Any] | None = None,
        slots: dict[str, Any] | None = None,
    ) -> None:
        self.token = token
        self.plan = plan or {}
        self.slots = slots or {}
        self.bodies: list[dict[str, Any]] = []
        self.refused: list[int] = []
        app = web.Application()
        app.router.add_post(PATH, self.turn)
        self.server = TestServer(app, host="127.0.0.1")

    @property
    def url(self) -> str:
        return str(self.server.make_url(PATH))

    @property
    def texts(self) -> list[str]:
        return [str(body["text"]) for body in self.bodies]

    async def turn(self, request: web.Request) -> web.Response:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            self.refused.append(401)
            return web.json_response({"error": "no token"}, status=401)
        if given != self.token:
            self.refused.append(403)
            return web.json_response({"error": "wrong token"}, status=403)
        body = await request.json()
        self.bodies.append(body)
        sender, text = body["sender"], body["text"]
        what = self.plan.get(text)
        if what == "fail":
            detail = "RuntimeError('Rasa is down')"
            return web.json_response({"error": "the turn failed", "detail": detail}, status=500)
        if what == "action":
            detail = "Encountered an exception while running action 'action_signpost'."
            return web.json_response({"error": "an action failed", "detail": detail}, status=502)
        if what == "proxy":  # a load balancer's error page, not the turn endpoint's JSON
            return web.Response(status=503, text="<h1>503 Service Unavailable</h1>")
        if what == "hang":
            await asyncio.sleep(3600)
        messages = what if isinstance(what, list) else [{"text": f"You said: {text}"}]
        answer: dict[str, Any] = {"messages": [{"recipient_id": sender, **m} for m in messages]}
        if body.get("slots"):
            answer["slots"] = {name: self.slots.get(name) for name in body["slots"]}
        return web.json_response(answer)

    async def __aenter__(self) -> FakeRasaTurns:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()
