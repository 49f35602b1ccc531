"""Applying a checked message: its resources written, its deliveries queued, every step audited.

A mixin of :class:`~adapter.pipeline.Pipeline`; the checks it runs first are :class:`~adapter.pipeline.plan.PlanChecks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adapter import access
from adapter.distribute import Distributor
from adapter.errors import AdapterError, Issue
from adapter.pipeline.ids import stored_bundle, stored_ids
from adapter.pipeline.message import FHIR_JSON, KITH_XML, Message
from adapter.pipeline.plan import PlanChecks, Write
from adapter.receipt.audit import audit_event
from adapter.route.table import Route, RoutingTable
from adapter.store import StoredResource, Tx
from adapter.store.sql import utc_now


@dataclass(frozen=True)
class Outgoing:
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


class Apply(PlanChecks):
    """Routing, writing and queueing a message; the pipeline provides the routing table and the distributor."""

    routes: RoutingTable
    distributor: Distributor

    def _outgoing(self, message: Message) -> list[Outgoing]:
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
        out: list[Outgoing] = []
        seen: set[str] = set()
        for receiver, route in targets:
            if route.destination in seen:
                continue
            seen.add(route.destination)
            if route.format == "kith":
                if message.fmt == "kith":
                    out.append(Outgoing(receiver, route, KITH_XML, message.original, message.msg_id))
                    continue
                translated = self.translator.fhir_to_kith(bundle)
                if translated.xml is None or not translated.ok:
                    raise AdapterError(translated.issues or [Issue("ADP-3004", "error", args={"detail": "no XML"})])
                # What the KITH message has no place for (it travels in the attached Bundle) is the sender's to know.
                message.issues.extend(i for i in translated.issues if i not in message.issues)
                made = self.translator.mappings.envelope(translated.kith_root)
                out.append(Outgoing(receiver, route, KITH_XML, translated.xml, made.msg_id if made else None))
            else:  # the body is made after the write: the message as stored (as_stored)
                out.append(Outgoing(receiver, route, FHIR_JSON, b"", message.msg_id))
        return out

    def _apply(self, tx: Tx, message: Message, outgoing: list[Outgoing], now: float) -> list[Issue]:
        """Check who may write and receive what, store the message's resources, queue deliveries (to the receivers
        and to every other entitled party) and audit; returns the issues (when any is an error, nothing but the
        refusal's audit events is written)."""
        known = len(message.issues)
        ids = stored_ids(tx, message, message.bundle or {})
        notes = message.issues[known:]  # where records were stored when their ids were taken (ADP-7021)
        del message.issues[known:]
        stamp = utc_now()

        def audit(**event: Any) -> None:
            tx.audit(audit_event(recorded=stamp, org=message.sender, subject=message.relay, **event))

        writes: list[Write] = []
        bases: dict[str, str] = {}
        if not message.receivers and not outgoing:  # accepted, it would reach nobody: said now, not lost silently
            issues = [Issue("ADP-5031", "error", expression="MessageHeader.destination")]
        else:
            writes, issues, bases = self._plan(tx, message, ids)
            issues = notes + issues
        if _refused(message, issues, audit):
            return issues
        written, changed = _write_all(tx, message, writes)
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
        disclosed = _queue(tx, message, outgoing, ids, written, bases, patient)
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


def _refused(message: Message, issues: list[Issue], audit: Callable[..., None]) -> bool:
    """Whether the message is refused (an error among ``issues``); each refusal is audited, as a refused disclosure
    when it is about a receiver."""
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
    return bool(refusals)


def _write_all(tx: Tx, message: Message, writes: list[Write]) -> tuple[list[StoredResource], list[StoredResource]]:
    """Store the planned writes: (every resource of the message as stored, those that got a new version). A
    patient's identifiers are read once, and again after the message wrote the Patient (they index its records)."""
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
    return written, changed


def _queue(
    tx: Tx,
    message: Message,
    outgoing: list[Outgoing],
    ids: dict[str, str],
    written: list[StoredResource],
    bases: dict[str, str],
    patient: str | None,
) -> dict[str, str]:
    """Queue the message for each of ``outgoing``; returns recipient -> how it got the message (empty: queued
    before, so no new disclosure), every receiver included (one without a route reads the data where it is)."""
    refs = [f"{s.type}/{s.id}" for s in written if s.patient and s.type not in access.DIRECTORY_TYPES]  # Patient too
    as_stored = stored_bundle(message.bundle or {}, ids, written) if any(o.format == "fhir" for o in outgoing) else b""
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
    return disclosed
