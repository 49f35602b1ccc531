"""FHIR REST writes (create and update): validated, checked against who may change what, stored, passed on.

A mixin of :class:`~adapter.records.Records`, apart so that the write rules read on their own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue
from adapter.narrative import with_narrative
from adapter.parse.fhir_source import Source, read_fhir
from adapter.records.access import ReadCondition, RecordsAccess, check_type, resource_reply, version_tags
from adapter.reply import Reply, operation_outcome
from adapter.search import TYPES, condition_query, parse_criteria, parse_query
from adapter.security import READ_SCOPE, WRITE_SCOPE, Caller
from adapter.sharing import same_record
from adapter.store import StoredResource, Tx
from adapter.validate import Validator
from adapter.validate.implied import claim_implied

#: A FHIR logical id (R4 id datatype); the API's routes take only these.
ID_PATTERN = r"[A-Za-z0-9\-.]{1,64}"
_ID = re.compile(f"^{ID_PATTERN}$")
#: What withdraws a record of each served type instead of a DELETE (refused, ADP-5048): the status change, as R4's
#: status value sets have it. The CapabilityStatement tells it per type.
DELETE_INSTEAD: dict[str, str] = {
    "CarePlan": "status = revoked, or entered-in-error when it was recorded by mistake",
    "EpisodeOfCare": "status = cancelled or finished, or entered-in-error",
    "CareTeam": "status = inactive, or entered-in-error",
    "ServiceRequest": "status = revoked, or entered-in-error",
    "Task": "status = cancelled, or entered-in-error",
    "RiskAssessment": "status = cancelled, or entered-in-error",
    "Consent": "status = inactive (withdrawn), or entered-in-error",
    "QuestionnaireResponse": "status = entered-in-error",
    "ClinicalImpression": "status = entered-in-error",
    "DocumentReference": "status = superseded, or entered-in-error",
    "Goal": "lifecycleStatus = cancelled, or entered-in-error",
    "Patient": "active = false",
    "Subscription": "status = off",
}
#: A conditional create's search: its query text, its (param, values) and its lastUpdated comparisons.
_Condition = tuple[str, list[tuple[str, list[str]]], list[tuple[str, str]]]


class RecordWrites(RecordsAccess):
    """Create and update; the records provide the validator and the distributor."""

    validator: Validator
    distributor: Distributor

    def create(
        self,
        rtype: str,
        data: bytes,
        fmt: str | None,
        caller: Caller,
        *,
        if_none_exist: str | None = None,
        prefer: str = "representation",
    ) -> Reply:
        """POST [type]: validate and store a new resource (the server assigns the id). With ``If-None-Exist``
        (a search) it is a conditional create: see :meth:`_conditional`."""
        condition = None
        if if_none_exist is not None:
            caller.require(WRITE_SCOPE)
            caller.require(READ_SCOPE)  # the search runs as the caller, and a match is given back as a read
            problem = check_type(rtype)
            if problem:
                return problem
            try:
                condition = condition_query(rtype, if_none_exist)
                parsed = parse_query(condition, rtype)
            except AdapterError as error:
                return self._refused(caller, "C", f"{rtype}?{if_none_exist[:200]}", Reply.refused(error.issues))
            condition_text = "&".join(f"{k}={v}" for k, v in condition)
            return self._write(rtype, None, data, fmt, caller, None, prefer, (condition_text, parsed[0], parsed[1]))
        return self._write(rtype, None, data, fmt, caller, None, prefer)

    def update(
        self,
        rtype: str,
        rid: str,
        data: bytes,
        fmt: str | None,
        caller: Caller,
        if_match: str | None,
        *,
        prefer: str = "representation",
        if_none_match: str | None = None,
    ) -> Reply:
        """PUT [type]/[id]: validate and store a new version; ``If-Match: W/"n"`` must name the current one.
        ``If-None-Match: *`` (write only if it does not exist: R4's create-if-absent) or naming the current version
        is refused 412 (ADP-5049) when the resource is there; when it is not, the update is refused as every update
        of an unknown id is (405, ADP-5040: ids are the server's, a PUT never creates)."""
        return self._write(rtype, rid, data, fmt, caller, if_match, prefer, if_none_match=if_none_match)

    def update_conditional(
        self,
        rtype: str,
        query: list[tuple[str, str]],
        data: bytes,
        fmt: str | None,
        caller: Caller,
        if_match: str | None,
        *,
        prefer: str = "representation",
    ) -> Reply:
        """PUT [type]?[search]: R4's conditional update. The search runs as the caller, as a conditional create's
        does (only what it may read is a match, so the answer tells nothing of what it may not) and is audited as
        a search. No match: a create, with the server's id (a body with an id of its own is refused as an update
        of an unknown id is: ids are the server's). One: an update of it under every rule of an update, its
        ``If-Match`` too (a shared plan is never overwritten blind). Several: 412 (ADP-5059)."""
        caller.require(WRITE_SCOPE)
        caller.require(READ_SCOPE)  # the search runs as the caller
        problem = check_type(rtype)
        if problem:
            return problem
        criteria = [(k, v) for k, v in query if k not in ("_format", "_pretty")]
        text = "&".join(f"{k}={v}" for k, v in criteria)
        try:
            if not criteria:
                raise AdapterError([Issue("ADP-5058", "error", args={"type": rtype})])
            params, updated, _, _ = parse_query(criteria, rtype)
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return self._refused(caller, "U", f"{rtype}?{text[:200]}", Reply.refused(error.issues))
        stated = source.resource.get("id") if isinstance(source.resource, dict) else None
        prepared = self._prepared_from(rtype, stated if isinstance(stated, str) else None, source, caller)
        if isinstance(prepared, Reply):
            return prepared
        resource, issues = prepared

        def work(tx: Tx) -> Reply:
            visible = self._matches(tx, rtype, (text, params, updated), caller)
            self._audit_query(tx, caller, f"{rtype}?{text}")
            if len(visible) > 1:
                args = {"query": text, "count": len(visible), "type": rtype}
                return Reply.refused([Issue("ADP-5059", "error", args=args)])
            if not visible:
                return self._write_in(tx, rtype, stated if isinstance(stated, str) else None, resource, caller, None)
            found = visible[0][0]
            if stated is not None and stated != found.id:
                issue = Issue("ADP-5026", "error", expression=f"{rtype}.id", args={"id": stated, "url": found.id})
                return Reply.refused([issue])
            return self._write_in(tx, rtype, found.id, {**resource, "id": found.id}, caller, if_match)

        return preferred(self.store.run(work), prefer, issues)

    def delete(self, rtype: str, rid: str | None, caller: Caller) -> Reply:
        """DELETE [type]/[id] (and the conditional ``DELETE [type]?...``): refused with what to do instead (405,
        ADP-5048), audited as a refused delete. Nothing is deleted: every party holds a copy and the history is the
        record of what was shared; a status change withdraws a record and reaches every party as any change does."""
        return self._refused(caller, "D", f"{rtype}/{rid}" if rid else rtype, delete_refusal(rtype, rid))

    def _write(
        self,
        rtype: str,
        rid: str | None,
        data: bytes,
        fmt: str | None,
        caller: Caller,
        if_match: str | None,
        prefer: str,
        condition: _Condition | None = None,
        *,
        if_none_match: str | None = None,
    ) -> Reply:
        """Create (``rid`` None) or update: read and validated first, then written in one transaction (with the
        search of a conditional create); answered as ``Prefer: return=`` asks."""
        caller.require(WRITE_SCOPE)
        problem = check_type(rtype)
        if problem:
            return problem
        prepared = self._prepared(rtype, rid, data, fmt, caller)
        if isinstance(prepared, Reply):
            return prepared
        resource, issues = prepared

        def work(tx: Tx) -> Reply:
            if condition is not None:
                matched = self._conditional(tx, rtype, condition, caller)
                if matched is not None:
                    return matched
            return self._write_in(tx, rtype, rid, resource, caller, if_match, if_none_match)

        return preferred(self.store.run(work), prefer, issues)

    def _conditional(self, tx: Tx, rtype: str, condition: _Condition, caller: Caller) -> Reply | None:
        """The search of a conditional create (``If-None-Exist``), run as the caller and audited as a search: None
        when nothing matches (create), the match (200, nothing created), or 412 (ADP-5047) for several.

        Only what the caller may read counts as a match. A record it may not see must not tell it that the
        record exists: counted, it would turn a create into a 412 (several) or a refusal (one it may not be
        given), and so answer "something of this patient matches" to anyone who asks. Not counted, the request
        goes on as the plain create it would be without the header, under every rule of a plain create (a
        second record with the same business identifier is still refused as one): the header tells the caller
        nothing a plain create does not. Two conditional creates with the same criteria take turns (a lock on
        the criteria), so the second finds the first's record instead of making a duplicate."""
        text = condition[0]
        visible = self._matches(tx, rtype, condition, caller)
        query = f"{rtype}?{text}"
        if len(visible) != 1:
            self._audit_query(tx, caller, query)
        if not visible:
            return None
        if len(visible) > 1:
            args = {"query": text, "count": len(visible), "type": rtype}
            return Reply.refused([Issue("ADP-5047", "error", args=args)])
        found, disclosure = visible[0]
        self._audit(tx, caller, "E", found, True, disclosure, query=query)
        reply = resource_reply(found)
        reply.headers["Location"] = f"{rtype}/{found.id}/_history/{found.version}"
        return reply

    def _matches(self, tx: Tx, rtype: str, condition: _Condition, caller: Caller) -> list[tuple[StoredResource, bool]]:
        """The matches of a conditional create's or update's search that the caller may read (with whether each
        would be a disclosure), under a lock on the criteria: two requests with the same criteria take turns, so
        the second finds the first's record instead of making another."""
        text, params, updated = condition
        tx.lock_resource(rtype, "?" + text)  # no id has a "?": never a real resource's lock
        return self._visible(tx, tx.search(rtype, params, updated=updated, limit=None), caller)

    def _prepared(
        self, rtype: str, rid: str | None, data: bytes, fmt: str | None, caller: Caller
    ) -> tuple[dict[str, Any], list[Issue]] | Reply:
        """The resource to write, read and validated (an id given when new, its implied profiles claimed), with the
        issues of its validation, or the reply that refuses it before the store is touched."""
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply.refused(error.issues)
        return self._prepared_from(rtype, rid, source, caller)

    def _prepared_from(
        self, rtype: str, rid: str | None, source: Source, caller: Caller
    ) -> tuple[dict[str, Any], list[Issue]] | Reply:
        """:meth:`_prepared` of a body already read."""
        checked = self._checked(rtype, rid, source.resource, lambda: self.validator.validate_source(source))
        if isinstance(checked, Reply):
            return checked
        resource, issues = checked
        if any(i.severity in ("error", "fatal") for i in issues):
            refused = Reply.refused(issues, default=422)  # profile findings refuse a write with 422
            return self._refused(caller, "U" if rid else "C", f"{rtype}/{rid or '(new)'}", refused)
        return resource, issues

    def _checked(
        self, rtype: str, rid: str | None, resource: Any, validate: Callable[[], list[Issue]] | None = None
    ) -> tuple[dict[str, Any], list[Issue]] | Reply:
        """``resource`` as it is written (an id given when new, its implied profiles claimed, a requested
        Subscription active) and the issues of validating it (``validate``, else against its profiles as it is),
        or the refusal of one of another type or with another id than the URL's. Nothing is audited here."""
        if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
            found = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
            issue = Issue("ADP-5027", "error", expression="resourceType", args={"expected": rtype, "found": found})
            return Reply.refused([issue])
        if rid is not None and resource.get("id") != rid:
            stated = resource.get("id", "(none)")
            issue = Issue("ADP-5026", "error", expression=f"{rtype}.id", args={"id": stated, "url": rid})
            return Reply.refused([issue])
        if rid is not None and not _ID.match(rid):
            return Reply.refused([Issue("ADP-5026", "error", args={"id": rid, "url": rid})])
        dangling = _bundle_reference(resource)
        if dangling is not None:  # a reference into a Bundle that is not there: it would never resolve
            issue = Issue("ADP-5096", "error", expression=f"{rtype}.{dangling[0]}", args={"reference": dangling[1]})
            return Reply.refused([issue])
        original = resource
        if rid is None:  # ids are the server's
            resource = {**resource, "id": str(uuid.uuid4())}
        # validated against the profiles its category implies whether it claims them or not, and stored claiming them
        resource = claim_implied(resource, self.validator.definitions)
        if rtype == "Subscription" and resource.get("status") == "requested":  # R4: the server activates it
            resource = {**resource, "status": "active"}
        # with line and column when read from bytes; the id we add changes no rule
        issues = validate() if validate is not None else self.validator.validate(original)
        return cast("dict[str, Any]", resource), issues

    def _write_in(
        self,
        tx: Tx,
        rtype: str,
        rid: str | None,
        resource: dict[str, Any],
        caller: Caller,
        if_match: str | None,
        if_none_match: str | None = None,
    ) -> Reply:
        """The write inside its transaction: the stored version it changes, the caller's right to change it and
        the version it is based on (``If-Match``) are read and checked under the resource's lock."""
        tx.lock_resource(rtype, str(resource["id"]))  # concurrent updates take turns: If-Match sees the latest
        current = tx.read(rtype, str(resource["id"]))
        ref = f"{rtype}/{resource['id']}"
        if current is None and rid is not None:  # ids are the server's: an update never creates
            self._audit_miss(tx, caller, "U", ref)
            issue = Issue("ADP-5040", "error", args={"ref": ref, "type": rtype})
            return Reply.refused([issue], headers={"Allow": "GET"})
        if current is not None:
            refused = self._change_refused(tx, caller, current, if_match, if_none_match)
            if refused is not None:
                return refused
        if current is not None and access.same_content(
            current.body, resource
        ):  # nothing changed: no new version, no sync
            self._audit(tx, caller, "U", current, True, False)
            reply = resource_reply(current)
            reply.headers["Location"] = f"{rtype}/{current.id}/_history/{current.version}"
            return reply
        patient = access.patient_reference(resource)
        refused = self._write_refused(tx, caller, rtype, resource, patient, current)
        if refused is not None:
            return refused
        patient_resource = resource if rtype == "Patient" else (tx.resolve(patient) if patient else None)
        identifiers = access.patient_identifiers(patient_resource)
        creator = current.creator if current else caller.org
        parties = access.parties_of(resource, tx.resolve, creator)
        index = list(access.index_terms(resource, patient, identifiers))
        shown = self._shown_to(tx, caller, patient)  # the text names only what the writer may read
        resource = with_narrative(resource, shown, current.body if current else None)  # a sender's own is kept
        stored = tx.write(resource, patient=patient, parties=parties, index=index, writer=caller.org)
        self._audit(tx, caller, "U" if current else "C", stored, True, False)
        self.distributor.changed(tx, [stored], caller.org)
        reply = resource_reply(stored, status=200 if current else 201)
        reply.headers["Location"] = f"{rtype}/{stored.id}/_history/{stored.version}"
        return reply

    def _shown_to(self, tx: Tx, caller: Caller, patient: str | None) -> access.Resolver:
        """What a written record's narrative may show of what it references: a record of the same patient that
        the writer may read as a party, or a record of no patient (an organisation, a practitioner). Anything else
        (another patient's record, one of this patient the writer has no part in, or one it may read only under
        the patient's consent, which would be a disclosure) resolves to nothing and shows as its bare reference:
        else a stranger could read a patient's name, conditions and goals in the text of a record of its own."""

        def resolve(reference: str) -> dict[str, Any] | None:
            rtype, _, rid = reference.partition("/")
            found = tx.read(rtype, rid) if rtype and rid and "/" not in rid else None
            if found is None or found.deleted:
                return None
            if found.patient is None:
                return found.body
            if found.patient != patient:
                return None
            allowed, disclosure = self._may_read(tx, found, caller)
            return found.body if allowed and not disclosure else None

        return resolve

    def _change_refused(
        self, tx: Tx, caller: Caller, current: StoredResource, if_match: str | None, if_none_match: str | None
    ) -> Reply | None:
        """Why the caller may not change ``current`` as asked (audited): it may not change it (a deny, or no part
        in it), ``If-None-Match`` names it, or ``If-Match`` is missing or stale; None when it may."""
        ref = f"{current.type}/{current.id}"
        decision = self.sharing.may_change(tx, caller.org, current)
        if not decision.allowed:
            issue = Issue("ADP-7013", "error", args={"ref": ref, "org": caller.org})
            if decision.basis == "denied":
                issue = Issue("ADP-7018", "error", args={"ref": ref, "org": caller.org, "consent": decision.consent})
        elif if_none_match is not None and ReadCondition(if_none_match).unchanged(current):
            issue = Issue("ADP-5049", "error", args={"ref": ref, "version": current.version})
        elif if_match is None:
            issue = Issue("ADP-5042", "error", args={"ref": ref, "version": current.version})
        elif if_match.strip() not in version_tags(current.version):
            issue = Issue("ADP-5021", "error", args={"etag": if_match, "version": current.version})
        else:
            return None
        self._audit(tx, caller, "U", current, False, False)
        return Reply.refused([issue])

    def _write_refused(
        self,
        tx: Tx,
        caller: Caller,
        rtype: str,
        resource: dict[str, Any],
        patient: str | None,
        current: StoredResource | None,
    ) -> Reply | None:
        """Why this write may not happen (a Consent by a non-custodian or a non-carer, a second record with the
        same business identifier, a Subscription that cannot be served); None when it may."""
        ref = f"{rtype}/{resource['id']}"
        if rtype == "Consent":
            if caller.org not in access.consent_custodians(resource, tx.resolve):
                issue = Issue("ADP-7012", "error", expression="Consent.organization", args={"org": caller.org})
                return self._refused_in(tx, caller, "C", ref, Reply.refused([issue]))
            if patient and not tx.cares_for(caller.org, patient):
                issue = Issue("ADP-7016", "error", args={"org": caller.org, "patient": patient})
                return self._refused_in(tx, caller, "C", ref, Reply.refused([issue]))
        if rtype == "Subscription":
            problem = self._subscription_problem(resource, caller.org)
            if problem:
                issue = Issue("ADP-5043", "error", expression="Subscription", args={"detail": problem})
                return self._refused_in(tx, caller, "C", ref, Reply.refused([issue]))
        same = same_record(tx, rtype, resource, patient) if current is None else None
        if same is not None:  # a person or organisation is one record nationwide, a record one per patient
            identifier = ", ".join(access.identity_tokens(rtype, resource))
            if self.sharing.may_change(tx, caller.org, same).allowed:
                issue = Issue("ADP-5041", "error", args={"ref": f"{rtype}/{same.id}", "identifier": identifier})
                return self._refused_in(tx, caller, "C", ref, Reply.refused([issue]))
            # One it has no part in: not named (its id would lead on to the patient's records), and the attempt is
            # audited under that record's patient, so that the patient's parties see who asked.
            self._event(
                tx,
                caller,
                "C",
                "refused",
                [f"{same.type}/{same.id}"],
                patient=same.patient,
                detail=f"a create with the identifier of a record organisation {caller.org} has no part in",
            )
            issue = Issue("ADP-5095", "error", args={"type": rtype, "identifier": identifier, "org": caller.org})
            return Reply.refused([issue])
        return None

    def _subscription_problem(self, subscription: dict[str, Any], org: str) -> str | None:
        """What keeps a Subscription from being served: a rest-hook to an endpoint of the subscriber's own (on a
        host and port the routing table routes its messages to: patient data goes nowhere else, and the service
        never posts to an address a caller makes up), headers without line breaks, criteria on one of the types
        served here."""
        channel: dict[str, Any] = subscription["channel"] if isinstance(subscription.get("channel"), dict) else {}
        if channel.get("type") != "rest-hook":
            return "only channel.type rest-hook is supported"
        endpoint = str(channel.get("endpoint") or "")
        own = {_origin(r.destination) for r in self.distributor.routes.routes if r.receiver == org}
        if not endpoint.startswith(("http://", "https://")) or _origin(endpoint) not in own:
            known = ", ".join(sorted(own)) or "none: the routing table has no route to this organisation"
            return f"channel.endpoint must be on a host the routing table routes {org}'s messages to ({known})"
        headers = channel.get("header")
        if headers is not None and (
            not isinstance(headers, list) or any(not isinstance(h, str) or "\r" in h or "\n" in h for h in headers)
        ):
            return "channel.header must be a list of single-line 'Name: value' strings"
        if channel.get("payload") not in (None, "", "application/fhir+json", "application/json"):
            return "channel.payload must be empty or application/fhir+json"
        criteria = parse_criteria(str(subscription.get("criteria") or ""))
        if criteria is None or criteria[0] not in TYPES or criteria[0] == "Subscription":
            return f"criteria must be a search on one of {', '.join(t for t in TYPES if t != 'Subscription')}"
        try:
            parse_query(criteria[1], criteria[0])
        except AdapterError as error:
            return error.issues[0].text_en
        return None


def preferred(reply: Reply, prefer: str, issues: list[Issue]) -> Reply:
    """A write's answer as ``Prefer: return=`` asks: ``minimal`` (no body; the Location, ETag and Last-Modified
    say what was written), ``OperationOutcome`` (the outcome of validating it), else the resource. A refusal is
    always its OperationOutcome."""
    if reply.status not in (200, 201) or prefer == "representation":
        return reply
    if prefer == "minimal":
        return Reply(reply.status, headers=reply.headers)
    return Reply(reply.status, operation_outcome(issues), headers=reply.headers)


def delete_refusal(rtype: str, rid: str | None) -> Reply:
    """The answer to a DELETE of ``rtype`` (its ``rid``, or the type's: a conditional delete), on its own or as a
    Bundle entry: 405 (ADP-5048) with the status change to make instead and what the path allows, or the refusal of
    a type not served."""
    problem = check_type(rtype)
    if problem:
        return problem
    ref = f"{rtype}/{rid}" if rid else rtype
    issue = Issue("ADP-5048", "error", args={"ref": ref, "instead": f"{rtype}.{DELETE_INSTEAD[rtype]}"})
    allowed = "GET, PUT" if rid else "GET, POST, PUT"  # read and update; search, create, conditional update
    return Reply.refused([issue], headers={"Allow": allowed})


def _bundle_reference(resource: dict[str, Any]) -> tuple[str, str] | None:
    """(path, reference) of the first ``reference`` to a ``urn:uuid:`` (a Bundle entry's fullUrl) in a resource
    written on its own, where there is no Bundle to find it in; None when there is none. A transaction rewrites
    its own before a resource gets here. Walked without recursion, however deep the resource."""
    stack: list[tuple[str, Any]] = [("", resource)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            reference = value.get("reference")
            if isinstance(reference, str) and reference.startswith("urn:uuid:"):
                return (path.lstrip(".") or "reference"), reference[:100]
            stack.extend((f"{path}.{key}", item) for key, item in value.items() if isinstance(item, dict | list))
        elif isinstance(value, list):
            stack.extend((f"{path}[{n}]", item) for n, item in enumerate(value) if isinstance(item, dict | list))
    return None


def _origin(url: str) -> str:
    """scheme://host:port of a URL (the port made explicit)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"
