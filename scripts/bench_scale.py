"""Scale figures, before and after, in one run (called by `make bench`).

Starts the production shape twice (scripts/scaled.py: HAProxy, two Rasa servers, two
action servers, PostgreSQL, Redis), first as stock Rasa 3.6 would run it
(``RASA_SPEEDUPS=off``, Rasa's own ``redis`` lock store, the whole domain to every
action, TensorFlow's default threads), then as shipped, and prints for each:

- REST reply p50/p95 for one conversation, and one Rasa server at 20 conversations at
  once (messages/s, p50, p95), sent straight to that server;
- turn time early and late in a 60-turn conversation (turns 1-10 against 51-60);
- the lock: user turns lost in rounds of double taps and of five messages at once from
  one person, sent to both servers together; a server killed mid-turn, and how long the
  conversation then waits on the other;
and for the shipped shape also two servers behind HAProxy at 20 and 40 at once, turn time
with 10,000 stored conversations against an empty store, and each server's memory.

The machine is shared: absolute times move with its load (printed), so compare the two
columns of one run, not runs of different days.
Usage: python scripts/bench_scale.py [--model ...] [--rounds 50] [--messages 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import scaled, servers  # noqa: E402
from scripts.bench import percentile, rss_mb  # noqa: E402


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


MESSAGES = (
    "hi",
    "he needs a wet room, we have the OT report but nothing happened",
    "who do I talk to about what happens after college",
    "my daughter is waiting for an autism assessment, who can help",
    "more options",
    "how do i get an ehcp",
    "thanks",
)
TAPS = ("hello", "who helps with school transport", "menu", "privacy", "thanks")
GROWTH = ("who helps with school transport", "more options", "thanks", "menu", "hi")


def texts(reply: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in reply if m.get("text")]


def load(
    say: Callable[[str, str], object], conversations: int, total: int
) -> tuple[float, float, float]:
    """(messages/s, p50 s, p95 s) with ``conversations`` talking at once."""
    each = max(1, total // conversations)

    def conversation(number: int) -> list[float]:
        sender, took = f"load-{number}-{uuid.uuid4().hex[:8]}", []
        for i in range(each):
            started = time.perf_counter()
            say(sender, MESSAGES[(number + i) % len(MESSAGES)])
            took.append(time.perf_counter() - started)
        return took

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        latencies = [t for done in pool.map(conversation, range(conversations)) for t in done]
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, percentile(latencies, 50), percentile(latencies, 95)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def busy(cluster: scaled.Scaled, run: Callable[[], Any]) -> tuple[Any, str]:
    """Run ``run`` and say how many cores each process kept busy meanwhile."""
    names = [n for n in ("rasa1", "rasa2", "actions1", "actions2", "haproxy")]
    before = {n: cpu_seconds(cluster.pid(n)) for n in names}
    client, started = time.process_time(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    used = {n: (cpu_seconds(cluster.pid(n)) - before[n]) / wall for n in names}
    used["load client"] = (time.process_time() - client) / wall
    return result, ", ".join(f"{n} {c:.2f}" for n, c in used.items())


def show_load(label: str, figures: tuple[float, float, float]) -> None:
    rate, p50, p95 = figures
    print(f"  {label}: {rate:.1f} messages/s, p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")


def growth(say: Callable[[str, str], object], conversations: int = 3) -> tuple[float, float]:
    """Median turn time of turns 1-10 and of turns 51-60 of 60-turn conversations."""
    early, late = [], []
    for _ in range(conversations):
        sender = f"long-{uuid.uuid4().hex[:8]}"
        for turn in range(60):
            started = time.perf_counter()
            say(sender, GROWTH[turn % len(GROWTH)])
            took = time.perf_counter() - started
            (early if turn < 10 else late if turn >= 50 else []).append(took)
    return statistics.median(early), statistics.median(late)


def lock_rounds(cluster: scaled.Scaled, rounds: int, size: int) -> tuple[int, int, int]:
    """(turns sent, turns lost, conversations with interleaved turns)."""
    sent: dict[str, list[str]] = {}
    for round_number in range(rounds):
        sender = f"taps-{size}-{uuid.uuid4().hex[:10]}"
        calls = [(TAPS[(round_number + n) % len(TAPS)], n % 2) for n in range(size)]
        barrier = threading.Barrier(size)

        def send(call: tuple[str, int], who: str = sender, gate: Any = barrier) -> None:
            gate.wait()
            # A stock lock may time out: such a turn counts as lost below.
            with contextlib.suppress(OSError, urllib.error.URLError):
                cluster.say(who, call[0], server=call[1])

        with ThreadPoolExecutor(max_workers=size) as pool:
            list(pool.map(send, calls))
        sent[sender] = [message for message, _ in calls]
    lost = interleaved = 0
    for sender, messages in sent.items():
        events = scaled.stored_events(cluster, sender)
        try:
            scaled.turns(events, strict=True)
        except scaled.Interleaved:
            interleaved += 1
        stored = Counter(text for text, _ in scaled.turns(events, strict=False))
        lost += sum((Counter(messages) - stored).values())
    return rounds * size, lost, interleaved


def kill_stall(cluster: scaled.Scaled, patience: float = 20.0) -> float | None:
    """Seconds the next message waits after the server holding its lock is killed."""
    import redis

    from components.lock_store import LeasedRedisLockStore

    sender = f"kill-{uuid.uuid4().hex[:10]}"
    cluster.say(sender, "hello", server=0)
    red = redis.Redis.from_url(cluster.env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1"))
    keys = [*LeasedRedisLockStore().keys(sender), f"lock:{sender}"]  # ours, then Rasa's

    def doomed() -> None:
        try:
            cluster.say(sender, "who helps with school transport", server=0, timeout=60)
        except (OSError, urllib.error.URLError):
            return

    threading.Thread(target=doomed, daemon=True).start()
    deadline = time.monotonic() + 10
    while not any(red.exists(k) for k in keys) and time.monotonic() < deadline:
        time.sleep(0.001)
    cluster.kill("rasa1")
    killed = time.monotonic()
    try:
        cluster.say(sender, "thanks", server=1, timeout=patience)
    except (OSError, urllib.error.URLError):
        return None
    return time.monotonic() - killed


def seed(cluster: scaled.Scaled, count: int) -> None:
    """``count`` stored conversations: copies of a real one under new sender ids."""
    from sqlalchemy import create_engine, text

    template = f"seed-{uuid.uuid4().hex[:8]}"
    for message in GROWTH:
        cluster.say(template, message)
    engine = create_engine(cluster.env["TRACKER_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                text(
                    "select type_name, timestamp, intent_name, action_name, data "
                    "from events where sender_id = :s order by id"
                ),
                {"s": template},
            ).all()
            for start in range(0, count, 1000):
                batch = [
                    {"sender_id": f"stored-{n}", **row._asdict()}
                    for n in range(start, min(count, start + 1000))
                    for row in rows
                ]
                connection.execute(
                    text(
                        "insert into events (sender_id, type_name, timestamp, intent_name, "
                        "action_name, data) values (:sender_id, :type_name, :timestamp, "
                        ":intent_name, :action_name, :data)"
                    ),
                    batch,
                )
            stored = connection.execute(text("select count(*) from events")).scalar()
    finally:
        engine.dispose()
    print(f"  stored {count} conversations ({stored} events)")


def stock_endpoints(workdir: Path) -> Path:
    """endpoints.production.yml as Rasa 3.6 ships it: its own lock store, whole domain."""
    text = (ROOT / "endpoints.production.yml").read_text()
    text = text.replace("type: components.lock_store.LeasedRedisLockStore", 'type: "redis"')
    text = text.replace("  enable_selective_domain: true\n", "")
    text = text.replace("  lease_seconds: 3\n", "")
    path = workdir / "endpoints.stock.yml"
    path.write_text(text)
    return path


def run_shape(label: str, args: argparse.Namespace, stock: bool) -> dict[str, Any]:
    scaled.reset_databases(args.database_url, "bench")
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-scale-{'stock' if stock else 'shipped'}-"))
    env = {"BENCH_REDIS_URL": args.redis_url, "SPEECH_ENGINES": "none"}
    if stock:  # and TensorFlow's own thread defaults (an empty value means unset to Rasa)
        env |= {
            "RASA_SPEEDUPS": "off",
            "TF_INTER_OP_PARALLELISM_THREADS": "",
            "TF_INTRA_OP_PARALLELISM_THREADS": "",
        }
    print(f"\n{label}")
    figures: dict[str, Any] = {}
    with scaled.running(
        model=args.model, rasa_count=2, actions_count=2, port=args.port or free_port(),
        ports=[free_port() for _ in range(5)],
        database_url=args.database_url, redis_url=args.redis_url, workdir=workdir,
        env=env, quiet=True, endpoints=stock_endpoints(workdir) if stock else None,
    ) as cluster:  # fmt: skip
        one = lambda s, m: cluster.say(s, m, server=0)  # noqa: E731
        both = lambda s, m: cluster.say(s, m)  # noqa: E731
        load(one, 4, 28)  # warm both servers' models and caches
        figures["single"] = load(one, 1, 40)
        show_load("REST, 1 conversation", figures["single"])
        figures["one20"], cores = busy(cluster, lambda: load(one, 20, args.messages))
        show_load("one Rasa server, 20 at once", figures["one20"])
        print(f"    cores busy: {cores}")
        if not stock:
            figures["two20"], cores = busy(cluster, lambda: load(both, 20, args.messages))
            show_load("two Rasa servers behind HAProxy, 20 at once", figures["two20"])
            print(f"    cores busy: {cores}")
            figures["two40"] = load(both, 40, args.messages)
            show_load("two Rasa servers behind HAProxy, 40 at once", figures["two40"])
            ratio = figures["two20"][0] / figures["one20"][0]
            print(f"  two servers / one server at 20 at once: {ratio:.2f}x")
        early, late = growth(one)
        figures["growth"] = (early, late)
        print(
            f"  60-turn conversation: turns 1-10 {early * 1000:.0f} ms, turns 51-60 "
            f"{late * 1000:.0f} ms ({late / early:.2f}x)"
        )
        for size in (2, 5):
            sent, lost, interleaved = lock_rounds(cluster, args.rounds, size)
            figures[f"lock{size}"] = (sent, lost, interleaved)
            print(
                f"  {args.rounds} rounds of {size} at once to two servers: {lost} of {sent} "
                f"user turns lost, {interleaved} conversations with interleaved turns"
            )
        if not stock:
            empty = load(one, 1, 40)
            seed(cluster, 10_000)
            full = load(one, 1, 40)
            figures["stored"] = (empty[1], full[1])
            print(
                f"  REST p50, 1 conversation: empty store {empty[1] * 1000:.0f} ms, 10,000 "
                f"stored {full[1] * 1000:.0f} ms ({full[1] / empty[1]:.2f}x)"
            )
        failed = sum(
            (workdir / f"{name}.log").read_text(errors="replace").count(needle)
            for name in ("rasa1", "rasa2")
            for needle in ("Failed to execute custom action", "Failed to run custom action")
        )
        figures["action_failures"] = failed
        print(f"  action server calls that failed (Rasa servers' logs): {failed}")
        memory = {
            name: rss_mb(cluster.pid(name)) for name in ("rasa1", "rasa2", "actions1", "actions2")
        }
        figures["memory"] = memory
        print(
            "  resident memory: " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in memory.items())
        )
        stall = kill_stall(cluster)
        figures["kill"] = stall
        print(
            "  a Rasa server killed mid-turn: the conversation's next message answered "
            + (f"after {stall:.1f} s" if stall is not None else "not within 20 s")
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--port", type=int, default=0, help="HAProxy's port (0: a free one)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/send_bench"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/1")
    )
    parser.add_argument(
        "--only", choices=("stock", "shipped"), help="run one shape (both by default)"
    )
    args = parser.parse_args()
    missing = scaled.haproxy_binary() is None
    if missing:
        print("Scale figures skipped: HAProxy is not installed (make load-balancer).")
        return 0
    load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"Scale: {platform.node()} ({platform.machine()}, {os.cpu_count()} cores), "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load average {load_average} (a shared machine)"
    )
    if args.only != "shipped":
        stock = "Stock Rasa 3.6 (RASA_SPEEDUPS=off, Rasa's redis lock store)"
        before = run_shape(stock, args, True)
    if args.only != "stock":
        after = run_shape("As shipped (components/speedups.py, leased lock store)", args, False)
    if args.only:
        return 0
    print("\nAfter / before, one Rasa server at 20 at once:")
    rate = after["one20"][0] / before["one20"][0]
    print(
        f"  {rate:.2f}x messages/s; p95 {before['one20'][2] * 1000:.0f} -> "
        f"{after['one20'][2] * 1000:.0f} ms; REST p50 1 conversation "
        f"{before['single'][1] * 1000:.0f} -> {after['single'][1] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
