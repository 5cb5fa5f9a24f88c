"""Directory at any size: richer entries from Open Referral, search terms, a version counter.

Adds the Open Referral details (phone for dialling, other phones, description,
organisation, address, eligibility, cost, languages, accessibility, taxonomy, the
source's id), each entry's search terms and content hash, the import version that last
changed it, and the one-row ``directory_state`` table. ``hours`` and ``how_to_refer``
become text (schedules and application processes can be long), ``web`` 500 characters.
An entry's ``source`` was a file path; it becomes the file's name, as imports now name
sources, so re-importing the same file still updates its own entries.

Revision ID: 0016a
Revises: 0006
Create Date: 2026-12-01
"""

import posixpath
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0016a"
down_revision = "0013a"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.alter_column("hours", type_=sa.Text, existing_type=sa.String(200))
        batch.alter_column("how_to_refer", type_=sa.Text, existing_type=sa.String(300))
        batch.alter_column("web", type_=sa.String(500), existing_type=sa.String(300))
        batch.add_column(sa.Column("phone_dial", sa.String(20)))
        batch.add_column(sa.Column("more_phones", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("description", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("organisation", sa.String(300)))
        batch.add_column(sa.Column("address", sa.Text))
        batch.add_column(sa.Column("eligibility", sa.Text))
        batch.add_column(sa.Column("cost", sa.Text))
        batch.add_column(sa.Column("languages", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("accessibility", sa.Text))
        batch.add_column(sa.Column("taxonomy", sa.JSON, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("source_id", sa.String(300)))
        batch.add_column(sa.Column("search_terms", sa.JSON, nullable=False, server_default="{}"))
        batch.add_column(
            sa.Column("content_hash", sa.String(64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    state = op.create_table(
        "directory_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "version": 1, "changed_at": datetime.now(timezone.utc)}])
    connection = op.get_bind()
    entries = sa.table("entries", sa.column("id", sa.Integer), sa.column("source", sa.String))
    for row_id, source in connection.execute(sa.select(entries.c.id, entries.c.source)).all():
        if source and "/" in source and "://" not in source:
            connection.execute(
                entries.update()
                .where(entries.c.id == row_id)
                .values(source=posixpath.basename(source))
            )


def downgrade() -> None:
    op.drop_table("directory_state")
    with op.batch_alter_table("entries") as batch:
        for column in (
            "version", "content_hash", "search_terms", "source_id", "taxonomy", "accessibility",
            "languages", "cost", "eligibility", "address", "organisation", "description",
            "more_phones", "phone_dial",
        ):  # fmt: skip
            batch.drop_column(column)
        batch.alter_column("web", type_=sa.String(300), existing_type=sa.String(500))
        batch.alter_column("how_to_refer", type_=sa.String(300), existing_type=sa.Text)
        batch.alter_column("hours", type_=sa.String(200), existing_type=sa.Text)
