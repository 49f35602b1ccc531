"""Offline ValueSet expansion from the CodeSystems we have (core, no-basis, ours).

There is no terminology server. A ValueSet is expanded from its ``compose``: included concept lists, whole code
systems we hold (with ``content = complete``), other ValueSets, and excludes. What cannot be expanded (a code system
we do not have, a filter) makes the expansion *partial*: the caller then reports "not checked" as a warning,
never a pass and never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapter.validate.packages import Definitions


@dataclass
class Expansion:
    """Codes of a ValueSet as (system, code) pairs; ``missing`` names what could not be expanded."""

    codes: set[tuple[str, str]] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        """True when every part of the ValueSet could be expanded."""
        return not self.missing

    def contains(self, system: str | None, code: str) -> bool:
        """Is (system, code) in the expansion? A missing system matches any system (for ``code`` elements)."""
        if system is None:
            return any(c == code for _, c in self.codes)
        return (system, code) in self.codes


class Terminology:
    """Expands ValueSets once and remembers the result."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self._cache: dict[str, Expansion] = {}

    def expand(self, valueset_url: str) -> Expansion:
        """The expansion of ``valueset_url`` (version suffix ignored)."""
        url = valueset_url.split("|", 1)[0]
        cached = self._cache.get(url)
        if cached is not None:
            return cached
        self._cache[url] = Expansion(missing={url})  # guards against ValueSets that include themselves
        valueset = self.defs.get(url)
        result = Expansion(missing={url}) if valueset is None else self._expand(valueset)
        self._cache[url] = result
        return result

    def _expand(self, valueset: dict[str, Any]) -> Expansion:
        result = Expansion()
        if "compose" not in valueset and "expansion" in valueset:
            for entry in _flatten(valueset["expansion"].get("contains", [])):
                result.codes.add((entry.get("system", ""), entry["code"]))
            return result
        compose = valueset.get("compose", {})
        for include in compose.get("include", []):
            part = self._include(include)
            result.codes |= part.codes
            result.missing |= part.missing
        for exclude in compose.get("exclude", []):
            result.codes -= self._include(exclude).codes
        return result

    def _include(self, include: dict[str, Any]) -> Expansion:
        part = Expansion()
        system = include.get("system")
        if system:
            if "filter" in include:
                part.missing.add(system)
            elif "concept" in include:
                part.codes = {(system, c["code"]) for c in include["concept"]}
            else:
                codes = self.codesystem_codes(system)
                if codes is None:
                    part.missing.add(system)
                else:
                    part.codes = {(system, code) for code in codes}
        for nested_url in include.get("valueSet", []):
            nested = self.expand(nested_url)
            part.codes = nested.codes if not system else part.codes & nested.codes
            part.missing |= nested.missing
        return part

    def codesystem_codes(self, system: str) -> set[str] | None:
        """All codes of a complete CodeSystem we hold, or None when we do not have it whole."""
        codesystem = self.defs.get(system)
        if codesystem is None or codesystem.get("resourceType") != "CodeSystem":
            return None
        if codesystem.get("content") not in ("complete", None):
            return None
        return {c["code"] for c in _flatten(codesystem.get("concept", []))}


def _flatten(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for concept in concepts:
        found.append(concept)
        found.extend(_flatten(concept.get("concept", []) + concept.get("contains", [])))
    return found


def codes_of(value: Any) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a code (system None), a Coding or a CodeableConcept."""
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    # A Coding without a system gets "" and so never matches a real system; only a bare code matches any system.
    codings = value.get("coding", []) if "coding" in value else [value]
    if not isinstance(codings, list):
        return []
    # A system that is not a string (a type error reported by the structure check) counts as no system.
    return [
        (_text(c.get("system", "")), c["code"])
        for c in codings
        if isinstance(c, dict) and isinstance(c.get("code"), str)
    ]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
