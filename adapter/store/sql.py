"""The SQL store (SQLite and PostgreSQL); see :mod:`adapter.store` for what it keeps and why."""

from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from adapter.errors import AdapterError
from adapter.store.schema import ADDED_COLUMNS, DDL

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
log = logging.getLogger(__name__)
#: How often a transaction is tried again after the connection was lost, and the pause before each try.
RECONNECT_TRIES = 30
RECONNECT_PAUSE = 0.5


@dataclass(frozen=True)
class StoredMessage:
    """A message the service accepted, and the receipt that answered it (None while being processed)."""

    sender: str
    msg_id: str
    format: str
    state: str
    body: bytes
    content_type: str
    receipt: bytes | None
    receipt_type: str | None
    http_status: int | None


@dataclass(frozen=True)
class StoredResource:
    """One version of a stored FHIR resource."""

    type: str
    id: str
    version: int
    last_updated: str
    deleted: bool
    patient: str | None
    parties: frozenset[str]
    body: dict[str, Any]
    writer: str | None = None
    #: the organisation that created it (wrote version 1)
    creator: str | None = None


@dataclass(frozen=True)
class Delivery:
    """One message to deliver to one destination."""

    id: int
    msg_id: str
    destination: str
    format: str
    content_type: str
    body: bytes
    state: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    recipient: str | None = None
    patient: str | None = None
    refs: tuple[str, ...] = ()
    basis: str | None = None
    method: str = "POST"
    headers: dict[str, str] | None = None
    transport: str = "http"
    answer_id: str | None = None
    remote_id: str | None = None
    #: the receiver's application receipt: ok, ok-with-errors or rejected (None: none yet), its error codes, when
    receipt_status: str | None = None
    receipt_errors: tuple[str, ...] = ()
    receipt_at: str | None = None
    delivered_at: str | None = None
    created_at: str | None = None
    remote_status: str | None = None


