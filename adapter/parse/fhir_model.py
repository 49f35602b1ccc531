"""The FHIR type model that reading and validating share: StructureDefinition snapshots compiled for walking.

It sits below both :mod:`adapter.parse` and :mod:`adapter.validate` because the XML reader needs the same element
and type information the validator walks (which names repeat, which are primitives, which are XML attributes);
keeping it here lets parsing use it without importing the validator, which in turn imports the parser.

Compiling once per profile keeps the per-resource walk cheap: the JSON keys an object may carry, the types a
choice element allows, the regex of a primitive, the constraints and the binding are all looked up here once,
not re-derived from the snapshot's dictionaries for every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Element = dict[str, Any]
CORE_PREFIX = "http://hl7.org/fhir/StructureDefinition/"
MIN_LENGTH_EXT = "http://hl7.org/fhir/StructureDefinition/minLength"
#: Profile controls on a Narrative element (HL7 extensions): whether the narrative must (``_yes``), must not
#: (``_no``) or must for the resource's language (``_resource``) have language sections, and whether each top-level
#: part must say where it comes from (a ``class`` of boilerplate, generated or original).
LANGUAGE_CONTROL_EXT = "http://hl7.org/fhir/StructureDefinition/narrative-language-control"
SOURCE_CONTROL_EXT = "http://hl7.org/fhir/StructureDefinition/narrative-source-control"
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
#: R5 ElementDefinition.mustHaveValue and .valueAlternatives, as R4 profiles carry them (cross-version extensions)
MUST_HAVE_VALUE_EXT = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.mustHaveValue"
#: R5 ElementDefinition.binding.additional as R4 profiles carry it (the cross-version and the tools extension)
ADDITIONAL_BINDING_EXTS = frozenset(
    {
        "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.binding.additional",
        "http://hl7.org/fhir/tools/StructureDefinition/additional-binding",
    }
)
VALUE_ALTERNATIVES_EXT = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ElementDefinition.valueAlternatives"
_SYSTEM_TYPES = {
    "String": "string",
    "Boolean": "boolean",
    "Integer": "integer",
    "Decimal": "decimal",
    "Date": "date",
    "DateTime": "dateTime",
    "Time": "time",
}

PRIMITIVE_TYPES = frozenset(
    [
        "base64Binary",
        "boolean",
        "canonical",
        "code",
        "date",
        "dateTime",
        "decimal",
        "id",
        "instant",
        "integer",
        "markdown",
        "oid",
        "positiveInt",
        "string",
        "time",
        "unsignedInt",
        "uri",
        "url",
        "uuid",
        "xhtml",
    ]
)


def type_of_suffix(suffix: str) -> str:
    """The type code of a choice key's suffix: ``Quantity`` -> ``Quantity``, ``DateTime`` -> ``dateTime``."""
    lowered = suffix[:1].lower() + suffix[1:]
    return lowered if lowered in PRIMITIVE_TYPES else suffix


@dataclass(frozen=True)
class Limits:
    """The limits one element sets (``(type suffix, value)`` for min and max values)."""

    min_value: tuple[str, Any] | None = None
    max_value: tuple[str, Any] | None = None
    min_length: int | None = None
    max_length: int | None = None


def limits_of(element: dict[str, Any]) -> Limits | None:
    """The limits of a snapshot element, None when it has none (the usual case)."""
    low = high = None
    for key, value in element.items():
        if key.startswith("minValue"):
            low = (key[len("minValue") :], value)
        elif key.startswith("maxValue"):
            high = (key[len("maxValue") :], value)
    longest = element.get("maxLength")
    shortest = next(
        (e.get("valueInteger") for e in element.get("extension", []) if e.get("url") == MIN_LENGTH_EXT), None
    )
    if low is None and high is None and not isinstance(longest, int) and not isinstance(shortest, int):
        return None
    return Limits(
        low, high, shortest if isinstance(shortest, int) else None, longest if isinstance(longest, int) else None
    )


@dataclass(frozen=True)
class Constraint:
    """One invariant of an element."""

    key: str
    severity: str
    human: str
    expression: str
    source: str


@dataclass(frozen=True)
class TypeRef:
    """One allowed type of an element, with the profiles it must meet and, for references, its targets."""

    code: str
    profiles: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    #: FHIR primitive types start with a lower-case letter (worked out once: the walk asks for every value)
    primitive: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "primitive", self.code[:1].islower())


