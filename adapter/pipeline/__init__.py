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
from dataclasses import replace
from urllib.parse import quote

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue, http_status
from adapter.parse.fhir_source import read_fhir
from adapter.pipeline.apply import Apply, Outgoing
from adapter.pipeline.message import (
    ACK_STATUS,
    FHIR_JSON,
    KITH_XML,
    Message,
    ack_codes,
    blocking,
    is_admin,
    kith_sender,
    oslo,
    relay_of,
    same_message,
    sender_check,
    sent_by_unit,
    stored_reply,
)
from adapter.receipt import RECEIPT_STATUS, ReceiptImpossible, receipt_for
from adapter.receipt.audit import audit_event
from adapter.receipt.fhir_response import acknowledgement
from adapter.reply import Reply, operation_outcome
from adapter.route.table import RoutingTable
from adapter.security import ADMIN_SCOPE, Caller
from adapter.sharing import Sharing
from adapter.store import Store, StoredMessage, Tx
from adapter.store.sql import utc_now
from adapter.translate import Translator

__all__ = ["Pipeline"]

log = logging.getLogger(__name__)


class Pipeline(Apply):
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
            return Reply.refused(error.issues)
        bundle = source.resource
        header = access.message_header(bundle)
        if header is None or not header.get("id"):
            issue = Issue("ADP-5010", "fatal", expression="Bundle.entry[0].resource")
            return Reply.refused([issue])
        sender, _ = access.message_parties(header, access.bundle_resolver(bundle))
        refused = sender_check(sender, caller)
        if refused:
            return Reply.refused([refused])
        issues = [*source.issues]
        content_type = "application/fhir+xml" if source.format == "xml" else FHIR_JSON
        message = Message(str(sender), str(header["id"]), "fhir", data, content_type, bundle, issues)
        message.relay = relay_of(sender, caller)
        response = header.get("response")
        if isinstance(response, dict) and response.get("identifier"):  # an acknowledgement of a message of ours
            message.issues[:] = self.validator.validate_source(source)
            codes = ack_codes(response, message.resolve)
            status = ACK_STATUS.get(str(response.get("code")), "rejected")
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
            return Reply.refused(issues)
        sender = kith_sender(envelope.sender.her_ids, caller)
        refused = sender_check(sender, caller)
        if not refused and envelope.sender.ambiguous:  # two HER-ids for one organisation: who sends it?
            refused = Issue("ADP-7022", "error", args={"found": ", ".join(envelope.sender.her_ids)})
        carried = access.message_sender(translation.bundle) if translation.bundle else None
        # The FHIR message must be the sender's own, or it could speak for another organisation: one it carried as an
        # attachment exactly; one made of its elements names the unit that sent it (the token's HER-id).
        foreign = not refused and carried is not None and carried != sender and not is_admin(caller)
        if foreign and (translation.attached or not sent_by_unit(translation.bundle or {}, str(sender))):
            refused = Issue("ADP-7011", "error", args={"sender": carried, "org": caller.org})
        if refused:
            return Reply.refused([refused])
        if not envelope.msg_id:  # refused with its AppRec (E10), not stored: there is no id to keep it by
            answered = replace(translation, issues=[*translation.issues])
            try:
                receipt = receipt_for(answered, gen_date=oslo(self.clock()))
                return Reply(http_status(answered.issues), body=receipt, content_type=KITH_XML)
            except ReceiptImpossible:
                return Reply.refused(translation.issues)
        message = Message(
            str(sender), envelope.msg_id, "kith", data, KITH_XML, translation.bundle, translation.issues, translation
        )
        message.relay = relay_of(sender, caller)
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
            return Reply.refused([Issue("ADP-5011", "error", args={"id": msg_id})])
        if found.receipt is None:
            return Reply(202, operation_outcome([Issue("ADP-5012", "information", args={"id": msg_id})]))
        return stored_reply(found)

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
            message = Message(
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

    def _accept_only(self, message: Message) -> Reply:
        def work(tx: Tx) -> StoredMessage | None:
            if tx.insert_message(message.sender, message.msg_id, message.fmt, message.content_type, message.original):
                return None
            return tx.message(message.sender, message.fmt, message.msg_id)

        existing = self.store.run(work)
        if existing is not None and not same_message(existing.body, message.original, message.fmt):
            return self._reused_id(message, self.clock())
        if existing is not None and existing.receipt is not None:
            return stored_reply(existing)
        where = {"Content-Location": f"/kith/receipts/{quote(message.msg_id, safe='')}"}  # polled for the answer
        return Reply(
            202, operation_outcome([Issue("ADP-5012", "information", args={"id": message.msg_id})]), headers=where
        )

    def _process(self, message: Message, *, already_stored: bool = False) -> Reply:
        """Validate-then-apply in one transaction; the reply is built from what was committed."""
        now = self.clock()
        outgoing: list[Outgoing] = []
        if message.bundle is not None and not blocking(message.issues):
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
                        return stored_reply(existing)
                    # stored, not yet answered (asynchronous, or a crash): processed now, once, in this transaction
            elif (
                current := tx.message(message.sender, message.fmt, message.msg_id, lock=True)
            ) is None or current.receipt is not None:
                if current is None:  # gone meanwhile: nothing to answer (process_pending drops the reply)
                    return Reply.refused([Issue("ADP-5011", "error", args={"id": message.msg_id})])
                return stored_reply(current)
            issues = list(message.issues)
            if message.bundle is not None and not blocking(issues):
                issues.extend(self._apply(tx, message, outgoing, now))
            ok = not blocking(issues)
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

    def _reused_id(self, message: Message, now: float) -> Reply:
        """The answer to a message whose id its sender already used for another message: refused (409, AppRec E10),
        nothing of it stored; the first message and its receipt stay as they were."""
        issue = Issue("ADP-5018", "error", args={"id": message.msg_id, "sender": message.sender, "apprec_code": "E10"})
        return replace(self._answer(message, [issue], now), status=http_status([issue]))

    def _take_receipt(self, message: Message, answers: str, status: str, codes: list[str]) -> Reply:
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
                    return stored_reply(existing)
            # A receipt is taken when it can be read (the envelope says what it answers, with which status): how
            # another vendor words a code's display, or a profile rule it breaks, must not lose it. Those are told.
            unreadable = [i for i in message.issues if blocking([i]) and not i.code.startswith("ADP-4")]
            if unreadable:
                reply = Reply.refused(unreadable)
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
                told = [replace(i, severity="warning") for i in message.issues if blocking([i])]
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

    def _answer(self, message: Message, issues: list[Issue], now: float) -> Reply:
        """The acknowledgement: an AppRec for KITH, a FHIR acknowledgement message for FHIR."""
        if message.fmt == "kith" and message.kith is not None:
            answered = replace(message.kith, issues=issues)
            try:
                xml = receipt_for(answered, gen_date=oslo(now))
            except ReceiptImpossible:
                return Reply.refused(issues)
            return Reply(200, body=xml, content_type=KITH_XML)
        stamp = datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="seconds")
        header = message.header or None
        ack = acknowledgement(header, message.resolve, issues, timestamp=stamp, request_id=message.msg_id)
        return Reply(200, ack)
