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

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from typing import Any

from adapter.errors import AdapterError, Issue, Severity
from adapter.validate.authoring import check_structure_definition
from adapter.validate.bundle import check_bundle
from adapter.validate.compiled import CORE_PREFIX, Node, Profile, TypeRef, pattern_matches
from adapter.validate.identifiers import check_identifier
from adapter.validate.implied import implied_table
from adapter.validate.invariants import Env, Invariants
from adapter.validate.limits import Limits, limit_problems
from adapter.validate.measure import check_report
from adapter.validate.packages import Definitions
from adapter.validate.primitives import Primitives
from adapter.validate.questionnaire import check_questionnaire, check_response
from adapter.validate.resolution import Index, Status, is_absolute_url, reference_problem
from adapter.validate.slicing import SliceMatcher
from adapter.validate.state import DEFAULT_POLICY, Host, Pass, Policy, Walk, count_issues
from adapter.validate.terminology import Terminology, codes_of, display_matches
from adapter.validate.xhtml import inspect_xhtml, narrative_problems

Paths = tuple[str, str]  # an element's path from its resource, and from the datatype it is part of
_CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "Age", "Duration", "Distance", "Count"})
_ANY_RESOURCE = frozenset({"Resource", "DomainResource"})
_URLS = frozenset({"uri", "url", "canonical"})
#: R4 resources that R5 calls CanonicalResource: an R4 extension definition may name that R5 type as its context.
_CANONICAL = frozenset(
    [
        "ActivityDefinition",
        "CapabilityStatement",
        "ChargeItemDefinition",
        "CodeSystem",
        "CompartmentDefinition",
        "ConceptMap",
        "EffectEvidenceSynthesis",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "GraphDefinition",
        "ImplementationGuide",
        "Library",
        "Measure",
        "MessageDefinition",
        "NamingSystem",
        "OperationDefinition",
        "PlanDefinition",
        "Questionnaire",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "RiskEvidenceSynthesis",
        "SearchParameter",
        "StructureDefinition",
        "StructureMap",
        "TerminologyCapabilities",
        "TestScript",
        "ValueSet",
    ]
)
_R5_CANONICAL = {"CanonicalResource": _CANONICAL}
#: Extensions that R4 core itself uses outside the context it declares for them: where its own definitions put
#: them (the path of the element that holds the extension), so that those definitions validate.
_CONTEXT_AS_USED = {
    # declared for ElementDefinition.type.code; R4's snapshots carry it on ElementDefinition.type
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type": ("ElementDefinition.type",),
}
_HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z!]")  # an unescaped tag start in markdown: <b, </p, <!--


