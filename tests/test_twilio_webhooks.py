"""Twilio's webhooks as Twilio really sends them: the raw form bodies of an SMS, an MMS,
status callbacks and a phone call (tests/data/twilio/, every documented field, blank ones
included), signed with the twilio library over the URL Twilio calls, posted to the real
connectors (SMS and voice) in this process with a stub turn. Genuine ones are accepted;
forged or altered ones get 403. Every URL we hand Twilio has its query keys sorted, as
Twilio sorts them before calling back (twilio/twilio-php#790)."""

from __future__ import annotations

import asyncio
import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sanic.request import RequestParameters
from sqlalchemy import text
from twilio.request_validator import RequestValidator

from bot.config import load_settings
from bot.notify.registry import build_senders
from bot.speech import phrases
from bot.speech.config import SpeechSettings
from channels.sms import SmsInput
from channels.twilio_auth import sorted_url
from channels.voice import VoiceInput, caller_key, withheld
from tests.sanic_asgi import StubTurn, serve

DATA = Path(__file__).resolve().parent / "data" / "twilio"
TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://send-assistant.example.org"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SMS, STATUS = "/webhooks/sms/webhook", "/webhooks/sms/status"
VOICE = "/webhooks/voice/webhook"
# Each fixture with the fields Twilio documents for it (blank ones are sent as ``Name=``).
DOCUMENTED = {
    "sms_inbound.txt": (
        "ToCountry ToState SmsMessageSid NumMedia ToCity FromZip SmsSid FromState SmsStatus "
        "FromCity Body FromCountry To ToZip NumSegments MessageSid AccountSid From ApiVersion"
    ),
    "voice_inbound.txt": (
        "Called ToState CallerCountry Direction CallerState ToZip CallSid To CallerZip "
        "ToCountry CallToken CalledZip ApiVersion CalledCity CallStatus From AccountSid "
        "CalledCountry CallerCity Caller FromCountry ToCity FromCity CalledState FromZip "
        "FromState"
    ),
}


