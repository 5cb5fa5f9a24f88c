"""Staff console: a password an admin reset must be changed at the next login.

Revision ID: 0019d
Revises: 0019a
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0019d"
down_revision = "0019a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.add_column(
            sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("password_changed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("staff_accounts") as batch:
        batch.drop_column("password_changed_at")
        batch.drop_column("must_change_password")
