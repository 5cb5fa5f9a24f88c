"""The web chat's conversation is the server's to name: a signed id in an HttpOnly,
SameSite=Lax cookie, never a sender id from the page. The real WebChatInput blueprint in
this process, with a stub turn (no trained model)."""

from __future__ import annotations

import asyncio
import dataclasses
from http.cookies import SimpleCookie
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from channels.rest import GuardedRestInput
from channels.webchat import BAD_MESSAGE, CROSS_SITE, NO_CHAT, NOT_SAID, WebChatInput
from channels.webchat_session import COOKIE, ConversationCookie, signing_key
from tests.sanic_asgi import StubTurn, serve

PAGE, MESSAGE, LISTEN = (
    "/webhooks/webchat/",
    "/webhooks/webchat/message",
    "/webhooks/webchat/listen",
)


def settings(tmp_path: Path, **values):
    return dataclasses.replace(
        load_settings(Path("/nonexistent/.env")), pseudonym_key="test-key", retention_days=30,
        audio_dir=tmp_path / "audio", **values,
    )  # fmt: skip


def webchat(tmp_path: Path, **values) -> WebChatInput:
    return WebChatInput(settings(tmp_path, **values))


def run(channels, scenario, turn=None):
    async def main():
        async with serve(channels, turn or StubTurn()) as client:
            return await scenario(client)

    return asyncio.run(main())


def set_cookie(reply: httpx.Response):
    headers = reply.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    return SimpleCookie(headers[0])[COOKIE], headers[0]


def test_the_page_gives_a_signed_httponly_samesite_cookie_once(tmp_path):
    async def scenario(client):
        first = await client.get(PAGE)
        again = await client.get(PAGE)  # the cookie came back: no new one
        return first, again

    first, again = run([webchat(tmp_path)], scenario)
    assert first.status_code == 200 and "webchat/message" in first.text
    cookie, header = set_cookie(first)
    assert (cookie["path"], cookie["max-age"], cookie["samesite"]) == (
        "/webhooks/webchat", str(30 * 24 * 3600), "Lax",
    )  # fmt: skip
    assert "HttpOnly" in header and "Secure" not in header  # plain http in development
    assert cookie.value.startswith("web-") and cookie.value.count(".") == 2  # id.time.sig
    assert again.headers.get("set-cookie") is None


def test_on_https_the_cookie_is_secure_too(tmp_path):
    async def scenario(client):
        return await client.get(PAGE)

    chat = webchat(tmp_path, public_url="https://send-assistant.example.org")
    _cookie, header = set_cookie(run([chat], scenario))
    assert "Secure" in header and "HttpOnly" in header


def test_messages_go_to_the_cookies_conversation_whatever_the_body_says(tmp_path):
    turn = StubTurn()

    async def scenario(client):
        first = await client.post(MESSAGE, json={"message": "hello", "sender": "sms-victim"})
        again = await client.post(
            MESSAGE, json={"message": "school transport", "sender": "sms-victim",
                           "input_channel": "telegram"},
        )  # fmt: skip
        return first, again

    first, again = run([webchat(tmp_path)], scenario, turn)
    assert first.json() == [{"recipient_id": turn.senders[0], "text": turn.answer}]
    assert set_cookie(first)[0].value.startswith(turn.senders[0] + ".")
    assert again.headers.get("set-cookie") is None
    assert turn.senders[0] == turn.senders[1] and turn.senders[0].startswith("web-")
    assert len(turn.senders[0]) > 20  # unguessable
    assert [m.input_channel for m in turn.messages] == ["webchat", "webchat"]
    assert [m.text for m in turn.messages] == ["hello", "school transport"]


def test_two_browsers_get_two_conversations(tmp_path):
    turn = StubTurn()
    chat = webchat(tmp_path)

    async def scenario(client):
        await client.post(MESSAGE, json={"message": "hello"})
        client.cookies.clear()
        await client.post(MESSAGE, json={"message": "hello"})

    run([chat], scenario, turn)
    assert len(set(turn.senders)) == 2


