"""Clinical records: assessments, answers, observations, conditions, risk, medicines.

Their plain text is also what a Henvisning carries for the resources a referral refers to (reasons, supporting
information): the kind and date, what it is about (code), its texts, findings, prognosis, answers and notes.
"""

from __future__ import annotations

from typing import Any

from adapter.narrative import values as v
from adapter.narrative.doc import Doc, Item
from adapter.narrative.plans import subject_row

KIND = {
    "ClinicalImpression": "Vurdering",
    "QuestionnaireResponse": "Kartlegging",
    "Observation": "Observasjon",
    "Condition": "Tilstand",
    "RiskAssessment": "Risikovurdering",
    "MedicationStatement": "Legemiddelbruk",
}
#: Elements whose text says what a resource is about, in the order they are rendered.
_TEXT_ELEMENTS = ("description", "summary", "valueString")
_VALUES = ("valueCodeableConcept", "valueQuantity", "valueBoolean", "valueInteger", "valueDateTime", "valuePeriod")
_DATES = ("date", "authored", "effectiveDateTime", "recordedDate", "onsetDateTime", "occurrenceDateTime")


def clinical(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A clinical record: its kind and date, what it is about, its texts, value, findings, prognosis, predictions,
    answers and notes (the patient when ``resolve`` finds it)."""
    doc = Doc()
    rtype = str(resource.get("resourceType"))
    kind = KIND.get(rtype, rtype)
    doc.title(f"{kind} {v.first(resource, _DATES)[:10]}".strip())
    doc.para(v.concept(resource.get("code")) or v.concept(resource.get("medicationCodeableConcept")))
    for key in _TEXT_ELEMENTS:
        doc.para(v.text(resource.get(key)))
    for key in _VALUES:
        if key in resource:
            doc.row("Verdi", v.value_x({key: resource[key]}))
    if resolve is not None:
        subject_row(doc, resource, resolve)
    doc.row("Alvorlighet", v.concept(resource.get("severity")))
    for dosage in v.listed(resource.get("dosage")):
        doc.row("Dosering", v.text(dosage.get("text")))
    findings = []
    for finding in v.listed(resource.get("finding")):
        item = finding.get("itemReference")
        what = v.concept(finding.get("itemCodeableConcept")) or (
            v.text(item.get("display")) if isinstance(item, dict) else ""
        )
        findings.append(Item(what, v.text(finding.get("basis"))))
    doc.items([f for f in findings if f.label or f.text])
    doc.row("Prognose", v.concepts(resource.get("prognosisCodeableConcept")))
    for prediction in v.listed(resource.get("prediction")):
        outcome, likelihood = v.concept(prediction.get("outcome")), v.concept(prediction.get("qualitativeRisk"))
        risk = ", ".join(filter(None, (outcome, likelihood)))
        if risk:
            doc.items([Item("", risk)])
    doc.row("Tiltak", v.text(resource.get("mitigation")))
    if rtype == "QuestionnaireResponse":
        doc.items(answers(resource.get("item"), 0))
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    doc.row("Status", v.status(resource.get("status")) or v.status(v.concept(resource.get("clinicalStatus"))))
    return doc


def answers(items: Any, depth: int) -> list[Item]:
    """Questionnaire answers: a line per question with text (its answers after a colon), answers of questions
    without text as list items; nested questions indented."""
    found: list[Item] = []
    for item in v.listed(items):
        given = v.listed(item.get("answer"))
        values = ", ".join(v.value_x(answer) for answer in given)
        question = v.text(item.get("text"))
        if question:
            found.append(
                Item(question, values, depth=depth, bullet=False)
                if values
                else Item(f"{question}:", "", depth=depth, bullet=False)
            )
        elif values:
            label = "" if all("valueString" in a for a in given) else f"{item.get('linkId', '')}: "
            found.append(Item("", f"{label}{values}", depth=depth))
        found += answers(item.get("item"), depth + 1)
        for answer in given:
            found += answers(answer.get("item"), depth + 1)
    return found
