"""KITH -> FHIR: the mapping tree applied to a KITH message, giving a FHIR message Bundle.

Resources are made as the tree meets their elements, so a reference to one the message gives later is written
once the whole message is mapped. Identifiers are checked only at the end, against the system the finished
Identifier claims (ADP-3010), and what no rule used is then collected as residue (adapter/mapping/engine/residue.py).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapter.errors import Issue
from adapter.identifiers import IDENTIFIER_KINDS, check_identifier
from adapter.mapping import paths
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.mapping.engine.common import (
    ORIGINAL,
    RESIDUE,
    WHOLE,
    Forward,
    element_path,
    empty,
    first_text,
    list_step,
    make_id,
)
from adapter.mapping.engine.residue import collect_residue
from adapter.mapping.functions import CONTENT, FUNCTIONS, IMPLIED, TEXT, Context, content_of, fhir_id
from adapter.mapping.spec import Mapping, Node


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
    seed = "|".join(first_text(xpath(root)) for xpath in mapping.seed)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": make_id(seed, "Bundle"), "type": "message", "entry": []}
    state = Forward(mappings, conceptmaps, seed, bundle, tree=root.getroottree())
    state.aliases["bundle"] = bundle
    _apply_root(state, mapping, root)
    for target, path, alias in state.pending:
        if alias in state.aliases:
            paths.put(target, path, {"reference": state.urls[id(state.aliases[alias])]})
    _check_identifiers(state)
    collect_residue(state)
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


def _apply_root(state: Forward, mapping: Mapping, element: etree._Element) -> None:
    for node in mapping.nodes:
        _forward(state, mapping, node, [element], state.bundle, state.bundle)


def _select(elements: list[etree._Element], node: Node) -> list[etree._Element]:
    found = elements
    for step in node.path:
        found = [child for element in found for child in element.iterchildren(step)]
    if node.where is not None:
        found = [element for element in found if node.where(element)]
    return found


def _target(state: Forward, to: str, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    head, _, rest = to.partition(":")
    if rest and "." not in head and "(" not in head:
        return state.aliases[head], rest
    return item, to


def _forward(
    state: Forward,
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
            if not empty(element):  # an empty element makes no resource; it travels as residue of its parent
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
        if node.to is not None and not list_step(node.to):
            break


def _require(state: Forward, rule: tuple[etree.XPath, str, str], matches: list[etree._Element]) -> None:
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


def _new_resource(state: Forward, mapping: Mapping, node: Node, element: etree._Element) -> None:
    if state.tree is None or node.type is None or node.resource is None:
        raise ValueError("a resource node needs a type and an alias (checked when the mapping is loaded)")
    if node.id is not None:
        resource_id = fhir_id(first_text(node.id(element)) or state.tree.getpath(element))
    else:
        resource_id = make_id(state.seed, state.tree.getpath(element) + "|" + node.resource)
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


def _dispatch_payload(state: Forward, content: etree._Element, item: dict[str, Any], resource: dict[str, Any]) -> None:
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
    state: Forward,
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
    repeat = list_step(node.to)
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


def _check_identifiers(state: Forward) -> None:
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
