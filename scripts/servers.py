"""Start and stop the Rasa server, the action server and the outbox worker as child processes
(and, when asked, the thin receiver for SMS, WhatsApp and Telegram: channels/receiver.py).

Used by `make run` (scripts/serve.py), the end-to-end tests, the evaluation and the
benchmark, so all of them run the assistant exactly the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import DEVELOPMENT, dotenv_value  # noqa: E402

DEFAULT_MODEL = ROOT / "models" / "send-assistant.tar.gz"
STARTUP_TIMEOUT = 300.0


@dataclass
class Assistant:
    """A running assistant: its addresses and processes."""

    rasa_port: int
    actions_port: int
    workdir: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    staff_port: int | None = None
    rest_token: str = ""
    receiver_port: int | None = None  # the thin receiver takes SMS, WhatsApp and Telegram
    # How each process was started (command, environment, output), so it can be started
    # again after a test or the benchmark has killed it on purpose.
    launches: list[tuple[list[str], dict[str, str], int | None]] = field(default_factory=list)

    @property
    def staff_url(self) -> str:
        return f"http://127.0.0.1:{self.staff_port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def channels_url(self) -> str:
        """Where SMS, WhatsApp and Telegram webhooks go: the receiver if it runs, else Rasa."""
        if self.receiver_port is None:
            return self.base_url
        return f"http://127.0.0.1:{self.receiver_port}"

    def say(self, sender: str, message: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Send one message over Rasa's REST channel and return the bot's messages
        (with the REST token, when the servers were started with one)."""
        request = urllib.request.Request(  # noqa: S310 (loopback only)
            f"{self.base_url}/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers=rest_headers(self.rest_token),
        )
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
            return list(json.loads(reply.read()))

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def launch(self, command: list[str], env: dict[str, str], output: int | None) -> None:
        """Start one more child process (and remember how, for :meth:`restart`)."""
        self.launches.append((command, env, output))
        self.processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        )

    def process(self, name: str) -> subprocess.Popen[bytes]:
        """The running process called ``name``: "actions", "rasa", "outbox", "staff" or
        "receiver"."""
        return self.processes[self._index(name)]

    def kill(self, name: str) -> None:
        """SIGKILL one process, as a crash or the out-of-memory killer would."""
        process = self.process(name)
        process.kill()
        process.wait(timeout=20)

    def restart(self, name: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Start a killed (or stopped) process again, the same way; wait until it answers."""
        index = self._index(name)
        if self.processes[index].poll() is None:
            self.processes[index].kill()
            self.processes[index].wait(timeout=20)
        command, env, output = self.launches[index]
        self.processes[index] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=output, stderr=output
        )
        health = {
            "actions": f"http://127.0.0.1:{self.actions_port}/health",
            "rasa": f"{self.base_url}/webhooks/rest/",
            "staff": f"{self.staff_url}/health",
            "receiver": f"{self.channels_url}/health",
        }.get(name)
        if health is not None and not _wait_for(health, self, timeout):
            raise RuntimeError(f"The {name} process did not start again.")

    def _index(self, name: str) -> int:
        words = {
            "actions": "actions", "rasa": "--model", "outbox": "outbox", "staff": "staff",
            "receiver": "channels.receiver",
        }  # fmt: skip
        for index, (command, _env, _output) in enumerate(self.launches):
            if words[name] in command:
                return index
        raise KeyError(name)


def rest_headers(token: str) -> dict[str, str]:
    """Headers for Rasa's REST channel: JSON, and the bearer token if there is one."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def app_env(env: dict[str, str]) -> str:
    """APP_ENV for servers started here: as set (environment, ``env`` or ``.env``), else
    development, so `make run`, the tests and `make eval` can use the REST channel."""
    return env.get("APP_ENV") or dotenv_value("APP_ENV") or DEVELOPMENT


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _wait_for(url: str, assistant: Assistant, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not assistant.alive():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 (loopback)
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def stop(assistant: Assistant) -> None:
    """Ask every process to stop (as Ctrl-C would), then make sure they have."""
    for process in assistant.processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    for process in assistant.processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_endpoints(workdir: Path, actions_port: int, tracker_db: Path) -> Path:
    """An endpoints file for this run: its own action server port and tracker store file."""
    path = workdir / "endpoints.yml"
    path.write_text(
        f'action_endpoint:\n  url: "http://127.0.0.1:{actions_port}/webhook"\n'
        "  enable_selective_domain: true\n"
        "tracker_store:\n"
        "  type: components.tracker_store.ErasingSQLTrackerStore\n"
        '  dialect: "sqlite"\n'
        f'  db: "{tracker_db}"\n',
        encoding="utf-8",
    )
    return path


def start(
    model: Path = DEFAULT_MODEL,
    rasa_port: int = 5005,
    actions_port: int = 5055,
    workdir: Path | None = None,
    env: dict[str, str] | None = None,
    quiet: bool = False,
    staff_port: int | None = None,
    receiver_port: int | None = None,
) -> Assistant:
    """Start both servers and the outbox worker (and the staff console when ``staff_port``
    is given); wait until the servers answer; raise if they do not (or if any process dies
    meanwhile).

    With ``receiver_port``, the thin receiver (``python -m channels.receiver``) takes SMS,
    WhatsApp and Telegram on that port and runs their turns on this Rasa server, which then
    serves the other channels only (``credentials.production.yml``)."""
    if not model.is_file():
        raise FileNotFoundError(f"No trained model at {model}: run `make train` first.")
    endpoints = ROOT / "endpoints.yml"
    child_env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # One Rasa server on this machine: TensorFlow may use every core within an op.
        "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get("TF_INTER_OP_PARALLELISM_THREADS", "1"),
        "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get(
            "TF_INTRA_OP_PARALLELISM_THREADS", str(os.cpu_count() or 1)
        ),
        "PYTHONPATH": str(ROOT),
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(actions_port),
        "DIRECTORY_WARM_UP": "1",  # the catalog is built before the action server answers
        **(env or {}),
    }
    child_env["APP_ENV"] = app_env(child_env)
    credentials = "credentials.yml"
    if receiver_port is not None:
        credentials = "credentials.production.yml"
        child_env["TURN_TOKEN"] = child_env.get("TURN_TOKEN") or secrets.token_urlsafe(24)
        child_env["RECEIVER_PORT"] = str(receiver_port)
        child_env["RASA_TURN_URL"] = f"http://127.0.0.1:{rasa_port}/webhooks/turn/webhook"
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        child_env["DATABASE_URL"] = (env or {}).get(
            "DATABASE_URL", f"sqlite:///{workdir / 'app.db'}"
        )
        endpoints = write_endpoints(workdir, actions_port, workdir / "tracker.db")
        child_env["TRACKER_DATABASE_URL"] = (env or {}).get(
            "TRACKER_DATABASE_URL", f"sqlite:///{workdir / 'tracker.db'}"
        )
        subprocess.run(  # a fresh database with the sample directory, as `make db` makes
            [sys.executable, "-m", "bot", "directory", "import"],
            cwd=ROOT, env=child_env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    output = subprocess.DEVNULL if quiet else None
    assistant = Assistant(
        rasa_port, actions_port, workdir or ROOT / "var", staff_port=staff_port,
        rest_token=child_env.get("REST_TOKEN") or dotenv_value("REST_TOKEN"),
        receiver_port=receiver_port,
    )  # fmt: skip
    if staff_port is not None:  # the staff console (staff/), on the same database
        staff = [sys.executable, "-m", "staff", "--port", str(staff_port)]
        assistant.launch(staff, child_env, output)
    assistant.launch(
        [_bin("rasa"), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        child_env, output,
    )  # fmt: skip
    assistant.launch(
        [
            _bin("rasa"), "run", "--model", str(model), "--endpoints", str(endpoints),
            "--credentials", credentials, "--port", str(rasa_port), "--cors", "*",
        ],
        child_env, output,
    )  # fmt: skip
    # the outbox worker: sends what the servers queue
    assistant.launch([sys.executable, "-m", "bot", "outbox", "run"], child_env, output)
    ready = _wait_for(f"http://127.0.0.1:{actions_port}/health", assistant, STARTUP_TIMEOUT)
    ready = ready and _wait_for(f"{assistant.base_url}/webhooks/rest/", assistant, STARTUP_TIMEOUT)
    if staff_port is not None:
        ready = ready and _wait_for(f"{assistant.staff_url}/health", assistant, STARTUP_TIMEOUT)
    if ready and receiver_port is not None:  # once Rasa answers: its restart sweep runs turns
        receiver = [sys.executable, "-m", "channels.receiver", "--host", "127.0.0.1"]
        assistant.launch([*receiver, "--port", str(receiver_port)], child_env, output)
        ready = _wait_for(f"{assistant.channels_url}/health", assistant, STARTUP_TIMEOUT)
    if not ready:
        stop(assistant)
        raise RuntimeError("The Rasa server, the action server or the receiver did not start.")
    # One conversation turn loads the model's graph and the directory ranking, so the
    # first real message is not the slow one.
    try:
        assistant.say("warm-up", "/greet", timeout=120)
    except urllib.error.HTTPError as error:
        stop(assistant)
        if error.code != 401:
            raise
        raise RuntimeError(
            "The REST channel refused the warm-up message (401): with APP_ENV="
            f"{child_env['APP_ENV']} it needs REST_TOKEN. Set APP_ENV=development "
            "or REST_TOKEN (see .env.example)."
        ) from error
    return assistant


@contextmanager
def running(**kwargs: Any) -> Iterator[Assistant]:
    """Both servers for the length of a ``with`` block."""
    assistant = start(**kwargs)
    try:
        yield assistant
    finally:
        stop(assistant)
