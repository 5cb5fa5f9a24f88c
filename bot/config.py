"""Configuration, read in one place: environment variables with development defaults.

A ``.env`` file in the project root is read first (values already in the
environment win), so a council can keep its settings in one file.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_PSEUDONYM_KEY = "development-only-key-change-me"
# Keys anyone can read (this file, compose.yaml, deploy/k8s): never with real credentials.
PUBLIC_PSEUDONYM_KEYS = frozenset({DEV_PSEUDONYM_KEY, "change-me-to-a-long-random-secret"})
# The turn token's example value (compose.yaml, deploy/k8s): never with real credentials.
PUBLIC_TURN_TOKENS = frozenset({"change-me-to-another-long-random-secret"})
DEVELOPMENT = "development"
# With no TWILIO_AUTH_TOKEN, webhooks are still signed and checked, with this local token:
# `python scripts/sms_try.py` signs with it, so the channel can be tried with no account.
DEV_TWILIO_AUTH_TOKEN = "local-development-token"  # noqa: S105 (public, local only)


def _read_dotenv(path: Path) -> dict[str, str]:
    """Return KEY=VALUE pairs from a simple .env file (comments and blanks skipped)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _env(name: str, default: str, dotenv: dict[str, str]) -> str:
    return os.environ.get(name) or dotenv.get(name) or default


@dataclass(frozen=True)
class Settings:
    """Every setting the assistant reads. Build with :func:`load_settings`."""

    database_url: str
    tracker_database_url: str
    directory_file: Path
    public_url: str
    rasa_port: int
    actions_port: int
    pseudonym_key: str
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base_url: str = ""
    sms_reply_within: float = 3.0
    # A message still unanswered this long after it came is taken up by a restarted
    # server's sweep (longer than any turn with its retries), swept for this often.
    inbound_recover_after: float = 120.0
    inbound_recover_every: float = 30.0
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "send-assistant@example.org"
    open311_api_key: str = ""
    safeguarding_contact: str = ""
    operations_contact: str = ""
    twilio_whatsapp_from: str = ""
    whatsapp_templates_file: Path = field(
        default_factory=lambda: PROJECT_ROOT / "data" / "whatsapp_templates.yml"
    )
    outbox_poll_seconds: float = 2.0
    telegram_bot_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    phone_line_number: str = ""
    audio_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var" / "audio")
    publish_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var" / "publish")
    retention_days: int = 180
    audit_retention_days: int = 730  # the staff console's audit log: two years
    staff_port: int = 5080
    staff_public_url: str = "http://localhost:5080"
    staff_secret_key: str = ""
    assistant_now: str = ""  # ISO 8601; fixes "now" for opening hours in tests and demos
    directory_warm_up: bool = True
    cache_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var" / "cache")
    app_env: str = "production"
    rest_token: str = ""
    webchat_secret_key: str = ""
    # The thin receiver (channels/receiver.py) and the Rasa turn endpoint it calls
    # (channels/turn.py): the shared bearer token, its port, where the turns go, and how
    # long one turn over HTTP may take.
    turn_token: str = ""
    receiver_port: int = 5006
    rasa_turn_url: str = "http://127.0.0.1:5005/webhooks/turn/webhook"
    rasa_turn_timeout: float = 30.0

    @property
    def development(self) -> bool:
        """True when ``APP_ENV=development`` (``make run`` sets it unless told otherwise)."""
        return self.app_env == DEVELOPMENT

    @property
    def twilio_signing_token(self) -> str:
        """The token Twilio signs webhooks with (the local one when none is set)."""
        return self.twilio_auth_token or DEV_TWILIO_AUTH_TOKEN

    @property
    def whatsapp_from(self) -> str:
        """The WhatsApp sender: ``TWILIO_WHATSAPP_FROM``, else the SMS number."""
        number = self.twilio_whatsapp_from or self.twilio_from_number
        return number if number.startswith("whatsapp:") else f"whatsapp:{number}"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from_number)


