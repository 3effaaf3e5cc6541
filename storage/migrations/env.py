"""Alembic environment: runs migrations on the connection or URL handed over by ``storage.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Run migrations online against the configured URL; ``on_version_apply`` (an attribute set by
    ``storage.migrate``) is called after each step."""
    hook = config.attributes.get("on_version_apply")
    hooks = {"on_version_apply": hook} if hook is not None else {}
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True, **hooks
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True, **hooks)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
