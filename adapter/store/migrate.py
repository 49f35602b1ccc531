"""The store's schema revision: read it, make an empty store at the head, and upgrade an older one with Alembic.

**Why Alembic.** It is the migration tool of SQLAlchemy's authors, released several times a year, and the one most
Python projects and their operators know (``alembic_version``, ``upgrade head``, linear revision files). Its
revisions are Python, so one history serves SQLite and PostgreSQL: the few differences (``BLOB``/``BYTEA``, the id
column) are picked from the connection's dialect inside the revision, and ``op.add_column`` works on both (it also
offers SQLite's copy-and-move "batch" mode for the changes SQLite's ``ALTER TABLE`` cannot make). It needs
SQLAlchemy, but only while migrating, over the same drivers (``sqlite3``, ``psycopg``); the store itself stays
plain DB-API. yoyo-migrations (SQL files, one maintainer, last released 2024) would have spared SQLAlchemy but
gives no per-dialect help and a smaller, slower-moving project; hand-written ``ALTER``s at opening (what the
releases before did) give no history and no way to tell an operator that a database is behind.

**How a store opens** (:meth:`adapter.store.sql.Store.__init__`, under the store's schema lock: PostgreSQL's
advisory lock 7224, SQLite's write turn):

* no table of ours (a new store, or a version table alone): created from :data:`~adapter.store.schema.DDL` and
  stamped :data:`HEAD` in one transaction, without Alembic, in milliseconds (every test makes a fresh store);
* at :data:`HEAD`: nothing to do;
* incomplete (stamped :data:`HEAD`, but a table or column of the head schema is missing: dropped by hand, or a
  restore that left parts out): completed from the head DDL (a column added back is nullable), on the same terms
  as an upgrade (SQLite on opening, PostgreSQL through ``db upgrade``); a version table with none of the tables
  is completed on opening on both, like a new store;
* behind (an older revision, or tables with no version table: a store made before migrations): Alembic upgrades it,
  automatically for SQLite (the embedded store is the service's own file, so ``serve --demo`` and the default
  store under the data folder never need a command) and only through ``samhandling db upgrade`` for PostgreSQL,
  where the service refuses to start (ADP-0013, exit 2) until an operator has upgraded it (after a backup, and
  once for every process that shares the database);
* at a revision this release does not know (a newer release wrote it): refused on both (ADP-0014).

``/health/ready`` reads the revision too: a schema changed under a running service makes it not ready.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapter.store.base import TxBase
from adapter.store.schema import DDL, HEAD, REVISIONS, VERSION_TABLE

#: The tables of the store (the version table not counted): one of them there means the store is not new.
TABLES = ("messages", "resources", "search", "outbox", "nhn_inbox", "audit")
MIGRATIONS = Path(__file__).parent / "migrations"
#: The PostgreSQL advisory lock that one process at a time holds while it creates or upgrades the schema.
SCHEMA_LOCK = 7224
#: Seconds ``samhandling db`` waits for a PostgreSQL server to accept a connection.
CONNECT_TIMEOUT = 5


@dataclass(frozen=True)
class SchemaState:
    """What a store's schema is: its stamped revision (None when it has none) and whether any table of ours is
    there."""

    revision: str | None
    tables: bool
    #: at the head revision, what of the head schema is not there: tables (``audit``) and columns of the tables
    #: that are (``outbox.remote_status``)
    missing: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """No table of ours: a new store, made on opening (a version table left alone by someone who dropped the
        tables holds nothing the tables could lose)."""
        return not self.tables

    @property
    def current(self) -> bool:
        """At the revision this release needs, with every table and column of it."""
        return self.revision == HEAD and not self.missing

    @property
    def known(self) -> bool:
        """A revision of this release's history (or none at all): one this release can upgrade from."""
        return self.revision is None or self.revision in REVISIONS

    def describe(self) -> str:
        """The state in words, for messages and ``samhandling db current``."""
        if self.missing:
            return f"incomplete: revision {self.revision} without {', '.join(self.missing)}"
        if self.empty:
            return "empty (no tables)"
        if self.revision is None:
            return "made before schema migrations (tables, no schema_version)"
        return f"revision {self.revision}" + ("" if self.known else " (unknown to this release: a newer one?)")


def read_state(cursor: Any, dialect: str) -> SchemaState:
    """The schema's state, read through a DB-API ``cursor`` of a connection in ``dialect``."""
    if dialect == "sqlite":
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
    names = {row[0] for row in cursor.fetchall()}
    revision = None
    if VERSION_TABLE in names:
        cursor.execute(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant table name
        rows = cursor.fetchall()
        revision = str(rows[0][0]) if rows else None
    missing: tuple[str, ...] = ()
    if revision == HEAD:  # an older revision lacks columns by design: its migrations add them
        missing = _missing(cursor, dialect, names)
    return SchemaState(revision, bool(names & set(TABLES)), missing)


def _missing(cursor: Any, dialect: str, names: set[str]) -> tuple[str, ...]:
    """The tables of the head schema that are not in ``names``, then the columns missing from those that are."""
    missing = [table for table in TABLES if table not in names]
    for table, columns in HEAD_COLUMNS.items():
        if table not in names:
            continue
        if dialect == "sqlite":
            cursor.execute(f"PRAGMA table_info({table})")
            there = {row[1] for row in cursor.fetchall()}
        else:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                (table,),
            )
            there = {row[0] for row in cursor.fetchall()}
        missing += [f"{table}.{column}" for column in columns if column not in there]
    return tuple(missing)


