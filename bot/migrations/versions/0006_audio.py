"""Speech: the index of cached audio files (the files are under AUDIO_DIR).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "speech_audio",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("engine", sa.String(16), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("voice", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("filename", sa.String(80), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("speech_audio")
