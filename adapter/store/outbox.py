"""The outbox (one row per message and destination, claimed under a lease) and the national inbox's progress."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from adapter.store.base import TxBase
from adapter.store.rows import Delivery, utc_now


class OutboxTx(TxBase):
    """Deliveries, their claims, attempts and receipts (an area of :class:`~adapter.store.Tx`)."""

    def enqueue(
        self,
        msg_id: str,
        destination: str,
        fmt: str,
        content_type: str,
        body: bytes,
        *,
        recipient: str | None = None,
        patient: str | None = None,
        refs: Iterable[str] = (),
        basis: str | None = None,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        transport: str = "http",
        answer_id: str | None = None,
    ) -> bool:
        """Put a message in the outbox for ``destination``; False when it is there already (idempotent).
        ``recipient`` (HER-id), ``patient``, ``refs`` (the resources it discloses) and ``basis`` let the worker
        check, right before sending, that the recipient may still have it; ``transport`` says how it goes and
        ``answer_id`` which message id the receiver's receipt will name."""
        cursor = self._sql(
            "INSERT INTO outbox (msg_id, destination, format, content_type, body, state, attempts, "
            "next_attempt_at, created_at, recipient, patient, refs, basis, method, headers, transport, answer_id) "
            "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (msg_id, destination) DO NOTHING",
            (
                msg_id,
                destination,
                fmt,
                content_type,
                body,
                0.0,
                utc_now(),
                recipient,
                patient,
                " ".join(refs),
                basis,
                method,
                json.dumps(headers) if headers else None,
                transport,
                answer_id,
            ),
        )
        return bool(cursor.rowcount == 1)

    def withdraw(self, delivery_id: int, reason: str) -> bool:
        """Stop a delivery that has not been made: the recipient may no longer have it (state ``withdrawn``)."""
        cursor = self._sql(
            "UPDATE outbox SET state = 'withdrawn', last_error = ?, claimed_by = NULL, claimed_until = NULL "
            "WHERE id = ? AND state IN ('pending', 'dead')",
            (reason[:2000], delivery_id),
        )
        return bool(cursor.rowcount == 1)

    def deliveries_for(self, patient: str) -> list[Delivery]:
        """The deliveries of ``patient``'s data not made yet (pending or dead), oldest first."""
        rows = self._sql(_DELIVERY + "WHERE patient = ? AND state IN ('pending', 'dead') ORDER BY id", (patient,))
        return [_delivery(r) for r in rows.fetchall()]

    def claim(self, worker: str, limit: int, lease: float, now: float) -> list[Delivery]:
        """Claim up to ``limit`` due deliveries for ``lease`` seconds; a claim whose worker died runs out and the
        delivery is due again. PostgreSQL skips rows other workers hold (``FOR UPDATE SKIP LOCKED``)."""
        lock = " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""
        rows = self._sql(
            "SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "  # noqa: S608 - fixed text
            "AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?" + lock,
            (now, now, limit),
        ).fetchall()
        claimed = []
        for (row_id,) in rows:
            self._sql(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                (worker, now + lease, row_id),
            )
            found = self.delivery(int(row_id))
            if found:
                claimed.append(found)
        return claimed

    def renew(self, delivery_id: int, worker: str, until: float) -> bool:
        """Extend ``worker``'s claim on a pending delivery to ``until``, right before it is posted; False when the
        claim is no longer the worker's (its lease ran out and another worker claimed it, or it was delivered):
        then the worker must not post it, or the receiver would get it twice."""
        cursor = self._sql(
            "UPDATE outbox SET claimed_until = ? WHERE id = ? AND claimed_by = ? AND state = 'pending'",
            (until, delivery_id, worker),
        )
        return bool(cursor.rowcount == 1)

    def delivery(self, delivery_id: int) -> Delivery | None:
        """One outbox row."""
        row = self._sql(_DELIVERY + "WHERE id = ?", (delivery_id,)).fetchone()
        return _delivery(row) if row else None

    def deliveries(self, state: str | None = None, limit: int = 1000) -> list[Delivery]:
        """Outbox rows (in ``state`` when given), oldest first."""
        if state is None:
            return [_delivery(r) for r in self._sql(_DELIVERY + "ORDER BY id LIMIT ?", (limit,)).fetchall()]
        rows = self._sql(_DELIVERY + "WHERE state = ? ORDER BY id LIMIT ?", (state, limit)).fetchall()
        return [_delivery(r) for r in rows]

    def delivered(self, delivery_id: int, worker: str, remote_id: str | None = None) -> None:
        """The receiver (or the national message service, which gave it ``remote_id``) took it; only the worker
        holding the claim may say so."""
        self._sql(
            "UPDATE outbox SET state = 'delivered', delivered_at = ?, claimed_by = NULL, claimed_until = NULL, "
            "last_error = NULL, remote_id = COALESCE(?, remote_id) WHERE id = ? AND claimed_by = ?",
            (utc_now(), remote_id, delivery_id, worker),
        )

    def record_receipt(
        self, answer_id: str, recipients: Iterable[str], status: str, errors: Iterable[str], at: str
    ) -> tuple[list[int], list[int]]:
        """The application receipt of one of ``recipients`` (HER-ids) for the message ``answer_id`` arrived: it
        completes the deliveries it answers (the first receipt counts; a later one changes nothing). Returns the ids
        of the deliveries it answers (empty: none of ours) and of those it completed (empty: they had theirs)."""
        found = [str(r) for r in recipients]
        if not found:
            return [], []
        marks = ", ".join("?" for _ in found)
        rows = self._sql(
            f"SELECT id FROM outbox WHERE answer_id = ? AND recipient IN ({marks}) ORDER BY id",  # noqa: S608
            (answer_id, *found),
        ).fetchall()
        ids = [int(row[0]) for row in rows]
        completed = []
        for delivery_id in ids:
            cursor = self._sql(
                "UPDATE outbox SET receipt_status = ?, receipt_errors = ?, receipt_at = ? "
                "WHERE id = ? AND receipt_status IS NULL",
                (status, " ".join(errors), at, delivery_id),
            )
            if cursor.rowcount == 1:
                completed.append(delivery_id)
        return ids, completed

    def remote_state(self, delivery_id: int, status: str) -> None:
        """The message service's transport state of a delivered message (e.g. Unconfirmed, Acknowledged)."""
        self._sql("UPDATE outbox SET remote_status = ? WHERE id = ?", (status[:200], delivery_id))

    def inbox_state(self, remote_id: str) -> str | None:
        """How far a message fetched from the national message service got (None: not yet processed)."""
        row = self._sql("SELECT state FROM nhn_inbox WHERE remote_id = ?", (remote_id,)).fetchone()
        return str(row[0]) if row else None

    def set_inbox_state(self, remote_id: str, receiver: str, sender: str, state: str) -> None:
        """Record how far a fetched message got (``answered``, ``read``)."""
        self._sql(
            "INSERT INTO nhn_inbox (remote_id, receiver, sender, state, updated) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (remote_id) DO UPDATE SET state = excluded.state, updated = excluded.updated",
            (remote_id, receiver, sender, state, utc_now()),
        )

    def awaiting_receipt(self, transport: str | None = None, limit: int = 100) -> list[Delivery]:
        """Delivered messages whose receipt has not come (over ``transport`` when given), oldest first."""
        where = "WHERE state = 'delivered' AND receipt_status IS NULL AND answer_id IS NOT NULL "
        args: list[Any] = []
        if transport is not None:
            where += "AND transport = ? "
            args.append(transport)
        rows = self._sql(_DELIVERY + where + "ORDER BY id LIMIT ?", (*args, limit)).fetchall()
        return [_delivery(r) for r in rows]

    def failed(self, delivery_id: int, worker: str, error: str, next_attempt_at: float, dead: bool) -> None:
        """An attempt failed: try again at ``next_attempt_at``, or give up (``dead``: the dead-letter state)."""
        self._sql(
            "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?, claimed_by = NULL, "
            "claimed_until = NULL WHERE id = ? AND claimed_by = ?",
            ("dead" if dead else "pending", error[:2000], next_attempt_at, delivery_id, worker),
        )

    def retry(self, delivery_id: int) -> bool:
        """Put a dead or withdrawn delivery back in the queue with fresh attempts (an operator's decision: a
        withdrawn one is checked again before it goes, so it goes only if its recipient may have it now)."""
        cursor = self._sql(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0, claimed_by = NULL, "
            "claimed_until = NULL WHERE id = ? AND state IN ('dead', 'withdrawn')",
            (delivery_id,),
        )
        return bool(cursor.rowcount == 1)


_DELIVERY = (
    "SELECT id, msg_id, destination, format, content_type, body, state, attempts, next_attempt_at, last_error, "
    "recipient, patient, refs, basis, method, headers, transport, answer_id, remote_id, receipt_status, "
    "receipt_errors, receipt_at, delivered_at, created_at, remote_status FROM outbox "
)


def _delivery(row: Any) -> Delivery:
    return Delivery(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        bytes(row[5]),
        row[6],
        int(row[7]),
        row[8],
        row[9],
        row[10],
        row[11],
        tuple((row[12] or "").split()),
        row[13],
        row[14] or "POST",
        json.loads(row[15]) if row[15] else None,
        row[16] or "http",
        row[17],
        row[18],
        row[19],
        tuple((row[20] or "").split()),
        row[21],
        row[22],
        row[23],
        row[24],
    )