@pytest.mark.parametrize(
    "forged",
    [
        "web-chosen-by-me",
        "sms-0123456789abcdef",
        "web-chosen-by-me.AAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_a_cookie_not_signed_by_us_is_replaced_never_used(tmp_path, forged):
    turn = StubTurn()
    other_key = ConversationCookie(settings(tmp_path, webchat_secret_key="another-key"))
    signed_elsewhere = other_key.signer.sign("web-someone-else").decode()

    async def scenario(client):
        replies = []
        for value in (forged, signed_elsewhere):
            client.cookies.clear()
            client.cookies.set(COOKIE, value, domain="testserver", path="/webhooks/webchat")
            replies.append(await client.post(MESSAGE, json={"message": "hello"}))
        return replies

    replies = run([webchat(tmp_path)], scenario, turn)
    assert all(r.status_code == 200 and r.headers.get("set-cookie") for r in replies)
    assert not {"web-chosen-by-me", "sms-0123456789abcdef", "web-someone-else"} & set(turn.senders)
    assert all(s.startswith("web-") for s in turn.senders)


def test_the_key_is_its_own_or_derived_from_the_pseudonym_key(tmp_path):
    derived = signing_key(settings(tmp_path))
    assert derived != b"test-key" and len(derived) == 32
    assert signing_key(settings(tmp_path, webchat_secret_key="set")) == b"set"
    assert signing_key(settings(tmp_path)) == derived  # the same on every server


def test_bad_and_cross_site_requests_are_refused(tmp_path):
    turn = StubTurn()

    async def scenario(client):
        return [
            await client.post(MESSAGE, json={"message": ""}),
            await client.post(MESSAGE, json={"message": "x" * 5001}),
            await client.post(MESSAGE, json={"text": "hello"}),
            await client.post(MESSAGE, content=b"not json"),
            await client.post(
                MESSAGE, json={"message": "hello"}, headers={"Origin": "https://evil.example"}
            ),
            await client.post(
                LISTEN, json={"texts": ["Hi."]}, headers={"Origin": "https://evil.example"}
            ),
        ]

    replies = run([webchat(tmp_path)], scenario, turn)
    assert [r.status_code for r in replies] == [400, 400, 400, 400, 403, 403]
    assert replies[0].json() == {"message": BAD_MESSAGE}
    assert replies[4].json() == replies[5].json() == {"message": CROSS_SITE}
    assert turn.messages == []


def test_the_same_site_origin_is_welcome(tmp_path):
    async def scenario(client):
        return await client.post(
            MESSAGE, json={"message": "hello"}, headers={"Origin": "http://testserver"}
        )

    assert run([webchat(tmp_path)], scenario).status_code == 200


def test_listen_reads_only_the_cookies_conversation(tmp_path):
    async def scenario(client):
        without = await client.post(LISTEN, json={"texts": ["Hi."], "sender": "web-1"})
        await client.get(PAGE)
        with_cookie = await client.post(LISTEN, json={"texts": ["Hi."], "sender": "web-1"})
        return without, with_cookie

    without, with_cookie = run([webchat(tmp_path)], scenario)
    assert (without.status_code, without.json()) == (403, {"message": NO_CHAT})
    assert (with_cookie.status_code, with_cookie.json()) == (404, {"message": NOT_SAID})


def test_the_web_chat_works_in_production_while_rest_needs_its_token(tmp_path):
    production = settings(tmp_path, app_env="production", rest_token="")
    turn = StubTurn()

    async def scenario(client):
        chat = await client.post(MESSAGE, json={"message": "hello"})
        rest = await client.post("/webhooks/rest/webhook", json={"sender": "x", "message": "hi"})
        return chat.status_code, rest.status_code

    channels = [GuardedRestInput(production), WebChatInput(production)]
    assert run(channels, scenario, turn) == (200, 401)
    assert len(turn.messages) == 1
