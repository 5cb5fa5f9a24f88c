"""Run the staff console: ``python -m staff [--port 5080]`` (``make run`` starts it too)."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.config import load_settings
from bot.db import shared_engine
from staff.app import create_app


def main() -> None:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=settings.staff_port)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app(shared_engine(settings.database_url), settings)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        proxy_headers=False,
        ws="none",  # no websockets here; Rasa pins an older websockets than uvicorn wants
        server_header=False,
    )


if __name__ == "__main__":
    main()
