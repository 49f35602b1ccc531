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

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.parse.xml_safe import canonical_xml
from adapter.receipt import RECEIPT_STATUS, ReceiptImpossible, receipt_for
from adapter.receipt.audit import audit_event
from adapter.receipt.fhir_response import acknowledgement
from adapter.receipt.sync import BASE
from adapter.route.table import Route, RoutingTable
from adapter.security import ADMIN_SCOPE, Caller
from adapter.sharing import OTHER_BASES, Sharing, same_record, stated_basis
from adapter.store import Store, StoredMessage, StoredResource, Tx
from adapter.store.sql import utc_now
from adapter.translate import Translation, Translator
from adapter.validate import operation_outcome
from adapter.validate.implied import claim_implied

FHIR_JSON = "application/fhir+json"
KITH_XML = "application/xml"
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
    #: receiver HER-id -> the basis it gets the message's data on (party, consent, hpl-45)
    bases: dict[str, str] = field(default_factory=dict)
    #: the organisation (and token subject) that relayed it for ``sender`` with the admin scope, when not the sender
    relay: str | None = None

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
        self.sharing = Sharing(clock)
        self.distributor = Distributor(translator, routes, self.sharing)

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
        message.relay = _relay(sender, caller)
        response = header.get("response")
        if isinstance(response, dict) and response.get("identifier"):  # an acknowledgement of a message of ours
            message.issues[:] = self.validator.validate_source(source)
            codes = _ack_codes(response, message.resolve)
            status = _ACK_STATUS.get(str(response.get("code")), "rejected")
            return self._take_receipt(message, str(response["identifier"]), status, codes)
        if asynchronous:
            return self._accept_only(message)
        message.issues[:] = self.validator.validate_source(source)
        return self._process(message)

    # --- KITH ---------------------------------------------------------------------------------------------------

    def process_kith(self, data: bytes, caller: Caller) -> Reply:
        """``POST /kith/messages``: answer a KITH message (MsgHead, or a standard that is its own envelope) with its
        AppRec; an application receipt is recorded on the delivery it answers instead (never answered itself)."""
        translation = self.translator.kith_to_fhir(data)
        envelope = translation.envelope
        if envelope is None:
            issues = translation.issues or [Issue("ADP-3005", "fatal", args={"what": "a KITH message we know"})]
            return Reply(400, operation_outcome(issues))
        sender = _kith_sender(envelope.sender.her_ids, caller)
        refused = _sender_check(sender, caller)
        if not refused and envelope.sender.ambiguous:  # two HER-ids for one organisation: who sends it?
            refused = Issue("ADP-7022", "error", args={"found": ", ".join(envelope.sender.her_ids)})
        carried = access.message_sender(translation.bundle) if translation.bundle else None
        # The FHIR message must be the sender's own, or it could speak for another organisation: one it carried as an
        # attachment exactly; one made of its elements names the unit that sent it (the token's HER-id).
        foreign = not refused and carried is not None and carried != sender and not _admin(caller)
        if foreign and (translation.attached or not _sent_by_unit(translation.bundle or {}, str(sender))):
            refused = Issue("ADP-7011", "error", args={"sender": carried, "org": caller.org})
        if refused:
            return Reply(403, operation_outcome([refused]))
        if not envelope.msg_id:  # refused with its AppRec (E10), not stored: there is no id to keep it by
            answered = replace(translation, issues=[*translation.issues])
            try:
                return Reply(400, body=receipt_for(answered, gen_date=_oslo(self.clock())), content_type=KITH_XML)
            except ReceiptImpossible:
                return Reply(400, operation_outcome(translation.issues))
        message = _Message(
            str(sender), envelope.msg_id, "kith", data, KITH_XML, translation.bundle, translation.issues, translation
        )
        message.relay = _relay(sender, caller)
        if envelope.is_receipt:
            status = RECEIPT_STATUS.get(envelope.status, "rejected")
            return self._take_receipt(message, envelope.answers, status, [c for c, _ in envelope.errors if c])
        return self._process(message)

    # --- receipts -----------------------------------------------------------------------------------------------

    def receipt(self, msg_id: str, caller: Caller) -> Reply:
        """The stored acknowledgement or AppRec of a message the caller sent (202 while it is being processed)."""
        sender = None if ADMIN_SCOPE in caller.scopes else caller.org

        def work(tx: Tx) -> StoredMessage | None:
            stored = tx.message_by_id(msg_id, sender)
            event = audit_event(
                kind="rest",
                action="R",
                outcome="success" if stored is not None else "failed",
                recorded=utc_now(),
                org=caller.org,
                subject=caller.subject,
                what=[f"Bundle/{msg_id}"],
                patient=None,
                detail="receipt read" if stored is not None else "receipt read: no such message from this sender",
            )
            tx.audit(event)
            return stored

        found = self.store.run(work)
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
        if existing is not None and not same_message(existing.body, message.original, message.fmt):
            return self._reused_id(message, self.clock())
        if existing is not None and existing.receipt is not None:
            return _stored_reply(existing)
        where = {"Content-Location": f"/kith/receipts/{quote(message.msg_id, safe='')}"}  # polled for the answer
        return Reply(
            202, operation_outcome([Issue("ADP-5012", "information", args={"id": message.msg_id})]), headers=where
        )

    def _process(self, message: _Message, *, already_stored: bool = False) -> Reply:
        """Validate-then-apply in one transaction; the reply is built from what was committed."""
        now = self.clock()
        outgoing: list[_Outgoing] = []
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
                    if existing is not None and not same_message(existing.body, message.original, message.fmt):
                        return self._reused_id(message, now)
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

    def _outgoing(self, message: _Message) -> list[_Outgoing]:
        """One delivery for each receiver with a route, in the receiver's format."""
        bundle = message.bundle or {}
        destinations = message.header.get("destination")
        endpoints = [str(d["endpoint"]) for d in (destinations or []) if isinstance(d, dict) and d.get("endpoint")]
        targets: list[tuple[str | None, Route]] = []
        for her in message.receivers:
            route = self.routes.lookup(her, None)
            if route:
                targets.append((her, route))
        if not message.receivers:
            for endpoint in endpoints:
                route = self.routes.lookup(None, endpoint)
                if route:
                    targets.append((None, route))
        out: list[_Outgoing] = []
        seen: set[str] = set()
        for receiver, route in targets:
            if route.destination in seen:
                continue
            seen.add(route.destination)
            if route.format == "kith":
                if message.fmt == "kith":
                    out.append(_Outgoing(receiver, route, KITH_XML, message.original, message.msg_id))
                    continue
                translated = self.translator.fhir_to_kith(bundle)
                if translated.xml is None or not translated.ok:
                    raise AdapterError(translated.issues or [Issue("ADP-3004", "error", args={"detail": "no XML"})])
                # What the KITH message has no place for (it travels in the attached Bundle) is the sender's to know.
                message.issues.extend(i for i in translated.issues if i not in message.issues)
                made = self.translator.mappings.envelope(translated.kith_root)
                out.append(_Outgoing(receiver, route, KITH_XML, translated.xml, made.msg_id if made else None))
            else:  # the body is made after the write: the message as stored (_as_stored)
                out.append(_Outgoing(receiver, route, FHIR_JSON, b"", message.msg_id))
        return out

    def _apply(self, tx: Tx, message: _Message, outgoing: list[_Outgoing], now: float) -> list[Issue]:
        """Check who may write and receive what, store the message's resources, queue deliveries (to the receivers
        and to every other entitled party) and audit; returns the issues (when any is an error, nothing but the
        refusal's audit events is written)."""
        known = len(message.issues)
        ids = self._stored_ids(tx, message, message.bundle or {})
        notes = message.issues[known:]  # where records were stored when their ids were taken (ADP-7021)
        del message.issues[known:]
        stamp = utc_now()

        def audit(**event: Any) -> None:
            tx.audit(audit_event(recorded=stamp, org=message.sender, subject=message.relay, **event))

        writes: list[_Write] = []
        bases: dict[str, str] = {}
        if not message.receivers and not outgoing:  # accepted, it would reach nobody: said now, not lost silently
            issues = [Issue("ADP-5031", "error", expression="MessageHeader.destination")]
        else:
            writes, issues, bases = self._plan(tx, message, ids)
            issues = notes + issues
        refusals = [i for i in issues if i.severity in ("error", "fatal")]
        for issue in refusals:
            audit(
                kind="disclosure" if issue.code in ("ADP-7010", "ADP-7018") else "message",
                action="E",
                outcome="refused",
                what=[f"Bundle/{message.msg_id}"],
                patient=issue.args.get("patient"),
                recipient=issue.args.get("org") if issue.code in ("ADP-7010", "ADP-7018") else None,
                detail=f"{issue.code}: {issue.text_en}",
            )
        if refusals:
            return issues
        written: list[StoredResource] = []
        changed: list[StoredResource] = []
        identifiers_of: dict[str, list[tuple[str, str]]] = {}  # patient reference -> its identifiers, as stored now
        for write in writes:
            if write.keep is not None:
                written.append(write.keep)
                continue
            patient = write.patient
            if patient and patient not in identifiers_of:
                identifiers_of[patient] = access.patient_identifiers(tx.resolve(patient))
            identifiers = identifiers_of[patient] if patient else []
            index = list(access.index_terms(write.body, patient, identifiers))
            stored = tx.write(write.body, patient=patient, parties=write.parties, index=index, writer=message.sender)
            identifiers_of.pop(f"{stored.type}/{stored.id}", None)  # a new version: read again when next asked
            written.append(stored)
            changed.append(stored)
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
        refs = [
            f"{s.type}/{s.id}" for s in written if s.patient and s.type not in access.DIRECTORY_TYPES
        ]  # Patient too
        as_stored = _as_stored(message.bundle or {}, ids, written) if any(o.format == "fhir" for o in outgoing) else b""
        disclosed: dict[str, str] = {}  # recipient -> how it got the message
        for out in outgoing:
            if tx.enqueue(
                message.msg_id,
                out.destination,
                out.format,
                out.content_type,
                as_stored if out.format == "fhir" else out.body,
                recipient=out.receiver,
                patient=patient,
                refs=refs if out.receiver else (),
                basis=bases.get(out.receiver or "", "party"),
                transport=out.route.transport,
                answer_id=out.answer_id,
            ):
                disclosed[out.receiver or out.destination] = f"to {out.destination}"
            elif out.receiver:
                disclosed[out.receiver] = ""  # queued before: a repeat is no new disclosure
        for her in message.receivers:
            disclosed.setdefault(her, "no route; the data is there for it to read")
        for recipient, how in disclosed.items():
            if how:
                basis = bases.get(recipient, "party")
                detail = f"message {message.msg_id} {how} ({basis})"
                audit(
                    kind="disclosure",
                    action="E",
                    outcome="success",
                    what=what,
                    patient=patient,
                    recipient=recipient,
                    detail=detail,
                )
        self.distributor.changed(tx, changed, message.sender, exclude=message.receivers)
        return issues

    def _plan(self, tx: Tx, message: _Message, ids: dict[str, str]) -> tuple[list[_Write], list[Issue], dict[str, str]]:
        """What the message may write, and whom it may go to: (writes, issues, receiver HER-id -> basis).

        * A resource that exists is changed only by a party to it (ADP-7013), and only from the version it is
          based on (ADP-7017). A person's or organisation's record that the sender may not change is kept as
          stored (ADP-7015). An Organization is one HER-id: a message may not add, reorder or replace them
          (ADP-7014). Unchanged content writes no new version.
        * A Consent is recorded by its custodian (ADP-7012), a party to the patient's care (ADP-7016).
        * Every resource with patient data goes to a receiver only if it is party to it, a Consent permits it, or
          the sender states helsepersonelloven § 45 with a reason (ADP-7019); a deny wins (ADP-7018, ADP-7010)."""
        bundle = message.bundle or {}
        entries = [
            e for e in bundle.get("entry", [])[1:] if isinstance(e, dict) and isinstance(e.get("resource"), dict)
        ]
        entries.sort(key=lambda e: e["resource"].get("resourceType") not in access.MATCH_BY_IDENTIFIER)  # people first
        pending: dict[str, dict[str, Any]] = {}

        def resolve(reference: str) -> dict[str, Any] | None:  # what this message will store, then the store
            return pending.get(reference) or message.resolve(reference) or tx.resolve(reference)

        writes: list[_Write] = []
        issues: list[Issue] = []
        sender = message.sender
        for entry in entries:
            resource = entry["resource"]
            rtype = str(resource.get("resourceType"))
            if rtype in ("MessageHeader", "OperationOutcome"):
                continue
            body = claim_implied(_rewritten(resource, ids, str(entry.get("fullUrl", ""))), self.validator.definitions)
            if not isinstance(body.get("id"), str):
                continue  # the validator has said why
            ref = f"{rtype}/{body['id']}"
            existing = tx.read(rtype, body["id"])
            existing = existing if existing is not None and not existing.deleted else None
            creator = existing.creator if existing else None
            if rtype == "Organization":
                found, stored_hers = access.her_ids(body), access.her_ids(existing.body) if existing else []
                if len(found) > 1 or (found and stored_hers and found != stored_hers):
                    args = {"ref": ref, "found": ", ".join(found), "stored": ", ".join(stored_hers) or "(none)"}
                    issues.append(Issue("ADP-7014", "error", expression="Organization.identifier", args=args))
                    continue
            patient = access.patient_reference(body)
            if existing is not None and access.same_content(existing.body, body):
                writes.append(_Write(body, patient, existing.parties, creator, existing))
                pending[ref] = existing.body
                continue
            parties = frozenset(access.parties_of(body, resolve, creator or sender))
            if existing is not None:
                refused = self._authority(tx, message, existing, body, creator)
                if refused is not None and rtype in access.MATCH_BY_IDENTIFIER:
                    issues.append(Issue("ADP-7015", "information", args={"ref": ref, "org": sender}))
                    writes.append(_Write(body, patient, existing.parties, creator, existing))
                    pending[ref] = existing.body
                    continue
                if refused is not None:
                    issues.append(refused)
                    continue
            writes.append(_Write(body, patient, parties, creator or sender, None))
            pending[ref] = body
        for write in writes:
            if write.body.get("resourceType") != "Consent" or write.keep is not None:
                continue
            if sender not in access.consent_custodians(write.body, resolve):
                issues.append(
                    Issue(
                        "ADP-7012",
                        "error",
                        expression="Consent.organization",
                        args={"org": sender, "patient": write.patient},
                    )
                )
            elif (
                write.patient
                and not tx.cares_for(sender, write.patient)
                and tx.read("Patient", write.patient.partition("/")[2]) is not None  # a new patient: the sender begins
            ):
                issues.append(Issue("ADP-7016", "error", args={"org": sender, "patient": write.patient}))
        return writes, issues + self._receivers(tx, message, writes, resolve), message.bases

    def _authority(
        self, tx: Tx, message: _Message, existing: StoredResource, body: dict[str, Any], creator: str | None
    ) -> Issue | None:
        """Why the sender may not write this new version of ``existing`` (None: it may)."""
        sender, ref = message.sender, f"{existing.type}/{existing.id}"
        if existing.type == "Organization":
            allowed = sender in access.her_ids(existing.body) or sender == creator
        elif existing.type == "Practitioner":
            allowed = sender == creator
        else:
            decision = self.sharing.may_change(tx, sender, existing)
            if decision.basis == "denied":
                args = {"ref": ref, "org": sender, "consent": decision.consent, "patient": existing.patient}
                return Issue("ADP-7018", "error", args=args)
            allowed = decision.allowed
        if not allowed:
            return Issue("ADP-7013", "error", args={"ref": ref, "org": sender, "patient": existing.patient})
        if existing.type in access.MATCH_BY_IDENTIFIER:
            return None
        meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
        based = str(meta.get("versionId") or "")
        if (based and based != str(existing.version)) or (not based and existing.writer not in (None, sender)):
            conflict: dict[str, Any] = {
                "ref": ref,
                "based": f"version {based}" if based else "no version stated (meta.versionId)",
                "current": existing.version,
                "writer": existing.writer,
                "patient": existing.patient,
            }
            return Issue("ADP-7017", "error", expression=f"{existing.type}.meta.versionId", args=conflict)
        return None

    def _receivers(self, tx: Tx, message: _Message, writes: list[_Write], resolve: access.Resolver) -> list[Issue]:
        """ADP-7010 / ADP-7018 / ADP-7019 for each receiver that may not have a resource of the message; the
        basis each receiver gets it on is kept in ``message.bases``."""
        basis, reason = stated_basis(message.header)
        if basis is None and message.fmt == "kith":  # what every message of its KITH type goes under, if anything
            declared = self.translator.mappings.basis_for(str(message.header.get("definition", "")))
            basis, reason = declared if declared else (None, "")
        issues: list[Issue] = []
        if basis is not None and basis in OTHER_BASES and not reason:
            issues.append(Issue("ADP-7019", "error", expression="MessageHeader.reason.text", args={"basis": basis}))
        consents: dict[str, list[access.ConsentRules]] = {}

        def consents_of(patient: str) -> list[access.ConsentRules]:
            if patient not in consents:
                stored = {r.ref: r for r in self.sharing.consents(tx, patient)}
                for write in writes:  # this message's Consents replace the stored ones
                    if write.body.get("resourceType") == "Consent" and write.patient == patient:
                        ref = f"Consent/{write.body['id']}"
                        stored[ref] = access.consent_rules(write.body, resolve, ref)
                consents[patient] = list(stored.values())
            return consents[patient]

        for her in message.receivers:
            for write in writes:
                if not write.patient or not (_is_record(write.body) or write.body.get("resourceType") == "Patient"):
                    continue
                rtype, ref = str(write.body["resourceType"]), f"{write.body['resourceType']}/{write.body['id']}"
                decision = self.sharing.judge(
                    tx,
                    her,
                    rtype=rtype,
                    ref=ref,
                    profiles=access.profiles_of(write.body),
                    parties=write.parties,
                    creator=write.creator,
                    patient=write.patient,
                    consents=consents_of(write.patient),
                    basis=basis if reason else None,
                    accompanying=rtype == "Patient",
                )
                if decision.allowed:
                    rank = ("hpl-45", "consent", "party")
                    current = message.bases.get(her, "party")
                    message.bases[her] = min(current, decision.basis, key=lambda b: rank.index(b) if b in rank else 0)
                    continue
                args = {"org": her, "plan": ref, "ref": ref, "patient": write.patient, "consent": decision.consent}
                code = "ADP-7018" if decision.basis == "denied" else "ADP-7010"
                issues.append(Issue(code, "error", expression="MessageHeader.destination", args=args))
                break  # one refusal per receiver: the first resource it may not have
        return issues

    def _stored_ids(self, tx: Tx, message: _Message, bundle: dict[str, Any]) -> dict[str, str]:
        """Where each resource of the message is stored: reference forms -> ``Type/id``. A person or organisation
        already stored under the same national identifier, or a record with the business identifier of a stored
        record of the same patient, is that stored one (:func:`~adapter.sharing.same_record`); others keep their
        own id (or get a deterministic one), unless it was taken (:meth:`_unsquatted`)."""
        ids: dict[str, str] = {}
        records: list[tuple[dict[str, Any], str, list[str]]] = []
        for index, entry in enumerate(bundle.get("entry", [])):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                continue
            rtype = str(resource["resourceType"])
            own = resource.get("id") if isinstance(resource.get("id"), str) else None
            rid = str(own or uuid.uuid5(_STORED_IDS, f"{message.sender}|{message.msg_id}|{index}"))
            found = same_record(tx, rtype, resource, None) if rtype in access.MATCH_BY_IDENTIFIER else None
            forms = [str(form) for form in (entry.get("fullUrl"), _key(resource)) if form]
            for form in forms:
                ids[form] = f"{rtype}/{found.id if found else rid}"
            if rtype not in access.MATCH_BY_IDENTIFIER and forms:
                records.append((resource, rtype, forms))
        for resource, rtype, forms in records:  # once the patients' stored ids are known
            written = access.patient_reference(resource)
            patient = ids.get(written, written) if written else None
            found = same_record(tx, rtype, resource, patient)
            if found is not None:
                for form in forms:
                    ids[form] = f"{rtype}/{found.id}"
            else:
                self._unsquatted(tx, message, rtype, patient, forms, ids)
        return ids

    def _unsquatted(
        self, tx: Tx, message: _Message, rtype: str, patient: str | None, forms: list[str], ids: dict[str, str]
    ) -> None:
        """A record whose id is held by a stored record of another patient, or by one whose creator takes no part in
        the patient's care, is not that record: someone took the id first (squatted it), or it collides. It is
        stored under an id of the sender's own, the same every time (information ADP-7021), so nobody can lock a
        sender out of its ids. Otherwise the same id is the same record, and the rules for changing it apply
        (ADP-7013, ADP-7017)."""
        target = ids[forms[0]]
        held = tx.read(*access.split_reference(target))
        if held is None or not held.patient or not patient:
            return
        holder = held.creator
        if holder == message.sender or (held.patient == patient and holder and tx.cares_for(holder, held.patient)):
            return
        own = f"{rtype}/{uuid.uuid5(_STORED_IDS, f'{message.sender}|{target}')}"
        message.issues.append(Issue("ADP-7021", "information", args={"ref": target, "stored": own}))
        for form in forms:
            ids[form] = own

    def _reused_id(self, message: _Message, now: float) -> Reply:
        """The answer to a message whose id its sender already used for another message: refused (409, AppRec E10),
        nothing of it stored; the first message and its receipt stay as they were."""
        issue = Issue("ADP-5018", "error", args={"id": message.msg_id, "sender": message.sender, "apprec_code": "E10"})
        return replace(self._answer(message, [issue], now), status=409)

    def _take_receipt(self, message: _Message, answers: str, status: str, codes: list[str]) -> Reply:
        """An application receipt (AppRec, or a FHIR acknowledgement) from a receiver: stored once like any message
        and recorded on the deliveries of ours it answers, which it completes. Only the authenticated sender's own
        deliveries are matched, whatever other identifiers the receipt lists. Answered with an OperationOutcome:
        a receipt is never answered with a receipt."""

        def work(tx: Tx) -> Reply:
            if not tx.insert_message(
                message.sender, message.msg_id, message.fmt, message.content_type, message.original
            ):
                existing = tx.message(message.sender, message.fmt, message.msg_id, lock=True)
                if existing is not None and not same_message(existing.body, message.original, message.fmt):
                    return self._reused_id(message, self.clock())
                if existing is not None and existing.receipt is not None:
                    return _stored_reply(existing)
            # A receipt is taken when it can be read (the envelope says what it answers, with which status): how
            # another vendor words a code's display, or a profile rule it breaks, must not lose it. Those are told.
            unreadable = [i for i in message.issues if _blocking([i]) and not i.code.startswith("ADP-4")]
            if unreadable:
                reply = Reply(400, operation_outcome(unreadable))
                state = "rejected"
            else:
                found, completed = tx.record_receipt(answers, [message.sender], status, codes, utc_now())
                args = {"answers": answers, "sender": message.sender, "status": status}
                deliveries = ", ".join(map(str, found))
                if completed:
                    issue = Issue("ADP-6001", "information", args={**args, "deliveries": deliveries})
                elif found:
                    issue = Issue("ADP-6003", "information", args={**args, "deliveries": deliveries})
                else:
                    issue = Issue("ADP-6002", "warning", args=args)
                told = [replace(i, severity="warning") for i in message.issues if _blocking([i])]
                reply, state = Reply(200, operation_outcome([issue, *told])), "processed"
                tx.audit(
                    audit_event(
                        kind="message",
                        action="U",
                        outcome="success" if completed else "failed",
                        recorded=utc_now(),
                        org=message.sender,
                        subject=message.relay,
                        what=[f"Bundle/{message.msg_id}"],
                        patient=None,
                        detail=f"receipt {status} {' '.join(codes)} for message {answers}".strip(),
                    )
                )
            body = json.dumps(reply.resource).encode()
            tx.finish_message(message.sender, message.fmt, message.msg_id, state, body, FHIR_JSON, reply.status)
            return reply

        return self.store.run(work)

    def _answer(self, message: _Message, issues: list[Issue], now: float) -> Reply:
        """The acknowledgement: an AppRec for KITH, a FHIR acknowledgement message for FHIR."""
        if message.fmt == "kith" and message.kith is not None:
            answered = replace(message.kith, issues=issues)
            try:
                xml = receipt_for(answered, gen_date=_oslo(now))
            except ReceiptImpossible:
                return Reply(400, operation_outcome(issues))
            return Reply(200, body=xml, content_type=KITH_XML)
        stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds")
        header = message.header or None
        ack = acknowledgement(header, message.resolve, issues, timestamp=stamp, request_id=message.msg_id)
        return Reply(200, ack)


