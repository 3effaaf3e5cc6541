"""messages.chat_ref: the team-side chat message a note or reply was typed as

Revision ID: 0015_chat_intake
Revises: 0016_contact_sentinels
Create Date: 2026-12-03 06:00:00

Written by hand to mirror storage/models.py (``Message.chat_ref``). An agent editing or
deleting the chat message of a note, or of a reply still inside its undo window, is found
through this column (indexed: one lookup per edit event).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_chat_intake"
down_revision = "0016_contact_sentinels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chat_ref", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_messages_chat_ref", ["chat_ref"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_chat_ref")
        batch_op.drop_column("chat_ref")
