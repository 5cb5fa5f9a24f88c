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
  - resident memory of each server.
Usage: python scripts/bench.py [--model models/send-assistant.tar.gz] [--messages 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.sms import is_gsm7, segments  # noqa: E402
from scripts import servers  # noqa: E402
from tests.fakes.gtts_api import FakeGoogleTTS  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

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
phones = (f"+4477009{n:05d}" for n in itertools.count(1))


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


def twilio_post(assistant: servers.Assistant, path: str, params: dict[str, str]) -> str:
    signature = RequestValidator(TOKEN).compute_signature(f"{PUBLIC_URL}{path}", params)
    request = urllib.request.Request(  # noqa: S310 (loopback)
        f"{assistant.base_url}{path}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
        return reply.read().decode()


def sms(assistant: servers.Assistant, phone: str, text: str) -> list[str]:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": phone, "Body": text}
    twiml = twilio_post(assistant, "/webhooks/sms/webhook", params)
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
            f"{assistant.base_url}/webhooks/telegram/webhook",
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
    chat.get("/webhooks/webchat/")  # the page gives the conversation cookie
    said = chat.post(
        "/webhooks/webchat/message", json={"message": "who can help with school transport"}
    )
    answer = said.json()[0]["text"]
    for label in ("uncached answer", "cached answer"):
        started = time.perf_counter()
        url = chat.post("/webhooks/webchat/listen", json={"texts": [answer]}).json()["url"]
        size = len(chat.get(url, timeout=30).content)
        took = time.perf_counter() - started
        print(f"  {label}: {took * 1000:.0f} ms ({size // 1024} KB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        FakeTelegram() as telegram,
        FakeGoogleTTS() as google,
    ):
        env = {
            "TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_URL": PUBLIC_URL, "PSEUDONYM_KEY": "bench",
            "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_API_BASE_URL": telegram.base_url, "AUDIO_DIR": f"{workdir}/audio",
            "HTTPS_PROXY": google.proxy_url, "SSL_CERT_FILE": str(google.cert_file),
        }  # fmt: skip
        with servers.running(
            model=args.model, rasa_port=5405, actions_port=5455, workdir=Path(workdir),
            env=env, quiet=True,
        ) as assistant:  # fmt: skip
            assistant.say("bench-warmup", "hello")
            print(f"{platform.node()} ({platform.machine()}, 2 cores), {time.strftime('%Y-%m-%d')}")
            bench_rest(assistant, args.messages)
            bench_sms(assistant, args.messages)
            bench_telegram(assistant, telegram, args.messages)
            bench_voice(assistant)
            bench_listen(assistant)
            actions, rasa, outbox = assistant.processes
            print(
                f"Resident memory: Rasa server {rss_mb(rasa.pid):.0f} MB, "
                f"action server {rss_mb(actions.pid):.0f} MB, "
                f"outbox worker {rss_mb(outbox.pid):.0f} MB"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