class Engine:
    """Validates JSON resources against compiled profiles; build once, reuse (caches live here)."""

    def __init__(
        self, defs: Definitions, terminology: Terminology | None = None, policy: Policy = DEFAULT_POLICY
    ) -> None:
        self.defs = defs
        self.policy = policy
        self.terminology = terminology or Terminology(defs)
        self.primitives = Primitives(defs)
        self.invariants = Invariants()
        self.slices = SliceMatcher(self)
        self._wanted: dict[tuple[tuple[str, ...], str], list[str]] = {}  # target profiles per type, see below
        #: the profiles a resource's category, type or code implies (see adapter.validate.implied); the table is
        #: read on the first resource walked
        self.implied: Callable[[Any], tuple[str, ...]] = self._first_implied
        #: constraint keys not evaluated under this policy (the rules about contained resources, when those are not
        #: validated)
        self._skipped = frozenset() if policy.validate_contained else frozenset({"dom-2", "dom-3", "dom-4", "dom-5"})

    # -- definitions -------------------------------------------------------------------------------------------

    def profile(self, url: str) -> Profile:
        """The compiled profile or type at ``url``; AdapterError when unknown or its snapshot cannot be made."""
        return self.defs.compiled(url)

    def _first_implied(self, resource: Any) -> tuple[str, ...]:
        self.implied = implied_table(self.defs).profiles
        return self.implied(resource)

    def maybe_profile(self, url: str) -> Profile | None:
        """Like :meth:`profile`, None when it cannot be had."""
        try:
            return self.profile(url)
        except AdapterError:
            return None

    # -- entry point -------------------------------------------------------------------------------------------

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

    def _is_resource_type(self, name: str) -> bool:
        profile = self.maybe_profile(CORE_PREFIX + name)
        return profile is not None and profile.kind == "resource"

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

    # -- objects and values ------------------------------------------------------------------------------------

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
        keys = parent.keys
        structural, walk = step.structural, step.walk
        buckets: dict[int, dict[str, TypeRef]] = {}
        for key, value in obj.items():
            base = key[1:] if key[:1] == "_" else key
            entry = keys.get(base)
            if entry is None or (key != base and not entry[1].primitive):
                if structural and not (resource and key == "resourceType"):
                    self._unknown(obj, key, parent, expr, step)
                continue
            if structural and value is None and key == base:
                walk.add("ADP-1002", "error", expr, path=f"{expr}.{key}", detail="null is not allowed")
                continue
            found = buckets.get(id(entry[0]))
            if found is None:
                buckets[id(entry[0])] = {base: entry[1]}
            else:
                found[base] = entry[1]
        if structural and not resource and isinstance(obj.get("id"), str) and fp_path != "ElementDefinition":
            self._element_id(obj["id"], step)
        url = obj.get("url") if fp_path == "Extension" else owner
        host_type = parent.types[0].code if parent.types else fp_path
        host = Host((*paths, fp_path, parent.path, host_type), resource, url if isinstance(url, str) else None, obj)
        for child in parent.children:
            found = buckets.get(id(child))
            if found is None and not child.required:  # absent, and allowed to be: nothing to check
                continue
            items = self._items(obj, child, found, expr, step) if found else []
            count_issues(len(items), child, expr, walk)
            if not items:
                for required in child.slices:  # a required slice of an absent element is missing too
                    if required.min:
                        count_issues(0, required, expr, walk)
                continue
            child_paths = (f"{paths[0]}.{child.name}", f"{paths[1]}.{child.name}")
            # a value that belongs to a slice is checked against the slice alone: a slice refines its element
            sliced = child.slices or child.slicing
            assigned = self.slices.assign(items, child, expr, step) if sliced else [None] * len(items)
            for (value, ext, item_expr, type_ref), slice_node in zip(items, assigned, strict=True):
                if slice_node is None:
                    self.value(value, ext, child, type_ref, item_expr, child_paths, host, step)
                else:
                    self.value(value, ext, slice_node, slice_node.refine(type_ref), item_expr, child_paths, host, step)

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
            return
        if not isinstance(value, dict):
            if step.structural:
                walk.add("ADP-1002", "error", expr, path=expr, detail=f"a {code} must be a JSON object")
            return
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
            _attachment(value, expr, walk)
        elif code == "Reference":
            self._reference(value, type_ref, expr, step)
        if "resourceType" in value or code in _ANY_RESOURCE:
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

    def _inline_profiles(self, value: dict[str, Any], node: Node, expr: str, step: Pass) -> tuple[str, ...]:
        """The profile a resource inside a resource must meet (``Bundle.entry.resource``, a parameter's resource):
        its type must be one the element allows, and when the element names several profiles for it, meeting one
        of them is enough (the first it meets is used; when it meets none, the first is used for the report)."""
        rtype = value.get("resourceType")
        allowed = [t for t in node.types if t.code == rtype or t.code in _ANY_RESOURCE]
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
        self._fixed_and_pattern(value, profile.root, expr, inner)
        self._constraints(value, profile.root, expr, code, inner)
        self.object(value, profile.root, expr, paths, code, inner, owner=_owner(node, host))

    def _primitive(self, value: Any, node: Node, code: str, expr: str, step: Pass) -> None:
        if value is None:
            return
        if step.structural:
            problem = self.primitives.problem(code, value)
            if problem is None and code == "xhtml":
                problem, links, anchors = inspect_xhtml(value)
                if links or anchors:
                    found = step.walk.narrative_links.setdefault(id(step.env.root), ([], set()))
                    found[0].extend((expr, link) for link in links)
                    found[1].update(anchors)
            if problem is not None:
                step.walk.add("ADP-1002", "error", expr, path=expr, detail=problem)
                return
            if code in _URLS and not self.policy.allow_examples and _is_example(value):
                step.walk.add("ADP-4047", "error", expr, url=value)
            if code == "markdown" and (tag := _HTML_TAG.search(value)) is not None:
                severity: Severity = "error" if self.policy.no_html_in_markdown else "warning"
                step.walk.add("ADP-4019", severity, expr, start=value[tag.start() : tag.start() + 2])
        self._fixed_and_pattern(value, node, expr, step)
        if node.limits is not None:
            self._limits(value, node.limits, code, expr, step)
        if node.binding and code == "code":
            self._binding(value, node, code, expr, step)

    # -- rules -------------------------------------------------------------------------------------------------

    def _fixed_and_pattern(self, value: Any, node: Node, expr: str, step: Pass) -> None:
        if node.fixed is not None and value != node.fixed[1]:
            self._value_issue(node, node.fixed[1], expr, step)
        if node.pattern is not None and not pattern_matches(node.pattern[1], value):
            self._value_issue(node, node.pattern[1], expr, step)

    def _narrative(self, div: str, control: tuple[str | None, bool], node: Node, expr: str, step: Pass) -> None:
        language = step.env.resource.get("language") if isinstance(step.env.resource, dict) else None
        found = narrative_problems(div, language if isinstance(language, str) else None, *control)
        for issue, detail in found:
            step.walk.add(issue, "error", expr, path=node.id, detail=detail, profile=step.profile.url)

    def _missing_value(self, ext: Any, node: Node, expr: str, step: Pass) -> None:
        """A primitive without a value (only an id or extensions) where the profile needs the value, or allows
        only some extensions in its place."""
        if node.must_have_value:
            step.walk.add("ADP-4017", "error", expr, path=node.id, profile=step.profile.url)
            return
        urls = (
            {e.get("url") for e in ext.get("extension", []) if isinstance(e, dict)} if isinstance(ext, dict) else set()
        )
        if not urls & set(node.value_alternatives):
            shown = ", ".join(node.value_alternatives)
            step.walk.add("ADP-4018", "error", expr, path=node.id, allowed=shown, profile=step.profile.url)

    def _limits(self, value: Any, limits: Limits, code: str, expr: str, step: Pass) -> None:
        for issue, args in limit_problems(limits, code, value):
            step.walk.add(issue, "error", expr, **args, profile=step.profile.url)

    def _value_issue(self, node: Node, wanted: Any, expr: str, step: Pass) -> None:
        shown = json.dumps(wanted, ensure_ascii=False)
        step.walk.add("ADP-4003", "error", expr, path=node.id, expected=shown, profile=step.profile.url)

    def _constraints(self, value: Any, node: Node, expr: str, fp_path: str, step: Pass) -> None:
        skipped, evaluated, check = self._skipped, step.walk.evaluated, self.invariants.check
        for constraint in node.constraints:
            if skipped and constraint.key in skipped:
                continue
            seen = (expr, constraint.key)
            if seen in evaluated:
                continue
            evaluated.add(seen)
            outcome = check(constraint, value, fp_path, step.env)
            if outcome is True:
                continue
            args = {"key": constraint.key, "human": constraint.human, "profile": step.profile.url}
            if outcome is False:
                severity: Severity = "error" if constraint.severity == "error" else "warning"
                step.walk.add("ADP-4010", severity, expr, **args)
            else:
                step.walk.add("ADP-4011", "warning", expr, **args, detail=outcome)

    def _binding(self, value: Any, node: Node, code: str, expr: str, step: Pass) -> None:
        assert node.binding is not None  # noqa: S101 - the caller checked
        strength, valueset = node.binding
        if strength not in ("required", "extensible"):
            return
        pairs = codes_of(value)
        walk = step.walk
        if not pairs:
            if strength == "required" and code == "CodeableConcept" and isinstance(value, dict) and value.get("text"):
                walk.add("ADP-4004", "error", expr, path=node.id, code=repr(value["text"]), valueset=valueset)
            return
        expansion = self.terminology.expand(valueset)
        if expansion.displays and isinstance(value, dict):  # displays the bound value set gives are valid here
            for coding in value.get("coding", []) if isinstance(value.get("coding"), list) else [value]:
                if isinstance(coding, dict):
                    given = expansion.displays.get((str(coding.get("system", "")), str(coding.get("code"))))
                    if given:
                        walk.displays[id(coding)] = given
        if any(expansion.contains(s, c) for s, c in pairs):
            return
        systems = {s for s, _ in pairs}
        if not expansion.complete and (systems & expansion.missing or None in systems or valueset in expansion.missing):
            walk.add("ADP-4005", "warning", expr, path=node.id, system=", ".join(sorted(expansion.missing)))
            return
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        severity: Severity = "error" if strength == "required" else "warning"
        walk.add(
            "ADP-4004" if strength == "required" else "ADP-4012",
            severity,
            expr,
            path=node.id,
            code=shown,
            valueset=valueset,
        )

    def _member_of(self, value: Any, valueset: str) -> bool | None:
        """Is a code, Coding or CodeableConcept in the ValueSet? None when it cannot be told here."""
        pairs = codes_of(value)
        expansion = self.terminology.expand(valueset)
        if any(expansion.contains(s, c) for s, c in pairs):
            return True
        return False if expansion.complete else None

    def _additional_bindings(self, value: Any, node: Node, expr: str, step: Pass) -> None:
        """Additional bindings (R5 binding.additional): a required or maximum one is a required binding, an
        extensible or current one an extensible binding; the other purposes do not judge a value."""
        pairs = codes_of(value)
        for purpose, valueset in node.additional_bindings:
            if purpose not in ("required", "maximum", "extensible", "current") or not pairs:
                continue
            expansion = self.terminology.expand(valueset)
            if any(expansion.contains(s, c) for s, c in pairs) or not expansion.complete:
                continue
            severity: Severity = "error" if purpose in ("required", "maximum") else "warning"
            shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
            step.walk.add("ADP-4069", severity, expr, code=shown, valueset=valueset, purpose=purpose)

    def _display(self, coding: dict[str, Any], expr: str, walk: Walk) -> None:
        """The display of a code from a code system we hold whole must be its display or one of its designations
        (compared without case and with white space collapsed)."""
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            return
        allowed = self.terminology.displays(system, code)
        if allowed is not None and not display_matches(
            coding["display"], allowed | walk.displays.get(id(coding), set())
        ):
            shown = " | ".join(sorted(allowed))
            severity: Severity = "warning" if self.policy.display_issues_are_warnings else "error"
            walk.add(
                "ADP-4021",
                severity,
                f"{expr}.display",
                display=coding["display"],
                code=f"{system}#{code}",
                allowed=shown,
            )

    def _identifier(self, value: dict[str, Any], expr: str, walk: Walk) -> None:
        system, text = value.get("system"), value.get("value")
        if not isinstance(text, str) or not (system is None or isinstance(system, str)):
            return
        problem = check_identifier(system, text)
        if problem is not None:
            walk.add(
                "ADP-4020",
                "error",
                f"{expr}.value",
                path=f"{expr}.value",
                value=text,
                kind=problem.kind_en,
                kind_nb=problem.kind_nb,
                detail=problem.detail_en,
                detail_nb=problem.detail_nb,
            )

    def _reference(self, value: dict[str, Any], type_ref: TypeRef, expr: str, step: Pass) -> None:
        reference = value.get("reference")
        if not isinstance(reference, str):
            return
        self._reference_syntax(reference, expr, step)
        target, status = self._locate(step.walk, step.env.root, reference)
        if isinstance(target, dict):  # a resourceType that is not a string is reported where the target is
            actual = target.get("resourceType") if isinstance(target.get("resourceType"), str) else None
        else:
            actual = _type_in_reference(reference) if self.policy.trust_reference_types else None
        allowed = self._target_types(type_ref)
        if actual and allowed and not allowed & _ANY_RESOURCE and actual not in allowed:
            step.walk.add(
                "ADP-4030", "error", expr, reference=reference, type=actual, allowed=", ".join(sorted(allowed))
            )
        named = _type_in_reference(reference) if isinstance(target, dict) else None
        if named is not None and actual and named != actual and not reference.startswith("urn:"):
            step.walk.add("ADP-4036", "error", expr, reference=reference, type=actual)
        index = step.walk.index
        if status == "ambiguous":
            step.walk.add("ADP-4035", "error", expr, reference=reference)
        elif target is None and index is not None and index.kind and reference.startswith(("urn:uuid:", "urn:oid:")):
            step.walk.add(
                "ADP-4031", "error" if self.policy.missing_urn_is_error else "warning", expr, reference=reference
            )
        elif status == "missing" and index is not None and index.kind == "document":
            step.walk.add("ADP-4034", "error", expr, reference=reference)
        elif target is None and self.policy.references_must_resolve and not is_absolute_url(reference):
            step.walk.add("ADP-4033", "error", expr, reference=reference)  # an absolute one may be on a server
        if isinstance(target, dict) and actual:
            self._target_profiles(target, str(actual), reference, type_ref, expr, step)

    def _reference_syntax(self, reference: str, expr: str, step: Pass) -> None:
        """Report ``reference`` when it is not a well-formed literal reference (see ``reference_problem``)."""
        index = step.walk.index
        problem = reference_problem(
            reference,
            self._is_resource_type,
            contained=step.env.resource is not step.env.root,
            conditional=index is not None and index.kind in ("transaction", "batch"),
        )
        if problem is not None:
            severity: Severity = "error" if self.policy.malformed_reference_is_error else "warning"
            shown = reference if len(reference) <= 100 else reference[:100] + "..."
            step.walk.add("ADP-5030", severity, expr, reference=shown, detail=problem[0], detail_nb=problem[1])

    def _target_profiles(
        self, target: dict[str, Any], actual: str, reference: str, type_ref: TypeRef, expr: str, step: Pass
    ) -> None:
        """A resolved target must meet one of the target profiles for its type, when they are more than the core
        type. A profile the target claims is taken as met: the target is validated against it where it is."""
        wanted = self._wanted.get((type_ref.targets, actual))
        if wanted is None:
            wanted = [
                url
                for url in type_ref.targets
                if (profile := self.maybe_profile(url)) is not None and profile.type == actual
            ]
            if any(url.split("|", 1)[0] == CORE_PREFIX + actual for url in wanted):
                wanted = []  # the core type is among them: any resource of the type will do
            self._wanted[(type_ref.targets, actual)] = wanted
        if not wanted:
            return
        if any(url in _claimed_profiles(target) for url in wanted):
            return
        meets = step.walk.meets
        for url in wanted:
            key = (id(target), url)
            if key not in meets:
                meets[key] = True  # while checking: a circle of references meets the profile
                meets[key] = self.slices.meets(target, url, step)
            if meets[key]:
                return
        step.walk.add("ADP-4032", "error", expr, reference=reference, profiles=", ".join(wanted))

    def _target_types(self, type_ref: TypeRef) -> frozenset[str]:
        types = set()
        for url in type_ref.targets:
            if url.startswith(CORE_PREFIX):
                types.add(url[len(CORE_PREFIX) :].split("|", 1)[0])
            else:
                profile = self.maybe_profile(url)
                if profile is not None:
                    types.add(profile.type)
        return frozenset(types)

    def _extension_definition(
        self, url: str, value: dict[str, Any], node: Node, expr: str, host: Host, step: Pass
    ) -> str | None:
        """The URL to walk an extension against, after checking that it may be used where it is."""
        profile = self.maybe_profile(url)
        if profile is None or profile.type != "Extension":
            if profile is None and not self._may_be_unknown(url):
                step.walk.add("ADP-4044", "error", expr, url=url)
            else:
                step.walk.add("ADP-4040", "warning", expr, url=url)
            return None
        contexts = profile.sd.get("context", [])
        as_used = _CONTEXT_AS_USED.get(url, ())
        if (
            contexts
            and not any(p in host.paths for p in as_used)
            and not any(self._context_allows(c, host, step) for c in contexts)
        ):
            shown = ", ".join(str(c.get("expression")) for c in contexts)
            step.walk.add("ADP-4041", "error", _holder(expr), url=url, allowed=shown)
        for invariant in profile.sd.get("contextInvariant", []):  # evaluated on the element holding the extension
            if isinstance(invariant, str) and host.value is not None:
                found = self.invariants.select(invariant, host.value, host.paths[2], step.env, {"extension": value})
                if found == [False]:
                    step.walk.add("ADP-4043", "error", _holder(expr), url=url, expression=invariant)
        modifier = bool(profile.root.is_modifier)
        if modifier != (node.name == "modifierExtension"):
            step.walk.add("ADP-4042", "error", expr, url=url, modifier=str(modifier).lower())
        return profile.url

    def _may_be_unknown(self, url: str) -> bool:
        """May an extension we have no definition for be used (a warning: not checked), or is it an error as in the
        reference validator? Allowed: example URLs (when examples are allowed) and the namespaces the reference
        validator accepts unseen, plus the HL7 extension namespace, whose definitions beyond R4 core (the HL7
        extensions package) we do not hold, so its absence here proves nothing."""
        if self.policy.allow_examples and _is_example(url):
            return True
        return "nema.org" in url or url.startswith((CORE_PREFIX, "http://hl7.org/fhir/tools/StructureDefinition/"))

    def _relative_extension(self, url: str, node: Node, expr: str, host: Host, step: Pass) -> None:
        """An extension url that is not absolute: only a sub-extension of a complex extension may have one, and
        then the extension's definition must define it (a slice of its ``extension`` with that url)."""
        if host.extension_url is None:
            step.walk.add("ADP-4045", "error", expr, url=url)
        elif step.profile.url == host.extension_url and url not in _slice_urls(node):
            step.walk.add("ADP-4046", "error", expr, url=url, parent=host.extension_url)

    def _context_allows(self, context: dict[str, Any], host: Host, step: Pass) -> bool:
        """May an extension with this context sit on ``host``? A FHIRPath context is evaluated on the resource:
        the element that holds the extension must be among its results (as in the reference validator)."""
        if context.get("type") != "fhirpath":
            return _context_allows(context, host)
        resource = step.env.resource
        if host.value is None or not isinstance(resource, dict):
            return True
        found = self.invariants.select(str(context.get("expression", "")), resource, resource["resourceType"], step.env)
        return isinstance(found, str) or any(item == host.value for item in found)

    def _resolve(self, walk: Walk, root: Any, reference: Any) -> Any:
        """The resource a reference (or reference string) points to, within the resource or its Bundle."""
        if isinstance(reference, dict):
            reference = reference.get("reference")
        return self._locate(walk, root, reference)[0] if isinstance(reference, str) else None

    def _locate(self, walk: Walk, root: Any, reference: str) -> tuple[dict[str, Any] | None, Status]:
        """The resource ``reference`` points to (in the resource ``root``, or the Bundle or Parameters), and how
        the resolution went (see :mod:`adapter.validate.resolution`)."""
        if reference.startswith("#"):
            contained = root.get("contained", []) if isinstance(root, dict) else []
            found = next((c for c in contained if isinstance(c, dict) and c.get("id") == reference[1:]), None)
            return found, "found" if found is not None else "missing"
        if walk.index is None:
            return None, "elsewhere"
        return walk.index.locate(reference, root)

    def _orphans(self, bundle: dict[str, Any], walk: Walk) -> None:
        """Every entry of a document must be reachable from its Composition (the first entry) by following
        references, forward or backward."""
        entries = (
            [e for e in bundle.get("entry", []) if isinstance(e, dict)] if isinstance(bundle.get("entry"), list) else []
        )
        resources = [e.get("resource") if isinstance(e.get("resource"), dict) else None for e in entries]
        if not resources or resources[0] is None:
            return
        links: dict[int, set[int]] = {id(r): set() for r in resources if r is not None}
        for resource in (r for r in resources if r is not None):
            for reference in _references(resource):
                target = self._locate(walk, resource, reference)[0]
                if target is not None and id(target) in links and target is not resource:
                    links[id(resource)].add(id(target))
                    links[id(target)].add(id(resource))
        reached, todo = {id(resources[0])}, [id(resources[0])]
        while todo:
            for following in links[todo.pop()] - reached:
                reached.add(following)
                todo.append(following)
        for position, resource in enumerate(resources):
            if resource is not None and id(resource) not in reached:
                walk.add("ADP-4058", "error", f"Bundle.entry[{position}]", url=entries[position].get("fullUrl"))


