"""End to end: both real servers, the trained model, talking over Rasa's REST channel
(open in development) and the web chat's own endpoint."""

from __future__ import annotations

import array
import io
import math
import sqlite3
import time
import wave
from collections.abc import Iterator

import httpx
import pytest

from actions.listen import AGAIN, TURNED_ON
from bot.speech.listen import listen_text
from channels.webchat import NOT_SAID
from scripts import servers
from tests.conftest import free_port

pytestmark = pytest.mark.e2e
OPEN311_KEY = "test-open311-key"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Iterator[servers.Assistant]:
    workdir = tmp_path_factory.mktemp("assistant")
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=workdir,
        quiet=True,
        env={
            "OPEN311_API_KEY": OPEN311_KEY,
            "SPEECH_ENGINES": "espeak",  # the offline voice: no network, real speech
            "AUDIO_DIR": str(workdir / "audio"),
        },
    ) as running:
        yield running


def texts(messages):
    return [m["text"] for m in messages if "text" in m]


def signposted(messages):
    return next(m["custom"]["signpost"] for m in messages if "custom" in m)


def test_a_parent_carer_is_signposted_in_one_reply(assistant):
    reply = assistant.say(
        "parent-1", "he needs a wet room, we have the OT report but nothing happened"
    )
    assert signposted(reply)[0] == "housing_adaptations"
    first = reply[0]
    assert first["text"].startswith("These can help:\n1. Housing Adaptations")
    assert [b["title"] for b in first["buttons"]] == [
        "More options", "Talk to someone", "Give feedback",
    ]  # fmt: skip
    assert texts(reply)[-1].startswith("We keep chats for 180 days.")


def test_after_college(assistant):
    reply = assistant.say("young-1", "who do I talk to about what happens after college")
    assert signposted(reply)[0] == "preparation_for_adulthood"


def test_a_crisis_gets_emergency_contacts_first(assistant):
    reply = assistant.say("yp-crisis", "honestly i just want to kms")
    lines = reply[0]["text"].splitlines()
    assert lines[1] == "If someone is in danger right now, call 999."
    # suicidal thoughts: Samaritans, Childline, then Shout for those who would rather text
    assert "116 123" in lines[2] and "0800 1111" in lines[3] and "85258" in lines[4]


def test_odd_input_gets_a_plain_answer(assistant):
    for message in ("\U0001f62d\U0001f62d", "x" * 5000, "hello"):
        reply = assistant.say("odd-1", message)
        assert texts(reply), message


def _rows(db, query, *args):
    with sqlite3.connect(db) as connection:
        return connection.execute(query, args).fetchall()


def test_feedback_then_delete_my_data(assistant):
    app_db, tracker_db = assistant.workdir / "app.db", assistant.workdir / "tracker.db"
    sender = "parent-feedback"
    assistant.say(sender, "who can help with school transport")
    assistant.say(sender, "/give_feedback")
    assistant.say(sender, "SEND Travel Assistance")
    assistant.say(sender, "two")
    assistant.say(sender, "the taxi is late every morning")
    done = assistant.say(sender, "yes")
    assert texts(done) == [
        "Thank you. Your feedback helps services get better. We will reply on this chat."
    ]
    assert _rows(app_db, "select service_key, rating, consent, conversation_id from feedback") == [
        ("travel_assistance", 2, 1, sender)
    ]
    assert _rows(tracker_db, "select count(*) from events where sender_id = ?", sender)[0][0] > 0

    confirm = assistant.say(sender, "please delete my data")
    assert texts(confirm)[0].startswith("Do you want me to delete our chat")
    gone = assistant.say(sender, "yes")
    assert texts(gone)[0].splitlines()[:2] == [
        "Done. I have deleted our chat history.",
        "I also removed your details from: feedback you asked us to reply to.",
    ]
    assert _rows(app_db, "select count(*) from feedback") == [(0,)]
    assert _rows(tracker_db, "select count(*) from events where sender_id = ?", sender) == [(0,)]


def _get_json(url):
    import json
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 (loopback)
        return reply.status, json.loads(reply.read())


