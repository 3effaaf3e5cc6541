"""card fingerprints in their own table, out of channel_cursors

Revision ID: 0017_card_fingerprints
Revises: 0013_one_way_out
Create Date: 2026-12-03 13:00:00

Written by hand to mirror storage/repo_cards.py (``CardFingerprintRow``). The fingerprint of
the card last sent was a channel cursor keyed ``card:<surface>:<conversation id>``; those rows
move to ``card_fingerprints`` (rows of conversations that no longer exist are dropped: the
table's foreign key deletes them with their conversation from now on). Downgrading moves them back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_card_fingerprints"
down_revision = "0013_one_way_out"
branch_labels = None
depends_on = None

_PREFIX = "card:"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "card_fingerprints",
        sa.Column("surface", sa.String(length=40), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("surface", "conversation_id"),
    )
    bind = op.get_bind()
    cursors = bind.execute(
        sa.text("SELECT key, value, updated_at FROM channel_cursors WHERE key LIKE 'card:%'")
    ).all()
    stored = {int(i) for (i,) in bind.execute(sa.text("SELECT id FROM conversations")).all()}
    rows = []
    for key, value, updated_at in cursors:
        surface, _, number = str(key)[len(_PREFIX) :].rpartition(":")
        if surface and len(surface) <= 40 and number.isdigit() and int(number) in stored and len(value) <= 64:
            rows.append({"s": surface, "c": int(number), "f": value, "u": updated_at})
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO card_fingerprints (surface, conversation_id, fingerprint, updated_at)"
                " VALUES (:s, :c, :f, :u)"
            ),
            rows,
        )
    bind.execute(sa.text("DELETE FROM channel_cursors WHERE key LIKE 'card:%'"))


def downgrade() -> None:
    """Revert this revision."""
    op.execute(
        "INSERT INTO channel_cursors (key, value, updated_at)"
        " SELECT 'card:' || surface || ':' || CAST(conversation_id AS VARCHAR(20)), fingerprint, updated_at"
        " FROM card_fingerprints"
    )
    op.drop_table("card_fingerprints")
