"""What the store hands out: messages, resource versions and deliveries as frozen rows, and the store's clock.

Kept apart from the SQL so that callers (and each area of :class:`~adapter.store.Tx`) share one definition.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


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
