"""The production shape, for real: HAProxy in front of two Rasa servers and two action
servers, on PostgreSQL (tracker store and application database) and Redis (the lock store
in ``components/lock_store.py``), all started by ``scripts/scaled.py`` from the shipped
``endpoints.production.yml``.

- The lock: one person's messages sent at the same moment to both Rasa servers (100 rounds
  of double taps, 100 of five at once): every user turn is stored exactly once, turns are
  never interleaved, and each message's reply is the one stored after it.
- A Rasa server killed mid-turn: the conversation goes on on the other within 5 s.
- Through the load balancer: the same replies as one server on REST, SMS (signed as Twilio
  signs) and Telegram (the fake Bot API), every event stored once and in order, and the
  outbox delivering each message exactly once although both servers deliver.

Needs PostgreSQL (``TEST_POSTGRES_URL``), Redis (``TEST_REDIS_URL``) and HAProxy
(``make load-balancer``); skipped, saying which is missing, where they are not.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.privacy import pseudonymise
from scripts import scaled, servers
from scripts.scaled import stored_events, turns
from scripts.sms_try import signed_post, sms_texts
from tests.conftest import free_port
from tests.fakes.env import fakes_env
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

pytestmark = [pytest.mark.e2e, pytest.mark.scaled]

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
TOKEN, PUBLIC_URL, KEY = "scaled-auth-token", "https://send-assistant.example.org", "scaled-key"
TG_TOKEN, TG_SECRET = "123:SCALED", "scaled-secret"
TAPS = (
    "hello",
    "who helps with school transport",
    "menu",
    "privacy",
    "thanks",
)


def _missing() -> str | None:
    """What the scaled shape needs and this machine lacks, in words; None if nothing."""
    if scaled.haproxy_binary() is None:
        return "HAProxy is not installed (make load-balancer)"
    try:
        engine = create_engine(make_url(POSTGRES_URL).set(database="postgres"))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL is not reachable at TEST_POSTGRES_URL ({type(exc).__name__})"
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis is not reachable at TEST_REDIS_URL ({type(exc).__name__})"
    return None


@pytest.fixture(scope="module")
def fake_twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture(scope="module")
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(TG_TOKEN) as fake:
        yield fake


def _env(twilio: FakeTwilio, telegram: FakeTelegram) -> dict[str, str]:
    return fakes_env(
        twilio, telegram, auth_token=TOKEN, pseudonym_key=KEY, telegram_secret=TG_SECRET,
        account_sid="AC" + "2" * 32, SPEECH_ENGINES="none",
    )  # fmt: skip


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, fake_twilio, fake_telegram) -> Iterator[scaled.Scaled]:
    missing = _missing()
    if missing:
        pytest.skip(f"the scaled shape cannot run here: {missing}")
    database = make_url(POSTGRES_URL)
    database_url = database.set(database=f"{database.database}_scaled").render_as_string(
        hide_password=False
    )
    scaled.reset_databases(database_url, "scaled")  # an empty store, no state from last time
    with scaled.running(
        rasa_count=2,
        actions_count=2,
        port=free_port(),
        ports=[free_port() for _ in range(5)],
        database_url=database_url,
        redis_url=REDIS_URL,
        workdir=tmp_path_factory.mktemp("scaled"),
        env=_env(fake_twilio, fake_telegram),
        quiet=True,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def single(tmp_path_factory, cluster, fake_twilio, fake_telegram) -> Iterator[servers.Assistant]:
    """One Rasa server and one action server (SQLite), for the same-replies comparison."""
    with servers.running(
        rasa_port=free_port(),
        actions_port=free_port(),
        workdir=tmp_path_factory.mktemp("single"),
        env=_env(fake_twilio, fake_telegram),
        quiet=True,
    ) as running:
        yield running


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


def at_once(calls: list[tuple[str, int]], sender: str, cluster: scaled.Scaled):
    """Send every (message, server) at the same moment; return each one's bot texts."""
    barrier = threading.Barrier(len(calls))

    def send(call: tuple[str, int]) -> list[str]:
        message, server = call
        barrier.wait()
        return texts(cluster.say(sender, message, server=server))

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def check_rounds(cluster: scaled.Scaled, sent: dict[str, list[tuple[str, list[str]]]]) -> int:
    """Every message stored exactly once, after its own reply; return the lost turns."""
    lost = 0
    for sender, expected in sent.items():
        stored = [t for t in turns(stored_events(cluster, sender)) if t[0] != "/greet"]
        missing = Counter(m for m, _ in expected) - Counter(m for m, _ in stored)
        extra = Counter(m for m, _ in stored) - Counter(m for m, _ in expected)
        assert not extra, f"{sender}: stored more than once: {dict(extra)}"
        lost += sum(missing.values())
        if missing:
            continue
        stored_pairs = Counter((m, tuple(r)) for m, r in stored)
        got_pairs = Counter((m, tuple(r)) for m, r in expected)
        assert stored_pairs == got_pairs, f"{sender}: a reply is not the one stored after it"
    return lost


