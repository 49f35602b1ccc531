"""Alembic's environment for the store: run the migrations on the connection that
:func:`adapter.store.migrate.upgrade` opened (and locked), with the store's own version table.

There is no ``alembic.ini`` and no SQLAlchemy model: the revisions write their SQL themselves (``op.execute``,
``op.add_column``), so nothing here describes tables, and autogenerate is not used.
"""

from __future__ import annotations

from alembic import context

from adapter.store.schema import VERSION_TABLE

context.configure(connection=context.config.attributes["connection"], version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