def _blocking(issues: list[Issue]) -> bool:
    return any(i.severity in ("error", "fatal") for i in issues)


#: MessageHeader.response.code -> how the delivery it answers ended (a transient error is no acceptance either)
_ACK_STATUS = {"ok": "ok", "transient-error": "rejected", "fatal-error": "rejected"}


def _ack_codes(response: dict[str, Any], resolve: access.Resolver) -> list[str]:
    """The issue codes of the OperationOutcome a FHIR acknowledgement carries (``response.details``)."""
    details = response.get("details")
    outcome = resolve(str(details.get("reference", ""))) if isinstance(details, dict) else None
    codes = []
    for issue in (outcome or {}).get("issue", []) if isinstance(outcome, dict) else []:
        if not isinstance(issue, dict) or issue.get("severity") not in ("error", "fatal", "warning"):
            continue
        coding = (issue.get("details") or {}).get("coding") or [{}]
        codes.append(str(coding[0].get("code") or issue.get("code") or ""))
    return [c for c in codes if c]


def same_message(stored: bytes, received: bytes, fmt: str) -> bool:
    """Whether a message that reuses a stored message's id is that message again (a resend), not another one: the
    same bytes, or the same JSON (FHIR) or the same canonical XML (KITH) when a system wrote it out afresh."""
    if stored.strip() == received.strip():
        return True
    try:
        if fmt == "fhir" and received.lstrip()[:1] == b"{":
            return bool(json.loads(stored) == json.loads(received))
        return bool(canonical_xml(stored) == canonical_xml(received))
    except (AdapterError, ValueError):
        return False


