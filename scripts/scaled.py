"""The production shape on one machine: HAProxy in front of several Rasa servers, several
action servers and the thin receiver (``python -m channels.receiver``, which takes SMS,
WhatsApp and Telegram and runs their turns on the Rasa servers), on PostgreSQL (tracker
store and application database) and Redis (the lock store, ``components/lock_store.py``).

The Rasa servers read the shipped ``endpoints.production.yml`` with its variables set
here, and ``credentials.production.yml`` (every channel but the receiver's), exactly as
the compose file and the Kubernetes manifests do. Used by `make run-scaled`, the scaled
end-to-end tests and `make bench`.

Usage: python scripts/scaled.py [--rasa 2] [--actions 2] [--receivers 1] [--port 8080]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import servers  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/send"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
STARTUP_TIMEOUT = 300.0


def haproxy_binary() -> str | None:
    return shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).is_file()), None
    )


RECEIVER_PATHS = ("/webhooks/sms/", "/webhooks/whatsapp/", "/webhooks/telegram/")


def haproxy_config(
    port: int,
    actions_port: int,
    rasa_ports: list[int],
    action_ports: list[int],
    receiver_ports: list[int] | None = None,
    turn_port: int | None = None,
) -> str:
    """The public front end (SMS, WhatsApp and Telegram to the receivers, everything else to
    the Rasa servers), an internal one for the action servers and, with receivers, an
    internal one for their turns (the Rasa servers' turn endpoint, which the public front
    end refuses).

    Any Rasa server may take any message (the Redis lock keeps one conversation on one
    server at a time), so plain round robin. A busy server answers its health check late,
    so checks allow 5 s and three misses; a dead one refuses connections, and the request
    is sent to the other at once. Beyond 24 requests at a time a server's requests wait
    in HAProxy's queue rather than crowd its event loop.
    """

    def servers_lines(prefix: str, ports: list[int], check: str) -> str:
        return "".join(
            f"    server {prefix}{n} 127.0.0.1:{p} check inter 1s fall 3 rise 2{check}\n"
            for n, p in enumerate(ports, start=1)
        )

    receivers = ""
    if receiver_ports:
        receivers = (
            f"    acl channel_webhook path_beg {' '.join(RECEIVER_PATHS)}\n"
            "    http-request deny deny_status 404 if { path_beg /webhooks/turn/ }\n"
            "    use_backend receivers if channel_webhook\n"
        )
    config = (
        "global\n"
        "    maxconn 2000\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 2s\n"
        "    timeout client 120s\n"
        "    timeout server 120s\n"
        "    timeout queue 60s\n"
        "    timeout check 5s\n"
        "    option http-keep-alive\n"
        "    retries 2\n"
        "    option redispatch\n"
        f"frontend rasa\n    bind 127.0.0.1:{port}\n{receivers}    default_backend rasa_servers\n"
        "backend rasa_servers\n"
        "    balance roundrobin\n"
        "    option httpchk GET /\n"
        "    retry-on conn-failure empty-response\n"
        + servers_lines("rasa", rasa_ports, " maxconn 24")
        + f"frontend actions\n    bind 127.0.0.1:{actions_port}\n"
        "    default_backend action_servers\n"
        "backend action_servers\n"
        "    balance roundrobin\n"
        "    option httpchk GET /health\n"
        "    retry-on conn-failure empty-response\n" + servers_lines("actions", action_ports, "")
    )
    if receiver_ports and turn_port is not None:
        config += (
            f"frontend turns\n    bind 127.0.0.1:{turn_port}\n    default_backend rasa_servers\n"
            "backend receivers\n"
            "    balance roundrobin\n"
            "    option httpchk GET /health\n"
            "    retry-on conn-failure\n" + servers_lines("receiver", receiver_ports, "")
        )
    return config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tracker_url_for(database_url: str) -> str:
    """The tracker store's database beside the application's: ``<name>_tracker``."""
    url = make_url(database_url)
    return url.set(database=f"{url.database}_tracker").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist yet."""
    from sqlalchemy import create_engine, text

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("select 1 from pg_database where datname = :name"),
                {"name": target.database},
            ).first()
            if not exists:
                connection.execute(text(f'create database "{target.database}"'))
    finally:
        admin.dispose()


