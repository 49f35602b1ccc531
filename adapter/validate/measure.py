"""A MeasureReport against its Measure, when we hold that Measure (a loaded definition).

* Each group of the report must match a group of the Measure by its code (a group without a code matches when the
  Measure and the report have one group each); each group of the Measure must be reported. The same holds for the
  stratifiers of a matched group.
* Each population of a matched group must have a code the Measure's group defines.
* A Measure scored as a cohort has no score: its report groups have no ``measureScore``.
* Only a report of type ``subject-list`` lists subjects (``population.subjectResults``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.validate.state import Walk

Lookup = Callable[[str], Any]
_SCORING = "http://terminology.hl7.org/CodeSystem/measure-scoring"


def check_report(report: dict[str, Any], expr: str, walk: Walk, lookup: Lookup) -> None:
    """Add the issues of the MeasureReport ``report`` (at ``expr``) to ``walk``."""
    groups = _dicts(report.get("group"))
    if report.get("type") != "subject-list":
        for g, group in enumerate(groups):
            for p, population in enumerate(_dicts(group.get("population"))):
                if population.get("subjectResults") is not None:
                    walk.add("ADP-4072", "error", f"{expr}.group[{g}].population[{p}]", type=report.get("type"))
    url = report.get("measure")
    measure = lookup(url) if isinstance(url, str) else None
    if not isinstance(measure, dict) or measure.get("resourceType") != "Measure":
        return
    cohort = any(c.get("system") == _SCORING and c.get("code") == "cohort" for c in _codings(measure.get("scoring")))
    defined = _dicts(measure.get("group"))
    matched = _match(groups, defined, f"{expr}.group", "group", walk)
    for unmatched in (d for d in defined if not any(d is m for m in matched.values())):
        walk.add(
            "ADP-4070",
            "error",
            expr,
            part="group",
            code=_shown(unmatched.get("code")),
            id=unmatched.get("id") or "none",
        )
    for g, group in enumerate(groups):
        group_expr = f"{expr}.group[{g}]"
        if cohort and group.get("measureScore") is not None:
            walk.add("ADP-4073", "error", f"{group_expr}.measureScore")
        definition = matched.get(g)
        if definition is None:
            continue
        codes = [_codings(p.get("code")) for p in _dicts(definition.get("population"))]
        for p, population in enumerate(_dicts(group.get("population"))):
            if not any(_same(_codings(population.get("code")), c) for c in codes):
                walk.add("ADP-4071", "error", f"{group_expr}.population[{p}]", code=_shown(population.get("code")))
        strata = _dicts(definition.get("stratifier"))
        found = _match(_dicts(group.get("stratifier")), strata, f"{group_expr}.stratifier", "stratifier", walk)
        for unmatched in (s for s in strata if not any(s is m for m in found.values())):
            code, ident = _shown(unmatched.get("code")), unmatched.get("id") or "none"
            walk.add("ADP-4070", "error", group_expr, part="stratifier", code=code, id=ident)


def _match(
    reported: list[dict[str, Any]], defined: list[dict[str, Any]], expr: str, part: str, walk: Walk
) -> dict[int, dict[str, Any]]:
    """Pair each reported part (group or stratifier) with its definition, by code; one of each pair by position."""
    matched: dict[int, dict[str, Any]] = {}
    for position, item in enumerate(reported):
        found = next((d for d in defined if _same_concept(item.get("code"), d.get("code"))), None)
        if found is None and len(reported) == 1 and len(defined) == 1:
            found = defined[0]
        if found is None:
            walk.add("ADP-4074", "error", f"{expr}[{position}]", part=part)
        else:
            matched[position] = found
    return matched


def _same_concept(left: Any, right: Any) -> bool:
    """Two CodeableConcepts share a coding, or (without codings) their texts are the same. A report's stratifier
    may have several codes: one of them must match."""
    if isinstance(left, list):
        return any(_same_concept(one, right) for one in left)
    if not isinstance(left, dict) or not isinstance(right, dict):
        return False
    mine, theirs = _codings(left), _codings(right)
    if mine and theirs:
        return _same(mine, theirs)
    return isinstance(left.get("text"), str) and left.get("text") == right.get("text")


def _same(mine: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> bool:
    return any(a.get("system") == b.get("system") and a.get("code") == b.get("code") for a in mine for b in theirs)


def _codings(concept: Any) -> list[dict[str, Any]]:
    return _dicts(concept.get("coding")) if isinstance(concept, dict) else []


def _shown(concept: Any) -> str:
    codings = _codings(concept)
    if codings:
        return ", ".join(f"{c.get('system')}#{c.get('code')}" for c in codings)
    return str(concept.get("text", "")) if isinstance(concept, dict) else ""


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
