"""The pages of the terminology (code systems, value sets, concept maps), the questionnaire and the message
events, as template contexts."""

from __future__ import annotations

from typing import Any

from adapter.build.site.sources import Sources
from adapter.build.site.text import bilingual

#: The ConceptMap that says which KITH message type (list 8279) each message event travels as.
EVENT_TO_KITH = "meldingshendelse-til-kith-8279"


def code_system_context(cs: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """A code system: its concepts (code, display, English display, definition in both languages)."""
    return {
        "cs": cs,
        "description": bilingual(cs.get("description")),
        "concepts": list(_concepts(cs.get("concept", []), 0)),
        "value_sets": [vs for vs in sources.resources["ValueSet"] if cs["url"] in _systems(vs)],
    }


def _concepts(concepts: list[dict[str, Any]], depth: int) -> Any:
    for concept in concepts:
        english = [d.get("value") for d in concept.get("designation", []) if d.get("language", "").startswith("en")]
        yield {
            "code": concept.get("code", ""),
            "display": concept.get("display", ""),
            "en": english[0] if english else None,
            "definition": bilingual(concept.get("definition")) if concept.get("definition") else None,
            "depth": depth,
        }
        yield from _concepts(concept.get("concept", []), depth + 1)


def _systems(vs: dict[str, Any]) -> list[str]:
    return [str(inc.get("system", "")) for inc in vs.get("compose", {}).get("include", [])]


def value_set_context(vs: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """A value set: what it includes (whole code systems or listed codes) and the codes that gives, where the
    package holds the code system."""
    includes = []
    for inc in vs.get("compose", {}).get("include", []):
        system = str(inc.get("system", ""))
        listed = {c.get("code") for c in inc.get("concept", [])}
        cs = sources.by_url.get(system)
        known = {c["code"]: c for c in _concepts(cs.get("concept", []), 0)} if cs else {}
        codes = [known.get(code, {"code": code, "display": ""}) for code in listed] if listed else known.values()
        includes.append({"system": system, "whole": not listed, "codes": sorted(codes, key=lambda c: c["code"])})
    return {
        "vs": vs,
        "description": bilingual(vs.get("description")),
        "includes": includes,
        "bound_in": [sd for sd in sources.resources["StructureDefinition"] if _binds(sd, vs["url"])],
    }


def _binds(sd: dict[str, Any], url: str) -> bool:
    return any(
        str(e.get("binding", {}).get("valueSet", "")).split("|", 1)[0] == url
        for e in sd.get("differential", {}).get("element", [])
    )


def concept_map_context(cm: dict[str, Any]) -> dict[str, Any]:
    """A concept map: per group, each source code and what it maps to (equivalence and comment in both languages)."""
    groups = []
    for group in cm.get("group", []):
        rows = []
        for element in group.get("element", []):
            for target in element.get("target", []) or [{}]:
                rows.append(
                    {
                        "code": element.get("code", ""),
                        "display": element.get("display", ""),
                        "target": target.get("code", ""),
                        "target_display": target.get("display", ""),
                        "equivalence": target.get("equivalence", ""),
                        "comment": bilingual(target.get("comment")) if target.get("comment") else None,
                    }
                )
        groups.append({"source": group.get("source", ""), "target": group.get("target", ""), "rows": rows})
    return {"cm": cm, "description": bilingual(cm.get("description")), "groups": groups}


def questionnaire_context(q: dict[str, Any]) -> dict[str, Any]:
    """A questionnaire: its items as a flat list with their depth."""

    def items(entries: list[dict[str, Any]], depth: int) -> Any:
        for item in entries:
            yield {"item": item, "depth": depth, "codes": item.get("code", [])}
            yield from items(item.get("item", []), depth + 1)

    return {
        "q": q,
        "description": bilingual(q.get("description")),
        "purpose": bilingual(q.get("purpose")) if q.get("purpose") else None,
        "items": list(items(q.get("item", []), 0)),
    }


def events_context(sources: Sources) -> dict[str, Any]:
    """The message events: each MessageDefinition with its event code, what it carries, whether it is answered,
    and the KITH message type it travels as to a system without FHIR."""
    to_kith = _event_targets(sources)
    events = []
    for md in sources.resources["MessageDefinition"]:
        coding = md.get("eventCoding", {})
        events.append(
            {
                "md": md,
                "code": coding.get("code", ""),
                "system": coding.get("system", ""),
                "description": bilingual(md.get("description")),
                "focus": md.get("focus", []),
                "kith": to_kith.get(coding.get("code", ""), []),
            }
        )
    event_cs = next((cs for cs in sources.resources["CodeSystem"] if cs["id"] == "meldingshendelse"), None)
    return {
        "events": events,
        "code_system": event_cs,
        "concepts": list(_concepts(event_cs.get("concept", []), 0)) if event_cs else [],
        "concept_map": next((c for c in sources.resources["ConceptMap"] if c["id"] == EVENT_TO_KITH), None),
    }


def _event_targets(sources: Sources) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for cm in sources.resources["ConceptMap"]:
        if cm["id"] != EVENT_TO_KITH:
            continue
        for group in cm.get("group", []):
            for element in group.get("element", []):
                targets = [{**t, "comment": bilingual(t.get("comment"))} for t in element.get("target", [])]
                found.setdefault(element.get("code", ""), []).extend(targets)
    return found
