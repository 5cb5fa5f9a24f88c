"""Inbound messages: what kind each was (text, button, command, media), how many times a
restarted server took it up again, and when it last did, so a message stored but not
answered when a process died is answered once after the restart.

Revision ID: 0019a
Revises: 0016a
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019a"
down_revision = "0016a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="text"))
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_inbound_status_received", ["status", "received_at"])


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_index("ix_inbound_status_received")
        batch.drop_column("claimed_at")
        batch.drop_column("attempts")
        batch.drop_column("kind")
