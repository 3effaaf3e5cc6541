"""an ordering key on journal rows, so one thread's or one sender's entries are processed in order

Revision ID: 0018_journal_order
Revises: 0017_card_fingerprints
Create Date: 2026-12-07 14:20:00

Written by hand to mirror storage/journal.py (``JournalEntry.ordering_key``). Entries that share a
source and an ordering key (a Slack channel, a WhatsApp sender, a Discord DM channel) are processed
one after another in journal order; the index finds an earlier entry of the same key still pending.
Existing rows get no key (processed as before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_journal_order"
down_revision = "0017_card_fingerprints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("journal") as batch:
        batch.add_column(sa.Column("ordering_key", sa.String(length=200), nullable=True))
    op.create_index("ix_journal_order", "journal", ["source", "ordering_key", "id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_journal_order", table_name="journal")
    with op.batch_alter_table("journal") as batch:
        batch.drop_column("ordering_key")
