"""Profile rules over a snapshot: cardinality, fixed and pattern values, slicing and required bindings.

The walker visits a JSON resource together with the snapshot of each profile it claims (and the core definition of
its type). At each element it counts the values, checks fixed/pattern values and required bindings, sorts the
values of a sliced element into its slices by their discriminators (``value``/``pattern``; ``$this`` or a dotted
path) and checks each slice's cardinality, then descends: into the children the snapshot lists, or, where the
snapshot stops, into the definition of the value's type (or the profile named on the type). Contained resources
and Bundle entries are validated as resources in their own right.

Every issue carries a FHIRPath expression with indices, e.g. ``CarePlan.activity[1].detail.code``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.validate.packages import Definitions, Resource
from adapter.validate.terminology import Terminology

Element = dict[str, Any]
CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
_CODED = ("code", "Coding", "CodeableConcept")


@dataclass
class SnapshotIndex:
    """A snapshot arranged for walking: elements by id, direct children and slices of each element."""

    url: str
    root_id: str
    by_id: dict[str, Element] = field(default_factory=dict)
    children: dict[str, list[Element]] = field(default_factory=dict)
    slices: dict[str, list[Element]] = field(default_factory=dict)

    @classmethod
    def of(cls, sd: Resource) -> SnapshotIndex:
        """Index the snapshot of ``sd``."""
        elements = sd["snapshot"]["element"]
        index = cls(sd["url"], elements[0]["id"])
        for element in elements:
            index.by_id[element["id"]] = element
        for element in elements[1:]:
            parent, _, last = element["id"].rpartition(".")
            name, _, slice_name = last.partition(":")
            if slice_name:
                index.slices.setdefault(f"{parent}.{name}", []).append(element)
            else:
                index.children.setdefault(parent, []).append(element)
        return index


class RuleChecker:
    """Checks resources against profile snapshots; one per set of definitions, reused across resources."""

    def __init__(self, defs: Definitions, terminology: Terminology | None = None) -> None:
        self.defs = defs
        self.terminology = terminology or Terminology(defs)
        self._indexes: dict[str, SnapshotIndex] = {}

    def index(self, url: str) -> SnapshotIndex:
        """The walking index of the profile or type at ``url`` (built once)."""
        url = url.split("|", 1)[0]
        found = self._indexes.get(url)
        if found is None:
            found = SnapshotIndex.of(self.defs.snapshot(url))
            self._indexes[url] = found
        return found

    def check_resource(
        self, resource: Resource, expr: str | None = None, extra_profiles: tuple[str, ...] = ()
    ) -> list[Issue]:
        """All rule issues for ``resource`` against its core type, its ``meta.profile`` and ``extra_profiles``."""
        issues: list[Issue] = []
        rtype = resource.get("resourceType")
        if not isinstance(rtype, str):
            return issues
        expr = expr or rtype
        claimed = [p for p in resource.get("meta", {}).get("profile", []) if isinstance(p, str)]
        for url in [CORE_PREFIX + rtype, *claimed, *extra_profiles]:
            index = self._index_or_report(url, f"{expr}.meta.profile", issues)
            if index is not None:
                self._check_children(resource, index, index.root_id, expr, issues)
        return issues

    def _index_or_report(self, url: str, expr: str, issues: list[Issue]) -> SnapshotIndex | None:
        """The index for ``url``; when there is none, an issue saying why (unknown, or its snapshot cannot be made)."""
        try:
            return self.index(url)
        except AdapterError as error:
            if self.defs.get(url) is None:
                issues.append(Issue("ADP-4006", "error", expr, args={"profile": url}))
            else:
                issues.extend(replace(i, severity="error", expression=expr) for i in error.issues)
            return None

    def _check_children(
        self, obj: dict[str, Any], index: SnapshotIndex, elem_id: str, expr: str, issues: list[Issue]
    ) -> None:
        for child in index.children.get(elem_id, []):
            name = child["path"].rsplit(".", 1)[1]
            values = _values_of(obj, name)
            _check_count(len(values), child, child["id"], f"{expr}.{name.removesuffix('[x]')}", issues)
            many = child.get("max", "1") != "1" or child.get("base", {}).get("max", "1") != "1"
            items = []
            for position, (json_name, value) in enumerate(values):
                item_expr = f"{expr}.{json_name}[{position}]" if many else f"{expr}.{json_name}"
                type_code = _choice_type(child, json_name)
                items.append((value, item_expr, type_code))
                self._check_value(value, child, index, item_expr, type_code, issues)
            sliced = index.slices.get(child["id"])
            if sliced:
                self._check_slices(items, child, sliced, index, f"{expr}.{name.removesuffix('[x]')}", issues)

    def _check_slices(
        self,
        items: list[tuple[Any, str, str | None]],
        base: Element,
        slices: list[Element],
        index: SnapshotIndex,
        expr: str,
        issues: list[Issue],
    ) -> None:
        slicing = base.get("slicing", {})
        discriminators = slicing.get("discriminator", [])
        counts = {s["id"]: 0 for s in slices}
        for value, item_expr, type_code in items:
            match = next((s for s in slices if self._in_slice(value, s, discriminators, index)), None)
            if match is None:
                if slicing.get("rules") == "closed":
                    issues.append(Issue("ADP-4008", "error", item_expr, args={"path": base["id"]}))
                continue
            counts[match["id"]] += 1
            self._check_value(value, match, index, item_expr, type_code, issues)
        for slice_element in slices:
            _check_count(counts[slice_element["id"]], slice_element, slice_element["id"], expr, issues)

    def _in_slice(
        self, value: Any, slice_element: Element, discriminators: list[Element], index: SnapshotIndex
    ) -> bool:
        if not discriminators:
            return False
        for discriminator in discriminators:
            if discriminator.get("type") not in ("value", "pattern"):
                return False
            path = discriminator.get("path", "$this")
            expected = _expectation(slice_element, path, index)
            if expected is None:
                return False
            kind, wanted = expected
            actual = _navigate(value, path)
            if kind == "fixed" and wanted not in actual:
                return False
            if kind == "pattern" and not any(_pattern_matches(wanted, a) for a in actual):
                return False
            if kind == "binding" and not any(self._in_valueset(a, wanted) for a in actual):
                return False
        return True

    def _in_valueset(self, value: Any, valueset: str) -> bool:
        """Does a code, Coding or CodeableConcept carry a code of ``valueset``?"""
        expansion = self.terminology.expand(valueset)
        return any(expansion.contains(system, code) for system, code in _codes_of(value))

    def _check_value(
        self,
        value: Any,
        element: Element,
        index: SnapshotIndex,
        expr: str,
        type_code: str | None,
        issues: list[Issue],
    ) -> None:
        for key, wanted in element.items():
            broken_fixed = key.startswith("fixed") and value != wanted
            broken_pattern = key.startswith("pattern") and not _pattern_matches(wanted, value)
            if broken_fixed or broken_pattern:
                issues.append(Issue("ADP-4003", "error", expr, args=_value_args(element, wanted, index)))
        types = element.get("type", [])
        type_code = type_code or (types[0]["code"] if len(types) == 1 else None)
        binding = element.get("binding", {})
        if binding.get("strength") == "required" and binding.get("valueSet") and type_code in _CODED:
            self._check_binding(value, type_code, binding["valueSet"], element["id"], expr, issues)
        if not isinstance(value, dict):
            return
        if "resourceType" in value:
            issues.extend(self.check_resource(value, expr))
            return
        target = element.get("contentReference", "").lstrip("#") or element["id"]
        if target.startswith("http"):
            target = target.split("#", 1)[1]
        if index.children.get(target):
            self._check_children(value, index, target, expr, issues)
            return
        profiles: list[str] = next((t.get("profile", []) for t in types if t.get("code") == type_code), [])
        if type_code and type_code[0].isupper() and type_code not in ("Element", "BackboneElement"):
            type_index = self._index_or_report(profiles[0] if profiles else CORE_PREFIX + type_code, expr, issues)
            if type_index is not None:
                self._check_children(value, type_index, type_index.root_id, expr, issues)

    def _check_binding(
        self, value: Any, type_code: str, valueset: str, label: str, expr: str, issues: list[Issue]
    ) -> None:
        pairs = _codes_of(value)
        if not pairs:
            if type_code == "CodeableConcept" and isinstance(value, dict) and value.get("text"):
                # text alone cannot meet a required binding
                args = {"path": label, "code": repr(value["text"]), "valueset": valueset}
                issues.append(Issue("ADP-4004", "error", expr, args=args))
            return  # otherwise a missing code is a cardinality matter, reported where the element requires it
        expansion = self.terminology.expand(valueset)
        if any(expansion.contains(s, c) for s, c in pairs):
            return
        systems = {s for s, _ in pairs}
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        if not expansion.complete and (systems & expansion.missing or None in systems or valueset in expansion.missing):
            issues.append(
                Issue(
                    "ADP-4005",
                    "warning",
                    expr,
                    args={"path": label, "system": ", ".join(sorted(expansion.missing))},
                )
            )
            return
        issues.append(Issue("ADP-4004", "error", expr, args={"path": label, "code": shown, "valueset": valueset}))


def _codes_of(value: Any) -> list[tuple[str | None, str]]:
    """(system, code) pairs of a code (system None), a Coding or a CodeableConcept."""
    if isinstance(value, str):
        return [(None, value)]
    if not isinstance(value, dict):
        return []
    # A Coding without a system gets "" and so never matches a real system; only a bare code matches any system.
    codings = value.get("coding", []) if "coding" in value else [value]
    return [(c.get("system", ""), c["code"]) for c in codings if isinstance(c, dict) and isinstance(c.get("code"), str)]


def _check_count(count: int, element: Element, label: str, expr: str, issues: list[Issue]) -> None:
    minimum = int(element.get("min", 0))
    maximum = element.get("max", "*")
    if count < minimum:
        issues.append(Issue("ADP-4001", "error", expr, args={"path": label, "min": minimum, "count": count}))
    if maximum != "*" and count > int(maximum):
        issues.append(Issue("ADP-4002", "error", expr, args={"path": label, "max": maximum, "count": count}))


def _values_of(obj: dict[str, Any], name: str) -> list[tuple[str, Any]]:
    """(JSON name, value) pairs of one element; a choice ``value[x]`` matches ``valueString``, ``valueCoding``..."""
    if name.endswith("[x]"):
        stem = name[:-3]
        keys = [k for k in obj if k.startswith(stem) and k[len(stem) : len(stem) + 1].isupper()]
    else:
        keys = [name] if name in obj else []
    found: list[tuple[str, Any]] = []
    for key in keys:
        value = obj[key]
        found.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    return found


def _choice_type(element: Element, json_name: str) -> str | None:
    """The type a choice value carries (``valueQuantity`` -> ``Quantity``, ``valueString`` -> ``string``), read
    from the element's own type list; None for elements that are not choices."""
    name = element["path"].rsplit(".", 1)[1]
    if not name.endswith("[x]"):
        return None
    suffix = json_name[len(name) - 3 :]
    return next((t["code"] for t in element.get("type", []) if t["code"][:1].upper() + t["code"][1:] == suffix), suffix)


