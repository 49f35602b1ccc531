"""Narrative everywhere, from one renderer (adapter/narrative): every resource type renders to valid FHIR XHTML
with bokmål labels and every value escaped; a sender's own text is kept; the examples and an acknowledgement
validate without dom-6 or narrative issues; the Dialogmelding's text of the crisis plan is the same renderer's."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapter.build.narrative import with_example_narrative
from adapter.config import Settings
from adapter.errors import Issue
from adapter.narrative import (
    RENDERERS,
    bundle_resolver,
    bundle_with_narrative,
    render_div,
    render_text,
    with_narrative,
)
from adapter.parse.xml_safe import parse_xml
from adapter.pipeline.message import Message
from adapter.receipt.fhir_response import acknowledgement
from adapter.validate import Validator
from adapter.validate.xhtml import ALLOWED_ELEMENTS, xhtml_problem

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
XHTML = "{http://www.w3.org/1999/xhtml}"
#: What an attacker puts in a string value: it must come out as text, never as markup.
EVIL = '<script>alert(1)</script><img src="http://evil.example/x.png" onload="steal()"/>&amp; "\x01'
PATIENT = {"resourceType": "Patient", "id": "p", "name": [{"given": ["Ola"], "family": "Nordmann"}]}

#: Every type the service stores or the examples hold, with the bokmål label its narrative must show.
TYPES = {
    "CarePlan": "Pasient",
    "Goal": "Mål",
    "CareTeam": "Deltakere",
    "Patient": "Fødselsdato",
    "Practitioner": "Identifikator",
    "PractitionerRole": "Helsepersonell",
    "Organization": "Identifikator",
    "Condition": "Tilstand",
    "Observation": "Observasjon",
    "ClinicalImpression": "Vurdering",
    "QuestionnaireResponse": "Kartlegging",
    "RiskAssessment": "Risikovurdering",
    "EpisodeOfCare": "Status",
    "ServiceRequest": "Henvisning",
    "Task": "Status",
    "Consent": "Samtykke",
    "Communication": "Fra",
    "CommunicationRequest": "Til",
    "DocumentReference": "Vedlegg",
    "Location": "Adresse",
    "Encounter": "Periode",
    "MessageHeader": "Melding",
    "OperationOutcome": "Utfall",
    "RelatedPerson": "Relasjon",
    "AuditEvent": "Logghendelse",
    "Provenance": "Opphav",
    "Composition": "Innhold",
    "MedicationStatement": "Legemiddelbruk",
    "Subscription": "Abonnement",
    "Flag": "Identifikator",  # no renderer of its own: the generic one
}


def hostile(rtype: str) -> dict[str, Any]:
    """A resource of ``rtype`` whose every commonly rendered element holds :data:`EVIL`."""
    concept = {"text": EVIL, "coding": [{"code": EVIL}]}
    person = {"reference": "Patient/p", "display": EVIL}
    return {
        "resourceType": rtype,
        "id": "x",
        "identifier": [{"value": EVIL}],
        "status": EVIL,
        "name": [{"text": EVIL}] if rtype != "Organization" else EVIL,
        "title": EVIL,
        "description": EVIL,
        "code": concept,
        "type": [concept] if rtype != "DocumentReference" else concept,
        "category": [concept],
        "subject": {"reference": "Patient/p"},
        "patient": {"reference": "Patient/p"},
        "birthDate": "1985-03-15",
        "period": {"start": EVIL, "end": "2026"},
        "telecom": [{"system": "phone", "value": EVIL}],
        "address": [{"line": [EVIL], "city": EVIL}] if rtype != "Location" else {"text": EVIL},
        "note": [{"text": EVIL}],
        "participant": [{"role": [concept], "member": person}],
        "activity": [{"detail": {"code": concept, "description": EVIL, "performer": [person]}}],
        "issue": [{"severity": "error", "code": "invalid", "diagnostics": EVIL}],
        "eventCoding": {"code": EVIL},
        "destination": [{"endpoint": EVIL, "receiver": person}],
        "sender": person,
        "recipient": [person],
        "payload": [{"contentString": EVIL}],
        "content": [{"attachment": {"title": EVIL, "contentType": "text/plain"}}],
        "item": [{"linkId": "1", "text": EVIL, "answer": [{"valueString": EVIL}]}],
        "agent": [{"who": person}],
        "entity": [{"what": person}],
        "target": [person],
        "recorded": "2026-01-01T00:00:00Z",
        "criteria": EVIL,
        "channel": {"type": "rest-hook", "endpoint": EVIL},
        "relationship": [concept],
        "practitioner": person,
        "section": [{"title": EVIL, "entry": [person]}],
    }


def resolve(reference: str) -> dict[str, Any] | None:
    return PATIENT if reference == "Patient/p" else None


@pytest.mark.parametrize(("rtype", "label"), TYPES.items())
def test_every_type_renders_valid_escaped_xhtml_in_bokmal(rtype: str, label: str) -> None:
    assert rtype in RENDERERS or rtype == "Flag"
    resource = hostile(rtype)
    div = render_div(resource, resolve)
    root = parse_xml(div.encode("utf-8")).getroot()
    assert root.tag == XHTML + "div"
    assert xhtml_problem(div) is None, div
    names = {str(e.tag).removeprefix(XHTML) for e in root.iter() if isinstance(e.tag, str)}
    assert names <= ALLOWED_ELEMENTS and not names & {"script", "img", "a"}
    attributes = {str(a) for e in root.iter() if isinstance(e.tag, str) for a in e.attrib}
    assert attributes <= {"style"}, attributes  # no event handler, no link, no image source
    text = "".join(root.itertext())
    assert "<script>alert(1)</script>" in text  # shown as text: escaped, never markup
    assert "<script" not in div and "<img" not in div
    assert label in text, text
    plain = render_text(resource, resolve)
    assert plain.endswith("\n") and label in plain


def test_the_generic_rendering_names_the_type_in_bokmal() -> None:
    text = render_text({"resourceType": "Appointment", "id": "a", "status": "booked"})
    assert text.startswith("Avtale") and "Status: booked" in text
    assert "Id: ukjent" not in render_text({"resourceType": "Basic", "id": "b"})


def test_a_senders_text_is_kept_and_others_get_one_generated() -> None:
    own = {"status": "additional", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Egen tekst</p></div>'}
    mine = {**PATIENT, "text": own}
    assert with_narrative(mine) is mine
    made = with_narrative(PATIENT)
    assert made is not PATIENT and "text" not in PATIENT  # a copy; the input is untouched
    assert made["text"]["status"] == "generated" and "Ola Nordmann" in made["text"]["div"]
    assert list(made)[:3] == ["resourceType", "id", "text"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": mine}, {"resource": PATIENT}]}
    out = bundle_with_narrative(bundle)
    assert out["entry"][0]["resource"] is mine and out["entry"][1]["resource"]["text"]["status"] == "generated"
    assert "text" not in out  # a Bundle has no narrative


def test_a_generated_text_sent_back_with_a_change_is_made_afresh() -> None:
    before = with_narrative(PATIENT)
    changed = {**before, "birthDate": "1985-03-15"}
    assert with_narrative(changed, previous=before)["text"] != before["text"]
    assert "1985-03-15" in with_narrative(changed, previous=before)["text"]["div"]
    assert with_narrative(before, previous=before) is before  # unchanged: kept


def _examples() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))}


def _narrative_issues(issues: list[Issue]) -> list[str]:
    return [str(i) for i in issues if any(word in str(i) for word in ("dom-6", "txt-", "narrative", "XHTML"))]


def test_every_example_resource_has_text_and_no_narrative_issue(validator: Validator) -> None:
    for name, resource in _examples().items():
        inner = [e["resource"] for e in resource.get("entry", [])]
        for item in [resource, *inner] if resource["resourceType"] != "Bundle" else inner:
            assert item.get("text", {}).get("div"), f"{name}: {item['resourceType']} has no narrative"
        assert _narrative_issues(validator.validate(resource)) == [], name


def test_the_committed_examples_are_what_the_build_step_gives() -> None:
    """`samhandling profiles build` adds the narrative (adapter/build/narrative.py); the committed files equal it."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.json"))}
    assert with_example_narrative(files) == files
    stripped = {}
    for name, text in files.items():
        resource = json.loads(text)
        resource.pop("text", None)
        for entry in resource.get("entry", []):
            entry["resource"].pop("text", None)
        stripped[name] = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    assert with_example_narrative(stripped) == files  # SUSHI's output (no text) gives the committed files


