"""The store's tables, written once for SQLite and PostgreSQL (the few differences are in :data:`DDL`).

* ``messages``: every message the service accepted (inbound, either format), keyed by the sending organisation,
  the format and the message id (MsgId / MessageHeader.id), with the receipt that answered it. A duplicate is
  answered from here and never processed twice.
* ``resources``: every version of every stored FHIR resource (``_history``); ``current`` marks the latest.
  ``patient`` is the ``Patient/<id>`` the resource belongs to, ``parties`` the HER-ids of the organisations that
  are party to that version (space separated, with a space at each end so ``LIKE '% 123 %'`` finds one), ``writer``
  the HER-id of the organisation that wrote it (the writer of version 1 created the resource).
* ``search``: one row per search parameter value of the current version of a resource.
* ``outbox``: one row per message to deliver to one destination, with its attempts, lease and state
  (``pending``, ``delivered``, ``dead``, ``withdrawn``: stopped because the recipient may no longer have it), the
  recipient's HER-id, the patient and the resources it discloses, and the basis it goes on (``party``,
  ``consent``, ``hpl-45``, ``subscription``). ``transport`` is how it goes (``http``, ``nhn-edi``), ``answer_id``
  the message id the receiver's application receipt will name, ``remote_id`` the id the national message service
  gave it; ``receipt_status`` (``ok``, ``ok-with-errors``, ``rejected``), ``receipt_errors`` and ``receipt_at``
  record the receipt, which completes the delivery; ``remote_status`` the message service's transport state.
* ``nhn_inbox``: each message fetched from NHN's Meldingstjener by its id there, with how far it got
  (``answered``: processed and its AppRec sent; ``read``: marked read), so a poller that stopped half-way neither
  answers a message twice nor leaves it unread.
* ``audit``: one AuditEvent per read, write or disclosure of patient data.
* ``schema_version``: the revision of the schema (Alembic's version table, one row), see :mod:`adapter.store.migrate`.

:data:`DDL` is the schema at the head revision (:data:`HEAD`): an empty store is made from it and stamped, which
takes milliseconds; a store made by an earlier release is brought to it by the migrations
(``adapter/store/migrations/versions``). A change to the schema is therefore two edits: a new revision there, and
the same change here with its id appended to :data:`REVISIONS`; ``tests/test_migrations.py`` checks on both
backends that the two give the same tables, columns and indexes, and that :data:`REVISIONS` is Alembic's history.
"""

from __future__ import annotations

_COMMON = """
CREATE TABLE IF NOT EXISTS messages (
    sender TEXT NOT NULL,
    msg_id TEXT NOT NULL,
    format TEXT NOT NULL,
    received_at TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body {blob} NOT NULL,
    state TEXT NOT NULL,
    receipt {blob},
    receipt_type TEXT,
    http_status INTEGER,
    PRIMARY KEY (sender, format, msg_id)
);
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    current INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    patient TEXT,
    parties TEXT NOT NULL,
    body TEXT NOT NULL,
    writer TEXT,
    PRIMARY KEY (type, id, version)
);
CREATE INDEX IF NOT EXISTS resources_current ON resources (type, current, last_updated);
CREATE INDEX IF NOT EXISTS resources_patient ON resources (patient, current);
CREATE INDEX IF NOT EXISTS resources_id ON resources (type, id, current);
CREATE TABLE IF NOT EXISTS search (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS search_match ON search (type, param, value, id);
CREATE INDEX IF NOT EXISTS search_resource ON search (type, id);
CREATE TABLE IF NOT EXISTS outbox (
    id {serial},
    msg_id TEXT NOT NULL,
    destination TEXT NOT NULL,
    format TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body {blob} NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at DOUBLE PRECISION NOT NULL,
    claimed_by TEXT,
    claimed_until DOUBLE PRECISION,
    last_error TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT,
    recipient TEXT,
    patient TEXT,
    refs TEXT,
    basis TEXT,
    method TEXT,
    headers TEXT,
    transport TEXT,
    answer_id TEXT,
    remote_id TEXT,
    receipt_status TEXT,
    receipt_errors TEXT,
    receipt_at TEXT,
    remote_status TEXT,
    UNIQUE (msg_id, destination)
);
CREATE INDEX IF NOT EXISTS outbox_answer ON outbox (answer_id);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
CREATE TABLE IF NOT EXISTS nhn_inbox (
    remote_id TEXT PRIMARY KEY,
    receiver TEXT NOT NULL,
    sender TEXT NOT NULL,
    state TEXT NOT NULL,
    updated TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id {serial},
    recorded TEXT NOT NULL,
    org TEXT,
    patient TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_patient ON audit (patient, recorded);
CREATE INDEX IF NOT EXISTS audit_org ON audit (org, id);
"""

#: The revisions of the schema, oldest first (the files of ``adapter/store/migrations/versions``), and the last.
REVISIONS = ("0001", "0002", "0003")
HEAD = REVISIONS[-1]
#: The table that holds the revision (Alembic's ``alembic_version`` by another name, so that a database shared with
#: another Alembic-managed application keeps both).
VERSION_TABLE = "schema_version"

#: The schema in each dialect.
DDL = {
    "sqlite": _COMMON.format(blob="BLOB", serial="INTEGER PRIMARY KEY AUTOINCREMENT"),
    "postgresql": _COMMON.format(blob="BYTEA", serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
}
