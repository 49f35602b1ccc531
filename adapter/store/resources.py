"""FHIR resources with every version kept, their search index and the care relations read from them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from adapter.store.base import TxBase, compared
from adapter.store.rows import StoredResource, utc_now


class ResourcesTx(TxBase):
    """Resource versions, search and who takes part in a patient's care (an area of :class:`~adapter.store.Tx`)."""

    def read(self, rtype: str, rid: str, version: int | None = None) -> StoredResource | None:
        """The current version (or ``version``) of a resource, deleted ones included; None when unknown."""
        if version is None:
            row = self._sql(_RESOURCE + "WHERE type = ? AND id = ? AND current = 1", (rtype, rid)).fetchone()
        else:
            row = self._sql(_RESOURCE + "WHERE type = ? AND id = ? AND version = ?", (rtype, rid, version)).fetchone()
        return _resource(row) if row else None

    def history(self, rtype: str, rid: str) -> list[StoredResource]:
        """Every version of a resource, newest first."""
        rows = self._sql(_RESOURCE + "WHERE type = ? AND id = ? ORDER BY version DESC", (rtype, rid)).fetchall()
        return [_resource(row) for row in rows]

    def versions_since(self, types: Sequence[str], since: str | None = None) -> list[tuple[str, str, int, str]]:
        """(type, id, version, lastUpdated) of every version of the resources of ``types`` made at or after
        ``since`` (an instant as the store writes them; None: all), newest first: the index of a type or system
        history, without the bodies (those of the page are read with :meth:`read`)."""
        if not types:
            return []
        args: list[Any] = list(types)
        where = f"type IN ({', '.join('?' for _ in types)})"
        if since is not None:
            where += " AND last_updated >= ?"
            args.append(since)
        sql = (
            "SELECT type, id, version, last_updated FROM resources WHERE "  # noqa: S608 - placeholders only
            + where
            + " ORDER BY last_updated DESC, type, id, version DESC"
        )
        return [(row[0], row[1], int(row[2]), row[3]) for row in self._sql(sql, args).fetchall()]

    def current_since(self, types: Sequence[str], since: str | None = None) -> list[StoredResource]:
        """The current versions (deleted ones too) of the resources of ``types`` with a version made at or after
        ``since`` (the current one is the latest, so its own lastUpdated tells): whose access decides who may see
        their history."""
        if not types:
            return []
        args: list[Any] = list(types)
        where = f"current = 1 AND type IN ({', '.join('?' for _ in types)})"
        if since is not None:
            where += " AND last_updated >= ?"
            args.append(since)
        return [_resource(row) for row in self._sql(_RESOURCE + "WHERE " + where, args).fetchall()]

    def lock_resource(self, rtype: str, rid: str) -> None:
        """Hold the resource ``rtype/rid`` (existing or not) until this transaction ends, so that two transactions
        writing it take turns: each reads the version the other committed (PostgreSQL runs them side by side, and
        without this both would write the same next version, and one would fail on the primary key). SQLite
        transactions take turns already (``BEGIN IMMEDIATE``). Taking it again in the same transaction is free."""
        if self.dialect == "postgresql":
            self._sql("SELECT pg_advisory_xact_lock(?, hashtext(?))", (_RESOURCE_LOCKS, f"{rtype}/{rid}"))

    def write(
        self,
        body: dict[str, Any],
        *,
        patient: str | None,
        parties: Iterable[str],
        index: Iterable[tuple[str, str]],
        writer: str | None,
        deleted: bool = False,
    ) -> StoredResource:
        """Store a new version of ``body`` (its resourceType and id say which), written by the organisation
        ``writer``; returns it with meta filled in.

        ``index`` gives the (search parameter, value) pairs of this version and ``parties`` its parties: they are
        this version's own, not added to those of earlier versions (:func:`adapter.access.parties_of`)."""
        rtype, rid = str(body["resourceType"]), str(body["id"])
        self.lock_resource(rtype, rid)
        # the current version's number and parties (its body is not needed: not read, not parsed)
        previous = self._sql(
            "SELECT version, " + _CREATOR + " FROM resources WHERE type = ? AND id = ? AND current = 1",  # noqa: S608
            (rtype, rid),
        ).fetchone()
        version = int(previous[0]) + 1 if previous else 1
        creator = previous[1] if previous else writer
        stamp = utc_now()
        all_parties = sorted(set(parties))
        body = {**body, "meta": {**body.get("meta", {}), "versionId": str(version), "lastUpdated": stamp}}
        if previous:
            # only the current row: every older version has current = 0 already (touching them all made each
            # write slower than the one before)
            self._sql("UPDATE resources SET current = 0 WHERE type = ? AND id = ? AND current = 1", (rtype, rid))
        self._sql(
            "INSERT INTO resources (type, id, version, last_updated, current, deleted, patient, parties, body, writer) "
            "VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
            (rtype, rid, version, stamp, int(deleted), patient, _parties(all_parties), json.dumps(body), writer),
        )
        self._sql("DELETE FROM search WHERE type = ? AND id = ?", (rtype, rid))
        terms = sorted(set(index)) if not deleted else []
        if terms:
            self._sql_many(
                "INSERT INTO search (type, id, param, value) VALUES (?, ?, ?, ?)",
                [(rtype, rid, param, value) for param, value in terms],
            )
        return StoredResource(
            rtype, rid, version, stamp, deleted, patient, frozenset(all_parties), body, writer, creator
        )

    def search(
        self,
        rtype: str,
        params: Sequence[tuple[str, Sequence[str]]],
        *,
        updated: Sequence[tuple[str, str]] = (),
        party: str | None = None,
        limit: int | None = 100,
    ) -> list[StoredResource]:
        """Current, not deleted resources of ``rtype`` matching every (param, any of values), every (operator,
        instant) on lastUpdated (``>=``, ``<`` ...) and, when ``party`` is given, with that organisation among
        their parties; most recently updated first, at most ``limit`` (None: all)."""
        # With terms, the matches are found from the search index and each read by its id (resources_id). SQLite's
        # planner, before a store has statistics (it gathers none by itself), would rather walk resources_current
        # over every current resource of the type: "+current" (the same test, but no indexed column) keeps that
        # index from being chosen for it. PostgreSQL's autovacuum analyses a table soon after it grows.
        terms = self.dialect == "sqlite" and any(param != "_id" for param, _ in params)
        where: list[str] = ["type = ?", "+current = 1" if terms else "current = 1", "deleted = 0"]
        args: list[Any] = [rtype]
        for param, values in params:
            marks = ", ".join("?" for _ in values)
            if param == "_id":
                where.append(f"id IN ({marks})")
                args.extend(values)
                continue
            where.append(f"id IN (SELECT id FROM search WHERE type = ? AND param = ? AND value IN ({marks}))")  # noqa: S608
            args.extend([rtype, param, *values])
        where.extend(compared("last_updated", updated, args))
        if party is not None:
            where.append("parties LIKE ?")
            args.append(f"% {party} %")
        # only fixed fragments and "?" placeholders are joined here; values are always parameters
        condition = " AND ".join(where)
        order = " ORDER BY last_updated DESC, id"
        if limit is None:
            return [_resource(row) for row in self._sql(_RESOURCE + "WHERE " + condition + order, args).fetchall()]
        # a page: its keys first, then the bodies of those alone (sorting every match with its body and creator
        # cost a time that grew with the matches, not with the page)
        page = "(SELECT id AS page_id, version AS page_version FROM resources WHERE " + condition + order  # noqa: S608
        page += " LIMIT ?) page"
        sql = (
            _RESOURCE.removesuffix("FROM resources ")
            + f"FROM {page} JOIN resources ON resources.type = ? AND resources.id = page_id "
            + "AND resources.version = page_version"
            + order
        )
        return [_resource(row) for row in self._sql(sql, [*args, limit, rtype]).fetchall()]

    def resolve(self, reference: str) -> dict[str, Any] | None:
        """The current body of the stored resource ``Type/id`` (None when unknown, deleted or not that form)."""
        rtype, _, rid = reference.partition("/")
        found = self.read(rtype, rid) if rtype and rid and "/" not in rid else None
        return found.body if found and not found.deleted else None

    def cares_for(self, org: str, patient: str) -> bool:
        """Whether ``org`` takes part in the care of ``patient``: it is party to the Patient record, or named by a
        record of the patient written by an organisation that takes part (and so on). Records an organisation
        writes on its own, or that organisations outside the care write about each other, make nobody a carer; nor
        does a Consent naming it (a permit or deny is about it, not a part in the care)."""
        return org in self.carers(patient)

    def carers(self, patient: str) -> set[str]:
        """The organisations that take part in the care of ``patient`` (see :meth:`cares_for`): from the parties
        of the Patient record, each record a carer created adds the organisations it names."""
        rows = self._sql(
            "SELECT type, parties, " + _CREATOR + " FROM resources WHERE patient = ? AND current = 1 "  # noqa: S608
            "AND deleted = 0 AND type <> 'Consent'",
            (patient,),
        ).fetchall()
        carers = {her for rtype, parties, _ in rows if rtype == "Patient" for her in parties.split()}
        records = [(set(parties.split()), creator) for rtype, parties, creator in rows if rtype != "Patient"]
        grown = True
        while grown:
            grown = False
            for parties, creator in records:
                if creator in carers and not parties <= carers:
                    carers |= parties
                    grown = True
        return carers

    def find(self, rtype: str, param: str, value: str) -> list[StoredResource]:
        """Current resources of ``rtype`` with this search value (e.g. a Patient by ``identifier``)."""
        return self.search(rtype, [(param, [value])])

    def patient_resources(self, rtype: str, patient: str) -> list[StoredResource]:
        """Current, not deleted resources of ``rtype`` that belong to ``patient`` (``Patient/<id>``)."""
        sql = _RESOURCE + "WHERE type = ? AND patient = ? AND current = 1 AND deleted = 0"
        return [_resource(row) for row in self._sql(sql, (rtype, patient)).fetchall()]


#: The first key of the advisory locks on resources (the schema lock is 7224, in the one-key space).
_RESOURCE_LOCKS = 7225
#: the writer of a resource's first version, its creator (a primary-key lookup per row read)
_CREATOR = "(SELECT f.writer FROM resources f WHERE f.type = resources.type AND f.id = resources.id AND f.version = 1)"
_RESOURCE = (
    "SELECT type, id, version, last_updated, deleted, patient, parties, body, writer, "  # noqa: S608 - fixed text
    + _CREATOR
    + " FROM resources "
)


def _parties(parties: Iterable[str]) -> str:
    return " " + " ".join(parties) + " "


def _resource(row: Any) -> StoredResource:
    return StoredResource(
        row[0],
        row[1],
        int(row[2]),
        row[3],
        bool(row[4]),
        row[5],
        frozenset(row[6].split()),
        json.loads(row[7]),
        row[8],
        row[9],
    )