def _expectation(slice_element: Element, path: str, index: SnapshotIndex) -> tuple[str, Any] | None:
    """What a slice requires at a discriminator path: ("fixed" | "pattern", value) or ("binding", ValueSet url)
    (the FHIR rules let a required binding tell value and pattern slices apart), or None when unknown."""
    target = slice_element if path == "$this" else index.by_id.get(f"{slice_element['id']}.{path}")
    if target is not None:
        for key, value in target.items():
            if key.startswith("fixed"):
                return "fixed", value
            if key.startswith("pattern"):
                return "pattern", value
        binding = target.get("binding", {})
        if binding.get("strength") == "required" and binding.get("valueSet"):
            return "binding", binding["valueSet"]
    if path == "url":
        profiles = [p for t in slice_element.get("type", []) for p in t.get("profile", [])]
        if profiles:
            return "fixed", profiles[0]
    return None


def _navigate(value: Any, path: str) -> list[Any]:
    """Values at a simple dotted path (lists are flattened); ``$this`` is the value itself."""
    current = [value]
    if path == "$this":
        return current
    for part in path.split("."):
        following: list[Any] = []
        for item in current:
            if isinstance(item, dict) and part in item:
                child = item[part]
                following.extend(child if isinstance(child, list) else [child])
        current = following
    return current


def _pattern_matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern is present in the value (lists: each pattern item
    matches some value item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and _pattern_matches(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        candidates = value if isinstance(value, list) else [value]
        return all(any(_pattern_matches(p, c) for c in candidates) for p in pattern)
    return bool(pattern == value)


def _value_args(element: Element, wanted: Any, index: SnapshotIndex) -> dict[str, Any]:
    return {"path": element["id"], "expected": json.dumps(wanted, ensure_ascii=False), "profile": index.url}
