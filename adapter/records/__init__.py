"""FHIR REST over the shared records: read (conditional too), vread, history (of a resource, a type, the system:
:mod:`~adapter.records.history`), search, create and update, transaction and batch Bundles
(:mod:`~adapter.records.bundle`), and the refused delete, with access control, consent and an AuditEvent for every
read, write and disclosure.

Who may see what is decided by :mod:`adapter.sharing` (the same rules as the message path): a party reads and
changes; another organisation reads under the patient's Consent (a disclosure, audited as one); a deny wins.
Searches return only what the caller may see. Writes are validated against their profiles, claimed or implied by
their category (422 when they do not conform); ids are the server's (POST; a PUT never creates, so nobody can take
an id first); an update must name the version it is based on (``If-Match``: 428 without, 412 when stale). An
accepted change goes on to every other entitled party (:mod:`adapter.distribute`). The emergency read gives an
organisation with the emergency scope the patient's current crisis plan only. Every read, search, write, refusal
and miss writes an AuditEvent. Every answer is a :class:`~adapter.reply.Reply`; errors are OperationOutcomes
with stable codes.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue
from adapter.identifiers import DNR_SYSTEM, FNR_SYSTEM
from adapter.parse.fhir_source import read_fhir
from adapter.records.access import (
    CRISIS_DOCUMENT,
    CRISIS_PROFILE,
    ReadCondition,
    check_type,
    crisis_plans,
    resource_reply,
)
from adapter.records.bundle import process
from adapter.records.history import RecordHistory, bundle
from adapter.records.include import RecordIncludes, sorted_by
from adapter.records.pages import RecordPages
from adapter.records.write import ID_PATTERN, RecordWrites
from adapter.reply import Reply, operation_outcome
from adapter.search import (
    Shape,
    form_query,
    lenient_query,
    own_references,
    parse_query,
    r4_search_parameters,
    read_shape,
    result_shape,
)
from adapter.security import AUDIT_SCOPE, EMERGENCY_SCOPE, READ_SCOPE, Caller
from adapter.standards import core_package
from adapter.store import Store, StoredResource, Tx
from adapter.validate import Validator

__all__ = ["CRISIS_DOCUMENT", "CRISIS_PROFILE", "ID_PATTERN", "Records"]


class Records(RecordWrites, RecordPages, RecordIncludes, RecordHistory):
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

    def read(
        self,
        rtype: str,
        rid: str,
        caller: Caller,
        version: int | None = None,
        *,
        if_none_match: str | None = None,
        if_modified_since: str | None = None,
        query: list[tuple[str, str]] | None = None,
    ) -> Reply:
        """GET [type]/[id] and GET [type]/[id]/_history/[vid]; a conditional read (``If-None-Match`` naming the
        version, ``If-Modified-Since`` not before its lastUpdated) is answered 304 without a body, after the same
        access check and audit as any read: a 304 tells that the record is there and unchanged, a disclosure too.
        The ``query`` may shape the answer as a search shapes its matches (``_summary=true``, ``_elements``: tagged
        SUBSETTED); any other parameter but ``_format`` and ``_pretty`` is refused (400, ADP-5023)."""
        ref = f"{rtype}/{rid}" + (f"/_history/{version}" if version is not None else "")
        if rtype == "AuditEvent":  # searched, never read one by one
            where = {"method": "GET", "path": f"/AuditEvent/{rid}", "allowed": "GET /AuditEvent?... (search)"}
            return self._refused(caller, "R", ref, Reply.refused([Issue("ADP-5028", "error", args=where)]))
        caller.require(READ_SCOPE)
        problem = check_type(rtype)
        if problem:
            return self._refused(caller, "R", ref, problem)
        try:
            shape = read_shape(query or [], rtype)
        except AdapterError as error:
            return self._refused(caller, "R", ref, Reply.refused(error.issues))
        condition = ReadCondition(if_none_match, if_modified_since)
        return self.store.run(lambda tx: self._read_in(tx, rtype, rid, caller, version, condition, shape))

    def _read_in(
        self,
        tx: Tx,
        rtype: str,
        rid: str,
        caller: Caller,
        version: int | None = None,
        condition: ReadCondition | None = None,
        shape: Shape | None = None,
    ) -> Reply:
        """The read inside its transaction (also a transaction Bundle's GET entry), shaped as ``shape`` asks."""
        ref = f"{rtype}/{rid}" + (f"/_history/{version}" if version is not None else "")
        found = tx.read(rtype, rid, version)
        if found is None:
            self._audit_miss(tx, caller, "R", ref)
            return Reply.refused([Issue("ADP-5020", "error", args={"ref": ref})])
        current = found if version is None else tx.read(rtype, rid)
        allowed, disclosure = self._may_read(tx, current or found, caller)
        self._audit(tx, caller, "R", found, allowed, disclosure)
        if not allowed:
            return self._forbidden(tx, current or found, caller)
        if found.deleted:
            return Reply.refused([Issue("ADP-5024", "error", args={"ref": f"{rtype}/{rid}"})])
        reply = resource_reply(found)
        if condition is not None and condition.unchanged(found):
            return Reply(304, headers=reply.headers)  # not modified: no body, the validators of what they have
        if shape is not None and (shape.summary or shape.elements):
            return Reply(reply.status, self._shaped(found, shape, True), headers=reply.headers)
        return reply

    def bundle(
        self, data: bytes, fmt: str | None, caller: Caller, base: str, prefer: str, *, lenient: bool = False
    ) -> Reply:
        """POST [base]: a transaction Bundle (all or nothing, in one store transaction) or a batch Bundle (each
        entry on its own): see :mod:`adapter.records.bundle`."""
        return process(self, data, fmt, caller, base, prefer, lenient=lenient)

    def search_form(
        self,
        rtype: str,
        query: list[tuple[str, str]],
        data: bytes,
        caller: Caller,
        base: str,
        *,
        lenient: bool = False,
    ) -> Reply:
        """POST [type]/_search: the search of the URL's and the form body's parameters, exactly as GET [type]?...
        (the same access rules, the same audit); a body that is no form is refused (400), audited as a search. The
        answer's links never carry an identifier (:meth:`_links_without_identifiers`): a fødselsnummer is posted
        so as to stay out of URLs."""
        try:
            form = form_query(data)
        except AdapterError as error:
            caller.require(AUDIT_SCOPE if rtype == "AuditEvent" and caller.has(AUDIT_SCOPE) else READ_SCOPE)
            return self._refused(caller, "E", f"{rtype}/_search", Reply.refused(error.issues))
        reply = self.search(rtype, [*query, *form], caller, base, lenient=lenient)
        return self._links_without_identifiers(reply, rtype, caller, base)

    def _links_without_identifiers(self, reply: Reply, rtype: str, caller: Caller, base: str) -> Reply:
        """The answer of a POST _search with links that carry no identifier: ``self`` is the search endpoint
        without its query (a privacy choice over R4's "the search as performed", documented in the
        CapabilityStatement), and the paging links are kept only when they can be followed without one:
        ``patient:identifier`` (or ``subject:``) that names exactly one patient the caller may read becomes
        ``patient=Patient/<id>``. Otherwise there are no paging links, and an OperationOutcome entry (ADP-5085)
        says to page with POST and ``_offset``."""
        answer = reply.resource
        if reply.status != 200 or answer is None or answer.get("resourceType") != "Bundle":
            return reply
        own = {link["relation"]: link["url"] for link in answer["link"]}
        terms = parse_qsl(urlsplit(own["self"]).query, keep_blank_values=True)
        found = bool(answer.get("total"))
        replaced = self.store.run(lambda tx: self._by_patient_id(tx, terms, caller, found))
        links = [{"relation": "self", "url": f"{base}/{rtype}/_search"}]
        entries = list(answer.get("entry") or [])
        if replaced is None:
            outcome = operation_outcome([Issue("ADP-5085", "information")])
            entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": outcome, "search": {"mode": "outcome"}})
        else:
            for relation, url in own.items():
                if relation != "self":
                    linked = parse_qsl(urlsplit(url).query, keep_blank_values=True)
                    query = [replaced.get(term, term) for term in linked]
                    links.append({"relation": relation, "url": f"{base}/{rtype}?{urlencode(query)}"})
        return Reply(200, {**answer, "link": links, **({"entry": entries} if entries else {})}, headers=reply.headers)

    def search(
        self, rtype: str, query: list[tuple[str, str]], caller: Caller, base: str, *, lenient: bool = False
    ) -> Reply:
        """GET [type]?params: the current resources the caller may see that match every parameter. Under
        ``Prefer: handling=lenient`` (``lenient``) a parameter the service does not know is ignored, named in an
        OperationOutcome entry (search mode ``outcome``) and left out of the self link; an R4 search parameter of the
        type (read from the core package) or one that would restrict to a patient or a record never is
        (:func:`~adapter.search.lenient_query`). A reference at the service's own ``base`` is the relative one.
        AuditEvent searches are strict."""
        text = "&".join(f"{k}={v}" for k, v in query)
        if rtype == "AuditEvent" and not caller.has(AUDIT_SCOPE):
            caller.require(READ_SCOPE)  # a party to the patient's care searches that patient's trail
        elif rtype != "AuditEvent":
            caller.require(READ_SCOPE)
        problem = None if rtype == "AuditEvent" else check_type(rtype)
        if problem:
            return self._refused(caller, "E", f"{rtype}?{text}", problem)
        try:
            if rtype == "AuditEvent":
                params, updated, count, offset = parse_query(query, rtype)
                return self._search_audit(caller, query, params, updated, count, offset, base)
            defined = self._r4_parameters(rtype) if lenient else None
            search = parsed_search(rtype, query, lenient=lenient, defined=defined)
        except AdapterError as error:
            return self._refused(caller, "E", f"{rtype}?{text}", Reply.refused(error.issues))
        return self.store.run(lambda tx: self._search_in(tx, caller, base, search))

    def _r4_parameters(self, rtype: str) -> frozenset[str]:
        """The lower-case codes of the R4 search parameters of ``rtype`` (the core package the validator reads):
        those lenient handling never ignores."""
        return r4_search_parameters(core_package(self.validator.settings)).get(rtype, frozenset())

    def _search_in(self, tx: Tx, caller: Caller, base: str, search: Search) -> Reply:
        """The search inside its transaction (also a transaction Bundle's GET entry). Any type may be shared under
        consent, so every match is read and judged; the total and the pages are right whatever share of them the
        caller may see."""
        rtype, shape, asked = search.rtype, search.shape, f"{search.rtype}?{search.text}"
        found = tx.search(rtype, own_references(search.params, base), updated=search.updated, limit=None)
        visible = sorted_by(self._visible(tx, found, caller), shape.sort)
        page = [] if shape.summary == "count" else visible[search.offset : search.offset + search.count]
        for resource, disclosure in page:
            self._audit(tx, caller, "E", resource, True, disclosure, query=asked)
        if not page:
            self._audit_query(tx, caller, asked)
        included = self._included(tx, caller, [r for r, _ in page], shape)
        if included:
            self._audit_included(tx, caller, included, asked)
        entries: list[dict[str, Any]] = [
            {"fullUrl": f"{base}/{r.type}/{r.id}", "resource": self._shaped(r, shape, m), "search": {"mode": mode}}
            for (r, m, mode) in [*((r, True, "match") for r, _ in page), *((r, False, "include") for r in included)]
        ]
        if search.ignored:  # R4: the parameters ignored, in an OperationOutcome entry of search mode "outcome"
            issues = [Issue("ADP-5055", "warning", args={"param": name[:100]}) for name in search.ignored]
            outcome = {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": operation_outcome(issues)}
            entries.append({**outcome, "search": {"mode": "outcome"}})
        url = f"{base}/{rtype}"
        answer = bundle("searchset", url, search.query, len(visible), search.count, search.offset, entries)
        if shape.summary == "count":
            answer["entry"] = [e for e in entries if e["search"]["mode"] == "outcome"]
            if not answer["entry"]:
                answer.pop("entry")
        return Reply(200, answer)

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
        wanted = dict(own_references(params, base))
        patient = wanted["patient"][0] if wanted.get("patient") else None
        text = "AuditEvent?" + "&".join(f"{k}={v}" for k, v in query)

        def work(tx: Tx) -> Reply:
            if not caller.has(AUDIT_SCOPE) and (patient is None or not tx.cares_for(caller.org, patient)):
                self._audit_query(tx, caller, text, patient=patient, outcome="refused")
                issue = Issue("ADP-7008", "error", args={"ref": patient or "AuditEvent", "org": caller.org})
                return Reply.refused([issue])
            self._audit_query(tx, caller, text, patient=patient)
            total, events = tx.audits(patient=patient, recorded=recorded, limit=count, offset=offset)
            entries = [
                {"fullUrl": f"{base}/AuditEvent/{e['id']}", "resource": e, "search": {"mode": "match"}} for e in events
            ]
            return Reply(200, bundle("searchset", f"{base}/AuditEvent", query, total, count, offset, entries))

        return self.store.run(work)

    def emergency(
        self, identifier: str, reason: str, caller: Caller, base: str, *, reason_in_url: bool = True
    ) -> Reply:
        """The emergency read (``GET /Patient/$krise?identifier=FNR&reason=...``): an organisation with the
        emergency scope that is not party to the patient's care reads the patient's current crisis-and-coping
        plan, and the people and organisations it names (its contacts), stating a reason. Audited with purpose of
        use ETREAT and the reason; the patient's deny blocks it. The answer's links carry the reason when it came
        in the URL (``reason_in_url``), so that following one is the same read; one given in the
        ``X-Emergency-Reason`` header stays out of them (a link is followed with the header again)."""
        caller.require(EMERGENCY_SCOPE)
        where = f"Patient/$krise?identifier={identifier}"
        if sum(1 for c in reason if c.isalnum()) < 5:
            issue = Issue("ADP-7020", "error")
            return self._refused(caller, "R", where, Reply.refused([issue]))

        # a national identifier (fødselsnummer, D-nummer), in any of its forms
        national = (FNR_SYSTEM, DNR_SYSTEM)
        tokens = [identifier] if "|" in identifier else [f"{system}|{identifier}" for system in national]
        if "|" in identifier and identifier.partition("|")[0] not in (FNR_SYSTEM, DNR_SYSTEM):
            tokens = []

        def work(tx: Tx) -> Reply:
            patients = tx.search("Patient", [("identifier", tokens)], limit=None) if tokens else []
            plans = [plan for patient in patients for plan in crisis_plans(tx, patient)]
            if not plans:
                self._audit_emergency(tx, caller, [], patients[0].id if patients else None, reason, "failed")
                issue = Issue("ADP-5020", "error", args={"ref": f"the current crisis plan of {identifier}"})
                return Reply.refused([issue])
            plan = plans[0]
            decision = self.sharing.decide(tx, caller.org, plan)
            if decision.basis == "denied":  # the emergency overrides a missing consent, never a deny
                self._audit_emergency(tx, caller, [plan], plan.patient, reason, "refused")
                args = {"ref": f"{plan.type}/{plan.id}", "org": caller.org, "consent": decision.consent}
                return Reply.refused([Issue("ADP-7018", "error", args=args)])
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
                {"fullUrl": f"{base}/{r.type}/{r.id}", "resource": r.body, "search": {"mode": _mode(r, matched)}}
                for r in included
            ]
            link = f"{base}/Patient/$krise"
            asked = [("identifier", identifier), *((("reason", reason),) if reason_in_url else ())]
            return Reply(200, bundle("searchset", link, asked, 1, 1, 0, entries))

        return self.store.run(work)

    def _by_patient_id(
        self, tx: Tx, terms: list[tuple[str, str]], caller: Caller, found: bool
    ) -> dict[tuple[str, str], tuple[str, str]] | None:
        """How the terms of a search's links are written without an identifier: ``patient:identifier`` or
        ``subject:identifier`` of exactly one patient the caller may read as the reference to that patient; None when
        a term carries an identifier (or eleven digits in a row, a fødselsnummer's length) that cannot be so written,
        or the search ``found`` nothing."""
        replaced: dict[tuple[str, str], tuple[str, str]] = {}
        for name, value in terms:
            if name in ("patient:identifier", "subject:identifier") and "," not in value:
                if not found:  # only to a caller who sees matches (they name their patient): the id tells no more
                    return None
                patients = [p for p in tx.search("Patient", [("identifier", [value])], limit=None) if not p.deleted]
                if len(patients) != 1 or not self._may_read(tx, patients[0], caller)[0]:
                    return None
                replaced[(name, value)] = (name.split(":")[0], f"Patient/{patients[0].id}")
            elif name == "identifier" or name.endswith(":identifier") or _ELEVEN_DIGITS.search(value):
                return None
        return replaced

    def validate(self, rtype: str | None, data: bytes, fmt: str | None, profiles: tuple[str, ...]) -> Reply:
        """POST [type]/$validate and /$validate: the OperationOutcome, always 200 when the input could be read
        (a Parameters wrapper with a ``resource`` part is unwrapped)."""
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply.refused(error.issues)
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
            return Reply.refused([issue])
        if resource is source.resource:
            issues = self.validator.validate_source(source, profiles)
        else:
            issues = [*source.issues, *self.validator.validate(resource, profiles)]
        return Reply(200, operation_outcome(issues))


@dataclass(frozen=True)
class Search:
    """A search read from its query: the type, the terms kept (the self link's), the query as asked (the audit's),
    the result shape, what the store searches by, the page and the parameters ignored (handling=lenient)."""

    rtype: str
    query: list[tuple[str, str]]
    text: str
    shape: Shape
    params: list[tuple[str, list[str]]]
    updated: list[tuple[str, str]]
    count: int
    offset: int
    ignored: list[str]


def parsed_search(
    rtype: str, query: list[tuple[str, str]], *, lenient: bool = False, defined: frozenset[str] | None = None
) -> Search:
    """A search of the served type ``rtype`` read from its query (``lenient``: see :meth:`Records.search`;
    ``defined``: the R4 search parameters of the type, which lenient handling never ignores, None: it ignores
    nothing); a term that cannot be served is an :class:`~adapter.errors.AdapterError` (ADP-5023, ADP-5056)."""
    text = "&".join(f"{k}={v}" for k, v in query)
    ignored: list[str] = []
    if lenient:
        query, ignored = lenient_query(query, rtype, defined)
    shape, rest = result_shape(query, rtype)
    params, updated, count, offset = parse_query(rest, rtype)
    return Search(rtype, query, text, shape, params, updated, count, offset, ignored)


_ELEVEN_DIGITS = re.compile(r"\d{11}")


def _mode(resource: StoredResource, matched: list[StoredResource]) -> str:
    """The search mode of an emergency read's entry: the plans it found match, their contacts are included."""
    return "match" if resource in matched else "include"


def _contacts(plan: dict[str, Any], resolve: access.Resolver) -> set[str]:
    """The people and organisations a crisis plan names as contacts (activity performers, contributors, author)
    and the members of its care team (the patient's own, never another's): whom a legevakt calls (the care team
    record itself is not given)."""
    found: set[str] = set()
    references: list[Any] = [plan.get("author"), *(plan.get("contributor") or [])]
    for activity in plan.get("activity") or []:
        detail = activity.get("detail") if isinstance(activity, dict) else None
        if isinstance(detail, dict):
            references += [*(detail.get("performer") or []), detail.get("location")]
    subject = (plan.get("subject") or {}).get("reference") if isinstance(plan.get("subject"), dict) else None
    for team in plan.get("careTeam") or []:
        target = (
            resolve(team["reference"]) if isinstance(team, dict) and isinstance(team.get("reference"), str) else None
        )
        team_subject = (target or {}).get("subject")
        if not subject or not isinstance(team_subject, dict) or team_subject.get("reference") != subject:
            continue  # only the care team of this patient: a plan pointed at another's must not say who treats them
        for participant in (target or {}).get("participant") or []:
            if isinstance(participant, dict):
                references += [participant.get("member"), participant.get("onBehalfOf")]
    for reference in references:
        target = reference.get("reference") if isinstance(reference, dict) else None
        if isinstance(target, str) and target.count("/") == 1 and not target.startswith("Patient/"):
            found.add(target)
    return found
