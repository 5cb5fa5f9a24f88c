"""Start the action server and the Rasa server together; Ctrl-C stops both cleanly.

Usage: python scripts/serve.py [--model models/send-assistant.tar.gz]
Prints where to talk to the assistant once both servers answer.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402

STARTUP_TIMEOUT = 240.0


def _wait_for(url: str, processes: list[subprocess.Popen[bytes]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 (loopback)
                if reply.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "send-assistant.tar.gz"))
    args = parser.parse_args()
    settings = load_settings()
    bin_dir = Path(sys.executable).parent
    rasa = str(bin_dir / "rasa")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    actions = subprocess.Popen(
        [rasa, "run", "actions", "--actions", "actions", "--port", str(settings.actions_port)],
        cwd=ROOT,
        env=env,
    )
    server = subprocess.Popen(
        [
            rasa,
            "run",
            "--model",
            args.model,
            "--endpoints",
            "endpoints.yml",
            "--credentials",
            "credentials.yml",
            "--port",
            str(settings.rasa_port),
            "--cors",
            "*",
        ],
        cwd=ROOT,
        env=env,
    )
    processes = [actions, server]
    stop_requested = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    base = f"http://localhost:{settings.rasa_port}"
    ready = _wait_for(
        f"http://localhost:{settings.actions_port}/health", processes, STARTUP_TIMEOUT
    )
    ready = ready and _wait_for(f"{base}/webhooks/rest/", processes, STARTUP_TIMEOUT)
    if not ready:
        print("The servers did not start. See the messages above.", file=sys.stderr)
        _stop(processes)
        return 1
    print(
        "\nThe assistant is running.\n"
        f"  Web chat:      {base}/webhooks/webchat/\n"
        f"  REST channel:  POST {base}/webhooks/rest/webhook  "
        '{"sender": "me", "message": "hello"}\n'
        f"  Action server: http://localhost:{settings.actions_port}/health\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    while not stop_requested and all(p.poll() is None for p in processes):
        time.sleep(0.5)
    _stop(processes)
    print("Stopped.")
    return 0 if stop_requested else 1


if __name__ == "__main__":
    sys.exit(main())
