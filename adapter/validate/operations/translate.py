"""``$translate``: a code through our ConceptMaps, the same ones (``profiles/resources/ConceptMap-*.json``) the
mapping engine translates KITH code lists with (:mod:`adapter.mapping.conceptmaps`).

Every row of every map that fits (``url``, or ``source`` and ``target`` ValueSets, and the code's ``system`` and
``targetsystem``) is a ``match`` with its equivalence and the target Coding; ``reverse`` reads the maps from target
to source. The result is true when a match is neither ``unmatched`` nor ``disjoint``. The engine takes the first
such row of a code (and, back, an ``equivalent`` or ``equal`` row first), so its answer is the first match's code.
"""

from __future__ import annotations

from typing import Any

from adapter.validate.operations.params import Params
from adapter.validate.packages import Resource
from adapter.validate.terminology import codes_of

TRANSLATE_PARAMS = (
    "url",
    "conceptMapVersion",
    "source",
    "target",
    "system",
    "version",
    "code",
    "coding",
    "codeableConcept",
    "targetsystem",
    "reverse",
)
_NO_MATCH = ("unmatched", "disjoint")
_PREFERRED = ("equal", "equivalent")
#: An equivalence read from target to source.
_REVERSED = {"wider": "narrower", "narrower": "wider", "subsumes": "specializes", "specializes": "subsumes"}


def translate(maps: list[Resource], params: Params) -> Resource:
    """The Parameters of ``$translate`` over ``maps`` (the ConceptMaps the call names or may use)."""
    pairs = _codes(params)
    reverse = params.boolean("reverse")
    source, target = params.text("source"), params.text("target")
    if reverse:
        source, target = target, source
    wanted_target = params.text("targetsystem")
    matches: list[dict[str, Any]] = []
    for conceptmap in maps:
        if not _fits(conceptmap, source, target):
            continue
        for group in conceptmap.get("group", []):
            from_system, to_system = _systems(group, reverse)
            if wanted_target is not None and to_system != wanted_target:
                continue
            for system, code in pairs:
                if system in (None, from_system):
                    matches.extend(_matches(conceptmap, group, code, to_system, reverse))
    if reverse:  # the engine goes back by an equivalent row first (adapter.mapping.conceptmaps)
        matches.sort(key=lambda m: m["equivalence"] not in _PREFERRED)
    found = any(m["equivalence"] not in _NO_MATCH for m in matches)
    parts: list[dict[str, Any]] = [{"name": "result", "valueBoolean": found}]
    if not found:
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        parts.append({"name": "message", "valueString": f"No mapping of {shown} in the ConceptMaps used"})
    parts.extend(
        {
            "name": "match",
            "part": [
                {"name": "equivalence", "valueCode": m["equivalence"]},
                *([{"name": "concept", "valueCoding": m["concept"]}] if "concept" in m else []),
                {"name": "source", "valueUri": m["source"]},
            ],
        }
        for m in matches
    )
    return {"resourceType": "Parameters", "parameter": parts}


def _codes(params: Params) -> list[tuple[str | None, str]]:
    """The (system, code) pairs to translate: ``code`` (with ``system``, which R4 requires with it), a ``coding``
    or a ``codeableConcept``."""
    given = [name for name in ("code", "coding", "codeableConcept") if params.values.get(name)]
    if len(given) != 1:
        raise params.error("code", "give one of code (with system), coding and codeableConcept")
    if given[0] == "code":  # R4 ConceptMap-translate: "If a code is provided, a system must be provided"
        code = params.required("code")
        system = params.text("system")
        if system is None:
            raise params.error("system", "a code is translated from its system: give system with code")
        return [(system, code)]
    pairs = codes_of(params.coding(given[0]))
    if not pairs:
        raise params.error(given[0], "no code in it")
    return [(s or None, c) for s, c in pairs]


def _fits(conceptmap: Resource, source: str | None, target: str | None) -> bool:
    """Does the map go from the ValueSet ``source`` to ``target`` (None: any)?"""
    own_source = conceptmap.get("sourceCanonical") or conceptmap.get("sourceUri")
    own_target = conceptmap.get("targetCanonical") or conceptmap.get("targetUri")
    return (source is None or own_source == source) and (target is None or own_target == target)


def _systems(group: dict[str, Any], reverse: bool) -> tuple[str, str]:
    source, target = str(group.get("source", "")), str(group.get("target", ""))
    return (target, source) if reverse else (source, target)


def _matches(
    conceptmap: Resource, group: dict[str, Any], code: str, to_system: str, reverse: bool
) -> list[dict[str, Any]]:
    """The matches of ``code`` in one group of a map (read from target to source when ``reverse``)."""
    found = []
    for element in group.get("element", []):
        for row in element.get("target", []):
            equivalence = str(row.get("equivalence", "equivalent"))
            if reverse:
                if row.get("code") != code or equivalence in _NO_MATCH:
                    continue
                concept = {"system": to_system, "code": element.get("code"), "display": element.get("display")}
                equivalence = _REVERSED.get(equivalence, equivalence)
            else:
                if element.get("code") != code:
                    continue
                concept = {"system": to_system, "code": row.get("code"), "display": row.get("display")}
            match: dict[str, Any] = {"equivalence": equivalence, "source": str(conceptmap.get("url", ""))}
            if concept["code"] is not None:
                match["concept"] = {k: v for k, v in concept.items() if v is not None}
            found.append(match)
    return found
