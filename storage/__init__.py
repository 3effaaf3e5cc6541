"""Storage: SQLAlchemy models, the transactional repository the core uses, and migrations."""

from storage.db import Store
from storage.repository import Repository

__all__ = ["Repository", "Store"]