@dataclass(eq=False)
class Node:
    """One element of a compiled snapshot."""

    id: str
    path: str
    name: str  # last path segment without ``[x]``
    choice: bool
    min: int
    max: int | None  # None: unbounded
    repeats: bool  # the JSON form is an array (the base element repeats)
    types: tuple[TypeRef, ...]
    fixed: tuple[str, Any] | None = None  # (property name, value)
    pattern: tuple[str, Any] | None = None
    binding: tuple[str, str] | None = None  # (strength, ValueSet url)
    constraints: tuple[Constraint, ...] = ()
    is_modifier: bool = False
    attribute: bool = False  # an XML attribute (representation xmlAttr), not an element
    slicing: Element | None = None
    slice_name: str | None = None
    content_reference: str | None = None
    limits: Limits | None = None  # minValue / maxValue / maxLength / minLength, rarely set
    must_have_value: bool = False  # a primitive here needs its value; extensions alone do not do
    value_alternatives: tuple[str, ...] = ()  # the extensions that may stand in for a missing primitive value
    narrative_control: tuple[str | None, bool] | None = None  # (language sections control, sources marked)
    additional_bindings: tuple[tuple[str, str], ...] = ()  # (purpose, ValueSet) of binding.additional
    children: list[Node] = field(default_factory=list)
    slices: list[Node] = field(default_factory=list)
    keys: dict[str, tuple[Node, TypeRef]] = field(default_factory=dict)  # JSON key -> (child, type)
    #: its absence is an issue: the element or one of its slices is required (set when the snapshot is compiled)
    required: bool = False

    def type_for(self, code: str) -> TypeRef | None:
        """The allowed type with this code."""
        return next((t for t in self.types if t.code == code), None)

    def refine(self, type_ref: TypeRef) -> TypeRef:
        """This element's version of a value's type (a slice may name a profile on it), else the first type."""
        return self.type_for(type_ref.code) or (self.types or (type_ref,))[0]


@dataclass(eq=False)
class Profile:
    """A compiled StructureDefinition."""

    url: str
    type: str
    kind: str
    root: Node
    by_id: dict[str, Node]
    sd: dict[str, Any]


class TypeLookup(Protocol):
    """Where compiled definitions come from (:class:`adapter.validate.packages.Definitions` is one): a protocol, so
    that the parser can follow the core types without importing the package machinery of the validator."""

    def compiled(self, url: str) -> Profile:
        """The compiled snapshot of ``url``; raises :class:`adapter.errors.AdapterError` when it cannot be had."""
        ...


def compile_profile(sd: dict[str, Any]) -> Profile:
    """Compile the snapshot of ``sd`` (it must have one)."""
    elements: list[Element] = sd["snapshot"]["element"]
    is_resource = sd.get("kind") == "resource"
    nodes = [_node(e, is_resource) for e in elements]
    for node in nodes:  # a ValueSet contained in the profile is known as <profile url>#<id>
        if node.binding is not None and node.binding[1].startswith("#"):
            node.binding = (node.binding[0], f"{sd['url']}{node.binding[1]}")
    by_id = {n.id: n for n in nodes}
    for node in nodes[1:]:
        parent_id, _, last = node.id.rpartition(".")
        parent = by_id.get(parent_id)
        if parent is None:
            continue
        base_name, _, slice_name = last.partition(":")
        if not slice_name:
            parent.children.append(node)
            continue
        sliced = by_id.get(f"{parent_id}.{base_name}")
        if sliced is None:
            continue
        if "/" in slice_name:  # a reslice takes the place of the slice it refines, in this context
            refined = slice_name.split("/", 1)[0]
            sliced.slices = [s for s in sliced.slices if s.slice_name != refined]
        sliced.slices.append(node)
    for node in nodes:
        node.required = node.min > 0 or any(s.min > 0 for s in node.slices)
        for child in node.children:
            for code_key, type_ref in _json_keys(child):
                node.keys[code_key] = (child, type_ref)
    root = nodes[0]
    return Profile(sd["url"], sd.get("type", root.path), sd.get("kind", ""), root, by_id, sd)


