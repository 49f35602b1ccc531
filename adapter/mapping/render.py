"""A readable Norwegian text rendering of a plan (CarePlan) and what it refers to, for KITH receivers without FHIR.

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
