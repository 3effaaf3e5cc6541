"""per-part send records of outbound messages, and the rate-limit waits of outbox rows

Revision ID: 0012_send_records
Revises: 0015_chat_intake
Create Date: 2026-12-03 06:30:00

Written by hand to mirror storage/repo_sends.py (``SendRecordRow``, ``OutboxWaitRow``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_send_records"
down_revision = "0015_chat_intake"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "send_records",
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "part"),
    )
    op.create_table(
        "outbox_waits",
        sa.Column("outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("rate_limits", sa.Integer(), nullable=False),
        sa.Column("limited_since", sa.DateTime(), nullable=False),
        sa.Column("queued_notice_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("outbox_id"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("outbox_waits")
    op.drop_table("send_records")
