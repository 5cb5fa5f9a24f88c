"""Tell families who gave related feedback, and agreed to hear back, what changed."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.feedback.store import latest_items, publish, related_feedback
from bot.notify.outbox import YOU_SAID, enqueue

PUSH_CHANNELS = ("sms", "telegram", "whatsapp")


def notice_text(you_said: str, we_did: str) -> str:
    return f"You said: {you_said}\nWe did: {we_did}\nThank you for telling us."


def audience(engine: Engine, service_key: str | None, theme: str | None) -> tuple[int, int]:
    """How many families an item would message on their channel, and how many could only
    see it by asking (the same count ``publish_and_notify`` makes)."""
    related = related_feedback(engine, service_key, theme)
    told = sum(1 for r in related if r.channel in PUSH_CHANNELS and r.conversation_id)
    return told, len(related) - told


def publish_and_notify(
    engine: Engine, you_said: str, we_did: str, service_key: str | None, theme: str | None
) -> tuple[int, int, int]:
    """Publish an item; message each consenting family once on their channel.

    Returns the item id, how many were messaged, and how many could not be (web chat
    has no way to send a message later; they see it when they ask "what has changed?").
    """
    item_id, related = publish(engine, you_said, we_did, service_key, theme)
    told = unreachable = 0
    for row in related:
        if row.channel in PUSH_CHANNELS and row.conversation_id:
            enqueue(
                engine,
                str(row.channel),
                str(row.conversation_id),
                notice_text(you_said, we_did),
                dedupe_key=f"you-said:{item_id}:{row.id}",
                kind=YOU_SAID,
            )
            told += 1
        else:
            unreachable += 1
    return item_id, told, unreachable


def latest_text(engine: Engine, limit: int = 3) -> str:
    """The newest "You said, we did" items in easy-read, for "what has changed?"."""
    items = latest_items(engine, limit)
    if not items:
        return "Nothing has been published yet. Your feedback helps us change things."
    lines = ["Here is what changed because of feedback:"]
    for item in items:
        lines.append(f"You said: {item.you_said} We did: {item.we_did}")
    return "\n".join(lines)
