"""Only the person is the person: Rasa's REST channel is open in development only (or to
the holder of REST_TOKEN), a request body never names its own input channel, and the
servers refuse to start with real Twilio or Telegram credentials and a public key."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import DEV_PSEUDONYM_KEY, PROJECT_ROOT, exit_if_unsafe, load_settings
from bot.config import unsafe_settings as unsafe
from channels.rest import REFUSED, GuardedRestInput
from tests.sanic_asgi import StubTurn, serve

WEBHOOK = "/webhooks/rest/webhook"
TOKEN = "a-long-random-rest-token"
STRONG_KEY = "0f" * 32


def rest(app_env: str, token: str = "") -> GuardedRestInput:
    settings = dataclasses.replace(load_settings(), app_env=app_env, rest_token=token)
    return GuardedRestInput(settings)


def post_all(channel: GuardedRestInput, requests: list[dict]) -> tuple[list[int], StubTurn]:
    turn = StubTurn()

    async def main() -> list[int]:
        async with serve([channel], turn) as client:
            assert (await client.get("/webhooks/rest/")).json() == {"status": "ok"}
            codes = []
            for request in requests:
                reply = await client.post(WEBHOOK, **request)
                if reply.status_code == 401:
                    assert reply.json() == {"message": REFUSED}
                    assert reply.headers["www-authenticate"] == "Bearer"
                else:
                    assert [m["text"] for m in reply.json()] == [turn.answer]
                codes.append(reply.status_code)
            return codes

    return asyncio.run(main()), turn


BODY = {"sender": "sms-0123456789abcdef", "message": "any news on my case?"}


def test_in_development_anyone_on_the_machine_may_use_it():
    codes, turn = post_all(rest("development"), [{"json": BODY}])
    assert codes == [200] and turn.senders == [BODY["sender"]]


def test_in_production_it_needs_the_token():
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    codes, turn = post_all(
        rest("production", TOKEN),
        [
            {"json": BODY},
            {"json": BODY, "headers": {"Authorization": "Bearer not-the-token"}},
            {"json": BODY, "headers": {"Authorization": f"Basic {TOKEN}"}},
            {"json": BODY, "headers": {"Authorization": TOKEN}},
            {"json": BODY, "headers": bearer},
            {"json": BODY, "headers": {"authorization": f"bearer {TOKEN}"}},
        ],
    )
    assert codes == [401, 401, 401, 401, 200, 200]
    assert turn.senders == [BODY["sender"]] * 2


@pytest.mark.parametrize("app_env", ["production", "staging", ""])
def test_with_no_token_set_it_is_closed_outside_development(app_env):
    empty = {"Authorization": "Bearer "}
    codes, turn = post_all(rest(app_env), [{"json": BODY}, {"json": BODY, "headers": empty}])
    assert codes == [401, 401] and turn.messages == []


def test_the_body_never_chooses_the_input_channel():
    forged = {**BODY, "input_channel": "telegram"}
    _codes, turn = post_all(rest("development"), [{"json": forged}])
    assert [m.input_channel for m in turn.messages] == ["rest"]


def test_app_env_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "Development")
    monkeypatch.setenv("REST_TOKEN", TOKEN)
    settings = load_settings(Path("/nonexistent/.env"))
    assert settings.development and settings.rest_token == TOKEN
    monkeypatch.delenv("APP_ENV")
    assert not load_settings(Path("/nonexistent/.env")).development  # production by default


# --- real credentials never meet a key anyone can read ------------------------------


def settings(**values: str):
    return dataclasses.replace(load_settings(Path("/nonexistent/.env")), **values)


@pytest.mark.parametrize(
    "credentials",
    [
        {"twilio_auth_token": "real"},
        {"twilio_account_sid": "AC" + "1" * 32},
        {"telegram_bot_token": "123:abc"},
    ],
)
@pytest.mark.parametrize("key", [DEV_PSEUDONYM_KEY, "change-me-to-a-long-random-secret"])
def test_real_credentials_with_a_public_key_refuse_to_start(credentials, key):
    reason = unsafe(settings(pseudonym_key=key, **credentials))
    assert reason is not None and reason.startswith("Refusing to start: ")
    assert "PSEUDONYM_KEY" in reason and "secrets.token_hex(32)" in reason
    with pytest.raises(SystemExit, match="Refusing to start"):
        exit_if_unsafe(settings(pseudonym_key=key, **credentials))


def test_a_secret_key_or_no_credentials_start():
    assert unsafe(settings(pseudonym_key=STRONG_KEY, twilio_auth_token="t")) is None
    assert unsafe(settings(pseudonym_key=DEV_PSEUDONYM_KEY)) is None
    exit_if_unsafe(settings(pseudonym_key=STRONG_KEY, telegram_bot_token="123:abc"))


def test_the_rasa_server_itself_refuses_with_a_clear_message(tmp_path):
    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")  # the channels are made before the model is read
    env = {
        **os.environ, "TWILIO_AUTH_TOKEN": "real", "TELEGRAM_BOT_TOKEN": "123:abc",
        "PSEUDONYM_KEY": DEV_PSEUDONYM_KEY, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
    }  # fmt: skip
    rasa = str(Path(sys.executable).parent / "rasa")
    finished = subprocess.run(  # noqa: S603
        [rasa, "run", "--model", str(model), "--credentials", "credentials.yml", "--port", "1"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert finished.returncode == 1
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "Refusing to start: TWILIO_AUTH_TOKEN and TELEGRAM_BOT_TOKEN are set, but PSEUDONYM_KEY"
    )


def test_the_outbox_worker_refuses_too(tmp_path):
    env = {
        **os.environ, "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "real",
        "PSEUDONYM_KEY": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
    }  # fmt: skip
    finished = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bot", "outbox", "run"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert finished.returncode == 1
    assert (
        finished.stderr.strip()
        .splitlines()[-1]
        .startswith("Refusing to start: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set")
    )
    assert not (tmp_path / "app.db").exists()  # stopped before touching anything