def load_settings(environ_file: Path | None = None) -> Settings:
    """Read settings from the environment (and ``.env``), with development defaults."""
    dotenv = _read_dotenv(environ_file or PROJECT_ROOT / ".env")
    var_dir = PROJECT_ROOT / "var"
    key = _env("PSEUDONYM_KEY", DEV_PSEUDONYM_KEY, dotenv)
    if key == DEV_PSEUDONYM_KEY:
        log.debug("PSEUDONYM_KEY is not set: using the development key")
    rasa_port = int(_env("RASA_PORT", "5005", dotenv))
    return Settings(
        database_url=_env("DATABASE_URL", f"sqlite:///{var_dir / 'app.db'}", dotenv),
        tracker_database_url=_env(
            "TRACKER_DATABASE_URL", f"sqlite:///{var_dir / 'tracker.db'}", dotenv
        ),
        directory_file=Path(
            _env("DIRECTORY_FILE", str(PROJECT_ROOT / "data/directory/telford_wrekin.yml"), dotenv)
        ),
        public_url=_env("PUBLIC_URL", f"http://localhost:{rasa_port}", dotenv).rstrip("/"),
        rasa_port=rasa_port,
        actions_port=int(_env("ACTIONS_PORT", "5055", dotenv)),
        pseudonym_key=key,
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID", "", dotenv),
        twilio_auth_token=_env("TWILIO_AUTH_TOKEN", "", dotenv),
        twilio_from_number=_env("TWILIO_FROM_NUMBER", "", dotenv),
        twilio_api_base_url=_env("TWILIO_API_BASE_URL", "", dotenv),
        sms_reply_within=float(_env("SMS_REPLY_WITHIN", "3.0", dotenv)),
        inbound_recover_after=float(_env("INBOUND_RECOVER_AFTER", "120", dotenv)),
        inbound_recover_every=float(_env("INBOUND_RECOVER_EVERY", "30", dotenv)),
        smtp_host=_env("SMTP_HOST", "", dotenv),
        smtp_port=int(_env("SMTP_PORT", "25", dotenv)),
        smtp_from=_env("SMTP_FROM", "send-assistant@example.org", dotenv),
        open311_api_key=_env("OPEN311_API_KEY", "", dotenv),
        safeguarding_contact=_env("SAFEGUARDING_CONTACT", "", dotenv),
        operations_contact=_env("OPERATIONS_CONTACT", "", dotenv),
        twilio_whatsapp_from=_env("TWILIO_WHATSAPP_FROM", "", dotenv),
        whatsapp_templates_file=Path(
            _env(
                "WHATSAPP_TEMPLATES", str(PROJECT_ROOT / "data" / "whatsapp_templates.yml"), dotenv
            )
        ),
        outbox_poll_seconds=float(_env("OUTBOX_POLL_SECONDS", "2.0", dotenv)),
        telegram_bot_token=_env("TELEGRAM_BOT_TOKEN", "", dotenv),
        telegram_webhook_secret=_env("TELEGRAM_WEBHOOK_SECRET", "", dotenv),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot", dotenv),
        phone_line_number=_env("PHONE_LINE_NUMBER", "", dotenv),
        audio_dir=Path(_env("AUDIO_DIR", str(var_dir / "audio"), dotenv)),
        publish_dir=Path(_env("PUBLISH_DIR", str(var_dir / "publish"), dotenv)),
        retention_days=int(_env("RETENTION_DAYS", "180", dotenv)),
        audit_retention_days=int(_env("AUDIT_RETENTION_DAYS", "730", dotenv)),
        staff_port=int(_env("STAFF_PORT", "5080", dotenv)),
        staff_public_url=_env(
            "STAFF_PUBLIC_URL", f"http://localhost:{_env('STAFF_PORT', '5080', dotenv)}", dotenv
        ).rstrip("/"),
        staff_secret_key=_env("STAFF_SECRET_KEY", "", dotenv),
        assistant_now=_env("ASSISTANT_NOW", "", dotenv),
        cache_dir=Path(_env("CACHE_DIR", str(var_dir / "cache"), dotenv)),
        directory_warm_up=_env("DIRECTORY_WARM_UP", "1", dotenv).lower()
        not in ("0", "false", "no"),
        app_env=_env("APP_ENV", "production", dotenv).strip().lower(),
        rest_token=_env("REST_TOKEN", "", dotenv),
        webchat_secret_key=_env("WEBCHAT_SECRET_KEY", "", dotenv),
        turn_token=_env("TURN_TOKEN", "", dotenv),
        receiver_port=int(_env("RECEIVER_PORT", "5006", dotenv)),
        rasa_turn_url=_env(
            "RASA_TURN_URL", f"http://127.0.0.1:{rasa_port}/webhooks/turn/webhook", dotenv
        ),
        rasa_turn_timeout=float(_env("RASA_TURN_TIMEOUT", "30", dotenv)),
    )


def dotenv_value(name: str, environ_file: Path | None = None) -> str:
    """``name`` from the environment or ``.env``; "" when set in neither."""
    return os.environ.get(name) or _read_dotenv(environ_file or PROJECT_ROOT / ".env").get(name, "")


def unsafe_settings(settings: Settings) -> str | None:
    """Why these settings must not serve anyone, or None: real Twilio or Telegram
    credentials with a pseudonym key anyone can read (then a family's pseudonym, and
    through it their conversation, could be worked out from their phone number), or with
    a turn token anyone can read (then anyone who reaches a Rasa server's turn endpoint
    could talk as any family)."""
    real = [
        name
        for name, value in (
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("TELEGRAM_BOT_TOKEN", settings.telegram_bot_token),
        )
        if value
    ]
    if not real:
        return None
    named = f"{' and '.join(real)} {'is' if len(real) == 1 else 'are'} set"
    if settings.pseudonym_key in PUBLIC_PSEUDONYM_KEYS:
        return (
            f"Refusing to start: {named}, "
            "but PSEUDONYM_KEY is a development key that anyone can read. "
            "Set PSEUDONYM_KEY to a long random secret in .env, made with: "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if settings.turn_token in PUBLIC_TURN_TOKENS:
        return (
            f"Refusing to start: {named}, but TURN_TOKEN is an example that anyone can "
            "read. Set TURN_TOKEN to a long random secret, the same for the Rasa servers and "
            "the receiver, made with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    return None


def exit_if_unsafe(settings: Settings) -> None:
    """Stop the process with a clear message when :func:`unsafe_settings` says so."""
    reason = unsafe_settings(settings)
    if reason:
        log.critical(reason)
        raise SystemExit(reason)
