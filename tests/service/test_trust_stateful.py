"""Who may see and change the shared crisis plan, as a stateful property test: random sequences of plan changes
(FHIR messages and REST PUTs, by parties and by an outsider, on a current, stale or no version), Consents (permit
and deny, by REST or in a message, withdrawn, self-granted), reads, searches, emergency reads and outbox rounds,
with the README's rules ("Who may see and change what") checked after every step against an oracle of our own:
this file never asks ``adapter.sharing`` or ``adapter.access``.

The world: the patient pasient-ola (FNR 15838510075); KOMMUNE 8100001, DPS 8100002, LEGEKONTOR 8100003 and FJERDE
8100004, each with its Organization resource and a route to a fake FHIR receiver on 127.0.0.1 that records what it
gets; the OUTSIDER 8199999, with no route (it names itself by an Organization of its own in what it sends). At the
start the DPS sends the crisis plan krise-og-mestringsplan-ola to the kommune: the example message
Bundle-melding-kriseplan-ola.json cut down to the plan, the patient, organisations and practitioners (so that the
plan is the only record a plan message carries), with ``author`` the kommune.

The oracle (TODAY is 2026-06-01 in Norway, the services' clock):

* The plan's parties are the DPS (its creator) and the kommune (its ``author``); only ``description`` ever
  changes, so every version has the same parties.
* A Consent (the test records each with its custodian) says ``permit`` or ``deny`` about organisation X for a type
  (the plan, the Patient, a Consent) when it is active, TODAY is in its period, X is its actor, its classes are
  none or name the type or its profile, and its actions are none or include ``access`` or ``disclose``.
  denied(X) / permitted(X): some Consent denies / permits X the plan; patient_denied(X): some Consent denies X
  the Patient (never the DPS, which created it).
* may_read(X)   = X is the creator, or (not denied(X) and (X is a party or permitted(X))).
* may_change(X) = X is the creator, or (X is a party and not denied(X)).
* may_receive(X), as a message's receiver = (may_read(X), or the sender states hpl-45 with a reason and not
  denied(X)) and not patient_denied(X): every message carries the Patient, and the README says that everything
  with patient data goes only under a permit and that a deny wins.
* emergency(X)  = X is the creator, or not denied(X): "a patient's deny blocks it" (README, Emergency).
* cares_for(X)  = X is a party to the plan: who may record a Consent as its custodian. Being named in a Consent
  (even in a deny, or in one that ended) does not make an organisation take part in the patient's care.
* A plan message is accepted iff may_change(sender) (else ADP-7018 when denied, ADP-7013), its ``meta.versionId``
  is the current version or it is left out by the writer of the current version (else ADP-7017), and every
  receiver may_receive (else ADP-7018 / ADP-7010). A consent message goes to the organisation it names (the DPS
  when it names the kommune), which may receive it when it is its actor or permitted Consents, not denied them,
  and not patient_denied. A REST PUT is 403 unless may_change, 428 without If-Match, 412 when stale, else 200.
* in_sync: who may_read and is not patient_denied when the current version is written, less whoever loses that
  since.

Invariants, after every step:

1. Nobody reads what it may not: GET /CarePlan/{id} by each of the five is 200 iff may_read, else 403 (the rules
   also search and read the _history); the Patient is 403 to the patient_denied; an emergency read is 200 iff
   emergency(X), and the emergency scope alone reads nothing else.
2. No change by a non-party lands: the stored plan's description is one a party wrote, and version and
   description are the oracle's (each message and PUT got exactly the predicted answer).
3. A deny or withdrawal wins: no queued (pending or dead) delivery of the plan waits for an organisation that may
   not have it (may_read, or hpl-45 stated and not denied); every delivery of the plan that went out went to one
   that might have it then, and no message with the Patient went to one that is patient_denied.
4. Every disclosure is audited: every 200 read or search has an AuditEvent by that organisation naming
   CarePlan/{id}/_history/{version} (a disclosure, DCM 110106, when the reader is not a party), every refused read
   one with outcome 4, every emergency read one with purpose ETREAT; every accepted message a disclosure event
   naming each receiver (routed or not); every delivered outbox row a disclosure event naming its recipient and
   its message id.
5. Every party in sync: once nothing waits in the outbox, every routed organisation in in_sync but the writer of
   the current version has, as the last message about the plan it got, the current description and versionId.

25 examples of up to 20 steps from a fixed seed, about 10 s when nothing fails (a failure is shrunk to a minimal
sequence: 15 to 40 s more); run with ``-s`` for the count of examples and of steps by rule and outcome. Knobs
(environment, see their definitions below): ``TRUST_STATEFUL_SHRINK=0`` shows a failure unshrunk,
``TRUST_STATEFUL_SEED`` and ``TRUST_STATEFUL_EXPLORE`` choose other or more examples. It found four holes, each
fixed: a message's own receivers never got the stored version; a deny did not block an emergency read by a party
named in the plan; an organisation named in any Consent could record Consents, also for itself; the Patient went in
messages to organisations a Consent denied it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    get_state_machine_test,
    initialize,
    invariant,
    precondition,
    rule,
)
from pytest_httpserver import HTTPServer
from service_helpers import example_json
from werkzeug import Request, Response

from adapter.api import create_app
from adapter.config import Settings
from adapter.security import DemoIssuer
from adapter.service import Service
from adapter.translate import Translator

KOMMUNE, DPS, LEGEKONTOR, FJERDE, OUTSIDER = "8100001", "8100002", "8100003", "8100004", "8199999"
ROUTED = (KOMMUNE, DPS, LEGEKONTOR, FJERDE)
EVERYONE = (*ROUTED, OUTSIDER)
NAMES = {KOMMUNE: "kommune", DPS: "dps", LEGEKONTOR: "legekontor", FJERDE: "fjerde", OUTSIDER: "utenfor"}
ORG_ID = {her: f"org-{name}" for her, name in NAMES.items()}
CREATOR, PARTIES = DPS, frozenset({DPS, KOMMUNE})
HER = "urn:oid:2.16.578.1.12.4.1.2"
FNR = "15838510075"
PLAN_ID = "krise-og-mestringsplan-ola"
PLAN = f"CarePlan/{PLAN_ID}"
CRISIS_PROFILE = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
TODAY = "2026-06-01"  # the services' clock as a date in Norway
CLOCK = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC).timestamp()  # conftest.TODAY
SCOPES = ("samhandling/messages", "samhandling/plans.read", "samhandling/plans.write")
JSON = {"Content-Type": "application/fhir+json"}
PERIODS = {
    "current": {"start": "2026-01-05", "end": "2031-01-05"},
    "ended": {"start": "2025-01-01", "end": "2026-05-01"},
    "future": {"start": "2027-01-01"},
    "none": None,
}
#: Consent shapes, weighted towards ones that cover the plan (repeats make a choice likelier).
CLASSES = [
    (),
    (),
    ("CarePlan",),
    ("CarePlan",),
    ("Goal",),
    ("CarePlan", "Goal"),
    (CRISIS_PROFILE,),
    ("Patient",),
    ("Patient",),
]
#: What a Consent's classes must name (when it has any) to cover the plan or the Patient.
TARGETS = {
    "CarePlan": {"CarePlan", CRISIS_PROFILE},
    "Patient": {"Patient", "http://hl7.no/fhir/StructureDefinition/no-basis-Patient"},
    "Consent": {"Consent", "http://samhandling.no/fhir/StructureDefinition/samtykke"},
}
ACTIONS = [(), (), ("disclose",), ("access",), ("correct",)]
ACTORS = [*EVERYONE, KOMMUNE]  # the kommune twice: a deny of a party that is not the creator matters most
PERIOD_CHOICES = ["current", "current", "current", "ended", "future", "none"]
#: Knobs, from the environment. ``TRUST_STATEFUL_SHRINK=0``: show a failure as generated (at most 20 steps)
#: instead of shrinking it to a minimal sequence (each try is a new world: 15 to 40 s, up to Hypothesis's 5 minutes).
SHRINK = os.environ.get("TRUST_STATEFUL_SHRINK", "1") != "0"
#: ``TRUST_STATEFUL_SEED=N``: the fixed seed (3: its 25 examples use every rule often, and on the code before their
#: fixes found each of the four holes named above).
SEED = int(os.environ.get("TRUST_STATEFUL_SEED", "3"))
#: ``TRUST_STATEFUL_EXPLORE=N``: N examples of 40 steps from a random seed instead, to hunt for new failures.
EXPLORE = os.environ.get("TRUST_STATEFUL_EXPLORE", "")
RUNS: dict[str, int] = {"examples": 0, "steps": 0}
STEPS: dict[str, int] = {}


# --- the oracle -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class ConsentModel:
    """One Consent as the test recorded it."""

    id: str
    version: int
    custodian: str
    permit: bool
    actor: str
    classes: tuple[str, ...]
    actions: tuple[str, ...]
    period: str
    active: bool = True

    def says(self, org: str, rtype: str = "CarePlan") -> str | None:
        """Whether this Consent permits or denies ``org`` a resource of type ``rtype`` today (None: it says
        nothing about it)."""
        if not self.active or org != self.actor:
            return None
        span = PERIODS[self.period] or {}
        if span.get("start", "") > TODAY or ("end" in span and span["end"] < TODAY):
            return None
        if self.classes and not set(self.classes) & TARGETS[rtype]:
            return None
        if self.actions and not set(self.actions) & {"access", "disclose"}:
            return None
        return "permit" if self.permit else "deny"


@dataclasses.dataclass
class Oracle:
    consents: dict[str, ConsentModel] = dataclasses.field(default_factory=dict)
    version: int = 1
    description: str = ""
    writer: str = CREATOR
    party_written: set[str] = dataclasses.field(default_factory=set)
    in_sync: set[str] = dataclasses.field(default_factory=set)

    def denied(self, org: str, rtype: str = "CarePlan") -> bool:
        return any(c.says(org, rtype) == "deny" for c in self.consents.values())

    def permitted(self, org: str, rtype: str = "CarePlan") -> bool:
        return any(c.says(org, rtype) == "permit" for c in self.consents.values())

    def may_receive_consent(self, org: str, consent: ConsentModel) -> bool:
        """May ``org`` be sent ``consent`` (recorded by the kommune, its creator; its actor is a party to it)?"""
        if self.patient_denied(org):  # the message carries the Patient
            return False
        if org == consent.custodian:
            return True
        return not self.denied(org, "Consent") and (org == consent.actor or self.permitted(org, "Consent"))

    def may_read(self, org: str) -> bool:
        return org == CREATOR or (not self.denied(org) and (org in PARTIES or self.permitted(org)))

    def may_change(self, org: str) -> bool:
        return org == CREATOR or (org in PARTIES and not self.denied(org))

    def may_receive(self, org: str, hpl45: bool) -> bool:
        """May ``org`` be sent a message with the plan and its Patient?"""
        return (self.may_read(org) or (hpl45 and not self.denied(org))) and not self.patient_denied(org)

    def patient_denied(self, org: str) -> bool:
        """Whether a Consent denies ``org`` the Patient (the DPS created it: it holds it already)."""
        return org != CREATOR and self.denied(org, "Patient")

    def emergency(self, org: str) -> bool:
        return org == CREATOR or not self.denied(org)

    def cares_for(self, org: str) -> bool:
        return org in PARTIES

    def keep_in_sync(self) -> set[str]:
        """Who is to be kept in sync: who may read the plan and may have its patient (every message about the plan
        carries the Patient)."""
        return {o for o in EVERYONE if self.may_read(o) and (o == CREATOR or not self.denied(o, "Patient"))}

    def written(self, writer: str, description: str) -> None:
        assert self.may_change(writer)
        self.version += 1
        self.description = description
        self.writer = writer
        self.party_written.add(description)
        self.in_sync = self.keep_in_sync()

    def consents_changed(self) -> None:
        self.in_sync &= self.keep_in_sync()


# --- building what is sent -------------------------------------------------------------------------------------


def organisation(her: str) -> dict[str, Any]:
    return {
        "fullUrl": f"http://samhandling.no/fhir/Organization/{ORG_ID[her]}",
        "resource": {
            "resourceType": "Organization",
            "id": ORG_ID[her],
            "meta": {"profile": ["http://hl7.no/fhir/StructureDefinition/no-basis-Organization"]},
            "identifier": [{"system": HER, "value": her}],
            "name": f"Virksomhet {NAMES[her]}",
        },
    }


def base_message() -> dict[str, Any]:
    """The example crisis plan message, cut down to the plan, its patient, organisations and practitioners; the
    plan's author the kommune (a party besides the DPS, its creator); the fourth organisation added."""
    bundle = example_json("fhir/Bundle-melding-kriseplan-ola.json")
    keep = ("MessageHeader", "CarePlan", "Patient", "Organization", "Practitioner")
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] in keep]
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    for name in ("careTeam", "goal", "contributor"):
        plan.pop(name, None)
    for activity in plan["activity"]:
        activity["detail"].pop("location", None)
    plan["author"] = {"reference": "Organization/org-kommune"}
    bundle["entry"].append(organisation(FJERDE))
    return bundle


