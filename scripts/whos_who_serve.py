"""Serve the Who's Who pages alone (no model, no chat), mounted exactly as the Rasa server
mounts them: to preview ``make publish`` and to test /whos-who/ in a real browser.

Usage:
    .venv/bin/python scripts/whos_who_serve.py --port 5090
    then open http://127.0.0.1:5090/whos-who/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rasa.core.channels.channel import register  # noqa: E402
from sanic import Sanic  # noqa: E402

from bot.config import load_settings  # noqa: E402
from channels.whos_who import WhosWhoInput  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=5090)
    args = parser.parse_args()
    app = Sanic("whos_who_preview")
    register([WhosWhoInput(load_settings())], app, route="/webhooks/")
    print(f"Serving http://127.0.0.1:{args.port}/whos-who/", flush=True)
    app.run(host="127.0.0.1", port=args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