def raw(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8").strip()


def fields(body: str) -> list[tuple[str, str]]:
    return parse_qsl(body, keep_blank_values=True)


def changed(body: str, **values: str) -> str:
    """``body`` with some fields set, in Twilio's order and form encoding."""
    pairs = [(k, values.pop(k)) if k in values else (k, v) for k, v in fields(body)]
    return urlencode(pairs + list(values.items()))


def signature(url: str, body: str, token: str = TOKEN) -> str:
    """X-Twilio-Signature as Twilio computes it: the URL, then every parameter it sent."""
    params = RequestParameters()
    for key, value in fields(body):
        params.setdefault(key, []).append(value)
    return RequestValidator(token).compute_signature(url, params)


def settings(tmp_path: Path, database_url: str) -> Any:
    return dataclasses.replace(
        load_settings(),
        database_url=database_url,
        public_url=PUBLIC_URL,
        twilio_auth_token=TOKEN,
        pseudonym_key="test-pseudonym-key",
        audio_dir=tmp_path / "audio",
    )


@pytest.fixture
def channels(tmp_path, loaded_engine) -> tuple[SmsInput, VoiceInput]:
    configured = settings(tmp_path, str(loaded_engine.url))
    return SmsInput(configured), VoiceInput(configured, SpeechSettings(engines=()))


async def post(client, path: str, body: str, sign_as: str | None = None, **headers: str):
    """POST ``body`` to ``path`` (query included) signed for the public URL of ``sign_as``
    (``path`` unless given)."""
    sig = signature(f"{PUBLIC_URL}{sign_as or path}", body)
    return await client.post(
        path, content=body.encode(), headers={**FORM, "X-Twilio-Signature": sig, **headers}
    )


def run(channels, scenario, turn: StubTurn | None = None) -> Any:
    async def main() -> Any:
        async with serve(list(channels), turn or StubTurn()) as client:
            return await scenario(client)

    return asyncio.run(main())


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    return ET.fromstring(response.text)  # noqa: S314 (our own server's TwiML)


def said(root: ET.Element) -> str:
    return " ".join(e.text or "" for e in root.iter("Say"))


def path_of(url: str) -> str:
    assert url.startswith(PUBLIC_URL), url
    return url.removeprefix(PUBLIC_URL)


# --- the fixtures are what Twilio documents --------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_fixture_has_every_documented_field_with_the_blank_ones(name):
    body = raw(name)
    assert [k for k, _v in fields(body)] == DOCUMENTED[name].split()
    blank = {k for k, v in fields(body) if v == ""}
    assert {"FromCity", "FromState", "FromZip", "ToCity"} <= blank
    assert "FromCity=&" in body  # sent, with nothing after the equals sign


def test_the_other_fixtures_carry_their_own_fields():
    mms = dict(fields(raw("mms.txt")))
    assert (mms["NumMedia"], mms["Body"], mms["MediaContentType0"]) == ("1", "", "image/jpeg")
    assert mms["MediaUrl0"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    status = dict(fields(raw("sms_status.txt")))
    assert (status["MessageStatus"], status["SmsStatus"]) == ("delivered", "delivered")
    assert dict(fields(raw("sms_status_failed.txt")))["ErrorCode"] == "21610"
    gather = dict(fields(raw("voice_gather.txt")))
    assert (gather["Digits"], gather["FinishedOnKey"], gather["msg"]) == ("5", "", "Gather End")
    speech = dict(fields(raw("voice_gather_speech.txt")))
    assert speech["SpeechResult"] == "Who can help with school transport?"
    assert float(speech["Confidence"]) > 0.9


# --- signed as Twilio signs: accepted; anything else: 403 ------------------------------

ACCEPTED = [
    ("sms_inbound.txt", SMS, 200),
    ("mms.txt", SMS, 200),
    ("sms_status.txt", STATUS, 204),
    ("sms_status_failed.txt", STATUS, 204),
    ("voice_inbound.txt", VOICE, 200),
]


@pytest.mark.parametrize(("name", "path", "status"), ACCEPTED)
def test_a_real_twilio_request_with_blank_fields_is_accepted(channels, name, path, status):
    async def scenario(client):
        return (await post(client, path, raw(name))).status_code

    assert run(channels, scenario) == status


@pytest.mark.parametrize(("name", "path", "_status"), ACCEPTED)
def test_forged_or_altered_requests_are_refused(channels, name, path, _status):
    body = raw(name)
    url = f"{PUBLIC_URL}{path}"
    without_blanks = urlencode([(k, v) for k, v in fields(body) if v])

    async def scenario(client):
        async def status(content: str, sig: str) -> int:
            headers = {**FORM, "X-Twilio-Signature": sig}
            return (await client.post(path, content=content.encode(), headers=headers)).status_code

        refused = [
            await status(body, ""),  # unsigned
            await status(body, signature(url, body, token="someone-elses-token")),
            await status(changed(body, To="+447700900999"), signature(url, body)),  # altered
            await status(body + "&Extra=1", signature(url, body)),  # a field added
            await status(body, signature(f"{PUBLIC_URL}/webhooks/other", body)),
        ]
        if without_blanks != body:  # signed as if the blank fields were never sent
            refused.append(await status(body, signature(url, without_blanks)))
        return refused

    assert set(run(channels, scenario)) == {403}


def test_repeated_fields_count_every_value_as_twilio_signs_them(channels):
    body = (
        raw("sms_inbound.txt")
        + "&MediaUrl0=https%3A%2F%2Fa.example&MediaUrl0=https%3A%2F%2Fb.example"
    )

    async def scenario(client):
        good = await post(client, SMS, body)
        first_only = body.rsplit("&", 1)[0]
        headers = {**FORM, "X-Twilio-Signature": signature(f"{PUBLIC_URL}{SMS}", first_only)}
        bad = await client.post(SMS, content=body.encode(), headers=headers)
        return good.status_code, bad.status_code

    assert run(channels, scenario) == (200, 403)


def test_the_query_string_is_checked_as_sent(channels):
    """Twilio signs the URL it calls, query included; a query changed on the way fails."""
    body = changed(raw("voice_gather_speech.txt"), CallStatus="in-progress")
    sent = "/webhooks/voice/gather?misses=0&mode=ask"

    async def scenario(client):
        good = await post(client, sent, body)
        other = await post(client, sent, body, sign_as="/webhooks/voice/gather?misses=1&mode=ask")
        unsorted = await post(
            client, sent, body, sign_as="/webhooks/voice/gather?mode=ask&misses=0"
        )
        return good.status_code, other.status_code, unsorted.status_code

    # Signed over another order than sent fails: why every URL we hand Twilio is sorted.
    assert run(channels, scenario) == (200, 403, 403)


# --- the phone call, as Twilio calls it back ------------------------------------------


def query_keys(url: str) -> list[str]:
    return [k for k, _v in parse_qsl(urlsplit(url).query, keep_blank_values=True)]


def urls_in(root: ET.Element) -> list[str]:
    """Every URL in a TwiML answer that Twilio will call (actions and callbacks)."""
    found = []
    for element in root.iter():
        for attribute in ("action", "recordingStatusCallback", "statusCallback"):
            if element.get(attribute):
                found.append(element.get(attribute))
        if element.tag == "Redirect":
            found.append(element.text or "")
    return found


def test_a_call_walks_through_with_real_bodies_and_every_url_we_give_is_sorted(channels):
    inbound, speech = raw("voice_inbound.txt"), raw("voice_gather_speech.txt")
    gather = raw("voice_gather.txt")
    turn = StubTurn()

    async def scenario(client):
        roots = [twiml(await post(client, VOICE, inbound))]
        action = roots[-1].find("./Gather").get("action")
        roots.append(twiml(await post(client, path_of(action), speech)))  # an answer
        action = roots[-1].find("./Gather").get("action")
        roots.append(twiml(await post(client, path_of(action), changed(gather, Digits="7"))))
        silent = changed(gather, Digits="", msg="Gather End")
        action = twiml(await post(client, VOICE, inbound)).find("./Gather").get("action")
        roots.append(twiml(await post(client, path_of(action), silent)))  # not heard
        action = roots[-1].find("./Gather").get("action")
        roots.append(twiml(await post(client, path_of(action), silent)))  # the keypad menu
        return roots

    roots = run(channels, scenario, turn)
    assert turn.answer in said(roots[1])
    assert roots[2].find("./Record") is not None  # 7: leave a message
    assert said(roots[3]).startswith(phrases.NOT_HEARD)
    urls = [url for root in roots for url in urls_in(root)]
    assert len(urls) >= 6 and all(url.startswith(PUBLIC_URL) for url in urls)
    assert any("misses=1" in url for url in urls)
    for url in urls:
        assert query_keys(url) == sorted(query_keys(url)), url
    assert [m.input_channel for m in turn.messages] == ["voice"]


def test_urls_we_hand_twilio_are_sorted_whatever_order_they_are_built_in(tmp_path):
    voice = VoiceInput(settings(tmp_path, "sqlite://"), SpeechSettings(engines=()))
    url = voice.url("gather", ref="TW-ABC", mode="consent", misses=0)
    assert url == f"{PUBLIC_URL}/webhooks/voice/gather?misses=0&mode=consent&ref=TW-ABC"
    assert sorted_url("https://x.example/a", b="2", a="1 2") == "https://x.example/a?a=1+2&b=2"
    assert sorted_url("https://x.example/a") == "https://x.example/a"
    configured = dataclasses.replace(
        settings(tmp_path, "sqlite://"), twilio_account_sid="AC" + "1" * 32,
        twilio_from_number="+447700900000",
    )  # fmt: skip
    senders = build_senders(configured)
    for channel in ("sms", "whatsapp"):
        callback = senders[channel].status_callback  # type: ignore[attr-defined]
        assert callback.startswith(f"{PUBLIC_URL}/webhooks/")
        assert query_keys(callback) == sorted(query_keys(callback))


# --- withheld callers: keyed by the call ---------------------------------------------

WITHHELD = ["anonymous", "Anonymous", "+266696687", "Restricted", "unknown", "private", ""]


@pytest.mark.parametrize("caller", WITHHELD)
def test_a_withheld_caller_is_keyed_by_the_call(caller):
    assert withheld(caller)
    first = caller_key({"From": caller, "CallSid": "CA1"})
    assert first == "call:CA1" != caller_key({"From": caller, "CallSid": "CA2"})
    assert caller_key({"From": "+447700900456", "CallSid": "CA1"}) == "+447700900456"
    assert not withheld("+447700900456")


def test_a_caller_with_no_phone_number_is_keyed_by_the_call_too():
    for caller in ("client:Anonymous", "sip:someone@example.org", "447700900456"):
        assert caller_key({"From": caller, "CallSid": "CA9"}) == "call:CA9"
    assert caller_key({"From": "anonymous"}).startswith("call:")  # never one shared key


def test_two_withheld_callers_never_share_a_conversation(channels, loaded_engine):
    turn = StubTurn()

    async def call(client, caller: str, sid: str) -> ET.Element:
        body = changed(raw("voice_inbound.txt"), From=caller, Caller=caller, CallSid=sid)
        action = twiml(await post(client, VOICE, body)).find("./Gather").get("action")
        speech = changed(raw("voice_gather_speech.txt"), From=caller, Caller=caller, CallSid=sid)
        answer = twiml(await post(client, path_of(action), speech))
        action = answer.find("./Gather").get("action")
        text_me = changed(raw("voice_gather.txt"), From=caller, Caller=caller, CallSid=sid)
        return twiml(await post(client, path_of(action), text_me))  # 5: text me this

    async def scenario(client):
        return [
            await call(client, "anonymous", "CA" + "1" * 32),
            await call(client, "anonymous", "CA" + "2" * 32),
            await call(client, "", "CA" + "3" * 32),
            await call(client, "+447700900456", "CA" + "4" * 32),
            await call(client, "+447700900456", "CA" + "5" * 32),
        ]

    replies = run(channels, scenario, turn)
    hidden, known = turn.senders[:3], turn.senders[3:]
    assert len(set(hidden)) == 3 and hidden[0] not in known
    assert known[0] == known[1]  # the same number is the same person
    for reply in replies[:3]:
        assert said(reply).startswith(phrases.NO_TEXT_HIDDEN)
    with loaded_engine.connect() as connection:
        assert connection.execute(text("select count(*) from outbox")).scalar() == 0
