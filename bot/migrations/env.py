"""Alembic environment: runs migrations on the connection handed in by bot.db.upgrade."""

from alembic import context

from bot import contacts, safety_log  # noqa: F401  (registers the tables)
from bot.db import Base
from bot.directory import models  # noqa: F401
from bot.feedback import store as feedback_store  # noqa: F401
from bot.notify import outbox  # noqa: F401
from bot.routing import callbacks, cases  # noqa: F401
from bot.speech import cache as speech_cache  # noqa: F401
from bot.staff import accounts, audit, directory_edit  # noqa: F401

connection = context.config.attributes.get("connection")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
