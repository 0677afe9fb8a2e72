"""Storage: the only layer that writes SQL (SQLAlchemy Core, SQLite or PostgreSQL)."""

from flowyard.store.db import create_db_engine, migrate, write, write_alone

__all__ = ["create_db_engine", "migrate", "write", "write_alone"]
