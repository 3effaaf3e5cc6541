"""indexes for the report's real predicates: the audit trail by time and action

Revision ID: 0010_compliance_indexes
Revises: 0005
Create Date: 2026-12-02 20:05:00

Written by hand to mirror storage/models.py (``AuditEvent``). Per-agent report counts
filter the audit trail by ``created_at`` range and ``action``; without this index every
report scanned the whole trail. (SLA compliance needs no new index: storage/stats.py
reads it from the existing ``(level, due_at, conversation_id)`` and per-inbox indexes.)
"""

from __future__ import annotations

from alembic import op

revision = "0010_compliance_indexes"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_created_action", ["created_at", "action", "actor", "conversation_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_created_action")
