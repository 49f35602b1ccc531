"""The person's own records: what a person reads about themself, and their own words, with a person's token.

A person's token (:mod:`adapter.security`: scope ``samhandling/person``, the person's fødselsnummer or D-nummer in
``pid``, no organisation) reaches only this. The person's Patient record is found by that number (fødselsnummer or
D-nummer systems, as the emergency read finds a patient), and:

* **Reading** (:meth:`PersonRecords.own`): every current record of that patient, whatever the Consents say (it is
  the person's own data), and what the plans and care teams name (people, organisations, places, goals; of that
  patient or of no patient, never another's). Audited as one disclosure to the person (the AuditEvent's agent is the
  person: their number, and their Patient record).
* **Their own words** (:meth:`PersonRecords.contribute`): "Hva er viktig for meg" and "Dette hjelper meg", each a
  Goal (``lifecycleStatus`` proposed: the care team takes it in) with ``subject`` and ``expressedBy`` the person,
  validated (the first against ``hva-er-viktig``), stored as written by the person (creator ``Patient/<id>``),
  audited, and passed on like any change: :mod:`adapter.sharing` gives a record the person wrote about themself to
  every organisation that takes part in their care (a deny still wins), and nobody else.

The Bundle :meth:`PersonRecords.own` answers marks the records the person wrote themself with search mode
``match`` (the others ``include``).
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from adapter import access
from adapter.errors import Issue
from adapter.narrative import with_narrative
from adapter.receipt.audit import audit_event
from adapter.records import Records
from adapter.records.access import crisis_plans
from adapter.records.pages import MEMBER_TYPES, PAGE_TYPES, references
from adapter.reply import Reply
from adapter.security import PERSON_SCOPE, Caller, person_system
from adapter.store import StoredResource, Tx
from adapter.store.sql import utc_now
from adapter.validate.implied import claim_implied

#: The patient's own records the person's page reads, by type.
OWN_TYPES = ("CarePlan", "Goal", "CareTeam", "EpisodeOfCare", "Consent", "ServiceRequest", "DocumentReference")
HVA_ER_VIKTIG = "http://samhandling.no/fhir/StructureDefinition/hva-er-viktig"
MALTYPE = "http://samhandling.no/fhir/CodeSystem/maltype"
#: The category of "Dette hjelper meg" (text only: the Måltype code system has no code for it yet).
HELPS_CATEGORY = "Dette hjelper meg"
_PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
#: The longest text the person may write in one field.
MAX_WORDS = 2000


@dataclass(frozen=True)
class Words:
    """What the person wrote: "Hva er viktig for meg" (``important``) and "Dette hjelper meg" (``helps``)."""

    important: str
    helps: str


class PersonRecords:
    """The person's reads and writes over the records' store, validator and distributor."""

    def __init__(self, records: Records) -> None:
        self.store = records.store
        self.validator = records.validator
        self.distributor = records.distributor
        self.sharing = records.sharing

    def own(self, caller: Caller, base: str) -> Reply:
        """The person's Patient record and all their current records (match: written by the person; include: the
        rest), as a searchset Bundle; 404 when no Patient has their number. Audited as a disclosure to them."""
        caller.require(PERSON_SCOPE)
        pid = str(caller.person)

        def work(tx: Tx) -> Reply:
            patient = find_patient(tx, pid)
            if patient is None:
                _audit(tx, caller, None, "R", "failed", [], "the person's own page: no Patient with this number")
                return Reply.refused([Issue("ADP-5020", "error", args={"ref": "Pasientjournalen din"})])
            ref = f"Patient/{patient.id}"
            found = [r for rtype in OWN_TYPES for r in tx.patient_resources(rtype, ref)]
            named = _named(tx, found, ref)
            shown = [patient, *found, *named]
            what = [f"{r.type}/{r.id}/_history/{r.version}" for r in shown]
            _audit(tx, caller, ref, "R", "success", what, "read by the person themself (their own page)")
            entries = [
                {
                    "fullUrl": f"{base}/{r.type}/{r.id}",
                    "resource": with_narrative(r.body),
                    "search": {"mode": "match" if r.creator == ref else "include"},
                }
                for r in shown
            ]
            bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}
            # the crisis plan that is theirs: of those written by the organisations that take part in their care,
            # the one changed last (a plan a stranger wrote about them is shown, but never as their crisis plan)
            current = [p for p in crisis_plans(tx, patient) if p.type == "CarePlan"]
            if current:
                latest = max(current, key=lambda p: p.last_updated)
                bundle["link"] = [{"relation": "current-crisis-plan", "url": f"{base}/CarePlan/{latest.id}"}]
            return Reply(200, bundle)

        return self.store.run(work)

    def contribute(self, caller: Caller, words: Words) -> Reply:
        """Store the person's own words as Goals (proposed) about themself; 400 (ADP-5044) for empty or too long
        input, 404 without a Patient record, 422 when a Goal does not meet its profile. Every outcome audited."""
        caller.require(PERSON_SCOPE)
        pid = str(caller.person)
        texts = {"important": clean(words.important), "helps": clean(words.helps)}
        problem = _problem(texts)

        def work(tx: Tx) -> Reply:
            patient = find_patient(tx, pid)
            ref = f"Patient/{patient.id}" if patient else None
            if problem is not None:
                _audit(tx, caller, ref, "C", "refused", [], f"the person's own words refused: {problem.text_en}")
                return Reply.refused([problem])
            if patient is None or ref is None:
                _audit(tx, caller, None, "C", "failed", [], "the person's own words: no Patient with this number")
                return Reply.refused([Issue("ADP-5020", "error", args={"ref": "Pasientjournalen din"})])
            goals = [_goal(kind, text, ref, self.sharing.today()) for kind, text in texts.items() if text]
            goals = [claim_implied(goal, self.validator.definitions) for goal in goals]
            issues = [i for goal in goals for i in self.validator.validate(goal)]
            if any(i.severity in ("error", "fatal") for i in issues):
                _audit(tx, caller, ref, "C", "refused", [], "the person's own words do not meet the profile")
                return Reply.refused(issues, default=422)
            identifiers = access.patient_identifiers(patient.body)
            stored = []
            for goal in goals:
                index = list(access.index_terms(goal, ref, identifiers))
                body = with_narrative(goal, tx.resolve)
                stored.append(tx.write(body, patient=ref, parties={ref}, index=index, writer=ref))
            what = [f"{r.type}/{r.id}/_history/{r.version}" for r in stored]
            _audit(tx, caller, ref, "C", "success", what, "the person's own words, written by the person")
            self.distributor.changed(tx, stored, ref)
            entries = [{"resource": r.body, "response": {"status": "201 Created"}} for r in stored]
            return Reply(201, {"resourceType": "Bundle", "type": "transaction-response", "entry": entries})

        return self.store.run(work)


def find_patient(tx: Tx, pid: str) -> StoredResource | None:
    """The Patient record of a fødselsnummer or D-nummer (one record nationwide), or None."""
    found = tx.search("Patient", [("identifier", [f"{person_system(pid)}|{pid}"])], limit=1)
    return found[0] if found else None


def clean(text: str) -> str:
    """The person's text as stored: normalised (NFC), control characters but line breaks and tabs removed, line
    breaks made ``\\n``, spaces at the ends trimmed."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    return kept.strip()


