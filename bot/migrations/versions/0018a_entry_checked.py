"""Directory: when each entry was last checked, and by whom (a role, not a name).

Revision ID: 0018a
Revises: 0006
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0018a"
down_revision = "0015a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("last_checked", sa.Date))
        batch.add_column(sa.Column("checked_by", sa.String(120)))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("checked_by")
        batch.drop_column("last_checked")
