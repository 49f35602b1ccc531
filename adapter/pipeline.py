"""Messages in: read, validate, store, update the shared plan, route and acknowledge, in either format.

:class:`Pipeline` takes a FHIR message Bundle (``$process-message``) or a KITH message (``/kith/messages``) with
the calling organisation, and answers with the acknowledgement (a FHIR message with ``MessageHeader.response``,
or an AppRec). What it guarantees:

* **Stored before acknowledged, atomically.** The message, the resources it carries, the deliveries to its
  receivers, the audit events and the acknowledgement are written in ONE transaction; the answer goes out only
  after the commit. A crash before the commit leaves nothing, and the sender's retry is processed as new.
* **Once.** A message is keyed by its sender and id (MessageHeader.id / MsgId); a duplicate gets the stored
  acknowledgement again and is not processed twice. Deliveries are keyed by message id and destination.
* **The shared plan.** The resources of a message are stored as the current version of the patient's records:
  the patient, organisations and practitioners are matched on their national identifiers (FNR/D-nummer, HER-id,
  HPR-nummer), so a plan sent by the municipality and updated by the DPS stays one record.
* **Consent.** A plan goes to an organisation that is not yet party to it only under the patient's active Consent
  naming that organisation (:mod:`adapter.access`); otherwise the message is refused with ADP-7010.
* **The receiver's format.** A receiver in the routing table gets the message in its own format: a KITH receiver
  the original KITH XML (or the FHIR message translated to KITH), a FHIR receiver the FHIR message Bundle.

Asynchronous mode stores the message and answers 202; :meth:`Pipeline.process_pending` (run by the worker)
processes it later, exactly as the synchronous path does.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from lxml import etree

from adapter import access
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.receipt import ReceiptImpossible, receipt_for
from adapter.receipt.audit import audit_event
from adapter.receipt.fhir_response import acknowledgement
from adapter.route.table import RoutingTable
from adapter.security import ADMIN_SCOPE, Caller
from adapter.store import Store, StoredMessage, Tx
from adapter.store.sql import utc_now
from adapter.translate import Translation, Translator
from adapter.validate import operation_outcome
from adapter.validate.identifiers import DNR_SYSTEM, FHN_SYSTEM, FNR_SYSTEM, HER_SYSTEM, HPR_SYSTEM, ORGNR_SYSTEM

FHIR_JSON = "application/fhir+json"
KITH_XML = "application/xml"
MSGHEAD_NS = "http://www.kith.no/xmlstds/msghead/2006-05-24"
#: Resource types matched to stored records by their national identifiers (data, not code paths).
MATCH_BY_IDENTIFIER: dict[str, tuple[str, ...]] = {
    "Patient": (FNR_SYSTEM, DNR_SYSTEM, FHN_SYSTEM),
    "Organization": (HER_SYSTEM, ORGNR_SYSTEM),
    "Practitioner": (HPR_SYSTEM,),
}
log = logging.getLogger(__name__)
_STORED_IDS = uuid.UUID("0d5c3e1a-8f2b-5a47-9c6d-3e2f1a0b4c5d")


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status and either a FHIR resource (``resource``) or raw bytes with their content type."""

    status: int
    resource: dict[str, Any] | None = None
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Message:
    """One inbound message, read: what is needed to store, apply, route and answer it."""

    sender: str
    msg_id: str
    fmt: str  # "fhir" or "kith"
    original: bytes
    content_type: str
    bundle: dict[str, Any] | None
    issues: list[Issue]
    kith: Translation | None = None

    @cached_property
    def header(self) -> dict[str, Any]:
        """The MessageHeader (empty when the message has no Bundle)."""
        return access.message_header(self.bundle) or {}

    @cached_property
    def resolve(self) -> access.Resolver:
        """References inside the message's Bundle."""
        return access.bundle_resolver(self.bundle or {})

    @cached_property
    def receivers(self) -> list[str]:
        """The HER-ids of the receiving organisations."""
        return access.message_parties(self.header, self.resolve)[1]


