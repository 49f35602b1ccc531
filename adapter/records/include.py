"""What a search gives besides its matches, and in what shape: ``_include`` (a CarePlan's goals, care teams,
patient and author), ``_revinclude`` (a Patient's CarePlans), ``_sort``, ``_summary`` and ``_elements``.

A mixin of :class:`~adapter.records.Records`. An included resource is given only when it is of the match's patient
or of no patient (a forged reference to another patient's record never shows it), and one of a served type, or of
a patient, only when the caller may read it by the same decision as a read (a deny wins); what the REST API does
not serve (Practitioner, Organization, ...) goes along as a record's page includes it: only when it is of no
patient. Everything included is audited as disclosed to the caller, one AuditEvent per patient naming each
resource. A summary or a chosen set of elements is tagged SUBSETTED, as R4 says.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from adapter import access
from adapter.records.access import RecordsAccess
from adapter.search import TYPES, Shape, include_target
from adapter.security import Caller
from adapter.store import StoredResource, Tx
from adapter.validate import Validator
from adapter.validate.packages import Definitions

#: Per ``_include`` of a CarePlan: the element it follows and the types it may lead to.
_FOLLOWED: dict[str, tuple[str, frozenset[str]]] = {
    "CarePlan:goal": ("goal", frozenset({"Goal"})),
    "CarePlan:care-team": ("careTeam", frozenset({"CareTeam"})),
    "CarePlan:patient": ("subject", frozenset({"Patient"})),
    "CarePlan:subject": ("subject", frozenset({"Patient"})),
    "CarePlan:author": (
        "author",
        frozenset({"Practitioner", "PractitionerRole", "Organization", "RelatedPerson", "CareTeam", "Patient"}),
    ),
}
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}
_MANDATORY = ("resourceType", "id", "meta")


class RecordIncludes(RecordsAccess):
    """``_include`` and ``_revinclude`` (see the module)."""

    validator: Validator

    def _included(self, tx: Tx, caller: Caller, page: list[StoredResource], shape: Shape) -> list[StoredResource]:
        """What the ``_include`` and ``_revinclude`` of ``shape`` add to ``page``: each once, none of the matches,
        each of the match's patient or of none, and only what the caller may read."""
        seen = {f"{r.type}/{r.id}" for r in page}
        included: list[StoredResource] = []
        consents: dict[str, list[access.ConsentRules]] = {}

        def take(found: StoredResource | None, patient: str | None) -> None:
            if found is None or found.deleted or f"{found.type}/{found.id}" in seen:
                return
            if found.patient not in (None, patient):
                return  # nothing of another patient's, whatever the record says
            if found.patient is not None or found.type in TYPES:
                key = found.patient or ""
                if key not in consents:
                    consents[key] = self.sharing.consents(tx, found.patient)
                if not self._may_read(tx, found, caller, consents[key])[0]:
                    return
            seen.add(f"{found.type}/{found.id}")
            included.append(found)

        for record in page:
            for reference in _followed(record, shape.include):
                rtype, _, rid = reference.partition("/")
                take(tx.read(rtype, rid), record.patient)
            if shape.revinclude and record.type == "Patient" and record.patient:
                for plan in tx.search("CarePlan", [("patient", [record.patient])], limit=None):
                    take(plan, record.patient)
        return included

    def _audit_included(self, tx: Tx, caller: Caller, included: list[StoredResource], query: str) -> None:
        """One disclosure to the caller per patient (and one for what is of no patient), naming each included
        resource."""
        by_patient: dict[str | None, list[str]] = {}
        for resource in included:
            by_patient.setdefault(resource.patient, []).append(
                f"{resource.type}/{resource.id}/_history/{resource.version}"
            )
        for patient, what in by_patient.items():
            self._event(
                tx,
                caller,
                "E",
                "success",
                what,
                patient=patient,
                kind="disclosure",
                recipient=caller.org,
                detail="included with the search",
                query=query,
            )

    def _shaped(self, resource: StoredResource, shape: Shape, match: bool) -> dict[str, Any]:
        """The body of a search entry as ``_summary`` and ``_elements`` ask (those only for the matches), tagged
        SUBSETTED when anything was left out."""
        if shape.summary == "true":
            kept = set(summary_elements(self.validator.definitions, resource.type))
        elif shape.elements and match:
            kept = set(shape.elements)
        else:
            return resource.body
        body = {k: v for k, v in resource.body.items() if _kept(k, kept)}
        meta = dict(body.get("meta") or {})
        meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
        body["meta"] = meta
        return body


@cache
def summary_elements(definitions: Definitions, rtype: str) -> tuple[str, ...]:
    """The top-level elements of ``rtype`` that R4 marks ``isSummary`` (a choice as ``value[x]``)."""
    names = []
    for element in definitions.type_definition(rtype).get("snapshot", {}).get("element", []):
        path = str(element.get("path", ""))
        if element.get("isSummary") and path.count(".") == 1:
            names.append(path.split(".", 1)[1])
    return tuple(names)


def _kept(name: str, kept: set[str]) -> bool:
    """Whether the element ``name`` of a body is among ``kept`` (``valueString`` among ``value[x]``)."""
    if name in kept or name in _MANDATORY:
        return True
    return any(k.endswith("[x]") and name.startswith(k[:-3]) and name[len(k) - 3 : len(k) - 2].isupper() for k in kept)


def _followed(record: StoredResource, include: tuple[str, ...]) -> list[str]:
    """The literal references (``Type/id``) the ``_include`` values follow from ``record``, in order, each once."""
    found: list[str] = []
    for value in include:
        path = ":".join(value.split(":")[:2])
        if not path.startswith(f"{record.type}:") or path not in _FOLLOWED:
            continue
        element, types = _FOLLOWED[path]
        target = include_target(value)
        wanted = types & {target} if target else types
        given = record.body.get(element)
        for item in given if isinstance(given, list) else [given]:
            reference = item.get("reference") if isinstance(item, dict) else None
            if not isinstance(reference, str) or reference.count("/") != 1 or reference in found:
                continue
            rtype, _, rid = reference.partition("/")
            if rtype in wanted and rid:
                found.append(reference)
    return found


def sorted_by(found: list[Any], sort: tuple[tuple[str, bool], ...]) -> list[Any]:
    """``(resource, ...)`` pairs in the order ``_sort`` asks (the first key first); as found when none."""
    ordered = list(found)
    for key, descending in reversed(sort):
        if key == "_id":
            ordered.sort(key=lambda pair: pair[0].id, reverse=descending)
        else:
            ordered.sort(key=lambda pair: pair[0].last_updated, reverse=descending)
    return ordered
