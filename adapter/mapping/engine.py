"""The one mapping engine: applies a mapping tree (adapter/mapping/spec.py) from KITH XML to a FHIR message
Bundle, and the same tree backwards from the Bundle to KITH XML.

Nothing is dropped. Every attribute, text and element of the KITH message that no rule used is carried verbatim
in a ``kith-residue`` extension on the resource made from the nearest enclosing element, with its place (path and
position), and reported as an information issue (ADP-3001). A value a function normalised (a local time given an
offset, a code translated one way) keeps its original text in a ``kith-original`` extension on the primitive. The
reverse direction rebuilds the elements from the rules in the order the tree gives (schema order), then puts every
residue back at its recorded position, so a KITH message survives KITH -> FHIR -> KITH unchanged. Text written with
markup (an anyType note holding XHTML) is read whole by its function; the markup is kept in ``kith-original`` and
written back. An ``xsi:type`` value names a type by a namespace prefix that no XML tool sees as used: its residue
carries the declaration too (path step ``@xmlns:prefix``), declared again on the way back.

On the way back a resource node writes the resources its first link references (narrowed by its backlink), else
those that refer back as its backlink says, else all of its type; a resource found without a link is written once,
so a professional of the sender that the MsgHead writes as its author is not written again as another professional
of the same organisation (and one directly under the sender never moves into its unit, nor the other way round).

Ids are deterministic: uuid5 of the message's seed (sender HER-id and MsgId) and the element's path. Timestamps
come from the message.

Never invalid FHIR either: an identifier whose value fails the check of the national system its KITH type gives
keeps value and type but not that system (warning ADP-3010 at the element; the AppRec says status 3). A mapping's
``require`` rules refuse content the receiver cannot use (ADP-3011 with its AppRec code). A message that breaks its
schema also travels whole (residue path ``/``), since the rules rebuild elements in schema order only. Nodes marked
``standalone`` apply only to a document that is its own envelope (or only inside a MsgHead), and ``reverse: only``
nodes and a rule's ``fallback`` build KITH from FHIR written as FHIR, when no residue carries the element (nor an
element around it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from adapter.errors import Issue
from adapter.mapping import paths
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.mapping.functions import (
    CONTENT,
    FUNCTIONS,
    IMPLIED,
    TEXT,
    XSI_TYPE,
    Context,
    content_of,
    declare,
    fhir_id,
    set_content,
)
from adapter.mapping.spec import Mapping, Node
from adapter.parse.xml_safe import parse_xml
from adapter.validate.identifiers import IDENTIFIER_KINDS, check_identifier

BASE = "http://samhandling.no/fhir/StructureDefinition/"
RESIDUE = BASE + "kith-residue"
ORIGINAL = BASE + "kith-original"
ID_NAMESPACE = uuid.UUID("0b4bd9f3-5a0f-5d0e-8f43-6c2f0d7a1c55")
#: The residue path of a whole message carried verbatim (a message that breaks its schema).
WHOLE = "/"


# ----------------------------------------------------------------------------------------------------------------
# KITH -> FHIR
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Forward:
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


def to_fhir(
    root: etree._Element,
    mapping: Mapping,
    mappings: dict[str, Mapping],
    conceptmaps: ConceptMaps,
    *,
    keep_whole: bool = False,
) -> tuple[dict[str, Any], list[Issue]]:
    """Map a KITH message (its root element) to a FHIR message Bundle; returns the Bundle and the issues.

    ``keep_whole`` (for a message that breaks its schema): the rules rebuild elements in schema order, which such
    a message does not follow, so the whole message also travels verbatim (:data:`WHOLE`) and comes back as it
    was."""
    seed = "|".join(_first_text(xpath(root)) for xpath in mapping.seed)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": _id(seed, "Bundle"), "type": "message", "entry": []}
    state = _Forward(mappings, conceptmaps, seed, bundle, tree=root.getroottree())
    state.aliases["bundle"] = bundle
    _apply_root(state, mapping, root)
    for target, path, alias in state.pending:
        if alias in state.aliases:
            paths.put(target, path, {"reference": state.urls[id(state.aliases[alias])]})
    _check_identifiers(state)
    _collect_residue(state)
    if keep_whole and bundle["entry"]:
        header = bundle["entry"][0]["resource"]
        text = etree.tostring(root, encoding="unicode", with_tail=False)
        header.setdefault("extension", []).append(
            {
                "url": RESIDUE,
                "extension": [{"url": "path", "valueString": WHOLE}, {"url": "value", "valueString": text}],
            }
        )
        state.issues.append(
            Issue(
                "ADP-3001",
                "information",
                expression=f"{header['resourceType']}.extension('{RESIDUE}')",
                args={"element": "the whole message (it breaks its schema)", "resource": header["resourceType"]},
            )
        )
    return bundle, state.issues


def _apply_root(state: _Forward, mapping: Mapping, element: etree._Element) -> None:
    for node in mapping.nodes:
        _forward(state, mapping, node, [element], state.bundle, state.bundle)


def _first_text(result: Any) -> str:
    if isinstance(result, list):
        result = result[0] if result else ""
    if isinstance(result, etree._Element):
        return (result.text or "").strip()
    return str(result).strip()


def _id(seed: str, path: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{seed}|{path}"))


def _select(elements: list[etree._Element], node: Node) -> list[etree._Element]:
    found = elements
    for step in node.path:
        found = [child for element in found for child in element.iterchildren(step)]
    if node.where is not None:
        found = [element for element in found if node.where(element)]
    return found


def _target(state: _Forward, to: str, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    head, _, rest = to.partition(":")
    if rest and "." not in head and "(" not in head:
        return state.aliases[head], rest
    return item, to


def _forward(
    state: _Forward,
    mapping: Mapping,
    node: Node,
    context: list[etree._Element],
    item: dict[str, Any],
    resource: dict[str, Any],
) -> None:
    if not node.forward or node.standalone is not None and node.standalone == state.enveloped:
        return
    if node.ref is not None:
        target, path = _target(state, node.to or "", item)
        referenced = state.aliases.get(node.ref)
        if referenced is not None:
            paths.put(target, path, {"reference": state.urls[id(referenced)]})
        else:  # a resource the message gives later (Epikrise's Patient follows its events): written at the end
            state.pending.append((target, path, node.ref))
        return
    matches = _select(context, node)
    if node.require is not None:
        _require(state, node.require, matches)
    if node.resource is not None:
        for element in matches:
            if not _empty(element):  # an empty element makes no resource; it travels as residue of its parent
                _new_resource(state, mapping, node, element)
        return
    if node.payload:
        for element in matches:
            _dispatch_payload(state, element, item, resource)
        return
    if node.fn is not None:
        _forward_value(state, mapping, node, matches, item, resource)
        return
    for element in matches:
        if node.to is not None:
            target, path = _target(state, node.to, item)
            child: dict[str, Any] = {}
            paths.put(target, path, child)
            for key, value in node.set.items():
                paths.put(child, key, value)
            for rule in node.rules:
                _forward(state, mapping, rule, [element], child, resource)
            if not child or child.keys() == set(node.set):
                _discard(target, path, child)
        else:
            for rule in node.rules:
                _forward(state, mapping, rule, [element], item, resource)
        if node.to is not None and not _list_step(node.to):
            break


def _require(state: _Forward, rule: tuple[etree.XPath, str, str], matches: list[etree._Element]) -> None:
    test, code, what = rule
    for element in matches:
        if not test(element):
            state.issues.append(
                Issue(
                    "ADP-3011",
                    "error",
                    line=element.sourceline if isinstance(element.sourceline, int) else None,
                    args={"element": element_path(element), "what": what, "apprec_code": code},
                )
            )


def _list_step(path: str) -> bool:
    return paths.parse_path(path.partition(":")[2] if ":" in path.split(".")[0] else path)[-1].selector == "+"


def _discard(target: dict[str, Any], path: str, child: dict[str, Any]) -> None:
    steps = paths.parse_path(path)
    parent_path = ".".join(path.split(".")[:-1]) if len(steps) > 1 else None
    parents = paths.get(target, parent_path) if parent_path else [target]
    for parent in parents:
        member = parent.get(steps[-1].name) if isinstance(parent, dict) else None
        if isinstance(member, list) and any(x is child for x in member):
            member[:] = [x for x in member if x is not child]
            if not member:
                del parent[steps[-1].name]
        elif member is child:
            del parent[steps[-1].name]


def _new_resource(state: _Forward, mapping: Mapping, node: Node, element: etree._Element) -> None:
    if state.tree is None or node.type is None or node.resource is None:
        raise ValueError("a resource node needs a type and an alias (checked when the mapping is loaded)")
    if node.id is not None:
        resource_id = fhir_id(_first_text(node.id(element)) or state.tree.getpath(element))
    else:
        resource_id = _id(state.seed, state.tree.getpath(element) + "|" + node.resource)
    resource: dict[str, Any] = {"resourceType": node.type, "id": resource_id}
    if node.profile:
        resource["meta"] = {"profile": [node.profile]}
    full_url = "urn:uuid:" + resource_id
    state.urls[id(resource)] = full_url
    state.bundle["entry"].append({"fullUrl": full_url, "resource": resource})
    state.aliases[node.resource] = resource
    state.used.setdefault(element, set())
    state.groups.append((resource, element))
    for link in node.link:
        alias, _, path = link.partition(":")
        paths.put(state.aliases[alias], path, {"reference": full_url})
    if node.backlink:
        path, _, alias = node.backlink.partition("->")
        paths.put(resource, path, {"reference": state.urls[id(state.aliases[alias])]})
    for key, value in node.set.items():
        target, key_path = _target(state, key, resource)
        paths.put(target, key_path, value)
    for rule in node.rules:
        _forward(state, mapping, rule, [element], resource, resource)


def _dispatch_payload(state: _Forward, content: etree._Element, item: dict[str, Any], resource: dict[str, Any]) -> None:
    for child in content.iterchildren(etree.Element):
        mapping = state.mappings.get(child.tag)
        if mapping is None:
            namespace, _, local = child.tag[1:].partition("}")
            state.issues.append(
                Issue(
                    "ADP-3002",
                    "error",
                    line=child.sourceline if isinstance(child.sourceline, int) else None,
                    args={"element": local, "namespace": namespace, "supported": ", ".join(sorted(state.mappings))},
                )
            )
            continue
        definition = mapping.enveloped or mapping.definition
        if definition:
            paths.put(state.aliases["header"], "definition", definition)
        state.used.setdefault(child, set())
        was_enveloped, state.enveloped = state.enveloped, True
        for node in mapping.nodes:
            _forward(state, mapping, node, [child], item, resource)
        state.enveloped = was_enveloped


def _forward_value(
    state: _Forward,
    mapping: Mapping,
    node: Node,
    matches: list[etree._Element],
    item: dict[str, Any],
    resource: dict[str, Any],
) -> None:
    if node.fn is None or node.to is None:
        return
    function = FUNCTIONS[node.fn]
    ctx = Context(node.args, state.conceptmaps)
    target, path = _target(state, node.to, item)
    repeat = _list_step(node.to)
    for element in matches if repeat else matches[:1]:
        value, used = function.read(element, ctx)
        if value is None:
            continue
        if node.reverse:  # a forward-only (derived) rule does not stand for the element
            state.used.setdefault(element, set()).update(used)
        if value is IMPLIED:
            continue
        paths.put(target, path, value)
        if path.rpartition(".")[2] == "system":
            parent_path = path.rpartition(".")[0]
            parents = paths.get(target, parent_path) if parent_path else [target]
            if parents and isinstance(parents[-1], dict):
                state.systems.append((parents[-1], element, resource))
        if node.reverse and function.lexical is not None and function.source is not None:
            source = function.source(ctx)
            if source == CONTENT:  # text with markup: the content as written (plain text needs no original)
                original = content_of(element)
            else:
                original = (element.text or "") if source == TEXT else (element.get(source) or "")
            if function.lexical(value, ctx) != original.strip():
                _keep_original(target, path, original.strip())


def _keep_original(target: dict[str, Any], path: str, original: str) -> None:
    slot = paths.primitive_slot(path)
    if slot is None:
        raise ValueError(f"{path}: a normalised value in a list cannot keep its original text")
    parent_path, name = slot
    parent = paths.get(target, parent_path)[-1] if parent_path else target
    parent.setdefault("_" + name, {}).setdefault("extension", []).append({"url": ORIGINAL, "valueString": original})


# --- identifiers whose value fails the check of the national system they claim --------------------------------


def _check_identifiers(state: _Forward) -> None:
    """An identifier whose value fails the check for its KITH id type keeps its value and its KITH type
    (``type.coding``, written back as TypeId) but not the national system it fails, so the Bundle stays valid and
    nothing is altered; reported as warning ADP-3010 pointing at the KITH element (the AppRec then says status 3,
    "OK, feil i delmelding", with the matching list 8221 code)."""
    for identifier, element, resource in state.systems:
        system, value = identifier.get("system"), identifier.get("value")
        if not isinstance(system, str) or not isinstance(value, str):
            continue
        problem = check_identifier(system, value)
        if problem is None:
            continue
        del identifier["system"]
        parent = element.getparent()
        where = element_path(parent if parent is not None else element)
        listed = resource.get("identifier", [])
        index = next((i for i, x in enumerate(listed) if x is identifier), None)
        expression = f"{resource['resourceType']}.identifier" + (f"[{index}]" if index is not None else "")
        state.issues.append(
            Issue(
                "ADP-3010",
                "warning",
                expression=expression,
                line=element.sourceline if isinstance(element.sourceline, int) else None,
                args={
                    "value": value,
                    "kind": IDENTIFIER_KINDS.get(system, ""),
                    "kind_en": problem.kind_en,
                    "kind_nb": problem.kind_nb,
                    "detail_en": problem.detail_en,
                    "detail_nb": problem.detail_nb,
                    "element": where,
                    "resource": resource["resourceType"],
                },
            )
        )


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


# --- residue --------------------------------------------------------------------------------------------------


def _collect_residue(state: _Forward) -> None:
    touched: set[etree._Element] = set()
    for used in state.used:
        current: etree._Element | None = used
        while current is not None and current not in touched:
            touched.add(current)
            current = current.getparent()
    group_elements = {element for _, element in state.groups}
    done: set[etree._Element] = set()
    for resource, element in state.groups:
        if element in done:
            continue
        done.add(element)
        items: list[tuple[str, str]] = []
        _residue(state, element, "", touched, group_elements, items)
        for where, value in items:
            # An empty attribute or text has no FHIR string (FHIR strings are never empty): no value part.
            parts = [{"url": "path", "valueString": where}]
            if value:
                parts.append({"url": "value", "valueString": value})
            resource.setdefault("extension", []).append({"url": RESIDUE, "extension": parts})
            if where.rpartition(" ")[2].startswith(_DECLARATION):
                continue  # what an xsi:type value needs, not content of its own: its attribute is reported
            state.issues.append(
                Issue(
                    "ADP-3001",
                    "information",
                    expression=f"{resource['resourceType']}.extension('{RESIDUE}')",
                    args={"element": _readable(where), "resource": resource["resourceType"]},
                )
            )


def _residue(
    state: _Forward,
    element: etree._Element,
    where: str,
    touched: set[etree._Element],
    groups: set[etree._Element],
    items: list[tuple[str, str]],
) -> None:
    used = state.used.get(element, set())
    for name, value in element.attrib.items():
        if str(name) not in used:
            items.append((f"{where}@{name!s}", str(value)))
            if name == XSI_TYPE:  # the value names a type by prefix: its namespace declaration travels with it
                items.extend((f"{where}{_DECLARATION}{p}", uri) for p, uri in _declarations_of(element).items())
    if CONTENT in used:  # read whole by a function (text with markup); kept as written in kith-original
        return
    if element.text and element.text.strip() and TEXT not in used:
        items.append((f"{where}{TEXT}", element.text))
    counts: dict[str, int] = {}
    for position, child in enumerate(element.iterchildren(etree.Element)):
        counts[child.tag] = counts.get(child.tag, 0) + 1
        step = f"{child.tag}[{counts[child.tag]}]#{position} "
        if child in groups:
            continue
        if child not in touched:
            items.append((where + step.rstrip(), str(etree.tostring(child, encoding="unicode", with_tail=False))))
        else:
            _residue(state, child, where + step, touched, groups, items)


#: A residue path's last step for a namespace declaration (``@xmlns:xsd``) that an ``xsi:type`` value needs.
_DECLARATION = "@xmlns:"


def _declarations_of(element: etree._Element) -> dict[str, str]:
    """The declaration the element's own ``xsi:type`` value needs (prefix -> URI), when it has a prefix."""
    value = element.get(XSI_TYPE) or ""
    prefix = value.strip().partition(":")[0] if ":" in value else ""
    uri = element.nsmap.get(prefix) if prefix else None
    return {prefix: uri} if prefix and uri else {}


