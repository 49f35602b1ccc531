"""The search index's two token forms added with REST conformance (issue 17): ``system|`` (any code of a system)
and ``|code`` (a code without a system), for the records stored before it. Those got only ``code`` and
``system|code``, so ``category=<system>|`` and ``identifier=|<value>`` missed them while they found every record
written since. Derived from the rows already there (no resource is read): per resource and token parameter, each
``system|code`` row gives ``system|`` (never for a patient's identifier: ``patient:identifier=<system>|`` would
name every patient), and each ``code`` row that no ``system|code`` row of the same code explains gives ``|code``.
Rows already there are not written again, so the revision may run on a store that has some of them.

This text is frozen: later changes are later revisions, never edits here.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: The token parameters of the index (adapter.access.index_terms), as that release wrote them.
_TOKENS = ("identifier", "category", "type", "code", "patient:identifier", "subject:identifier")
_BATCH = 5000


def added_terms(param: str, values: set[str]) -> set[str]:
    """The terms of one resource's token parameter that the new forms add to ``values`` (those it has)."""
    explained = {value.partition("|")[2] for value in values if value.partition("|")[0]}
    added = set()
    for value in values:
        system, bar, code = value.partition("|")
        if bar and system and code and not param.endswith(":identifier"):
            added.add(f"{system}|")
        elif not bar and value not in explained:
            added.add(f"|{value}")
    return added - values


def _groups(rows: Iterable[Any]) -> Iterator[tuple[tuple[str, str, str], set[str]]]:
    """(type, id, param) with the set of its values, of rows in that order."""
    key: tuple[str, str, str] | None = None
    values: set[str] = set()
    for row in rows:
        rtype, rid, param, value = (str(column) for column in row)
        if (rtype, rid, param) != key:
            if key is not None:
                yield key, values
            key, values = (rtype, rid, param), set()
        values.add(value)
    if key is not None:
        yield key, values


def upgrade() -> None:
    """Add the missing terms, read in the index's order and written in batches."""
    bind = op.get_bind()
    select = sa.text(
        "SELECT type, id, param, value FROM search WHERE param IN :params ORDER BY type, id, param"
    ).bindparams(sa.bindparam("params", expanding=True))
    insert = sa.text("INSERT INTO search (type, id, param, value) VALUES (:type, :id, :param, :value)")
    rows = list(bind.execute(select, {"params": list(_TOKENS)}))  # read whole before writing the same table
    batch: list[dict[str, str]] = []
    for (rtype, rid, param), values in _groups(rows):
        batch += [{"type": rtype, "id": rid, "param": param, "value": v} for v in sorted(added_terms(param, values))]
        if len(batch) >= _BATCH:
            bind.execute(insert, batch)
            batch = []
    if batch:
        bind.execute(insert, batch)
