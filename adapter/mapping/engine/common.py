"""What both directions of the engine share: the extension URLs and id namespace that make a round trip exact,
the state each direction carries through the mapping tree, and the small element helpers both need.

The state lives here, not with its direction, because the residue (adapter/mapping/engine/residue.py) reads and
writes it from both sides.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from adapter.errors import Issue
from adapter.mapping import paths
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.mapping.spec import Mapping

BASE = "http://samhandling.no/fhir/StructureDefinition/"
RESIDUE = BASE + "kith-residue"
ORIGINAL = BASE + "kith-original"
ID_NAMESPACE = uuid.UUID("0b4bd9f3-5a0f-5d0e-8f43-6c2f0d7a1c55")
#: The residue path of a whole message carried verbatim (a message that breaks its schema).
WHOLE = "/"

#: A residue path's last step for a namespace declaration (``@xmlns:xsd``) that an ``xsi:type`` value needs.
DECLARATION = "@xmlns:"


@dataclass
class Forward:
    """KITH -> FHIR, carried through the tree: what was made so far, so that later rules can link to it and the
    residue can see which parts of each element a rule used."""

    mappings: dict[str, Mapping]
    conceptmaps: ConceptMaps
    seed: str
    bundle: dict[str, Any]
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    urls: dict[int, str] = field(default_factory=dict)  # id(resource) -> fullUrl
    used: dict[etree._Element, set[str]] = field(default_factory=dict)
    groups: list[tuple[dict[str, Any], etree._Element]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    tree: etree._ElementTree | None = None
    enveloped: bool = False  # mapping a payload inside a MsgHead
    #: Identifier systems written from a KITH id type: (the Identifier, the element it came from, the resource).
    systems: list[tuple[dict[str, Any], etree._Element, dict[str, Any]]] = field(default_factory=list)
    #: References to an alias no resource had yet when the rule ran (target, path, alias), written at the end.
    pending: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)


@dataclass
class Reverse:
    """FHIR -> KITH, carried through the tree: which resources were written and where, so that none is written
    twice and each gets its residue back in its own element."""

    mappings_by_definition: dict[str, Mapping]
    conceptmaps: ConceptMaps
    bundle: dict[str, Any]
    index: dict[str, dict[str, Any]]
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: list[tuple[dict[str, Any], etree._Element]] = field(default_factory=list)
    urls: dict[int, str] = field(default_factory=dict)
    group: dict[str, Any] | None = None  # the resource whose element is being built
    group_element: etree._Element | None = None  # that resource's element
    enveloped: bool = False  # building a payload inside a MsgHead
    written: set[int] = field(default_factory=set)  # id() of each resource a resource node has written


def first_text(result: Any) -> str:
    """The text an XPath result gives, whatever form lxml returns it in (a seed or an id may be either)."""
    if isinstance(result, list):
        result = result[0] if result else ""
    if isinstance(result, etree._Element):
        return (result.text or "").strip()
    return str(result).strip()


def make_id(seed: str, path: str) -> str:
    """A deterministic id: the same message always maps to the same Bundle."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{seed}|{path}"))


def list_step(path: str) -> bool:
    """Whether a rule's target appends (``[+]``): only then does every matched element give a value, else the first."""
    return paths.parse_path(path.partition(":")[2] if ":" in path.split(".")[0] else path)[-1].selector == "+"


def empty(element: etree._Element) -> bool:
    """No attributes, no text and no child elements (comments do not count)."""
    has_children = any(isinstance(child.tag, str) for child in element)
    return not has_children and not element.attrib and not (element.text or "").strip()


def element_path(element: etree._Element) -> str:
    """The element's place as local names with positions among same-named siblings (``/MsgHead/MsgInfo/
    Patient/Ident[2]``), the form the AppRec's OT text and the schema issues use."""
    steps = []
    current: etree._Element | None = element
    while current is not None:
        local = etree.QName(current).localname
        parent = current.getparent()
        same = list(parent.iterchildren(current.tag)) if parent is not None else [current]
        steps.append(f"{local}[{same.index(current) + 1}]" if len(same) > 1 else local)
        current = parent
    return "/" + "/".join(reversed(steps))
