"""Checks on references: their syntax, whether they resolve (in the resource, its Bundle or Parameters), the type
and profiles of their targets, and that every entry of a document is reachable from its Composition.

Resolution itself (the index of a Bundle's entries) is :mod:`adapter.validate.resolution`; these are the rules
the walk applies with it, kept together because they share the engine's cache of target profiles.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapter.errors import Severity
from adapter.parse.fhir_model import CORE_PREFIX, TypeRef
from adapter.validate.resolution import Status, is_absolute_url, reference_problem
from adapter.validate.state import Pass, Walk
from adapter.validate.walker_base import ANY_RESOURCE, EngineBase


class ReferenceRules(EngineBase):
    """The reference checks of the engine."""

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
        if actual and allowed and not allowed & ANY_RESOURCE and actual not in allowed:
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
        """The resource types a reference of ``type_ref`` may point to, worked out once per type (the entry keeps
        the type, so that its id() stays its own)."""
        found = self._targets.get(id(type_ref))
        if found is None:
            found = self._targets[id(type_ref)] = (type_ref, self._target_types_of(type_ref))
        return found[1]

    def _target_types_of(self, type_ref: TypeRef) -> frozenset[str]:
        types = set()
        for url in type_ref.targets:
            if url.startswith(CORE_PREFIX):
                types.add(url[len(CORE_PREFIX) :].split("|", 1)[0])
            else:
                profile = self.maybe_profile(url)
                if profile is not None:
                    types.add(profile.type)
        return frozenset(types)

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


def _claimed_profiles(resource: dict[str, Any]) -> list[str]:
    """The profiles a resource claims in ``meta.profile``: its strings (a meta, a profile or a claim of another JSON
    type is a type error the structure check reports)."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    return [url for url in claimed if isinstance(url, str)] if isinstance(claimed, list) else []


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


def _type_in_reference(reference: str) -> str | None:
    parts = reference.split("/_history/", 1)[0].split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2]
    return None
