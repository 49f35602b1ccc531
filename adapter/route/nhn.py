"""NHN EDI 2.0 in the outbox and the inbox: deliveries over the Meldingstjener, messages fetched from it, and the
receipts that close deliveries.

* :class:`NhnOutbound` sends one outbox delivery whose route says ``transport: nhn-edi`` and reports it as a
  :class:`~adapter.transport.outbound.DeliveryResult` (with the Meldingstjener's id for the message), so the worker
  treats it like an HTTP delivery: retries with backoff on transient trouble, the dead-letter state otherwise.
* :class:`NhnInbox` fetches the unread messages for our HER-ids and gives each to the service (``process``: the
  same path as ``POST /kith/messages``, with the sender NHN authenticated), sends its AppRec back through the API
  and only then marks it read. What a message got to is kept in the store (``nhn_inbox``), so a poller that stops
  at any point neither loses a message (it stays unread until answered) nor answers one twice: a message fetched
  again is a duplicate by its MsgId and gets its stored AppRec, which is sent only if it was not sent before.
  The one window left is a crash between the API taking the AppRec and the store recording that: the AppRec is
  then sent a second time, with the same content (the receiver's system recognises it by the message it answers).
* :meth:`NhnInbox.follow_receipts` asks the API for the AppRecs and transport states of our sent messages that
  have no receipt yet and records them on their deliveries (:meth:`~adapter.store.Tx.record_receipt`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from adapter.store import Delivery, Store, Tx
from adapter.store.sql import utc_now
from adapter.transport.nhn import IncomingMessage, Meldingstjener, NhnError
from adapter.transport.outbound import DeliveryResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Processed:
    """What the service made of one fetched message: the AppRec to send (``status`` ok, ok-with-errors or
    rejected, with its errors as (list 8221 code, text)), or ``status`` None when none is due (it was a receipt)."""

    status: str | None
    errors: tuple[tuple[str, str], ...] = ()


@dataclass
class PollReport:
    """One poll: how many messages were listed, processed and answered, marked read, and what failed."""

    listed: int = 0
    answered: int = 0
    read: int = 0
    receipts: int = 0
    failures: list[str] = field(default_factory=list)


class NhnOutbound:
    """Sends outbox deliveries through the Meldingstjener; ``sender_of`` reads the sending HER-id of a KITH
    document (from its envelope), which the API checks against what our HelseID client may send for."""

    def __init__(self, client: Meldingstjener | None, sender_of: Callable[[bytes], str | None]) -> None:
        self.client = client
        self.sender_of = sender_of

    def post(self, delivery: Delivery) -> DeliveryResult:
        """Send one delivery once; never raises for the API's or the network's trouble."""
        if self.client is None:
            detail = "ADP-6010: NHN EDI 2.0 is not configured (nhn_base_url and the helseid_* settings)"
            return DeliveryResult(False, False, None, detail)
        sender = self.sender_of(delivery.body) or ""
        try:
            remote_id = self.client.send(delivery.body, sender_her=sender, receiver_her=delivery.recipient or "")
        except NhnError as error:
            return DeliveryResult(False, error.transient, error.status, f"NHN EDI 2.0: {error.detail}")
        return DeliveryResult(True, False, 201, f"sent through NHN EDI 2.0 as {remote_id}", remote_id=remote_id)


class NhnInbox:
    """Fetches, processes, answers and marks read the messages NHN holds for ``her_ids``."""

    def __init__(
        self,
        store: Store,
        client: Meldingstjener,
        her_ids: Sequence[str],
        process: Callable[[bytes, str], Processed],
        *,
        batch: int = 50,
    ) -> None:
        self.store = store
        self.client = client
        self.her_ids = tuple(her_ids)
        self.process = process
        self.batch = batch

    def poll_once(self) -> PollReport:
        """One round over the unread messages, then the receipts of our sent ones; never raises for the API's
        trouble (it is in the report, and the messages stay unread for the next round)."""
        report = PollReport()
        try:
            listed = self.client.unread(self.her_ids, self.batch)
        except NhnError as error:
            report.failures.append(f"listing unread messages: {error.detail}")
            return report
        report.listed = len(listed)
        for incoming in listed:
            try:
                self._take(incoming, report)
            except NhnError as error:
                report.failures.append(f"message {incoming.id}: {error.detail}")
                if error.transient:  # the service is unwell: the rest waits for the next round
                    break
        report.receipts = self.follow_receipts(report)
        return report

    def _take(self, incoming: IncomingMessage, report: PollReport) -> None:
        remote_id, sender, receiver = incoming.id, incoming.sender_her, incoming.receiver_her
        state = self.store.run(lambda tx: tx.inbox_state(remote_id))
        if state is None:
            document = self.client.business_document(remote_id)
            processed = self.process(document, sender)
            # a receipt is never answered with a receipt, whatever the service made of it
            if processed.status is not None and not incoming.is_apprec:
                self.client.send_apprec(
                    remote_id, sender_her=receiver, status=processed.status, errors=processed.errors
                )
            self.store.run(lambda tx: tx.set_inbox_state(remote_id, receiver, sender, "answered"))
            report.answered += 1
            log.info("NHN message %s from %s processed (AppRec %s)", remote_id, sender, processed.status or "none")
        self.client.mark_read(remote_id, receiver)
        self.store.run(lambda tx: tx.set_inbox_state(remote_id, receiver, sender, "read"))
        report.read += 1

    def follow_receipts(self, report: PollReport | None = None, limit: int = 100) -> int:
        """Record the AppRecs (and transport states) NHN has for our delivered messages still without a receipt;
        returns how many deliveries got their receipt."""
        waiting = self.store.run(lambda tx: tx.awaiting_receipt("nhn-edi", limit))
        completed = 0
        for delivery in waiting:
            if not delivery.remote_id or not delivery.answer_id:
                continue
            try:
                completed += self._follow(delivery)
            except NhnError as error:
                if report is not None:
                    report.failures.append(f"receipt of delivery {delivery.id}: {error.detail}")
                if error.transient:
                    break
        return completed

    def _follow(self, delivery: Delivery) -> int:
        remote_id, answer_id = str(delivery.remote_id), str(delivery.answer_id)
        recipient = delivery.recipient or ""
        for info in self.client.status(remote_id):
            if str(info.get("receiverHerId")) == recipient and info.get("transportDeliveryState"):
                state = str(info["transportDeliveryState"])

                def remote_state(tx: Tx, state: str = state) -> None:
                    tx.remote_state(delivery.id, state)

                self.store.run(remote_state)
        for receipt in self.client.receipts(remote_id):
            if receipt.receiver_her != recipient:
                continue
            codes = [code for code, _ in receipt.errors if code]

            def record(tx: Tx, status: str = receipt.status, codes: list[str] = codes) -> list[int]:
                return tx.record_receipt(answer_id, [recipient], status, codes, utc_now())[1]

            if self.store.run(record):
                log.info("delivery %s: AppRec %s %s", delivery.id, receipt.status, " ".join(codes))
                return 1
        return 0
