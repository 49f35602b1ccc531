"""The SQL store (SQLite and PostgreSQL); see :mod:`adapter.store` for what it keeps and why."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from adapter.errors import AdapterError
from adapter.store.audit import AuditTx
from adapter.store.messages import MessagesTx
from adapter.store.migrate import SCHEMA_LOCK, SchemaState, prepare
from adapter.store.migrate import upgrade as migrate_upgrade
from adapter.store.outbox import OutboxTx
from adapter.store.resources import ResourcesTx
from adapter.store.rows import Delivery, StoredMessage, StoredResource, utc_now
from adapter.store.schema import HEAD

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
log = logging.getLogger(__name__)
#: How often a transaction is tried again after the connection was lost, and the pause before each try.
RECONNECT_TRIES = 30
RECONNECT_PAUSE = 0.5

__all__ = [
    "Delivery",
    "Store",
    "StoredMessage",
    "StoredResource",
    "Tx",
    "open_store",
    "redact",
    "utc_now",
]


class Tx(MessagesTx, ResourcesTx, OutboxTx, AuditTx):
    """The store's operations inside one transaction (made by :meth:`Store.run`); each area is a mixin of its own
    module, so that a unit of work that spans them (a message, its resources, deliveries and audit) stays one
    transaction on one cursor."""


class Store:
    """A connection per thread to the database at ``url``; :meth:`run` is the only way in. The schema is made or
    checked on opening (:mod:`adapter.store.migrate`): ``upgrade`` says whether a schema that is behind is
    upgraded (None: SQLite yes, PostgreSQL no, refused with ADP-0013); :attr:`upgraded` tells from what."""

    def __init__(self, url: str, *, upgrade: bool | None = None) -> None:
        scheme = urlparse(url).scheme
        if scheme == "sqlite" and url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            self.path = Path(url.removeprefix("sqlite:///"))
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(self.path)
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
        self._schema = SchemaState(None, False)
        #: the schema's state before this opening upgraded it (None when it did not)
        self.upgraded: SchemaState | None = None
        try:
            self._open_schema(self.dialect == "sqlite" if upgrade is None else upgrade)
        except BaseException:
            self.close()
            raise

    def _open_schema(self, upgrade: bool) -> None:
        """Make a new store's schema, or check (and maybe upgrade) an existing one's."""
        self.run(lambda tx: None, schema=True)  # a new store is made and stamped in that transaction
        state = self._schema
        if state.current:
            return
        if not state.known:
            raise AdapterError.of("ADP-0014", found=state.describe(), head=HEAD, url=redact(self.url))
        if not upgrade:
            raise AdapterError.of("ADP-0013", found=state.describe(), head=HEAD, url=redact(self.url))
        log.warning("the store %s is %s: upgrading it to revision %s", redact(self.url), state.describe(), HEAD)
        if self.dialect == "sqlite":
            with self._sqlite_turn, self._process_turn():
                migrate_upgrade(self.url)
        else:
            migrate_upgrade(self.url)
        self.upgraded = state

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
                    if schema:
                        self._schema = prepare(cursor, self.dialect)
                    yield Tx(cursor, self.dialect)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
        else:
            with connection.transaction():
                if schema:  # one process at a time makes or reads the schema
                    cursor.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                    self._schema = prepare(cursor, self.dialect)
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

    def run(self, work: Callable[[Tx], T], *, schema: bool = False, probe: float | None = None) -> T:
        """Run ``work`` in one transaction and return its result; committed when it returns, rolled back when it
        raises. When the database connection is lost (a restart), the whole transaction is tried again on a new
        connection, for up to RECONNECT_TRIES x RECONNECT_PAUSE seconds; when PostgreSQL rolled it back to break a
        deadlock, it is tried again at once. ``work`` must therefore read what it needs through ``tx``.

        With ``probe`` (seconds), ``work`` only reads and runs once, on a connection of its own that gives up
        connecting and each statement after that long: a health check that must answer while the database does
        not, where the tries above would keep it waiting."""
        if probe is not None:
            return self._probe(work, probe)
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

    def _probe(self, work: Callable[[Tx], T], timeout: float) -> T:
        if self.dialect == "sqlite":
            connection: Any = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        else:
            import psycopg

            connection = psycopg.connect(self.url, autocommit=True, connect_timeout=max(1, round(timeout)))
        try:
            if self.dialect == "postgresql":
                connection.execute("SELECT set_config('statement_timeout', %s, false)", (f"{round(timeout * 1000)}",))
            return work(Tx(connection.cursor(), self.dialect))
        finally:
            connection.close()

    def close(self) -> None:
        """Close this thread's connection and those of threads that have finished (at shutdown: all of them)."""
        self._drop_connection()
        with self._opened_lock:
            for ident in [i for i in self._opened if i not in _live_threads()]:
                with contextlib.suppress(Exception):
                    self._opened.pop(ident).close()


def _create_private(path: Path) -> None:
    """Create the SQLite file readable and writable by its owner only (0600), before SQLite opens it: patient data.
    SQLite gives the ``-wal`` and ``-shm`` files it makes beside it the database file's mode. A file that exists is
    left as it is, with a warning when others may read it."""
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log.warning("the store %s may be read by others than its owner: chmod 600 it (and its -wal, -shm)", path)


def _live_threads() -> set[int]:
    """The idents of the threads that are running."""
    return {thread.ident for thread in threading.enumerate() if thread.ident is not None}


def database_errors() -> tuple[type[BaseException], ...]:
    """The errors either database driver raises, for a caller that reports a database it cannot use (the
    drivers themselves stay in this package)."""
    import psycopg

    return (psycopg.Error, sqlite3.Error)


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


def open_store(url: str, *, upgrade: bool | None = None) -> Store:
    """The store at ``url`` (``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host/db``): a new one made at
    the schema's head revision, an existing one checked (``upgrade``: see :class:`Store`)."""
    return Store(url, upgrade=upgrade)