def _readable(where: str) -> str:
    return "/".join(step.split("}")[-1].split("#")[0] for step in where.split(" "))


# ----------------------------------------------------------------------------------------------------------------
# FHIR -> KITH
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Reverse:
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


def to_kith(
    bundle: dict[str, Any], mapping: Mapping, mappings: dict[str, Mapping], conceptmaps: ConceptMaps
) -> etree._Element:
    """Build the KITH message for a FHIR message Bundle with the to-FHIR ``mapping`` read backwards."""
    index = {
        entry["fullUrl"]: entry["resource"]
        for entry in bundle.get("entry", [])
        if isinstance(entry, dict) and "fullUrl" in entry and isinstance(entry.get("resource"), dict)
    }
    whole = _whole_message(bundle)
    if whole is not None:
        return whole
    by_definition = {m.definition: m for m in mappings.values() if m.definition}
    by_definition.update({m.enveloped: m for m in mappings.values() if m.enveloped})
    state = _Reverse(by_definition, conceptmaps, bundle, index)
    state.urls = {id(resource): url for url, resource in index.items()}
    state.aliases["bundle"] = bundle
    root = etree.Element(mapping.root, nsmap=_nsmap(mapping))
    for node in mapping.nodes:
        _reverse(state, mapping, node, root, bundle)
    done: set[etree._Element] = set()
    for resource, element in state.groups:
        if element not in done:
            done.add(element)
            _restore_residue(resource, element)
    return root


