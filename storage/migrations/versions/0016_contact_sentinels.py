"""a client-made uid on contacts and contact identities, so a batch of new ones is one INSERT

Revision ID: 0016_contact_sentinels
Revises: 0011_mirror_repairs
Create Date: 2026-12-03 06:10:00

Written by hand to mirror storage/models.py (``Contact.uid``, ``ContactIdentity.uid``). The
ORM writes many rows in one INSERT ... RETURNING only when a column tells the returned ids
apart ("insert sentinel"); without one, every new contact of an ingest batch, and each of its
identities, was a statement (a round trip on PostgreSQL) of its own. Existing rows get random uids.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_contact_sentinels"
down_revision = "0011_mirror_repairs"
branch_labels = None
depends_on = None

_TABLES = ("contacts", "contact_identities")


def upgrade() -> None:
    """Apply this revision."""
    random_hex = (
        "lower(hex(randomblob(16)))"
        if op.get_bind().dialect.name == "sqlite"
        else "md5(random()::text || clock_timestamp()::text || id::text)"
    )
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
        op.execute(f"UPDATE {table} SET uid = {random_hex}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("uid", existing_type=sa.String(length=32), nullable=False)
            batch_op.create_unique_constraint(f"uq_{table}_uid", ["uid"])


def downgrade() -> None:
    """Revert this revision."""
    for table in reversed(_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_uid", type_="unique")
            batch_op.drop_column("uid")
