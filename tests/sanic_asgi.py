"""Our Sanic connectors served in the test's own process, with no trained model: the real
blueprints registered as Rasa registers them, reached over ASGI with httpx, the app's
start and stop listeners run as a server runs them. The turn is a stub that answers."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class StubTurn:
    """Stands in for Rasa's turn: answers every message with ``answer`` and keeps what
    it was given (sender, text, channel)."""

    def __init__(self, answer: str = "These can help. SEND Travel Assistance.") -> None:
        self.answer = answer
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, self.answer)

    @property
    def senders(self) -> list[str]:
        return [str(m.sender_id) for m in self.messages]


@asynccontextmanager
async def serve(
    channels: list[InputChannel], on_new_message: OnNewMessage
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for a Sanic app with ``channels`` under /webhooks/ (registered by
    Rasa's own ``register``), whose agent answers with ``on_new_message`` and keeps
    conversations in Rasa's in-memory tracker store."""
    Sanic.test_mode = True  # as sanic-testing sets it: many apps in one process
    app = Sanic(f"test_{uuid.uuid4().hex[:12]}")
    register(channels, app, route="/webhooks/")
    app.ctx.agent = SimpleNamespace(
        handle_message=on_new_message, tracker_store=InMemoryTrackerStore(Domain.empty())
    )
    async with lifespan_client(app) as client:
        yield client


@asynccontextmanager
async def lifespan_client(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client for ``app`` over ASGI, between the app's start and stop (its
    listeners run as a server runs them)."""
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await incoming.get()

    async def send(message: dict[str, Any]) -> None:
        await outgoing.put(message)

    lifespan = asyncio.create_task(app({"type": "lifespan"}, receive, send))
    await incoming.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outgoing.get(), 30)
    assert started["type"] == "lifespan.startup.complete", started
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await incoming.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(outgoing.get(), 30)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        # Sanic 21.12 then treats the finished lifespan as a request (AttributeError:
        # no ``request``); a server such as uvicorn logs and ignores that.
        with contextlib.suppress(AttributeError):
            await lifespan
