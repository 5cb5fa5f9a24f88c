"""The one check every Twilio webhook gets: its X-Twilio-Signature (403 when it fails).

Twilio signs the URL it called, query string as sent, followed by every form parameter
sorted by name, blank ones included (``FromCity=``) and each value of a repeated name.
Sanic's ``request.form`` drops blank values, so the body is parsed here as sent.

Twilio re-sorts the query parameters of a URL it is given before calling it (twilio-php
#790), so every URL we hand Twilio has its query keys sorted already: :func:`sorted_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from sanic.request import Request, RequestParameters
from twilio.request_validator import RequestValidator

from bot.config import Settings

FORM = "application/x-www-form-urlencoded"


def sorted_url(base: str, **query: Any) -> str:
    """``base`` with ``query`` in sorted key order, as Twilio will call it back."""
    return f"{base}?{urlencode(sorted(query.items()))}" if query else base


def twilio_params(request: Request) -> RequestParameters:
    """Every form parameter Twilio sent, blank and repeated values kept, in body order."""
    params = RequestParameters()
    content_type = request.headers.get("content-type", "")
    if request.method != "POST" or not content_type.startswith(FORM) or not request.body:
        return params
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return params
    for key, value in parse_qsl(body, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


class TwilioSignature:
    """Checks requests against the public URL Twilio called, with the twilio library."""

    def __init__(self, settings: Settings) -> None:
        self.public_url = settings.public_url
        self.validator = RequestValidator(settings.twilio_signing_token)

    def url(self, request: Request) -> str:
        """The public URL Twilio called: our public address, the path and the query string
        exactly as they arrived."""
        url = f"{self.public_url}{request.path}"
        return f"{url}?{request.query_string}" if request.query_string else url

    def ok(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        return self.validator.validate(self.url(request), twilio_params(request), signature)
