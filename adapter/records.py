"""FHIR REST over the shared records: read, vread, history, search, create and update, with access control,
consent and an AuditEvent for every read, write and disclosure.

Who may see what (:mod:`adapter.access`): an organisation reads and changes the resources it is party to. Another
organisation reads a patient's plan only under the patient's active Consent naming it; that read is a disclosure
and is audited as one. Searches return only what the caller may see. Writes are validated against their profiles
first (422 with the OperationOutcome when they do not conform); updates honour ``If-Match`` (412 on a stale
version). Every answer is a :class:`~adapter.pipeline.Reply`; errors are OperationOutcomes with stable codes.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from adapter import access
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.pipeline import Reply
from adapter.receipt.audit import audit_event
from adapter.security import AUDIT_SCOPE, READ_SCOPE, WRITE_SCOPE, Caller
from adapter.store import Store, StoredResource, Tx
from adapter.store.sql import utc_now
from adapter.validate import Validator, operation_outcome

#: The resource types the REST API serves, each with the R4 search parameters it supports besides _lastUpdated,
#: _count and _offset (token, or reference for patient and subject; these two also take ``:identifier``). The
#: CapabilityStatement is built from this table.
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    "CarePlan": ("identifier", "patient", "subject", "category", "status", "intent"),
    "EpisodeOfCare": ("identifier", "patient", "status", "type"),
    "CareTeam": ("identifier", "patient", "subject", "category", "status"),
    "ServiceRequest": ("identifier", "patient", "subject", "category", "status", "intent", "code"),
    "Task": ("identifier", "patient", "subject", "status", "intent", "code"),
    "RiskAssessment": ("identifier", "patient", "subject"),
    "Consent": ("identifier", "patient", "category", "status"),
    "QuestionnaireResponse": ("identifier", "patient", "subject", "status"),
    "Patient": ("identifier", "gender"),
}
TYPES = tuple(SEARCH_PARAMS)
#: A FHIR logical id (R4 id datatype); the API's routes take only these.
ID_PATTERN = r"[A-Za-z0-9\-.]{1,64}"
_DATE_PREFIX = re.compile(r"^(eq|lt|le|gt|ge)?(\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$")
_OPERATOR = {"eq": ">=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ID = re.compile(f"^{ID_PATTERN}$")


class Records:
    """REST operations over the store; one per app. A caller without the scope an operation needs gets
    :class:`~adapter.errors.AuthError` (ADP-7006), which the API answers with 403."""

    def __init__(self, store: Store, validator: Validator, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.validator = validator
        self.clock = clock

    # --- reading --------------------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str, caller: Caller, version: int | None = None) -> Reply:
        """GET [type]/[id] and GET [type]/[id]/_history/[vid]."""
        if rtype == "AuditEvent":  # searched with the audit scope, never read one by one
            where = {"method": "GET", "path": f"/AuditEvent/{rid}", "allowed": "GET /AuditEvent?... (search)"}
            return Reply(405, operation_outcome([Issue("ADP-5028", "error", args=where)]))
        caller.require(READ_SCOPE)
        problem = _check_type(rtype)
        if problem:
            return problem

        def work(tx: Tx) -> Reply:
            found = tx.read(rtype, rid, version)
            if found is None:
                ref = f"{rtype}/{rid}" + (f"/_history/{version}" if version is not None else "")
                return Reply(404, operation_outcome([Issue("ADP-5020", "error", args={"ref": ref})]))
            allowed, disclosure = self._may_read(tx, found, caller)
            self._audit(tx, caller, "R", found, allowed, disclosure)
            if not allowed:
                return _forbidden(rtype, rid, caller)
            if found.deleted:
                return Reply(410, operation_outcome([Issue("ADP-5024", "error", args={"ref": f"{rtype}/{rid}"})]))
            return _resource_reply(found)

        return self.store.run(work)

    def history(self, rtype: str, rid: str, caller: Caller, base: str) -> Reply:
        """GET [type]/[id]/_history: every version, newest first, as a history Bundle."""
        caller.require(READ_SCOPE)
        problem = _check_type(rtype)
        if problem:
            return problem

        def work(tx: Tx) -> Reply:
            versions = tx.history(rtype, rid)
            if not versions:
                return Reply(404, operation_outcome([Issue("ADP-5020", "error", args={"ref": f"{rtype}/{rid}"})]))
            allowed, disclosure = self._may_read(tx, versions[0], caller)
            self._audit(tx, caller, "R", versions[0], allowed, disclosure)
            if not allowed:
                return _forbidden(rtype, rid, caller)
            entries = [
                {
                    "fullUrl": f"{base}/{v.type}/{v.id}",
                    **({} if v.deleted else {"resource": v.body}),
                    "request": {
                        "method": "DELETE" if v.deleted else "POST" if v.version == 1 else "PUT",
                        "url": v.type if v.version == 1 and not v.deleted else f"{v.type}/{v.id}",
                    },
                    "response": {"status": "200", "etag": f'W/"{v.version}"', "lastModified": v.last_updated},
                }
                for v in versions
            ]
            return Reply(200, {"resourceType": "Bundle", "type": "history", "total": len(entries), "entry": entries})

        return self.store.run(work)

    def search(self, rtype: str, query: list[tuple[str, str]], caller: Caller, base: str) -> Reply:
        """GET [type]?params: the current resources the caller may see that match every parameter."""
        caller.require(AUDIT_SCOPE if rtype == "AuditEvent" else READ_SCOPE)
        problem = None if rtype == "AuditEvent" else _check_type(rtype)
        if problem:
            return problem
        try:
            params, updated, count, offset = _parse_query(query, rtype)
        except AdapterError as error:
            return Reply(400, operation_outcome(error.issues))
        if rtype == "AuditEvent":
            return self._search_audit(query, params, updated, count, offset, base)

        # A type shared under consent may be visible without the caller being party to it: those are all read
        # and judged one by one; for the others the store keeps to the caller's own. All matches are read, so
        # the total and the pages are right whatever share of them the caller may see.
        party = None if rtype in access.CONSENTED_TYPES else caller.org

        def work(tx: Tx) -> Reply:
            found = tx.search(rtype, params, updated=updated, party=party, limit=None)
            visible = []
            for resource in found:
                allowed, disclosure = self._may_read(tx, resource, caller)
                if allowed:
                    visible.append((resource, disclosure))
            page = visible[offset : offset + count]
            text = "&".join(f"{k}={v}" for k, v in query)
            for resource, disclosure in page:
                self._audit(tx, caller, "E", resource, True, disclosure, query=f"{rtype}?{text}")
            if not page:
                self._audit_query(tx, caller, f"{rtype}?{text}")
            entries = [
                {"fullUrl": f"{base}/{r.type}/{r.id}", "resource": r.body, "search": {"mode": "match"}} for r, _ in page
            ]
            return Reply(200, _searchset(f"{base}/{rtype}", query, len(visible), count, offset, entries))

        return self.store.run(work)

    def _search_audit(
        self,
        query: list[tuple[str, str]],
        params: list[tuple[str, list[str]]],
        recorded: list[tuple[str, str]],
        count: int,
        offset: int,
        base: str,
    ) -> Reply:
        wanted = dict(params)
        patient = wanted["patient"][0] if wanted.get("patient") else None
        total, events = self.store.run(
            lambda tx: tx.audits(patient=patient, recorded=recorded, limit=count, offset=offset)
        )
        entries = [
            {"fullUrl": f"{base}/AuditEvent/{e['id']}", "resource": e, "search": {"mode": "match"}} for e in events
        ]
        return Reply(200, _searchset(f"{base}/AuditEvent", query, total, count, offset, entries))

    # --- writing --------------------------------------------------------------------------------------------

    def create(self, rtype: str, data: bytes, fmt: str | None, caller: Caller) -> Reply:
        """POST [type]: validate and store a new resource (the server assigns the id)."""
        return self._write(rtype, None, data, fmt, caller, None)

    def update(self, rtype: str, rid: str, data: bytes, fmt: str | None, caller: Caller, if_match: str | None) -> Reply:
        """PUT [type]/[id]: validate and store a new version; ``If-Match: W/"n"`` must name the current one."""
        return self._write(rtype, rid, data, fmt, caller, if_match)

    def _write(
        self, rtype: str, rid: str | None, data: bytes, fmt: str | None, caller: Caller, if_match: str | None
    ) -> Reply:
        caller.require(WRITE_SCOPE)
        problem = _check_type(rtype)
        if problem:
            return problem
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply(400, operation_outcome(error.issues))
        resource = source.resource
        if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
            found = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
            issue = Issue("ADP-5027", "error", expression="resourceType", args={"expected": rtype, "found": found})
            return Reply(400, operation_outcome([issue]))
        if rid is not None and resource.get("id") != rid:
            stated = resource.get("id", "(none)")
            issue = Issue("ADP-5026", "error", expression=f"{rtype}.id", args={"id": stated, "url": rid})
            return Reply(400, operation_outcome([issue]))
        if rid is not None and not _ID.match(rid):
            return Reply(400, operation_outcome([Issue("ADP-5026", "error", args={"id": rid, "url": rid})]))
        if rid is None:
            resource = {**resource, "id": str(uuid.uuid4())}
        issues = self.validator.validate_source(source)  # with line and column; the id we add changes no rule
        if any(i.severity in ("error", "fatal") for i in issues):
            return Reply(422, operation_outcome(issues))

        def work(tx: Tx) -> Reply:
            tx.lock_resource(rtype, str(resource["id"]))  # concurrent updates take turns: If-Match sees the latest
            current = tx.read(rtype, str(resource["id"]))
            if current is not None and caller.org not in current.parties:
                self._audit(tx, caller, "U", current, False, False)
                return _forbidden(rtype, current.id, caller)
            if if_match is not None and (current is None or if_match.strip() not in _etags(current.version)):
                stated = current.version if current else None
                issue = Issue("ADP-5021", "error", args={"etag": if_match, "version": stated})
                return Reply(412, operation_outcome([issue]))
            if rtype == "Consent" and caller.org not in access.consent_custodians(resource, tx.resolve):
                issue = Issue("ADP-7012", "error", expression="Consent.organization", args={"org": caller.org})
                return Reply(403, operation_outcome([issue]))
            patient = access.patient_reference(resource)
            patient_resource = resource if rtype == "Patient" else (tx.resolve(patient) if patient else None)
            identifiers = access.patient_identifiers(patient_resource)
            parties = {caller.org} | access.named_organisations(resource, tx.resolve)
            index = list(access.index_terms(resource, patient, identifiers))
            stored = tx.write(resource, patient=patient, parties=parties, index=index)
            self._audit(tx, caller, "U" if current else "C", stored, True, False)
            reply = _resource_reply(stored, status=200 if current else 201)
            reply.headers["Location"] = f"{rtype}/{stored.id}/_history/{stored.version}"
            return reply

        return self.store.run(work)

    def validate(self, rtype: str | None, data: bytes, fmt: str | None, profiles: tuple[str, ...]) -> Reply:
        """POST [type]/$validate and /$validate: the OperationOutcome, always 200 when the input could be read
        (a Parameters wrapper with a ``resource`` part is unwrapped)."""
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply(400, operation_outcome(error.issues))
        resource = source.resource
        if isinstance(resource, dict) and resource.get("resourceType") == "Parameters":
            for part in resource.get("parameter", []):
                if part.get("name") == "resource" and isinstance(part.get("resource"), dict):
                    resource = part["resource"]
                elif part.get("name") == "profile" and part.get("valueUri"):
                    profiles = (*profiles, str(part["valueUri"]))
        if rtype and isinstance(resource, dict) and resource.get("resourceType") != rtype:
            found = resource.get("resourceType")
            issue = Issue("ADP-5027", "error", expression="resourceType", args={"expected": rtype, "found": found})
            return Reply(400, operation_outcome([issue]))
        if resource is source.resource:
            issues = self.validator.validate_source(source, profiles)
        else:
            issues = [*source.issues, *self.validator.validate(resource, profiles)]
        return Reply(200, operation_outcome(issues))

    # --- access and audit ---------------------------------------------------------------------------------------

    def _may_read(self, tx: Tx, resource: StoredResource, caller: Caller) -> tuple[bool, bool]:
        """(allowed, is a disclosure): party to it, or a consented plan of the patient (a disclosure)."""
        if caller.org in resource.parties:
            return True, False
        if resource.type not in access.CONSENTED_TYPES or not resource.patient:
            return False, False
        today = datetime.datetime.fromtimestamp(self.clock(), ZoneInfo("Europe/Oslo")).date().isoformat()
        consents = tx.patient_resources("Consent", resource.patient)
        permitted = any(access.consent_opens(c.body, caller.org, tx.resolve, today, resource.parties) for c in consents)
        return permitted, permitted

    def _audit(
        self,
        tx: Tx,
        caller: Caller,
        action: str,
        resource: StoredResource,
        allowed: bool,
        disclosure: bool,
        query: str | None = None,
    ) -> None:
        event = audit_event(
            kind="disclosure" if disclosure else "rest",
            action=action,
            outcome="success" if allowed else "refused",
            recorded=utc_now(),
            org=caller.org,
            subject=caller.subject,
            what=[f"{resource.type}/{resource.id}/_history/{resource.version}"],
            patient=resource.patient,
            recipient=caller.org if disclosure else None,
            query=query,
        )
        tx.audit(event)

    def _audit_query(self, tx: Tx, caller: Caller, query: str) -> None:
        event = audit_event(
            kind="rest",
            action="E",
            outcome="success",
            recorded=utc_now(),
            org=caller.org,
            subject=caller.subject,
            what=[],
            patient=None,
            query=query,
        )
        tx.audit(event)


def _check_type(rtype: str) -> Reply | None:
    if rtype in TYPES:
        return None
    return Reply(404, operation_outcome([Issue("ADP-5022", "error", args={"type": rtype, "types": ", ".join(TYPES)})]))


def _forbidden(rtype: str, rid: str, caller: Caller) -> Reply:
    issue = Issue("ADP-7008", "error", args={"ref": f"{rtype}/{rid}", "org": caller.org})
    return Reply(403, operation_outcome([issue]))


def _etags(version: int) -> set[str]:
    return {f'W/"{version}"', f'"{version}"', str(version)}


def _resource_reply(found: StoredResource, status: int = 200) -> Reply:
    return Reply(
        status,
        found.body,
        headers={"ETag": f'W/"{found.version}"', "Last-Modified": _http_date(found.last_updated)},
    )


def _http_date(instant: str) -> str:
    moment = datetime.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def _searchset(
    url: str, query: list[tuple[str, str]], total: int, count: int, offset: int, entries: list[dict[str, Any]]
) -> dict[str, Any]:
    """A searchset Bundle with the total of all matches and the links to page through them (self, first,
    previous, next, last), each the query with its own ``_count`` and ``_offset``."""
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
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}


def _parse_query(
    query: list[tuple[str, str]], rtype: str
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, str]], int, int]:
    """Search parameters -> (param, values) pairs, lastUpdated comparisons, _count and _offset; an unknown
    parameter or a bad value is an error (ADP-5023), never silently ignored."""
    params: list[tuple[str, list[str]]] = []
    updated: list[tuple[str, str]] = []
    count, offset = 50, 0
    if rtype == "AuditEvent":
        allowed: tuple[str, ...] = ("patient",)
    else:
        references = [p for p in SEARCH_PARAMS[rtype] if p in ("patient", "subject")]
        allowed = (*SEARCH_PARAMS[rtype], *(f"{p}:identifier" for p in references))
    date_param = "date" if rtype == "AuditEvent" else "_lastUpdated"
    for name, value in query:
        if name in ("_format", "_pretty"):
            continue
        if name in ("_count", "_offset"):
            if not value.isdigit():
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": "not a number"})])
            if name == "_count":
                count = min(int(value), 500)  # 0: the total only
            else:
                offset = int(value)
            continue
        if name == date_param:
            match = _DATE_PREFIX.match(value)
            if not match:
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": f"bad date {value}"})])
            prefix, stamp = match.group(1) or "eq", match.group(2)
            updated.append((_OPERATOR[prefix], stamp))
            if prefix == "eq":
                updated.append(("<", _next(stamp)))
            continue
        if name not in allowed:
            detail = "supported: " + ", ".join((*allowed, date_param, "_count", "_offset"))
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": detail})])
        values = [_reference_value(name, v) for v in value.split(",") if v]
        if not values:
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": "no value"})])
        params.append((name, values))
    return params, updated, count, offset


def _reference_value(name: str, value: str) -> str:
    if name in ("patient", "subject") and "/" not in value:
        return f"Patient/{value}"
    return value


def _next(stamp: str) -> str:
    """Text that sorts after every instant in the period a partial date names (``2026`` covers ``2026-12-31T...``
    but not ``2027``): the upper bound of ``eq``."""
    return stamp + "\uffff"
