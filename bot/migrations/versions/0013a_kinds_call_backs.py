"""Feedback has a kind (feedback or praise); call-back requests keep the family's consent.

Revision ID: 0013a
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013a"
down_revision = "0012a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feedback") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(16), nullable=False, server_default="feedback")
        )
    op.create_table(
        "call_backs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), unique=True
        ),
        sa.Column("sender", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("consent_wording", sa.Text, nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("call_backs")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("kind")