def test_an_acknowledgement_has_narrative_and_no_narrative_issue(validator: Validator) -> None:
    bundle = _examples()["Bundle-melding-kriseplan-ola.json"]
    header = bundle["entry"][0]["resource"]
    issues = [Issue("ADP-7021", "information", args={"ref": "CarePlan/x", "stored": "CarePlan/y"})]
    ack = acknowledgement(header, bundle_resolver(bundle), issues, timestamp="2026-03-02T10:15:00+01:00")
    for entry in ack["entry"]:
        assert entry["resource"]["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    assert "Utfall" in ack["entry"][1]["resource"]["text"]["div"]
    assert _narrative_issues(validator.validate(ack)) == []


def test_a_message_carries_narrative_from_the_moment_it_is_read() -> None:
    bundle = copy.deepcopy(_examples()["Bundle-melding-kriseplan-ola.json"])
    for entry in bundle["entry"]:
        entry["resource"].pop("text")
    message = Message("8100002", "m", "fhir", b"", "application/fhir+json", bundle, [])
    assert message.bundle is not None
    assert all(e["resource"]["text"]["status"] == "generated" for e in message.bundle["entry"])
    assert all("text" not in e["resource"] for e in bundle["entry"])  # what was read (and validated) is as sent


def test_the_crisis_plan_dialogmelding_text_has_warning_signs_and_whom_to_call(
    settings: Settings, validator: Validator
) -> None:
    from adapter.translate import Translator

    bundle = _examples()["Bundle-melding-kriseplan-ola.json"]
    result = Translator(settings, validator).fhir_to_kith(bundle)
    assert result.ok and result.kith_root is not None
    namespace = "{http://www.kith.no/xmlstds/dialog/2013-01-23}"
    [text] = [e.text or "" for e in result.kith_root.iter(namespace + "TekstNotatInnhold")]
    assert "Sone: Gul" in text and "Varselsignaler:" in text and "Sone: Rød" in text
    assert "Liv Berg, koordinator, tlf. 55 00 01 01" in text
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    assert text.strip() == render_text(plan, bundle_resolver(bundle)).strip()  # the one renderer


@pytest.mark.parametrize(
    "link",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JavaScript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<img src="data:text/html;base64,PHNjcmlwdD4=" alt="x"/>',
        '<a href="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;">x</a>',
    ],
)
def test_a_narrative_with_a_link_that_runs_code_is_refused(link: str) -> None:
    """A sender's narrative goes on to partners whose systems may show it: a javascript:, vbscript: or HTML data:
    URL is active content (FHIR narrative rules), refused like a script element (found by the outside test)."""
    div = f'<div xmlns="http://www.w3.org/1999/xhtml"><p>Plan {link}</p></div>'
    problem = xhtml_problem(div)
    assert problem is not None and "active content" in problem, problem


def test_ordinary_links_and_images_stay_allowed() -> None:
    div = (
        '<div xmlns="http://www.w3.org/1999/xhtml"><p><a href="https://helsenorge.no/">Helsenorge</a>'
        ' <a href="#del-1">del 1</a> <a href="tel:+4755000100">ring</a>'
        ' <img src="data:image/png;base64,iVBORw0KGgo=" alt="logo"/></p></div>'
    )
    assert xhtml_problem(div) is None