def utc_now() -> str:
    """Now in UTC as an FHIR instant with milliseconds (sorts as text)."""
    now = datetime.datetime.now(datetime.UTC)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Tx:
    """The store's operations inside one transaction (made by :meth:`Store.run`)."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _sql(self, sql: str, params: Iterable[Any] = ()) -> Any:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cursor.execute(sql, tuple(params))
        return self._cursor

    def _sql_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One statement run for each of ``rows`` (one call instead of a round trip per row where the driver can)."""
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cursor.executemany(sql, rows)

    # --- messages ---------------------------------------------------------------------------------------------

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

    # --- resources --------------------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str, version: int | None = None) -> StoredResource | None:
        """The current version (or ``version``) of a resource, deleted ones included; None when unknown."""
        if version is None:
            row = self._sql(_RESOURCE + "WHERE type = ? AND id = ? AND current = 1", (rtype, rid)).fetchone()
        else:
            row = self._sql(_RESOURCE + "WHERE type = ? AND id = ? AND version = ?", (rtype, rid, version)).fetchone()
        return _resource(row) if row else None

    def history(self, rtype: str, rid: str) -> list[StoredResource]:
        """Every version of a resource, newest first."""
        rows = self._sql(_RESOURCE + "WHERE type = ? AND id = ? ORDER BY version DESC", (rtype, rid)).fetchall()
        return [_resource(row) for row in rows]

    def lock_resource(self, rtype: str, rid: str) -> None:
        """Hold the resource ``rtype/rid`` (existing or not) until this transaction ends, so that two transactions
        writing it take turns: each reads the version the other committed (PostgreSQL runs them side by side, and
        without this both would write the same next version, and one would fail on the primary key). SQLite
        transactions take turns already (``BEGIN IMMEDIATE``). Taking it again in the same transaction is free."""
        if self.dialect == "postgresql":
            self._sql("SELECT pg_advisory_xact_lock(?, hashtext(?))", (_RESOURCE_LOCKS, f"{rtype}/{rid}"))

    def write(
        self,
        body: dict[str, Any],
        *,
        patient: str | None,
        parties: Iterable[str],
        index: Iterable[tuple[str, str]],
        writer: str | None,
        deleted: bool = False,
    ) -> StoredResource:
        """Store a new version of ``body`` (its resourceType and id say which), written by the organisation
        ``writer``; returns it with meta filled in.

        ``index`` gives the (search parameter, value) pairs of this version and ``parties`` its parties: they are
        this version's own, not added to those of earlier versions (:func:`adapter.access.parties_of`)."""
        rtype, rid = str(body["resourceType"]), str(body["id"])
        self.lock_resource(rtype, rid)
        # the current version's number and parties (its body is not needed: not read, not parsed)
        previous = self._sql(
            "SELECT version, " + _CREATOR + " FROM resources WHERE type = ? AND id = ? AND current = 1",  # noqa: S608
            (rtype, rid),
        ).fetchone()
        version = int(previous[0]) + 1 if previous else 1
        creator = previous[1] if previous else writer
        stamp = utc_now()
        all_parties = sorted(set(parties))
        body = {**body, "meta": {**body.get("meta", {}), "versionId": str(version), "lastUpdated": stamp}}
        if previous:
            # only the current row: every older version has current = 0 already (touching them all made each
            # write slower than the one before)
            self._sql("UPDATE resources SET current = 0 WHERE type = ? AND id = ? AND current = 1", (rtype, rid))
        self._sql(
            "INSERT INTO resources (type, id, version, last_updated, current, deleted, patient, parties, body, writer) "
            "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (rtype, rid, version, stamp, int(deleted), patient, _parties(all_parties), json.dumps(body), writer),
        )
        self._sql("DELETE FROM search WHERE type = ? AND id = ?", (rtype, rid))
        terms = sorted(set(index)) if not deleted else []
        if terms:
            self._sql_many(
                "INSERT INTO search (type, id, param, value) VALUES (?, ?, ?, ?)",
                [(rtype, rid, param, value) for param, value in terms],
            )
        return StoredResource(
            rtype, rid, version, stamp, deleted, patient, frozenset(all_parties), body, writer, creator
        )

    def search(
        self,
        rtype: str,
        params: Sequence[tuple[str, Sequence[str]]],
        *,
        updated: Sequence[tuple[str, str]] = (),
        party: str | None = None,
        limit: int | None = 100,
    ) -> list[StoredResource]:
        """Current, not deleted resources of ``rtype`` matching every (param, any of values), every (operator,
        instant) on lastUpdated (``>=``, ``<`` ...) and, when ``party`` is given, with that organisation among
        their parties; most recently updated first, at most ``limit`` (None: all)."""
        where: list[str] = ["type = ?", "current = 1", "deleted = 0"]
        args: list[Any] = [rtype]
        for param, values in params:
            marks = ", ".join("?" for _ in values)
            if param == "_id":
                where.append(f"id IN ({marks})")
                args.extend(values)
                continue
            where.append(f"id IN (SELECT id FROM search WHERE type = ? AND param = ? AND value IN ({marks}))")  # noqa: S608
            args.extend([rtype, param, *values])
        where.extend(_compared("last_updated", updated, args))
        if party is not None:
            where.append("parties LIKE ?")
            args.append(f"% {party} %")
        # only fixed fragments and "?" placeholders are joined here; values are always parameters
        sql = _RESOURCE + "WHERE " + " AND ".join(where) + " ORDER BY last_updated DESC, id"  # noqa: S608
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_resource(row) for row in self._sql(sql, args).fetchall()]

    def resolve(self, reference: str) -> dict[str, Any] | None:
        """The current body of the stored resource ``Type/id`` (None when unknown, deleted or not that form)."""
        rtype, _, rid = reference.partition("/")
        found = self.read(rtype, rid) if rtype and rid and "/" not in rid else None
        return found.body if found and not found.deleted else None

    def cares_for(self, org: str, patient: str) -> bool:
        """Whether ``org`` takes part in the care of ``patient``: it is party to the Patient record, or named by a
        record of the patient written by an organisation that takes part (and so on). Records an organisation
        writes on its own, or that organisations outside the care write about each other, make nobody a carer; nor
        does a Consent naming it (a permit or deny is about it, not a part in the care)."""
        return org in self.carers(patient)

    def carers(self, patient: str) -> set[str]:
        """The organisations that take part in the care of ``patient`` (see :meth:`cares_for`): from the parties
        of the Patient record, each record a carer created adds the organisations it names."""
        rows = self._sql(
            "SELECT type, parties, " + _CREATOR + " FROM resources WHERE patient = ? AND current = 1 "  # noqa: S608
            "AND deleted = 0 AND type <> 'Consent'",
            (patient,),
        ).fetchall()
        carers = {her for rtype, parties, _ in rows if rtype == "Patient" for her in parties.split()}
        records = [(set(parties.split()), creator) for rtype, parties, creator in rows if rtype != "Patient"]
        grown = True
        while grown:
            grown = False
            for parties, creator in records:
                if creator in carers and not parties <= carers:
                    carers |= parties
                    grown = True
        return carers

    def find(self, rtype: str, param: str, value: str) -> list[StoredResource]:
        """Current resources of ``rtype`` with this search value (e.g. a Patient by ``identifier``)."""
        return self.search(rtype, [(param, [value])])

    def patient_resources(self, rtype: str, patient: str) -> list[StoredResource]:
        """Current, not deleted resources of ``rtype`` that belong to ``patient`` (``Patient/<id>``)."""
        sql = _RESOURCE + "WHERE type = ? AND patient = ? AND current = 1 AND deleted = 0"
        return [_resource(row) for row in self._sql(sql, (rtype, patient)).fetchall()]

    # --- outbox -----------------------------------------------------------------------------------------------

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

    # --- audit ------------------------------------------------------------------------------------------------

    def audit(self, event: dict[str, Any]) -> int:
        """Append an AuditEvent; returns its number (the AuditEvent id is ``audit-<number>``). The columns it is
        searched by (organisation, patient, action, outcome) are read from the event itself."""
        recorded = str(event.get("recorded") or utc_now())
        org = event["agent"][0]["who"]["identifier"]["value"]
        entities = event.get("entity", [])
        patient = next((e["what"]["reference"] for e in entities if (e.get("role") or {}).get("code") == "1"), None)
        action, outcome = event["action"], event["outcome"]
        cursor = self._sql(
            "INSERT INTO audit (recorded, org, patient, action, outcome, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (recorded, org, patient, action, outcome, json.dumps(event)),
        )
        return int(cursor.fetchone()[0])

    def audits(
        self,
        *,
        patient: str | None = None,
        org: str | None = None,
        recorded: Sequence[tuple[str, str]] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many AuditEvents match, and a page of them (oldest first), filtered by patient, organisation and
        (operator, instant) on recorded."""
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        for column, value in (("patient", patient), ("org", org)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        where.extend(_compared("recorded", recorded, args))
        condition = " AND ".join(where)
        total = int(self._sql("SELECT COUNT(*) FROM audit WHERE " + condition, args).fetchone()[0])  # noqa: S608
        # oldest first: the trail only grows (reading it is audited too), so earlier pages never shift
        sql = "SELECT id, body FROM audit WHERE " + condition + " ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608
        rows = self._sql(sql, [*args, limit, offset]).fetchall()
        return total, [{**json.loads(body), "id": f"audit-{row_id}"} for row_id, body in rows]


#: The first key of the advisory locks on resources (the schema lock is 7224, in the one-key space).
_RESOURCE_LOCKS = 7225
_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
#: the writer of a resource's first version, its creator (a primary-key lookup per row read)
_CREATOR = "(SELECT f.writer FROM resources f WHERE f.type = resources.type AND f.id = resources.id AND f.version = 1)"
_RESOURCE = (
    "SELECT type, id, version, last_updated, deleted, patient, parties, body, writer, "  # noqa: S608 - fixed text
    + _CREATOR
    + " FROM resources "
)
_DELIVERY = (
    "SELECT id, msg_id, destination, format, content_type, body, state, attempts, next_attempt_at, last_error, "
    "recipient, patient, refs, basis, method, headers, transport, answer_id, remote_id, receipt_status, "
    "receipt_errors, receipt_at, delivered_at, created_at, remote_status FROM outbox "
)


def _compared(column: str, comparisons: Sequence[tuple[str, str]], args: list[Any]) -> list[str]:
    """SQL conditions ``column <op> ?`` for (operator, value) pairs (operators from a fixed set), values appended to
    ``args``."""
    conditions = []
    for operator, value in comparisons:
        if operator not in _OPERATORS:
            raise ValueError(f"unknown comparison {operator!r}")
        conditions.append(f"{column} {operator} ?")
        args.append(value)
    return conditions


def _parties(parties: Iterable[str]) -> str:
    return " " + " ".join(parties) + " "


def _message(row: Any) -> StoredMessage:
    return StoredMessage(
        row[0], row[1], row[2], row[3], bytes(row[4]), row[5], bytes(row[6]) if row[6] is not None else None, *row[7:]
    )


def _resource(row: Any) -> StoredResource:
    return StoredResource(
        row[0],
        row[1],
        int(row[2]),
        row[3],
        bool(row[4]),
        row[5],
        frozenset(row[6].split()),
        json.loads(row[7]),
        row[8],
        row[9],
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


class Store:
    """A connection per thread to the database at ``url``; :meth:`run` is the only way in."""

    def __init__(self, url: str) -> None:
        scheme = urlparse(url).scheme
        if scheme == "sqlite" and url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self.path = Path(url.removeprefix("sqlite:///"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
        elif scheme in ("postgresql", "postgres"):
            self.dialect = "postgresql"
        else:
            raise AdapterError.of("ADP-0007", url=redact(url))
        self.url = url
        self._local = threading.local()
        #: every connection opened, by the thread that uses it: :meth:`close` closes those of finished threads too
        self._opened: dict[int, Any] = {}
        self._opened_lock = threading.Lock()
        # SQLite has one writer at a time, and a connection that finds the file locked sleeps in its busy handler
        # (up to 100 ms a nap) even when the lock is free again at once; under load one process can starve another
        # that way. So writers queue instead: the threads of a process on a lock, the processes on an OS lock of
        # the file ``<database>.turn`` (flock; released by the kernel when a process dies), and each gets its turn
        # the moment the one before is done. Programs that do not queue (sqlite3 in a shell) still just wait.
        self._sqlite_turn = threading.Lock()
        if self.dialect == "sqlite":
            connection = self._connection()
            connection.executescript(DDL["sqlite"])
            for table, column, kind in ADDED_COLUMNS:  # a store made by an earlier release
                if column not in {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        else:
            self.run(lambda tx: None, schema=True)

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            return connection
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._connect()
            self._local.connection = connection
            with self._opened_lock:
                for ident in [i for i in self._opened if i not in _live_threads()]:
                    with contextlib.suppress(Exception):  # a finished thread's connection, never to be used again
                        self._opened.pop(ident).close()
                self._opened[threading.get_ident()] = connection
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        with self._opened_lock:
            self._opened.pop(threading.get_ident(), None)
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped either way
                connection.close()

    @contextmanager
    def _transaction(self, schema: bool) -> Iterator[Tx]:
        connection = self._connection()
        cursor = connection.cursor()
        if self.dialect == "sqlite":
            with self._sqlite_turn, self._process_turn():
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield Tx(cursor, self.dialect)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
        else:
            with connection.transaction():
                if schema:
                    cursor.execute("SELECT pg_advisory_xact_lock(7224)")  # one process creates the tables
                    cursor.execute(DDL["postgresql"])
                    for table, column, kind in ADDED_COLUMNS:  # a store made by an earlier release
                        cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
                yield Tx(cursor, self.dialect)

    @contextmanager
    def _process_turn(self) -> Iterator[None]:
        """This process's turn to write the SQLite file (the caller holds ``_sqlite_turn``)."""
        if fcntl is None:  # not a POSIX system: the busy handler alone
            yield
            return
        turn = os.open(f"{self.path}.turn", os.O_RDWR | os.O_CREAT, 0o600)  # closing it ends the turn too
        try:
            fcntl.flock(turn, fcntl.LOCK_EX)
            yield
        finally:
            os.close(turn)

    def run(self, work: Callable[[Tx], T], *, schema: bool = False) -> T:
        """Run ``work`` in one transaction and return its result; committed when it returns, rolled back when it
        raises. When the database connection is lost (a restart), the whole transaction is tried again on a new
        connection, for up to RECONNECT_TRIES x RECONNECT_PAUSE seconds; when PostgreSQL rolled it back to break a
        deadlock, it is tried again at once. ``work`` must therefore read what it needs through ``tx``."""
        lost = _connection_errors(self.dialect)
        conflicts = _conflict_errors(self.dialect)
        for attempt in range(RECONNECT_TRIES):
            try:
                with self._transaction(schema) as tx:
                    return work(tx)
            except lost as error:
                self._drop_connection()
                if attempt == RECONNECT_TRIES - 1:
                    raise
                log.warning("database connection lost (%s); trying the transaction again", _first_line(error))
                time.sleep(RECONNECT_PAUSE)
            except conflicts:
                # PostgreSQL broke a deadlock (or a serialization conflict) by rolling this transaction back;
                # run it again after a short random pause, on the same connection
                if attempt == RECONNECT_TRIES - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.1))  # noqa: S311 - jitter, not cryptography
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connection and those of threads that have finished (at shutdown: all of them)."""
        self._drop_connection()
        with self._opened_lock:
            for ident in [i for i in self._opened if i not in _live_threads()]:
                with contextlib.suppress(Exception):
                    self._opened.pop(ident).close()


def _live_threads() -> set[int]:
    """The idents of the threads that are running."""
    return {thread.ident for thread in threading.enumerate() if thread.ident is not None}


def _connection_errors(dialect: str) -> tuple[type[BaseException], ...]:
    if dialect == "sqlite":
        return ()  # an embedded file does not go away; its busy timeout covers other writers
    import psycopg

    return (psycopg.OperationalError, psycopg.errors.AdminShutdown)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"[:200]


def _conflict_errors(dialect: str) -> tuple[type[BaseException], ...]:
    if dialect == "sqlite":
        return ()
    import psycopg

    return (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


def redact(url: str) -> str:
    """``url`` with its password (if any) replaced by ***, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(parsed.password, "***")
    return url


def open_store(url: str) -> Store:
    """The store at ``url`` (``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host/db``), tables created."""
    return Store(url)