def _carried(state: _Reverse, parent: etree._Element, tag: str) -> bool:
    """Whether the resource whose element is being built carries a child element ``tag`` of ``parent`` verbatim
    (kith-residue): that element itself, something inside it, or an enclosing element below the resource's own
    element (then all of it travels whole). Elements are compared by name along the path from the resource's
    element, so a message made from KITH brings such an element back from its residue, never twice."""
    if state.group is None:
        return False
    wanted = [tag]
    current: etree._Element | None = parent
    while current is not None and current is not state.group_element:
        wanted.insert(0, str(current.tag))
        current = current.getparent()
    if current is None:  # not inside the resource's element: only the first step can be compared
        wanted = [tag]
    for extension in state.group.get("extension", []):
        if extension.get("url") != RESIDUE:
            continue
        for part in extension.get("extension", []):
            if part.get("url") != "path":
                continue
            steps = [step.split("[", 1)[0] for step in str(part.get("valueString", "")).split(" ")]
            shared = min(len(steps), len(wanted))
            if steps[:shared] == wanted[:shared]:
                return True
    return False


def _whole_message(bundle: dict[str, Any]) -> etree._Element | None:
    entries = bundle.get("entry") or []
    header = entries[0].get("resource", {}) if entries and isinstance(entries[0], dict) else {}
    for extension in header.get("extension", []) if isinstance(header, dict) else []:
        if extension.get("url") != RESIDUE:
            continue
        parts = {e.get("url"): e.get("valueString") for e in extension.get("extension", [])}
        if parts.get("path") == WHOLE and parts.get("value"):
            return parse_xml(str(parts["value"]).encode("utf-8")).getroot()
    return None


