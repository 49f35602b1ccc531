"""Profiles implied by a resource's category, type or code: checked on every write, claimed or not.

A resource whose ``category``, ``type`` or ``code`` carries a code that identifies one of our profiles is validated
against that profile whether or not ``meta.profile`` claims it, and is stored claiming it
(:func:`claim_implied`). So a crisis plan (CarePlan with category ``plantype#krise-og-mestringsplan``) that leaves
out its claim still meets ``krise-og-mestringsplan`` (its slices, kmp-1) or is rejected.

The table is data, read once from the snapshots of our own profiles (``Definitions.own``: profiles/resources), so a
new profile's identifying code is picked up without a change here. What identifies a profile:

* the element ``category``, ``type`` or ``code`` of the resource (not a choice), or one of its slices, that every
  instance must have (min >= 1), and
* the codes it fixes there: a fixed or pattern Coding/CodeableConcept (also when fixed on ``coding.system`` and
  ``coding.code``); a pattern with a system and no code names every code of that system; without one, the codes of
  a required binding (``individuell-plan``: its required ``category:plantype`` slice bound to
  ``individuell-plan-kategori``);
* of those, only codes whose system lies under our own canonical base (read from the URLs of our profiles, which
  sushi-config.yaml's ``canonical`` gives): a core or foreign code (``Bundle.type = message``, a LOINC code) says
  what a resource is in general, not that it is one of ours, and a resource of a foreign category is not affected.

An optional slice (``henvisning``'s ``category:hovedforlop``, 0..*) does not identify its profile: other resources
may carry the code too. Profiles without such a code (``samhandlingsmelding``, ``kartlegging-svar``, ...) are left
out; they are checked when claimed, or where a message Bundle's definition asks for them.

**Two profiles identified by one code**: when one derives from the other (its baseDefinition chain reaches it),
only the more specific one is implied: its snapshot carries every rule of the one it derives from. Otherwise both
apply, and the resource must meet both, as it must meet every profile it claims.

Call :func:`implied_profiles` / :func:`claim_implied` with the validator's definitions
(``Validator.definitions``); the validation walk adds the implied profiles to the claimed ones itself
(:mod:`adapter.validate.walker`, ``Engine.resource``), for the top-level resource, Bundle entries and contained
resources alike.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from typing import Any

from adapter.errors import AdapterError
from adapter.parse.fhir_model import Node
from adapter.validate.packages import Definitions, Package
from adapter.validate.terminology import Terminology

#: The elements of a resource whose codes may identify a profile.
IDENTIFYING_ELEMENTS = ("category", "type", "code")
_MARKER = "/StructureDefinition/"
_CODED = ("CodeableConcept", "Coding")
Key = tuple[str, str, str, str]  # resource type, element, system, code ("" : any code of the system)


class ImpliedProfiles:
    """The identifying codes of our profiles, as a table; :meth:`profiles` is a dict lookup per Coding."""

    def __init__(self, codes: dict[Key, tuple[str, ...]]) -> None:
        #: (resource type, element, system, code) -> the profiles that code identifies ("": any code of the system)
        self.codes = codes
        elements: dict[str, list[str]] = {}
        for rtype, element, _, _ in codes:
            if element not in elements.setdefault(rtype, []):
                elements[rtype].append(element)
        self._elements = {rtype: tuple(found) for rtype, found in elements.items()}

    def profiles(self, resource: Any) -> tuple[str, ...]:
        """The profiles ``resource`` (a JSON dict) is identified as, in table order; () when none."""
        if not isinstance(resource, dict):
            return ()
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str):
            return ()
        elements = self._elements.get(rtype)
        if not elements:
            return ()
        codes = self.codes
        found: list[str] = []
        for element in elements:
            for system, code in _codings(resource.get(element)):
                found.extend(codes.get((rtype, element, system, code), ()))
                found.extend(codes.get((rtype, element, system, ""), ()))
        return tuple(dict.fromkeys(found)) if found else ()

    def claim(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``resource`` whose ``meta.profile`` also lists its implied profiles (and those of its contained
        resources and Bundle entries, in their own ``meta``); ``resource`` itself when there is nothing to add or
        its ``meta`` is malformed (validation reports that)."""
        if not isinstance(resource, dict):
            return resource
        changed: dict[str, Any] | None = None
        for key in ("contained", "entry"):
            items = resource.get(key)
            if not isinstance(items, list):
                continue
            claimed = [self._claim_item(key, item) for item in items]
            if any(new is not old for new, old in zip(claimed, items, strict=True)):
                changed = changed if changed is not None else dict(resource)
                changed[key] = claimed
        implied = self.profiles(resource)
        if implied:
            meta = resource.get("meta", {})
            listed = meta.get("profile", []) if isinstance(meta, dict) else None
            if isinstance(listed, list):
                missing = [url for url in implied if url not in listed]
                if missing:
                    changed = changed if changed is not None else dict(resource)
                    changed["meta"] = {**meta, "profile": [*listed, *missing]}
        return changed if changed is not None else resource

    def _claim_item(self, key: str, item: Any) -> Any:
        if key == "contained":
            return self.claim(item) if isinstance(item, dict) else item
        inner = item.get("resource") if isinstance(item, dict) else None  # a Bundle entry
        if not isinstance(inner, dict):
            return item
        claimed = self.claim(inner)
        return item if claimed is inner else {**item, "resource": claimed}


