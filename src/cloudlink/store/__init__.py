"""The organisation's data: models, the database and its migrations (SQLite or PostgreSQL)."""

from cloudlink.store.database import Database
from cloudlink.store.models import Base

__all__ = ["Base", "Database"]
