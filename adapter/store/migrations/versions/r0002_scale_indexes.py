"""Indexes for a store at scale: the current version of a resource found by its type and id, search values that
give the resource's id without reading the table, and the audit trail searched by organisation.

Without ``resources_id`` a read by id walked ``resources_current`` over every current resource of the type (the
planner, with no statistics, took the two equal columns of that index over the primary key's two); with it the
read, the write's look-up of the version before and a search by ``_id`` are one index probe. ``search_match``
replaces ``search_value``: the same columns with the id after them, so a search term yields its ids from the index
alone. ``audit_org`` serves an auditor's search by organisation, page by page in the trail's order (it walked the
whole trail).

This text is frozen: later changes are later revisions, never edits here.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATEMENTS = """
CREATE INDEX IF NOT EXISTS resources_id ON resources (type, id, current);
CREATE INDEX IF NOT EXISTS search_match ON search (type, param, value, id);
CREATE INDEX IF NOT EXISTS audit_org ON audit (org, id);
DROP INDEX IF EXISTS search_value
"""


def upgrade() -> None:
    """Create the new indexes, then drop the one ``search_match`` replaces."""
    for statement in _STATEMENTS.split(";"):
        op.execute(statement)
