"""The environment that points a server process at the fakes on loopback: the real twilio
library at :class:`~tests.fakes.twilio_api.FakeTwilio`, python-telegram-bot at
:class:`~tests.fakes.telegram_api.FakeTelegram`. One place for the variables every
end-to-end test sets; each test adds its own."""

from __future__ import annotations

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import FakeTwilio

PUBLIC_URL = "https://send-assistant.example.org"


def fakes_env(
    twilio: FakeTwilio,
    telegram: FakeTelegram | None = None,
    *,
    auth_token: str,
    pseudonym_key: str,
    telegram_secret: str = "",
    account_sid: str = "AC" + "1" * 32,
    **extra: str,
) -> dict[str, str]:
    """Twilio (and Telegram, when given) as the fakes answer them. ``SMS_REPLY_WITHIN`` is
    20 s, so every SMS answer comes back in TwiML even on a loaded machine; ``extra``
    overrides or adds anything."""
    env = {
        "TWILIO_ACCOUNT_SID": account_sid,
        "TWILIO_AUTH_TOKEN": auth_token,
        "TWILIO_FROM_NUMBER": "+447700900000",
        "TWILIO_API_BASE_URL": twilio.base_url,
        "PUBLIC_URL": PUBLIC_URL,
        "PSEUDONYM_KEY": pseudonym_key,
        "SMS_REPLY_WITHIN": "20",
    }
    if telegram is not None:
        env |= {
            "TELEGRAM_BOT_TOKEN": telegram.token,
            "TELEGRAM_WEBHOOK_SECRET": telegram_secret,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
        }
    return env | extra