def _reverse_target(state: _Reverse, to: str, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    head, _, rest = to.partition(":")
    if rest and "." not in head and "(" not in head:
        return state.aliases.get(head, {}), rest
    return item, to


def _make(parent: etree._Element, path: tuple[str, ...]) -> tuple[etree._Element, list[etree._Element]]:
    """Create the elements of ``path`` under ``parent``; reuse the last existing intermediate, the leaf is new.
    Returns the leaf and the elements created (to remove them again when they stay empty)."""
    created = []
    current = parent
    for position, step in enumerate(path):
        last = position == len(path) - 1
        existing = None if last else next(iter(reversed(list(current.iterchildren(step)))), None)
        if existing is None:
            existing = etree.SubElement(current, step)
            created.append(existing)
        current = existing
    return current, created


def _empty(element: etree._Element) -> bool:
    """No attributes, no text and no child elements (comments do not count)."""
    has_children = any(isinstance(child.tag, str) for child in element)
    return not has_children and not element.attrib and not (element.text or "").strip()


def _prune(created: list[etree._Element]) -> None:
    for element in reversed(created):
        parent = element.getparent()
        if parent is not None and _empty(element):
            parent.remove(element)


def _resolve(state: _Reverse, values: list[Any]) -> list[dict[str, Any]]:
    found = []
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("reference"), str) and value["reference"] in state.index:
            found.append(state.index[value["reference"]])
    return found


