"""The store's schema migrations (Alembic): ``env.py`` runs them on the connection :mod:`adapter.store.migrate`
gives it; ``versions/`` holds one file per revision, each written for SQLite and PostgreSQL alike. They ship in the
wheel with the package."""
