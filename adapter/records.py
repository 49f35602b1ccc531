"""FHIR REST over the shared records: read, vread, history, search, create and update, with access control,
consent and an AuditEvent for every read, write and disclosure.

Who may see what is decided by :mod:`adapter.sharing` (the same rules as the message path): a party reads and
changes; another organisation reads under the patient's Consent (a disclosure, audited as one); a deny wins.
Searches return only what the caller may see. Writes are validated against their profiles, claimed or implied by
their category (422 when they do not conform); ids are the server's (POST; a PUT never creates, so nobody can take
an id first); an update must name the version it is based on (``If-Match``: 428 without, 412 when stale). An
accepted change goes on to every other entitled party (:mod:`adapter.distribute`). The emergency read gives an
organisation with the emergency scope the patient's current crisis plan only. Every read, search, write, refusal
and miss writes an AuditEvent. Every answer is a :class:`~adapter.pipeline.Reply`; errors are OperationOutcomes
with stable codes.
"""

from __future__ import annotations

import datetime
import re
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.pipeline import Reply
from adapter.receipt.audit import audit_event
from adapter.search import TYPES, parse_criteria, parse_query
from adapter.security import AUDIT_SCOPE, EMERGENCY_SCOPE, READ_SCOPE, WRITE_SCOPE, Caller
from adapter.sharing import same_record
from adapter.store import Store, StoredResource, Tx
from adapter.store.sql import utc_now
from adapter.validate import Validator, operation_outcome
from adapter.validate.identifiers import DNR_SYSTEM, FNR_SYSTEM
from adapter.validate.implied import claim_implied

#: The crisis-and-coping plan: what the emergency read gives. Every stored one claims it (claim_implied), so it is
#: found by ``_profile``.
CRISIS_PROFILE = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
#: A crisis plan that came as text or PDF (a Dialogmelding about one): a DocumentReference of this type (Volven
#: 9602 Dokumenttyper, A01-2 Kriseplan), found by the emergency read next to the structured plans.
CRISIS_DOCUMENT = "urn:oid:2.16.578.1.12.4.1.1.9602|A01-2"
#: A FHIR logical id (R4 id datatype); the API's routes take only these.
ID_PATTERN = r"[A-Za-z0-9\-.]{1,64}"
_ID = re.compile(f"^{ID_PATTERN}$")


