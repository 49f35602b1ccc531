"""The SQL store (SQLite and PostgreSQL); see :mod:`adapter.store` for what it keeps and why."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from adapter.errors import AdapterError, Issue
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
#: How often a transaction is tried again after a deadlock, and the pause before each try after a lost connection
#: (those are tried again until the store's time bound, ``timeout``, is used up).
RECONNECT_TRIES = 30
RECONNECT_PAUSE = 0.5
#: The store's time bound by default (seconds; ``SAMHANDLING_DATABASE_TIMEOUT``), and the longest one attempt to
#: connect to PostgreSQL may take within it.
DEFAULT_TIMEOUT = 15.0
CONNECT_TIMEOUT = 5
#: The rows of each index SQLite's ``ANALYZE`` reads when a store opens (enough for the planner; bounded so that a
#: store of millions of rows opens in well under a second).
ANALYSIS_LIMIT = 1000
#: What a PostgreSQL server says when it refuses this service for good (it answered, so it is up): no such database
#: or role, a wrong password, no access. A setup error: tried again it fails again. (libpq gives these no SQLSTATE.)
_REFUSED = re.compile(
    r"FATAL:\s+(?:database \S+ does not exist|role \S+ does not exist|password authentication failed"
    r"|no pg_hba\.conf entry|permission denied for database|\w+ authentication failed)"
    r"|fe_sendauth: no password supplied"
)

__all__ = [
    "Delivery",
    "Store",
    "StoreUnavailable",
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


class StoreUnavailable(Exception):
    """The database did not answer within the store's time bound (down, hanging, too slow), or it refused this
    service (``setup``: no such database, wrong credentials). :attr:`issue` is for an operator (it may name the
    database), :attr:`public` for a caller: 503 with ``Retry-After: retry_after``. ``committing``: the database
    went away while it committed, so whether the transaction's changes were stored is not known."""

    def __init__(self, cause: str, *, retry_after: int, setup: Issue | None = None, committing: bool = False) -> None:
        super().__init__(cause)
        self.retry_after = retry_after
        self.setup = setup
        self.committing = committing

    @property
    def public(self) -> Issue:
        """What a caller is told: ADP-5076 when the outcome is not known, else ADP-5075 (nothing was stored)."""
        return Issue("ADP-5076" if self.committing else "ADP-5075", "fatal", args={"retry": self.retry_after})

    @property
    def issue(self) -> Issue:
        """What an operator is told: the setup error (ADP-0015), else what a caller is told."""
        return self.setup or self.public


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgresql``, the dialect of a database URL the store takes; else AdapterError ADP-0007
    (before any driver or SQLAlchemy sees it, so a URL of another database is one line, not a traceback)."""
    try:
        scheme = urlparse(url).scheme
    except ValueError:
        scheme = ""
    if scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise AdapterError.of("ADP-0007", url=redact(url))


def refusal(error: BaseException, url: str) -> Issue | None:
    """ADP-0015 when ``error`` is a PostgreSQL server refusing this service for good (see :data:`_REFUSED`)."""
    text = " ".join(str(error).split())
    found = _REFUSED.search(text)
    if found is None:
        return None
    return Issue("ADP-0015", "fatal", args={"url": redact(url), "detail": found.group(0).removeprefix("FATAL: ")})


class Store:
    """A connection per thread to the database at ``url``; :meth:`run` is the only way in. The schema is made or
    checked on opening (:mod:`adapter.store.migrate`): ``upgrade`` says whether a schema that is behind (or
    incomplete) is upgraded (None: SQLite yes, PostgreSQL no, refused with ADP-0013); :attr:`upgraded` tells from
    what. ``timeout`` (seconds) bounds the wait for PostgreSQL: each statement (``statement_timeout``), each
    connection attempt (at most :data:`CONNECT_TIMEOUT`), and a transaction's tries again after a lost
    connection together; past it :meth:`run` raises :class:`StoreUnavailable`."""

    def __init__(self, url: str, *, upgrade: bool | None = None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.dialect = dialect_of(url)
        if self.dialect == "sqlite":
            self.path = Path(url.removeprefix("sqlite:///"))
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _create_private(self.path)
        self.url = url
        self.timeout = timeout
        self._completing = False
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
        self._schema_before = SchemaState(None, False)
        #: the schema's state before this opening upgraded it (None when it did not)
        self.upgraded: SchemaState | None = None
        try:
            self._open_schema(self.dialect == "sqlite" if upgrade is None else upgrade)
        except BaseException:
            self.close()
            raise

    def _open_schema(self, upgrade: bool) -> None:
        """Make a new store's schema, or check (and maybe upgrade or complete) an existing one's."""
        self.run(lambda tx: None, schema=True)  # a new store is made and stamped in that transaction
        state = self._schema
        if state.current and self.dialect == "sqlite" and not self._schema_before.empty:
            self.analyze(sample=ANALYSIS_LIMIT)  # SQLite keeps no statistics by itself (PostgreSQL: autovacuum)
        if state.current:
            if self._schema_before.revision is not None and self._schema_before.missing:
                self.upgraded = self._schema_before  # a version table without its tables: they were made
            return
        if not state.known:
            raise AdapterError.of("ADP-0014", found=state.describe(), head=HEAD, url=redact(self.url))
        if not upgrade:
            raise AdapterError([behind(state.describe(), self.url)])
        log.warning("the store %s is %s: upgrading it to revision %s", redact(self.url), state.describe(), HEAD)
        if state.missing:  # at the head already: Alembic has nothing to do, the head DDL has
            self._completing = True
            try:
                self.run(lambda tx: None, schema=True)
            finally:
                self._completing = False
        elif self.dialect == "sqlite":
            with self._sqlite_turn, self._process_turn():
                migrate_upgrade(self.url)
        else:
            migrate_upgrade(self.url)
        self.upgraded = state

    def analyze(self, *, sample: int | None = None) -> None:
        """Bring the query planner's statistics up to date (``ANALYZE``): on opening a SQLite store, which keeps
        none by itself, and after a bulk load on both (PostgreSQL's autovacuum analyses a table only once enough
        of it changed). ``sample`` bounds the rows SQLite reads per index (``analysis_limit``), so that opening a
        large store stays quick. The indexes serve the store's queries without statistics too; with them the
        planner also knows how selective each one is."""
        if self.dialect == "sqlite":
            statements = [f"PRAGMA analysis_limit = {int(sample or 0)}", "ANALYZE"]
        else:
            statements = ["ANALYZE resources", "ANALYZE search", "ANALYZE audit"]

        def work(tx: Tx) -> None:
            for statement in statements:
                tx._sql(statement)

        self.run(work)

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            return connection
        return self._connect_postgresql(self.timeout, min(CONNECT_TIMEOUT, self.timeout))

    def _connect_postgresql(self, statements: float, connecting: float) -> Any:
        """A PostgreSQL connection that gives up connecting after ``connecting`` seconds and each statement after
        ``statements`` (``statement_timeout``, added to the URL's own ``options``, which a keyword would replace),
        and data it sent that the server's host has not acknowledged after ``statements`` too (``tcp_user_timeout``:
        a network that drops the packets). A server process that is stopped while its host still acknowledges is
        waited for on a connection already open: libpq has no client-side bound for that."""
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        given = str(conninfo_to_dict(self.url).get("options") or "")
        options = f"{given} -c statement_timeout={max(1, round(statements * 1000))}".strip()
        return psycopg.connect(
            self.url,
            autocommit=True,
            connect_timeout=max(2, math.ceil(connecting)),
            options=options,
            tcp_user_timeout=max(1, round(statements * 1000)),
        )

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
                        self._prepare(cursor)
                    yield Tx(cursor, self.dialect)
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
        else:
            with connection.transaction():
                if schema:  # one process at a time makes or reads the schema
                    # without the statement bound: the lock is held while another process upgrades, which may last
                    cursor.execute("SET LOCAL statement_timeout = 0")
                    cursor.execute(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                    self._prepare(cursor)
                yield Tx(cursor, self.dialect)

    def _prepare(self, cursor: Any) -> None:
        self._schema_before, self._schema = prepare(cursor, self.dialect, complete=self._completing)

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
        connection, every RECONNECT_PAUSE seconds until ``timeout`` seconds have gone since the first try; then,
        or at once when a statement took longer than ``timeout``, when the connection was lost while committing
        (tried again it might be stored twice) or when the server refuses this service (a setup error), it raises
        :class:`StoreUnavailable`. When PostgreSQL rolled it back to break a deadlock, it is tried again at once.
        ``work`` must therefore read what it needs through ``tx``.

        With ``probe`` (seconds), ``work`` only reads and runs once, on a connection of its own that gives up
        connecting and each statement after that long: a health check that must answer while the database does
        not, where the tries above would keep it waiting."""
        if probe is not None:
            return self._probe(work, probe)
        lost = _connection_errors(self.dialect)
        conflicts = _conflict_errors(self.dialect)
        deadline = time.monotonic() + self.timeout
        conflicts_met = 0
        while True:
            committing = False
            try:
                with self._transaction(schema) as tx:
                    result = work(tx)
                    committing = True
                return result
            except conflicts:  # first: they are OperationalErrors too, but the connection is fine
                # PostgreSQL broke a deadlock (or a serialization conflict) by rolling this transaction back;
                # run it again after a short random pause, on the same connection
                conflicts_met += 1
                if conflicts_met == RECONNECT_TRIES:
                    raise
                time.sleep(random.uniform(0.01, 0.1))  # noqa: S311 - jitter, not cryptography
            except lost as error:
                self._drop_connection()
                self._give_up(error, committing, deadline)
                log.warning("database connection lost (%s); trying the transaction again", _first_line(error))
                time.sleep(min(RECONNECT_PAUSE, max(0.0, deadline - time.monotonic())))  # the last try at the bound

    def _give_up(self, error: BaseException, committing: bool, deadline: float) -> None:
        """Raise :class:`StoreUnavailable` (from ``error``, a lost connection or a statement cancelled) unless the
        transaction may be tried again: it did not reach its commit, the server did not refuse this service, no
        statement ran out of time, and ``deadline`` has not passed."""
        import psycopg

        retry_after = max(1, math.ceil(self.timeout))
        setup = refusal(error, self.url)
        slow = isinstance(error, psycopg.errors.QueryCanceled)
        if setup or committing or slow or time.monotonic() >= deadline:
            if not setup:
                log.warning(
                    "the database %s did not answer in time (%s s)%s: %s",
                    redact(self.url),
                    self.timeout,
                    " while committing: the outcome is not known" if committing else "",
                    _first_line(error),
                )
            cause = _first_line(error)
            raise StoreUnavailable(cause, retry_after=retry_after, setup=setup, committing=committing) from error

    def _probe(self, work: Callable[[Tx], T], timeout: float) -> T:
        if self.dialect == "sqlite":
            connection: Any = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        else:
            connection = self._connect_postgresql(timeout, timeout)
        try:
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

    return (psycopg.Error, sqlite3.Error, StoreUnavailable)


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


def behind(found: str, url: str, command: str = "samhandling") -> Issue:
    """The refusal of a store at ``url`` whose schema is behind or incomplete (``found``:
    :meth:`SchemaState.describe`), by ``command``: ADP-0013 for PostgreSQL (an operator upgrades it), ADP-0016 for
    SQLite (the service upgrades it when it opens it)."""
    code = "ADP-0016" if dialect_of(url) == "sqlite" else "ADP-0013"
    return Issue(code, "fatal", args={"url": redact(url), "found": found, "head": HEAD, "command": command})


def open_store(url: str, *, upgrade: bool | None = None, timeout: float = DEFAULT_TIMEOUT) -> Store:
    """The store at ``url`` (``sqlite:///path/to/file.sqlite`` or ``postgresql://user@host/db``): a new one made at
    the schema's head revision, an existing one checked (``upgrade``, ``timeout``: see :class:`Store`)."""
    return Store(url, upgrade=upgrade, timeout=timeout)