def _problem(texts: dict[str, str]) -> Issue | None:
    """Why the person's words cannot be stored (nothing written, or a field too long), or None."""
    fields = {"important": ("Hva er viktig for meg", "Hva er viktig for meg"), "helps": ("Dette hjelper meg",) * 2}
    if not any(texts.values()):
        args = {
            "field_en": "Your words",
            "field_nb": "Dine ord",
            "detail_en": "nothing was written; write something in at least one of the fields",
            "detail_nb": "du har ikke skrevet noe; skriv i minst ett av feltene",
        }
        return Issue("ADP-5044", "error", args=args)
    for name, text in texts.items():
        if len(text) > MAX_WORDS:
            args = {
                "field_en": fields[name][0],
                "field_nb": fields[name][1],
                "detail_en": f"{len(text)} characters; at most {MAX_WORDS} fit in one field",
                "detail_nb": f"{len(text)} tegn; det er plass til høyst {MAX_WORDS} i ett felt",
            }
            return Issue("ADP-5044", "error", args=args)
    return None


def _goal(kind: str, text: str, patient: str, today: str) -> dict[str, Any]:
    """The Goal of the person's words: proposed (the care team takes it in), expressed by the person."""
    if kind == "important":
        category: dict[str, Any] = {
            "coding": [{"system": MALTYPE, "code": "hva-er-viktig", "display": "Hva er viktig for deg?"}]
        }
        meta: dict[str, Any] = {"profile": [HVA_ER_VIKTIG]}
    else:
        category, meta = {"text": HELPS_CATEGORY}, {}
    goal: dict[str, Any] = {
        "resourceType": "Goal",
        "id": str(uuid.uuid4()),
        **({"meta": meta} if meta else {}),
        "lifecycleStatus": "proposed",
        "category": [category],
        "description": {"text": text},
        "subject": {"reference": patient},
        "startDate": today,
        "expressedBy": {"reference": patient},
        "note": [{"text": "Skrevet av personen selv."}],
    }
    return goal


def _named(tx: Tx, found: list[StoredResource], patient: str) -> list[StoredResource]:
    """What the person's plans and care teams name (people, organisations, places, goals), each of this patient or
    of no patient (a forged reference to another's record never shows it), and the members of care teams."""
    seen = {f"{r.type}/{r.id}" for r in found} | {patient}
    named: list[StoredResource] = []

    def take(reference: str, types: frozenset[str]) -> StoredResource | None:
        rtype, _, rid = reference.partition("/")
        if reference in seen or rtype not in types or not rid or "/" in rid:
            return None
        seen.add(reference)
        stored = tx.read(rtype, rid)
        if stored is None or stored.deleted or stored.patient not in (None, patient):
            return None
        named.append(stored)
        return stored

    for record in found:
        for reference in references(record.body):
            taken = take(reference, PAGE_TYPES)
            if taken is not None and taken.type == "CareTeam":
                for member in references(taken.body):
                    take(member, MEMBER_TYPES)
        if record.type == "CareTeam":
            for member in references(record.body):
                take(member, MEMBER_TYPES)
    return named


def _audit(
    tx: Tx, caller: Caller, patient: str | None, action: str, outcome: str, what: list[str], detail: str
) -> None:
    """One AuditEvent of the person's request: the person is the agent (their number and their Patient record) and,
    for a read, the one the data was disclosed to."""
    event = audit_event(
        kind="disclosure" if action == "R" and outcome == "success" else "rest",
        action=action,
        outcome=outcome,
        recorded=utc_now(),
        org=None,
        subject=caller.subject,
        what=what,
        patient=patient,
        detail=detail,
    )
    pid = str(caller.person)
    who: dict[str, Any] = {"identifier": {"system": person_system(pid), "value": pid}}
    if patient:
        who = {"reference": patient, **who}
    agents: list[dict[str, Any]] = [{"who": who, "altId": caller.subject, "requestor": True}]
    if event["type"]["code"] == "110106":  # a disclosure: to the person themself
        recipient = {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]
        }
        agents.append({"type": recipient, "who": who, "requestor": False})
    event = {k: v for k, v in event.items() if k != "text"}
    tx.audit(with_narrative({**event, "agent": agents}))
