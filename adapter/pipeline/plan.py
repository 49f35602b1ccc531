"""The write plan of a message: what it may write (the authority rules) and whom it may go to (the receivers and
their consent).

A mixin of :class:`~adapter.pipeline.Pipeline`, so that the rules read apart from the message path that runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter import access
from adapter.errors import Issue
from adapter.pipeline.ids import rewritten
from adapter.pipeline.message import Message
from adapter.sharing import OTHER_BASES, Sharing, stated_basis
from adapter.store import StoredResource, Tx
from adapter.translate import Translator
from adapter.validate import Validator
from adapter.validate.implied import claim_implied


@dataclass
class Write:
    """One resource of a message as it will be stored: its body (references rewritten), patient, parties and
    creator; ``keep`` is the stored version used instead when the message may not or need not change it."""

    body: dict[str, Any]
    patient: str | None
    parties: frozenset[str]
    creator: str | None
    keep: StoredResource | None


def is_record(body: dict[str, Any]) -> bool:
    """A resource that holds patient data of its own (not the Patient, not a directory entry)."""
    return body.get("resourceType") not in ("Patient", *access.DIRECTORY_TYPES)


class PlanChecks:
    """The checks before a message is written; the pipeline provides the sharing rules, the validator and the
    translator."""

    sharing: Sharing
    validator: Validator
    translator: Translator

    def _plan(self, tx: Tx, message: Message, ids: dict[str, str]) -> tuple[list[Write], list[Issue], dict[str, str]]:
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

        writes: list[Write] = []
        issues: list[Issue] = []
        sender = message.sender
        for entry in entries:
            resource = entry["resource"]
            rtype = str(resource.get("resourceType"))
            if rtype in ("MessageHeader", "OperationOutcome"):
                continue
            body = claim_implied(rewritten(resource, ids, str(entry.get("fullUrl", ""))), self.validator.definitions)
            if not isinstance(body.get("id"), str):
                continue  # the validator has said why
            ref = f"{rtype}/{body['id']}"
            existing = tx.read(rtype, body["id"])
            existing = existing if existing is not None and not existing.deleted else None
            creator = existing.creator if existing else None
            changed_her = _her_change(ref, body, existing) if rtype == "Organization" else None
            if changed_her is not None:
                issues.append(changed_her)
                continue
            patient = access.patient_reference(body)
            if existing is not None and access.same_content(existing.body, body):
                writes.append(Write(body, patient, existing.parties, creator, existing))
                pending[ref] = existing.body
                continue
            parties = frozenset(access.parties_of(body, resolve, creator or sender))
            if existing is not None:
                refused = self._authority(tx, message, existing, body, creator)
                if refused is not None and rtype in access.MATCH_BY_IDENTIFIER:
                    issues.append(Issue("ADP-7015", "information", args={"ref": ref, "org": sender}))
                    writes.append(Write(body, patient, existing.parties, creator, existing))
                    pending[ref] = existing.body
                    continue
                if refused is not None:
                    issues.append(refused)
                    continue
            writes.append(Write(body, patient, parties, creator or sender, None))
            pending[ref] = body
        issues += _consent_issues(tx, sender, writes, resolve)
        return writes, issues + self._receivers(tx, message, writes, resolve), message.bases

    def _authority(
        self, tx: Tx, message: Message, existing: StoredResource, body: dict[str, Any], creator: str | None
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

    def _receivers(self, tx: Tx, message: Message, writes: list[Write], resolve: access.Resolver) -> list[Issue]:
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
                if not write.patient or not (is_record(write.body) or write.body.get("resourceType") == "Patient"):
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


def _her_change(ref: str, body: dict[str, Any], existing: StoredResource | None) -> Issue | None:
    """ADP-7014 when an Organization would have more than one HER-id, or another than it has (None: neither)."""
    found, stored_hers = access.her_ids(body), access.her_ids(existing.body) if existing else []
    if len(found) > 1 or (found and stored_hers and found != stored_hers):
        args = {"ref": ref, "found": ", ".join(found), "stored": ", ".join(stored_hers) or "(none)"}
        return Issue("ADP-7014", "error", expression="Organization.identifier", args=args)
    return None


def _consent_issues(tx: Tx, sender: str, writes: list[Write], resolve: access.Resolver) -> list[Issue]:
    """ADP-7012 / ADP-7016 for each Consent of the message that the sender may not record."""
    issues: list[Issue] = []
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
    return issues