def _node(element: Element, in_resource: bool) -> Node:
    path: str = element["path"]
    last = path.rsplit(".", 1)[-1]
    choice = last.endswith("[x]")
    maximum = element.get("max", "*")
    base_max = element.get("base", {}).get("max", maximum)
    fixed = pattern = None
    for key, value in element.items():
        if key.startswith("fixed"):
            fixed = (key, value)
        elif key.startswith("pattern"):
            pattern = (key, value)
    binding = element.get("binding", {})
    constraints = tuple(
        Constraint(c["key"], c.get("severity", "error"), c.get("human", ""), c["expression"], c.get("source", ""))
        for c in element.get("constraint", [])
        if c.get("expression")
    )
    reference = element.get("contentReference")
    return Node(
        id=element.get("id", path),
        path=path,
        name=last[:-3] if choice else last,
        choice=choice,
        min=int(element.get("min", 0)),
        max=None if maximum == "*" else int(maximum),
        repeats=base_max != "1",
        types=tuple(_type_ref(t, path if in_resource else "") for t in element.get("type", [])),
        fixed=fixed,
        pattern=pattern,
        binding=(binding["strength"], binding["valueSet"]) if binding.get("valueSet") else None,
        constraints=constraints,
        is_modifier=bool(element.get("isModifier")),
        attribute="xmlAttr" in element.get("representation", []),
        slicing=element.get("slicing"),
        slice_name=element.get("sliceName"),
        content_reference=reference.split("#", 1)[1] if reference else None,
        limits=limits_of(element),
        must_have_value=any(
            e.get("url") == MUST_HAVE_VALUE_EXT and e.get("valueBoolean") is True for e in element.get("extension", [])
        ),
        narrative_control=_narrative_control(element),
        additional_bindings=_additional_bindings(binding),
        value_alternatives=tuple(
            e["valueCanonical"]
            for e in element.get("extension", [])
            if e.get("url") == VALUE_ALTERNATIVES_EXT and isinstance(e.get("valueCanonical"), str)
        ),
    )


def _additional_bindings(binding: Element) -> tuple[tuple[str, str], ...]:
    """(purpose, ValueSet) of each additional binding that applies everywhere (one with a ``usage`` context
    applies only where that context holds, which we cannot tell, so it is left out)."""
    found = []
    for extension in binding.get("extension", []):
        if extension.get("url") not in ADDITIONAL_BINDING_EXTS:
            continue
        parts = {e.get("url"): e for e in extension.get("extension", [])}
        purpose = parts.get("purpose", {}).get("valueCode")
        valueset = parts.get("valueSet", {}).get("valueCanonical")
        if isinstance(purpose, str) and isinstance(valueset, str) and "usage" not in parts:
            found.append((purpose, valueset))
    return tuple(found)


def _narrative_control(element: Element) -> tuple[str | None, bool] | None:
    """The narrative-language-control and narrative-source-control extensions of an element, if it has any."""
    extensions = {e.get("url"): e for e in element.get("extension", [])}
    language = extensions.get(LANGUAGE_CONTROL_EXT, {}).get("valueCode")
    sources = SOURCE_CONTROL_EXT in extensions
    if language is None and not sources:
        return None
    return (language if isinstance(language, str) else None, sources)


def _type_ref(type_element: Element, resource_path: str) -> TypeRef:
    """The type of an element (``resource_path`` is its path when it belongs to a resource, else empty)."""
    code: str = type_element.get("code") or _legacy_code(type_element)
    if code.startswith("http://hl7.org/fhirpath/System."):
        declared = next(
            (e.get("valueUrl") for e in type_element.get("extension", []) if e["url"] == FHIR_TYPE_EXT), None
        )
        code = declared or _SYSTEM_TYPES.get(code.rsplit(".", 1)[1], "string")
        if resource_path.count(".") == 1 and resource_path.endswith(".id"):
            code = "id"  # Resource.id is an id, although R4 declares it as a string
    return TypeRef(code, tuple(type_element.get("profile", [])), tuple(type_element.get("targetProfile", [])))


def _legacy_code(type_element: Element) -> str:
    """The type of a type element without a ``code``: a few R4 core definitions state only its JSON type, in an
    extension on ``_code``."""
    extensions = (
        type_element.get("_code", {}).get("extension", []) if isinstance(type_element.get("_code"), dict) else []
    )
    found = next((e.get("valueString") for e in extensions if str(e.get("url", "")).endswith("-json-type")), None)
    return found if isinstance(found, str) else "string"


def _json_keys(node: Node) -> list[tuple[str, TypeRef]]:
    if not node.choice:
        first = node.types[0] if node.types else TypeRef("BackboneElement")
        return [(node.name, first)]
    return [(node.name + t.code[:1].upper() + t.code[1:], t) for t in node.types]


def pattern_matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: every property of the pattern is present in the value (lists: each pattern item
    matches some value item)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and pattern_matches(v, value[k]) for k, v in pattern.items())
    if isinstance(pattern, list):
        candidates = value if isinstance(value, list) else [value]
        return all(any(pattern_matches(p, c) for c in candidates) for p in pattern)
    return bool(pattern == value)
