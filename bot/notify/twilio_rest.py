"""Twilio's REST API through the ``twilio`` library: SMS, WhatsApp, and deleting what
Twilio keeps (recordings, message logs) when a person's data is erased.

``TWILIO_API_BASE_URL`` points the client at a fake on loopback in tests.

Twilio's Messages API takes no idempotency key. So when an earlier attempt was cut off
mid-send (the worker died), the sender first lists recent messages to that number and
returns the one already made with the same text, instead of sending it again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.notify.outbox import (
    MESSAGE,
    Outgoing,
    PermanentFailure,
    RecipientOptedOut,
    TemporaryFailure,
)
from bot.notify.whatsapp import Template, plan

log = logging.getLogger(__name__)
TIMEOUT = 30.0  # seconds; well inside the outbox's lease
CARRIER_STOP = 21610  # "Attempt to send to unsubscribed recipient": they texted STOP
WHATSAPP_OUTSIDE_WINDOW = 63016  # free text outside the 24-hour session
NOT_FINISHED = 20009  # a message still being delivered cannot be deleted yet
LOOK_BACK = timedelta(minutes=2)


def make_client(account_sid: str, auth_token: str, base_url: str = "") -> Client:
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=TIMEOUT))
    if base_url:
        client.api.base_url = base_url.rstrip("/")
    return client


def failure(exc: TwilioRestException, what: str) -> Exception:
    """The outbox's view of a Twilio error: opted out, try later, or give up."""
    if exc.code == CARRIER_STOP:
        return RecipientOptedOut(f"Twilio {exc.status} ({exc.code}): {exc.msg}", "carrier-stop")
    if exc.status == 429 or exc.status >= 500:
        return TemporaryFailure(f"Twilio {exc.status}: {exc.msg}")
    return PermanentFailure(f"Twilio {exc.status} ({exc.code}): {exc.msg} ({what})")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class TwilioSmsSender:
    """Sends SMS through the Twilio REST API, with delivery reports to ``status_callback``."""

    channel = "sms"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        status_callback: str | None = None,
        base_url: str = "",
    ) -> None:
        self.client = make_client(account_sid, auth_token, base_url)
        self.from_number = from_number
        self.status_callback = status_callback

    def to(self, address: str) -> str:
        return address

    def params(self, message: Outgoing, force_template: bool = False) -> dict[str, Any]:
        """What to create: the text (WhatsApp may use a template instead)."""
        return {"body": message.body}

    def already_sent(self, message: Outgoing, params: dict[str, Any]) -> str | None:
        """The sid of a message with this text made since the interrupted attempt, if any."""
        if message.interrupted_at is None or "body" not in params:
            return None
        since = _aware(message.interrupted_at) - LOOK_BACK
        recent = self.client.messages.list(
            to=self.to(message.address), from_=self.from_number, limit=20
        )
        for earlier in recent:
            created = earlier.date_created
            if earlier.body == params["body"] and created is not None and _aware(created) >= since:
                return str(earlier.sid)
        return None

    def _create(self, message: Outgoing) -> str:
        params = self.params(message)
        try:
            found = self.already_sent(message, params)
            if found:
                log.info("twilio: message %s had gone before the worker stopped", message.id)
                return found
            try:
                created = self._post(message, params)
            except TwilioRestException as exc:
                if exc.code != WHATSAPP_OUTSIDE_WINDOW:
                    raise
                created = self._post(message, self.params(message, force_template=True))
        except TwilioRestException as exc:
            raise failure(exc, f"{self.channel} message {message.id}") from exc
        except (OSError, TwilioException) as exc:  # refused connections, time-outs
            raise TemporaryFailure(f"Twilio unreachable: {exc}") from exc
        return str(created.sid)

    def _post(self, message: Outgoing, params: dict[str, Any]) -> Any:
        return self.client.messages.create(
            to=self.to(message.address),
            from_=self.from_number,
            status_callback=self.status_callback,
            **params,
        )

    async def send_message(self, message: Outgoing) -> str:
        return await asyncio.to_thread(self._create, message)

    async def send(self, address: str, body: str) -> str:
        return await self.send_message(Outgoing(0, self.channel, MESSAGE, address, body))


class TwilioWhatsAppSender(TwilioSmsSender):
    """WhatsApp through Twilio: ``whatsapp:+44...`` addresses; free text within 24 hours
    of the person's last message, otherwise the kind's approved template."""

    channel = "whatsapp"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        templates: dict[str, Template],
        status_callback: str | None = None,
        base_url: str = "",
    ) -> None:
        super().__init__(
            account_sid, auth_token, whatsapp_address(from_number), status_callback, base_url
        )
        self.templates = templates

    def to(self, address: str) -> str:
        return whatsapp_address(address)

    def params(self, message: Outgoing, force_template: bool = False) -> dict[str, Any]:
        chosen = plan(
            message.kind,
            message.last_inbound_at,
            self.templates,
            datetime.now(timezone.utc),
            force_template,
        )
        if chosen.free_text:
            return {"body": message.body}
        if chosen.template is None:
            raise PermanentFailure(chosen.why)
        return {
            "content_sid": chosen.template.content_sid,
            "content_variables": chosen.template.values(message.body),
        }


def whatsapp_address(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class TwilioDeleter:
    """Deletes a recording (``RE...``) or a message's log (``SM...``, ``MM...``) at Twilio.

    Already gone (404) counts as done; a message still being delivered waits.
    """

    def __init__(self, account_sid: str, auth_token: str, base_url: str = "") -> None:
        self.client = make_client(account_sid, auth_token, base_url)

    def _delete(self, sid: str) -> str:
        resource = (
            self.client.recordings(sid) if sid.startswith("RE") else self.client.messages(sid)
        )
        try:
            resource.delete()
        except TwilioRestException as exc:
            if exc.status == 404:
                return "already-gone"
            if exc.code == NOT_FINISHED:
                raise TemporaryFailure(f"Twilio: {exc.msg}") from exc
            raise failure(exc, f"deleting {sid[:2]}") from exc
        except (OSError, TwilioException) as exc:
            raise TemporaryFailure(f"Twilio unreachable: {exc}") from exc
        return "deleted"

    async def send_message(self, message: Outgoing) -> str:
        return await asyncio.to_thread(self._delete, message.address)
