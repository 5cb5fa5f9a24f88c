"""One small sender class per delivery method (the outbox calls ``send_message``).

Twilio (SMS, WhatsApp, deletions) is in ``twilio_rest.py`` and Telegram in
``telegram_bot.py``; email, webhooks and the do-nothing log sender are here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.notify.outbox import MESSAGE, Outgoing, PermanentFailure, TemporaryFailure
from bot.notify.twilio_rest import TwilioSmsSender  # noqa: F401  (its old home)

if TYPE_CHECKING:
    from bot.notify.whatsapp import Template

log = logging.getLogger(__name__)
SEND_TIMEOUT = 30.0  # well inside the outbox's lease
# Domains reserved for examples and documentation (RFC 2606, RFC 6761): the sample
# directory's service systems live there, and nothing is ever posted to them.
RESERVED_DOMAINS = ("example.org", "example.com", "example.net", "test", "invalid", "example")


def is_sample_address(address: str) -> bool:
    """True for a URL on a reserved example domain, such as the sample routing's hooks."""
    from urllib.parse import urlsplit

    host = (urlsplit(address).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith(f".{d}") for d in RESERVED_DOMAINS)


class LogSender:
    """The do-nothing sender for local runs: logs that a message would go, sends nothing.

    For WhatsApp it also logs how the message would go (free text or which template).
    """

    def __init__(self, channel: str, templates: Mapping[str, Template] | None = None) -> None:
        self.channel = channel
        self.templates = templates

    async def send_message(self, message: Outgoing) -> str:
        how = ""
        if self.channel == "whatsapp":
            from bot.db import utcnow
            from bot.notify.whatsapp import plan

            chosen = plan(message.kind, message.last_inbound_at, self.templates or {}, utcnow())
            how = (
                " as free text" if chosen.free_text
                else f" with template {chosen.template.content_sid}" if chosen.template
                else f" (a real account would not send it: {chosen.why})"
            )  # fmt: skip
        log.info(
            "%s (local, not sent): message %s, %s, %d characters%s",
            self.channel, message.id, message.kind, len(message.body), how,
        )  # fmt: skip
        return "local"

    async def send(self, address: str, body: str) -> str:
        return await self.send_message(Outgoing(0, self.channel, MESSAGE, address, body))


def message_id(message: Outgoing, domain: str) -> str:
    """The same Message-ID every time this outbox message is sent, so a copy sent again
    after a worker died mid-send can be recognised as the same email."""
    digest = hashlib.sha256(f"{message.id}|{message.body}".encode()).hexdigest()[:40]
    return f"<outbox-{message.id}.{digest}@{domain}>"


class SmtpSender:
    """Sends email through an SMTP server (a local one on loopback in tests)."""

    def __init__(self, host: str, port: int, from_address: str, subject: str) -> None:
        self.host, self.port = host, port
        self.from_address, self.subject = from_address, subject
        self.domain = from_address.rpartition("@")[2] or "send-assistant.example.org"

    def _send(self, message: Outgoing) -> str:
        import smtplib
        from email.message import EmailMessage

        email = EmailMessage()
        email["From"], email["To"] = self.from_address, message.address
        first_line = (message.body.splitlines() or [""])[0][:80]
        email["Subject"] = f"{self.subject}: {first_line}"
        email["Message-ID"] = message_id(message, self.domain)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=SEND_TIMEOUT) as smtp:
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"email refused: {exc}") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(
                    f"email refused: {exc.smtp_code} {exc.smtp_error!r}"
                ) from exc
            raise TemporaryFailure(f"email not sent: {exc.smtp_code} {exc.smtp_error!r}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"email not sent: {exc}") from exc
        return str(email["Message-ID"])

    async def send_message(self, message: Outgoing) -> str:
        return await asyncio.to_thread(self._send, message)

    async def send(self, address: str, body: str) -> str:
        return await self.send_message(Outgoing(0, "email", MESSAGE, address, body))


class WebhookSender:
    """POSTs ``{"id": ..., "text": body}`` as JSON to a service's own system, with an
    ``Idempotency-Key`` header that stays the same when the message is sent again."""

    def _send(self, message: Outgoing) -> str:
        import json
        import urllib.error
        import urllib.request

        if is_sample_address(message.address):  # sample data: a stand-in, like LogSender
            log.info("webhook (sample address, not sent): message %s", message.id)
            return "sample"
        request = urllib.request.Request(  # noqa: S310 (an address from the routing file)
            message.address,
            data=json.dumps({"id": message.idempotency_key, "text": message.body}).encode(),
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": message.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as reply:  # noqa: S310
                return f"http-{reply.status}"
        except urllib.error.HTTPError as exc:
            if exc.code == 429 or exc.code >= 500:
                raise TemporaryFailure(f"webhook {exc.code}") from exc
            raise PermanentFailure(f"webhook {exc.code}") from exc
        except OSError as exc:
            raise TemporaryFailure(f"webhook unreachable: {exc}") from exc

    async def send_message(self, message: Outgoing) -> str:
        return await asyncio.to_thread(self._send, message)

    async def send(self, address: str, body: str) -> str:
        return await self.send_message(Outgoing(0, "webhook", MESSAGE, address, body))
