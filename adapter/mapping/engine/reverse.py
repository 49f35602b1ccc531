"""FHIR -> KITH: the to-FHIR mapping tree read backwards, building KITH XML from a FHIR message Bundle.

The rules rebuild elements in the order the tree gives (schema order); the residue each resource carries is put
back afterwards (adapter/mapping/engine/residue.py). A message that travelled whole comes back as it was.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapter.mapping import paths
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.mapping.engine.common import ORIGINAL, Reverse, empty, list_step
from adapter.mapping.engine.residue import carried, restore_residue, whole_message
from adapter.mapping.functions import CONTENT, FUNCTIONS, TEXT, Context, set_content
from adapter.mapping.spec import Mapping, Node
from adapter.parse.xml_safe import parse_xml


def to_kith(
    bundle: dict[str, Any], mapping: Mapping, mappings: dict[str, Mapping], conceptmaps: ConceptMaps
) -> etree._Element:
    """Build the KITH message for a FHIR message Bundle with the to-FHIR ``mapping`` read backwards."""
    index = {
        entry["fullUrl"]: entry["resource"]
        for entry in bundle.get("entry", [])
        if isinstance(entry, dict) and "fullUrl" in entry and isinstance(entry.get("resource"), dict)
    }
    whole = whole_message(bundle)
    if whole is not None:
        return whole
    by_definition = {m.definition: m for m in mappings.values() if m.definition}
    by_definition.update({m.enveloped: m for m in mappings.values() if m.enveloped})
    state = Reverse(by_definition, conceptmaps, bundle, index)
    state.urls = {id(resource): url for url, resource in index.items()}
    state.aliases["bundle"] = bundle
    root = etree.Element(mapping.root, nsmap=_nsmap(mapping))
    for node in mapping.nodes:
        _reverse(state, mapping, node, root, bundle)
    done: set[etree._Element] = set()
    for resource, element in state.groups:
        if element not in done:
            done.add(element)
            restore_residue(resource, element)
    return root


def _reverse_target(state: Reverse, to: str, item: dict[str, Any]) -> tuple[dict[str, Any], str]:
    head, _, rest = to.partition(":")
    if rest and "." not in head and "(" not in head:
        return state.aliases.get(head, {}), rest
    return item, to


def _make(
    parent: etree._Element, path: tuple[str, ...], *, fresh: bool = False
) -> tuple[etree._Element, list[etree._Element]]:
    """Create the elements of ``path`` under ``parent``; reuse the last existing intermediate (unless ``fresh``: every
    element of the path is new), the leaf is new. Returns the leaf and the elements created (to remove them again when
    they stay empty)."""
    created = []
    current = parent
    for position, step in enumerate(path):
        last = position == len(path) - 1
        existing = None if last or fresh else next(iter(reversed(list(current.iterchildren(step)))), None)
        if existing is None:
            existing = etree.SubElement(current, step)
            created.append(existing)
        current = existing
    return current, created


def _prune(created: list[etree._Element]) -> None:
    for element in reversed(created):
        parent = element.getparent()
        if parent is not None and empty(element):
            parent.remove(element)


def _resolve(state: Reverse, values: list[Any]) -> list[dict[str, Any]]:
    found = []
    for value in values:
        if isinstance(value, dict) and isinstance(value.get("reference"), str) and value["reference"] in state.index:
            found.append(state.index[value["reference"]])
    return found


def _reverse(state: Reverse, mapping: Mapping, node: Node, parent: etree._Element, item: dict[str, Any]) -> None:
    if not node.reverse or node.ref is not None:
        return
    if node.standalone is not None and node.standalone == state.enveloped:
        return
    if node.when is not None:
        target, path = _reverse_target(state, node.when[0], item)
        if node.when[1] not in [str(v) for v in paths.get(target, path)]:
            return
    if not node.forward and node.path and carried(state, parent, node.path[0]):
        return
    if node.resource is not None:
        for resource in _instances(state, node):
            state.written.add(id(resource))
            element, _ = _make(parent, node.path, fresh=node.repeats)
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


def _instances(state: Reverse, node: Node) -> list[dict[str, Any]]:
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


def _reverse_value(state: Reverse, node: Node, parent: etree._Element, item: dict[str, Any]) -> None:
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
    if not values and node.fallback and not (node.path and carried(state, parent, node.path[0])):
        values = _fallback(state, node, target)
        originals = [None] * len(values)
    if not list_step(node.to):
        values, originals = values[:1], originals[:1]
    for value, original in zip(values, originals, strict=True):
        element, created = _make(parent, node.path)
        function.write(value, element, ctx)
        if empty(element):  # the function could not write this value here (a code of another list)
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


def _fallback(state: Reverse, node: Node, target: dict[str, Any]) -> list[Any]:
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
