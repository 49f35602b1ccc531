"""Which Python shaper makes a message written in FHIR into the Bundle a to-KITH mapping writes, declared per KITH
message type in the to-KITH mapping files (their header key ``shape:``), and read and checked here.

A FHIR-native message (its event from CodeSystem meldingshendelse) travels as the KITH message type the ConceptMap
meldingshendelse-til-kith-8279 gives its event. The to-KITH file whose ``shape:`` lists that type (``types:``: list
8279 codes; one ending in ``*`` stands for every code that begins with it) names the shaper (``shaper:``), a Python
function in :data:`SHAPERS`, and gives it its content as data: the profiles of the resources it makes
(``profiles:``) and, for a referral, the name of the target (``target:``), the elements of each resource it reads
that the target has a place for (``sent:``; any other is reported ADP-3012) and what the target requires
(``requires:``, ADP-3014 for what a message lacks). A KITH type no file declares has no shaper: ADP-3004.

:meth:`Shapes.load` reads every ``fhir.to-kith-*.yaml`` of the mappings folder with a ``shape:`` block and refuses a
bad one with ADP-3003 (unknown keys, an unknown shaper, resource types or elements FHIR or the shaper does not know,
a table that is not in mappings/_tables.yaml, two files that claim the same KITH type). The block is described in
mappings/README.md ("The header key shape:").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource

from adapter.errors import AdapterError, Issue
from adapter.mapping.plan_dialog import FHIR_XML, document, fhir_xml, new_ids, shape_plan
from adapter.mapping.plan_dialog import MAKES as PLAN_MAKES
from adapter.mapping.referral import MAKES, READS, ROOTS, shape_referral

if TYPE_CHECKING:
    from adapter.mapping import Mappings

#: The result of a shaper: the KITH-shaped Bundle (None when the message cannot be sent) and the issues found.
Shaped = tuple[dict[str, Any] | None, list[Issue]]


@dataclass(frozen=True)
class Outbound:
    """A FHIR-native message on its way to KITH: the Bundle and its MessageHeader, its event and the KITH type it
    travels as, a title (the event's display), the deterministic ids of what is made of it, and the
    DocumentReference that carries the message itself as FHIR XML (a KITH receiver with FHIR reads it from there)."""

    bundle: dict[str, Any]
    header: dict[str, Any]
    event: str
    kith_type: str
    title: str
    new_id: Callable[[str], str]
    attachment: dict[str, Any]

    @classmethod
    def of(cls, bundle: dict[str, Any], header: dict[str, Any], event: str, kith_type: str) -> Outbound:
        """The message ``bundle`` (MessageHeader ``header``, event code ``event``) to go as ``kith_type``."""
        title = str(header.get("eventCoding", {}).get("display") or event)
        new_id = new_ids(bundle)
        attachment = document(new_id("bundle"), FHIR_XML, f"{title} (FHIR)", fhir_xml(bundle), bundle.get("timestamp"))
        return cls(bundle, header, event, kith_type, title, new_id, attachment)


@dataclass(frozen=True)
class Requirement:
    """One thing the target requires of a message (``requires:``): the element reported when it is lacking (``at``),
    the path whose value is checked (``value``, by default ``at``), what is lacking in English and Norwegian, and
    one test: ``test`` (present, date, date-time), ``table`` (the value is a key of that code table) or
    ``resource`` (the value references a resource of that type, with ``all_of`` or ``any_of`` name/identifier)."""

    at: str
    value: str
    what: tuple[str, str]
    test: str | None = None
    table: str | None = None
    resource: str | None = None
    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Shape:
    """One to-KITH file's ``shape:``: its KITH types, its shaper and the content the shaper works from."""

    file: str
    shaper: str
    types: tuple[str, ...]
    #: MessageHeader.definition of the shaped message: the ``definition`` of the file's inverse (to-FHIR) mapping
    definition: str
    profiles: dict[str, str]
    target: str = ""
    sent: dict[str, frozenset[str]] = field(default_factory=dict)
    requires: tuple[Requirement, ...] = ()

    def covers(self, kith_type: str) -> bool:
        """The shape declares the KITH message type ``kith_type`` (exactly, or by a prefix ending in ``*``)."""
        return any(_matches(pattern, kith_type) for pattern in self.types)


@dataclass(frozen=True)
class Kind:
    """A shaper kind: its function and what its block may and must say (the resource types it makes, whose profiles
    are required; those whose elements ``sent`` may list; the roots of ``requires`` paths; its own keys)."""

    function: Callable[[Outbound, Shape, Mappings], Shaped]
    makes: frozenset[str]
    reads: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()
    keys: frozenset[str] = frozenset()


#: The shaper kinds by the name a ``shape:`` block gives in ``shaper:``.
SHAPERS: dict[str, Kind] = {
    "referral": Kind(shape_referral, MAKES, READS, ROOTS, keys=frozenset({"target", "sent", "requires"})),
    "plan-as-dialog": Kind(shape_plan, PLAN_MAKES),
}
_COMMON_KEYS = {"types", "shaper", "profiles"}
_REQUIREMENT_KEYS = {"at", "value", "what", "is", "in", "resource", "with", "with-any", "optional"}
_TESTS = {"present", "date", "date-time"}
_HAVING = {"name", "identifier"}
_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*\*?$")
_PATH = re.compile(r"^[A-Z][A-Za-z]+(\.[a-z][A-Za-z]*(\[\d+\])?)+$")


@dataclass(frozen=True)
class Shapes:
    """The ``shape:`` blocks of the to-KITH mapping files, by file name."""

    by_file: dict[str, Shape]

    @classmethod
    def load(cls, folder: Path, tables: dict[str, dict[str, Any]]) -> Shapes:
        """Every ``fhir.to-kith-*.yaml`` in ``folder`` with a ``shape:`` block, checked (ADP-3003); ``tables`` are
        the code tables (mappings/_tables.yaml) a requirement may name."""
        by_file: dict[str, Shape] = {}
        for path in sorted(folder.glob("fhir.to-kith-*.yaml")):
            data = _read(path)
            if "shape" not in data:
                continue
            shape = _Checker(path.name, tables).shape(data["shape"], _definition(folder, path.name, data))
            for other in by_file.values():
                clash = _overlap(shape.types, other.types)
                if clash:
                    raise _invalid(path.name, f"shape: the KITH type {clash} is also declared by {other.file}")
            by_file[path.name] = shape
        return cls(by_file)

    def for_type(self, kith_type: str) -> Shape | None:
        """The shape that declares the KITH message type ``kith_type`` (None: no shaper makes it)."""
        return next((shape for shape in self.by_file.values() if shape.covers(kith_type)), None)


def shape_message(shape: Shape, message: Outbound, mappings: Mappings) -> Shaped:
    """The message shaped by the shaper ``shape`` names, with the content ``shape`` gives it."""
    return SHAPERS[shape.shaper].function(message, shape, mappings)


class _Checker:
    """Reads one file's ``shape:`` block into a :class:`Shape`, refusing what it does not know (ADP-3003)."""

    def __init__(self, file: str, tables: dict[str, dict[str, Any]]) -> None:
        self.file, self.tables = file, tables

    def fail(self, detail: str) -> AdapterError:
        return _invalid(self.file, "shape: " + detail)

    def shape(self, raw: Any, definition: str) -> Shape:
        if not isinstance(raw, dict):
            raise self.fail("must be a mapping with types, shaper and profiles")
        kind = SHAPERS.get(str(raw.get("shaper")))
        if kind is None:
            raise self.fail(f"unknown shaper {raw.get('shaper')!r} (known: {sorted(SHAPERS)})")
        unknown = set(raw) - _COMMON_KEYS - kind.keys
        if unknown:
            raise self.fail(f"unknown keys {sorted(unknown)} for the shaper {raw['shaper']!r}")
        types = raw.get("types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) and _TYPE.match(t) for t in types):
            raise self.fail("types must be a list of KITH message types (list 8279; a prefix ends in '*')")
        return Shape(
            file=self.file,
            shaper=str(raw["shaper"]),
            types=tuple(types),
            definition=definition,
            profiles=self.profiles(raw.get("profiles"), kind.makes),
            target=self.text(raw, "target") if "target" in kind.keys else "",
            sent=self.sent(raw.get("sent"), kind.reads) if "sent" in kind.keys else {},
            requires=tuple(self.requirement(r, kind.roots) for r in self.listed(raw, "requires")),
        )

    def profiles(self, raw: Any, makes: frozenset[str]) -> dict[str, str]:
        if not isinstance(raw, dict):
            raise self.fail("profiles must map each resource type the shaper makes to its profile")
        for rtype, url in raw.items():
            self.resource_type(rtype, makes, "profiles")
            if not isinstance(url, str) or not url.startswith("http"):
                raise self.fail(f"profiles: {rtype} needs a profile URL, not {url!r}")
        missing = sorted(makes - set(raw))
        if missing:
            raise self.fail(f"profiles: no profile for {missing}, which the shaper makes")
        return {str(k): str(v) for k, v in raw.items()}

    def sent(self, raw: Any, reads: frozenset[str]) -> dict[str, frozenset[str]]:
        if not isinstance(raw, dict):
            raise self.fail("sent must map resource types to the elements the target has a place for")
        found: dict[str, frozenset[str]] = {}
        for rtype, elements in raw.items():
            known = self.resource_type(rtype, reads, "sent")
            if not isinstance(elements, list) or not all(isinstance(e, str) for e in elements):
                raise self.fail(f"sent: {rtype} must be a list of element names")
            strange = sorted(set(elements) - known)
            if strange:
                raise self.fail(f"sent: {rtype} has no elements {strange}")
            found[rtype] = frozenset({"resourceType", *elements})
        return found

    def requirement(self, raw: Any, roots: frozenset[str]) -> Requirement:
        if not isinstance(raw, dict) or set(raw) - _REQUIREMENT_KEYS:
            raise self.fail(f"requires: {raw!r}: a requirement takes {sorted(_REQUIREMENT_KEYS)}")
        at, value = self.path(raw.get("at"), roots), self.path(raw.get("value", raw.get("at")), roots)
        what = raw.get("what")
        if (
            not isinstance(what, dict)
            or set(what) != {"en", "nb"}
            or any(not isinstance(w, str) for w in what.values())
        ):
            raise self.fail(f"requires: {at}: what must give en and nb, what the message lacks")
        tests = [key for key in ("is", "in", "resource") if key in raw]
        if len(tests) != 1:
            raise self.fail(f"requires: {at}: give one of is ({sorted(_TESTS)}), in (a table) or resource")
        if "is" in raw and raw["is"] not in _TESTS:
            raise self.fail(f"requires: {at}: is must be one of {sorted(_TESTS)}")
        if "in" in raw and raw["in"] not in self.tables:
            raise self.fail(f"requires: {at}: the table {raw['in']!r} is not in _tables.yaml")
        having = {key: raw.get(key, []) for key in ("with", "with-any")}
        if any(not isinstance(v, list) or set(v) - _HAVING for v in having.values()) or (
            "resource" not in raw and any(having.values())
        ):
            raise self.fail(f"requires: {at}: with and with-any list {sorted(_HAVING)}, for a resource")
        if "resource" in raw:
            self.resource_type(raw["resource"], None, "requires")
        return Requirement(
            at=at,
            value=value,
            what=(what["en"], what["nb"]),
            test=raw.get("is"),
            table=raw.get("in"),
            resource=raw.get("resource"),
            all_of=tuple(having["with"]),
            any_of=tuple(having["with-any"]),
            optional=bool(raw.get("optional", False)),
        )

    def path(self, raw: Any, roots: frozenset[str]) -> str:
        """A path from one of the shaper's roots whose first element its resource type has."""
        if not isinstance(raw, str) or not _PATH.match(raw):
            raise self.fail(f"requires: {raw!r} is no path such as ServiceRequest.authoredOn")
        root, first = raw.split(".")[0], raw.split(".")[1].split("[")[0]
        if root not in roots:
            raise self.fail(f"requires: {raw} does not start at one of {sorted(roots)}")
        if first not in _elements(root):
            raise self.fail(f"requires: {root} has no element {first!r}")
        return raw

    def resource_type(self, rtype: Any, allowed: frozenset[str] | None, where: str) -> frozenset[str]:
        """The elements of the resource type ``rtype``, refused unless FHIR has it and the shaper uses it."""
        known = _elements(rtype) if isinstance(rtype, str) else frozenset()
        if not known:
            raise self.fail(f"{where}: {rtype!r} is not a FHIR resource type")
        if allowed is not None and rtype not in allowed:
            raise self.fail(f"{where}: the shaper uses no {rtype} (it uses {sorted(allowed)})")
        return known

    def text(self, raw: dict[str, Any], key: str) -> str:
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise self.fail(f"{key} must be a text")
        return str(raw[key])

    def listed(self, raw: dict[str, Any], key: str) -> list[Any]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"{key} must be a list")
        return value


@cache
def _elements(rtype: str) -> frozenset[str]:
    """The elements (JSON names) of a FHIR resource type; empty when FHIR has no such resource type."""
    if rtype in ("Resource", "DomainResource"):
        return frozenset()  # abstract
    try:
        model = get_fhir_model_class(rtype)
    except (ValueError, KeyError, AttributeError):
        return frozenset()
    if not issubclass(model, Resource):
        return frozenset()  # a data type (HumanName), not a resource
    return frozenset({"resourceType", *model.elements_sequence()})


def _matches(pattern: str, kith_type: str) -> bool:
    return kith_type.startswith(pattern[:-1]) if pattern.endswith("*") else kith_type == pattern


def _overlap(mine: tuple[str, ...], theirs: tuple[str, ...]) -> str | None:
    """A KITH type (or prefix) both lists declare, if any."""
    for a in mine:
        for b in theirs:
            if _matches(a, b.rstrip("*")) or _matches(b, a.rstrip("*")):
                return a
    return None


def _definition(folder: Path, file: str, data: dict[str, Any]) -> str:
    """MessageHeader.definition of the shaped message: that of the to-FHIR file the to-KITH file reads backwards."""
    inverse = folder / str(data.get("inverse", ""))
    definition = _read(inverse).get("definition") if inverse.is_file() else None
    if not isinstance(definition, str) or not definition:
        raise _invalid(file, "shape: its inverse mapping declares no definition for the shaped message")
    return definition


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise _invalid(path.name, str(error)) from error
    return data if isinstance(data, dict) else {}


def _invalid(file: str, detail: str) -> AdapterError:
    return AdapterError.of("ADP-3003", file=file, detail=detail)
