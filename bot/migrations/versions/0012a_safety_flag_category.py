"""Safety flags: the safeguarding category whose help was given first.

Revision ID: 0012a
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012a"
down_revision = "0018a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("safety_flags") as batch:
        batch.add_column(sa.Column("category", sa.String(48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_flags") as batch:
        batch.drop_column("category")
