"""A record read for its page: the record with the same access decision and audit as the FHIR read, and what it
references that the page shows (the people, organisations and places it names, its goals, its care team and the
team's members, the patient).

A mixin of :class:`~adapter.records.Records`. The REST API does not serve Practitioner, Organization, Location,
RelatedPerson or Goal, so a page cannot read them one by one; this read includes them, as the emergency read
includes a crisis plan's contacts. Only resources of the record's patient or of no patient are included (a forged
reference to another patient's record never shows it), a record of the patient only when the caller may read it
(a deny wins), and everything included is audited as disclosed with the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.errors import Issue
from adapter.records.access import RecordsAccess, check_type, crisis_plans
from adapter.reply import Reply
from adapter.security import READ_SCOPE, Caller
from adapter.store import StoredResource, Tx

#: What a record's page may show of what it references (followed one step from the record).
PAGE_TYPES = frozenset(
    {
        "Patient",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "RelatedPerson",
        "Goal",
        "CareTeam",
        "DocumentReference",
    }
)
#: What an included care team brings along: its members and their organisations.
MEMBER_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization", "RelatedPerson", "Patient"})


class RecordPages(RecordsAccess):
    """The read of a record for its page (see the module)."""

    def current_crisis_plan(self, pid: str, caller: Caller) -> str | Reply:
        """The id of the patient's current crisis plan: of the structured plans written by organisations that take
        part in the patient's care (anyone may write a plan of their own, and a page must never present one a
        stranger made up as the patient's), the one changed last. Whether the caller may read it is decided by
        :meth:`read_for_page`. No such patient or plan: 404, audited with the patient as a failed read."""
        caller.require(READ_SCOPE)

        def work(tx: Tx) -> str | Reply:
            patient = tx.read("Patient", pid)
            plans = [] if patient is None or patient.deleted else crisis_plans(tx, patient)
            structured = [p for p in plans if p.type == "CarePlan"]
            if not structured:
                what = f"Patient/{pid}" if patient is None else f"Patient/{pid}/kriseplan"
                self._event(tx, caller, "R", "failed", [what], patient=pid if patient else None, detail="not found")
                ref = f"Gjeldende krise- og mestringsplan for Patient/{pid}"
                return Reply.refused([Issue("ADP-5020", "error", args={"ref": ref})])
            return max(structured, key=lambda p: p.last_updated).id

        return self.store.run(work)

    def read_for_page(
        self,
        rtype: str,
        rid: str,
        caller: Caller,
        base: str,
        shown: Callable[[dict[str, Any]], bool] = lambda _: True,
    ) -> Reply:
        """``rtype/rid`` as a searchset Bundle: the record (search mode ``match``), then what it references that its
        page shows (``include``; nothing when ``shown`` says the record gets no page). Refused, missing or deleted
        exactly as :meth:`read` (and audited so); what is included is audited in one more AuditEvent, a disclosure
        to the caller that names each resource."""
        ref = f"{rtype}/{rid}"
        caller.require(READ_SCOPE)
        problem = check_type(rtype)
        if problem:
            return self._refused(caller, "R", ref, problem)

        def work(tx: Tx) -> Reply:
            found = tx.read(rtype, rid)
            if found is None:
                self._audit_miss(tx, caller, "R", ref)
                return Reply.refused([Issue("ADP-5020", "error", args={"ref": ref})])
            allowed, disclosure = self._may_read(tx, found, caller)
            self._audit(tx, caller, "R", found, allowed, disclosure)
            if not allowed:
                return self._forbidden(tx, found, caller)
            if found.deleted:
                return Reply.refused([Issue("ADP-5024", "error", args={"ref": ref})])
            included = self._page_references(tx, found, caller) if shown(found.body) else []
            if included:
                what = [f"{r.type}/{r.id}/_history/{r.version}" for r in included]
                detail = f"included with {ref}/_history/{found.version} for its page"
                self._event(
                    tx,
                    caller,
                    "R",
                    "success",
                    what,
                    patient=found.patient,
                    kind="disclosure",
                    recipient=caller.org,
                    detail=detail,
                )
            entries = [_entry(base, found, "match"), *(_entry(base, r, "include") for r in included)]
            return Reply(200, {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": entries})

        return self.store.run(work)

    def _page_references(self, tx: Tx, record: StoredResource, caller: Caller) -> list[StoredResource]:
        """What ``record`` references that its page shows, and the members of the care teams among them: each of
        the record's patient or of no patient, and one of the patient only when the caller may read it."""
        seen = {f"{record.type}/{record.id}"}
        consents = self.sharing.consents(tx, record.patient)
        included: list[StoredResource] = []

        def take(reference: str, types: frozenset[str]) -> StoredResource | None:
            rtype, _, rid = reference.partition("/")
            if reference in seen or rtype not in types or not rid or "/" in rid:
                return None
            seen.add(reference)
            found = tx.read(rtype, rid)
            if found is None or found.deleted or found.patient not in (None, record.patient):
                return None  # nothing of another patient's, whatever the record says
            if found.patient is not None and not self.sharing.decide(tx, caller.org, found, consents=consents).allowed:
                return None
            included.append(found)
            return found

        for reference in references(record.body):
            found = take(reference, PAGE_TYPES)
            if found is not None and found.type == "CareTeam":
                for member in references(found.body):
                    take(member, MEMBER_TYPES)
        return included


def references(value: Any) -> list[str]:
    """Every literal reference (``Type/id``) in a resource, in document order, each once."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            target = item.get("reference")
            if isinstance(target, str) and target.count("/") == 1 and target not in found:
                found.append(target)
            stack.extend(reversed([v for k, v in item.items() if k not in ("reference", "text", "contained")]))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _entry(base: str, resource: StoredResource, mode: str) -> dict[str, Any]:
    return {"fullUrl": f"{base}/{resource.type}/{resource.id}", "resource": resource.body, "search": {"mode": mode}}
