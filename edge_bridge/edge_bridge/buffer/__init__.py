"""Durable store-and-forward outbox (SQLite WAL)."""
from .outbox import Outbox, OutboxFull, PendingRow  # noqa: F401