def build_table(definitions: Definitions, own: Package) -> ImpliedProfiles:
    """Read the identifying codes of the resource profiles in ``own`` (snapshots from ``definitions``)."""
    urls = [u for u in own.urls() if _MARKER in u]
    bases = tuple(sorted({u.split(_MARKER, 1)[0] + "/" for u in urls}))  # our canonical base(s)
    terminology = Terminology(definitions)
    found: dict[Key, list[str]] = {}
    for url in urls:
        sd = own.get(url)
        if sd is None or sd.get("kind") != "resource" or sd.get("derivation") != "constraint":
            continue
        try:
            profile = definitions.compiled(url)
        except AdapterError:
            continue  # a profile whose snapshot cannot be made is reported wherever it is claimed
        for child in profile.root.children:
            if child.name not in IDENTIFYING_ELEMENTS or child.choice:
                continue
            for candidate in (child, *child.slices):
                if candidate.min < 1:
                    continue
                for system, code in _identifying(candidate, terminology):
                    if system.startswith(bases):
                        found.setdefault((profile.type, child.name, system, code), []).append(profile.url)
    return ImpliedProfiles({key: _most_specific(definitions, urls) for key, urls in sorted(found.items())})


def _most_specific(definitions: Definitions, profiles: list[str]) -> tuple[str, ...]:
    """The profiles, without any that another of them derives from (its snapshot has all their rules)."""
    unique = list(dict.fromkeys(profiles))
    ancestors = {url: _ancestors(definitions, url) for url in unique}
    return tuple(url for url in unique if not any(url in ancestors[other] for other in unique if other != url))


def _ancestors(definitions: Definitions, url: str) -> set[str]:
    """The profiles ``url`` derives from, following baseDefinition."""
    found: set[str] = set()
    sd = definitions.get(url)
    while sd is not None:
        base = sd.get("baseDefinition")
        if not isinstance(base, str) or base in found:
            break
        found.update((base, base.split("|", 1)[0]))
        sd = definitions.get(base)
    return found


def _identifying(node: Node, terminology: Terminology) -> list[tuple[str, str]]:
    """The (system, code) pairs an element or slice fixes ("" as code: the whole system)."""
    pairs: list[tuple[str, str]] = []
    for fixed in (node.fixed, node.pattern):
        if fixed is not None and fixed[0].endswith(_CODED) and isinstance(fixed[1], dict):
            pairs.extend(_pattern_pairs(fixed[1], fixed[0].endswith("Coding")))
    if not pairs:  # fixed on the children: coding.system and coding.code
        for coding in (c for c in node.children if c.name == "coding"):
            for part in (coding, *coding.slices):
                system, code = _fixed_text(part, "system"), _fixed_text(part, "code")
                if system:
                    pairs.append((system, code or ""))
    if not pairs and node.binding is not None and node.binding[0] == "required":
        pairs.extend(sorted(terminology.expand(node.binding[1]).codes))
    return pairs


def _pattern_pairs(value: dict[str, Any], is_coding: bool) -> Iterator[tuple[str, str]]:
    codings = [value] if is_coding else value.get("coding", [])
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and isinstance(coding.get("system"), str):
            code = coding.get("code")
            yield coding["system"], code if isinstance(code, str) else ""


def _fixed_text(node: Node, name: str) -> str | None:
    child = next((c for c in node.children if c.name == name), None)
    if child is None:
        return None
    for fixed in (child.fixed, child.pattern):
        if fixed is not None and isinstance(fixed[1], str):
            return fixed[1]
    return None


def _codings(value: Any) -> Iterator[tuple[str, str]]:
    """(system, code) of the Codings in an element's value: a CodeableConcept, a Coding, or a list of them."""
    for item in value if isinstance(value, list) else (value,):
        if not isinstance(item, dict):
            continue
        codings = item.get("coding")
        for coding in codings if isinstance(codings, list) else (item,):
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if isinstance(system, str) and isinstance(code, str):
                    yield system, code


# -- one table per package of our profiles ---------------------------------------------------------------------

_TABLES: dict[int, ImpliedProfiles] = {}  # id() of the package -> its table (dropped when the package is)
_LOCK = threading.Lock()
_NONE = ImpliedProfiles({})
_DEFAULT: list[Definitions] = []


def implied_table(definitions: Definitions) -> ImpliedProfiles:
    """The table of ``definitions``' own profiles (``Definitions.own``), built on first use: one per package of
    them, so that lookups derived from one another (``Validator.with_resources``) share it."""
    own = definitions.own
    if own is None:
        return _NONE
    table = _TABLES.get(id(own))
    if table is None:
        with _LOCK:
            table = _TABLES.get(id(own))
            if table is None:
                table = _TABLES[id(own)] = build_table(definitions, own)
                weakref.finalize(own, _TABLES.pop, id(own), None)
    return table


def _definitions(definitions: Definitions | None) -> Definitions:
    if definitions is not None:
        return definitions
    with _LOCK:
        if not _DEFAULT:
            from adapter.config import Settings
            from adapter.validate.registry import load_definitions

            _DEFAULT.append(load_definitions(Settings.from_env()))
    return _DEFAULT[0]


def implied_profiles(resource: dict[str, Any], definitions: Definitions | None = None) -> tuple[str, ...]:
    """The profiles ``resource``'s category, type or code identifies (its contained resources and Bundle entries
    are not looked at). ``definitions``: the validator's (``Validator.definitions``); None: those of
    ``Settings.from_env()``, loaded once."""
    return implied_table(_definitions(definitions)).profiles(resource)


def claim_implied(resource: dict[str, Any], definitions: Definitions | None = None) -> dict[str, Any]:
    """A copy of ``resource`` whose ``meta.profile`` also lists the profiles it is identified as (and so do its
    contained resources and Bundle entries); ``resource`` itself, unchanged, when there is nothing to add."""
    return implied_table(_definitions(definitions)).claim(resource)