def _reverse(state: _Reverse, mapping: Mapping, node: Node, parent: etree._Element, item: dict[str, Any]) -> None:
    if not node.reverse or node.ref is not None:
        return
    if node.standalone is not None and node.standalone == state.enveloped:
        return
    if node.when is not None:
        target, path = _reverse_target(state, node.when[0], item)
        if node.when[1] not in [str(v) for v in paths.get(target, path)]:
            return
    if not node.forward and node.path and _carried(state, parent, node.path[0]):
        return
    if node.resource is not None:
        for resource in _instances(state, node):
            state.written.add(id(resource))
            element, _ = _make(parent, node.path)
            state.aliases[node.resource] = resource
            state.groups.append((resource, element))
            outer = state.group, state.group_element
            state.group, state.group_element = resource, element
            for rule in node.rules:
                _reverse(state, mapping, rule, element, resource)
            state.group, state.group_element = outer
        return
    if node.payload:
        header = state.aliases.get("header", {})
        payload = state.mappings_by_definition.get(str(header.get("definition", "")))
        if payload is None:
            return
        content, _ = _make(parent, node.path)
        root = etree.SubElement(content, payload.root, nsmap=_nsmap(payload))
        was_enveloped, state.enveloped = state.enveloped, True
        for rule in payload.nodes:
            _reverse(state, payload, rule, root, item)
        state.enveloped = was_enveloped
        return
    if node.fn is not None:
        _reverse_value(state, node, parent, item)
        return
    if node.to is not None:
        target, path = _reverse_target(state, node.to, item)
        for child in paths.get(target, path):
            if not isinstance(child, dict):
                continue
            element, created = _make(parent, node.path)
            for rule in node.rules:
                _reverse(state, mapping, rule, element, child)
            _prune(created)
        return
    element, created = _make(parent, node.path)
    for rule in node.rules:
        _reverse(state, mapping, rule, element, item)
    _prune(created)