def _as_list(value: Any, expr: str, step: Pass) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if step.structural:
        step.walk.add("ADP-1002", "error", expr, path=expr, detail="must be a JSON array, not a single value")
    return [value]


def _claimed_profiles(resource: dict[str, Any]) -> list[str]:
    """The profiles a resource claims in ``meta.profile``: its strings (a meta, a profile or a claim of another JSON
    type is a type error the structure check reports)."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    return [url for url in claimed if isinstance(url, str)] if isinstance(claimed, list) else []


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


def _holder(expr: str) -> str:
    """The element that holds the extension at ``expr`` (an extension's context is a rule about its holder)."""
    return expr.rsplit(".", 1)[0] if "." in expr else expr


def _references(value: Any) -> Iterator[str]:
    """Every reference string in ``value`` (a resource), contained resources' ones included."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and not reference.startswith("#"):
            yield reference
        for child in value.values():
            if isinstance(child, dict | list):
                yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def _is_example(url: str) -> bool:
    """An example URL (example.org, acme.com), as the reference validator recognises them."""
    return "example.org" in url or "acme.com" in url


def _attachment(value: dict[str, Any], expr: str, walk: Walk) -> None:
    """Attachment.size must be the size of the data, when both are given."""
    data, size = value.get("data"), value.get("size")
    if not isinstance(data, str) or isinstance(size, bool) or not isinstance(size, int):
        return
    try:
        actual = len(base64.b64decode("".join(data.split()), validate=True))
    except (binascii.Error, ValueError):
        return  # reported as a base64 problem
    if actual != size:
        walk.add("ADP-4048", "error", expr, size=size, actual=actual)


def _slice_urls(node: Node) -> set[str]:
    """The urls the slices of an ``extension`` element fix."""
    urls = set()
    for slice_node in node.slices:
        for child in slice_node.children:
            if child.name == "url" and child.fixed is not None and isinstance(child.fixed[1], str):
                urls.add(child.fixed[1])
    return urls


def _owner(node: Node, host: Host) -> str | None:
    """The url of the extension whose value ``node`` is (None when it is not an extension's value)."""
    return host.extension_url if node.name.startswith("value") and node.path.startswith("Extension.") else None


def _type_in_reference(reference: str) -> str | None:
    parts = reference.split("/_history/", 1)[0].split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2]
    return None


def _context_allows(context: dict[str, Any], host: Host) -> bool:
    """May an extension with this (element or extension) context sit on ``host``?"""
    kind, expression = context.get("type"), str(context.get("expression", ""))
    if kind == "element":
        if expression in ("Element", "Base") or expression in host.paths:
            return True
        if expression in ("Resource", "DomainResource"):
            return host.resource
        if expression in _R5_CANONICAL:  # R5 base types, which R4 extension definitions may name
            return host.resource and host.paths[0] in _R5_CANONICAL[expression]
        base, _, rest = expression.partition(".")
        if base in ("Resource", "DomainResource") and rest:
            return any(p.partition(".")[2] == rest for p in host.paths if p[:1].isupper())
        return False
    if kind == "extension":
        return host.extension_url == expression
    return kind != "fhirpath"  # fhirpath contexts: see Engine._context_allows
