"""``$expand``: a ValueSet's codes, from the same offline expansion the validator checks bindings against.

The codes are those of :meth:`Terminology.expand <adapter.validate.terminology.Terminology.expand>`; this adds
their displays and designations (from the CodeSystem, or the ValueSet's own concept list), the text ``filter``
(case-insensitive, on code, display and designations; plain text, never a pattern), ``displayLanguage`` (a
designation in that language instead of the display, where there is one), paging (``offset``, ``count``) and the
parameters echoed in ``expansion.parameter``. A ValueSet with a part we cannot expand offline (a filter, a code
system we do not hold whole, such as SNOMED CT) or of more than :data:`MAX_EXPANSION` codes without ``count`` is
refused as too costly (ADP-5062, 422), never answered in part.
"""

from __future__ import annotations

import uuid
from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.validate.operations.params import Params
from adapter.validate.packages import Resource
from adapter.validate.terminology import Terminology, flatten

#: The most codes one answer gives (a larger ``count`` is taken as this), and the most an unpaged expansion has.
MAX_EXPANSION = 1000
#: The longest ``filter``.
MAX_FILTER = 200
EXPAND_PARAMS = (
    "url",
    "valueSetVersion",
    "filter",
    "count",
    "offset",
    "displayLanguage",
    "includeDesignations",
)
_NAMESPACE = uuid.UUID("5d2a3f4e-1c7b-4f0e-9a57-3f1e2b8c6d90")


def expand(terminology: Terminology, valueset: Resource, params: Params, timestamp: str) -> Resource:
    """The ValueSet ``valueset`` with its expansion (``timestamp``: when it is made, an R4 dateTime)."""
    url = str(valueset.get("url") or "")
    expansion = terminology.expand(url)
    if not expansion.complete:
        detail = "it includes " + ", ".join(sorted(expansion.missing)) + ", which is not held whole offline"
        raise AdapterError([Issue("ADP-5062", "error", args={"url": url, "detail": detail})])
    text = params.text("filter")
    if text is not None and len(text) > MAX_FILTER:
        raise params.error("filter", f"longer than {MAX_FILTER} characters")
    count, offset = params.integer("count"), params.integer("offset") or 0
    language = params.text("displayLanguage")
    designations = params.boolean("includeDesignations")
    entries = _entries(terminology, valueset, sorted(expansion.codes))
    if text is not None:
        entries = [e for e in entries if _meets(e, text.casefold())]
    if count is None and len(entries) > MAX_EXPANSION:
        detail = f"it has {len(entries)} codes; page through them with count (at most {MAX_EXPANSION}) and offset"
        raise AdapterError([Issue("ADP-5062", "error", args={"url": url, "detail": detail})])
    shown = min(count if count is not None else MAX_EXPANSION, MAX_EXPANSION)
    echoed = [(name, value) for name, value in _echo(params) if name != "count"]
    if count is not None:
        echoed.append(("count", shown))
    page = [_contains(e, language, designations) for e in entries[offset : offset + shown]]
    key = "|".join([url, str(valueset.get("version", "")), *(f"{n}={v}" for n, v in echoed)])
    result: Resource = {"resourceType": "ValueSet"}
    result.update({k: valueset[k] for k in ("id", "url", "version", "name", "title", "status") if k in valueset})
    result["expansion"] = {
        "identifier": f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}",
        "timestamp": timestamp,
        "total": len(entries),
        "offset": offset,
        "parameter": [_parameter(name, value) for name, value in echoed],
        **({"contains": page} if page else {}),
    }
    return result


def _entries(terminology: Terminology, valueset: Resource, codes: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each (system, code) with its display and designations, in the order of the code systems' concepts."""
    given = _given_concepts(valueset)
    found = []
    for system, code in codes:
        concepts = terminology_concepts(terminology, system)
        position, concept = concepts.get(code, (len(concepts), {}))
        concept = {**given.get((system, code), {}), **concept} if concept else given.get((system, code), {})
        entry = {"system": system, "code": code, "_position": position}
        if isinstance(concept.get("display"), str):
            entry["display"] = concept["display"]
        names = [d for d in concept.get("designation", []) if isinstance(d, dict) and isinstance(d.get("value"), str)]
        if names:
            entry["designation"] = names
        found.append(entry)
    found.sort(key=lambda e: (e["system"], e["_position"], e["code"]))
    return found


def terminology_concepts(terminology: Terminology, system: str) -> dict[str, tuple[int, dict[str, Any]]]:
    """The concepts of the CodeSystem ``system`` we hold, by code, with their place in it (none: empty)."""
    codesystem = terminology.defs.get(system)
    if codesystem is None or codesystem.get("resourceType") != "CodeSystem":
        return {}
    concepts = flatten(codesystem.get("concept", []))
    return {str(c["code"]): (i, c) for i, c in enumerate(concepts) if isinstance(c.get("code"), str)}


def _given_concepts(valueset: Resource) -> dict[tuple[str, str], dict[str, Any]]:
    """The concepts a ValueSet names itself (``compose.include.concept``, ``expansion.contains``)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for include in (valueset.get("compose") or {}).get("include", []):
        for concept in include.get("concept", []) if isinstance(include, dict) else []:
            if isinstance(concept, dict) and isinstance(concept.get("code"), str):
                found[(str(include.get("system", "")), concept["code"])] = concept
    for entry in flatten((valueset.get("expansion") or {}).get("contains", [])):
        if isinstance(entry.get("code"), str):
            found.setdefault((str(entry.get("system", "")), entry["code"]), entry)
    return found


def _meets(entry: dict[str, Any], wanted: str) -> bool:
    texts = [entry["code"], entry.get("display", ""), *(d["value"] for d in entry.get("designation", []))]
    return any(wanted in str(text).casefold() for text in texts)


def _contains(entry: dict[str, Any], language: str | None, designations: bool) -> dict[str, Any]:
    """An ``expansion.contains`` of an entry; ``language``: the designation in it as the display, if any."""
    shown = {"system": entry["system"], "code": entry["code"]}
    display = entry.get("display")
    if language:
        wanted = language.lower().split("-")[0]
        for designation in entry.get("designation", []):
            if str(designation.get("language", "")).lower().split("-")[0] == wanted:
                display = designation["value"]
                break
    if display is not None:
        shown["display"] = display
    if designations and entry.get("designation"):
        shown["designation"] = entry["designation"]
    return shown


def _echo(params: Params) -> list[tuple[str, Any]]:
    """The parameters the expansion was made with, as given (``expansion.parameter``)."""
    return [
        (name, values[0])
        for name, values in params.values.items()
        if name in EXPAND_PARAMS and name not in ("url",) and values
    ]


def _parameter(name: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool) or value in ("true", "false"):
        return {"name": name, "valueBoolean": value in (True, "true")}
    if isinstance(value, int):
        return {"name": name, "valueInteger": value}
    if name in ("offset",) and isinstance(value, str) and value.isdigit():
        return {"name": name, "valueInteger": int(value)}
    return {"name": name, "valueString": str(value)}
