"""Slicing: sort the values of a sliced element into its slices and check each slice.

Discriminators of type ``value`` and ``pattern`` compare the value at the discriminator path with what the slice
fixes there (a fixed or pattern value, a required binding, or for extensions the url of the profile on the type);
``type`` compares the value's type, ``profile`` asks whether the value meets the slice's profile, and ``exists``
whether the path has a value. Paths may use ``ofType(T)``, ``extension('url')`` and ``resolve()``.
Unmatched values in closed slicing, slices out of order in ordered slicing, and slice cardinalities are reported.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from adapter.parse.fhir_model import Node, Profile, TypeRef, pattern_matches, type_of_suffix
from adapter.validate.invariants import Env
from adapter.validate.state import Host, Pass, Walk, count_issues
from adapter.validate.terminology import Terminology, codes_of

Item = tuple[Any, Any, str, TypeRef]
_STEP = re.compile(r"(extension)\('([^']*)'\)|ofType\(([^)]*)\)|resolve\(\)|([A-Za-z_][A-Za-z0-9_]*)(\[x\])?")
_UNKNOWN = object()
_BY_URL: dict[str, Any] = {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}  # extensions
_EXTENSION = TypeRef("Extension")


class Engine(Protocol):
    """What slice matching needs of the walk (:class:`adapter.validate.walker.Engine` is it): a value is in a
    slice when walking it against the slice finds nothing, so the matcher calls back into the walk. A protocol,
    so that this module does not import the walker that builds it."""

    terminology: Terminology

    def maybe_profile(self, url: str) -> Profile | None:
        """The compiled profile at ``url``, None when it cannot be had."""
        ...

    def env_for(self, res: dict[str, Any], walk: Walk, outer: Any) -> Env:
        """The FHIRPath environment of the resource ``res``, reached from ``outer``."""
        ...

    def object(
        self,
        obj: dict[str, Any],
        parent: Node,
        expr: str,
        paths: tuple[str, str],
        fp_path: str,
        step: Pass,
        resource: bool = False,
        owner: str | None = None,
    ) -> None:
        """Check the properties of one JSON object against the children of ``parent``."""
        ...

    def value(
        self,
        value: Any,
        ext: Any,
        node: Node,
        type_ref: TypeRef,
        expr: str,
        paths: tuple[str, str],
        host: Host,
        step: Pass,
    ) -> None:
        """Check one value of an element."""
        ...


class SliceMatcher:
    """Slice matching for one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: (slice, discriminator path) -> the element definition there: the same for every value, found once
        self._elements: dict[tuple[Node, str], Node | None] = {}
        #: a discriminator path -> its steps (is it resolve(), then the groups of _STEP), parsed once
        self._steps: dict[str, tuple[tuple[bool, Any, Any, Any, Any], ...]] = {}
        #: id of a slicing's discriminator list -> (the list, kept so that the id stays its own; its (type, path)s)
        self._kinds: dict[int, tuple[list[dict[str, Any]], list[tuple[Any, str]]]] = {}

    def assign(self, items: list[Item], node: Node, expr: str, step: Pass) -> list[Node | None]:
        """The slice each of ``items`` (values of ``node``) belongs to (None: none), with the slicing rules checked:
        closed slicing, order, and each slice's cardinality."""
        slicing = node.slicing or (_BY_URL if node.name in ("extension", "modifierExtension") else {})
        discriminators = slicing.get("discriminator", [])
        counts = {id(s): 0 for s in node.slices}
        order = [id(s) for s in node.slices]
        last = -1
        unmatched_seen = False
        assigned: list[Node | None] = []
        for value, _, item_expr, type_ref in items:
            match = next((s for s in node.slices if self.matches(value, type_ref, s, discriminators, step)), None)
            assigned.append(match)
            if match is None:
                unmatched_seen = True
                if slicing.get("rules") == "closed" and node.slices:
                    step.walk.add("ADP-4008", "error", item_expr, path=node.id)
                continue
            counts[id(match)] += 1
            position = order.index(id(match))
            out_of_order = slicing.get("ordered") and position < last
            if out_of_order or (slicing.get("rules") == "openAtEnd" and unmatched_seen):
                step.walk.add("ADP-4009", "error", item_expr, path=node.id, slice=match.slice_name)
            last = max(last, position)
        for slice_node in node.slices:
            count_issues(counts[id(slice_node)], slice_node, expr, step.walk)
        return assigned

    def matches(
        self, value: Any, type_ref: TypeRef, slice_node: Node, discriminators: list[dict[str, Any]], step: Pass
    ) -> bool:
        """Does ``value`` belong to ``slice_node``?"""
        if not discriminators:
            return self._conforms(value, type_ref, slice_node, step)
        parsed = self._kinds.get(id(discriminators))
        if parsed is None:
            pairs = [(d.get("type"), _path(d.get("path", "$this"))) for d in discriminators]
            parsed = self._kinds[id(discriminators)] = (discriminators, pairs)
        for kind, path in parsed[1]:
            target = self._element_at(slice_node, path, step)
            actual = self._navigate(value, type_ref, path, step)
            if kind in ("value", "pattern"):
                if not self._value_matches(actual, target, path, slice_node, step):
                    return False
            elif kind == "type":
                source = target or slice_node
                # at a resource (a path ending in resolve()), the type is the resource type the element defines
                wanted = {t.code for t in source.types} or ({source.path} if "." not in source.path else set())
                if not any(_type_of(v, t) in wanted for v, t in actual):
                    return False
            elif kind == "exists":
                if target is None:
                    return False
                if (target.min >= 1) != bool(actual):
                    return False
            elif kind == "profile":
                source = target or slice_node
                profiles = [p for t in source.types for p in (t.profiles or t.targets)]
                if not profiles or not any(self.meets(v, p, step) for v, _ in actual for p in profiles):
                    return False
            else:
                return False
        return True

    def _conforms(self, value: Any, type_ref: TypeRef, slice_node: Node, step: Pass) -> bool:
        """Slicing without discriminators: the value belongs to the first slice it conforms to (a quiet check of
        the value against the slice's definition)."""
        quiet = Walk(index=step.walk.index, meets=step.walk.meets)
        inner = step._replace(walk=quiet, structural=False)
        self.engine.value(value, None, slice_node, slice_node.refine(type_ref), "x", ("x", "x"), Host(("x",)), inner)
        return not any(i.severity in ("error", "fatal") for i in quiet.issues)

    def _value_matches(
        self, actual: list[tuple[Any, TypeRef | None]], target: Node | None, path: str, slice_node: Node, step: Pass
    ) -> bool:
        expectation: Any = _UNKNOWN
        if target is not None and target.max == 0:
            return not actual  # the slice forbids the element: only values without it belong
        if target is not None:
            if target.fixed is not None:
                expectation = ("fixed", target.fixed[1])
            elif target.pattern is not None:
                expectation = ("pattern", target.pattern[1])
            elif target.binding and target.binding[0] == "required":
                expectation = ("binding", target.binding[1])
        if expectation is _UNKNOWN and path.endswith("url"):
            owner = slice_node if path == "url" else target
            profiles = [p for t in (owner.types if owner else ()) for p in t.profiles] if owner else []
            if profiles:
                expectation = ("fixed", profiles[0])
        if expectation is _UNKNOWN:
            return True  # the slice does not constrain this discriminator
        kind, wanted = expectation
        values = [v for v, _ in actual]
        if kind == "fixed":
            return wanted in values
        if kind == "pattern":
            return any(pattern_matches(wanted, v) for v in values)
        expansion = self.engine.terminology.expand(wanted)
        return any(expansion.contains(s, c) for v in values for s, c in codes_of(v))

    def _element_at(self, slice_node: Node, path: str, step: Pass) -> Node | None:
        """The element definition at ``path`` below the slice (in the profile or the type's profile)."""
        key = (slice_node, path)
        if key not in self._elements:
            self._elements[key] = self._find_element(slice_node, path, step)
        return self._elements[key]

    def _find_element(self, slice_node: Node, path: str, step: Pass) -> Node | None:
        if path == "$this":
            return slice_node
        node: Node | None = slice_node
        for match in _STEP.finditer(path):
            if node is None:
                return None
            ext_name, ext_url, of_type, name, _ = match.groups()
            if match.group(0) == "resolve()":
                profiles = [p for t in node.types for p in t.targets]
                node = self._root_of(profiles[0], step) if profiles else None
            elif of_type:
                continue
            elif ext_name:
                node = self._extension_slice(node, ext_url, step)
            else:
                node = self._child(node, name, step)
        return node

    def _child(self, node: Node, name: str, step: Pass) -> Node | None:
        children = node.children
        if not children and node.types:
            type_ref = node.types[0]
            url = (
                type_ref.profiles[0]
                if type_ref.profiles
                else "http://hl7.org/fhir/StructureDefinition/" + type_ref.code
            )
            root = self._root_of(url, step)
            children = root.children if root else []
        return next((c for c in children if c.name == name), None)

    def _extension_slice(self, node: Node, url: str, step: Pass) -> Node | None:
        extension = self._child(node, "extension", step)
        if extension is None:
            return None
        for candidate in extension.slices:
            if any(url in t.profiles for t in candidate.types):
                return candidate
        return self._root_of(url, step)

    def _root_of(self, url: str, step: Pass) -> Node | None:
        profile = self.engine.maybe_profile(url)
        return profile.root if profile else None

    def _navigate(self, value: Any, type_ref: TypeRef, path: str, step: Pass) -> list[tuple[Any, TypeRef | None]]:
        current: list[tuple[Any, TypeRef | None]] = [(value, type_ref)]
        if path == "$this":
            return current
        steps = self._steps.get(path)
        if steps is None:
            steps = self._steps[path] = tuple(
                (m.group(0) == "resolve()", m.group(1), m.group(2), m.group(3), m.group(4))
                for m in _STEP.finditer(path)
            )
        for resolves, ext_name, ext_url, of_type, name in steps:
            following: list[tuple[Any, TypeRef | None]] = []
            for item, item_type in current:
                if resolves:
                    target = step.env.resolve(item)
                    if target is not None:
                        following.append((target, None))
                elif of_type:
                    if _type_of(item, item_type) == of_type:
                        following.append((item, item_type))
                elif ext_name:
                    for extension in _listed(item.get("extension") if isinstance(item, dict) else None):
                        if isinstance(extension, dict) and extension.get("url") == ext_url:
                            following.append((extension, _EXTENSION))
                elif isinstance(item, dict):
                    if name in item:
                        following.extend((v, None) for v in _listed(item[name]))
                    else:
                        for key, child in item.items():
                            if key.startswith(name) and key[len(name) : len(name) + 1].isupper():
                                following.extend((v, TypeRef(type_of_suffix(key[len(name) :]))) for v in _listed(child))
            current = following
        return current

    def meets(self, value: Any, url: str, step: Pass) -> bool:
        """Does ``value`` meet the profile at ``url``? (A quiet sub-validation.)"""
        profile = self.engine.maybe_profile(url)
        if profile is None or not isinstance(value, dict):
            return False
        quiet = Walk(index=step.walk.index, meets=step.walk.meets)
        inner = step._replace(walk=quiet, profile=profile, structural=False)
        if "resourceType" in value:
            if value.get("resourceType") != profile.type:
                return False
            # the resource's own references resolve from it (or from the resource that contains it)
            inner = inner._replace(env=self.engine.env_for(value, quiet, step.env.root))
            self.engine.object(
                value, profile.root, "x", (profile.type, profile.type), profile.type, inner, resource=True
            )
        else:
            self.engine.object(value, profile.root, "x", (profile.type, profile.type), profile.type, inner)
        return not any(i.severity in ("error", "fatal") for i in quiet.issues)


def _path(path: Any) -> str:
    """A discriminator path without a leading ``$this.`` (``$this.name`` is ``name``)."""
    text = str(path)
    return text[len("$this.") :] if text.startswith("$this.") else text


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _type_of(value: Any, type_ref: TypeRef | None) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
        return str(value["resourceType"])
    return type_ref.code if type_ref else None
