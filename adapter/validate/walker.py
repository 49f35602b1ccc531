"""The profile walk: one pass over a JSON resource per profile it must meet, checking everything on the way.

The first pass (against the first profile, or the core type) also checks structure: unknown properties, JSON
types, primitive formats, arrays where the element repeats. Every pass checks cardinality, fixed and pattern
values, bindings, invariants, slicing, extensions, references and Norwegian identifiers. Where a snapshot stops,
the walk continues in the definition of the value's type (or the profile named on the type); resources inside
resources (``contained``, ``Bundle.entry.resource``) are walked as resources in their own right.

Expressions follow the FHIRPath conventions of the HL7 reference validator: ``CarePlan.activity[1].detail.code``,
``Observation.value.ofType(Quantity)``; issues about a missing or surplus element point at its parent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_model import CORE_PREFIX, Node, Profile, TypeRef
from adapter.validate.authoring import check_structure_definition
from adapter.validate.bundle import check_bundle
from adapter.validate.extensions import ExtensionRules
from adapter.validate.implied import implied_table
from adapter.validate.invariants import Env, Invariants
from adapter.validate.limits import spend
from adapter.validate.measure import check_report
from adapter.validate.packages import Definitions
from adapter.validate.plan import ElementPlan
from adapter.validate.primitives import Primitives
from adapter.validate.questionnaire import check_questionnaire, check_response
from adapter.validate.references import ReferenceRules
from adapter.validate.resolution import Index
from adapter.validate.slicing import SliceMatcher
from adapter.validate.state import DEFAULT_POLICY, Host, Pass, Policy, Walk, count_issues
from adapter.validate.terminology import Terminology
from adapter.validate.values import ValueRules, check_attachment
from adapter.validate.walker_base import ANY_RESOURCE

Paths = tuple[str, str]  # an element's path from its resource, and from the datatype it is part of
_CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "Age", "Duration", "Distance", "Count"})


class Engine(ValueRules, ReferenceRules, ExtensionRules):
    """Validates JSON resources against compiled profiles; build once, reuse (caches live here).

    The checks live in mixins by what they look at (:mod:`adapter.validate.values`, :mod:`.references`,
    :mod:`.extensions`); the walk itself, which decides what to check where, is here."""

    def __init__(
        self, defs: Definitions, terminology: Terminology | None = None, policy: Policy = DEFAULT_POLICY
    ) -> None:
        self.defs = defs
        self.policy = policy
        self.terminology = terminology or Terminology(defs)
        self.primitives = Primitives(defs)
        self.invariants = Invariants()
        self.slices = SliceMatcher(self)
        self._wanted: dict[tuple[tuple[str, ...], str], list[str]] = {}  # target profiles per type, see ReferenceRules
        #: the profiles a resource's category, type or code implies (see adapter.validate.implied); the table is
        #: read on the first resource walked
        self.implied: Callable[[Any], tuple[str, ...]] = self._first_implied
        #: constraint keys not evaluated under this policy (the rules about contained resources, when those are not
        #: validated)
        self._skipped = frozenset() if policy.validate_contained else frozenset({"dom-2", "dom-3", "dom-4", "dom-5"})
        self._plans = {}
        self._unseen = {}
        self._targets = {}

    # -- definitions -----------------------------------------------------------------------------------------------

    def _first_implied(self, resource: Any) -> tuple[str, ...]:
        self.implied = implied_table(self.defs).profiles
        return self.implied(resource)

    # -- entry point -----------------------------------------------------------------------------------------------

    def validate(self, resource: Any, profiles: tuple[str, ...] = ()) -> list[Issue]:
        """Every issue of ``resource`` against its type, its ``meta.profile`` claims and ``profiles``."""
        walk = Walk()
        if not isinstance(resource, dict):
            walk.add("ADP-1002", "fatal", None, path="(root)", detail="a resource must be a JSON object")
            return walk.issues
        if resource.get("resourceType") == "Bundle":
            walk.index = Index.of_bundle(resource)
            if self.policy.bundle_profiles:
                walk.entry_profiles = _entry_profiles(resource, self.policy.bundle_profiles)
        elif resource.get("resourceType") == "Parameters":  # its resources may refer to each other, as in a Bundle
            walk.index = Index.of_parameters(resource)
        self.resource(resource, str(resource.get("resourceType", "")), walk, resource, profiles, top=True)
        if walk.index is not None and walk.index.kind == "document":
            self._orphans(resource, walk)
        return walk.issues

    def resource(
        self, res: dict[str, Any], expr: str, walk: Walk, root: Any, extra: tuple[str, ...] = (), top: bool = False
    ) -> None:
        """Walk one resource against its profiles (``root`` is ``%rootResource`` for it)."""
        rtype = res.get("resourceType")
        core = self.maybe_profile(CORE_PREFIX + rtype) if isinstance(rtype, str) else None
        if core is None or core.kind != "resource":
            detail = (
                "resourceType is missing"
                if rtype is None
                else f"unknown resource type {rtype!r}"
                if isinstance(rtype, str)
                else "resourceType must be a JSON string"
            )
            walk.add("ADP-1002", "fatal" if top else "error", None if top else expr, path="resourceType", detail=detail)
            return
        expr = expr or str(rtype)
        chosen: list[Profile] = []
        claimed = res.get("meta", {}).get("profile", []) if isinstance(res.get("meta"), dict) else []
        if not isinstance(claimed, list):  # not an array: a type error the structure check reports
            claimed = []
        # asked for, global, by the bundle rules, and implied by its category/type/code whether claimed or not
        extra = (
            *extra,
            *self.defs.global_profiles(str(rtype)),
            *walk.entry_profiles.get(id(res), ()),
            *self.implied(res),
        )
        for url in dict.fromkeys([*(u for u in claimed if isinstance(u, str)), *extra]):
            strict = url in extra or url.startswith(self.defs.held_canonicals)
            profile = self._claimed(url, strict, f"{expr}.meta.profile", walk)
            if profile is not None and profile.type != rtype:
                walk.add("ADP-4007", "error", expr, profile=url, type=profile.type, actual=rtype)
            elif profile is not None and profile not in chosen:
                chosen.append(profile)
        env = Env(res, root, partial(self._resolve, walk, root), self._member_of)
        walk.element_ids[id(res)] = (expr, set())
        if rtype == "Bundle":
            check_bundle(res, expr, walk, self._is_resource_type)
        elif rtype == "QuestionnaireResponse":
            evaluate = partial(self.invariants.select, value=res, fp_path="QuestionnaireResponse", env=env)
            check_response(res, expr, walk, self.defs.get, lambda expression: evaluate(expression))
        elif rtype == "Questionnaire":
            check_questionnaire(res, expr, walk)
        elif rtype == "MeasureReport":
            check_report(res, expr, walk, self.defs.get)
        elif rtype == "StructureDefinition":
            check_structure_definition(res, expr, walk, self.defs)
        for position, profile in enumerate(chosen or [core]):
            step = Pass(walk, profile, env, structural=position == 0)
            self._constraints(res, profile.root, expr, str(rtype), step)
            self.object(res, profile.root, expr, (str(rtype), str(rtype)), str(rtype), step, resource=True)
        if root is res and id(res) in walk.narrative_links:
            self._internal_links(res, walk)

    def _internal_links(self, res: dict[str, Any], walk: Walk) -> None:
        """A link inside a resource's narratives (``href="#x"``) must reach an anchor in them (an ``id`` or an
        ``<a name>``) or one of its contained resources."""
        links, anchors = walk.narrative_links.pop(id(res))
        contained = res.get("contained")
        if isinstance(contained, list):
            anchors = anchors | {c["id"] for c in contained if isinstance(c, dict) and isinstance(c.get("id"), str)}
        for expr, link in links:
            if link not in anchors:
                walk.add("ADP-4068", "error", expr, link=link)

    def env_for(self, res: dict[str, Any], walk: Walk, outer: Any) -> Env:
        """The FHIRPath environment of the resource ``res``; ``outer`` is the root it was reached from, which stays
        the root when ``res`` is one of its contained resources."""
        contained = outer.get("contained") if isinstance(outer, dict) else None
        inside = isinstance(contained, list) and any(c is res for c in contained)
        root = outer if inside else res
        return Env(res, root, partial(self._resolve, walk, root), self._member_of)

    def _claimed(self, url: str, strict: bool, expr: str, walk: Walk) -> Profile | None:
        """The profile for a claim. An unknown profile is an error when it was asked for or lies in a namespace
        whose profiles we hold (then it is a typo or a retired profile), else a warning: not checked."""
        try:
            return self.profile(url)
        except AdapterError as error:
            if self.defs.get(url) is None:
                walk.add("ADP-4006", "error" if strict else "warning", expr, profile=url)
            else:
                walk.issues.extend(replace(i, severity="error", expression=expr) for i in error.issues)
            return None

    # -- objects and values ----------------------------------------------------------------------------------------

    def object(
        self,
        obj: dict[str, Any],
        parent: Node,
        expr: str,
        paths: Paths,
        fp_path: str,
        step: Pass,
        resource: bool = False,
        owner: str | None = None,
    ) -> None:
        """Check the properties of one JSON object against the children of ``parent`` (``owner``: the url of the
        extension whose value this object is, for extension contexts)."""
        spend()  # the request's time budget (adapter.validate.limits): raises ADP-5103 once it is spent
        plan = self._plans.get(id(parent)) or self.plan(parent)
        structural, walk = step.structural, step.walk
        buckets = self._buckets(obj, plan, expr, step, resource)
        if structural and not resource and isinstance(obj.get("id"), str) and fp_path != "ElementDefinition":
            self._element_id(obj["id"], step)
        url = obj.get("url") if fp_path == "Extension" else owner
        host_type = parent.types[0].code if parent.types else fp_path
        host = Host((*paths, fp_path, parent.path, host_type), resource, url if isinstance(url, str) else None, obj)
        # the children present, and those whose absence is an issue, in the snapshot's order
        visit = sorted(buckets.keys() | plan.required) if plan.required or len(buckets) > 1 else buckets
        children = plan.children
        for position in visit:
            child = children[position]
            found = buckets.get(position)
            items = self._items(obj, child, found, expr, step) if found else []
            if len(items) < child.min or (child.max is not None and len(items) > child.max):
                count_issues(len(items), child, expr, walk)
            if not items:
                for required in child.slices:  # a required slice of an absent element is missing too
                    if required.min:
                        count_issues(0, required, expr, walk)
                continue
            child_paths = (f"{paths[0]}.{child.name}", f"{paths[1]}.{child.name}")
            # a value that belongs to a slice is checked against the slice alone: a slice refines its element
            if not (child.slices or child.slicing):
                for value, ext, item_expr, type_ref in items:
                    self.value(value, ext, child, type_ref, item_expr, child_paths, host, step)
                continue
            assigned = self.slices.assign(items, child, expr, step)
            for (value, ext, item_expr, type_ref), slice_node in zip(items, assigned, strict=True):
                if slice_node is None:
                    self.value(value, ext, child, type_ref, item_expr, child_paths, host, step)
                else:
                    self.value(value, ext, slice_node, slice_node.refine(type_ref), item_expr, child_paths, host, step)

    def _buckets(
        self, obj: dict[str, Any], plan: ElementPlan, expr: str, step: Pass, resource: bool
    ) -> dict[int, dict[str, TypeRef]]:
        """The keys of ``obj`` by the position of the child they belong to (a choice may have several), each
        without its ``_`` and with its type; unknown keys and nulls are reported on the structural pass."""
        keys, structural = plan.keys, step.structural
        buckets: dict[int, dict[str, TypeRef]] = {}
        for key, value in obj.items():
            entry = keys.get(key)
            if entry is None:
                if structural and not (resource and key == "resourceType"):
                    self._unknown(obj, key, plan.node, expr, step)
                continue
            base = entry[3]
            if structural and value is None and key == base:
                step.walk.add("ADP-1002", "error", expr, path=f"{expr}.{key}", detail="null is not allowed")
                continue
            found = buckets.get(entry[2])
            if found is None:
                buckets[entry[2]] = {base: entry[1]}
            else:
                found[base] = entry[1]
        return buckets

    def _element_id(self, element_id: str, step: Pass) -> None:
        """Element ids are unique within their resource (R4 Element.id); a repeat is reported at the resource."""
        found = step.walk.element_ids.get(id(step.env.resource))
        if found is None:
            return
        where, seen = found
        if element_id in seen:
            step.walk.add("ADP-4022", "error", where, id=element_id)
        seen.add(element_id)

    def _unknown(self, obj: dict[str, Any], key: str, parent: Node, expr: str, step: Pass) -> None:
        base = key[1:] if key.startswith("_") else key
        for child in parent.children:
            if child.choice and base.startswith(child.name) and base[len(child.name) : len(child.name) + 1].isupper():
                allowed = ", ".join(t.code for t in child.types)
                step.walk.add("ADP-1008", "error", expr, path=f"{expr}.{key}", allowed=allowed)
                return
        step.walk.add("ADP-1003", "error", expr, path=f"{expr}.{key}")

    def _items(
        self, obj: dict[str, Any], child: Node, found: dict[str, TypeRef], expr: str, step: Pass
    ) -> list[tuple[Any, Any, str, TypeRef]]:
        """(value, primitive extension object, expression, type) for each value of ``child`` in ``obj``."""
        items = []
        for key, type_ref in found.items():
            shown = f"{expr}.{child.name}.ofType({type_ref.code})" if child.choice else f"{expr}.{child.name}"
            value = obj.get(key)
            ext = obj.get("_" + key) if type_ref.primitive else None
            if not child.repeats:
                if isinstance(value, list) or isinstance(ext, list):
                    if step.structural:
                        step.walk.add(
                            "ADP-1002", "error", shown, path=shown, detail="must be a single value, not an array"
                        )
                    continue
                items.append((value, ext, shown, type_ref))
                continue
            values = _as_list(value, shown, step)
            exts = _as_list(ext, shown, step)
            if step.structural and not values and not exts and (key in obj or "_" + key in obj):
                step.walk.add("ADP-1002", "error", shown, path=shown, detail="an array must not be empty")
            for position in range(max(len(values), len(exts))):
                one = values[position] if position < len(values) else None
                one_ext = exts[position] if position < len(exts) else None
                item_expr = f"{shown}[{position}]"
                if one is None and one_ext is None:
                    if step.structural:
                        step.walk.add("ADP-1002", "error", item_expr, path=item_expr, detail="null is not allowed")
                    continue
                items.append((one, one_ext, item_expr, type_ref))
        return items

    def value(
        self,
        value: Any,
        ext: Any,
        node: Node,
        type_ref: TypeRef,
        expr: str,
        paths: Paths,
        host: Host,
        step: Pass,
    ) -> None:
        """Check one value of an element (``ext`` is the ``_name`` object of a primitive)."""
        code = type_ref.code
        walk = step.walk
        if type_ref.primitive:
            self._primitive_value(value, ext, node, code, expr, paths, host, step)
            return
        if not isinstance(value, dict):
            if step.structural:
                walk.add("ADP-1002", "error", expr, path=expr, detail=f"a {code} must be a JSON object")
            return
        self._datatype_rules(value, node, type_ref, expr, step)
        if "resourceType" in value or code in ANY_RESOURCE:
            is_contained = node.name == "contained"
            if is_contained and not self.policy.validate_contained:
                return
            profiles = self._inline_profiles(value, node, expr, step)
            self.resource(value, expr, walk, step.env.root if is_contained else value, profiles)
            return
        self._constraints(value, node, expr, node.path if node.children else code, step)
        if code not in ("BackboneElement", "Element"):
            paths = (paths[0], code)  # children of a datatype also have paths within it (Address.line)
        if node.children and len(node.types) <= 1:  # a choice's children are only those all its types share
            self.object(value, node, expr, paths, node.path, step)
            # the snapshot holds the type's profile merged into these children; one we do not know is reported
            for url in type_ref.profiles if code != "Extension" else ():
                if self.maybe_profile(url) is None:
                    step.walk.add("ADP-4006", "error", expr, profile=url)
            return
        if node.content_reference:
            target = step.profile.by_id.get(node.content_reference)
            if target is not None:
                self.object(value, target, expr, paths, target.path, step)
            return
        self._typed(value, node, type_ref, expr, paths, host, step)

    def _datatype_rules(self, value: dict[str, Any], node: Node, type_ref: TypeRef, expr: str, step: Pass) -> None:
        """The rules on a complex value itself, before the walk descends into it: fixed and pattern values, limits,
        bindings, narrative controls, and what its type (Coding, Identifier, Attachment, Reference) asks for."""
        code, walk = type_ref.code, step.walk
        if node.fixed is not None or node.pattern is not None:
            self._fixed_and_pattern(value, node, expr, step)
        if node.limits is not None:
            self._limits(value, node.limits, code, expr, step)
        if node.binding and code in _CODED:
            self._binding(value, node, code, expr, step)
        if node.additional_bindings and code in _CODED:
            self._additional_bindings(value, node, expr, step)
        if node.narrative_control is not None and isinstance(value.get("div"), str):
            self._narrative(value["div"], node.narrative_control, node, expr, step)
        if code == "Coding" and isinstance(value.get("display"), str) and step.structural:
            self._display(value, expr, walk)
        if code == "Identifier":
            self._identifier(value, expr, walk)
        elif code == "Attachment" and step.structural:
            check_attachment(value, expr, walk)
        elif code == "Reference":
            self._reference(value, type_ref, expr, step)

    def _primitive_value(
        self, value: Any, ext: Any, node: Node, code: str, expr: str, paths: Paths, host: Host, step: Pass
    ) -> None:
        """Check one primitive value and its ``_name`` object (its id and extensions, walked as an Element)."""
        walk = step.walk
        self._primitive(value, node, code, expr, step)
        if value is None and (node.must_have_value or node.value_alternatives):
            self._missing_value(ext, node, expr, step)
        if ext is not None:
            if not isinstance(ext, dict):
                if step.structural:
                    walk.add("ADP-1002", "error", expr, path=expr, detail="the _ object must be a JSON object")
            else:
                part = ext
                if "value" in ext:  # the value itself is not part of the _ object (only its id and extensions)
                    if step.structural:
                        walk.add("ADP-1003", "error", expr, path=f"{expr}.value")
                    part = {k: v for k, v in ext.items() if k != "value"}
                element = self.profile(CORE_PREFIX + code).root
                self.object(part, element, expr, paths, node.path, step, owner=_owner(node, host))
        self._constraints(value if value is not None else (ext or {}), node, expr, code, step)

    def _inline_profiles(self, value: dict[str, Any], node: Node, expr: str, step: Pass) -> tuple[str, ...]:
        """The profile a resource inside a resource must meet (``Bundle.entry.resource``, a parameter's resource):
        its type must be one the element allows, and when the element names several profiles for it, meeting one
        of them is enough (the first it meets is used; when it meets none, the first is used for the report)."""
        rtype = value.get("resourceType")
        allowed = [t for t in node.types if t.code == rtype or t.code in ANY_RESOURCE]
        if not allowed:
            if node.types and isinstance(rtype, str):
                shown = ", ".join(t.code for t in node.types)
                step.walk.add("ADP-4049", "error", expr, type=rtype, allowed=shown)
            return ()
        profiles = [p for t in allowed for p in t.profiles]
        if len(profiles) <= 1:
            return tuple(profiles)
        fitting = [p for p in profiles if (found := self.maybe_profile(p)) is not None and found.type == rtype]
        if not fitting:
            return (profiles[0],)
        return (next((p for p in fitting if self.slices.meets(value, p, step)), fitting[0]),)

    def _typed(
        self,
        value: dict[str, Any],
        node: Node,
        type_ref: TypeRef,
        expr: str,
        paths: Paths,
        host: Host,
        step: Pass,
    ) -> None:
        """Continue in the definition of the value's type, or the profile on the type, or the extension's own."""
        code = type_ref.code
        url = type_ref.profiles[0] if type_ref.profiles else CORE_PREFIX + code
        if len(type_ref.profiles) > 1 and code != "Extension":  # the value must meet one of them
            url = next((p for p in type_ref.profiles if self.slices.meets(value, p, step)), "")
            if not url:
                step.walk.add("ADP-4037", "error", expr, profiles=", ".join(type_ref.profiles))
                url = type_ref.profiles[0]
        if code == "Extension" and not type_ref.profiles and isinstance(value.get("url"), str):
            if ":" in value["url"]:
                url = self._extension_definition(value["url"], value, node, expr, host, step) or url
            else:
                self._relative_extension(value["url"], node, expr, host, step)
        try:
            profile = self.profile(url)
        except AdapterError:
            step.walk.add("ADP-4006", "error", expr, profile=url)
            return
        inner = Pass(step.walk, profile, step.env, step.structural)
        root = profile.root
        if root.fixed is not None or root.pattern is not None:
            self._fixed_and_pattern(value, root, expr, inner)
        if root.constraints and (left := self.unseen(node, root)):  # the element's own were evaluated in value()
            self._constraints(value, root, expr, code, inner, left)
        self.object(value, profile.root, expr, paths, code, inner, owner=_owner(node, host))


def _as_list(value: Any, expr: str, step: Pass) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if step.structural:
        step.walk.add("ADP-1002", "error", expr, path=expr, detail="must be a JSON array, not a single value")
    return [value]


def _entry_profiles(bundle: dict[str, Any], rules: tuple[tuple[str, str], ...]) -> dict[int, tuple[str, ...]]:
    """The profiles the bundle rules (see :class:`Policy`) add to each entry's resource, by its id()."""
    found: dict[int, tuple[str, ...]] = {}
    listed = bundle.get("entry")
    entries: list[Any] = listed if isinstance(listed, list) else []
    for rule, profile in rules:
        rtype, _, position = rule.partition(":") if not rule.isdigit() else ("", "", rule)
        for index, entry in enumerate(entries):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            if (rtype and resource.get("resourceType") != rtype) or (position and str(index) != position):
                continue
            found[id(resource)] = (*found.get(id(resource), ()), profile)
    return found


def _owner(node: Node, host: Host) -> str | None:
    """The url of the extension whose value ``node`` is (None when it is not an extension's value)."""
    return host.extension_url if node.name.startswith("value") and node.path.startswith("Extension.") else None
