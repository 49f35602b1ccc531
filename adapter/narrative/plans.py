"""Plans and what they refer to: CarePlan (the crisis-and-coping plan with its zones), Goal, CareTeam.

The plain text of a CarePlan is what a KITH receiver without FHIR reads in a Dialogmelding: whose plan it is, its
kind, status and period, what matters to the person (goals), and every activity grouped by zone (green, yellow,
red), with who does what and when.
"""

from __future__ import annotations

from typing import Any

from adapter.narrative import values as v
from adapter.narrative.doc import Block, Doc, Item, Row

ZONE_URL = "http://samhandling.no/fhir/StructureDefinition/sone"
_ZONE_ORDER = {"gronn": 0, "gul": 1, "rod": 2}


def subject_row(doc: Doc, resource: dict[str, Any], resolve: v.Resolver | None, key: str = "subject") -> None:
    """``Pasient: name (identifiers)`` for the patient a resource is about (its display when it does not resolve)."""
    value = resource.get(key)
    patient = v.resolved(value, resolve)
    shown = v.person(patient) if patient else (v.text(value.get("display")) if isinstance(value, dict) else "")
    doc.row("Pasient", shown)


def careplan(plan: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A plan: title, patient, kind, status, period, description, goals, activities by zone, notes."""
    doc = Doc()
    kind = v.concepts(plan.get("category")) or "Plan"
    doc.title(v.text(plan.get("title")) or kind, upper=True)
    subject_row(doc, plan, resolve)
    doc.row("Type", kind)
    doc.row("Status", v.status(plan.get("status")))
    doc.row("Periode", v.period(plan.get("period")))
    doc.para(v.text(plan.get("description")), gap=True)
    goals = [v.resolved(g, resolve) for g in v.listed(plan.get("goal"))]
    goal_texts = [v.concept(g.get("description")) for g in goals if g]
    doc.section("Hva er viktig for deg:", [Item("", t) for t in goal_texts if t])
    activities = sorted(enumerate(v.listed(plan.get("activity"))), key=lambda item: (_zone_rank(item[1]), item[0]))
    zone: str | None = None
    blocks: list[Block] = []
    for _, activity in activities:
        if _zone(activity) != zone:
            doc.section(f"Sone: {zone}" if zone else "Tiltak:", blocks)
            zone, blocks = _zone(activity), []
        blocks.append(_activity(activity, resolve))
    doc.section(f"Sone: {zone}" if zone else "Tiltak:", blocks)
    for note in v.notes(plan.get("note")):
        doc.para(f"Merknad: {note}", gap=True)
    return doc


def _activity(activity: dict[str, Any], resolve: v.Resolver | None) -> Item:
    """One activity: what (its code) and how (its description), when, and who."""
    detail = v.obj(activity.get("detail"))
    rows = [Row("Når", v.text(detail.get("scheduledString")))] if v.text(detail.get("scheduledString")) else []
    for performer in v.listed(detail.get("performer")):
        who = v.text(performer.get("display")) or v.human_name(v.resolved(performer, resolve))
        if who:
            rows.append(Row("Hvem", who))
    reference = activity.get("reference")
    head = v.concept(detail.get("code")) or (v.reference(reference, resolve) if reference else "") or "Tiltak"
    return Item(head, v.text(detail.get("description")), tuple(rows))


def _zone(activity: dict[str, Any]) -> str:
    for extension in v.listed(activity.get("extension")):
        if extension.get("url") == ZONE_URL:
            return v.concept(extension.get("valueCodeableConcept"))
    return ""


def _zone_rank(activity: dict[str, Any]) -> int:
    for extension in v.listed(activity.get("extension")):
        if extension.get("url") == ZONE_URL:
            concept = extension.get("valueCodeableConcept")
            codes = [c.get("code") for c in v.listed(concept.get("coding") if isinstance(concept, dict) else None)]
            return min((_ZONE_ORDER.get(str(c), 3) for c in codes), default=3)
    return 3


def goal(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A goal: what matters, for whom, its status, start and targets."""
    doc = Doc()
    doc.title("Mål")
    doc.para(v.concept(resource.get("description")))
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("lifecycleStatus")))
    doc.row("Oppnåelse", v.concept(resource.get("achievementStatus")))
    doc.row("Kategori", v.concepts(resource.get("category")))
    doc.row("Start", v.text(resource.get("startDate")))
    doc.row("Uttrykt av", v.reference(resource.get("expressedBy"), resolve))
    for target in v.listed(resource.get("target")):
        due = v.text(target.get("dueDate"))
        what = ", ".join(filter(None, (v.concept(target.get("measure")), v.value_x(target, "detail"))))
        doc.row("Delmål", f"{what} (innen {due})" if what and due else what or due)
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    return doc


def careteam(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A team: its name, patient, status and period, and every participant with role and how to reach them."""
    doc = Doc()
    doc.title(v.text(resource.get("name")) or "Team")
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Kategori", v.concepts(resource.get("category")))
    doc.row("Periode", v.period(resource.get("period")))
    doc.row("Ansvarlig virksomhet", v.references(resource.get("managingOrganization"), resolve))
    members = []
    for participant in v.listed(resource.get("participant")):
        member = v.resolved(participant.get("member"), resolve)
        rows = [Row("Kontakt", v.telecom(member.get("telecom")))] if member and v.telecom(member.get("telecom")) else []
        if v.period(participant.get("period")):
            rows.append(Row("Periode", v.period(participant.get("period"))))
        who = v.reference(participant.get("member"), resolve)
        members.append(Item(v.concepts(participant.get("role")), who, tuple(rows)))
    doc.section("Deltakere", [m for m in members if m.label or m.text])
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    return doc