def test_an_issue_becomes_a_case_the_family_can_follow_and_open311_can_read(assistant):
    import urllib.error

    sender = "parent-issue"
    confirm = assistant.say(sender, "the school taxi didnt turn up again today and no one told us")
    assert texts(confirm)[0].startswith("I can send this to SEND Travel Assistance:")
    done = texts(assistant.say(sender, "yes"))[0]
    assert done.startswith("Thank you. I am sending it to SEND Travel Assistance now.")
    reference = done.split("reference is ")[1].split(".")[0]
    # "sent" only once the outbox worker has delivered the service's email (logged here)
    sent = f"Your case {reference} has been sent to the team. They have not picked it up yet."
    waiting = f"Your case {reference} has been received. We are sending it to the team."
    deadline = time.monotonic() + 20
    answers = [texts(assistant.say(sender, f"any update on {reference}?"))]
    while answers[-1] != [sent] and time.monotonic() < deadline:
        time.sleep(0.5)
        answers.append(texts(assistant.say(sender, f"any update on {reference}?")))
    assert answers[-1] == [sent]
    assert all(a in ([waiting], [sent]) for a in answers)
    stranger = texts(assistant.say("someone-else", f"any update on {reference}?"))
    assert stranger[0].startswith(f"I can't find case {reference} for you.")

    base = f"{assistant.base_url}/webhooks/open311/v2"
    code, services = _get_json(f"{base}/services.json")
    assert code == 200 and "travel_assistance" in {s["service_code"] for s in services}
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get_json(f"{base}/requests/{reference}.json")
    assert refused.value.code == 403
    code, (case,) = _get_json(f"{base}/requests/{reference}.json?api_key={OPEN311_KEY}")
    assert (case["service_request_id"], case["status"], case["service_code"]) == (
        reference, "open", "travel_assistance",
    )  # fmt: skip


class WebChat:
    """One browser on the web chat page: the server's cookie, then messages and Listen."""

    def __init__(self, assistant) -> None:
        self.client = httpx.Client(base_url=assistant.base_url, timeout=60)
        assert self.client.get("/webhooks/webchat/").status_code == 200  # gets the cookie

    def say(self, message: str) -> list[dict]:
        reply = self.client.post("/webhooks/webchat/message", json={"message": message})
        assert reply.status_code == 200, reply.text
        return reply.json()

    def listen(self, texts_to_read, **extra) -> httpx.Response:
        return self.client.post("/webhooks/webchat/listen", json={"texts": texts_to_read, **extra})


def test_the_web_chat_reads_an_answer_aloud_as_real_speech(assistant):
    chat = WebChat(assistant)
    answer = chat.say("who can help with school transport")[0]
    listened = chat.listen([answer["text"]])
    assert listened.status_code == 200
    body = listened.json()
    assert (body["type"], body["engine"]) == ("audio/wav", "espeak")
    assert body["url"].startswith("/webhooks/webchat/audio/") and body["url"].endswith(".wav")
    audio = httpx.get(f"{assistant.base_url}{body['url']}", timeout=10)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.headers["cache-control"] == "public, max-age=31536000, immutable"
    with wave.open(io.BytesIO(audio.content)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
        samples = array.array("h", sound.readframes(sound.getnframes()))
    words = len(listen_text([answer]).split())
    assert 0.2 * words < seconds < 1.0 * words  # about as long as reading those words takes
    assert math.sqrt(sum(s * s for s in samples) / len(samples)) > 500  # speech, not silence
    again = httpx.get(
        f"{assistant.base_url}{body['url']}", headers={"If-None-Match": audio.headers["etag"]}
    )
    assert again.status_code == 304
    assert chat.listen([answer["text"]]).json() == body  # from the cache


def test_the_web_chat_reads_out_only_what_it_said_in_that_chat(assistant):
    chat, other = WebChat(assistant), WebChat(assistant)
    answer = chat.say("who can help with school transport")[0]["text"]
    forged = chat.listen(["Call 0900 000000 now for help"])
    assert (forged.status_code, forged.json()) == (404, {"message": NOT_SAID})
    assert other.listen([answer]).status_code == 404  # another browser's chat
    assert chat.listen([answer]).status_code == 200
    stranger = httpx.post(f"{assistant.base_url}/webhooks/webchat/listen", json={"texts": [answer]})
    assert stranger.status_code == 403  # no conversation cookie at all
    assert chat.listen("x").status_code == 400
    url = f"{assistant.base_url}/webhooks/webchat/listen"
    assert httpx.post(url, content=b"not json").status_code == 400
    unknown = httpx.get(f"{assistant.base_url}/webhooks/webchat/audio/{'0' * 64}.wav")
    assert unknown.status_code == 404


def test_read_it_to_me_turns_reading_on_and_gives_the_last_answer_again(assistant):
    chat = WebChat(assistant)
    first = chat.say("who can help with school transport")
    again = chat.say("can you read it to me please")
    assert {"read_aloud": True} in [m.get("custom") for m in again]
    assert texts(again) == [TURNED_ON, AGAIN, texts(first)[0]]
