"""Which sender delivers each outbox channel, from the settings (do-nothing when unset)."""

from __future__ import annotations

from bot.config import Settings
from bot.notify.outbox import Sender
from bot.notify.senders import LogSender, SmtpSender, TwilioSmsSender, WebhookSender


def build_senders(settings: Settings) -> dict[str, Sender]:
    """Email, webhook, SMS and log senders; each falls back to logging when not set up."""
    senders: dict[str, Sender] = {"log": LogSender("log"), "webhook": WebhookSender()}
    senders["email"] = LogSender("email")
    if settings.smtp_host:
        senders["email"] = SmtpSender(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, "SEND case"
        )
    senders["sms"] = LogSender("sms")
    if settings.twilio_configured:
        senders["sms"] = TwilioSmsSender(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from_number,
            status_callback=f"{settings.public_url}/webhooks/sms/status",
            base_url=settings.twilio_api_base_url,
        )
    return senders
