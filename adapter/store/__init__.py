"""The store: messages, FHIR resources with their history, the outbox, and the audit trail.

One implementation over SQL serves both backends: SQLite (the standard library; WAL mode; the embedded default)
and PostgreSQL (psycopg 3), chosen by the URL (``sqlite:///path`` or ``postgresql://...``). Every operation runs
inside :meth:`Store.run`, one transaction per call, retried when the database connection was lost (a PostgreSQL
restart), so the service recovers without intervention. Several service processes may share one PostgreSQL: the
outbox is claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, so a claimed message is delivered by one worker and
taken over by another only when its worker died.
"""

from __future__ import annotations

from adapter.store.sql import (
    Delivery,
    Store,
    StoredMessage,
    StoredResource,
    StoreUnavailable,
    Tx,
    database_errors,
    open_store,
)

__all__ = [
    "Delivery",
    "Store",
    "StoreUnavailable",
    "StoredMessage",
    "StoredResource",
    "Tx",
    "database_errors",
    "open_store",
]
