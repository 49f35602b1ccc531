"""The messages the service accepted, keyed by sender, format and id, with the receipt that answered each."""

from __future__ import annotations

from typing import Any

from adapter.store.base import TxBase
from adapter.store.rows import StoredMessage, utc_now


class MessagesTx(TxBase):
    """Accepted messages and their receipts (an area of :class:`~adapter.store.Tx`)."""

    def insert_message(self, sender: str, msg_id: str, fmt: str, content_type: str, body: bytes) -> bool:
        """Record an accepted message; False when (sender, format, msg_id) is already there (a duplicate)."""
        cursor = self._sql(
            "INSERT INTO messages (sender, msg_id, format, received_at, content_type, body, state) "
            "VALUES (?, ?, ?, ?, ?, ?, 'accepted') ON CONFLICT (sender, format, msg_id) DO NOTHING",
            (sender, msg_id, fmt, utc_now(), content_type, body),
        )
        return bool(cursor.rowcount == 1)

    def message(self, sender: str, fmt: str, msg_id: str, *, lock: bool = False) -> StoredMessage | None:
        """The stored message, or None. ``lock``: hold it until this transaction ends (PostgreSQL ``FOR UPDATE``;
        SQLite transactions take turns anyway), so that of two processes that both found it unanswered, the
        second waits and then sees the first one's receipt instead of processing it again."""
        row = self._sql(
            "SELECT sender, msg_id, format, state, body, content_type, receipt, receipt_type, http_status "
            "FROM messages WHERE sender = ? AND format = ? AND msg_id = ?"
            + (" FOR UPDATE" if lock and self.dialect == "postgresql" else ""),
            (sender, fmt, msg_id),
        ).fetchone()
        return _message(row) if row else None

    def message_by_id(self, msg_id: str, sender: str | None = None) -> StoredMessage | None:
        """The first stored message with this id (from ``sender`` when given), KITH before FHIR."""
        query = (
            "SELECT sender, msg_id, format, state, body, content_type, receipt, receipt_type, http_status "
            "FROM messages WHERE msg_id = ? "
        )
        if sender is None:
            row = self._sql(query + "ORDER BY format DESC, received_at LIMIT 1", (msg_id,)).fetchone()
        else:
            row = self._sql(
                query + "AND sender = ? ORDER BY format DESC, received_at LIMIT 1", (msg_id, sender)
            ).fetchone()
        return _message(row) if row else None

    def messages_in_state(self, state: str, limit: int = 100) -> list[StoredMessage]:
        """Messages waiting in ``state`` (e.g. ``accepted``: stored, not processed yet), oldest first."""
        rows = self._sql(
            "SELECT sender, msg_id, format, state, body, content_type, receipt, receipt_type, http_status "
            "FROM messages WHERE state = ? ORDER BY received_at LIMIT ?",
            (state, limit),
        ).fetchall()
        return [_message(row) for row in rows]

    def finish_message(
        self, sender: str, fmt: str, msg_id: str, state: str, receipt: bytes, receipt_type: str, http_status: int
    ) -> None:
        """Store the receipt that answers the message and its final state (``processed`` or ``rejected``)."""
        self._sql(
            "UPDATE messages SET state = ?, receipt = ?, receipt_type = ?, http_status = ? "
            "WHERE sender = ? AND format = ? AND msg_id = ?",
            (state, receipt, receipt_type, http_status, sender, fmt, msg_id),
        )


def _message(row: Any) -> StoredMessage:
    return StoredMessage(
        row[0], row[1], row[2], row[3], bytes(row[4]), row[5], bytes(row[6]) if row[6] is not None else None, *row[7:]
    )
