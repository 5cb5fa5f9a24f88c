"""The Who's Who directory: needs, entries and which needs each entry helps with.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "needs",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("synonyms", sa.JSON, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("age_min", sa.Integer, nullable=False),
        sa.Column("age_max", sa.Integer, nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("email", sa.String(200)),
        sa.Column("web", sa.String(300)),
        sa.Column("hours", sa.String(200)),
        sa.Column("how_to_refer", sa.String(300)),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("sample_data", sa.Boolean, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "entry_needs",
        sa.Column(
            "entry_id",
            sa.Integer,
            sa.ForeignKey("entries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "need_key",
            sa.String(64),
            sa.ForeignKey("needs.key", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("rank", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("entry_needs")
    op.drop_table("entries")
    op.drop_table("needs")
