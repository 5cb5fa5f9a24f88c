"""Benchmark the directory at a council's size: synthetic Open Referral feeds, on loopback.

For each size (2,000 and 10,000 services by default) it serves a synthetic HSDS 3.0 feed
(pages of 100, like a real API) on loopback and prints:
  - import: `python -m bot directory import <feed url>` in a fresh process, wall time and
    peak memory (every page fetched over HTTP, parsed, checked and saved to SQLite);
  - first search: a fresh process getting the catalog (the index the import saved, the
    need classifier from its disk cache) and answering one message; also with no saved
    index (built from the stored search words) and with nothing cached at all;
  - search latency: p50/p95 of Catalog.search over the development messages
    (tests/data/signpost_dev*.yml, 257 messages, each read once);
  - the action server (`rasa run actions`) on that database: time until it answers
    /health (it builds the catalog first), its first signposting action, p50/p95 of
    signposting actions, and its resident memory.
Targets (issue 16): 10,000 imported in under 60 s, first search under 2 s, p95 search
under 50 ms, action server under 500 MB.
Usage: python scripts/bench_directory.py [--sizes 2000 10000] [--skip-server]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.servers import _bin, _wait_for  # noqa: E402

PAGE_SIZE = 100
DEV_SETS = (ROOT / "tests/data/signpost_dev.yml", ROOT / "tests/data/signpost_dev_hard.yml")
ADJECTIVES = ("Friendly", "Little", "Sunny", "Bright", "Riverside", "Oak", "Meadow", "Hilltop")
FORMATS = ("group", "club", "drop-in", "service", "workshop", "helpline", "sessions", "team")
PLACES = ("Telford", "Wellington", "Madeley", "Oakengates", "Newport", "Donnington", "Hadley")
UNMAPPED = ("Community groups", "Volunteering", "Play schemes", "Faith groups", "Libraries")
AGE_GROUPS = ("0-5 years", "5-11 years", "11-16 years", "16-25 years", "All ages")


def synthetic_services(count: int, seed: int = 16) -> list[dict[str, Any]]:
    """``count`` HSDS 3.0 services made from the need taxonomy and the taxonomy map's terms,
    with fiction phone numbers and example.org addresses."""
    rng = random.Random(seed)
    needs = yaml.safe_load((ROOT / "data/directory/needs.yml").read_text())["needs"]
    terms = [
        (name, rule["needs"][0])
        for rule in yaml.safe_load((ROOT / "data/directory/taxonomy_map.yml").read_text())["terms"]
        for name in rule.get("names", [])
    ]
    services = []
    for number in range(1, count + 1):
        term, need = rng.choice(terms)
        words = needs[need]["synonyms"]
        topic = rng.choice(words)
        place = rng.choice(PLACES)
        name = f"{rng.choice(ADJECTIVES)} {topic.title()} {rng.choice(FORMATS).title()} {number}"
        low = rng.choice((0, 0, 5, 11, 16))
        status = "inactive" if number % 97 == 0 else "active"
        description = (
            f"A {rng.choice(FORMATS)} in {place} for families who need help with "
            f"{needs[need]['label'].lower()}: {', '.join(rng.sample(words, min(3, len(words))))}. "
            f"Run by trained staff and volunteers who know the local area and can point you "
            f"to other help, including {rng.choice(words)} and {rng.choice(words)}."
        )
        services.append(
            {
                "id": f"synthetic-{number:05d}",
                "name": name,
                "description": description,
                "url": f"www.example.org/services/{number}",
                "email": f"service{number}@example.org",
                "status": status,
                "minimum_age": low,
                "maximum_age": rng.choice((0, 18, 25)) if low < 16 else 25,
                "application_process": "Call or email to book a place.",
                "phones": [{"id": f"ph-{number}", "number": f"01632 960{number % 1000:03d}"}],
                "schedules": [
                    {
                        "id": f"sch-{number}",
                        "byday": rng.choice(("MO,TU,WE,TH,FR", "SA", "TU,TH", "WE")),
                        "opens_at": rng.choice(("09:00:00", "10:00:00", "13:30:00")),
                        "closes_at": rng.choice(("12:00:00", "16:00:00", "17:00:00")),
                    }
                ],
                "service_areas": [{"id": f"sa-{number}", "name": "Telford and Wrekin"}],
                "organization": {"id": f"org-{number % 300}", "name": f"{place} Trust"},
                "attributes": [
                    {"id": f"at-{number}-1", "taxonomy_term": {"id": f"t-{need}", "name": term}},
                    {
                        "id": f"at-{number}-2",
                        "taxonomy_term": {
                            "id": "t-age",
                            "name": rng.choice(AGE_GROUPS),
                            "taxonomy": "Age group",
                        },
                    },  # fmt: skip
                    {
                        "id": f"at-{number}-3",
                        "taxonomy_term": {"id": "t-other", "name": rng.choice(UNMAPPED)},
                    },
                ],
            }
        )
    return services


class Feed:
    """A synthetic feed served page by page on loopback, as HSDS 3.0 lists are."""

    def __init__(self, services: list[dict[str, Any]]) -> None:
        pages = max(1, math.ceil(len(services) / PAGE_SIZE))
        self.bodies = {
            page: json.dumps(
                {
                    "total_items": len(services),
                    "total_pages": pages,
                    "page_number": page,
                    "size": PAGE_SIZE,
                    "first_page": page == 1,
                    "last_page": page == pages,
                    "contents": services[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
                }  # fmt: skip
            ).encode()
            for page in range(1, pages + 1)
        }
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                query = parse_qs(urlsplit(self.path).query)
                body = bodies.get(int(query.get("page", ["1"])[0]), b'{"contents": []}')
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_child(code: str, env: dict[str, str]) -> dict[str, Any]:
    """Run ``code`` in a fresh Python; it prints one JSON line of results last."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return dict(json.loads(lines[-1]))


