"""Feedback records and "You said, we did" items.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("dedupe_key", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("service_key", sa.String(64), nullable=False, index=True),
        sa.Column("rating", sa.Integer),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("themes", sa.JSON, nullable=False),
        sa.Column("consent", sa.Boolean, nullable=False),
        sa.Column("consent_wording", sa.Text),
        sa.Column("consent_at", sa.DateTime(timezone=True)),
        sa.Column("sender", sa.String(128), index=True),
        sa.Column("conversation_id", sa.String(128), index=True),
    )
    op.create_table(
        "you_said_we_did",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("service_key", sa.String(64)),
        sa.Column("theme", sa.String(64)),
        sa.Column("you_said", sa.Text, nullable=False),
        sa.Column("we_did", sa.Text, nullable=False),
    )
    op.create_table(
        "you_said_we_did_notices",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("you_said_we_did.id"), primary_key=True),
        sa.Column(
            "feedback_id",
            sa.Integer,
            sa.ForeignKey("feedback.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("you_said_we_did_notices")
    op.drop_table("you_said_we_did")
    op.drop_table("feedback")
