"""Try the SMS channel without Twilio: send a correctly signed text to the local webhook
and show the SMS the family would receive, with its segment count.

Usage (with `make run` going in another terminal):
    .venv/bin/python scripts/sms_try.py "who helps with school transport"
    .venv/bin/python scripts/sms_try.py --from +447700900456 "1"
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.sms import segments  # noqa: E402

PATH = "/webhooks/sms/webhook"


def signed_post(
    server: str, public_url: str, token: str, params: dict[str, str], path: str = PATH
) -> tuple[int, str]:
    """POST ``params`` to ``path`` signed as Twilio would sign them for ``public_url``."""
    signature = RequestValidator(token).compute_signature(f"{public_url}{path}", params)
    request = urllib.request.Request(  # noqa: S310 (a local server)
        f"{server}{path}",
        data=urllib.parse.urlencode(params).encode(),
        headers={"X-Twilio-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def sms_texts(twiml: str) -> list[str]:
    """The text of each <Message> in a TwiML answer."""
    return [m.text or "" for m in ET.fromstring(twiml).findall("./Message")]  # noqa: S314


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("text")
    parser.add_argument("--from", dest="sender", default="+447700900456")
    args = parser.parse_args()
    settings = load_settings()
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": settings.twilio_account_sid or "AC" + "0" * 32,
        "From": args.sender,
        "To": settings.twilio_from_number or "+447700900000",
        "Body": args.text,
    }
    server = f"http://localhost:{settings.rasa_port}"
    status, body = signed_post(server, settings.public_url, settings.twilio_signing_token, params)
    if status != 200:
        print(f"The webhook answered {status}: {body}")
        return 1
    texts = sms_texts(body)
    if not texts:
        print("(no reply SMS: opted out, a repeat, or the reply follows through the outbox)")
    for text in texts:
        print(text)
        print(f"--- {len(text)} characters, {segments(text)} segment(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
