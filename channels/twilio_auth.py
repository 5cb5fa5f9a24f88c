"""The one check every Twilio webhook gets: its X-Twilio-Signature (403 when it fails)."""

from __future__ import annotations

from sanic.request import Request
from twilio.request_validator import RequestValidator

from bot.config import Settings


class TwilioSignature:
    """Checks requests against the public URL Twilio called, with the twilio library."""

    def __init__(self, settings: Settings) -> None:
        self.public_url = settings.public_url
        self.validator = RequestValidator(settings.twilio_signing_token)

    def ok(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature", "")
        url = f"{self.public_url}{request.path}"
        if request.query_string:
            url = f"{url}?{request.query_string}"
        params = {key: values[0] for key, values in request.form.items()}
        return bool(signature) and self.validator.validate(url, params, signature)
