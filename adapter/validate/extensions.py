"""Checks on extensions: that a definition exists, that the extension may sit where it is (its contexts and
context invariants), that modifier extensions are used as modifiers, and that relative urls name a sub-extension.

Kept apart from the value checks because they look at the extension's holder (the host), not at the value.
"""

from __future__ import annotations

from typing import Any

from adapter.parse.fhir_model import CORE_PREFIX, Node
from adapter.validate.state import Host, Pass
from adapter.validate.values import is_example
from adapter.validate.walker_base import EngineBase

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


class ExtensionRules(EngineBase):
    """The extension checks of the engine."""

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
        if self.policy.allow_examples and is_example(url):
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


def _holder(expr: str) -> str:
    """The element that holds the extension at ``expr`` (an extension's context is a rule about its holder)."""
    return expr.rsplit(".", 1)[0] if "." in expr else expr


def _slice_urls(node: Node) -> set[str]:
    """The urls the slices of an ``extension`` element fix."""
    urls = set()
    for slice_node in node.slices:
        for child in slice_node.children:
            if child.name == "url" and child.fixed is not None and isinstance(child.fixed[1], str):
                urls.add(child.fixed[1])
    return urls


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
    return kind != "fhirpath"  # fhirpath contexts: see ExtensionRules._context_allows