def test_double_taps_to_two_servers_lose_no_turn(cluster):
    sent: dict[str, list[tuple[str, list[str]]]] = {}
    regular = f"regular-{uuid.uuid4().hex[:8]}"
    for round_number in range(100):
        # Half the rounds start a conversation (both servers run the session start), half
        # carry on one long conversation.
        sender = f"tap-{uuid.uuid4().hex[:10]}" if round_number % 2 == 0 else regular
        first, second = TAPS[round_number % 5], TAPS[(round_number + 1) % 5]
        replies = at_once([(first, 0), (second, 1)], sender, cluster)
        sent.setdefault(sender, []).extend(zip((first, second), replies, strict=True))
    lost = check_rounds(cluster, sent)
    assert lost == 0, f"{lost} user turns never reached the tracker store"


def test_five_at_once_to_two_servers_lose_no_turn(cluster):
    sent: dict[str, list[tuple[str, list[str]]]] = {}
    for _ in range(100):
        sender = f"five-{uuid.uuid4().hex[:10]}"
        calls = [(message, n % 2) for n, message in enumerate(TAPS)]
        replies = at_once(calls, sender, cluster)
        sent[sender] = list(zip(TAPS, replies, strict=True))
    lost = check_rounds(cluster, sent)
    assert lost == 0, f"{lost} user turns never reached the tracker store"


# -- through the load balancer: same replies as one server ----------------------------

CONVERSATIONS = (
    ["hi", "he needs a wet room, we have the OT report but nothing happened", "more options"],
    ["who do I talk to about what happens after college", "talk to someone", "thanks"],
    ["I want to give feedback", "general", "4", "the staff were kind", "no thanks"],
    ["my daughter is waiting for an autism assessment, who can help", "menu", "privacy"],
    ["honestly i just want to kms"],
)


def test_rest_conversations_through_the_balancer_match_one_server(cluster, single):
    run = uuid.uuid4().hex[:8]
    for number, conversation in enumerate(CONVERSATIONS):
        sender = f"rest-{run}-{number}"
        one = [texts(single.say(sender, m)) for m in conversation]
        balanced = [texts(cluster.say(sender, m)) for m in conversation]
        assert balanced == one, conversation[0]
        stored = turns(stored_events(cluster, sender))
        assert stored == list(zip(conversation, balanced, strict=True))


def _sms(base_url: str, phone: str, body: str) -> list[str]:
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "2" * 32,
        "From": phone, "To": "+447700900000", "Body": body,
    }  # fmt: skip
    status, twiml = signed_post(base_url, PUBLIC_URL, TOKEN, params)
    assert status == 200, twiml
    return sms_texts(twiml)


def test_sms_through_the_balancer_matches_one_server(cluster, single):
    conversation = ["who helps with school transport", "2", "menu", "1", "thanks"]
    single_phone, scaled_phone = "+447700900771", "+447700900772"
    one = [_sms(single.base_url, single_phone, m) for m in conversation]
    balanced = [_sms(cluster.base_url, scaled_phone, m) for m in conversation]
    assert balanced == one
    assert all(balanced), "every text got a reply"
    stored = turns(stored_events(cluster, pseudonymise(KEY, "sms", scaled_phone)))
    # A numbered choice reaches Rasa as the button's payload ("2" -> "/talk_to_someone").
    said = [m for m, _ in stored]
    assert len(said) == len(conversation)
    assert [m for m in said if not m.startswith("/")] == [
        m for m in conversation if not m.isdigit()
    ]


