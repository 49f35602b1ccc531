"""Snapshot generation: a differential applied to its base definition's snapshot.

The HL7 Norway no-basis profiles ship differentials only, and both SUSHI (which needs a snapshot of every parent)
and our validator need full element lists. The algorithm follows the FHIR rules for snapshots:

* the base snapshot is copied, then each differential element is applied in order;
* an element that the base does not list yet is made: a child of a complex type is taken from the type's own
  definition (or the profile named on the type, or the element a ``contentReference`` points to) and re-rooted;
  a new slice starts as a copy of the sliced element and its children, and is placed after the last slice;
* properties of the differential replace those of the base, except ``constraint``, ``mapping`` and
  ``condition``, which are added to.

Element ids carry slice names (``Patient.identifier:FNR.system``); paths do not (``Patient.identifier.system``).
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from adapter.errors import AdapterError

Element = dict[str, Any]
Resource = dict[str, Any]


class Definitions(Protocol):
    """The lookups snapshot generation needs (:class:`adapter.validate.packages.Definitions` has them): a protocol,
    because that class generates snapshots on demand with this module, which so does not import it back."""

    def get(self, url: str) -> Resource | None:
        """The resource for ``url``, or None."""
        ...

    def snapshot(self, url: str) -> Resource:
        """The StructureDefinition for ``url`` with a snapshot."""
        ...

    def type_definition(self, type_code: str) -> Resource:
        """The core StructureDefinition of a FHIR type."""
        ...


#: Element properties that a differential adds to rather than replaces.
_ADDITIVE = ("constraint", "mapping", "condition")


def generate_snapshot(sd: Resource, defs: Definitions) -> Resource:
    """Return a copy of ``sd`` with ``snapshot.element`` built from its base and its differential."""
    url = sd.get("url", "?")
    if sd.get("resourceType") != "StructureDefinition":  # a canonical of another kind, claimed as a profile
        raise _error(url, f"it is a {sd.get('resourceType')}, not a StructureDefinition")
    if not isinstance(sd.get("baseDefinition"), str):
        raise _error(url, "it has neither a snapshot nor a baseDefinition to build one from")
    base = defs.snapshot(sd["baseDefinition"])
    # a "specialization" of a type that keeps the type is a constraint in all but name, and is built as one
    if sd.get("derivation", "constraint") != "constraint" and sd.get("type") != base.get("type"):
        raise _error(url, "only constraint profiles are supported")
    builder = _Builder(url, [copy.deepcopy(e) for e in base["snapshot"]["element"]], defs, sd.get("type", ""))
    differential = sd.get("differential", {}).get("element", [])
    for diff, elem_id in zip(differential, _element_ids(differential), strict=True):
        position = builder.locate(elem_id)
        _merge(builder.elements[position], diff)
    result = copy.deepcopy(sd)
    result["snapshot"] = {"element": builder.elements}
    return result


def _error(url: str, detail: str) -> AdapterError:
    return AdapterError.of("ADP-0006", url=url, detail=detail)


def _element_ids(differential: list[Element]) -> list[str]:
    """The id of each differential element. Ids that agree with the path are kept; missing or inconsistent ones
    are made from the path, with the slice names of the slices the element follows (an element after the slice
    ``Communication.payload:string`` at ``Communication.payload.contentString`` belongs to that slice)."""
    current: dict[str, str] = {}  # path of a sliced element -> the slice now being described
    ids = []
    for diff in differential:
        path = str(diff["path"])
        given = diff.get("id")
        if isinstance(given, str) and _path_of(given) == path:
            elem_id = given
        else:
            parts = path.split(".")
            named = [
                f"{part}:{current[p]}" if (p := ".".join(parts[: i + 1])) in current else part
                for i, part in enumerate(parts[:-1])
            ]
            last = f"{parts[-1]}:{diff['sliceName']}" if diff.get("sliceName") else parts[-1]
            elem_id = ".".join([*named, last])
        for key in [k for k in current if k.startswith(path + ".")]:
            del current[key]
        slice_name = elem_id.rsplit(".", 1)[-1].partition(":")[2]
        if slice_name:
            current[path] = slice_name
        else:
            current.pop(path, None)
        ids.append(elem_id)
    return ids


def _path_of(elem_id: str) -> str:
    """``A.b:s.c`` -> ``A.b.c`` (slice names dropped)."""
    return ".".join(part.split(":", 1)[0] for part in elem_id.split("."))


def _split_last(elem_id: str) -> tuple[str, str]:
    parent, _, last = elem_id.rpartition(".")
    return parent, last


def _merge(target: Element, diff: Element) -> None:
    for key, value in diff.items():
        if key in ("id", "path"):
            continue
        if key in _ADDITIVE:
            existing = target.setdefault(key, [])
            seen = {_additive_key(item) for item in existing}
            existing.extend(copy.deepcopy(v) for v in value if _additive_key(v) not in seen)
        else:
            if key.startswith(("fixed", "pattern")):
                for old in [k for k in target if k.startswith(("fixed", "pattern"))]:
                    del target[old]
            target[key] = copy.deepcopy(value)


def _additive_key(item: Any) -> Any:
    if isinstance(item, dict):
        return item.get("key") or item.get("identity") or repr(sorted(item.items()))
    return item


class _Builder:
    """Holds the growing element list and makes missing elements on request."""

    def __init__(self, url: str, elements: list[Element], defs: Definitions, type_code: str) -> None:
        self.url = url
        self.elements = elements
        self.defs = defs
        self.type_code = type_code

    def find(self, elem_id: str) -> int | None:
        for position, element in enumerate(self.elements):
            if element.get("id") == elem_id:
                return position
        return None

    def locate(self, elem_id: str) -> int:
        """Position of ``elem_id`` in the snapshot, making it (and its parents) when missing."""
        found = self.find(elem_id)
        if found is not None:
            return found
        parent_id, last = _split_last(elem_id)
        if not parent_id:
            raise _error(self.url, f"the root element {elem_id} does not match the base")
        name, _, slice_name = last.partition(":")
        if slice_name:
            return self._make_slice(f"{parent_id}.{name}", slice_name)
        parent = self.locate(parent_id)
        actual_id = self.elements[parent]["id"]
        if actual_id != parent_id:  # the parent is a renamed choice (valueQuantity is value[x] made a Quantity)
            return self.locate(f"{actual_id}.{last}")
        if not self._has_children(parent):
            self._expand(parent)
            found = self.find(elem_id)
            if found is not None:
                return found
        return self._renamed_choice(parent_id, name)

    def _has_children(self, position: int) -> bool:
        prefix = self.elements[position]["id"] + "."
        return position + 1 < len(self.elements) and self.elements[position + 1]["id"].startswith(prefix)

    def _block_end(self, position: int) -> int:
        """Index just after the element at ``position``, its children and its slices."""
        elem_id = self.elements[position]["id"]
        end = position + 1
        while end < len(self.elements) and self.elements[end]["id"].startswith((elem_id + ".", elem_id + ":")):
            end += 1
        return end

    def _make_slice(self, sliced_id: str, slice_name: str) -> int:
        sliced = self.locate(sliced_id)
        end = self._block_end(sliced)
        template = self.elements[sliced]
        new = copy.deepcopy(template)
        new.pop("slicing", None)
        new["id"] = f"{sliced_id}:{slice_name}"
        new["sliceName"] = slice_name
        if template["path"].endswith("[x]"):
            _restrict_choice(new, template["path"].rsplit(".", 1)[1][:-3], slice_name)
        # children of the sliced element (not its other slices) come along, re-rooted to the slice
        children = [
            _reroot(e, sliced_id, new["id"], template["path"])
            for e in self.elements[sliced + 1 : end]
            if e["id"].startswith(sliced_id + ".")
        ]
        self.elements[end:end] = [new, *children]
        return end

    def _renamed_choice(self, parent_id: str, name: str) -> int:
        """``Observation.valueQuantity`` addresses ``Observation.value[x]`` restricted to Quantity."""
        for position, element in enumerate(self.elements):
            elem_id = element["id"]
            if not elem_id.startswith(parent_id + ".") or not elem_id.endswith("[x]"):
                continue
            stem = elem_id[len(parent_id) + 1 : -3]
            if "." not in stem and ":" not in stem and name.startswith(stem) and name != stem:
                if not _restrict_choice(element, stem, name):
                    shown = ", ".join(str(t.get("code")) for t in element.get("type", []))
                    raise _error(self.url, f"{name} names none of the types of {stem}[x] ({shown})")
                return position
        raise _error(self.url, f"no element {parent_id}.{name} in the base definition")

    def _expand(self, position: int) -> None:
        """Insert the children of a complex element, taken from its type or its content reference."""
        element = self.elements[position]
        elem_id, path = element["id"], element["path"]
        reference = element.get("contentReference")
        if reference:
            source = self.defs.type_definition(self.type_code)["snapshot"]["element"]
            root = reference.lstrip("#").split("#")[-1]
            children = [_reroot(e, root, elem_id, path) for e in source if e["id"].startswith(root + ".")]
        else:
            types = element.get("type", [])
            if not types:
                raise _error(self.url, f"{elem_id} has no type, so it has no children to constrain")
            profiles = types[0].get("profile", [])
            if len(types) > 1:  # a choice of several types: only what all types share (id, extension)
                definition = self.defs.type_definition("Element")
            elif len(profiles) == 1 and self.defs.get(profiles[0]) is not None:
                definition = self.defs.snapshot(profiles[0])
            else:
                definition = self.defs.type_definition(types[0]["code"])
            source = definition["snapshot"]["element"]
            root = source[0]["id"]
            children = [_reroot(e, root, elem_id, path) for e in source[1:]]
        if not children:
            raise _error(self.url, f"{elem_id} has no children to constrain")
        self.elements[position + 1 : position + 1] = children


def _reroot(element: Element, old_id_root: str, new_id_root: str, new_path_root: str) -> Element:
    new = copy.deepcopy(element)
    suffix = element["id"][len(old_id_root) :]
    new["id"] = new_id_root + suffix
    new["path"] = new_path_root + _path_of(suffix) if suffix else new_path_root
    return new


def _restrict_choice(element: Element, stem: str, name: str) -> bool:
    """Keep only the type that ``name`` (``valueQuantity``) selects from a ``value[x]`` element; False when it
    names none of its types (a slice name need not name one)."""
    wanted = name[len(stem) :]
    kept = [t for t in element.get("type", []) if t.get("code", "").lower() == wanted.lower()]
    if kept:
        element["type"] = kept
    return bool(kept)