def _head_columns() -> dict[str, dict[str, str]]:
    """Each table of the head DDL with its columns and their definitions (SQLite's text; the definitions are the
    same in both dialects but for the types :data:`DDL` fills in, and only the names are compared)."""
    tables: dict[str, dict[str, str]] = {}
    for table, body in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+) \((.*?)\n\);", DDL["sqlite"], re.DOTALL):
        lines = [line.strip().rstrip(",") for line in body.strip().splitlines()]
        tables[table] = {
            line.split()[0]: line for line in lines if line.split()[0] not in ("PRIMARY", "UNIQUE", "CONSTRAINT")
        }
    return tables


#: The columns of each table at the head revision, by name.
HEAD_COLUMNS = {table: tuple(columns) for table, columns in _head_columns().items()}


def revision_in(tx: TxBase) -> str | None:
    """The schema's stamped revision, read inside a transaction of the store (the readiness check's)."""
    return read_state(tx._cursor, tx.dialect).revision


def prepare(cursor: Any, dialect: str, *, complete: bool = False) -> tuple[SchemaState, SchemaState]:
    """The schema's state before and after making a new store at the head (the caller holds the schema lock, in
    a transaction): an empty store gets the head schema and the head stamp, and is then current. With
    ``complete``, an incomplete store (at the head, a table or column missing) gets what it lacks."""
    state = read_state(cursor, dialect)
    if state.missing and complete and state.tables:
        _complete(cursor, dialect, state)
        return state, SchemaState(HEAD, True)
    if not state.empty:
        return state, state
    _execute_ddl(cursor, dialect)
    # the table as Alembic makes it, so that Alembic reads and moves the stamp later
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
        f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
    )
    cursor.execute(f"DELETE FROM {VERSION_TABLE}")  # noqa: S608 - a constant
    cursor.execute(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('{HEAD}')")  # noqa: S608 - constants
    return state, SchemaState(HEAD, True)


def _execute_ddl(cursor: Any, dialect: str) -> None:
    """The head schema's statements (each ``IF NOT EXISTS``: what is there stays as it is)."""
    for statement in DDL[dialect].split(";"):
        if statement.strip():
            cursor.execute(statement)


def _complete(cursor: Any, dialect: str, state: SchemaState) -> None:
    """Make the tables, indexes and columns an incomplete store lacks. A column is added back without its
    ``NOT NULL`` (the rows already there have no value for it); its type is the head DDL's."""
    columns = _head_columns()
    for name in state.missing:
        if "." in name:
            table, column = name.split(".", 1)
            definition = columns[table][column].replace(" NOT NULL", "")
            if dialect == "postgresql":
                definition = definition.replace("BLOB", "BYTEA")
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")
    _execute_ddl(cursor, dialect)  # the missing tables, and the indexes (also those on a column added back)


def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations of the store at ``url`` up to ``revision`` (Alembic), in one transaction on PostgreSQL
    under the schema lock. On SQLite the caller holds the store's write turn (the file has one writer at a time)."""
    from alembic import command

    with _connection(url) as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def state_of(url: str) -> SchemaState:
    """The schema's state of the store at ``url``, read on a connection of its own (for ``samhandling db``)."""
    with _connection(url) as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            return read_state(cursor, connection.dialect.name)
        finally:
            cursor.close()


def history() -> list[str]:
    """The revisions of the migration files, oldest first, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@contextlib.contextmanager
def _connection(url: str) -> Iterator[Any]:
    """A SQLAlchemy connection in a transaction (committed at the end) to the store at ``url``, through the
    store's own drivers: ``sqlite3``, and ``psycopg`` (SQLAlchemy's default for PostgreSQL is psycopg2)."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    target = sqlalchemy.make_url(url)
    connect_args: dict[str, Any] = {}
    if target.drivername in ("postgresql", "postgres"):
        target = target.set(drivername="postgresql+psycopg")
        connect_args["connect_timeout"] = CONNECT_TIMEOUT  # a database that hangs is not waited for without end
    engine = sqlalchemy.create_engine(target, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.begin() as connection:
            yield connection
    except sqlalchemy.exc.DBAPIError as error:  # the driver's own error, as the store's callers know them
        raise (error.orig or error) from error
    finally:
        engine.dispose()
