"""Outbox worker: claims, kinds, provider ids of any length; contacts' last inbound time.

- ``outbox.provider_id`` becomes Text: an SMTP Message-ID is about 67 characters.
- ``outbox.claim_token`` / ``claimed_at``: which worker holds a message, since when.
- ``outbox.kind``: what a message is (reply, case_update, service, safeguarding, alert...),
  so service and safeguarding messages never die and WhatsApp can pick a template.
- ``outbox.person``: whose conversation a message is about, so erasure reaches it.
- ``outbox.case_reference``: the case a service notification is for (sent on delivery).
- ``outbox.buttons``: a reply's options, sent as a Telegram inline keyboard.
- ``outbox.alerted_at``: when operations staff were told the message needs them.
- ``contacts.last_inbound_at``: when the person last wrote (WhatsApp's 24-hour rule).

Revision ID: 0014b
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0014b"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "provider_id", existing_type=sa.String(64), type_=sa.Text(), existing_nullable=True
        )
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="message"))
        batch.add_column(sa.Column("person", sa.String(128)))
        batch.add_column(sa.Column("case_reference", sa.String(16)))
        batch.add_column(sa.Column("buttons", sa.JSON))
        batch.add_column(sa.Column("claim_token", sa.String(32)))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("alerted_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_outbox_person", ["person"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("last_inbound_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("last_inbound_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_person")
        for column in (
            "alerted_at", "claimed_at", "claim_token", "buttons", "case_reference", "person",
            "kind",
        ):  # fmt: skip
            batch.drop_column(column)
        batch.alter_column(
            "provider_id", existing_type=sa.Text(), type_=sa.String(64), existing_nullable=True
        )