def reset_databases(database_url: str, marker: str) -> None:
    """Drop and create the application and tracker databases of a test or benchmark run.

    Only databases whose name contains ``marker`` ("scaled", "bench"), never others.
    """
    from sqlalchemy import create_engine, text

    for url in (database_url, tracker_url_for(database_url)):
        name = make_url(url).database or ""
        if marker not in name:
            raise ValueError(f"refusing to reset database {name!r}: its name lacks {marker!r}")
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'drop database if exists "{name}"'))
                connection.execute(text(f'create database "{name}"'))
        finally:
            admin.dispose()


def production_env(
    database_url: str, tracker_url: str, redis_url: str, actions_url: str
) -> dict[str, str]:
    """The variables ``endpoints.production.yml`` reads, plus the application's own."""
    tracker = make_url(tracker_url)
    redis = urllib.parse.urlsplit(redis_url)
    return {
        "DATABASE_URL": database_url,
        "TRACKER_DATABASE_URL": tracker_url,
        "ACTION_SERVER_URL": actions_url,
        "TRACKER_DB_HOST": tracker.host or "127.0.0.1",
        "TRACKER_DB_PORT": str(tracker.port or 5432),
        "TRACKER_DB_NAME": tracker.database or "",
        "TRACKER_DB_USER": tracker.username or "",
        "TRACKER_DB_PASSWORD": tracker.password or "",
        "REDIS_HOST": redis.hostname or "127.0.0.1",
        "REDIS_PORT": str(redis.port or 6379),
        "REDIS_PASSWORD": redis.password or "",
        "REDIS_LOCK_DB": (redis.path or "/1").strip("/") or "1",
        # Acknowledge SMS and WhatsApp once stored; every reply by the outbox.
        "SMS_REPLY_WITHIN": "0",
    }