class Pipeline:
    """The message path of the service; one per app, safe to share between threads."""

    def __init__(
        self, store: Store, translator: Translator, routes: RoutingTable, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.translator = translator
        self.validator = translator.validator
        self.routes = routes
        self.clock = clock

    # --- FHIR ---------------------------------------------------------------------------------------------------

    def process_message(self, data: bytes, fmt: str | None, caller: Caller, *, asynchronous: bool = False) -> Reply:
        """``$process-message``: answer a FHIR message Bundle (JSON or XML) with its acknowledgement."""
        try:
            source = read_fhir(data, self.validator.definitions, fmt)
        except AdapterError as error:
            return Reply(400, operation_outcome(error.issues))
        bundle = source.resource
        header = access.message_header(bundle)
        if header is None or not header.get("id"):
            issue = Issue("ADP-5010", "fatal", expression="Bundle.entry[0].resource")
            return Reply(400, operation_outcome([issue]))
        sender, _ = access.message_parties(header, access.bundle_resolver(bundle))
        refused = _sender_check(sender, caller)
        if refused:
            return Reply(403, operation_outcome([refused]))
        issues = [*source.issues]
        content_type = "application/fhir+xml" if source.format == "xml" else FHIR_JSON
        message = _Message(str(sender), str(header["id"]), "fhir", data, content_type, bundle, issues)
        if asynchronous:
            return self._accept_only(message)
        message.issues[:] = self.validator.validate_source(source)
        return self._process(message)

    # --- KITH ---------------------------------------------------------------------------------------------------

    def process_kith(self, data: bytes, caller: Caller) -> Reply:
        """``POST /kith/messages``: answer a KITH message (MsgHead XML) with its AppRec."""
        translation = self.translator.kith_to_fhir(data)
        root = translation.kith_root
        if root is None or root.tag != f"{{{MSGHEAD_NS}}}MsgHead":
            issues = translation.issues or [Issue("ADP-3005", "fatal", args={"what": "a MsgHead"})]
            return Reply(400, operation_outcome(issues))
        msg_id = _msghead_text(root, "MsgInfo/MsgId")
        sender = _msghead_text(root, "MsgInfo/Sender/Organisation/Ident/Id") or None
        refused = _sender_check(sender, caller)
        if refused:
            return Reply(403, operation_outcome([refused]))
        if not msg_id:
            return Reply(400, operation_outcome([Issue("ADP-3005", "fatal", args={"what": "MsgInfo/MsgId"})]))
        message = _Message(
            str(sender), msg_id, "kith", data, KITH_XML, translation.bundle, translation.issues, translation
        )
        return self._process(message)

    # --- receipts -----------------------------------------------------------------------------------------------

    def receipt(self, msg_id: str, caller: Caller) -> Reply:
        """The stored acknowledgement or AppRec of a message the caller sent (202 while it is being processed)."""
        sender = None if ADMIN_SCOPE in caller.scopes else caller.org
        found = self.store.run(lambda tx: tx.message_by_id(msg_id, sender))
        if found is None:
            return Reply(404, operation_outcome([Issue("ADP-5011", "error", args={"id": msg_id})]))
        if found.receipt is None:
            return Reply(202, operation_outcome([Issue("ADP-5012", "information", args={"id": msg_id})]))
        return _stored_reply(found)

    def process_pending(self, limit: int = 50) -> int:
        """Process messages accepted asynchronously (or left by a crash); returns how many were processed."""
        waiting = self.store.run(lambda tx: tx.messages_in_state("accepted", limit))
        for stored in waiting:
            bundle, issues = None, []
            try:
                source = read_fhir(stored.body, self.validator.definitions, None)
            except AdapterError as error:
                issues = error.issues
            else:
                bundle, issues = source.resource, self.validator.validate_source(source)
            message = _Message(
                stored.sender, stored.msg_id, stored.format, stored.body, stored.content_type, bundle, issues
            )
            try:
                self._process(message, already_stored=True)
            except Exception:  # one message must not hold up the others: it is answered with the failure
                reference = str(uuid.uuid4())
                log.exception("processing the stored message %s failed (reference %s)", stored.msg_id, reference)
                failed = replace(
                    message, bundle=None, issues=[Issue("ADP-5015", "fatal", args={"reference": reference})]
                )
                self._process(failed, already_stored=True)
        return len(waiting)

    # --- the common path ----------------------------------------------------------------------------------------

    def _accept_only(self, message: _Message) -> Reply:
        def work(tx: Tx) -> StoredMessage | None:
            if tx.insert_message(message.sender, message.msg_id, message.fmt, message.content_type, message.original):
                return None
            return tx.message(message.sender, message.fmt, message.msg_id)

        existing = self.store.run(work)
        if existing is not None and existing.receipt is not None:
            return _stored_reply(existing)
        where = {"Content-Location": f"/kith/receipts/{quote(message.msg_id, safe='')}"}  # polled for the answer
        return Reply(
            202, operation_outcome([Issue("ADP-5012", "information", args={"id": message.msg_id})]), headers=where
        )

    def _process(self, message: _Message, *, already_stored: bool = False) -> Reply:
        """Validate-then-apply in one transaction; the reply is built from what was committed."""
        now = self.clock()
        outgoing: list[tuple[str, str, str, bytes]] = []
        if message.bundle is not None and not _blocking(message.issues):
            try:
                outgoing = self._outgoing(message)
            except AdapterError as error:
                message.issues.extend(error.issues)

        def work(tx: Tx) -> Reply:
            if not already_stored:
                if not tx.insert_message(
                    message.sender, message.msg_id, message.fmt, message.content_type, message.original
                ):
                    existing = tx.message(message.sender, message.fmt, message.msg_id, lock=True)
                    if existing is not None and existing.receipt is not None:
                        return _stored_reply(existing)
                    # stored, not yet answered (asynchronous, or a crash): processed now, once, in this transaction
            elif (
                current := tx.message(message.sender, message.fmt, message.msg_id, lock=True)
            ) is None or current.receipt is not None:
                return _stored_reply(current) if current else Reply(404)
            issues = list(message.issues)
            if message.bundle is not None and not _blocking(issues):
                issues.extend(self._apply(tx, message, outgoing, now))
            ok = not _blocking(issues)
            reply = self._answer(message, issues, now)
            tx.finish_message(
                message.sender,
                message.fmt,
                message.msg_id,
                "processed" if ok else "rejected",
                reply.body if reply.resource is None else json.dumps(reply.resource).encode(),
                reply.content_type or FHIR_JSON,
                reply.status,
            )
            return reply

        return self.store.run(work)

    def _outgoing(self, message: _Message) -> list[tuple[str, str, str, bytes]]:
        """(destination, format, content type, body) for each receiver with a route, in the receiver's format."""
        bundle = message.bundle or {}
        destinations = message.header.get("destination")
        endpoints = [str(d["endpoint"]) for d in (destinations or []) if isinstance(d, dict) and d.get("endpoint")]
        targets = []
        for her in message.receivers:
            route = self.routes.lookup(her, None)
            if route:
                targets.append(route)
        if not message.receivers:
            for endpoint in endpoints:
                route = self.routes.lookup(None, endpoint)
                if route:
                    targets.append(route)
        out = []
        for route in {r.destination: r for r in targets}.values():
            if route.format == "kith":
                if message.fmt == "kith":
                    out.append((route.destination, "kith", KITH_XML, message.original))
                    continue
                translated = self.translator.fhir_to_kith(bundle)
                if translated.xml is None or not translated.ok:
                    raise AdapterError(translated.issues or [Issue("ADP-3004", "error", args={"detail": "no XML"})])
                # What the KITH message has no place for (it travels in the attached Bundle) is the sender's to know.
                message.issues.extend(i for i in translated.issues if i not in message.issues)
                out.append((route.destination, "kith", KITH_XML, translated.xml))
            else:
                out.append((route.destination, "fhir", FHIR_JSON, json.dumps(bundle, ensure_ascii=False).encode()))
        return out

    def _apply(self, tx: Tx, message: _Message, outgoing: list[tuple[str, str, str, bytes]], now: float) -> list[Issue]:
        """Check consent, store the message's resources, enqueue deliveries and audit; returns refusals (then
        nothing but the refusal's audit event is written)."""
        bundle = message.bundle or {}
        ids = self._stored_ids(tx, message, bundle)
        stamp = utc_now()

        def audit(**event: Any) -> None:
            tx.audit(audit_event(recorded=stamp, org=message.sender, subject=None, **event))

        refusals = self._consent_refusals(tx, message, ids, now)
        for issue in refusals:
            audit(
                kind="disclosure",
                action="E",
                outcome="refused",
                what=[f"Bundle/{message.msg_id}"],
                patient=issue.args.get("patient"),
                recipient=issue.args["org"],
                detail=issue.text_en,
            )
        if refusals:
            return refusals
        entries = [
            e for e in bundle.get("entry", [])[1:] if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
        entries.sort(key=lambda e: e["resource"].get("resourceType") not in MATCH_BY_IDENTIFIER)  # people first
        written = []
        identifiers_of: dict[str, list[tuple[str, str]]] = {}  # patient reference -> its identifiers, as stored now
        for entry in entries:
            resource = entry["resource"]
            if resource.get("resourceType") in ("MessageHeader", "OperationOutcome"):
                continue
            body = _rewritten(resource, ids, str(entry.get("fullUrl", "")))
            patient = access.patient_reference(body)
            parties = {message.sender, *message.receivers} | access.named_organisations(resource, message.resolve)
            if patient and patient not in identifiers_of:
                identifiers_of[patient] = access.patient_identifiers(tx.resolve(patient))
            identifiers = identifiers_of[patient] if patient else []
            index = list(access.index_terms(body, patient, identifiers))
            stored = tx.write(body, patient=patient, parties=parties, index=index)
            identifiers_of.pop(f"{stored.type}/{stored.id}", None)  # a new version: read again when next asked
            written.append(stored)
        patients = sorted({s.patient for s in written if s.patient})
        patient = patients[0] if patients else None
        what = [f"{s.type}/{s.id}/_history/{s.version}" for s in written]
        audit(
            kind="message",
            action="C",
            outcome="success",
            what=what,
            patient=patient,
            detail=f"message {message.msg_id}",
        )
        for destination, fmt, content_type, body_bytes in outgoing:
            if not tx.enqueue(message.msg_id, destination, fmt, content_type, body_bytes):
                continue
            for her in message.receivers:
                audit(
                    kind="disclosure",
                    action="E",
                    outcome="success",
                    what=what,
                    patient=patient,
                    recipient=her,
                    detail=f"message {message.msg_id} to {destination}",
                )
        return []

    def _consent_refusals(self, tx: Tx, message: _Message, ids: dict[str, str], now: float) -> list[Issue]:
        """ADP-7012 for each Consent in the message that its sender did not record (``Consent.organization``), and
        ADP-7010 for each receiver a plan in focus may not go to: one that is not party to the plan yet and that no
        active Consent of the patient (stored or in this message) names. The sender is party to the plan and
        chooses its receivers, so here any recorded Consent counts; a read by a non-party needs more (records)."""
        bundle = message.bundle or {}
        today = datetime.datetime.fromtimestamp(now, ZoneInfo("Europe/Oslo")).date().isoformat()
        in_message = [
            e["resource"]
            for e in bundle.get("entry", [])
            if isinstance(e, dict)
            and isinstance(e.get("resource"), dict)
            and e["resource"].get("resourceType") == "Consent"
        ]

        def resolve(reference: str) -> dict[str, Any] | None:  # the message first, then the store
            return message.resolve(reference) or tx.resolve(reference)

        refusals: list[Issue] = []
        for consent in in_message:  # recorded by its sender (or it could open plans to anyone)
            if message.sender not in access.consent_custodians(consent, resolve):
                written = access.patient_reference(consent)
                args = {"org": message.sender, "patient": ids.get(written, written) if written else None}
                refusals.append(Issue("ADP-7012", "error", expression="Consent.organization", args=args))
        focus = message.header.get("focus")
        for reference in focus if isinstance(focus, list) else []:
            plan = message.resolve(str(reference.get("reference", ""))) if isinstance(reference, dict) else None
            if not plan or plan.get("resourceType") not in access.CONSENTED_TYPES:
                continue
            written = access.patient_reference(plan)
            patient = ids.get(written, written) if written else None
            target = ids.get(_key(plan), _key(plan))
            stored = tx.read(*access.split_reference(target)) if "/" in target else None
            parties = {*(stored.parties if stored else ()), message.sender}
            consents = in_message + ([r.body for r in tx.patient_resources("Consent", patient)] if patient else [])
            for her in message.receivers:
                if her in parties or any(access.consent_permits(c, her, resolve, today) for c in consents):
                    continue
                args = {"org": her, "plan": target, "patient": patient}
                refusals.append(Issue("ADP-7010", "error", expression="MessageHeader.destination", args=args))
        return refusals

    def _stored_ids(self, tx: Tx, message: _Message, bundle: dict[str, Any]) -> dict[str, str]:
        """Where each resource of the message is stored: reference forms -> ``Type/id``. People and organisations
        already stored under the same national identifier keep their stored id; others keep their own id (or get
        a deterministic one)."""
        ids: dict[str, str] = {}
        for index, entry in enumerate(bundle.get("entry", [])):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not resource.get("resourceType"):
                continue
            rtype = str(resource["resourceType"])
            rid = str(resource.get("id") or uuid.uuid5(_STORED_IDS, f"{message.sender}|{message.msg_id}|{index}"))
            for identifier in resource.get("identifier", []) if isinstance(resource.get("identifier"), list) else []:
                if identifier.get("system") in MATCH_BY_IDENTIFIER.get(rtype, ()) and identifier.get("value"):
                    found = tx.find(rtype, "identifier", f"{identifier['system']}|{identifier['value']}")
                    if found:
                        rid = found[0].id
                        break
            target = f"{rtype}/{rid}"
            for form in (entry.get("fullUrl"), _key(resource)):
                if form:
                    ids[str(form)] = target
        return ids

    def _answer(self, message: _Message, issues: list[Issue], now: float) -> Reply:
        """The acknowledgement: an AppRec for KITH, a FHIR acknowledgement message for FHIR."""
        if message.fmt == "kith" and message.kith is not None:
            answered = replace(message.kith, issues=issues)
            gen_date = datetime.datetime.fromtimestamp(now, ZoneInfo("Europe/Oslo")).replace(tzinfo=None)
            try:
                xml = receipt_for(answered, gen_date=gen_date.isoformat(timespec="seconds"))
            except ReceiptImpossible:
                return Reply(400, operation_outcome(issues))
            return Reply(200, body=xml, content_type=KITH_XML)
        stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds")
        header = message.header or None
        ack = acknowledgement(header, message.resolve, issues, timestamp=stamp, request_id=message.msg_id)
        return Reply(200, ack)


def _blocking(issues: list[Issue]) -> bool:
    return any(i.severity in ("error", "fatal") for i in issues)


def _sender_check(sender: str | None, caller: Caller) -> Issue | None:
    """A caller sends only as its own organisation (an admin-scoped gateway may relay for others)."""
    if sender == caller.org or ADMIN_SCOPE in caller.scopes:
        return None
    return Issue("ADP-7011", "error", args={"sender": sender or "(none)", "org": caller.org})


def _msghead_text(root: etree._Element, path: str) -> str:
    steps = "/".join(f"{{{MSGHEAD_NS}}}{step}" for step in path.split("/"))
    found = root.find(steps)
    return (found.text or "").strip() if found is not None else ""


def _stored_reply(found: StoredMessage) -> Reply:
    receipt = found.receipt or b""
    if found.receipt_type == KITH_XML:
        return Reply(found.http_status or 200, body=receipt, content_type=KITH_XML)
    return Reply(found.http_status or 200, json.loads(receipt))


def _key(resource: dict[str, Any]) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else ""


def _rewritten(resource: dict[str, Any], ids: dict[str, str], full_url: str) -> dict[str, Any]:
    """A copy of ``resource`` stored under its id in ``ids``, with every reference to a message entry rewritten
    to the stored ``Type/id``."""

    def walk(value: Any) -> Any:  # called for objects and arrays only; other values are copied as they are
        if isinstance(value, dict):
            out = {k: walk(v) if isinstance(v, dict | list) else v for k, v in value.items()}
            if isinstance(out.get("reference"), str) and out["reference"] in ids:
                out["reference"] = ids[out["reference"]]
            return out
        return [walk(v) if isinstance(v, dict | list) else v for v in value]

    body: dict[str, Any] = walk(resource)
    target = ids.get(full_url) or ids.get(_key(resource))
    if target:
        body["id"] = target.split("/", 1)[1]
    return body