def _sent_by_unit(bundle: dict[str, Any], her: str) -> bool:
    """Make a message that a unit of an organisation sent (the caller's HER-id is the unit's) name that unit as its
    sender, as the Organization the mapping made of it; False when the message has no such unit."""
    header = access.message_header(bundle)
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if header is None or not isinstance(resource, dict) or resource.get("resourceType") != "Organization":
            continue
        if access.her_ids(resource) == [her] and entry.get("fullUrl"):
            header["sender"] = {"reference": str(entry["fullUrl"])}
            return True
    return False


def _oslo(now: float) -> str:
    """``now`` as a KITH GenDate: Norwegian local time without offset, to the second."""
    return datetime.datetime.fromtimestamp(now, ZoneInfo("Europe/Oslo")).replace(tzinfo=None).isoformat("T", "seconds")


def _admin(caller: Caller) -> bool:
    return ADMIN_SCOPE in caller.scopes


def _kith_sender(her_ids: tuple[str, ...], caller: Caller) -> str | None:
    """Who sends a KITH message: the caller, when its HER-id is one of the sending party's (the organisation's or a
    unit's, in any order); for an admin relay the party's first HER-id; None when the party has none."""
    if caller.org in her_ids:
        return caller.org
    return her_ids[0] if her_ids else None


