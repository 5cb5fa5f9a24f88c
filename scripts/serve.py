"""Start the action server, the Rasa server, the outbox worker and the staff console;
Ctrl-C stops them all.

Usage: python scripts/serve.py [--model models/send-assistant.tar.gz]
Prints where to talk to the assistant once both servers answer.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import DEVELOPMENT, Settings, load_settings  # noqa: E402
from scripts import servers  # noqa: E402


def _first_admin_hint(settings: Settings) -> str:
    """A line on making the first admin, while the console has no accounts."""
    from bot.db import shared_engine
    from bot.staff.accounts import count_accounts

    if count_accounts(shared_engine(settings.database_url)):
        return ""
    return (
        "  No staff accounts yet. Make the first admin:\n"
        "    .venv/bin/python -m bot staff add you@example.org --role admin\n"
    )


def _rest_note() -> str:
    """How the REST channel is reached in this run (open only in development)."""
    env = servers.app_env(dict(os.environ))
    if env == DEVELOPMENT:
        return "                 (open: APP_ENV=development)\n"
    return f"                 (APP_ENV={env}: needs Authorization: Bearer <REST_TOKEN>)\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=servers.DEFAULT_MODEL)
    args = parser.parse_args()
    settings = load_settings()
    stop_requested = False

    def _on_signal(_signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        assistant = servers.start(
            model=args.model,
            rasa_port=settings.rasa_port,
            actions_port=settings.actions_port,
            staff_port=settings.staff_port,
        )
    except (RuntimeError, FileNotFoundError) as exc:
        print(exc, file=sys.stderr)
        return 1
    base = f"http://localhost:{settings.rasa_port}"
    print(
        "\nThe assistant is running.\n"
        f"  Web chat:      {base}/webhooks/webchat/\n"
        f"  REST channel:  POST {base}/webhooks/rest/webhook  "
        '{"sender": "me", "message": "hello"}\n'
        f"{_rest_note()}"
        f"  Action server: http://localhost:{settings.actions_port}/health\n"
        "  Outbox worker: sends queued messages (python -m bot outbox dead lists failures)\n"
        f"  Staff console: http://localhost:{settings.staff_port}/login\n"
        f"{_first_admin_hint(settings)}"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    while not stop_requested and assistant.alive():
        time.sleep(0.5)
    servers.stop(assistant)
    print("Stopped.")
    return 0 if stop_requested else 1


if __name__ == "__main__":
    sys.exit(main())
