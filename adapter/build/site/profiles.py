"""The page of one StructureDefinition: its differential and key elements as tables, must-support, cardinalities,
bindings with their value sets, slices, invariants in both languages, where it is used, and its examples."""

from __future__ import annotations

import json
from typing import Any

from lxml import etree

from adapter.build.site.sources import Sources
from adapter.build.site.text import bilingual, cardinality, fixed_values, pretty
from adapter.narrative import render_div


def profile_context(sd: dict[str, Any], sources: Sources) -> dict[str, Any]:
    """What the template ``profile.html`` shows for ``sd``."""
    snapshot = {e["id"]: e for e in sources.definitions.snapshot(sd["url"]).get("snapshot", {}).get("element", [])}
    differential = sd.get("differential", {}).get("element", [])
    diff_ids = {e["id"] for e in differential}
    key = [e for e in snapshot.values() if _is_key(e) or e["id"] in diff_ids]
    return {
        "sd": sd,
        "description": bilingual(sd.get("description")),
        "differential": [_row(e, snapshot.get(e["id"])) for e in differential],
        "key_elements": [_row(e, None) for e in key if _is_key(e)],
        "bindings": [_binding(e) for e in key if "binding" in e and e["binding"].get("valueSet")],
        "slicings": [_slicing(e, snapshot) for e in snapshot.values() if "slicing" in e and e["id"] in diff_ids],
        "invariants": [_invariant(e["id"], c) for e in differential for c in e.get("constraint", [])],
        "extension_context": [c.get("expression", "") for c in sd.get("context", [])],
        "used_in": _used_in(sd["url"], sources),
        "events": [md for md in sources.resources["MessageDefinition"] if _focuses(md, sd["url"])],
        # each example as it reads (its narrative, made afresh by our renderer, which escapes every value) and as JSON
        "examples": [(_example_name(x), narrative_html(x), pretty(x)) for x in _examples(sd, sources)],
    }


def _is_key(element: dict[str, Any]) -> bool:
    """A key element: must-support or required (min > 0), not the root."""
    return "." in element["path"] and (bool(element.get("mustSupport")) or int(element.get("min", 0)) > 0)


def _row(element: dict[str, Any], snapshot: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": element["id"],
        "depth": element["id"].count("."),
        "slice": element.get("sliceName"),
        "card": cardinality(element, snapshot),
        "card_set": "min" in element or "max" in element,
        "must_support": bool(element.get("mustSupport", (snapshot or {}).get("mustSupport"))),
        "types": [_type(t) for t in element.get("type", [])],
        "binding": element.get("binding"),
        "fixed": fixed_values(element),
        "short": bilingual(element.get("short")) if element.get("short") else None,
    }


def _type(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": entry.get("code", ""),
        "profiles": list(entry.get("profile", [])),
        "targets": list(entry.get("targetProfile", [])),
    }


def _binding(element: dict[str, Any]) -> dict[str, Any]:
    binding = element["binding"]
    return {
        "id": element["id"],
        "strength": binding.get("strength", ""),
        "value_set": binding["valueSet"],
        "description": bilingual(binding.get("description")) if binding.get("description") else None,
    }


def _slicing(element: dict[str, Any], snapshot: dict[str, dict[str, Any]]) -> dict[str, Any]:
    slicing = element["slicing"]
    prefix = element["id"] + ":"
    slices = [e for eid, e in snapshot.items() if eid.startswith(prefix) and "." not in eid[len(prefix) :]]
    return {
        "id": element["id"],
        "discriminators": [f"{d.get('type')}: {d.get('path')}" for d in slicing.get("discriminator", [])],
        "rules": slicing.get("rules", ""),
        "ordered": bool(slicing.get("ordered")),
        "description": bilingual(slicing["description"]) if slicing.get("description") else None,
        "slices": [
            {"name": s.get("sliceName", ""), "card": cardinality(s), "short": bilingual(s.get("short"))} for s in slices
        ],
    }


def _invariant(element_id: str, constraint: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": constraint.get("key", ""),
        "element": element_id,
        "severity": constraint.get("severity", ""),
        "human": bilingual(constraint.get("human")),
        "expression": constraint.get("expression", ""),
    }


def _used_in(url: str, sources: Sources) -> list[dict[str, Any]]:
    """The other StructureDefinitions that name ``url`` as a type profile or a reference target."""
    found = []
    for other in sources.resources["StructureDefinition"]:
        if other["url"] == url:
            continue
        for element in other.get("differential", {}).get("element", []):
            if any(url in (*t.get("profile", []), *t.get("targetProfile", [])) for t in element.get("type", [])):
                found.append(other)
                break
    return found


def _focuses(md: dict[str, Any], url: str) -> bool:
    return any(str(focus.get("profile", "")).split("|", 1)[0] == url for focus in md.get("focus", []))


def _examples(sd: dict[str, Any], sources: Sources) -> list[dict[str, Any]]:
    """The examples that claim the profile in meta.profile; for an extension, those that use it."""
    url = sd["url"]
    if sd.get("type") == "Extension":
        quoted = json.dumps(url)
        return [x for x in sources.examples if x.get("resourceType") != "Bundle" and quoted in json.dumps(x)]
    return [x for x in sources.examples if url in x.get("meta", {}).get("profile", [])]


def _example_name(example: dict[str, Any]) -> str:
    return f"{example.get('resourceType')}/{example.get('id')}"


def narrative_html(resource: dict[str, Any]) -> str:
    """The narrative of an example made afresh by our renderer (every value escaped), as HTML to place under the
    example's own heading (h3): its headings two levels down, row headers marked as such, void elements as HTML."""
    div = etree.fromstring(render_div(resource))
    for element in div.iter():
        element.tag = etree.QName(element).localname
        if element.tag in ("h2", "h3", "h4"):
            element.tag = f"h{min(int(element.tag[1]) + 2, 6)}"
        elif element.tag == "th":
            element.set("scope", "row")
    etree.cleanup_namespaces(div)
    return etree.tostring(div, method="html", encoding="unicode")