class Records:
    """REST operations over the store; one per app. A caller without the scope an operation needs gets
    :class:`~adapter.errors.AuthError` (ADP-7006), which the API answers with 403."""

    def __init__(
        self, store: Store, validator: Validator, distributor: Distributor, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.validator = validator
        self.distributor = distributor
        self.sharing = distributor.sharing
        self.clock = clock

    # --- reading --------------------------------------------------------------------------------------------

    def read(self, rtype: str, rid: str, caller: Caller, version: int | None = None) -> Reply:
        """GET [type]/[id] and GET [type]/[id]/_history/[vid]."""
        ref = f"{rtype}/{rid}" + (f"/_history/{version}" if version is not None else "")
        if rtype == "AuditEvent":  # searched, never read one by one
            where = {"method": "GET", "path": f"/AuditEvent/{rid}", "allowed": "GET /AuditEvent?... (search)"}
            return self._refused(
                caller, "R", ref, Reply(405, operation_outcome([Issue("ADP-5028", "error", args=where)]))
            )
        caller.require(READ_SCOPE)
        problem = _check_type(rtype)
        if problem:
            return self._refused(caller, "R", ref, problem)

        def work(tx: Tx) -> Reply:
            found = tx.read(rtype, rid, version)
            if found is None:
                self._audit_miss(tx, caller, "R", ref)
                return Reply(404, operation_outcome([Issue("ADP-5020", "error", args={"ref": ref})]))
            current = found if version is None else tx.read(rtype, rid)
            allowed, disclosure = self._may_read(tx, current or found, caller)
            self._audit(tx, caller, "R", found, allowed, disclosure)
            if not allowed:
                return self._forbidden(tx, current or found, caller)
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
                self._audit_miss(tx, caller, "R", f"{rtype}/{rid}/_history")
                return Reply(404, operation_outcome([Issue("ADP-5020", "error", args={"ref": f"{rtype}/{rid}"})]))
            allowed, disclosure = self._may_read(tx, versions[0], caller)
            self._audit(tx, caller, "R", versions[0], allowed, disclosure)
            if not allowed:
                return self._forbidden(tx, versions[0], caller)
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
        text = "&".join(f"{k}={v}" for k, v in query)
        if rtype == "AuditEvent" and not caller.has(AUDIT_SCOPE):
            caller.require(READ_SCOPE)  # a party to the patient's care searches that patient's trail
        elif rtype != "AuditEvent":
            caller.require(READ_SCOPE)
        problem = None if rtype == "AuditEvent" else _check_type(rtype)
        if problem:
            return self._refused(caller, "E", f"{rtype}?{text}", problem)
        try:
            params, updated, count, offset = parse_query(query, rtype)
        except AdapterError as error:
            return self._refused(caller, "E", f"{rtype}?{text}", Reply(400, operation_outcome(error.issues)))
        if rtype == "AuditEvent":
            return self._search_audit(caller, query, params, updated, count, offset, base)

        # Any type may be shared under consent, so every match is read and judged; the total and the pages
        # are right whatever share of them the caller may see.
        def work(tx: Tx) -> Reply:
            found = tx.search(rtype, params, updated=updated, limit=None)
            consents: dict[str, list[access.ConsentRules]] = {}
            visible = []
            for resource in found:
                patient = resource.patient or ""
                if patient not in consents:
                    consents[patient] = self.sharing.consents(tx, resource.patient)
                allowed, disclosure = self._may_read(tx, resource, caller, consents[patient])
                if allowed:
                    visible.append((resource, disclosure))
            page = visible[offset : offset + count]
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
        caller: Caller,
        query: list[tuple[str, str]],
        params: list[tuple[str, list[str]]],
        recorded: list[tuple[str, str]],
        count: int,
        offset: int,
        base: str,
    ) -> Reply:
        """AuditEvents: an auditor (audit scope) searches all; a party to a patient's care searches that patient's
        (``patient`` required). The search itself is audited."""
        wanted = dict(params)
        patient = wanted["patient"][0] if wanted.get("patient") else None
        text = "AuditEvent?" + "&".join(f"{k}={v}" for k, v in query)

        def work(tx: Tx) -> Reply:
            if not caller.has(AUDIT_SCOPE) and (patient is None or not tx.cares_for(caller.org, patient)):
                self._audit_query(tx, caller, text, patient=patient, outcome="refused")
                issue = Issue("ADP-7008", "error", args={"ref": patient or "AuditEvent", "org": caller.org})
                return Reply(403, operation_outcome([issue]))
            self._audit_query(tx, caller, text, patient=patient)
            total, events = tx.audits(patient=patient, recorded=recorded, limit=count, offset=offset)
            entries = [
                {"fullUrl": f"{base}/AuditEvent/{e['id']}", "resource": e, "search": {"mode": "match"}} for e in events
            ]
            return Reply(200, _searchset(f"{base}/AuditEvent", query, total, count, offset, entries))

        return self.store.run(work)

    def emergency(self, identifier: str, reason: str, caller: Caller, base: str) -> Reply:
        """The emergency read (``GET /Patient/$krise?identifier=FNR&reason=...``): an organisation with the
        emergency scope that is not party to the patient's care reads the patient's current crisis-and-coping
        plan, and the people and organisations it names (its contacts), stating a reason. Audited with purpose of
        use ETREAT and the reason; the patient's deny blocks it."""
        caller.require(EMERGENCY_SCOPE)
        where = f"Patient/$krise?identifier={identifier}"
        if sum(1 for c in reason if c.isalnum()) < 5:
            issue = Issue("ADP-7020", "error")
            return self._refused(caller, "R", where, Reply(400, operation_outcome([issue])))

        # a national identifier (fødselsnummer, D-nummer), in any of its forms
        national = (FNR_SYSTEM, DNR_SYSTEM)
        tokens = [identifier] if "|" in identifier else [f"{system}|{identifier}" for system in national]
        if "|" in identifier and identifier.partition("|")[0] not in (FNR_SYSTEM, DNR_SYSTEM):
            tokens = []

        def work(tx: Tx) -> Reply:
            patients = tx.search("Patient", [("identifier", tokens)], limit=None) if tokens else []
            plans = []
            for patient in patients:
                candidates = tx.search(
                    "CarePlan",
                    [("patient", [f"Patient/{patient.id}"]), ("_profile", [CRISIS_PROFILE]), ("status", ["active"])],
                    limit=None,
                )
                candidates += tx.search(  # after the structured plans: a plan that came only as text or PDF
                    "DocumentReference",
                    [("patient", [f"Patient/{patient.id}"]), ("type", [CRISIS_DOCUMENT]), ("status", ["current"])],
                    limit=None,
                )
                # only a plan made by a party to the patient's care: anyone may write a plan of its own, and a
                # legevakt must never be shown one a stranger made up
                plans += [p for p in candidates if p.patient and tx.cares_for(p.creator or "", p.patient)]
            if not plans:
                self._audit_emergency(tx, caller, [], patients[0].id if patients else None, reason, "failed")
                issue = Issue("ADP-5020", "error", args={"ref": f"the current crisis plan of {identifier}"})
                return Reply(404, operation_outcome([issue]))
            plan = plans[0]
            decision = self.sharing.decide(tx, caller.org, plan)
            if decision.basis == "denied":  # the emergency overrides a missing consent, never a deny
                self._audit_emergency(tx, caller, [plan], plan.patient, reason, "refused")
                args = {"ref": f"{plan.type}/{plan.id}", "org": caller.org, "consent": decision.consent}
                return Reply(403, operation_outcome([Issue("ADP-7018", "error", args=args)]))
            # the crisis plans that came as text or PDF go along, each unless a deny covers it
            documents = [
                d
                for d in plans[1:]
                if d.type == "DocumentReference" and self.sharing.decide(tx, caller.org, d).basis != "denied"
            ]
            matched = [plan, *documents]
            included = list(matched)
            for reference in sorted(_contacts(plan.body, tx.resolve)):
                rtype, _, rid = reference.partition("/")
                found = tx.read(rtype, rid)
                # the contacts of this patient's plan: nothing of another patient's
                if found is not None and not found.deleted and found.patient in (None, plan.patient):
                    included.append(found)
            self._audit_emergency(tx, caller, included, plan.patient, reason, "success")
            entries = [
                {
                    "fullUrl": f"{base}/{r.type}/{r.id}",
                    "resource": r.body,
                    "search": {"mode": "match" if r in matched else "include"},
                }
                for r in included
            ]
            return Reply(200, _searchset(f"{base}/Patient/$krise", [("identifier", identifier)], 1, 1, 0, entries))

        return self.store.run(work)

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
        # validated against the profiles its category implies whether it claims them or not, and stored claiming them
        resource = claim_implied(resource, self.validator.definitions)
        if rtype == "Subscription" and resource.get("status") == "requested":  # R4: the server activates it
            resource = {**resource, "status": "active"}
        issues = self.validator.validate_source(source)  # with line and column; the id we add changes no rule
        if any(i.severity in ("error", "fatal") for i in issues):
            return self._refused(
                caller, "U" if rid else "C", f"{rtype}/{rid or '(new)'}", Reply(422, operation_outcome(issues))
            )

        def work(tx: Tx) -> Reply:
            tx.lock_resource(rtype, str(resource["id"]))  # concurrent updates take turns: If-Match sees the latest
            current = tx.read(rtype, str(resource["id"]))
            ref = f"{rtype}/{resource['id']}"
            if current is None and rid is not None:  # ids are the server's: an update never creates
                self._audit_miss(tx, caller, "U", ref)
                issue = Issue("ADP-5040", "error", args={"ref": ref, "type": rtype})
                return Reply(405, operation_outcome([issue]), headers={"Allow": "GET"})
            if current is not None:
                decision = self.sharing.may_change(tx, caller.org, current)
                if not decision.allowed:
                    self._audit(tx, caller, "U", current, False, False)
                    if decision.basis == "denied":
                        args = {"ref": ref, "org": caller.org, "consent": decision.consent}
                        return Reply(403, operation_outcome([Issue("ADP-7018", "error", args=args)]))
                    return Reply(
                        403, operation_outcome([Issue("ADP-7013", "error", args={"ref": ref, "org": caller.org})])
                    )
                if if_match is None:
                    self._audit(tx, caller, "U", current, False, False)
                    issue = Issue("ADP-5042", "error", args={"ref": ref, "version": current.version})
                    return Reply(428, operation_outcome([issue]))
                if if_match.strip() not in _etags(current.version):
                    self._audit(tx, caller, "U", current, False, False)
                    issue = Issue("ADP-5021", "error", args={"etag": if_match, "version": current.version})
                    return Reply(412, operation_outcome([issue]))
            if current is not None and access.same_content(
                current.body, resource
            ):  # nothing changed: no new version, no sync
                self._audit(tx, caller, "U", current, True, False)
                return _resource_reply(current)
            patient = access.patient_reference(resource)
            refused = self._write_refused(tx, caller, rtype, resource, patient, current)
            if refused is not None:
                return refused
            patient_resource = resource if rtype == "Patient" else (tx.resolve(patient) if patient else None)
            identifiers = access.patient_identifiers(patient_resource)
            creator = current.creator if current else caller.org
            parties = access.parties_of(resource, tx.resolve, creator)
            index = list(access.index_terms(resource, patient, identifiers))
            stored = tx.write(resource, patient=patient, parties=parties, index=index, writer=caller.org)
            self._audit(tx, caller, "U" if current else "C", stored, True, False)
            self.distributor.changed(tx, [stored], caller.org)
            reply = _resource_reply(stored, status=200 if current else 201)
            reply.headers["Location"] = f"{rtype}/{stored.id}/_history/{stored.version}"
            return reply

        return self.store.run(work)

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
                return self._refused_in(tx, caller, "C", ref, Reply(403, operation_outcome([issue])))
            if patient and not tx.cares_for(caller.org, patient):
                issue = Issue("ADP-7016", "error", args={"org": caller.org, "patient": patient})
                return self._refused_in(tx, caller, "C", ref, Reply(403, operation_outcome([issue])))
        if rtype == "Subscription":
            problem = self._subscription_problem(resource, caller.org)
            if problem:
                issue = Issue("ADP-5043", "error", expression="Subscription", args={"detail": problem})
                return self._refused_in(tx, caller, "C", ref, Reply(422, operation_outcome([issue])))
        same = same_record(tx, rtype, resource, patient) if current is None else None
        if same is not None:  # a person or organisation is one record nationwide, a record one per patient
            args = {"ref": f"{rtype}/{same.id}", "identifier": ", ".join(access.identity_tokens(rtype, resource))}
            status = 409 if self.sharing.may_change(tx, caller.org, same).allowed else 403
            issue = Issue("ADP-5041" if status == 409 else "ADP-7013", "error", args={**args, "org": caller.org})
            return self._refused_in(tx, caller, "C", ref, Reply(status, operation_outcome([issue])))
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

    def validate(self, rtype: str | None, data: bytes, fmt: str | None, profiles: tuple[str, ...]) -> Reply:
        """POST [type]/$validate and /$validate: the OperationOutcome, always 200 when the input could be read
        (a Parameters wrapper with a ``resource`` part is unwrapped)."""
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply(400, operation_outcome(error.issues))
        resource = source.resource
        if isinstance(resource, dict) and resource.get("resourceType") == "Parameters":
            parts = resource.get("parameter")
            for part in parts if isinstance(parts, list) else []:
                if not isinstance(part, dict):
                    continue
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

    def _may_read(
        self,
        tx: Tx,
        resource: StoredResource,
        caller: Caller,
        consents: list[access.ConsentRules] | None = None,
    ) -> tuple[bool, bool]:
        """(allowed, is a disclosure): a party, or under the patient's Consent (a disclosure); a deny wins."""
        decision = self.sharing.decide(tx, caller.org, resource, consents=consents)
        return decision.allowed, decision.allowed and decision.basis != "party"

    def _forbidden(self, tx: Tx, resource: StoredResource, caller: Caller) -> Reply:
        """403: ADP-7018 when the patient denied it to the caller, ADP-7008 otherwise."""
        decision = self.sharing.decide(tx, caller.org, resource)
        ref = f"{resource.type}/{resource.id}"
        if decision.basis == "denied":
            issue = Issue("ADP-7018", "error", args={"ref": ref, "org": caller.org, "consent": decision.consent})
        else:
            issue = Issue("ADP-7008", "error", args={"ref": ref, "org": caller.org})
        return Reply(403, operation_outcome([issue]))

    def _event(
        self,
        tx: Tx,
        caller: Caller,
        action: str,
        outcome: str,
        what: list[str],
        *,
        patient: str | None = None,
        kind: str = "rest",
        **extra: Any,
    ) -> None:
        """One AuditEvent of the caller's request (every audit of this module is one of these)."""
        tx.audit(
            audit_event(
                kind=kind,
                action=action,
                outcome=outcome,
                recorded=utc_now(),
                org=caller.org,
                subject=caller.subject,
                what=what,
                patient=patient,
                **extra,
            )
        )

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
        """A read, search hit or write of ``resource`` (a disclosure when the caller is no party to it)."""
        what = [f"{resource.type}/{resource.id}/_history/{resource.version}"]
        outcome = "success" if allowed else "refused"
        recipient = caller.org if disclosure else None
        kind = "disclosure" if disclosure else "rest"
        self._event(
            tx, caller, action, outcome, what, patient=resource.patient, kind=kind, recipient=recipient, query=query
        )

    def _audit_query(
        self, tx: Tx, caller: Caller, query: str, *, patient: str | None = None, outcome: str = "success"
    ) -> None:
        """A search (of the records or of the audit trail), whatever it found."""
        self._event(tx, caller, "E", outcome, [], patient=patient, query=query)

    def _audit_miss(self, tx: Tx, caller: Caller, action: str, ref: str) -> None:
        """A request for something that is not there (404): audited, as every request for patient data is."""
        self._event(tx, caller, action, "failed", [ref], detail="not found")

    def _refused_in(self, tx: Tx, caller: Caller, action: str, what: str, reply: Reply) -> Reply:
        """Audit a refused request inside a transaction; returns ``reply``."""
        detail = ""
        if reply.resource is not None:
            detail = "; ".join(str(i.get("diagnostics", "")) for i in reply.resource.get("issue", []))[:500]
        self._event(tx, caller, action, "refused", [what], detail=f"HTTP {reply.status}: {detail}")
        return reply

    def _refused(self, caller: Caller, action: str, what: str, reply: Reply) -> Reply:
        """Audit a refused request in a transaction of its own; returns ``reply``."""
        return self.store.run(lambda tx: self._refused_in(tx, caller, action, what, reply))

    def _audit_emergency(
        self, tx: Tx, caller: Caller, read: list[StoredResource], patient: str | None, reason: str, outcome: str
    ) -> None:
        """An emergency read: purpose of use ETREAT, the stated reason, what was read; the plan's parties find it
        in the patient's audit trail."""
        what = [f"{r.type}/{r.id}/_history/{r.version}" for r in read]
        detail = f"emergency access: {reason.strip()[:500]}"
        self._event(
            tx,
            caller,
            "R",
            outcome,
            what,
            patient=patient,
            kind="disclosure",
            recipient=caller.org,
            detail=detail,
            purpose="ETREAT",
        )


