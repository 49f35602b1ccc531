"""History: of one resource (``GET [type]/[id]/_history``), of a type (``GET [type]/_history``) and of the system
(``GET /_history``), as history Bundles with their totals and paging links; and the Bundle both history and search
answer with.

A mixin of :class:`~adapter.records.Records`. A version is given only to a caller that may read the resource it is
a version of, decided on its current version as a read decides (a party, or under the patient's Consent; a deny
wins): the history of a record is no more open than the record. The type and system histories count and give only
such versions, so their totals tell nothing of the records the caller may not read; each version given is audited
as a search hit is (a disclosure when the caller is no party), and a page that gives none is audited as the search
it was.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from adapter.errors import AdapterError, Issue
from adapter.records.access import RecordsAccess, check_type
from adapter.reply import Reply
from adapter.search import TYPES, paging
from adapter.security import READ_SCOPE, Caller
from adapter.store import StoredResource, Tx


class RecordHistory(RecordsAccess):
    """The three histories (see the module)."""

    def history(
        self, rtype: str, rid: str, caller: Caller, base: str, query: list[tuple[str, str]] | None = None
    ) -> Reply:
        """GET [type]/[id]/_history: every version, newest first, as a history Bundle with its total and its links
        (``_count`` and ``_offset`` page through it, ``_since`` keeps the versions made at or after an instant). A
        create's entry is answered 201, an update's 200."""
        caller.require(READ_SCOPE)
        problem = check_type(rtype)
        if problem:
            return problem
        query = query or []
        try:
            count, offset, since = paging(query)
        except AdapterError as error:
            return self._refused(caller, "R", f"{rtype}/{rid}/_history", Reply.refused(error.issues))

        def work(tx: Tx) -> Reply:
            versions = tx.history(rtype, rid)
            if not versions:
                self._audit_miss(tx, caller, "R", f"{rtype}/{rid}/_history")
                return Reply.refused([Issue("ADP-5020", "error", args={"ref": f"{rtype}/{rid}"})])
            allowed, disclosure = self._may_read(tx, versions[0], caller)
            self._audit(tx, caller, "R", versions[0], allowed, disclosure)
            if not allowed:
                return self._forbidden(tx, versions[0], caller)
            kept = [v for v in versions if since is None or v.last_updated >= since]
            entries = [history_entry(base, v) for v in kept[offset : offset + count]]
            url = f"{base}/{rtype}/{rid}/_history"
            return Reply(200, bundle("history", url, query, len(kept), count, offset, entries))

        return self.store.run(work)

    def history_of(self, rtype: str | None, caller: Caller, base: str, query: list[tuple[str, str]]) -> Reply:
        """GET [type]/_history (``rtype``) and GET /_history (None: every served type): the versions of the
        resources the caller may read, newest first, paged (``_count``, ``_offset``) and from ``_since``."""
        caller.require(READ_SCOPE)
        where = f"{rtype}/_history" if rtype else "_history"
        problem = check_type(rtype) if rtype else None
        if problem:
            return self._refused(caller, "R", where, problem)
        try:
            count, offset, since = paging(query)
        except AdapterError as error:
            return self._refused(caller, "R", where, Reply.refused(error.issues))
        types = [rtype] if rtype else list(TYPES)
        asked = where + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")

        def work(tx: Tx) -> Reply:
            # (type, id) -> is a disclosure, of the resources (by their current versions) the caller may read
            readable = {(r.type, r.id): d for r, d in self._visible(tx, tx.current_since(types, since), caller)}
            index = [row for row in tx.versions_since(types, since) if (row[0], row[1]) in readable]
            page: list[StoredResource] = []
            for rtype_, rid, version, _ in index[offset : offset + count]:
                found = tx.read(rtype_, rid, version)
                if found is not None:
                    page.append(found)
            for found in page:
                self._audit(tx, caller, "R", found, True, readable[(found.type, found.id)], query=asked)
            if not page:
                self._audit_query(tx, caller, asked)
            entries = [history_entry(base, v) for v in page]
            url = f"{base}/{where}"
            return Reply(200, bundle("history", url, query, len(index), count, offset, entries))

        return self.store.run(work)


def bundle(
    kind: str,
    url: str,
    query: list[tuple[str, str]],
    total: int,
    count: int,
    offset: int,
    entries: list[dict[str, Any]],
) -> dict[str, Any]:
    """A searchset or history Bundle with the total of all matches (versions) and the links to page through them
    (self, first, previous, next, last), each the query with its own ``_count`` and ``_offset``."""
    kept = [(k, v) for k, v in query if k not in ("_count", "_offset")]

    def link(relation: str, at: int) -> dict[str, str]:
        return {"relation": relation, "url": f"{url}?" + urlencode([*kept, ("_count", count), ("_offset", at)])}

    links = [link("self", offset)]
    if count > 0:
        last = max(0, (total - 1) // count * count)
        links.append(link("first", 0))
        if offset > 0:
            links.append(link("previous", max(0, offset - count)))
        if offset + count < total:
            links.append(link("next", offset + count))
        links.append(link("last", last))
    return {"resourceType": "Bundle", "type": kind, "total": total, "link": links, "entry": entries}


def history_entry(base: str, version: StoredResource) -> dict[str, Any]:
    """A history Bundle's entry of one version: what made it (POST for the first, PUT for a later one, DELETE)
    and what that was answered (201 Created for the first, 200 for the others)."""
    created = version.version == 1 and not version.deleted
    return {
        "fullUrl": f"{base}/{version.type}/{version.id}",
        **({} if version.deleted else {"resource": version.body}),
        "request": {
            "method": "DELETE" if version.deleted else "POST" if created else "PUT",
            "url": version.type if created else f"{version.type}/{version.id}",
        },
        "response": {
            "status": "201" if created else "200",
            "etag": f'W/"{version.version}"',
            "lastModified": version.last_updated,
        },
    }