def _nsmap(mapping: Mapping) -> Any:  # lxml accepts None as the default-namespace key; its stubs do not
    namespace = mapping.root[1:].partition("}")[0] if mapping.root.startswith("{") else ""
    result: dict[str | None, str] = {None: namespace} if namespace else {}
    for prefix, uri in mapping.namespaces.items():
        if uri != namespace:
            result[prefix] = uri
    return result


def _instances(state: _Reverse, node: Node) -> list[dict[str, Any]]:
    """The resources a resource node writes: those its first link references, and of those only the ones that
    refer back as its backlink says (a professional is the message's author *and* belongs to that organisation);
    without a link, those that refer back, else all of its type. A resource found without a link is written once:
    one an earlier node wrote (the MsgHead's author, say) is not written again by a node that only knows where
    such resources point (another professional of the same organisation)."""
    resources = [entry.get("resource", {}) for entry in state.bundle.get("entry", [])]
    if node.link:
        alias, _, path = node.link[0].partition(":")
        candidates = _resolve(state, paths.get(state.aliases.get(alias, {}), path))
    else:
        candidates = [r for r in resources if isinstance(r, dict) and id(r) not in state.written]
    if node.backlink:
        path, _, alias = node.backlink.partition("->")
        url = state.urls.get(id(state.aliases.get(alias)))
        candidates = [
            resource
            for resource in candidates
            if any(v.get("reference") == url for v in paths.get(resource, path) if isinstance(v, dict))
        ]
    result = []
    for resource in candidates:
        if resource.get("resourceType") != node.type:
            continue
        if node.profile and node.profile not in resource.get("meta", {}).get("profile", []):
            continue
        result.append(resource)
    return result