def _check_type(rtype: str) -> Reply | None:
    if rtype in TYPES:
        return None
    return Reply(404, operation_outcome([Issue("ADP-5022", "error", args={"type": rtype, "types": ", ".join(TYPES)})]))


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


def _origin(url: str) -> str:
    """scheme://host:port of a URL (the port made explicit)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _contacts(plan: dict[str, Any], resolve: access.Resolver) -> set[str]:
    """The people and organisations a crisis plan names as contacts (activity performers, contributors, author)
    and the members of its care team: whom a legevakt calls (the care team record itself is not given)."""
    found: set[str] = set()
    references: list[Any] = [plan.get("author"), *(plan.get("contributor") or [])]
    for activity in plan.get("activity") or []:
        detail = activity.get("detail") if isinstance(activity, dict) else None
        if isinstance(detail, dict):
            references += [*(detail.get("performer") or []), detail.get("location")]
    for team in plan.get("careTeam") or []:
        target = (
            resolve(team["reference"]) if isinstance(team, dict) and isinstance(team.get("reference"), str) else None
        )
        for participant in (target or {}).get("participant") or []:
            if isinstance(participant, dict):
                references += [participant.get("member"), participant.get("onBehalfOf")]
    for reference in references:
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and target.count("/") == 1 and not target.startswith("Patient/"):
            found.add(target)
    return found
