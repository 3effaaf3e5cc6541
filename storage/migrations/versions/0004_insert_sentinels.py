"""insert sentinels: outbox and audit rows can be inserted many per statement

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:40:00

An ingest batch writes an outbox row and an audit row per message. SQLAlchemy can
insert such rows many per statement and still match the returned ids to the
objects only when the table has a column it fills in itself (an insert sentinel);
without one, SQLite gets one INSERT per row. Written by hand to mirror storage/models.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLES = ("outbox", "audit_events")


def upgrade() -> None:
    """Apply this revision."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("_sentinel", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("_sentinel")
