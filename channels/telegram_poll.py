"""Telegram for local development, with no public address: long-poll ``getUpdates`` and post
each update to the local Rasa server's Telegram webhook with the secret header, so the very
same connector checks, stores and answers it.

    .venv/bin/python -m channels.telegram_poll            # Rasa on localhost:RASA_PORT
    .venv/bin/python -m channels.telegram_poll --delete-webhook   # if a webhook is set

Needs TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET (any value you like, locally).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import httpx
from telegram import Bot, Update
from telegram.error import Conflict, NetworkError

from bot.config import load_settings
from channels.telegram import SECRET_HEADER
from channels.telegram_send import make_bot

log = logging.getLogger(__name__)
POLL_SECONDS = 25
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


class WebhookRefused(Exception):
    """The local webhook said no for good (wrong secret, Telegram not configured)."""


async def forward(client: httpx.AsyncClient, url: str, secret: str, update: Update) -> None:
    """Post one update to the webhook as Telegram would; raise if it was not accepted."""
    reply = await client.post(url, json=update.to_dict(), headers={SECRET_HEADER: secret})
    if reply.status_code in (403, 503):
        raise WebhookRefused(f"{url} answered {reply.status_code}: check the token and secret")
    reply.raise_for_status()


async def poll(
    bot: Bot, webhook_url: str, secret: str, once: bool = False, delete_webhook: bool = False
) -> int:
    """Forward updates until stopped (or one batch with ``once``); return how many went."""
    forwarded, offset = 0, None
    async with bot, httpx.AsyncClient(timeout=30) as client:
        if delete_webhook:
            await bot.delete_webhook()
        while True:
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=0 if once else POLL_SECONDS,
                    allowed_updates=ALLOWED_UPDATES,
                )  # fmt: skip
                for update in updates:
                    await forward(client, webhook_url, secret, update)
                    offset, forwarded = update.update_id + 1, forwarded + 1
            except (NetworkError, httpx.HTTPError) as exc:
                if once:
                    raise
                log.warning("telegram poll: %s; trying again in 5 s", exc)
                await asyncio.sleep(5)
            if once:
                if offset is not None:  # tell Telegram these are done
                    await bot.get_updates(offset=offset, timeout=0)
                return forwarded


def main(argv: Sequence[str] | None = None) -> int:
    settings = load_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default=f"http://127.0.0.1:{settings.rasa_port}/webhooks/telegram/webhook",
        help="the Rasa server's Telegram webhook",
    )
    parser.add_argument(
        "--delete-webhook", action="store_true", help="remove a webhook set for this bot first"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (settings.telegram_bot_token and settings.telegram_webhook_secret):
        print("Set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first.", file=sys.stderr)
        return 2
    bot = make_bot(settings)
    print(f"Polling Telegram and posting updates to {args.url}. Ctrl-C stops.")
    try:
        asyncio.run(
            poll(bot, args.url, settings.telegram_webhook_secret, False, args.delete_webhook)
        )
    except Conflict:
        print("A webhook is set for this bot: run again with --delete-webhook.", file=sys.stderr)
        return 1
    except WebhookRefused as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
