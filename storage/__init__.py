"""Storage: SQLAlchemy models, the unit of work with its repositories the core uses, and migrations."""

from storage.db import Conflict, Store
from storage.unit_of_work import UnitOfWork

__all__ = ["Conflict", "Store", "UnitOfWork"]