IMPORT = """
import json, resource, time
from bot.cli import main
started = time.monotonic()
code = main(["directory", "import", URL, "--source", "synthetic"])
print(json.dumps({"seconds": time.monotonic() - started, "exit": code,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

FIRST_SEARCH = """
import json, resource, time
started = time.monotonic()
import sklearn.feature_extraction.text, sklearn.linear_model, sklearn.pipeline
from bot.config import load_settings
from bot.db import make_engine
from bot.directory.catalog import load_catalog
imported = time.monotonic()
version, catalog = load_catalog(make_engine(load_settings().database_url))
built = time.monotonic()
found = catalog.search("my 4 year old is not talking yet, who can help")
done = time.monotonic()
print(json.dumps({"seconds": done - imported, "imports": imported - started,
                  "catalog": built - imported, "search": done - built,
                  "entries": len(catalog.directory.entries), "found": len(found),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

LATENCY = """
import json, time, yaml
from bot.db import make_engine
from bot.directory import Catalog
from bot.directory.search import default_examples_path, load_examples
from bot.directory.store import load_indexed
from bot.config import load_settings
directory, terms = load_indexed(make_engine(load_settings().database_url))
catalog = Catalog(directory, examples=load_examples(default_examples_path()), terms=terms)
texts = [e["text"] for path in FILES for e in yaml.safe_load(open(path))["examples"]]
times, empty = [], 0
for text in texts:
    started = time.perf_counter()
    found = catalog.search(text)
    times.append(time.perf_counter() - started)
    empty += not found
again = []
for text in texts[:50]:  # the age question's pattern: the same message for other ages
    started = time.perf_counter()
    for age in (3, 8, 13, 17, 21):
        catalog.search(text, age=age)
    again.append(time.perf_counter() - started)
print(json.dumps({"times": times, "again": again, "empty": empty}))
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory now and at its peak, from /proc (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            values[line.split(":")[0]] = int(line.split()[1]) / 1024
    return values.get("VmRSS", math.nan), values.get("VmHWM", math.nan)


def action_request(text: str, sender: str) -> bytes:
    tracker = {
        "sender_id": sender, "slots": {}, "paused": False, "followup_action": None,
        "active_loop": {}, "latest_action_name": "action_listen", "events": [],
        "latest_message": {"text": text, "intent": {"name": "ask_signpost", "confidence": 0.9},
                           "entities": [], "message_id": sender},
    }  # fmt: skip
    body = {"next_action": "action_signpost", "sender_id": sender, "tracker": tracker,
            "domain": {}, "version": "3.6.2"}  # fmt: skip
    return json.dumps(body).encode()


def bench_action_server(env: dict[str, str], texts: list[str]) -> dict[str, float]:
    """Start `rasa run actions` on the database; time its start, its signposting, its RSS."""
    sock = __import__("socket").socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    started = time.monotonic()
    process = subprocess.Popen(
        [_bin("rasa"), "run", "actions", "--actions", "actions", "--port", str(port)],
        cwd=ROOT, env={**env, "DIRECTORY_WARM_UP": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    class Alive:
        def alive(self) -> bool:
            return process.poll() is None

    try:
        if not _wait_for(f"http://127.0.0.1:{port}/health", Alive(), 300):  # type: ignore[arg-type]
            raise RuntimeError("the action server did not start")
        ready = time.monotonic() - started
        times = []
        for number, text in enumerate(texts):
            request = urllib.request.Request(  # noqa: S310 (loopback)
                f"http://127.0.0.1:{port}/webhook",
                data=action_request(text, f"bench-{number}"),
                headers={"Content-Type": "application/json"},
            )
            sent = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as reply:  # noqa: S310
                answer = json.loads(reply.read())
            times.append(time.perf_counter() - sent)
            assert answer.get("responses"), answer
        rss, peak = rss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "ready": ready, "first": times[0], "p50": percentile(times[1:], 50),
        "p95": percentile(times[1:], 95), "rss": rss, "peak": peak,
    }  # fmt: skip


def bench_size(count: int, workdir: Path, skip_server: bool) -> None:
    print(f"\nDirectory of {count:,} synthetic services (HSDS 3.0 feed, pages of {PAGE_SIZE})")
    database = workdir / f"directory-{count}.db"
    env = {
        **os.environ, "DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT),
        "DIRECTORY_WARM_UP": "0", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "CACHE_DIR": str(workdir / f"cache-{count}"),
    }  # fmt: skip
    feed = Feed(synthetic_services(count))
    try:
        # The sample directory first, as `make db` makes it: the feed comes on top.
        subprocess.run(
            [sys.executable, "-m", "bot", "directory", "import"],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        result = run_child(f"URL = {feed.url!r}\n" + IMPORT, env)
        print(
            f"  import: {result['seconds']:.1f} s, peak memory {result['peak_mb']:.0f} MB "
            f"(exit code {result['exit']}; target under 60 s for 10,000)"
        )
        again = run_child(f"URL = {feed.url!r}\n" + IMPORT, env)
        print(f"  import again, nothing changed: {again['seconds']:.1f} s")
    finally:
        feed.close()
    saved = run_child(FIRST_SEARCH, env)  # the import saved the index and the classifier
    index_only = workdir / f"cache-{count}-no-index"
    shutil.copytree(Path(env["CACHE_DIR"]), index_only)
    for file in index_only.glob("directory/catalog-*.pickle"):
        file.unlink()
    rebuilt = run_child(FIRST_SEARCH, {**env, "CACHE_DIR": str(index_only)})
    cold = run_child(FIRST_SEARCH, {**env, "CACHE_DIR": str(workdir / f"cache-{count}-empty")})
    print(
        f"  first search in a fresh process: {saved['seconds']:.2f} s (catalog of "
        f"{saved['entries']:,} entries loaded {saved['catalog']:.2f} s, search "
        f"{saved['search'] * 1000:.0f} ms; target under 2 s), after {saved['imports']:.1f} s of "
        f"Python imports; peak {saved['peak_mb']:.0f} MB"
    )
    print(
        f"  ... with no saved index (built from the database): {rebuilt['seconds']:.2f} s; "
        f"with nothing cached (the classifier trains once too): {cold['seconds']:.2f} s"
    )
    latency = run_child(f"FILES = {[str(p) for p in DEV_SETS]!r}\n" + LATENCY, env)
    times = latency["times"]
    print(
        f"  search latency, {len(times)} messages: p50 {percentile(times, 50) * 1000:.1f} ms, "
        f"p95 {percentile(times, 95) * 1000:.1f} ms, max {max(times) * 1000:.0f} ms "
        f"(target p95 under 50 ms); {latency['empty']} got no entry"
    )
    print(
        "  the same message for five more ages (the age question): "
        f"p50 {statistics.median(latency['again']) * 1000:.1f} ms for all five"
    )
    if skip_server:
        return
    texts = [e["text"] for path in DEV_SETS for e in yaml.safe_load(path.read_text())["examples"]]
    server = bench_action_server(env, texts[:60])
    print(
        f"  action server: answers /health after {server['ready']:.1f} s (catalog built "
        f"first); first signposting {server['first'] * 1000:.0f} ms; then p50 "
        f"{server['p50'] * 1000:.0f} ms, p95 {server['p95'] * 1000:.0f} ms; resident memory "
        f"{server['rss']:.0f} MB (peak {server['peak']:.0f} MB; target under 500 MB)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--skip-server", action="store_true", help="no action server run")
    args = parser.parse_args()
    print(
        f"Directory benchmark, {time.strftime('%Y-%m-%d')}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start, "
        f"Python {platform.python_version()}, SQLite"
    )
    with tempfile.TemporaryDirectory() as folder:
        for count in args.sizes:
            bench_size(count, Path(folder), args.skip_server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
