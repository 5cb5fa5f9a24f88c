"""Benchmark reply latency and throughput through the REST channel.

Starts both servers with a fresh database, then runs a bounded load on loopback only:
1 conversation, then 20 concurrent conversations, each sending realistic messages.
Prints p50/p95 latency, messages per second and each server's resident memory.
Usage: python scripts/bench.py [--model models/send-assistant.tar.gz] [--messages 200]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import servers  # noqa: E402

MESSAGES = (
    "hi",
    "he needs a wet room, we have the OT report but nothing happened",
    "who do I talk to about what happens after college",
    "my daughter is waiting for an autism assessment, who can help",
    "more options",
    "how do i get an ehcp",
    "thanks",
)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run_load(assistant: servers.Assistant, conversations: int, total: int) -> None:
    per_conversation = max(1, total // conversations)

    def conversation(number: int) -> list[float]:
        timings = []
        for i in range(per_conversation):
            started = time.perf_counter()
            assistant.say(f"bench-{conversations}-{number}", MESSAGES[i % len(MESSAGES)])
            timings.append(time.perf_counter() - started)
        return timings

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=conversations) as pool:
        latencies = [t for result in pool.map(conversation, range(conversations)) for t in result]
    elapsed = time.perf_counter() - started
    print(
        f"  {conversations:>2} concurrent: {len(latencies)} messages, "
        f"p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, "
        f"{len(latencies) / elapsed:.1f} messages/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        servers.running(
            model=args.model, rasa_port=5405, actions_port=5455, workdir=Path(workdir), quiet=True
        ) as assistant,
    ):
        assistant.say("bench-warmup", "hello")
        print(
            f"REST channel, {platform.node()} ({platform.machine()}), {time.strftime('%Y-%m-%d')}"
        )
        run_load(assistant, 1, min(args.messages, 60))
        run_load(assistant, 20, args.messages)
        actions, rasa = assistant.processes
        print(
            f"  resident memory: Rasa server {rss_mb(rasa.pid):.0f} MB, "
            f"action server {rss_mb(actions.pid):.0f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
