"""The store's schema migrations (adapter/store/migrate.py, adapter/store/migrations): a new store is made at the
head from the DDL and stamped; a store of a release before migrations, or at an older revision, is upgraded by
``samhandling db upgrade`` (on SQLite also on opening) with its rows kept; PostgreSQL behind refuses to open; a
revision from a newer release is refused on both; the head DDL and the migration history give the same schema.

Each PostgreSQL case runs in a schema of its own in the test database (``search_path`` in the URL)."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy
from click.testing import CliRunner
from sqlalchemy.pool import NullPool

from adapter.cli import main
from adapter.errors import AdapterError
from adapter.store import migrate, open_store
from adapter.store.migrations.versions import r0001_baseline as baseline
from adapter.store.schema import HEAD, REVISIONS, VERSION_TABLE

BACKENDS = ["sqlite", "postgresql"]
INSERT_SEARCH_TERM_SQLITE = "INSERT INTO search (type, id, param, value) VALUES ('CarePlan', 'p1', ?, ?)"
INSERT_SEARCH_TERM_POSTGRESQL = "INSERT INTO search (type, id, param, value) VALUES ('CarePlan', 'p1', %s, %s)"


@contextlib.contextmanager
def connect(url: str) -> Iterator[Any]:
    """A DB-API connection (autocommit) to the store at ``url``, closed at the end."""
    import sqlite3

    if url.startswith("sqlite:///"):
        connection: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    else:
        connection = psycopg.connect(url, autocommit=True)
    try:
        yield connection
    finally:
        connection.close()


def cli(url: str, *words: str, tmp_path: Path) -> tuple[int, str]:
    env = {"SAMHANDLING_DATA_DIR": str(tmp_path / "unused"), "SAMHANDLING_DATABASE_URL": ""}
    if url.startswith("sqlite:///"):
        env["SAMHANDLING_DATA_DIR"] = str(Path(url.removeprefix("sqlite:///")).parent)
    else:
        env["SAMHANDLING_DATABASE_URL"] = url
    result = CliRunner().invoke(main, list(words), env=env)
    return result.exit_code, result.output


# --- a store as the releases before migrations left it ------------------------------------------------------------


def first_release_ddl(dialect: str) -> list[str]:
    """The statements of the first release's schema: the baseline's tables without the columns later releases added
    when opening a store, and its indexes without the one on such a column."""
    added = set(baseline._ADDED_COLUMNS)
    statements = []
    for statement in baseline._TABLES.format(**baseline._TYPES[dialect]).split(";"):
        if not statement.strip():
            continue
        table = re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
        assert table
        lines = [line for line in statement.splitlines() if (table.group(1), line.strip().split(" ")[0]) not in added]
        statements.append("\n".join(lines))
    indexes = [s for s in baseline._INDEXES.split(";") if s.strip() and "answer_id" not in s]
    return statements + indexes


def old_store(url: str) -> None:
    """A store of the first release at ``url`` (no version table), with a message, two versions of a resource, a
    delivery and an audit event in it."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    if dialect == "sqlite":
        Path(url.removeprefix("sqlite:///")).touch(mode=0o600)
    with connect(url) as connection:
        for statement in first_release_ddl(dialect):
            connection.execute(statement)
        values: list[tuple[str, str, tuple[Any, ...]]] = [
            (
                "messages",
                "sender, msg_id, format, received_at, content_type, body, state, http_status",
                ("8100001", "m-1", "kith", "2025-01-01T00:00:00Z", "application/xml", b"<x/>", "accepted", 200),
            ),
            *[
                (
                    "resources",
                    "type, id, version, last_updated, current, deleted, patient, parties, body",
                    ("CarePlan", "cp-1", v, f"2025-01-0{v}", int(v == 2), 0, "Patient/p1", " 8100001 ", "{}"),
                )
                for v in (1, 2)
            ],
            (
                "outbox",
                "msg_id, destination, format, content_type, body, state, attempts, next_attempt_at, created_at",
                ("m-1", "http://receiver.test/", "fhir", "application/fhir+json", b"{}", "dead", 5, 0.0, "2025-01-01"),
            ),
            (
                "audit",
                "recorded, org, patient, action, outcome, body",
                ("2025-01-01T00:00:00Z", "8100001", "Patient/p1", "R", "0", "{}"),
            ),
        ]
        mark = "?" if dialect == "sqlite" else "%s"
        for table, columns, row in values:
            marks = ", ".join([mark] * len(row))
            connection.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)  # noqa: S608 - test data


def rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with connect(url) as connection:
        return {
            "messages": list(connection.execute("SELECT sender, msg_id, body FROM messages").fetchall()),
            "resources": list(connection.execute("SELECT id, version FROM resources ORDER BY version").fetchall()),
            "outbox": list(connection.execute("SELECT msg_id, state, attempts FROM outbox").fetchall()),
            "audit": list(connection.execute("SELECT org, patient, action FROM audit").fetchall()),
        }


def revision(url: str) -> list[str]:
    with connect(url) as connection:
        return [row[0] for row in connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()]  # noqa: S608


# --- the tests -------------------------------------------------------------------------------------------------------


def test_the_revisions_named_in_schema_are_alembics_history() -> None:
    assert migrate.history() == list(REVISIONS) and REVISIONS[-1] == HEAD


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_store_of_the_release_before_migrations_is_upgraded_by_db_upgrade_and_keeps_its_rows(
    backend: str, new_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = new_url(backend)
    old_store(url)
    before = rows(url)
    assert sum(map(len, before.values())) == 5

    code, output = cli(url, "db", "current", tmp_path=tmp_path)
    assert code == 0 and "made before schema migrations" in output and f"needs revision {HEAD}" in output
    code, output = cli(url, "db", "check", tmp_path=tmp_path)
    behind = "ADP-0016" if backend == "sqlite" else "ADP-0013"  # SQLite: the service upgrades it itself
    assert code == 1 and behind in output and "samhandling db upgrade" in output

    code, output = cli(url, "db", "upgrade", tmp_path=tmp_path)
    assert code == 0, output
    assert "upgraded from made before schema migrations" in output and f"to revision {HEAD}" in output
    assert rows(url) == before and revision(url) == [HEAD]
    with connect(url) as connection:  # the columns later releases added, and the index on one of them
        connection.execute("SELECT writer FROM resources")
        connection.execute("SELECT recipient, answer_id, remote_status FROM outbox")
    with inspector_of(url) as inspector:
        assert "outbox_answer" in {index["name"] for index in inspector.get_indexes("outbox")}

    code, output = cli(url, "db", "check", tmp_path=tmp_path)
    assert code == 0 and "current" in output
    code, output = cli(url, "db", "upgrade", tmp_path=tmp_path)
    assert code == 0 and "nothing to upgrade" in output
    store = open_store(url)  # and the store reads what the old release wrote
    try:
        (dead,) = store.run(lambda tx: tx.deliveries("dead"))
        assert dead.msg_id == "m-1" and dead.attempts == 5 and dead.recipient is None
    finally:
        store.close()


def test_postgresql_behind_refuses_to_open_and_serve_and_worker_say_how_to_upgrade(
    new_url: Callable[[str], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gunicorn.app.base import BaseApplication

    started: list[bool] = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: started.append(True))  # never serves, whatever happens
    url = new_url("postgresql")
    old_store(url)
    with pytest.raises(AdapterError) as refused:
        open_store(url)
    assert refused.value.issues[0].code == "ADP-0013"
    for words in (("worker", "--once"), ("serve", "--demo"), ("outbox", "list")):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code == 2, (words, output)
        (line,) = [line for line in output.splitlines() if line.startswith("ADP-0013")]
        assert "samhandling db upgrade" in line and "made before schema migrations" in line, line
        assert "Traceback" not in output
    assert revision_table_missing(url) and not started  # refused, not touched


def revision_table_missing(url: str) -> bool:
    with connect(url) as connection:
        if url.startswith("sqlite"):
            found = connection.execute("SELECT name FROM sqlite_master WHERE name = ?", (VERSION_TABLE,)).fetchall()
        else:
            found = connection.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchall()
            found = [row for row in found if row[0] is not None]
    return not found


def test_sqlite_behind_is_upgraded_when_the_service_opens_it(new_url: Callable[[str], str]) -> None:
    """The embedded store is the service's own file: `serve` (and --demo) upgrade it without a command."""
    url = new_url("sqlite")
    old_store(url)
    before = rows(url)
    store = open_store(url)
    store.close()
    assert store.upgraded is not None and store.upgraded.revision is None and store.upgraded.tables
    assert rows(url) == before and revision(url) == [HEAD]
    again = open_store(url)
    again.close()
    assert again.upgraded is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_version_table_left_alone_when_the_tables_were_dropped_is_a_new_store(
    backend: str, new_url: Callable[[str], str]
) -> None:
    url = new_url(backend)
    open_store(url).close()
    with connect(url) as connection:
        for table in migrate.TABLES:
            connection.execute(f"DROP TABLE {table}")
        connection.execute(f"UPDATE {VERSION_TABLE} SET version_num = 'f00d'")  # noqa: S608 - a constant
    store = open_store(url)
    try:
        assert store.run(lambda tx: tx.deliveries()) == [] and revision(url) == [HEAD]
    finally:
        store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_revision_from_a_newer_release_is_refused(
    backend: str, new_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = new_url(backend)
    open_store(url).close()
    with connect(url) as connection:
        connection.execute(f"UPDATE {VERSION_TABLE} SET version_num = 'f00d'")  # noqa: S608 - a constant
    with pytest.raises(AdapterError) as refused:
        open_store(url, upgrade=True)
    assert refused.value.issues[0].code == "ADP-0014" and "f00d" in refused.value.issues[0].text_en
    for words in (("db", "upgrade"), ("db", "check")):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code in (1, 2) and "ADP-0014" in output and "newer release" in output, output
    assert revision(url) == ["f00d"]  # untouched


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_head_ddl_and_the_migration_history_give_the_same_schema(
    backend: str, new_url: Callable[[str], str]
) -> None:
    made = new_url(backend)
    open_store(made).close()  # the head DDL, stamped
    migrated = new_url(backend)
    if backend == "sqlite":
        Path(migrated.removeprefix("sqlite:///")).touch(mode=0o600)
    migrate.upgrade(migrated)  # every revision from nothing
    assert revision(made) == revision(migrated) == [HEAD]
    assert schema_of(made) == schema_of(migrated)
    assert set(schema_of(made)) == {*migrate.TABLES, VERSION_TABLE}


@contextlib.contextmanager
def inspector_of(url: str) -> Iterator[sqlalchemy.Inspector]:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            yield sqlalchemy.inspect(connection)
    finally:
        engine.dispose()


def schema_of(url: str) -> dict[str, Any]:
    """Each table's columns (name, type, nullable, default, primary key), indexes, unique constraints and primary
    key, as SQLAlchemy reads them."""
    tables: dict[str, Any] = {}
    with inspector_of(url) as inspector:
        for table in inspector.get_table_names():
            tables[table] = table_of(inspector, table)
    return tables


def table_of(inspector: sqlalchemy.Inspector, table: str) -> dict[str, Any]:
    columns = [
        (c["name"], str(c["type"]), c["nullable"], str(c.get("default")), c.get("autoincrement"))
        for c in inspector.get_columns(table)
    ]
    indexes = sorted((i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table))
    uniques = sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(table))
    return {
        "columns": columns,
        "indexes": indexes,
        "uniques": uniques,
        "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_new_store_is_made_at_the_head_without_alembic(backend: str, new_url: Callable[[str], str]) -> None:
    """Every test makes fresh stores: the head DDL and a stamp, never Alembic's start-up (a tenth of a second)."""
    url = new_url(backend)
    program = (
        "import sys\nfrom adapter.store import open_store\nstore = open_store(sys.argv[1])\nstore.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'sqlalchemy')))"
    )
    done = subprocess.run([sys.executable, "-c", program, url], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr
    assert revision(url) == [HEAD]


def test_db_commands_refuse_a_sqlite_store_that_is_not_there(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nothing' / 'samhandling.sqlite'}"
    for words in (("db", "upgrade"), ("db", "current"), ("db", "check")):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code == 2 and "no store at" in output, (words, output)
    assert not (tmp_path / "nothing").exists()


def test_db_commands_report_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    """(``db upgrade`` opens the store like the service, through its reconnect tries: the same line, 15 s later.)"""
    url = "postgresql://nobody@127.0.0.1:1/nothing"
    for words in (("db", "current"), ("db", "check")):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code == 2 and "cannot be used" in output and "Traceback" not in output, (words, output)


def test_each_db_command_explains_itself() -> None:
    for command in ("upgrade", "current", "check"):
        result = CliRunner().invoke(main, ["db", command, "--help"])
        assert result.exit_code == 0 and len(result.output.split("\n\n")[1]) > 60, result.output


# --- an incomplete store, a bad URL, the text of a refusal (issue 17) ---------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dropped", ["all tables", "audit"])
def test_current_check_and_upgrade_agree_about_an_incomplete_store(
    backend: str, dropped: str, new_url: Callable[[str], str], tmp_path: Path
) -> None:
    """A version table at the head without (some of) the tables: incomplete for current and check (exit 1);
    upgrade completes it and says so; then all three say current."""
    url = new_url(backend)
    open_store(url).close()
    with connect(url) as connection:
        for table in migrate.TABLES if dropped == "all tables" else ("audit",):
            connection.execute(f"DROP TABLE {table}")
    code, output = cli(url, "db", "current", tmp_path=tmp_path)
    assert code == 0 and "incomplete" in output and "audit" in output, output
    code, output = cli(url, "db", "check", tmp_path=tmp_path)
    assert code == 1 and "incomplete" in output and "Traceback" not in output, output
    code, output = cli(url, "db", "upgrade", tmp_path=tmp_path)
    assert code == 0 and "completed" in output and "audit" in output and "nothing to upgrade" not in output, output
    code, output = cli(url, "db", "check", tmp_path=tmp_path)
    assert code == 0 and "current" in output, output
    assert "incomplete" not in cli(url, "db", "current", tmp_path=tmp_path)[1]


def test_postgresql_incomplete_is_refused_by_the_service_until_upgraded(
    new_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = new_url("postgresql")
    open_store(url).close()
    with connect(url) as connection:
        connection.execute("ALTER TABLE outbox DROP COLUMN remote_status")
    code, output = cli(url, "outbox", "list", tmp_path=tmp_path)
    assert code == 2 and "ADP-0013" in output and "outbox.remote_status" in output, output
    assert cli(url, "db", "check", tmp_path=tmp_path)[0] == 1
    code, output = cli(url, "db", "upgrade", tmp_path=tmp_path)
    assert code == 0 and "outbox.remote_status" in output, output
    assert cli(url, "db", "check", tmp_path=tmp_path)[0] == 0
    store = open_store(url)
    store.close()
    assert store.upgraded is None


@pytest.mark.parametrize("url", ["mysql://x", "garbage", "postgresql+psycopg2://u@h/d", "sqlite://relative.db"])
def test_db_commands_refuse_a_bad_url_in_one_line_like_serve(url: str, tmp_path: Path) -> None:
    for words in (("db", "current"), ("db", "check"), ("db", "upgrade"), ("serve",)):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code == 2, (words, output)
        assert output.strip().startswith("ADP-0007") and len(output.strip().splitlines()) == 1, (words, output)


def test_the_refusal_of_a_schema_behind_names_the_command_and_fits_the_store(
    new_url: Callable[[str], str], tmp_path: Path
) -> None:
    url = new_url("postgresql")
    old_store(url)
    for words, named in ((("worker", "--once"), "samhandling worker"), (("outbox", "list"), "samhandling outbox")):
        code, output = cli(url, *words, tmp_path=tmp_path)
        assert code == 2 and f"`{named}" in output and "PostgreSQL" in output, output
    sqlite = new_url("sqlite")
    old_store(sqlite)
    code, output = cli(sqlite, "db", "check", tmp_path=tmp_path)
    assert code == 1 and "ADP-0016" in output and "PostgreSQL" not in output, output


def test_the_token_forms_revision_derives_the_new_terms_from_the_rows() -> None:
    from adapter.store.migrations.versions.r0003_token_forms import added_terms

    system = "http://samhandling.no/fhir/CodeSystem/plantype"
    assert added_terms("category", {"krise", f"{system}|krise"}) == {f"{system}|"}
    assert added_terms("identifier", {"REF-1"}) == {"|REF-1"}  # an identifier without a system
    assert added_terms("patient:identifier", {"123", "urn:oid:1|123"}) == set()  # never a patient's system alone
    assert added_terms("category", {"a", f"{system}|a", f"{system}|"}) == set()  # what is there is not added again


@pytest.mark.parametrize("backend", BACKENDS)
def test_records_stored_before_the_token_forms_are_found_by_them_after_db_upgrade(
    backend: str, new_url: Callable[[str], str], tmp_path: Path
) -> None:
    """Found in review: the forms ``system|`` and ``|code`` were indexed only for records written after them."""
    url = new_url(backend)
    migrate.upgrade(url, "0002")
    system = "http://samhandling.no/fhir/CodeSystem/plantype"
    old_terms = [("category", "krise"), ("category", f"{system}|krise"), ("identifier", "REF-1")]
    with connect(url) as connection:
        for param, value in old_terms:
            insert = INSERT_SEARCH_TERM_SQLITE if backend == "sqlite" else INSERT_SEARCH_TERM_POSTGRESQL
            connection.execute(insert, (param, value))
    code, output = cli(url, "db", "upgrade", tmp_path=tmp_path)
    assert code == 0, output
    with connect(url) as connection:
        terms = set(connection.execute("SELECT param, value FROM search WHERE id = 'p1'").fetchall())
    assert terms == {*old_terms, ("category", f"{system}|"), ("identifier", "|REF-1")}
    assert revision(url) == [HEAD]
