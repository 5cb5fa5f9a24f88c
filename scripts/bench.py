"""Benchmark the assistant on every channel, on loopback only, with bounded loads.

Starts both servers once (fresh database; Twilio, Telegram and Google's speech endpoint
replaced by local fakes, as in the tests) and prints:
  - REST: p50/p95 reply latency and messages/s with 1 and 20 concurrent conversations;
  - SMS: p50/p95 of the signed webhook's TwiML reply, and segments per reply over the
    held-out signposting set (median, largest, share in 2 or fewer, all GSM-7?);
  - Telegram: time from posting an update to the fake Bot API receiving sendMessage;
  - phone: time to first audio for an uncached answer (<Say> at once) and a cached one
    (<Play> plus fetching the file);
  - web chat "Listen": time from asking for an answer's audio to having the file, the
    first time (gTTS through the fake Google endpoint) and again (from the cache);
  - the inbound pipeline: 50 SMS conversations of 5 messages at once (signed webhooks with
    Twilio's real fields), then with 50 Telegram chats beside them, then again with the
    action server killed (SIGKILL) mid-run and started again: webhook and first-reply
    p50/p95, and every message answered once (lost, sent twice, apologies, crises);
  - resident memory of each server.
With ``--receiver``, SMS, WhatsApp and Telegram go to the thin receiver
(``python -m channels.receiver``), which runs each turn on the Rasa server over HTTP.
Usage: python scripts/bench.py [--model models/send-assistant.tar.gz] [--messages 200]
       [--only pipeline] [--conversations 50] [--database-url postgresql+psycopg2://...]
       [--reply-within 3] [--receiver]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import sqlalchemy as sa
import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.safety import is_emergency_reply  # noqa: E402
from bot.sms import is_gsm7, segments  # noqa: E402
from channels.sms import SORRY_TEXT as SMS_SORRY  # noqa: E402
from channels.telegram import SORRY_TEXT as TELEGRAM_SORRY  # noqa: E402
from channels.webchat_session import COOKIE  # noqa: E402
from scripts import servers  # noqa: E402
from scripts.sms_try import signed_post, sms_texts  # noqa: E402
from tests.fakes.gtts_api import FakeGoogleTTS  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio  # noqa: E402

MESSAGES = (
    "hi",
    "he needs a wet room, we have the OT report but nothing happened",
    "who do I talk to about what happens after college",
    "my daughter is waiting for an autism assessment, who can help",
    "more options",
    "how do i get an ehcp",
    "thanks",
)
TOKEN, SECRET = "bench-token", "bench-secret"
PUBLIC_URL = "https://send-assistant.example.org"
TWILIO_SID = "AC" + "b" * 32
# Numbers, update ids and chats new to every run, so a database kept from an earlier run
# (PostgreSQL) neither de-duplicates this run's messages nor carries on its conversations.
_RUN = int(time.time()) % 100_000
phones = (f"+447{_RUN % 10_000:04d}{n:05d}" for n in itertools.count(1))
update_ids = itertools.count(_RUN * 100_000)
chats = itertools.count(_RUN * 10_000)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def report(label: str, latencies: list[float], elapsed: float | None = None) -> None:
    rate = f", {len(latencies) / elapsed:.1f} messages/s" if elapsed else ""
    print(
        f"  {label}: {len(latencies)} messages, p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms{rate}"
    )


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def run_load(conversations: int, total: int, send: Callable[[int, int], object]) -> None:
    """``conversations`` in parallel, each sending its share of ``total`` messages."""
    per_conversation = max(1, total // conversations)

    def conversation(number: int) -> list[float]:
        return [timed(lambda i=i: send(number, i)) for i in range(per_conversation)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        latencies = [t for result in pool.map(conversation, range(conversations)) for t in result]
    report(f"{conversations:>2} concurrent", latencies, time.perf_counter() - started)


def twilio_post(
    assistant: servers.Assistant, path: str, params: dict[str, str], base: str | None = None
) -> str:
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC_URL}{path}", params)
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{base or assistant.base_url}{path}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        return reply.read().decode()


def sms(assistant: servers.Assistant, phone: str, text: str) -> list[str]:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": text}
    twiml = twilio_post(assistant, "/webhooks/sms/webhook", params, assistant.channels_url)
    return [m.text or "" for m in ET.fromstring(twiml).findall("./Message")]  # noqa: S314


def bench_rest(assistant: servers.Assistant, total: int) -> None:
    print("REST channel")
    send = lambda n, i: assistant.say(f"bench-{n}-{uuid.uuid4().hex[:6]}", MESSAGES[i % 7])  # noqa: E731
    run_load(1, min(total, 60), send)
    run_load(20, total, send)


def bench_sms(assistant: servers.Assistant, total: int) -> None:
    print("SMS channel (signed Twilio webhook, TwiML reply)")
    # A new number for each conversation of up to 7 messages: under the flood limit.
    send = lambda n, i: sms(assistant, numbers[(n, i // 7)], MESSAGES[i % 7])  # noqa: E731
    numbers: dict[tuple[int, int], str] = {}
    for key in itertools.product(range(20), range(total // 7 + 2)):
        numbers[key] = next(phones)
    run_load(1, min(total, 60), send)
    run_load(20, total, send)
    examples = yaml.safe_load((ROOT / "eval" / "signpost.yml").read_text())["examples"]
    counts, plain = [], True
    for example in examples:
        for reply in sms(assistant, next(phones), example["text"]):
            counts.append(segments(reply))
            plain = plain and is_gsm7(reply)
    print(
        f"  segments per reply over {len(examples)} held-out messages: median "
        f"{statistics.median(counts):.0f}, largest {max(counts)}, "
        f"{sum(c <= 2 for c in counts) / len(counts):.0%} in 2 or fewer; all GSM-7: {plain}"
    )


def bench_telegram(assistant: servers.Assistant, fake: FakeTelegram, total: int) -> None:
    print("Telegram channel (update posted -> sendMessage at the fake Bot API)")
    acks, replies = [], []
    for number in range(min(total, 40)):
        chat = 900_000 + number
        update = {
            "update_id": 10_000 + number,
            "message": {
                "message_id": number + 1, "date": int(time.time()),
                "chat": {"id": chat, "type": "private", "first_name": "Sam"},
                "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
                "text": MESSAGES[number % 7],
            },
        }  # fmt: skip
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{assistant.channels_url}/webhooks/telegram/webhook",
            data=json.dumps(update).encode(),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            acks.append(time.perf_counter() - started)
        deadline = time.monotonic() + 30
        while not fake.calls_to("sendMessage", chat) and time.monotonic() < deadline:
            time.sleep(0.01)
        replies.append(time.perf_counter() - started)
    report("webhook acknowledged", acks)
    report("first reply sent", replies)


def bench_voice(assistant: servers.Assistant) -> None:
    print("Phone line (time to first audio)")
    for label in ("uncached answer", "cached answer"):
        params = {"CallSid": "CA" + uuid.uuid4().hex, "From": next(phones)}
        started = time.perf_counter()
        root = ET.fromstring(twilio_post(assistant, "/webhooks/voice/webhook", params))  # noqa: S314
        action = root.find("./Gather").get("action", "").removeprefix(PUBLIC_URL)
        started = time.perf_counter()
        answer = twilio_post(
            assistant, action, {**params, "SpeechResult": "who helps with school transport"}
        )
        plays = [p.text for p in ET.fromstring(answer).iter("Play")]  # noqa: S314
        if plays:
            url = plays[0].replace(PUBLIC_URL, assistant.base_url)
            with urllib.request.urlopen(url, timeout=30) as audio:  # noqa: S310
                audio.read()
        took = time.perf_counter() - started
        kind = "<Play> and the audio file" if plays else "<Say> (audio made in the background)"
        print(f"  {label}: {took * 1000:.0f} ms to {kind}")
        time.sleep(8)  # let the background renderer cache the answer for the second call


def bench_listen(assistant: servers.Assistant) -> None:
    print('Web chat "Listen" (time to the audio file of a whole answer)')
    chat = httpx.Client(base_url=assistant.base_url, timeout=60)
    # The page gives the conversation cookie. It is Secure (PUBLIC_URL is https), so a
    # client on plain http does not send it back by itself: send it as a browser would.
    page = chat.get("/webhooks/webchat/")
    cookie = {"Cookie": f"{COOKIE}={page.cookies[COOKIE]}"}
    said = chat.post(
        "/webhooks/webchat/message", json={"message": "who can help with school transport"},
        headers=cookie,
    )  # fmt: skip
    answer = said.json()[0]["text"]
    for label in ("uncached answer", "cached answer"):
        started = time.perf_counter()
        listen = chat.post("/webhooks/webchat/listen", json={"texts": [answer]}, headers=cookie)
        url = listen.json()["url"]
        size = len(chat.get(url, timeout=30).content)
        took = time.perf_counter() - started
        print(f"  {label}: {took * 1000:.0f} ms ({size // 1024} KB)")


# --- the inbound pipeline under load and with the action server killed -----------------

CRISIS = "I want to kill myself"
FINAL = {"replied", "queued", "apologised", "failed_crisis"}
TWILIO_LIMIT = 15.0  # seconds Twilio waits; also the target for every reply
WEBHOOK_TARGET = 0.5  # p95 target for the webhook's answer
BLANK_FIELDS = ("FromCity", "FromState", "FromZip", "ToCity", "ToState", "ToZip")


def twilio_fields(sid: str, phone: str, body: str, blanks: bool) -> dict[str, str]:
    """An inbound SMS webhook's form as Twilio sends it for a UK number (blank place fields
    left out when ``blanks`` is False)."""
    fields = {
        "ToCountry": "GB", "ToState": "", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
        "FromZip": "", "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
        "Body": body, "FromCountry": "GB", "To": "+447700900000", "ToZip": "",
        "NumSegments": "1", "MessageSid": sid, "AccountSid": TWILIO_SID, "From": phone,
        "ApiVersion": "2010-04-01",
    }  # fmt: skip
    return fields if blanks else {k: v for k, v in fields.items() if k not in BLANK_FIELDS}


@dataclass
class Sent:
    """One message of the load and what became of it, as the family saw it."""

    channel: str
    key: str  # MessageSid or update_id
    to: str  # phone or chat id
    text: str
    webhook: float = float("nan")  # seconds to the webhook's HTTP answer
    http_status: int = 0
    first_reply: float | None = None  # seconds to the first reply the family saw
    inline: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)  # inline, then sent later
    settled: bool = False


class Watch:
    """One reader of the database for the whole load: statuses of inbound messages and
    of the outbox rows queued for them (so the load's threads do not poll it each)."""

    def __init__(self, database_url: str) -> None:
        self.engine = sa.create_engine(database_url)
        self.status: dict[tuple[str, str], str] = {}
        self.unsent: set[str] = set()  # external ids with an outbox row not yet sent
        self.outbox: list[tuple[str, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def read(self) -> None:
        with self.engine.connect() as db:
            rows = db.execute(
                sa.text("select channel, external_id, status from inbound_messages")
            ).all()
            queued = db.execute(
                sa.text("select dedupe_key, status from outbox where dedupe_key is not null")
            ).all()
        self.status = {(str(c), str(e)): str(s) for c, e, s in rows}
        self.outbox = [(str(k), str(s)) for k, s in queued]
        self.unsent = {k.rsplit(":", 1)[-1] for k, s in self.outbox if s != "sent"}

    def settled(self, channel: str, key: str) -> bool:
        return self.status.get((channel, key)) in FINAL and key not in self.unsent

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.read()
            except Exception as error:  # a locked SQLite file: read again shortly
                print(f"  (database read failed: {error!r:.80})")
            self.stop.wait(0.3)

    def __enter__(self) -> Watch:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


class Arrivals:
    """The replies at the fake APIs, per recipient, read once as they come (one thread
    reads only what is new): the load's 100 client threads wait on a condition instead of
    each scanning every reply sent so far every 50 ms, which cost the bench process (and
    so the machine under test) a good share of a core and put its own GIL waits into the
    latencies it measures."""

    def __init__(self, twilio: FakeTwilio, telegram: FakeTelegram) -> None:
        self.twilio, self.telegram = twilio, telegram
        self.seen = {"sms": 0, "telegram": 0}
        self.replies: dict[tuple[str, str], list[str]] = {}
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def read(self) -> None:
        sms = self.twilio.sent[self.seen["sms"] :]
        calls = self.telegram.calls[self.seen["telegram"] :]
        if not sms and not calls:
            return
        with self.changed:
            for form in sms:
                self.replies.setdefault(("sms", str(form.get("To"))), []).append(form["Body"])
            for call in calls:
                if call.method == "sendMessage" and call.status == 200:
                    self.replies.setdefault(("telegram", call.chat_id), []).append(call.text)
            self.seen["sms"] += len(sms)
            self.seen["telegram"] += len(calls)
            self.changed.notify_all()

    def run(self) -> None:
        while not self.stop.wait(0.01):
            self.read()

    def to(self, channel: str, recipient: str) -> list[str]:
        with self.changed:
            return list(self.replies.get((channel, recipient), []))

    def wait_for_more(self, channel: str, recipient: str, before: int, seconds: float) -> bool:
        """True once ``recipient`` has more than ``before`` replies (within ``seconds``)."""
        with self.changed:
            return self.changed.wait_for(
                lambda: len(self.replies.get((channel, recipient), [])) > before, seconds
            )

    def __enter__(self) -> Arrivals:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(5)


def _wait(check: Callable[[], bool], seconds: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(step)
    return check()


class Load:
    """Conversations on SMS and Telegram at once; each waits for its answer (and for the
    message to be settled) before sending the next, as a family would."""

    def __init__(
        self,
        assistant: servers.Assistant,
        twilio: FakeTwilio,
        telegram: FakeTelegram,
        watch: Watch,
        blanks: bool,
        arrivals: Arrivals,
    ) -> None:
        self.assistant, self.twilio, self.telegram, self.watch = assistant, twilio, telegram, watch
        self.arrivals = arrivals
        self.blanks = blanks
        self.sent: list[Sent] = []
        self.lock = threading.Lock()
        self.started = 0

    def script(self, number: int, crisis: bool) -> list[str]:
        texts = [MESSAGES[(number + i) % len(MESSAGES)] for i in range(5)]
        if crisis:
            texts[2] = CRISIS
        return texts

    def _record(self, item: Sent) -> Sent:
        with self.lock:
            self.sent.append(item)
            self.started += 1
        return item

    def sms_conversation(self, number: int, crisis: bool) -> None:
        phone = next(phones)
        for text in self.script(number, crisis):
            item = self._record(Sent("sms", "SM" + uuid.uuid4().hex, phone, text))
            before = len(self.arrivals.to("sms", phone))
            started = time.perf_counter()
            try:
                status, twiml = signed_post(
                    self.assistant.channels_url, PUBLIC_URL, TOKEN,
                    twilio_fields(item.key, phone, text, self.blanks),
                )  # fmt: skip
            except OSError as error:
                status, twiml = 0, repr(error)
            item.webhook = time.perf_counter() - started
            item.http_status = status
            item.inline = sms_texts(twiml) if status == 200 else []
            if item.inline:
                item.first_reply = item.webhook
            elif self.arrivals.wait_for_more("sms", phone, before, TWILIO_LIMIT * 4):
                item.first_reply = time.perf_counter() - started
            item.settled = _wait(lambda k=item.key: self.watch.settled("sms", k), 90, 0.2)
            item.replies = item.inline + self.arrivals.to("sms", phone)[before:]

    def twilio_to(self, phone: str) -> list[str]:
        return [m["Body"] for m in list(self.twilio.sent) if m.get("To") == phone]

    def telegram_conversation(self, number: int, crisis: bool) -> None:
        chat = next(chats)
        for index, text in enumerate(self.script(number + 3, crisis)):
            update_id = next(update_ids)
            item = self._record(Sent("telegram", str(update_id), str(chat), text))
            before = len(self.arrivals.to("telegram", str(chat)))
            update = {
                "update_id": update_id,
                "message": {
                    "message_id": index + 1, "date": int(time.time()), "text": text,
                    "chat": {"id": chat, "type": "private", "first_name": "Sam"},
                    "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
                },
            }  # fmt: skip
            request = urllib.request.Request(  # noqa: S310 (loopback)
                f"{self.assistant.channels_url}/webhooks/telegram/webhook",
                data=json.dumps(update).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                },
            )
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
                    item.http_status = reply.status
            except OSError:
                item.http_status = 0
            item.webhook = time.perf_counter() - started
            if self.arrivals.wait_for_more("telegram", str(chat), before, TWILIO_LIMIT * 4):
                item.first_reply = time.perf_counter() - started
            item.settled = _wait(lambda k=item.key: self.watch.settled("telegram", k), 90, 0.2)
            item.replies = self.arrivals.to("telegram", str(chat))[before:]

    def run(self, sms: int, telegram: int, during: Callable[[], None] | None = None) -> float:
        """``sms`` and ``telegram`` conversations at once (one in ten has a crisis in it);
        ``during`` runs beside them (the action server killed and started again)."""
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=sms + telegram + 1) as pool:
            futures = [pool.submit(self.sms_conversation, n, n % 10 == 4) for n in range(sms)]
            futures += [
                pool.submit(self.telegram_conversation, n, n % 10 == 7) for n in range(telegram)
            ]
            if during is not None:
                futures.append(pool.submit(during))
            for future in futures:
                future.result()
        return time.perf_counter() - started


@dataclass
class Outcome:
    """The figures of one load, counted where the family would see the replies."""

    label: str
    messages: int
    webhook: list[float]  # SMS: the signed webhook's TwiML answer
    ack: list[float]  # Telegram: the update acknowledged
    reply: list[float]
    late: int  # answered, but after 15 s
    lost: int  # no reply at all, or never settled
    duplicated: int
    apologies: int
    emergency: int
    crisis: int
    statuses: dict[str, int]
    seconds: float
    notes: list[str]
    refused: int = 0  # webhooks answered with anything but 200 (or not at all)


def count(label: str, load: Load, watch: Watch, seconds: float) -> Outcome:
    """Every message answered once? From the replies seen, the fake APIs' records and the
    database (inbound statuses; outbox rows sent)."""
    watch.read()
    notes: list[str] = []
    sent_rows: dict[str, list[str]] = {}
    for key, status in watch.outbox:
        if status == "sent":
            sent_rows.setdefault(key.rsplit(":", 1)[-1], []).append(key)
    lost = duplicated = late = apologies = emergency = 0
    statuses: dict[str, int] = {}
    by_phone: dict[str, int] = {}
    for item in load.sent:
        status = watch.status.get((item.channel, item.key), "missing")
        statuses[status] = statuses.get(status, 0) + 1
        is_crisis = item.text == CRISIS
        if not item.replies or status not in FINAL:
            lost += 1
            notes.append(f"lost: {item.channel} {item.key} ({status}, {len(item.replies)} replies)")
            continue
        if item.first_reply is None or item.first_reply > TWILIO_LIMIT:
            late += 1
        helps = [r for r in item.replies if is_emergency_reply([r])]
        if is_crisis:
            emergency += bool(helps)
            if not helps:
                lost += 1
                notes.append(f"crisis without the emergency reply: {item.channel} {item.key}")
        if len(helps) > 1 or len(set(item.replies)) < len(item.replies):
            duplicated += 1
            notes.append(f"sent twice: {item.channel} {item.key}: {item.replies}")
        apologies += any(r in (SMS_SORRY, TELEGRAM_SORRY) for r in item.replies)
        if item.channel == "sms":
            rows = sent_rows.get(item.key, [])
            by_phone[item.to] = by_phone.get(item.to, 0) + len(rows)
            if (
                item.inline
                and f"sms-reply:{item.key}" in rows
                and not is_emergency_reply(item.inline)
            ):
                duplicated += 1
                notes.append(f"answered in TwiML and by the outbox: {item.key}")
    for phone, queued in by_phone.items():  # nothing at Twilio that no outbox row explains
        extra = len(load.twilio_to(phone)) - queued
        if extra:
            duplicated += extra
            notes.append(f"{extra} SMS to one phone beyond its outbox rows")
    chats = {item.to for item in load.sent if item.channel == "telegram"}
    seen = sum(len(item.replies) for item in load.sent if item.channel == "telegram")
    extra = sum(len(load.telegram.sent_to(int(chat))) for chat in chats) - seen
    if extra:
        duplicated += extra
        notes.append(f"{extra} Telegram messages sent after their update was settled")
    refused = sum(item.http_status != 200 for item in load.sent)
    return Outcome(
        label, len(load.sent),
        [i.webhook for i in load.sent if i.http_status and i.channel == "sms"],
        [i.webhook for i in load.sent if i.http_status and i.channel == "telegram"],
        [i.first_reply for i in load.sent if i.first_reply is not None], late, lost, duplicated,
        apologies, emergency, sum(i.text == CRISIS for i in load.sent), statuses, seconds, notes,
        refused,
    )  # fmt: skip


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 95) * 1000:.0f} ms"


