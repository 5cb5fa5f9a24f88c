"""One small sender class per delivery method (the outbox calls ``send``)."""

from __future__ import annotations

import asyncio
import logging

from bot.notify.outbox import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)


class LogSender:
    """The do-nothing sender for local runs: logs that a message would go, sends nothing."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    async def send(self, address: str, body: str) -> str:
        log.info("%s (local, not sent): %d characters", self.channel, len(body))
        return "local"


class TwilioSmsSender:
    """Sends SMS through the Twilio REST API (``base_url`` points at a fake in tests)."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback: str | None = None,
        base_url: str = "",
    ) -> None:
        from twilio.rest import Client

        self.client = Client(account_sid, auth_token)
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number = from_number
        self.status_callback = status_callback

    def _create(self, address: str, body: str) -> str:
        from twilio.base.exceptions import TwilioRestException

        try:
            message = self.client.messages.create(
                to=address,
                from_=self.from_number,
                body=body,
                status_callback=self.status_callback,
            )
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TemporaryFailure(f"Twilio {exc.status}: {exc.msg}") from exc
            raise PermanentFailure(f"Twilio {exc.status} ({exc.code}): {exc.msg}") from exc
        except OSError as exc:  # connection refused, timeouts
            raise TemporaryFailure(f"Twilio unreachable: {exc}") from exc
        return str(message.sid)

    async def send(self, address: str, body: str) -> str:
        return await asyncio.to_thread(self._create, address, body)


class SmtpSender:
    """Sends email through an SMTP server (a local one on loopback in tests)."""

    def __init__(self, host: str, port: int, from_address: str, subject: str) -> None:
        self.host, self.port = host, port
        self.from_address, self.subject = from_address, subject

    def _send(self, address: str, body: str) -> str:
        import smtplib
        from email.message import EmailMessage
        from email.utils import make_msgid

        message = EmailMessage()
        message["From"], message["To"] = self.from_address, address
        message["Subject"] = f"{self.subject}: {body.splitlines()[0][:80]}"
        message["Message-ID"] = make_msgid(domain="send-assistant.example.org")
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"email refused: {exc}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"email not sent: {exc}") from exc
        return str(message["Message-ID"])

    async def send(self, address: str, body: str) -> str:
        return await asyncio.to_thread(self._send, address, body)


class WebhookSender:
    """POSTs ``{"text": body}`` as JSON to a service's own system."""

    def _send(self, address: str, body: str) -> str:
        import json
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 (an address from the routing file)
            address,
            data=json.dumps({"text": body}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
                return f"http-{reply.status}"
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise TemporaryFailure(f"webhook {exc.code}") from exc
            raise PermanentFailure(f"webhook {exc.code}") from exc
        except OSError as exc:
            raise TemporaryFailure(f"webhook unreachable: {exc}") from exc

    async def send(self, address: str, body: str) -> str:
        return await asyncio.to_thread(self._send, address, body)
