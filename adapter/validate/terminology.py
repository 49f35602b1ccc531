"""Offline ValueSet expansion from the CodeSystems we have (core, no-basis, ours).

There is no terminology server. A ValueSet is expanded from its ``compose``: included concept lists, whole code
systems we hold (with ``content = complete``), other ValueSets, and excludes. What cannot be expanded (a code system
we do not have, a filter) makes the expansion *partial*: the caller then reports "not checked" as a warning,
never a pass and never an error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from adapter.validate.packages import Definitions


@dataclass
class Expansion:
    """Codes of a ValueSet as (system, code) pairs; ``missing`` names what could not be expanded."""

    codes: set[tuple[str, str]] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    #: displays an expansion gives its codes (its own display and designations), which are valid displays there
    displays: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every part of the ValueSet could be expanded."""
        return not self.missing

    def contains(self, system: str | None, code: str) -> bool:
        """Is (system, code) in the expansion? A missing system matches any system (for ``code`` elements)."""
        if system is None:
            return any(c == code for _, c in self.codes)
        return (system, code) in self.codes

    def verdict(self, valueset: str, pairs: list[tuple[str | None, str]]) -> bool | None:
        """Are the codes ``pairs`` (see :func:`codes_of`) in the ValueSet ``valueset`` this is the expansion of:
        True when one is, False when none is, None when it cannot be told here (a part we do not hold could have
        them). The one judgement of bindings and of ``$validate-code``."""
        if any(self.contains(s, c) for s, c in pairs):
            return True
        systems = {s for s, _ in pairs}
        if not self.complete and (systems & self.missing or None in systems or valueset in self.missing):
            return None
        return False


class Terminology:
    """Expands ValueSets once and remembers the result."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self._cache: dict[str, Expansion] = {}
        self._displays: dict[str, dict[str, frozenset[str]] | None] = {}
        # One expansion at a time: the service's threads share this (validator and $expand), and a thread must
        # never take another's half-made expansion for the whole one.
        self._lock = threading.RLock()
        self._expanding: set[str] = set()

    def expand(self, valueset_url: str) -> Expansion:
        """The expansion of ``valueset_url`` (version suffix ignored)."""
        url = valueset_url.split("|", 1)[0]
        cached = self._cache.get(url)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None:
                return cached
            if url in self._expanding:  # a ValueSet that includes itself
                return Expansion(missing={url})
            self._expanding.add(url)
            try:
                valueset = self._contained(url) if "#" in url else self.defs.get(url)
                result = Expansion(missing={url}) if valueset is None else self._expand(valueset)
            finally:
                self._expanding.discard(url)
            self._cache[url] = result
            return result

    def _contained(self, url: str) -> dict[str, Any] | None:
        """The ValueSet ``<canonical>#<id>``: one contained in a conformance resource (a profile's binding)."""
        owner_url, _, fragment = url.partition("#")
        owner = self.defs.get(owner_url)
        contained = owner.get("contained") if isinstance(owner, dict) else None
        return (
            next(
                (
                    c
                    for c in contained
                    if isinstance(c, dict) and c.get("id") == fragment and c.get("resourceType") == "ValueSet"
                ),
                None,
            )
            if isinstance(contained, list)
            else None
        )

    def _expand(self, valueset: dict[str, Any]) -> Expansion:
        result = Expansion()
        if "compose" not in valueset and "expansion" in valueset:
            for entry in flatten(valueset["expansion"].get("contains", [])):
                pair = (entry.get("system", ""), entry["code"])
                result.codes.add(pair)
                names = [entry.get("display"), *(d.get("value") for d in entry.get("designation", []))]
                if any(isinstance(n, str) for n in names):
                    result.displays[pair] = frozenset(_normal(n) for n in names if isinstance(n, str))
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

    def displays(self, system: str, code: str) -> frozenset[str] | None:
        """The displays a code may show (its display and designations, lower case, spaces collapsed), or None
        when we do not hold the code system whole or it has no such code."""
        found = self._displays.get(system, ())
        if found == ():
            codesystem = self.defs.get(system)
            complete = isinstance(codesystem, dict) and codesystem.get("resourceType") == "CodeSystem"
            if complete and codesystem is not None and codesystem.get("content") in ("complete", None):
                found = {
                    c["code"]: frozenset(
                        _normal(text)
                        for text in [c.get("display"), *(d.get("value") for d in c.get("designation", []))]
                        if isinstance(text, str)
                    )
                    for c in flatten(codesystem.get("concept", []))
                    if isinstance(c.get("code"), str)
                }
            else:
                found = None
            self._displays[system] = found
        names = found.get(code) if isinstance(found, dict) else None
        return names or None

    def display_texts(self, system: str, code: str) -> tuple[str, ...]:
        """The displays of a code as its code system writes them (its display, then its designations), for telling
        a caller which are right; :meth:`displays` gives them as compared. Empty when we hold no such code."""
        codesystem = self.defs.get(system)
        if codesystem is None or codesystem.get("resourceType") != "CodeSystem":
            return ()
        for concept in flatten(codesystem.get("concept", [])):
            if concept.get("code") == code:
                names = [concept.get("display"), *(d.get("value") for d in concept.get("designation", []))]
                return tuple(dict.fromkeys(n for n in names if isinstance(n, str)))
        return ()

    def codesystem_codes(self, system: str) -> set[str] | None:
        """All codes of a complete CodeSystem we hold, or None when we do not have it whole."""
        codesystem = self.defs.get(system)
        if codesystem is None or codesystem.get("resourceType") != "CodeSystem":
            return None
        if codesystem.get("content") not in ("complete", None):
            return None
        return {c["code"] for c in flatten(codesystem.get("concept", []))}


def _normal(text: str) -> str:
    """A display as compared: lower case, runs of white space as one space."""
    return " ".join(text.lower().split())


def display_matches(display: str, allowed: frozenset[str]) -> bool:
    """Is ``display`` one of the ``allowed`` displays (see :meth:`Terminology.displays`)?"""
    return _normal(display) in allowed


def flatten(concepts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Concepts (``CodeSystem.concept``, ``expansion.contains``) with those nested in them, depth first."""
    found: list[dict[str, Any]] = []
    for concept in concepts:
        found.append(concept)
        found.extend(flatten(concept.get("concept", []) + concept.get("contains", [])))
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
