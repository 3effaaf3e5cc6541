"""automation and teamwork: contact notes, canned templates, CSAT ratings, surface redactions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:50:00

Written by hand to mirror storage/models.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "contact_notes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("contact_id", _ID, nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_contact_notes_contact_id", "contact_notes", ["contact_id"], unique=False)
    op.create_table(
        "canned_templates",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "csat_ratings",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("inbox", sa.String(length=100), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
    )
    op.create_index("ix_csat_created", "csat_ratings", ["created_at", "inbox"], unique=False)
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


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_redactions_status", table_name="redactions")
    op.drop_table("redactions")
    op.drop_index("ix_csat_created", table_name="csat_ratings")
    op.drop_table("csat_ratings")
    op.drop_table("canned_templates")
    op.drop_index("ix_contact_notes_contact_id", table_name="contact_notes")
    op.drop_table("contact_notes")
