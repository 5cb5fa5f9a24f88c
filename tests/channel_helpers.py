"""Fast channel tests' tools: a stub turn in place of Rasa (no trained model), the real
Sanic app with a connector's blueprint called through httpx's ASGI transport, and
requests signed with the real twilio library."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic
from sqlalchemy import select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bot.config import Settings, load_settings
from bot.contacts import InboundRow
from bot.db import session_scope

TOKEN = "test-auth-token"
PUBLIC_URL = "https://send-assistant.example.org"
KEY = "test-pseudonym-key"
sids = (f"SM{n:032x}" for n in itertools.count(1))
Sanic.test_mode = True  # many small apps in one process


def settings_for(engine: Engine, **changes: Any) -> Settings:
    fixed = {
        "database_url": str(engine.url),
        "public_url": PUBLIC_URL,
        "pseudonym_key": KEY,
        "twilio_auth_token": TOKEN,
        "twilio_account_sid": "",
        "safeguarding_contact": "",
    }
    return dataclasses.replace(load_settings(), **{**fixed, **changes})


class StubTurn:
    """Rasa's ``on_new_message`` stand-in: records each message and answers as told.

    ``plan`` maps a message's text to what the turn does: ``"fail"`` (raise), ``"hang"``
    (never finish in time), ``"empty"`` (answer nothing), ``"action"`` (Rasa's log of a
    failed custom action, then nothing), a number of ``"fail"``s first (``"fail 2"``), or a
    list of messages to send (text and buttons). Anything else: "You said: <text>".
    """

    def __init__(self, plan: dict[str, Any] | None = None, delay: float = 0.0) -> None:
        self.plan = plan or {}
        self.delay = delay
        self.seen: list[UserMessage] = []
        self.failures: dict[str, int] = {}

    @property
    def texts(self) -> list[str]:
        return [str(m.text) for m in self.seen]

    async def __call__(self, message: UserMessage) -> None:
        self.seen.append(message)
        text = str(message.text)
        what = self.plan.get(text)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(what, str) and what.startswith("fail "):
            count = self.failures.get(text, 0)
            self.failures[text] = count + 1
            if count < int(what.split()[1]):
                raise RuntimeError("Rasa is down")
            what = None
        if what == "fail":
            raise RuntimeError("Rasa is down")
        if what == "hang":
            await asyncio.sleep(3600)
        if what == "empty":
            return
        if what == "action":
            logging.getLogger("rasa.core.processor").error(
                "Encountered an exception while running action 'action_signpost'."
                "Bot will continue, but the actions events are lost."
            )
            await message.output_channel.send_text_message(message.sender_id, "Half an answer")
            return
        out = message.output_channel
        for reply in what if isinstance(what, list) else [{"text": f"You said: {text}"}]:
            if reply.get("buttons"):
                await out.send_text_with_buttons(message.sender_id, reply["text"], reply["buttons"])
            else:
                await out.send_text_message(message.sender_id, reply["text"])


@asynccontextmanager
async def client_for(
    connector: InputChannel, turn: StubTurn, app_ctx: dict[str, Any] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The connector's blueprint on a real Sanic app, reached through ASGI."""
    app = Sanic(f"test_{connector.name()}_{id(connector)}")
    app.ctx.agent = None
    for key, value in (app_ctx or {}).items():
        setattr(app.ctx, key, value)
    app.blueprint(connector.blueprint(turn), url_prefix=f"/webhooks/{connector.url_prefix()}")
    await app._startup()
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def signed(path: str, params: dict[str, str], token: str = TOKEN) -> dict[str, Any]:
    """The body and header of a POST signed as Twilio signs it for ``PUBLIC_URL``."""
    signature = RequestValidator(token).compute_signature(f"{PUBLIC_URL}{path}", params)
    return {
        "content": urllib.parse.urlencode(params),
        "headers": {
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    }


def message_texts(twiml: str) -> list[str]:
    return [m.text or "" for m in ET.fromstring(twiml).findall("./Message")]  # noqa: S314


def inbound_rows(engine: Engine) -> list[tuple[str, str, str, str]]:
    """(channel, external id, kind, status) of every stored message, oldest first."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(
                InboundRow.channel, InboundRow.external_id, InboundRow.kind, InboundRow.status
            ).order_by(InboundRow.id)
        ).all()
        return [tuple(str(v) for v in row) for row in rows]  # type: ignore[misc]


def quick(pipeline: Any) -> Any:
    """Retries in tenths of a second, so a failing turn is given up on quickly."""
    pipeline.retry_for, pipeline.first_pause, pipeline.turn_timeout = 0.3, 0.05, 0.5
    pipeline.crisis_within = 0.5
    return pipeline


async def settle(pipeline: Any, seconds: float = 5.0) -> None:
    """Wait until the pipeline has finished every message it took."""
    deadline = asyncio.get_running_loop().time() + seconds
    while pipeline.tasks and asyncio.get_running_loop().time() < deadline:
        await asyncio.wait(set(pipeline.tasks), timeout=0.05)
