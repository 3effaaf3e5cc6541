"""Storage: SQLAlchemy models, the transactional repository the core uses, and migrations."""

from storage.db import Conflict, Store
from storage.repository import Repository

__all__ = ["Conflict", "Repository", "Store"]
