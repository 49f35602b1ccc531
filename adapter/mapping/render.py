"""A readable Norwegian text rendering of a plan (CarePlan) and what it refers to, for KITH receivers without FHIR;
and of the resources a referral refers to (:func:`render_resource`), for the text elements of a Henvisning.

The text is built from the structured plan only (no clock, no free choice), so the same plan always gives the same
text. It lists what a reader needs in a crisis: whose plan it is, its kind, status and period, what matters to the
person (goals), and every activity grouped by zone (green, yellow, red), with who does what and when.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_ZONE_URL = "http://samhandling.no/fhir/StructureDefinition/sone"
_ZONE_ORDER = {"gronn": 0, "gul": 1, "rod": 2}
_STATUS = {
    "draft": "utkast",
    "active": "aktiv",
    "on-hold": "satt på vent",
    "revoked": "avsluttet",
    "completed": "fullført",
    "entered-in-error": "registrert ved feil",
    "unknown": "ukjent",
}


def _display(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding", []):
        if coding.get("display") or coding.get("code"):
            return str(coding.get("display") or coding.get("code"))
    return ""


def _name(resource: dict[str, Any] | None) -> str:
    if not resource:
        return ""
    for name in resource.get("name", []) if isinstance(resource.get("name"), list) else []:
        if name.get("text"):
            return str(name["text"])
        return " ".join([*name.get("given", []), name.get("family", "")]).strip()
    return str(resource.get("name", "")) if isinstance(resource.get("name"), str) else ""


def render_plan(plan: dict[str, Any], resolve: Callable[[str], dict[str, Any] | None]) -> str:
    """Plain text (UTF-8, Norwegian) for ``plan``; ``resolve`` finds the resource of the Bundle a reference names."""

    def ref(value: Any) -> dict[str, Any] | None:
        return resolve(str(value.get("reference", ""))) if isinstance(value, dict) else None

    lines: list[str] = []
    kind = ", ".join(filter(None, (_display(c) for c in plan.get("category", [])))) or "Plan"
    lines.append(str(plan.get("title") or kind).upper())
    patient = ref(plan.get("subject"))
    if patient:
        ids = ", ".join(i.get("value", "") for i in patient.get("identifier", []) if i.get("value"))
        lines.append(f"Pasient: {_name(patient)}" + (f" ({ids})" if ids else ""))
    lines.append(f"Type: {kind}")
    lines.append(f"Status: {_STATUS.get(str(plan.get('status')), str(plan.get('status', '')))}")
    period = plan.get("period") or {}
    if period:
        lines.append(f"Periode: {period.get('start', '')} - {period.get('end', '')}".rstrip(" -"))
    if plan.get("description"):
        lines.append("")
        lines.append(str(plan["description"]))
    goals = [ref(g) for g in plan.get("goal", [])]
    goal_texts = [_display(g.get("description")) for g in goals if g]
    if goal_texts:
        lines += ["", "Hva er viktig for deg:"] + [f"- {text}" for text in goal_texts if text]
    activities = sorted(enumerate(plan.get("activity", [])), key=lambda item: (_zone_rank(item[1]), item[0]))
    current_zone = None
    for _, activity in activities:
        zone = _zone(activity)
        if zone != current_zone:
            lines += ["", f"Sone: {zone}" if zone else "Tiltak:"]
            current_zone = zone
        detail = activity.get("detail", {})
        head = _display(detail.get("code")) or "Tiltak"
        lines.append(f"- {head}: {detail.get('description', '')}".rstrip(": "))
        if detail.get("scheduledString"):
            lines.append(f"  Når: {detail['scheduledString']}")
        for performer in detail.get("performer", []):
            who = performer.get("display") or _name(ref(performer))
            if who:
                lines.append(f"  Hvem: {who}")
    for note in plan.get("note", []):
        if note.get("text"):
            lines += ["", f"Merknad: {note['text']}"]
    return "\n".join(lines) + "\n"


def _zone(activity: dict[str, Any]) -> str:
    for extension in activity.get("extension", []):
        if extension.get("url") == _ZONE_URL:
            return _display(extension.get("valueCodeableConcept"))
    return ""


def _zone_rank(activity: dict[str, Any]) -> int:
    for extension in activity.get("extension", []):
        if extension.get("url") == _ZONE_URL:
            codes = [c.get("code") for c in extension.get("valueCodeableConcept", {}).get("coding", [])]
            return min((_ZONE_ORDER.get(str(c), 3) for c in codes), default=3)
    return 3


# --- any resource a referral refers to (reasons, supporting information), as text for a Henvisning ---------------

_KIND = {
    "ClinicalImpression": "Vurdering",
    "QuestionnaireResponse": "Kartlegging",
    "Observation": "Observasjon",
    "Condition": "Tilstand",
    "RiskAssessment": "Risikovurdering",
    "MedicationStatement": "Legemiddelbruk",
}
#: Elements whose text says what a resource is about, in the order they are rendered.
_TEXT_ELEMENTS = ("description", "summary", "valueString")


def render_resource(resource: dict[str, Any]) -> str:
    """Plain text (Norwegian) for a resource a referral refers to: its kind and date, what it is about (code), its
    texts, findings, prognosis, answers and notes. Deterministic: the same resource always gives the same text."""
    kind = _KIND.get(str(resource.get("resourceType")), str(resource.get("resourceType", "")))
    dated = next((str(resource[k]) for k in ("date", "authored", "effectiveDateTime") if resource.get(k)), "")
    lines = [f"{kind} {dated[:10]}".strip()]
    about = _display(resource.get("code"))
    if about:
        lines.append(about)
    lines += [str(resource[k]) for k in _TEXT_ELEMENTS if isinstance(resource.get(k), str) and resource[k]]
    for value in ("valueCodeableConcept", "valueQuantity", "valueBoolean", "valueInteger", "valueDateTime"):
        if value in resource:
            lines.append(f"Verdi: {_value({value: resource[value]})}")
    for finding in resource.get("finding", []) if isinstance(resource.get("finding"), list) else []:
        what = _display(finding.get("itemCodeableConcept")) or str(finding.get("itemReference", {}).get("display", ""))
        basis = str(finding.get("basis") or "")
        if what or basis:
            lines.append(f"- {what}: {basis}" if what and basis else f"- {what or basis}")
    prognosis = [_display(c) for c in resource.get("prognosisCodeableConcept", [])]
    if any(prognosis):
        lines.append("Prognose: " + ", ".join(p for p in prognosis if p))
    for prediction in resource.get("prediction", []) if isinstance(resource.get("prediction"), list) else []:
        outcome, likelihood = _display(prediction.get("outcome")), _display(prediction.get("qualitativeRisk"))
        risk = ", ".join(filter(None, (outcome, likelihood)))
        if risk:
            lines.append(f"- {risk}")
    lines += _answers(resource.get("item", []) if resource.get("resourceType") == "QuestionnaireResponse" else [], 0)
    lines += [f"Merknad: {note['text']}" for note in resource.get("note", []) if note.get("text")]
    return "\n".join(line for line in lines if line.strip())


def _answers(items: Any, depth: int) -> list[str]:
    """Questionnaire answers: a line per question with text (its answers after a colon), answers of questions
    without text as items; nested questions indented."""
    lines: list[str] = []
    indent = "  " * depth
    for item in items if isinstance(items, list) else []:
        answers = item.get("answer", []) if isinstance(item.get("answer"), list) else []
        values = [_value(answer) for answer in answers]
        text = str(item.get("text") or "")
        if text:
            lines.append(f"{indent}{text}: {', '.join(values)}" if values else f"{indent}{text}:")
        elif values:
            label = "" if all("valueString" in a for a in answers) else f"{item.get('linkId', '')}: "
            lines.append(f"{indent}- {label}{', '.join(values)}")
        lines += _answers(item.get("item"), depth + 1)
        for answer in answers:
            lines += _answers(answer.get("item"), depth + 1)
    return lines


def _value(answer: dict[str, Any]) -> str:
    """A value[x] as text."""
    for key, value in answer.items():
        if not key.startswith("value"):
            continue
        if isinstance(value, bool):
            return "ja" if value else "nei"
        if key == "valueCoding":
            return str(value.get("display") or value.get("code", ""))
        if key == "valueCodeableConcept":
            return _display(value)
        if key == "valueQuantity":
            return f"{value.get('value', '')} {value.get('unit') or value.get('code', '')}".strip()
        if key == "valueReference":
            return str(value.get("display") or value.get("reference", ""))
        return str(value)
    return ""
