"""Rules for authoring a StructureDefinition (a profile being validated as a resource), beyond its invariants.

* Its snapshot must be buildable from its differential and its base: every path names an element of the base
  (a choice element is renamed for one of its types only, ``Observation.valueQuantity``).
* A differential may not change a value its base fixes (a profile of an extension cannot give it another url).
* A slicing discriminator's path starts with a child of the sliced element.
* A profile on an element's type must be a profile of that type (``Count`` is a type of its own, not a profile
  of ``Quantity``); any resource profile fits an element of type Resource or DomainResource.

* A profile that inherits obligations (extension inherit-obligations) inherits them from an obligation profile
  (extension obligation-profile) on the same base.

Only constraint profiles whose base we hold are checked for the differential rules: they need the base's
snapshot.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from adapter.errors import AdapterError
from adapter.validate.snapshot import generate_snapshot
from adapter.validate.state import Walk

INHERIT_OBLIGATIONS_EXT = "http://hl7.org/fhir/StructureDefinition/inherit-obligations"
OBLIGATION_PROFILE_EXT = "http://hl7.org/fhir/StructureDefinition/obligation-profile"

if TYPE_CHECKING:
    from adapter.validate.packages import Definitions


def check_structure_definition(sd: dict[str, Any], expr: str, walk: Walk, defs: Definitions) -> None:
    """Add the authoring issues of the StructureDefinition ``sd`` (at ``expr``) to ``walk``."""
    _inherited_obligations(sd, expr, walk, defs)
    differential = sd.get("differential")
    base_url = sd.get("baseDefinition")
    if sd.get("derivation") != "constraint" or not isinstance(differential, dict) or not isinstance(base_url, str):
        return
    elements = differential.get("element")
    if not isinstance(elements, list) or not all(
        isinstance(e, dict) and isinstance(e.get("path"), str) for e in elements
    ):
        return  # the structure rules report a broken differential
    try:
        base = defs.snapshot(base_url)
    except AdapterError:
        return  # a base we do not hold: nothing to check against
    try:
        snapshot = generate_snapshot(sd, defs)["snapshot"]["element"]
    except AdapterError as error:
        detail = error.issues[0].args.get("detail", str(error)) if error.issues else str(error)
        walk.add("ADP-4080", "error", expr, detail=detail)
        return
    by_id = {e.get("id"): e for e in base.get("snapshot", {}).get("element", []) if isinstance(e, dict)}
    built = {e.get("id"): e for e in snapshot}
    for position, element in enumerate(elements):
        where = f"{expr}.differential.element[{position}]"
        _fixed(element, by_id.get(element.get("id") or element["path"]), where, walk)
        _type_profiles(element, where, walk, defs)
        if isinstance(element.get("slicing"), dict):
            _discriminators(element, built.get(element.get("id") or element["path"]), snapshot, where, walk, defs)


def _inherited_obligations(sd: dict[str, Any], expr: str, walk: Walk, defs: Definitions) -> None:
    """A profile it inherits obligations from (extension inherit-obligations) must be an obligation profile
    (extension obligation-profile = true) on the same base."""
    extensions = sd.get("extension")
    for position, extension in enumerate(extensions if isinstance(extensions, list) else []):
        if not isinstance(extension, dict) or extension.get("url") != INHERIT_OBLIGATIONS_EXT:
            continue
        url = extension.get("valueCanonical")
        source = defs.get(url) if isinstance(url, str) else None
        if not isinstance(source, dict) or source.get("resourceType") != "StructureDefinition":
            continue
        where = f"{expr}.extension[{position}]"
        marks = source.get("extension")
        marked = isinstance(marks, list) and any(
            isinstance(m, dict) and m.get("url") == OBLIGATION_PROFILE_EXT and m.get("valueBoolean") is True
            for m in marks
        )
        if not marked:
            walk.add("ADP-4084", "error", where, profile=url)
        elif source.get("baseDefinition") != sd.get("baseDefinition"):
            walk.add(
                "ADP-4085",
                "error",
                where,
                profile=url,
                base=source.get("baseDefinition"),
                expected=sd.get("baseDefinition"),
            )


def _fixed(element: dict[str, Any], base: dict[str, Any] | None, where: str, walk: Walk) -> None:
    """A value the base fixes stays fixed."""
    if base is None:
        return
    for key, value in element.items():
        if key.startswith("fixed") and key in base and base[key] != value:
            walk.add("ADP-4081", "error", where, path=element["path"], value=_shown(value), fixed=_shown(base[key]))


def _type_profiles(element: dict[str, Any], where: str, walk: Walk, defs: Definitions) -> None:
    """Each profile on a type is a StructureDefinition of that type."""
    types = element.get("type")
    for t, type_element in enumerate(types if isinstance(types, list) else []):
        code = type_element.get("code") if isinstance(type_element, dict) else None
        if not isinstance(code, str) or ":" in code:
            continue
        profiles = type_element.get("profile")
        for p, url in enumerate(profiles if isinstance(profiles, list) else []):
            profile = defs.get(url) if isinstance(url, str) else None
            if isinstance(profile, dict) and profile.get("resourceType") == "StructureDefinition":
                any_resource = code in ("Resource", "DomainResource") and profile.get("kind") == "resource"
                if profile.get("type") != code and not any_resource:
                    walk.add(
                        "ADP-4082",
                        "error",
                        f"{where}.type[{t}].profile[{p}]",
                        profile=url,
                        type=profile.get("type"),
                        path=element["path"],
                        code=code,
                    )


def _discriminators(
    element: dict[str, Any],
    built: dict[str, Any] | None,
    snapshot: list[dict[str, Any]],
    where: str,
    walk: Walk,
    defs: Definitions,
) -> None:
    """The first step of each discriminator path names a child of the sliced element (a path with functions other
    than ``extension()``, ``resolve()`` and ``ofType()`` is not judged)."""
    if built is None:
        return
    children = _child_names(built, snapshot, defs)
    if not children:
        return
    discriminators = element["slicing"].get("discriminator")
    for d, discriminator in enumerate(discriminators if isinstance(discriminators, list) else []):
        path = discriminator.get("path") if isinstance(discriminator, dict) else None
        if not isinstance(path, str):
            continue
        first = path.removeprefix("$this.").split(".", 1)[0]
        if first == "$this" or not first.isidentifier() or first in children:
            continue
        if first.startswith(("extension(", "resolve(", "ofType(")):
            continue
        walk.add("ADP-4083", "error", f"{where}.slicing.discriminator[{d}]", path=path, element=built.get("path"))


def _child_names(built: dict[str, Any], snapshot: list[dict[str, Any]], defs: Definitions) -> set[str]:
    """The names of the children of a snapshot element: inline ones, else those of its (first) type."""
    prefix = str(built.get("id")) + "."
    names = {
        str(e.get("id"))[len(prefix) :].split(".", 1)[0].split(":", 1)[0]
        for e in snapshot
        if str(e.get("id", "")).startswith(prefix)
    }
    if not names:
        types = built.get("type")
        code = types[0].get("code") if isinstance(types, list) and types and isinstance(types[0], dict) else None
        if not isinstance(code, str) or ":" in code or code[:1].islower():
            return set()
        try:
            definition = defs.type_definition(code)
        except AdapterError:
            return set()
        root = str(definition["snapshot"]["element"][0].get("id"))
        names = {
            str(e.get("id"))[len(root) + 1 :].split(".", 1)[0]
            for e in definition["snapshot"]["element"][1:]
            if str(e.get("id", "")).startswith(root + ".")
        }
    return {n.removesuffix("[x]") for n in names}


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