def plan_message(
    base: dict[str, Any],
    msg_id: str,
    sender: str,
    receivers: list[str],
    description: str,
    version_id: int | None,
    hpl45: bool,
) -> dict[str, Any]:
    bundle = copy.deepcopy(base)
    header = bundle["entry"][0]["resource"]
    header["id"] = msg_id
    bundle["entry"][0]["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{msg_id}"
    header["sender"] = {"reference": f"Organization/{ORG_ID[sender]}"}
    header["destination"] = [
        {"endpoint": f"https://{NAMES[her]}.example/fhir", "receiver": {"reference": f"Organization/{ORG_ID[her]}"}}
        for her in receivers
    ]
    if hpl45:
        header["reason"] = {
            "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}],
            "text": "Samarbeidende personell: nødvendig for forsvarlig helsehjelp",
        }
    if OUTSIDER in (sender, *receivers):
        bundle["entry"].append(organisation(OUTSIDER))
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    plan["description"] = description
    if version_id is None:
        plan["meta"].pop("versionId", None)
    else:
        plan["meta"]["versionId"] = str(version_id)
    return bundle


def actor_reference(her: str) -> dict[str, Any]:
    if her == OUTSIDER:  # the outsider has no stored Organization: named by its HER-id
        return {"identifier": {"system": HER, "value": her}}
    return {"reference": f"Organization/{ORG_ID[her]}"}


def consent_body(model: ConsentModel) -> dict[str, Any]:
    consent = example_json("fhir/Consent-samtykke-ola-deling.json")
    consent.pop("id")
    consent.pop("meta", None)
    consent["organization"] = [actor_reference(model.custodian)]
    provision = consent["provision"]
    provision["type"] = "permit" if model.permit else "deny"
    provision["actor"] = [{**provision["actor"][0], "reference": actor_reference(model.actor)}]
    if model.classes:
        provision["class"] = [
            {"system": "http://hl7.org/fhir/resource-types", "code": c}
            if c[0].isupper()
            else {"system": "urn:ietf:rfc:3986", "code": c}
            for c in model.classes
        ]
    else:
        provision.pop("class")
    if model.actions:
        provision["action"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": a}]}
            for a in model.actions
        ]
    else:
        provision.pop("action")
    if PERIODS[model.period] is None:
        provision.pop("period")
    else:
        provision["period"] = PERIODS[model.period]
    return consent


def consent_message(model: ConsentModel, receiver: str) -> dict[str, Any]:
    """The example consent message with this Consent (id ``model.id``) from the kommune to ``receiver``."""
    bundle = example_json("fhir/Bundle-melding-samtykke-ola.json")
    header = bundle["entry"][0]["resource"]
    header["id"] = f"melding-{model.id}"
    bundle["entry"][0]["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/melding-{model.id}"
    header["destination"] = [
        {"endpoint": f"https://{NAMES[receiver]}.example/fhir", "receiver": actor_reference(receiver)}
    ]
    header["focus"] = [{"reference": f"Consent/{model.id}"}]
    consent = {**consent_body(model), "id": model.id}
    consent["meta"] = {"profile": ["http://samhandling.no/fhir/StructureDefinition/samtykke"]}
    bundle["entry"][1] = {"fullUrl": f"http://samhandling.no/fhir/Consent/{model.id}", "resource": consent}
    present = {e["resource"].get("id") for e in bundle["entry"]}
    bundle["entry"] += [organisation(her) for her in ROUTED if ORG_ID[her] not in present]
    return bundle


def names_message(event: dict[str, Any], msg_id: str) -> bool:
    """Whether an AuditEvent's text names the message ``msg_id`` ("message <id> to ...", "message <id>: ...")."""
    return re.search(rf"message {re.escape(msg_id)}[ :]", event.get("outcomeDesc", "")) is not None


def codes(outcome: dict[str, Any]) -> set[str]:
    return {
        c["code"]
        for i in outcome.get("issue", [])
        if i["severity"] in ("error", "fatal")
        for c in i.get("details", {}).get("coding", [])
    }


# --- the fake receivers ----------------------------------------------------------------------------------------


class Receivers:
    """What each routed organisation's fake FHIR receiver got: (message id, plan description, plan versionId) of
    each message that carried the plan, in the order they came."""

    def __init__(self) -> None:
        self.got: dict[str, list[tuple[str, str | None, str | None]]] = {her: [] for her in ROUTED}
        self.patient_to: list[tuple[str, str]] = []  # (recipient, message id) of each message with the Patient

    def handle(self, request: Request) -> Response:
        her = request.path.rsplit("/", 1)[1]
        bundle = json.loads(request.get_data())
        for entry in bundle.get("entry", []):
            resource = entry.get("resource", {})
            if resource.get("resourceType") == "Patient":
                self.patient_to.append((her, request.headers.get("X-Message-Id", "")))
            if resource.get("resourceType") == "CarePlan" and resource.get("id") == PLAN_ID:
                version = (resource.get("meta") or {}).get("versionId")
                self.got[her].append((request.headers.get("X-Message-Id", ""), resource.get("description"), version))
        return Response("ok", status=200)


CURRENT: dict[str, Receivers] = {}


# --- the machine -----------------------------------------------------------------------------------------------


class TrustMachine(RuleBasedStateMachine):
    """One world per example; ``make`` (set by the test) gives a routed Service and its client."""

    make: Callable[[], tuple[Service, FlaskClient]]

    def __init__(self) -> None:
        super().__init__()
        RUNS["examples"] += 1
        self.receivers = Receivers()
        CURRENT["receivers"] = self.receivers
        self.service, self.client = type(self).make()
        self.tokens: dict[tuple[str, tuple[str, ...]], str] = {}
        self.oracle = Oracle()
        self.seen: dict[str, int] = {}  # the version of the plan each organisation last saw
        self.counter = itertools.count(1)
        self.checked_deliveries: set[int] = set()
        self.base = base_message()
        description = "Planen slik DPS sendte den først"
        first = plan_message(self.base, "start", DPS, [KOMMUNE], description, None, False)
        ack = self.post_message(DPS, first)
        assert ack["entry"][0]["resource"]["response"]["code"] == "ok", json.dumps(ack)[:3000]
        self.oracle.description = description
        self.oracle.party_written.add(description)
        self.oracle.in_sync = self.oracle.keep_in_sync()
        self.seen[DPS] = 1

    def teardown(self) -> None:
        self.service.store.close()
        self.service.outbound.close()

    # --- helpers

    def headers(self, org: str, *scopes: str) -> dict[str, str]:
        key = (org, scopes or SCOPES)
        if key not in self.tokens:
            assert self.service.issuer is not None
            self.tokens[key] = "Bearer " + self.service.issuer.issue(org, key[1], ttl_seconds=3600)
        return {"Authorization": self.tokens[key]}

    def step(self, name: str) -> None:
        """Count a step (``name`` a rule) or, with a colon in ``name``, an outcome of one."""
        RUNS["steps"] += ":" not in name
        STEPS[name] = STEPS.get(name, 0) + 1

    def post_message(self, org: str, bundle: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post("/$process-message", data=json.dumps(bundle), headers={**self.headers(org), **JSON})
        assert response.status_code == 200, response.get_json()
        answer: dict[str, Any] = response.get_json()
        return answer

    def stored(self) -> Any:
        return self.service.store.run(lambda tx: tx.read("CarePlan", PLAN_ID))

    def audit_count(self) -> int:
        return self.service.store.run(lambda tx: tx.audits(limit=0))[0]

    def audits_from(self, start: int) -> list[dict[str, Any]]:
        return self.service.store.run(lambda tx: tx.audits(limit=100000, offset=start))[1]

    def fresh_description(self, org: str, how: str) -> str:
        return f"Endring {next(self.counter)} fra {NAMES[org]} ({how})"

    def check_read_audit(self, events: list[dict[str, Any]], org: str, status: int, action: str) -> None:
        """Invariant 4 for one read: a success event naming the version read, or a refused one."""
        mine = [e for e in events if e["agent"][0]["who"]["identifier"]["value"] == org and e["action"] == action]
        if status == 200:
            what = f"{PLAN}/_history/{self.oracle.version}"
            kind = "rest" if org in PARTIES else "110106"  # a read under consent is a disclosure to the reader
            assert any(
                e["outcome"] == "0"
                and e["type"]["code"] == kind
                and any(x.get("what", {}).get("reference") == what for x in e["entity"])
                for e in mine
            ), f"(4) {org} read {what} and no AuditEvent ({kind}) says so: {mine}"
        else:
            assert any(e["outcome"] == "4" for e in mine), f"(4) the refused read by {org} is not audited: {mine}"

    def check_disclosed(self, msg_id: str, receivers: list[str]) -> None:
        """(4) an accepted message is a disclosure to each of its receivers, routed or not."""
        events = [
            e
            for e in self.audits_from(0)
            if e["type"]["code"] == "110106" and e["outcome"] == "0" and len(e["agent"]) > 1
        ]
        for her in receivers:
            assert any(
                e["agent"][1]["who"]["identifier"]["value"] == her and names_message(e, msg_id) for e in events
            ), f"(4) message {msg_id} to {her} has no disclosure AuditEvent"

    def note_seen(self, org: str, body: dict[str, Any]) -> None:
        version = (body.get("meta") or {}).get("versionId")
        if version:
            self.seen[org] = int(version)

    # --- rules: changes to the plan

    @rule(
        sender=st.sampled_from([*EVERYONE, DPS, KOMMUNE]),
        receivers=st.sets(st.sampled_from(EVERYONE), min_size=1, max_size=2),
        based=st.sampled_from(["current", "current", "seen", "stale", "omit"]),
        hpl45=st.sampled_from([False, False, True]),
    )
    def send_change(self, sender: str, receivers: set[str], based: str, hpl45: bool) -> None:
        """A plan change as a FHIR message, based on the current, the last seen, a stale or no version."""
        self.step("send_change")
        self.change_by_message(sender, receivers, based, hpl45)

    @rule(
        party=st.sampled_from(sorted(PARTIES)),
        receivers=st.sets(st.sampled_from(EVERYONE), min_size=1, max_size=2),
        by_message=st.booleans(),
    )
    def party_changes(self, party: str, receivers: set[str], by_message: bool) -> None:
        """The everyday change: a party changes the current version, by message or PUT (a rule of its own so that
        plan changes are common)."""
        self.step("party_changes")
        if by_message:
            self.change_by_message(party, receivers, "current", False)
        else:
            self.change_by_put(party, "current")

    def change_by_message(self, sender: str, receivers: set[str], based: str, hpl45: bool) -> None:
        to = sorted(receivers - {sender}) or [KOMMUNE if sender != KOMMUNE else DPS]
        oracle = self.oracle
        version = {
            "current": oracle.version,
            "seen": self.seen.get(sender),
            "stale": oracle.version - 1,
            "omit": None,
        }[based]
        description = self.fresh_description(sender, f"melding, {based}")
        msg_id = f"melding-{next(self.counter)}"
        ack = self.post_message(sender, plan_message(self.base, msg_id, sender, to, description, version, hpl45))
        response = ack["entry"][0]["resource"]["response"]
        outcome: dict[str, Any] = next(
            (e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome"), {}
        )
        expected: set[str] = set()
        if not oracle.may_change(sender):
            expected = {"ADP-7018" if oracle.denied(sender) else "ADP-7013"}
        elif (version is not None and version != oracle.version) or (version is None and oracle.writer != sender):
            expected = {"ADP-7017"}
        else:
            for her in to:
                if not oracle.may_receive(her, hpl45):
                    expected.add("ADP-7018" if oracle.denied(her) or oracle.patient_denied(her) else "ADP-7010")
        found = codes(outcome)
        assert found == expected, (
            f"(2) message from {sender} to {to} based on {version} (current {oracle.version}, written by "
            f"{oracle.writer}, hpl45={hpl45}): expected {expected or 'ok'}, got {response['code']} {found}"
        )
        assert (response["code"] == "ok") == (not expected)
        self.step("send_change:" + ("ok" if not expected else ",".join(sorted(expected))))
        if not expected:
            oracle.written(sender, description)
            self.seen[sender] = oracle.version
            self.check_disclosed(msg_id, to)

    @rule(
        org=st.sampled_from([*EVERYONE, DPS, KOMMUNE]),
        if_match=st.sampled_from(["current", "current", "stale", "missing"]),
    )
    def put_change(self, org: str, if_match: str) -> None:
        """A plan change by REST PUT with a current, stale or missing If-Match."""
        self.step("put_change")
        self.change_by_put(org, if_match)

    def change_by_put(self, org: str, if_match: str) -> None:
        oracle = self.oracle
        body = copy.deepcopy(self.stored().body)
        description = self.fresh_description(org, f"PUT, {if_match}")
        body["description"] = description
        headers = {**self.headers(org), **JSON}
        if if_match != "missing":
            headers["If-Match"] = f'W/"{oracle.version if if_match == "current" else oracle.version - 1}"'
        response = self.client.put(f"/{PLAN}", data=json.dumps(body), headers=headers)
        expected = {"missing": 428, "stale": 412, "current": 200}[if_match] if oracle.may_change(org) else 403
        assert response.status_code == expected, (
            f"(2) PUT by {org} with If-Match {if_match}: expected {expected}, got {response.status_code} "
            f"{response.get_json()}"
        )
        self.step(f"put_change:{expected}")
        if expected == 200:
            oracle.written(org, description)
            self.seen[org] = oracle.version

    # --- rules: consents

    @initialize(
        consents=st.lists(
            st.tuples(
                st.booleans(),
                st.sampled_from(ACTORS),
                st.sampled_from(CLASSES),
                st.sampled_from(ACTIONS),
                st.sampled_from(PERIOD_CHOICES),
            ),
            max_size=3,
        )
    )
    def start_with_consents(self, consents: list[tuple[bool, str, tuple[str, ...], tuple[str, ...], str]]) -> None:
        """Up to three Consents recorded by the kommune before anything else happens."""
        self.step("start_with_consents")
        for permit, actor, classes, actions, period in consents:
            self.consent_by_kommune(permit, actor, classes, actions, period, "rest")

    @rule(
        permit=st.booleans(),
        actor=st.sampled_from(ACTORS),
        classes=st.sampled_from(CLASSES),
        actions=st.sampled_from(ACTIONS),
        period=st.sampled_from(PERIOD_CHOICES),
        via=st.sampled_from(["rest", "rest", "message"]),
    )
    def record_consent(
        self, permit: bool, actor: str, classes: tuple[str, ...], actions: tuple[str, ...], period: str, via: str
    ) -> None:
        """The kommune records a permit or a deny naming one organisation: by REST POST, or in a message (from
        Bundle-melding-samtykke-ola.json) to the organisation it names (the DPS when it names the kommune)."""
        self.step("record_consent")
        self.consent_by_kommune(permit, actor, classes, actions, period, via)

    def consent_by_kommune(
        self, permit: bool, actor: str, classes: tuple[str, ...], actions: tuple[str, ...], period: str, via: str
    ) -> None:
        model = ConsentModel("", 1, KOMMUNE, permit, actor, classes, actions, period)
        if via == "rest":
            response = self.client.post(
                "/Consent", data=json.dumps(consent_body(model)), headers={**self.headers(KOMMUNE), **JSON}
            )
            assert response.status_code == 201, response.get_json()
            model.id = response.get_json()["id"]
        else:
            model.id = f"samtykke-{next(self.counter)}"
            receiver = actor if actor != KOMMUNE else DPS
            ack = self.post_message(KOMMUNE, consent_message(model, receiver))
            found = codes(
                next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
            )
            with_it = Oracle(consents={**self.oracle.consents, model.id: model})
            denied = with_it.denied(receiver, "Consent") or with_it.patient_denied(receiver)
            expected = set() if with_it.may_receive_consent(receiver, model) else {"ADP-7018" if denied else "ADP-7010"}
            assert found == expected, f"consent message to {receiver}: expected {expected or 'ok'}, got {found}"
            self.step("record_consent:message:" + ("ok" if not expected else ",".join(sorted(expected))))
            if expected:
                return
            self.check_disclosed(f"melding-{model.id}", [receiver])
        self.oracle.consents[model.id] = model
        self.oracle.consents_changed()
        self.step("record_consent:" + ("permit" if permit else "deny") + (":covers" if model.says(actor) else ""))

    @rule(org=st.sampled_from((LEGEKONTOR, FJERDE, OUTSIDER)))
    def grant_itself(self, org: str) -> None:
        """An organisation records, as its own custodian, a Consent that lets it read plans: allowed only to one
        taking part in the patient's care (ADP-7016)."""
        self.step("grant_itself")
        model = ConsentModel("", 1, org, True, org, ("CarePlan",), ("access",), "current")
        response = self.client.post(
            "/Consent", data=json.dumps(consent_body(model)), headers={**self.headers(org), **JSON}
        )
        if self.oracle.cares_for(org):
            assert response.status_code == 201, response.get_json()
            model.id = response.get_json()["id"]
            self.oracle.consents[model.id] = model
            self.oracle.consents_changed()
        else:
            assert response.status_code == 403 and codes(response.get_json()) == {"ADP-7016"}, response.get_json()
        self.step(f"grant_itself:{response.status_code}")

    @precondition(lambda self: any(c.active for c in self.oracle.consents.values()))
    @rule(data=st.data())
    def withdraw_consent(self, data: st.DataObject) -> None:
        """A Consent's custodian withdraws it (status inactive)."""
        self.step("withdraw_consent")
        active = [c for c in self.oracle.consents.values() if c.active]  # in the order recorded (ids are random)
        model = data.draw(st.sampled_from(active))
        stored = self.service.store.run(lambda tx: tx.read("Consent", model.id))
        assert stored is not None
        body = {**stored.body, "status": "inactive"}
        headers = {**self.headers(model.custodian), **JSON, "If-Match": f'W/"{stored.version}"'}
        response = self.client.put(f"/Consent/{model.id}", data=json.dumps(body), headers=headers)
        assert response.status_code == 200, response.get_json()
        model.active = False
        model.version += 1
        self.oracle.consents_changed()

    # --- rules: reading

    @rule(org=st.sampled_from(EVERYONE), kind=st.sampled_from(["read", "search", "history"]))
    def read(self, org: str, kind: str) -> None:
        """A read, a search or the history of the plan."""
        self.step("read")
        before = self.audit_count()
        headers = self.headers(org)
        allowed = self.oracle.may_read(org)
        if kind == "read":
            response = self.client.get(f"/{PLAN}", headers=headers)
            assert response.status_code == (200 if allowed else 403), (org, response.get_json())
            if allowed:
                self.note_seen(org, response.get_json())
            self.check_read_audit(self.audits_from(before), org, response.status_code, "R")
        elif kind == "history":
            response = self.client.get(f"/{PLAN}/_history", headers=headers)
            assert response.status_code == (200 if allowed else 403), (org, response.get_json())
            if allowed:
                assert response.get_json()["total"] == self.oracle.version
            self.check_read_audit(self.audits_from(before), org, response.status_code, "R")
        else:
            response = self.client.get(f"/CarePlan?patient:identifier={FNR}", headers=headers)
            assert response.status_code == 200
            found = [e["resource"]["id"] for e in response.get_json().get("entry", [])]
            assert found == ([PLAN_ID] if allowed else []), f"(1) search by {org}: {found}, may read: {allowed}"
            events = self.audits_from(before)
            if allowed:
                self.note_seen(org, response.get_json()["entry"][0]["resource"])
                self.check_read_audit(events, org, 200, "E")
            else:
                assert any(e["agent"][0]["who"]["identifier"]["value"] == org for e in events), "(4) search"

    @rule()
    def emergency_reads(self) -> None:
        """The emergency read by each organisation, holding only samhandling/emergency."""
        self.step("emergency_reads")
        for org in EVERYONE:
            self.emergency_read(org)

    def emergency_read(self, org: str) -> None:
        before = self.audit_count()
        headers = self.headers(org, "samhandling/emergency")
        response = self.client.get(
            f"/Patient/$krise?identifier={FNR}&reason=Akutt+krise,+trenger+kriseplanen", headers=headers
        )
        allowed = self.oracle.emergency(org)
        self.step(f"emergency_read:{200 if allowed else 403}")
        assert response.status_code == (200 if allowed else 403), (
            f"(1) emergency read by {org} (denied: {self.oracle.denied(org)}, party: {org in PARTIES}): expected "
            f"{200 if allowed else 403}, got {response.status_code}"
        )
        events = [
            e
            for e in self.audits_from(before)
            if e["agent"][0]["who"]["identifier"]["value"] == org
            and "ETREAT" in json.dumps(e.get("purposeOfEvent", []))
        ]
        assert events and events[-1]["outcome"] == ("0" if allowed else "4"), f"(4) emergency read by {org}: {events}"
        if allowed:
            assert response.get_json()["entry"][0]["resource"]["id"] == PLAN_ID
        ordinary = self.client.get(f"/{PLAN}", headers=headers)
        assert ordinary.status_code == 403, "(1) the emergency scope is for the emergency read only"

    # --- rules: the outbox

    @rule()
    def drain(self) -> None:
        """The outbox worker, until it has nothing left to do; then invariants 3 and 5."""
        self.step("drain")
        before = {d.id: d.state for d in self.deliveries()}
        worker = self.service.worker()
        patients_before = len(self.receivers.patient_to)
        while worker.run_once():
            pass
        for her, msg_id in self.receivers.patient_to[patients_before:]:
            assert not self.oracle.patient_denied(her), (
                f"(3) {msg_id} carried the Patient to {her}, whom a Consent denies it"
            )
        for delivery in self.deliveries():
            if delivery.state == "delivered" and before.get(delivery.id) != "delivered" and PLAN in delivery.refs:
                recipient = str(delivery.recipient)
                fine = self.oracle.may_read(recipient) or (
                    delivery.basis == "hpl-45" and not self.oracle.denied(recipient)
                )
                assert fine, f"(3) delivery {delivery.id} ({delivery.msg_id}) of the plan went out to {recipient}"
        for her, got in self.receivers.got.items():
            if got:
                version = got[-1][2]
                if version:
                    self.seen[her] = max(self.seen.get(her, 0), int(version))

    def deliveries(self) -> list[Any]:
        return self.service.store.run(lambda tx: tx.deliveries(limit=100000))

    # --- invariants

    @invariant()
    def plan_is_the_oracles(self) -> None:
        """(2) the stored plan is the last change a party wrote."""
        stored = self.stored()
        assert stored.body.get("description") in self.oracle.party_written, "(2) a non-party's change landed"
        assert (stored.version, stored.body.get("description")) == (self.oracle.version, self.oracle.description), (
            f"(2) stored v{stored.version} {stored.body.get('description')!r}, oracle v{self.oracle.version} "
            f"{self.oracle.description!r}"
        )

    @invariant()
    def everyone_reads_what_they_may(self) -> None:
        """(1) and (4): a read by each organisation."""
        before = self.audit_count()
        statuses = {}
        for org in EVERYONE:
            response = self.client.get(f"/{PLAN}", headers=self.headers(org, "samhandling/plans.read"))
            statuses[org] = response.status_code
        expected = {org: 200 if self.oracle.may_read(org) else 403 for org in EVERYONE}
        assert statuses == expected, f"(1) reads {statuses}, oracle {expected} (consents: {self.oracle.consents})"
        for org in EVERYONE:  # a deny of the Patient wins too
            if org != CREATOR and self.oracle.denied(org, "Patient"):
                response = self.client.get("/Patient/pasient-ola", headers=self.headers(org, "samhandling/plans.read"))
                assert response.status_code == 403, f"(1) {org} read the Patient a Consent denies it"
        events = self.audits_from(before)
        for org, status in statuses.items():
            self.check_read_audit(events, org, status, "R")

    @invariant()
    def queued_deliveries_are_still_allowed(self) -> None:
        """(3) no queued delivery of the plan waits for an organisation that may no longer have it, and (4) every
        delivered row has its disclosure AuditEvent."""
        deliveries = self.deliveries()
        for delivery in deliveries:
            if delivery.state in ("pending", "dead") and PLAN in delivery.refs:
                recipient = str(delivery.recipient)
                fine = self.oracle.may_read(recipient) or (
                    delivery.basis == "hpl-45" and not self.oracle.denied(recipient)
                )
                assert fine, f"(3) delivery {delivery.id} of the plan to {recipient} still {delivery.state}"
        fresh = [d for d in deliveries if d.state == "delivered" and d.id not in self.checked_deliveries]
        if fresh:
            disclosures = [
                e
                for e in self.audits_from(0)
                if e["type"]["code"] == "110106" and e["outcome"] == "0" and len(e["agent"]) > 1
            ]
            for delivery in fresh:
                assert any(
                    e["agent"][1]["who"]["identifier"]["value"] == delivery.recipient
                    and names_message(e, delivery.msg_id)
                    for e in disclosures
                ), f"(4) delivery {delivery.id} ({delivery.msg_id}) to {delivery.recipient} has no disclosure event"
                self.checked_deliveries.add(delivery.id)

    @invariant()
    def parties_hold_the_current_plan(self) -> None:
        """(5) once nothing waits in the outbox, every organisation in sync since the current version was written
        holds it."""
        if any(d.state == "pending" for d in self.deliveries()):
            return
        for her in ROUTED:
            if her not in self.oracle.in_sync or her == self.oracle.writer:
                continue
            got = self.receivers.got[her]
            last = got[-1] if got else None
            want: tuple[str | None, ...] = (self.oracle.description, str(self.oracle.version))
            have: tuple[str | None, ...] | None = (last[1], last[2]) if last else None
            assert have == want, (
                f"(5) {her} should hold v{self.oracle.version} {self.oracle.description!r} (written by "
                f"{self.oracle.writer}); the last it got: {last}"
            )


def test_who_may_see_and_change_the_shared_plan(
    translator: Translator, service_settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Random sequences of changes, consents, reads and deliveries keep the README's rules (see the module)."""
    httpserver.expect_request(re.compile(r"^/recv/\d+$"), method="POST").respond_with_handler(
        lambda request: CURRENT["receivers"].handle(request)
    )
    table = tmp_path / "routes.yaml"
    table.write_text(
        "routes:\n"
        + "".join(
            f"  - receiver: '{her}'\n    destination: {httpserver.url_for(f'/recv/{her}')}\n"
            "    format: fhir\n    transport: http\n"
            for her in ROUTED
        )
    )
    made = itertools.count(1)

    def make() -> tuple[Service, FlaskClient]:
        folder = tmp_path / f"world-{next(made)}"
        key = tmp_path / "world-1" / DemoIssuer.KEY_FILE
        if key.exists():  # one demo issuer key for every world (making one takes a while)
            folder.mkdir()
            shutil.copy(key, folder / DemoIssuer.KEY_FILE)
        changed = dataclasses.replace(service_settings, data_dir=folder, routes_file=str(table))
        service = Service(changed, translator=translator, clock=lambda: CLOCK)
        return service, create_app(service=service).test_client()

    machine = type("Machine", (TrustMachine,), {"make": staticmethod(make)})
    RUNS.update(examples=0, steps=0)
    STEPS.clear()
    started = time.monotonic()
    try:
        test = get_state_machine_test(
            machine,
            settings=settings(
                derandomize=False,
                database=None,
                deadline=None,
                max_examples=int(EXPLORE or 25),
                stateful_step_count=20 if not EXPLORE else 40,
                suppress_health_check=list(HealthCheck),
                report_multiple_bugs=False,
                # the first failure, shrunk; get_state_machine_test (what run_state_machine_as_test runs) takes a seed
                phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if SHRINK else [])],
            ),
        )
        (test if EXPLORE else seed(SEED)(test))()
    finally:
        print(
            f"\ntrust stateful: {RUNS['examples']} examples, {RUNS['steps']} steps in "
            f"{time.monotonic() - started:.1f} s; by rule: {dict(sorted(STEPS.items()))}"
        )
