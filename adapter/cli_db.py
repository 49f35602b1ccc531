"""``samhandling db``: the store's schema revision, seen (``current``), checked (``check``) and upgraded
(``upgrade``) with the Alembic migrations of :mod:`adapter.store.migrate`.

A PostgreSQL store is upgraded only by ``db upgrade``: ``serve``, ``worker`` and the operator commands refuse a
schema that is behind (ADP-0013, exit 2). A SQLite store is upgraded when the service opens it, so these commands
are for PostgreSQL first; they work on both.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import click

from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.store.migrate import SchemaState, state_of
from adapter.store.schema import HEAD
from adapter.store.sql import StoreUnavailable, behind, dialect_of, redact, refusal


@click.group("db")
def db() -> None:
    """The store's schema (SAMHANDLING_DATABASE_URL, else the SQLite file in SAMHANDLING_DATA_DIR): see its
    revision, check it, upgrade it."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the store's schema to this release's revision; an empty PostgreSQL database gets the whole schema.
    Rows are kept: a migration only adds to the schema or changes it in place. Back up first. Processes that
    share the database may run it at once: one upgrades, the others wait and find it done. Exit 2 when the
    database cannot be used or was written by a newer release."""
    from adapter.store import open_store

    settings = _settings(ctx)
    with _errors(settings):
        store = open_store(settings.store_url, upgrade=True, timeout=settings.database_timeout)
        store.close()
    where = redact(settings.store_url)
    if store.upgraded is None:
        click.echo(f"{where}: at revision {HEAD}, nothing to upgrade")
    elif store.upgraded.missing:
        made = ", ".join(store.upgraded.missing)
        click.echo(f"{where}: completed at revision {HEAD}, it was incomplete; made {made}")
    else:
        click.echo(f"{where}: upgraded from {store.upgraded.describe()} to revision {HEAD}")


@db.command("current")
@click.pass_context
def db_current(ctx: click.Context) -> None:
    """Print the store's schema revision and the one this release needs; change nothing."""
    settings = _settings(ctx)
    state = _state(settings)
    click.echo(f"{redact(settings.store_url)}: {state.describe()}; this release needs revision {HEAD}")


@db.command("check")
@click.pass_context
def db_check(ctx: click.Context) -> None:
    """Exit 0 when the store's schema is at this release's revision with every table and column of it, else 1
    with what to do (for a deployment that upgrades before it starts the service); change nothing."""
    settings = _settings(ctx)
    state = _state(settings)
    if state.current:
        click.echo(f"{redact(settings.store_url)}: revision {HEAD}, current")
        return
    with _errors(settings, exit_code=1):
        if not state.known:
            raise AdapterError.of("ADP-0014", found=state.describe(), head=HEAD, url=redact(settings.store_url))
        raise AdapterError([behind(state.describe(), settings.store_url, "samhandling serve")])


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj["settings"]
    with _errors(settings):  # a URL of another database, as serve says it, before SQLAlchemy reads it
        dialect_of(settings.store_url)
    missing = settings.missing_store()
    if missing:
        click.echo(missing, err=True)
        sys.exit(2)
    return settings


def _state(settings: Settings) -> SchemaState:
    with _errors(settings):
        return state_of(settings.store_url)
    raise AssertionError("unreachable")  # pragma: no cover - _errors exits


@contextlib.contextmanager
def _errors(settings: Settings, exit_code: int = 2) -> Iterator[None]:
    """One line per issue and ``exit_code``, or one line and exit 2 when the database cannot be used (ADP-0015
    when its server refuses this service)."""
    from adapter.store import database_errors

    try:
        yield
    except AdapterError as error:
        for issue in error.issues:
            click.echo(f"{issue.code}: {issue.text_en}", err=True)
        sys.exit(exit_code)
    except database_errors() as exc:
        refused = exc.setup if isinstance(exc, StoreUnavailable) else refusal(exc, settings.store_url)
        if refused is not None:
            click.echo(f"{refused.code}: {refused.text_en}", err=True)
            sys.exit(2)
        click.echo(f"the database {redact(settings.store_url)} cannot be used: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