def _reverse_value(state: _Reverse, node: Node, parent: etree._Element, item: dict[str, Any]) -> None:
    if node.fn is None or node.to is None:
        return
    function = FUNCTIONS[node.fn]
    ctx = Context(node.args, state.conceptmaps)
    if node.fn == "fixed":
        element, _ = _make(parent, node.path)
        function.write(None, element, ctx)
        return
    target, path = _reverse_target(state, node.to, item)
    values = paths.get(target, path)
    originals = _originals(target, path, len(values))
    if not values and node.fallback and not (node.path and _carried(state, parent, node.path[0])):
        values = _fallback(state, node, target)
        originals = [None] * len(values)
    if not _list_step(node.to):
        values, originals = values[:1], originals[:1]
    for value, original in zip(values, originals, strict=True):
        element, created = _make(parent, node.path)
        function.write(value, element, ctx)
        if _empty(element):  # the function could not write this value here (a code of another list)
            _prune(created)
            continue
        if original is not None and function.source is not None:
            source = function.source(ctx)
            if source == CONTENT:
                set_content(element, original, _parse)
            elif source == TEXT:
                element.text = original
            else:
                element.set(source, original)


def _parse(data: bytes) -> etree._Element:
    return parse_xml(data).getroot()


def _originals(target: dict[str, Any], path: str, count: int) -> list[str | None]:
    slot = paths.primitive_slot(path)
    if slot is None or count != 1:
        return [None] * count
    parent_path, name = slot
    parents = paths.get(target, parent_path) if parent_path else [target]
    for parent in parents[-1:]:
        for extension in parent.get("_" + name, {}).get("extension", []) if isinstance(parent, dict) else []:
            if extension.get("url") == ORIGINAL:
                return [extension.get("valueString")]
    return [None]


def _fallback(state: _Reverse, node: Node, target: dict[str, Any]) -> list[Any]:
    """The values a rule writes when its own FHIR element is empty (content written in FHIR, no KITH value kept):
    those at ``from`` (relative to the rule's target, or ``alias:path``), else the constant ``value``; each looked
    up in ``map`` (backwards) or ``table`` when given. Never used for an element that travels as residue."""
    if node.fallback is None:
        return []
    values: list[Any] = []
    if "from" in node.fallback:
        source, path = _reverse_target(state, str(node.fallback["from"]), target)
        values = paths.get(source, path)
    if not values and "value" in node.fallback:
        values = [node.fallback["value"]]
    result = []
    for value in values:
        if "map" in node.fallback:
            code = state.conceptmaps.translate_back(node.fallback["map"], str(value))
            if code is not None:
                result.append({"system": node.args.get("system"), "code": code})
        elif "table" in node.fallback:
            if str(value) in node.fallback["table"]:
                result.append(node.fallback["table"][str(value)])
        else:
            result.append(value)
    return result


def _restore_residue(resource: dict[str, Any], element: etree._Element) -> None:
    for extension in resource.get("extension", []):
        if extension.get("url") != RESIDUE:
            continue
        parts = {e.get("url"): e.get("valueString") for e in extension.get("extension", [])}
        where, value = parts.get("path") or "", parts.get("value") or ""
        steps = where.split(" ")
        current = element
        for step in steps[:-1]:
            current = _step(current, step)
        last = steps[-1]
        if last.startswith(_DECLARATION):
            declare(current, {last.removeprefix(_DECLARATION): value})
        elif last.startswith("@"):
            current.set(last[1:], value)
        elif last == TEXT:
            current.text = value
        else:
            position = int(last.rpartition("#")[2])
            current.insert(_child_index(current, position), parse_xml(value.encode("utf-8")).getroot())


def _step(current: etree._Element, step: str) -> etree._Element:
    """The child a residue path step names (``{ns}tag[k]#position``); created at its recorded position when the
    rules did not rebuild it (all its content travelled as residue)."""
    tag_part, _, position = step.rpartition("#")
    tag, _, count = tag_part.rstrip("]").rpartition("[")
    children = list(current.iterchildren(tag))
    if int(count) <= len(children):
        return children[int(count) - 1]
    created = current.makeelement(tag)
    current.insert(_child_index(current, int(position)), created)
    return created


def _child_index(parent: etree._Element, position: int) -> int:
    """The index in ``parent`` (all nodes) before which the ``position``-th element child goes."""
    elements = [i for i, child in enumerate(parent) if isinstance(child.tag, str)]
    return elements[position] if position < len(elements) else len(parent)
