"""Residue: what no rule used travels verbatim, so that KITH -> FHIR -> KITH gives the message back unchanged.

On the way to FHIR every attribute, text and element no rule used becomes a ``kith-residue`` extension on the
resource made from the nearest enclosing element, with its path and position (ADP-3001). On the way back the
rules rebuild elements in schema order first; each residue is then put back at its recorded position, and a rule
whose element travels as residue writes nothing, so nothing comes back twice.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from adapter.errors import Issue
from adapter.mapping.engine.common import DECLARATION, RESIDUE, WHOLE, Forward, Reverse
from adapter.mapping.functions import CONTENT, TEXT, XSI_TYPE, declare
from adapter.parse.xml_safe import parse_xml

# --- KITH -> FHIR: collect -----------------------------------------------------------------------------------


def collect_residue(state: Forward) -> None:
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
            if where.rpartition(" ")[2].startswith(DECLARATION):
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
    state: Forward,
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
                items.extend((f"{where}{DECLARATION}{p}", uri) for p, uri in _declarations_of(element).items())
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


def _declarations_of(element: etree._Element) -> dict[str, str]:
    """The declaration the element's own ``xsi:type`` value needs (prefix -> URI), when it has a prefix."""
    value = element.get(XSI_TYPE) or ""
    prefix = value.strip().partition(":")[0] if ":" in value else ""
    uri = element.nsmap.get(prefix) if prefix else None
    return {prefix: uri} if prefix and uri else {}


def _readable(where: str) -> str:
    return "/".join(step.split("}")[-1].split("#")[0] for step in where.split(" "))


# --- FHIR -> KITH: restore -----------------------------------------------------------------------------------


def carried(state: Reverse, parent: etree._Element, tag: str) -> bool:
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


def whole_message(bundle: dict[str, Any]) -> etree._Element | None:
    entries = bundle.get("entry") or []
    header = entries[0].get("resource", {}) if entries and isinstance(entries[0], dict) else {}
    for extension in header.get("extension", []) if isinstance(header, dict) else []:
        if extension.get("url") != RESIDUE:
            continue
        parts = {e.get("url"): e.get("valueString") for e in extension.get("extension", [])}
        if parts.get("path") == WHOLE and parts.get("value"):
            return parse_xml(str(parts["value"]).encode("utf-8")).getroot()
    return None


def restore_residue(resource: dict[str, Any], element: etree._Element) -> None:
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
        if last.startswith(DECLARATION):
            declare(current, {last.removeprefix(DECLARATION): value})
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
