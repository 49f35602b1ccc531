"""One module per revision of the store's schema (Alembic loads them by path; the package makes them importable
for mypy and the tests)."""
