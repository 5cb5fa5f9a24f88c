"""Which sender delivers each outbox channel, from the settings (do-nothing when unset)."""

from __future__ import annotations

from bot.config import Settings
from bot.notify.outbox import AnySender
from bot.notify.senders import LogSender, SmtpSender, WebhookSender
from bot.notify.twilio_rest import TwilioDeleter, TwilioSmsSender, TwilioWhatsAppSender
from bot.notify.whatsapp import load_templates
from bot.privacy import TWILIO_DELETE


def build_senders(settings: Settings) -> dict[str, AnySender]:
    """A sender for every channel: SMS, WhatsApp, Telegram, email, webhook, log, and
    deletions at Twilio. Each one not set up logs instead of sending."""
    templates = load_templates(settings.whatsapp_templates_file)
    senders: dict[str, AnySender] = {
        "log": LogSender("log"),
        "webhook": WebhookSender(),
        "email": LogSender("email"),
        "sms": LogSender("sms"),
        "whatsapp": LogSender("whatsapp", templates),
        "telegram": LogSender("telegram"),
        TWILIO_DELETE: LogSender(TWILIO_DELETE),
    }
    if settings.smtp_host:
        senders["email"] = SmtpSender(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, "SEND assistant"
        )
    if settings.twilio_configured:
        base = settings.twilio_api_base_url
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        senders["sms"] = TwilioSmsSender(
            sid, token, settings.twilio_from_number,
            status_callback=f"{settings.public_url}/webhooks/sms/status", base_url=base,
        )  # fmt: skip
        senders["whatsapp"] = TwilioWhatsAppSender(
            sid, token, settings.whatsapp_from, templates,
            status_callback=f"{settings.public_url}/webhooks/sms/status", base_url=base,
        )  # fmt: skip
        senders[TWILIO_DELETE] = TwilioDeleter(sid, token, base_url=base)
    if settings.telegram_bot_token:
        from bot.notify.telegram_bot import TelegramBotSender

        senders["telegram"] = TelegramBotSender(
            settings.telegram_bot_token, settings.telegram_api_base_url
        )
    return senders
