"""one way out: redactions and digests become outbox rows; the redactions table goes

Revision ID: 0013_one_way_out
Revises: 0012_send_records
Create Date: 2026-12-03 06:05:00

Written by hand to mirror storage/models.py (``OutboxRow``). Everything that reaches a
platform now leaves through the outbox (docs/architecture.md, "One way out"):

- a redaction (a forgotten contact's mirrored post to delete) is an outbox row of kind
  ``redact`` in its conversation's line; pending rows of the old ``redactions`` queue move
  there (their conversation is found through the thread they were posted in; a row whose
  thread is no longer known cannot be deleted by anyone and is dropped), then the table goes;
- a digest is an outbox row of kind ``digest`` that belongs to no conversation, so
  ``outbox.conversation_id`` may be NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_one_way_out"
down_revision = "0012_send_records"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_OUTBOX = sa.table(
    "outbox",
    sa.column("conversation_id"),
    sa.column("destination"),
    sa.column("kind"),
    sa.column("payload", sa.JSON),
    sa.column("status"),
    sa.column("attempts"),
    sa.column("next_attempt_at"),
    sa.column("last_error"),
    sa.column("created_at"),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=_ID, nullable=True)
    bind = op.get_bind()
    pending = bind.execute(
        sa.text(
            "SELECT t.conversation_id, r.surface, r.chat_channel, r.thread_id, r.item_id, r.attempts,"
            " r.last_error, r.created_at FROM redactions r JOIN threads t"
            " ON t.surface = r.surface AND t.thread_id = r.thread_id AND t.chat_channel = r.chat_channel"
            " WHERE r.status = 'pending' ORDER BY r.id"
        )
    ).all()
    rows = [
        {
            "conversation_id": conversation_id,
            "destination": f"surface:{surface}",
            "kind": "redact",
            "payload": {"chat_channel": chat_channel, "thread_id": thread_id, "item_id": item_id},
            "status": "pending",
            "attempts": attempts,
            "next_attempt_at": created_at,
            "last_error": last_error,
            "created_at": created_at,
        }
        for conversation_id, surface, chat_channel, thread_id, item_id, attempts, last_error, created_at in pending
    ]
    if rows:
        op.bulk_insert(_OUTBOX, rows)
    op.drop_index("ix_redactions_status", table_name="redactions")
    op.drop_table("redactions")


def downgrade() -> None:
    """Revert this revision: pending ``redact`` rows go back to their own table, digest rows are dropped."""
    op.create_table(
        "redactions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("surface", sa.String(length=20), nullable=False),
        sa.Column("chat_channel", sa.String(length=100), nullable=False),
        sa.Column("thread_id", sa.String(length=100), nullable=False),
        sa.Column("item_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_redactions_status", "redactions", ["status", "id"], unique=False)
    bind = op.get_bind()
    outbox = sa.table(
        "outbox",
        sa.column("id"),
        sa.column("destination"),
        sa.column("kind"),
        sa.column("payload", sa.JSON),
        sa.column("status"),
        sa.column("attempts"),
        sa.column("last_error"),
        sa.column("created_at"),
    )
    pending = bind.execute(
        sa.select(
            outbox.c.destination,
            outbox.c.payload,
            outbox.c.attempts,
            outbox.c.last_error,
            outbox.c.created_at,
        )
        .where(outbox.c.kind == "redact", outbox.c.status == "pending")
        .order_by(outbox.c.id)
    ).all()
    redactions = sa.table(
        "redactions",
        sa.column("surface"),
        sa.column("chat_channel"),
        sa.column("thread_id"),
        sa.column("item_id"),
        sa.column("status"),
        sa.column("attempts"),
        sa.column("last_error"),
        sa.column("created_at"),
    )
    rows = [
        {
            "surface": str(destination).partition(":")[2],
            "chat_channel": payload.get("chat_channel", ""),
            "thread_id": payload.get("thread_id", ""),
            "item_id": payload.get("item_id", ""),
            "status": "pending",
            "attempts": attempts,
            "last_error": last_error,
            "created_at": created_at,
        }
        for destination, payload, attempts, last_error, created_at in pending
    ]
    if rows:
        op.bulk_insert(redactions, rows)
    bind.execute(sa.text("DELETE FROM outbox WHERE kind IN ('redact', 'digest') OR conversation_id IS NULL"))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("conversation_id", existing_type=_ID, nullable=False)