def _sender_check(sender: str | None, caller: Caller) -> Issue | None:
    """A caller sends only as its own organisation (an admin-scoped gateway may relay for others)."""
    if sender == caller.org or ADMIN_SCOPE in caller.scopes:
        return None
    return Issue("ADP-7011", "error", args={"sender": sender or "(none)", "org": caller.org})


def _relay(sender: str | None, caller: Caller) -> str | None:
    """Who relayed a message for another organisation (the admin scope), for the audit trail; None for the
    sender itself."""
    return None if sender == caller.org else f"relayed by {caller.org} ({caller.subject})"


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


@dataclass
class _Write:
    """One resource of a message as it will be stored: its body (references rewritten), patient, parties and
    creator; ``keep`` is the stored version used instead when the message may not or need not change it."""

    body: dict[str, Any]
    patient: str | None
    parties: frozenset[str]
    creator: str | None
    keep: StoredResource | None


@dataclass(frozen=True)
class _Outgoing:
    """One delivery of the message: to the receiver ``receiver`` (None: addressed by endpoint only) by ``route``;
    ``answer_id`` is the message id the receiver's receipt will name."""

    receiver: str | None
    route: Route
    content_type: str
    body: bytes
    answer_id: str | None

    @property
    def destination(self) -> str:
        return self.route.destination

    @property
    def format(self) -> str:
        return self.route.format


def _as_stored(bundle: dict[str, Any], ids: dict[str, str], written: list[StoredResource]) -> bytes:
    """The message as a FHIR receiver gets it: each resource as stored (its id, ``meta.versionId`` and references
    as here, so the receiver can base its next change on that version), under a fullUrl that names it."""
    stored = {f"{s.type}/{s.id}": s.body for s in written}
    entries = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        target = ids.get(str(entry.get("fullUrl", ""))) or (
            ids.get(_key(resource)) if isinstance(resource, dict) else None
        )
        if target in stored:
            entries.append({"fullUrl": f"{BASE}/{target}", "resource": stored[target]})
        elif isinstance(resource, dict):  # the header (and what was not stored): its references as stored
            entries.append({**entry, "resource": _rewritten(resource, ids, str(entry.get("fullUrl", "")))})
        else:
            entries.append(entry)
    return json.dumps({**bundle, "entry": entries}, ensure_ascii=False).encode()


def _is_record(body: dict[str, Any]) -> bool:
    """A resource that holds patient data of its own (not the Patient, not a directory entry)."""
    return body.get("resourceType") not in ("Patient", *access.DIRECTORY_TYPES)