@dataclass
class Scaled:
    """A running scaled assistant: the load balancer's address and every process."""

    port: int
    actions_port: int
    rasa_ports: list[int]
    action_ports: list[int]
    workdir: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    receiver_ports: list[int] = field(default_factory=list)
    turn_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa_ports[index]}"

    def say(
        self, sender: str, message: str, server: int | None = None, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """One message over Rasa's REST channel (with the run's REST token), through the
        balancer or to one server."""
        base = self.base_url if server is None else self.rasa_url(server)
        request = urllib.request.Request(  # noqa: S310 (loopback only)
            f"{base}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers=servers.rest_headers(self.env.get("REST_TOKEN", "")),
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            return list(json.loads(reply.read()))

    def kill(self, name: str) -> None:
        """Kill one process at once, as a crash would (SIGKILL, no clean-up)."""
        process = self.processes[name]
        process.kill()
        process.wait()

    def pid(self, name: str) -> int:
        return self.processes[name].pid


def stored_events(cluster: Scaled, sender: str) -> list[dict[str, Any]]:
    from sqlalchemy import create_engine, text

    engine = create_engine(cluster.env["TRACKER_DATABASE_URL"])
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("select data from events where sender_id = :s order by id"), {"s": sender}
            ).all()
    finally:
        engine.dispose()
    return [json.loads(row.data) for row in rows]


class Interleaved(AssertionError):
    """Two turns of one conversation ran at once (a lock that did not hold)."""


def turns(events: list[dict[str, Any]], strict: bool = True) -> list[tuple[str, list[str]]]:
    """(user text, bot texts) per user turn, in stored order.

    A turn runs from a user event to the ``action_listen`` that ends it: a second user
    event before that means two servers ran the conversation at once, which raises
    ``Interleaved`` when ``strict``.
    """
    found: list[tuple[str, list[str]]] = []
    open_turn = False
    for event in events:
        if event["event"] == "user":
            if open_turn and strict:
                raise Interleaved(f"a user turn started inside another: {found[-1][0]!r}")
            found.append((event.get("text") or "", []))
            open_turn = True
        elif event["event"] == "bot" and open_turn and event.get("text"):
            found[-1][1].append(event["text"])
        elif event["event"] == "action" and event.get("name") == "action_listen":
            open_turn = False
    if open_turn and strict:
        raise Interleaved("the last turn never finished")
    return found


def _wait(url: str, scaled: Scaled, names: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [n for n in names if scaled.processes[n].poll() is not None]
        if dead:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 (loopback)
                if reply.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    return False


def stop(scaled: Scaled) -> None:
    """Stop every process (SIGINT as Ctrl-C would, then SIGKILL after 20 s)."""
    for process in scaled.processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    for process in scaled.processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _has_command(env: dict[str, str], *args: str) -> bool:
    """Whether ``python -m bot ...`` knows a command (later helpers add some)."""
    probe = subprocess.run(
        [sys.executable, "-m", *args, "--help"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    return probe.returncode == 0


def start(
    model: Path = servers.DEFAULT_MODEL,
    rasa_count: int = 2,
    actions_count: int = 2,
    port: int = 8080,
    database_url: str = DEFAULT_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    quiet: bool = False,
    ports: list[int] | None = None,
    rasa_args: list[str] | None = None,
    endpoints: Path | None = None,
    receivers: int = 1,
) -> Scaled:
    """Start HAProxy, ``actions_count`` action servers, ``rasa_count`` Rasa servers and
    ``receivers`` thin receivers (0: the Rasa servers take SMS, WhatsApp and Telegram
    themselves, with ``credentials.yml``).

    ``ports`` (optional) gives the ports to use: the internal actions front end, then one
    per action server, then one per Rasa server, then the internal turns front end and one
    per receiver (any not given are free ones). Raises if anything does not come up.
    """
    binary = haproxy_binary()
    if binary is None:
        raise FileNotFoundError("HAProxy is not installed: run `make load-balancer`.")
    if not model.is_file():
        raise FileNotFoundError(f"No trained model at {model}: run `make train` first.")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="scaled-"))
    workdir.mkdir(parents=True, exist_ok=True)
    wanted = 1 + actions_count + rasa_count
    free = list(ports or [port + 1 + n for n in range(wanted + 1 + receivers)])
    extra = free[wanted:]
    extra += [_free_port() for _ in range(1 + receivers - len(extra))]
    actions_port, free = free[0], free[1:]
    action_ports, rasa_ports = free[:actions_count], free[actions_count : wanted - 1]
    turn_port, receiver_ports = extra[0], extra[1 : 1 + receivers]
    tracker_url = tracker_url_for(database_url)
    for url in (database_url, tracker_url):
        ensure_database(url)
    child_env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
        "AUDIO_DIR": str(workdir / "audio"),
        # Several Rasa servers share the cores: TensorFlow threads divided between them.
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_INTRA_OP_PARALLELISM_THREADS": str(max(1, (os.cpu_count() or 1) // rasa_count)),
        **production_env(
            database_url, tracker_url, redis_url, f"http://127.0.0.1:{actions_port}/webhook"
        ),
        "APP_ENV": "production",  # the REST channel needs the token, as in production
        **(env or {}),
    }
    child_env["REST_TOKEN"] = child_env.get("REST_TOKEN") or secrets.token_urlsafe(24)
    credentials = "credentials.yml"
    if receivers:
        credentials = "credentials.production.yml"  # SMS, WhatsApp, Telegram: the receivers
        child_env["TURN_TOKEN"] = child_env.get("TURN_TOKEN") or secrets.token_urlsafe(24)
        child_env["RASA_TURN_URL"] = f"http://127.0.0.1:{turn_port}/webhooks/turn/webhook"
    output = subprocess.DEVNULL if quiet else None
    subprocess.run(  # the schema and the sample directory, as `make db` does
        [sys.executable, "-m", "bot", "db", "upgrade"], cwd=ROOT, env=child_env, check=True,
        stdout=output, stderr=output,
    )  # fmt: skip
    subprocess.run(
        [sys.executable, "-m", "bot", "directory", "import"], cwd=ROOT, env=child_env,
        check=True, stdout=output, stderr=output,
    )  # fmt: skip
    config = workdir / "haproxy.cfg"
    config.write_text(
        haproxy_config(port, actions_port, rasa_ports, action_ports, receiver_ports, turn_port)
    )
    scaled = Scaled(port, actions_port, rasa_ports, action_ports, workdir, child_env)
    if receivers:
        scaled.receiver_ports, scaled.turn_port = receiver_ports, turn_port

    def spawn(name: str, command: list[str]) -> None:
        log = open(workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        scaled.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=log if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
        )  # fmt: skip

    try:
        spawn("haproxy", [binary, "-f", str(config), "-db"])
        for n, p in enumerate(action_ports, start=1):
            spawn(
                f"actions{n}",
                [servers._bin("rasa"), "run", "actions", "--actions", "actions", "--port", str(p)],
            )
        for n, p in enumerate(rasa_ports, start=1):
            spawn(
                f"rasa{n}",
                [
                    servers._bin("rasa"), "run", "--model", str(model),
                    "--endpoints", str(endpoints or ROOT / "endpoints.production.yml"),
                    "--credentials", credentials, "--port", str(p), "--cors", "*",
                    *(rasa_args or []),
                ],
            )  # fmt: skip
        if _has_command(child_env, "bot", "outbox", "run"):
            spawn("outbox", [sys.executable, "-m", "bot", "outbox", "run"])
        for n, p in enumerate(action_ports, start=1):
            if not _wait(f"http://127.0.0.1:{p}/health", scaled, [f"actions{n}"], STARTUP_TIMEOUT):
                raise RuntimeError(f"action server {n} did not start (see {workdir})")
        for n, p in enumerate(rasa_ports, start=1):
            url = f"http://127.0.0.1:{p}/webhooks/rest/"
            if not _wait(url, scaled, [f"rasa{n}"], STARTUP_TIMEOUT):
                raise RuntimeError(f"Rasa server {n} did not start (see {workdir})")
        # The receivers once the Rasa servers answer (their restart sweeps run turns).
        for n, p in enumerate(scaled.receiver_ports, start=1):
            command = [sys.executable, "-m", "channels.receiver", "--host", "127.0.0.1"]
            spawn(f"receiver{n}", [*command, "--port", str(p)])
        for n, p in enumerate(scaled.receiver_ports, start=1):
            url = f"http://127.0.0.1:{p}/health"
            if not _wait(url, scaled, [f"receiver{n}"], STARTUP_TIMEOUT):
                raise RuntimeError(f"receiver {n} did not start (see {workdir})")
        if not _wait(f"{scaled.base_url}/webhooks/rest/", scaled, ["haproxy"], 30):
            raise RuntimeError(f"HAProxy did not start (see {workdir})")
        for n in range(rasa_count):  # load each server's graph before the first real turn
            scaled.say(f"warm-up-{n}", "/greet", server=n, timeout=120)
    except BaseException:
        stop(scaled)
        raise
    return scaled


@contextlib.contextmanager
def running(**kwargs: Any) -> Iterator[Scaled]:
    scaled = start(**kwargs)
    try:
        yield scaled
    finally:
        stop(scaled)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    parser.add_argument("--rasa", type=int, default=2)
    parser.add_argument("--actions", type=int, default=2)
    parser.add_argument("--receivers", type=int, default=1)
    parser.add_argument("--port", type=int, default=int(os.environ.get("SCALED_PORT", "8080")))
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        print("The scaled shape needs PostgreSQL: set DATABASE_URL=postgresql+psycopg2://...")
        return 1
    stop_requested = False

    def _on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        scaled = start(
            model=args.model, rasa_count=args.rasa, actions_count=args.actions,
            port=args.port, database_url=args.database_url, redis_url=args.redis_url,
            receivers=args.receivers,
        )  # fmt: skip
    except (RuntimeError, FileNotFoundError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"\nThe assistant is running at scale: HAProxy on {scaled.base_url}\n"
        f"  Rasa servers:   {', '.join(str(p) for p in scaled.rasa_ports)}\n"
        f"  action servers: {', '.join(str(p) for p in scaled.action_ports)} "
        f"(behind 127.0.0.1:{scaled.actions_port})\n"
        f"  receivers:      {', '.join(str(p) for p in scaled.receiver_ports) or 'none'} "
        "(SMS, WhatsApp and Telegram through HAProxy; their turns through "
        f"127.0.0.1:{scaled.turn_port})\n"
        f"  Web chat:       {scaled.base_url}/webhooks/webchat/\n"
        f"  REST channel:   POST {scaled.base_url}/webhooks/rest/webhook\n"
        f"                  with Authorization: Bearer {scaled.env['REST_TOKEN']}\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    while not stop_requested and all(p.poll() is None for p in scaled.processes.values()):
        time.sleep(0.5)
    stop(scaled)
    print("Stopped.")
    return 0 if stop_requested else 1


if __name__ == "__main__":
    sys.exit(main())