def _telegram(base_url: str, fake: FakeTelegram, chat: int, words: list[str]) -> list[str]:
    for n, word in enumerate(words):
        update = {
            "update_id": chat * 100 + n,
            "message": {
                "message_id": n + 1, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Sam"},
                "from": {"id": chat, "is_bot": False, "first_name": "Sam"}, "text": word,
            },
        }  # fmt: skip
        before = len(fake.sent_to(chat))
        reply = httpx.post(
            f"{base_url}/webhooks/telegram/webhook", json=update, timeout=30,
            headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        )  # fmt: skip
        assert reply.status_code == 200
        assert fake.wait_for(lambda n=before: len(fake.sent_to(chat)) > n, 30)
        _settle(fake, chat)
    return [call.text for call in fake.sent_to(chat)]


def _settle(fake: FakeTelegram, chat: int, quiet: float = 1.5) -> None:
    deadline, seen, since = time.monotonic() + 20, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(fake.sent_to(chat))
        if now != seen:
            seen, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)


def test_telegram_through_the_balancer_matches_one_server(cluster, single, fake_telegram):
    words = ["hello", "who helps with school transport", "more options", "thanks"]
    base = int(time.time()) % 100_000 * 10
    one = _telegram(single.base_url, fake_telegram, base + 1, words)
    balanced = _telegram(cluster.base_url, fake_telegram, base + 2, words)
    assert balanced == one
    sender = pseudonymise(KEY, "telegram", str(base + 2))
    assert [m for m, _ in turns(stored_events(cluster, sender))] == words


def test_the_outbox_delivers_each_message_exactly_once(cluster, fake_twilio):
    from bot.db import make_engine
    from bot.notify.outbox import enqueue

    engine = make_engine(cluster.env["DATABASE_URL"])
    run = uuid.uuid4().hex[:8]
    bodies = [f"Outbox check {run} number {n}." for n in range(30)]
    try:
        for n, body in enumerate(bodies):
            enqueue(engine, "sms", f"+4477009009{n:02d}", body, dedupe_key=f"{run}-{n}")
            enqueue(engine, "sms", f"+4477009009{n:02d}", body, dedupe_key=f"{run}-{n}")
    finally:
        engine.dispose()

    def delivered() -> Counter[str]:
        return Counter(m["Body"] for m in list(fake_twilio.sent) if run in m.get("Body", ""))

    deadline = time.monotonic() + 60
    while sum(delivered().values()) < len(bodies) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(5)  # every worker has had two more rounds to send anything twice
    assert delivered() == Counter(bodies)


# -- a server dies mid-turn -------------------------------------------------------------


def test_a_killed_servers_conversation_goes_on_on_the_other_within_5_seconds(cluster):
    import redis

    from components.lock_store import LeasedRedisLockStore

    sender = f"kill-{uuid.uuid4().hex[:10]}"
    before = ["hello", "who helps with school transport"]
    for message in before:
        cluster.say(sender, message, server=0)
    queue = LeasedRedisLockStore().keys(sender)[1]
    red = redis.Redis.from_url(REDIS_URL)
    doomed = threading.Thread(
        target=lambda: _ignore_errors(cluster.say, sender, "more options", 0), daemon=True
    )
    doomed.start()
    deadline = time.monotonic() + 10
    while not red.exists(queue) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert red.exists(queue), "the first server never took the conversation's lock"
    cluster.kill("rasa1")  # mid-turn: it holds the lock and never lets go
    killed = time.monotonic()
    after = texts(cluster.say(sender, "talk to someone", server=1, timeout=30))
    took = time.monotonic() - killed
    doomed.join(timeout=5)
    assert took < 5.0, f"the conversation waited {took:.1f} s for the dead server's lock"
    stored = turns(stored_events(cluster, sender))
    assert [m for m, _ in stored][: len(before)] == before
    assert stored[-1] == ("talk to someone", after)
    assert [m for m, _ in stored].count("talk to someone") == 1
    # The load balancer takes the dead server out: the next message through it works.
    assert texts(cluster.say(sender, "thanks"))
    assert not red.exists(queue)


def _ignore_errors(function, *args) -> None:
    try:
        function(*args)
    except Exception:  # the server is killed under this request
        return