def print_outcomes(outcomes: list[Outcome]) -> None:
    print(
        "| load | messages | SMS webhook p50 / p95 | Telegram ack p50 / p95 "
        "| first reply p50 / p95 | over 15 s | lost | sent twice | apologies "
        "| crises with the emergency reply | took |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for o in outcomes:
        print(
            f"| {o.label} | {o.messages} | {_ms(o.webhook)} | {_ms(o.ack)} | "
            f"{percentile(o.reply, 50):.1f} / "
            f"{percentile(o.reply, 95):.1f} s | {o.late} | {o.lost} | {o.duplicated} "
            f"| {o.apologies} | {o.emergency} of {o.crisis} | {o.seconds:.0f} s |"
        )
    for o in outcomes:
        print(f"  {o.label}: statuses {dict(sorted(o.statuses.items()))}")
        print(
            f"    webhooks not answered 200: {o.refused}; slowest SMS webhook "
            f"{max(o.webhook, default=0):.1f} s, Telegram ack {max(o.ack, default=0):.1f} s"
        )
        for note in o.notes[:10]:
            print(f"    {note}")


def bench_pipeline(
    assistant: servers.Assistant, twilio: FakeTwilio, telegram: FakeTelegram, database_url: str,
    conversations: int,
) -> list[Outcome]:  # fmt: skip
    """50 SMS conversations of 5 messages; the same with 50 Telegram chats beside them; the
    same again with the action server killed (SIGKILL) mid-run and started 5 s later."""
    print("Inbound pipeline (signed Twilio webhooks, Telegram updates; replies at the fakes)")
    probe = "SM" + uuid.uuid4().hex
    status, _ = signed_post(
        assistant.channels_url, PUBLIC_URL, TOKEN, twilio_fields(probe, next(phones), "hi", True)
    )
    blanks = status == 200
    print(
        "  Twilio's blank fields (FromCity= ...): "
        + ("accepted, sent with every message" if blanks else f"refused ({status}): left out")
    )
    outcomes = []
    with Watch(database_url) as watch, Arrivals(twilio, telegram) as arrivals:
        watch.read()
        load = Load(assistant, twilio, telegram, watch, blanks, arrivals)
        seconds = load.run(conversations, 0)
        outcomes.append(count(f"{conversations} SMS conversations x 5", load, watch, seconds))
        load = Load(assistant, twilio, telegram, watch, blanks, arrivals)
        seconds = load.run(conversations, conversations)
        outcomes.append(
            count(f"{conversations} SMS + {conversations} Telegram x 5", load, watch, seconds)
        )
        load = Load(assistant, twilio, telegram, watch, blanks, arrivals)
        events: list[str] = []

        def kill_and_restart() -> None:
            _wait(lambda: load.started >= conversations * 2 * 5 // 4, 300, 0.1)
            started = time.perf_counter()
            assistant.kill("actions")
            events.append(f"action server killed after {load.started} messages")
            time.sleep(5)
            assistant.restart("actions")
            events.append(f"started again, answering {time.perf_counter() - started:.0f} s after")

        seconds = load.run(conversations, conversations, kill_and_restart)
        outcome = count(
            f"{conversations} SMS + {conversations} Telegram, action server killed", load, watch,
            seconds,
        )  # fmt: skip
        outcome.notes[:0] = events
        outcomes.append(outcome)
    print_outcomes(outcomes)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--only", choices=("all", "pipeline"), default="all")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument(
        "--reply-within", default="3", help="SMS_REPLY_WITHIN: seconds an SMS waits for TwiML"
    )
    parser.add_argument(
        "--receiver", action="store_true",
        help="SMS, WhatsApp and Telegram through the thin receiver (channels/receiver.py)",
    )  # fmt: skip
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        FakeTwilio() as twilio,
        FakeTelegram() as telegram,
        FakeGoogleTTS() as google,
    ):
        database_url = args.database_url or f"sqlite:///{workdir}/app.db"
        env = {
            "TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": "+447700900000", "TWILIO_API_BASE_URL": twilio.base_url,
            "PUBLIC_URL": PUBLIC_URL, "PSEUDONYM_KEY": "bench", "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": telegram.base_url, "AUDIO_DIR": f"{workdir}/audio",
            "HTTPS_PROXY": google.proxy_url, "SSL_CERT_FILE": str(google.cert_file),
            "SAFEGUARDING_CONTACT": "safeguarding@example.org",
            "SMS_REPLY_WITHIN": args.reply_within,
        }  # fmt: skip
        with servers.running(
            model=args.model, rasa_port=5405, actions_port=5455, workdir=Path(workdir),
            env=env, quiet=True, receiver_port=5406 if args.receiver else None,
        ) as assistant:  # fmt: skip
            assistant.say("bench-warmup", "hello")
            database = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
            print(
                f"{platform.node()} ({platform.machine()}, {os.cpu_count()} cores), "
                f"{time.strftime('%Y-%m-%d %H:%M')}, {database}, load average "
                f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}, "
                f"SMS_REPLY_WITHIN={args.reply_within}, SMS and Telegram "
                + ("through the receiver" if args.receiver else "on the Rasa server")
            )
            if args.only == "all":
                bench_rest(assistant, args.messages)
                bench_sms(assistant, args.messages)
                bench_telegram(assistant, telegram, args.messages)
                bench_voice(assistant)
                bench_listen(assistant)
            names = ("rasa", "actions", "receiver") if args.receiver else ("rasa", "actions")
            rss = {name: rss_mb(assistant.process(name).pid) for name in names}
            bench_pipeline(assistant, twilio, telegram, database_url, args.conversations)
            after = (
                f", after it {rss_mb(assistant.process('receiver').pid):.0f} MB"
                if args.receiver
                else ""
            )
            print(
                f"Resident memory (before the pipeline load): Rasa server {rss['rasa']:.0f} MB, "
                f"action server {rss['actions']:.0f} MB, outbox worker "
                f"{rss_mb(assistant.process('outbox').pid):.0f} MB"
                + (f", receiver {rss['receiver']:.0f} MB{after}" if args.receiver else "")
            )
            print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
