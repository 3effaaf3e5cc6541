"""sla clocks, reminders sent, digest runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:15:00

Written by hand to mirror storage/models.py: SLA columns and indexes on
conversations, the ``reminders_sent`` table (exactly-once reminders) and the
``digest_runs`` table (a missed digest is sent once).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("first_response_due", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_response_due", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_due", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_next_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_state", sa.String(length=10), nullable=False, server_default="ok"))
        batch_op.add_column(sa.Column("sla_clock", sa.JSON(), nullable=True))
        batch_op.create_index("ix_conversations_sla_next", ["sla_next_at"], unique=False)
        batch_op.create_index("ix_conversations_status_sla", ["status", "sla_state"], unique=False)
        batch_op.create_index("ix_conversations_status_waiting", ["status", "waiting_since"], unique=False)
        batch_op.create_index(
            "ix_conversations_inbox_status", ["inbox", "status", "sla_state", "assignee_id"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_inbox_created", ["inbox", "created_at", "channel"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_inbox_closed", ["inbox", "closed_at", "channel", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_inbox_responded",
            ["inbox", "first_response_at", "channel", "created_at"],
            unique=False,
        )

    op.create_table(
        "reminders_sent",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("target", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id", "target", "level", name="uq_reminder_once"),
    )
    with op.batch_alter_table("reminders_sent", schema=None) as batch_op:
        batch_op.create_index("ix_reminders_level_due", ["level", "due_at", "conversation_id"], unique=False)

    op.create_table(
        "digest_runs",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "period_end", name="uq_digest_run"),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("digest_runs")
    with op.batch_alter_table("reminders_sent", schema=None) as batch_op:
        batch_op.drop_index("ix_reminders_level_due")
    op.drop_table("reminders_sent")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_inbox_responded")
        batch_op.drop_index("ix_conversations_inbox_closed")
        batch_op.drop_index("ix_conversations_inbox_created")
        batch_op.drop_index("ix_conversations_inbox_status")
        batch_op.drop_index("ix_conversations_status_waiting")
        batch_op.drop_index("ix_conversations_status_sla")
        batch_op.drop_index("ix_conversations_sla_next")
        batch_op.drop_column("sla_clock")
        batch_op.drop_column("sla_state")
        batch_op.drop_column("sla_next_at")
        batch_op.drop_column("resolution_due")
        batch_op.drop_column("next_response_due")
        batch_op.drop_column("first_response_due")
        batch_op.drop_column("waiting_since")
