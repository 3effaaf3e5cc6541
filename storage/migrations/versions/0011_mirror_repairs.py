"""mirror repairs: conversations whose mirror a surface refused, re-mirrored once it works again

Revision ID: 0011_mirror_repairs
Revises: 0010_compliance_indexes
Create Date: 2026-12-03 06:10:00

Written by hand to mirror storage/repo_repairs.py (``MirrorRepair``). Outbox rows gain two statuses
(``parked``, ``superseded``) in the existing ``status`` column: no change there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_mirror_repairs"
down_revision = "0010_compliance_indexes"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "mirror_repairs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id", _ID, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("surface", sa.String(20), nullable=False),
        sa.Column("scope", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("conversation_id", "surface", name="uq_mirror_repair_conversation"),
    )
    op.create_index("ix_mirror_repair_scope", "mirror_repairs", ["surface", "scope"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_mirror_repair_scope", table_name="mirror_repairs")
    op.drop_table("mirror_repairs")
