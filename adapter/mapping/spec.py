"""Mapping files (mappings/*.yaml) read into a tree of :class:`Node` s, checked when they are loaded.

A to-FHIR mapping describes a KITH message (or payload) once, as a tree that follows the XML in schema order:

```yaml
url: http://samhandling.no/fhir/mapping/kith-dialogmelding-1.1.to-fhir     # header: what it maps
name: KithDialogmelding11TilFhir
version: 0.1.0
source: {format: KITH XML, standard: Dialogmelding, version: "1.1", namespace: http://www.kith.no/...}
target: {format: FHIR R4, resource: message Bundle}
namespaces: {d: http://www.kith.no/xmlstds/dialog/2013-01-23}
root: d:Dialogmelding
definition: http://samhandling.no/fhir/MessageDefinition/kith-dialogmelding-1.1
map:
  - path: d:Notat                 # XML path relative to the parent node's element ("." = itself)
    resource: notat               # a new resource per matched element; its alias for links and refs
    type: Communication
    profile: http://...           # claimed in meta.profile; narrows the reverse selection
    link: [header:focus[+]]       # references to it written into earlier resources; the first one is how
                                  # the reverse direction finds the resources again
    set: {status: completed}      # constants written into the new resource or item (this direction only)
    rules:
      - {path: d:Tema, to: topic.text, fn: text}        # a value: fn reads the element, `to` is a FHIR path
      - {to: subject, ref: patient}                     # a reference to another resource by alias (to one the
                                                        # message gives later once the whole message is mapped)
      - path: d:RollerRelatertNotat                     # a structure: its own FHIR item when `to` is given
      # require: {test: XPath, code: E36, what: ...}    # a content rule: when false, ADP-3011 with that AppRec code
      # reverse: only, when: "header:eventCoding.code=X" # built from FHIR written as FHIR (see Node.forward)
      # fallback: {from: alias:path, table: t}         # reverse only: written when the rule's FHIR value is empty
        to: extension('http://...')[+]
        rules: [...]
```

The to-KITH file of the same message names its to-FHIR file (``inverse``): the rules are written once and read
in both directions, so the two directions cannot drift apart. Keys a node does not know, unknown functions,
ConceptMaps or aliases, and bad FHIR paths are refused at load time (ADP-3003).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from adapter.errors import AdapterError
from adapter.mapping.envelope import Envelope, EnvelopeError
from adapter.mapping.functions import FUNCTIONS
from adapter.mapping.paths import parse_path
from adapter.mapping.templates import TemplateError, fill, only_in, unfilled, variants_of

_NODE_KEYS = {
    "path",
    "where",
    "resource",
    "type",
    "profile",
    "link",
    "set",
    "to",
    "fn",
    "ref",
    "rules",
    "payload",
    "reverse",
    "fallback",
    "note",
    "id",
    "backlink",
    "use",
    "ns",
    "require",
    "when",
    "standalone",
    "repeats",
    "with",  # the values of a fragment's placeholders (adapter/mapping/templates.py)
    # function arguments
    "system",
    "attr",
    "map",
    "table",
    "value",
    "prefix",
}
_FN_ARGS = ("system", "attr", "map", "table", "value", "prefix")
_FALLBACK_KEYS = {"from", "value", "table", "map"}
_HEADER_KEYS = {
    "url",
    "name",
    "title",
    "version",
    "description",
    "source",
    "target",
    "direction",
    "namespaces",
    "root",
    "seed",
    "definition",
    "event",
    "map",
    "inverse",
    "enveloped",
    "envelope",
    "basis",
    "samples",
    "variants",  # one file for several versions or kinds of a message (adapter/mapping/templates.py)
    "shape",  # to-KITH files: how a message written in FHIR is shaped for this KITH type (adapter/mapping/shapers.py)
}


@dataclass
class Node:
    """One node of a mapping tree (see the module docstring for the keys)."""

    path: tuple[str, ...]  # Clark names; empty for "." or a path-less rule
    where: etree.XPath | None = None
    resource: str | None = None
    type: str | None = None
    profile: str | None = None
    link: list[str] = field(default_factory=list)
    set: dict[str, Any] = field(default_factory=dict)
    to: str | None = None
    fn: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None
    rules: list[Node] = field(default_factory=list)
    payload: bool = False
    reverse: bool = True
    #: Reverse only, for content written in FHIR: when the rule's own FHIR value is empty, write the values at
    #: ``from`` (``alias:path`` or relative to the rule's target), else the constant ``value``, each looked up in
    #: ``table`` or backwards in ``map`` when given. Never for an element that travels as residue.
    fallback: dict[str, Any] | None = None
    id: etree.XPath | None = None  # the resource id comes from this (through fhir_id), else uuid5 of the path
    backlink: str | None = None  # "path->alias": the new resource refers to an earlier one (reverse selection)
    #: A content rule on each matched element: {test: XPath, code: list 8221 code, what: what is missing}. When
    #: the test is false the message is rejected with ADP-3011 (the AppRec error ``code``, pointing at the element).
    require: tuple[etree.XPath, str, str] | None = None
    #: ``reverse: only``: the node builds KITH from FHIR written as FHIR (no KITH text kept for the element); a
    #: message made from KITH brings that element back from its residue instead. Never applied forward.
    forward: bool = True
    #: Reverse only: the node applies when the FHIR value at ``path`` (alias-qualified) equals ``value``.
    when: tuple[str, str] | None = None
    #: For a document that may stand alone or travel in a MsgHead (Henvisning 1.x): True, the node applies only
    #: when it stands alone (its own header, its own parties); False, only inside a MsgHead; None, always.
    standalone: bool | None = None
    #: Reverse, for a resource whose ``path`` has more than one step: every instance gets elements of its own for the
    #: whole path (a repeating container that holds one each, as PLO's KontaktpersonHelsepersonell/Kontaktperson),
    #: instead of all of them in the last container written.
    repeats: bool = False


@dataclass
class Mapping:
    """A to-FHIR mapping file: its header and its tree."""

    file: str
    url: str
    name: str
    version: str
    source: dict[str, Any]
    target: dict[str, Any]
    namespaces: dict[str, str]
    root: str  # Clark name of the root element
    nodes: list[Node]
    seed: list[etree.XPath] = field(default_factory=list)
    definition: str | None = None
    event: list[str] = field(default_factory=list)
    #: The MessageHeader.definition when a standalone document travels inside a MsgHead instead (Henvisning 1.x).
    enveloped: str | None = None
    #: Where the message id, date, type, parties and patient are, for a standard that stands at the root of a
    #: message (:mod:`adapter.mapping.envelope`); None for a payload.
    envelope: Envelope | None = None
    #: The legal basis other than consent every message of this type goes under (code of CodeSystem delingsgrunnlag,
    #: and the reason), e.g. a referral or an epikrise to collaborating personnel (helsepersonelloven § 45).
    basis: tuple[str, str] | None = None
    #: Messages that exercise this mapping: ``standards:<path>`` under the standards directory (never copied into
    #: the repo), or a path in the repo (``examples/kith/...``). Every to-FHIR file declares at least one.
    samples: tuple[str, ...] = ()


def load_mappings(folder: Path, tables: dict[str, dict[str, Any]], conceptmaps: set[str]) -> dict[str, Mapping]:
    """Every to-FHIR mapping in ``folder``, by root element (Clark name); to-KITH files are checked to name one.

    ``_fragments.yaml`` holds named rule lists shared by several files (``use: name`` with ``ns: prefix``; the
    fragment writes its element names with the prefix ``x:``, replaced by ``ns``)."""
    fragments_file = folder / "_fragments.yaml"
    fragments = _read(fragments_file) if fragments_file.is_file() else {}
    by_file: dict[str, Mapping] = {}
    described: set[str] = set()  # the to-FHIR files, each of one or more mappings (variants)
    inverses: dict[str, str] = {}
    for path in sorted(folder.glob("*.yaml")):
        if path.name.startswith("_") or path.name == "unmapped.yaml":
            continue
        data = _read(path)
        unknown = set(data) - _HEADER_KEYS
        if unknown:
            raise _invalid(path.name, f"unknown header keys {sorted(unknown)}")
        for key in ("url", "name", "version", "source", "target", "direction"):
            if key not in data:
                raise _invalid(path.name, f"the header has no {key!r}")
        if data["direction"] == "to-kith":
            inverses[path.name] = str(data.get("inverse", ""))
            continue
        if data["direction"] != "to-fhir":
            raise _invalid(path.name, "direction must be to-fhir or to-kith")
        described.add(path.name)
        try:
            variants = variants_of(path.name, data)
        except TemplateError as error:
            raise _invalid(path.name, str(error)) from error
        known = frozenset(str(v) for v, _ in variants if v is not None)
        for variant, filled in variants:
            name = path.name if variant is None else f"{path.name} ({variant})"
            by_file[name] = _mapping(name, filled, tables, conceptmaps, fragments, (variant, known))
    for name, inverse in inverses.items():
        if inverse not in described:
            raise _invalid(name, f"inverse {inverse!r} is not a to-FHIR mapping in {folder}")
    missing = sorted(described - set(inverses.values()))
    if missing:
        raise _invalid(missing[0], "has no to-KITH file naming it as its inverse")
    roots: dict[str, Mapping] = {}
    for mapping in by_file.values():
        if mapping.root in roots:
            raise _invalid(mapping.file, f"root {mapping.root} is also mapped by {roots[mapping.root].file}")
        roots[mapping.root] = mapping
    return roots


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise _invalid(path.name, str(error)) from error
    if not isinstance(data, dict):
        raise _invalid(path.name, "not a YAML mapping")
    return data


#: The placeholder prefix of a fragment's element names (``x:Id``), not a part of a longer word (``prefix:``).
_FRAGMENT_PREFIX = re.compile(r"(?<![\w.-])x:(?=[\w*])")


def _rebind(data: Any, prefix: str) -> Any:
    """A copy of a fragment with its placeholder prefix ``x:`` bound to ``prefix`` (nothing when it is empty), in
    element names, XPaths and the ``ns: x`` of the fragments it uses in turn."""
    if isinstance(data, dict):
        return {k: (prefix if k == "ns" and v == "x" else _rebind(v, prefix)) for k, v in data.items()}
    if isinstance(data, list):
        return [_rebind(item, prefix) for item in data]
    if isinstance(data, str):
        return _FRAGMENT_PREFIX.sub(f"{prefix}:" if prefix else "", data)
    return data


def _inside(sample: Any) -> bool:
    """A sample names a file under the standards directory (``standards:<path>``) or in the repo: a relative path
    that does not climb out of it."""
    if not isinstance(sample, str) or not sample.strip():
        return False
    path = Path(sample.removeprefix("standards:"))
    return not path.is_absolute() and ".." not in path.parts


def _invalid(file: str, detail: str) -> AdapterError:
    return AdapterError.of("ADP-3003", file=file, detail=detail)


def _mapping(
    file: str,
    data: dict[str, Any],
    tables: dict[str, dict[str, Any]],
    maps: set[str],
    fragments: dict[str, Any],
    variant: tuple[str | None, frozenset[str]],
) -> Mapping:
    left = unfilled(data)
    if left:
        raise _invalid(file, f"placeholders without a value (declare them in variants:): {left}")
    # a namespace a variant does not have is null in it
    namespaces = {k: v for k, v in (data.get("namespaces") or {}).items() if v is not None}
    reader = _Reader(file, namespaces, tables, maps, fragments, variant)
    nodes = [reader.node(raw) for raw in data.get("map") or []]
    envelope = None
    if "envelope" in data:
        try:
            envelope = Envelope.declared(data["envelope"], namespaces)
        except EnvelopeError as error:
            raise _invalid(file, str(error)) from error
    basis = None
    if "basis" in data:
        raw = data["basis"]
        if not isinstance(raw, dict) or set(raw) != {"code", "reason"} or not all(str(v).strip() for v in raw.values()):
            raise _invalid(file, "basis needs exactly code (delingsgrunnlag) and reason (a text that says why)")
        basis = (str(raw["code"]), str(raw["reason"]).strip())
    samples = data.get("samples")
    if not isinstance(samples, list) or not samples or not all(_inside(s) for s in samples):
        raise _invalid(
            file,
            "samples must list at least one message that exercises it (standards:<path> under the standards"
            f" directory or a path in the repo, relative and without '..'), not {samples!r}",
        )
    return Mapping(
        file=file,
        url=str(data["url"]),
        name=str(data["name"]),
        version=str(data["version"]),
        source=dict(data["source"]),
        target=dict(data["target"]),
        namespaces=namespaces,
        root=reader.clark(str(data.get("root", ""))),
        nodes=nodes,
        seed=[reader.xpath(x) for x in data.get("seed") or []],
        definition=data.get("definition"),
        event=[str(e) for e in data.get("event") or []],
        enveloped=data.get("enveloped"),
        envelope=envelope,
        basis=basis,
        samples=tuple(samples),
    )


class _Reader:
    def __init__(
        self,
        file: str,
        namespaces: dict[str, str],
        tables: dict[str, dict[str, Any]],
        maps: set[str],
        fragments: dict[str, Any],
        variant: tuple[str | None, frozenset[str]],
    ) -> None:
        self.file, self.namespaces, self.tables, self.maps = file, namespaces, tables, maps
        self.fragments, (self.variant, self.variants) = fragments, variant
        self.using: list[str] = []  # the fragments being expanded, outermost first (a fragment may not use itself)

    def expand(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Replace ``use: name`` by the fragment's rules, with its ``x:`` prefix bound to ``ns`` and its placeholders
        filled from ``with:``; the fragment's ``only:`` rules are those of this file's variant."""
        name = raw["use"]
        if name not in self.fragments:
            raise _invalid(self.file, f"unknown fragment {name!r} (in mappings/_fragments.yaml)")
        prefix = str(raw.get("ns", ""))
        values = raw.get("with") or {}
        if not isinstance(values, dict):
            raise _invalid(self.file, f"with: of fragment {name!r} must be a mapping of its parameters")
        where = f"fragment {name!r} used in {self.file}"
        try:
            rules = only_in(
                fill(_rebind(self.fragments[name], prefix), values, where), self.variant, where, self.variants
            )
        except TemplateError as error:
            raise _invalid(self.file, str(error)) from error
        expanded = {k: v for k, v in raw.items() if k not in ("use", "ns", "with")}
        expanded["rules"] = list(rules) + list(raw.get("rules") or [])
        return expanded

    def used(self, raw: dict[str, Any]) -> Node:
        """The node of a rule that uses a fragment; a fragment that uses itself, at any depth, is refused."""
        name = str(raw["use"])
        if name in self.using:
            raise _invalid(self.file, f"fragment {name!r} uses itself: {' -> '.join([*self.using, name])}")
        self.using.append(name)
        try:
            return self.node(self.expand(raw))
        finally:
            self.using.pop()

    def clark(self, name: str) -> str:
        prefix, _, local = name.rpartition(":")
        if not local:
            raise _invalid(self.file, "empty element name")
        if not prefix:
            return local
        if prefix not in self.namespaces:
            raise _invalid(self.file, f"prefix {prefix!r} of {name!r} is not in namespaces")
        return f"{{{self.namespaces[prefix]}}}{local}"

    def xpath(self, expression: str) -> etree.XPath:
        try:
            return etree.XPath(expression, namespaces=self.namespaces)
        except etree.XPathSyntaxError as error:
            raise _invalid(self.file, f"bad XPath {expression!r}: {error}") from error

    def node(self, raw: Any) -> Node:
        if not isinstance(raw, dict):
            raise _invalid(self.file, f"a rule must be a mapping, not {raw!r}")
        unknown = set(raw) - _NODE_KEYS
        if unknown:
            raise _invalid(self.file, f"unknown keys {sorted(unknown)} in rule {raw}")
        if "use" in raw:
            return self.used(raw)
        path = str(raw.get("path", "."))
        steps = () if path == "." else tuple(self.clark(step) for step in path.split("/"))
        node = Node(
            path=steps,
            where=self.xpath(raw["where"]) if "where" in raw else None,
            resource=raw.get("resource"),
            type=raw.get("type"),
            profile=raw.get("profile"),
            link=[str(x) for x in raw.get("link") or []],
            set=dict(raw.get("set") or {}),
            to=raw.get("to"),
            fn=raw.get("fn"),
            args={k: raw[k] for k in _FN_ARGS if k in raw},
            ref=raw.get("ref"),
            rules=[self.node(child) for child in raw.get("rules") or []],
            payload=bool(raw.get("payload", False)),
            reverse=bool(raw.get("reverse", True)),
            fallback=raw.get("fallback"),
            id=self.xpath(raw["id"]) if "id" in raw else None,
            backlink=raw.get("backlink"),
            require=self.requirement(raw["require"]) if "require" in raw else None,
            forward=raw.get("reverse") != "only",
            when=self.condition(raw["when"]) if "when" in raw else None,
            standalone=bool(raw["standalone"]) if raw.get("standalone") is not None else None,
            repeats=bool(raw.get("repeats", False)),
        )
        self.check(node, raw)
        return node

    def condition(self, raw: Any) -> tuple[str, str]:
        path, equals, value = str(raw).partition("=")
        if not equals or not path.strip():
            raise _invalid(self.file, f"when must be 'alias:path=value', not {raw!r}")
        return path.strip(), value.strip()

    def requirement(self, raw: Any) -> tuple[etree.XPath, str, str]:
        if not isinstance(raw, dict) or set(raw) != {"test", "code", "what"}:
            raise _invalid(self.file, f"require needs exactly test, code and what, not {raw!r}")
        return self.xpath(str(raw["test"])), str(raw["code"]), str(raw["what"])

    def check(self, node: Node, raw: dict[str, Any]) -> None:
        for fhir_path in [node.to, *node.set, *(link.partition(":")[2] for link in node.link)]:
            if fhir_path:
                try:
                    parse_path(fhir_path.partition(":")[2] if ":" in fhir_path.split(".")[0] else fhir_path)
                except ValueError as error:
                    raise _invalid(self.file, str(error)) from error
        if node.resource and not node.type:
            raise _invalid(self.file, f"resource {node.resource!r} has no type")
        if node.fn is not None:
            if node.fn not in FUNCTIONS:
                raise _invalid(self.file, f"unknown function {node.fn!r} (known: {sorted(FUNCTIONS)})")
            if not node.to:
                raise _invalid(self.file, f"rule {raw} has a function but no 'to'")
        if node.fn in ("cs",) and "system" not in node.args:
            raise _invalid(self.file, f"rule {raw}: fn cs needs a system")
        if node.fn == "lookup" and "table" not in node.args:
            raise _invalid(self.file, f"rule {raw}: fn lookup needs a table")
        if node.fallback is not None:
            if not isinstance(node.fallback, dict) or not node.fallback or set(node.fallback) - _FALLBACK_KEYS:
                raise _invalid(self.file, f"rule {raw}: fallback takes {sorted(_FALLBACK_KEYS)}")
            if "from" not in node.fallback and "value" not in node.fallback:
                raise _invalid(self.file, f"rule {raw}: fallback needs from or value")
        for args in (node.args, node.fallback or {}):
            if "map" in args and args["map"] not in self.maps:
                raise _invalid(self.file, f"unknown ConceptMap {args['map']!r}")
            if isinstance(args.get("table"), str):
                if args["table"] not in self.tables:
                    raise _invalid(self.file, f"unknown table {args['table']!r}")
                args["table"] = self.tables[args["table"]]
