"""What every area of a transaction shares: the cursor, the dialect and the placeholder rewriting.

The areas (:mod:`~adapter.store.messages`, :mod:`~adapter.store.resources`, :mod:`~adapter.store.outbox`,
:mod:`~adapter.store.audit`) are mixins over this base, so one ``Tx`` object still reaches all of them inside one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


class TxBase:
    """The cursor of one transaction and the SQL dialect it speaks; the areas build on it."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self._cursor = cursor
        self.dialect = dialect

    def _sql(self, sql: str, params: Iterable[Any] = ()) -> Any:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cursor.execute(sql, tuple(params))
        return self._cursor

    def _sql_many(self, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
        """One statement run for each of ``rows`` (one call instead of a round trip per row where the driver can)."""
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self._cursor.executemany(sql, rows)


OPERATORS = frozenset({"=", "<", "<=", ">", ">="})


def compared(column: str, comparisons: Sequence[tuple[str, str]], args: list[Any]) -> list[str]:
    """SQL conditions ``column <op> ?`` for (operator, value) pairs (operators from a fixed set), values appended to
    ``args``."""
    conditions = []
    for operator, value in comparisons:
        if operator not in OPERATORS:
            raise ValueError(f"unknown comparison {operator!r}")
        conditions.append(f"{column} {operator} ?")
        args.append(value)
    return conditions
