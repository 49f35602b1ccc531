"""The KITH mapping overview, generated from mappings/: per mapped message (each variant of each to-FHIR file) which
KITH element goes to which FHIR element, which rules work one way only, the to-KITH file that reads the same rules
backwards, and what travels as residue (``mappings/unmapped.yaml``) and why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from adapter.build.site.sources import Sources
from adapter.build.site.text import local
from adapter.mapping.spec import Mapping, Node

BOTH, TO_FHIR, TO_KITH = "begge veier", "bare til FHIR", "bare til KITH"


def mapping_pages(sources: Sources, folder: Path) -> list[dict[str, Any]]:
    """One context per mapping (template ``mapping.html``), ordered by file and variant."""
    to_kith = _to_kith_files(folder)
    everywhere: dict[str, str] = {}  # a payload's rules name the aliases of its envelope (header, patient)
    for mapping in sources.mappings.by_root.values():
        everywhere.update(_aliases(mapping.nodes))
    pages = []
    for mapping in sorted(sources.mappings.by_root.values(), key=lambda m: m.file):
        aliases = {**everywhere, **_aliases(mapping.nodes)}
        pages.append(
            {
                "file": mapping_page_name(mapping),
                "mapping": mapping,
                "root": local(mapping.root),
                "standard": str(mapping.source.get("standard", "")),
                "version": str(mapping.source.get("version", "")),
                "target": mapping.target,
                "to_kith": to_kith.get(mapping.file.split(" ", 1)[0], []),
                "rows": list(_rows(mapping.nodes, [local(mapping.root)], ("Bundle", ""), aliases, (True, True))),
                "unmapped": [e for e in sources.unmapped if _concerns(e, mapping)],
            }
        )
    return pages


def mapping_page_name(mapping: Mapping) -> str:
    """``mapping-<file stem>[-<variant>].html``."""
    stem = mapping.file.replace(".to-fhir.yaml", "")
    return "mapping-" + re.sub(r"[^A-Za-z0-9.]+", "-", stem).strip("-") + ".html"


def _rows(nodes: list[Node], kith: list[str], at: tuple[str, str], aliases: dict[str, str], ways: Ways) -> Any:
    """The rows of a mapping tree, depth first: each node that makes a resource or writes a value. ``at`` is the
    FHIR resource type and path the parent writes at; ``aliases`` the resource types by alias."""
    for node in nodes:
        path = [*kith, *(local(step) for step in node.path)]
        fwd, rev = ways[0] and node.forward, ways[1] and node.reverse
        if node.resource:
            inner = (str(node.type or ""), "")
            shown = inner[0]
        else:
            inner = _target(at, node.to, aliases) if node.to else at
            shown = ".".join(part for part in inner if part)
        if node.resource or node.to or node.ref or node.fn or node.payload:
            yield {
                "kith": "/".join(path),
                "fhir": shown,
                "resource": node.resource,
                "profile": node.profile,
                "fn": _function(node),
                "conceptmap": node.args.get("map") if node.fn == "conceptmap" else None,
                "notes": _notes(node),
                "direction": BOTH if fwd and rev else TO_FHIR if fwd else TO_KITH,
            }
        yield from _rows(node.rules, path, inner, aliases, (fwd, rev))


#: Whether a rule applies (to FHIR, to KITH).
Ways = tuple[bool, bool]
_ALIASED = re.compile(r"^([A-Za-z][\w-]*):(.*)$")


def _target(at: tuple[str, str], to: str, aliases: dict[str, str]) -> tuple[str, str]:
    """Where ``to`` writes: below the parent's path, or (``alias:path``) in the resource of that alias."""
    aliased = _ALIASED.match(to)
    if aliased:
        return aliases.get(aliased.group(1), aliased.group(1)), aliased.group(2)
    return at[0], f"{at[1]}.{to}" if at[1] else to


def _aliases(nodes: list[Node]) -> dict[str, str]:
    """Every resource alias of a mapping tree with its resource type (the Bundle as ``bundle``)."""
    found = {"bundle": "Bundle"}
    for node in nodes:
        if node.resource:
            found[node.resource] = str(node.type or "")
        found.update({k: v for k, v in _aliases(node.rules).items() if k != "bundle"})
    return found


def _function(node: Node) -> str:
    """The value function and its arguments in short (``cs system=...``, ``table HER, FNR, ...``)."""
    if not node.fn:
        return ""
    parts = [node.fn]
    for key, value in node.args.items():
        if key == "map" and node.fn == "conceptmap":
            continue
        if isinstance(value, dict):
            keys = list(value)
            shown = ", ".join(str(k) for k in keys[:4]) + (", ..." if len(keys) > 4 else "")
            parts.append(f"{key}: {shown}")
        else:
            parts.append(f"{key}={value}")
    return " ".join(parts)


def _notes(node: Node) -> list[str]:
    notes = []
    if node.ref:
        notes.append(f"referanse til {node.ref}")
    if node.link:
        notes.append("lenket fra " + ", ".join(node.link))
    if node.payload:
        notes.append("nyttelast: innholdet mappes av sin egen standard")
    if node.when:
        notes.append(f"når {node.when[0]} = {node.when[1]}")
    if node.standalone is not None:
        notes.append("bare frittstående" if node.standalone else "bare inne i MsgHead")
    if node.fallback:
        notes.append("ellers: " + ", ".join(f"{k} {v}" for k, v in node.fallback.items() if not isinstance(v, dict)))
    if node.require:
        notes.append(f"påkrevd (AppRec {node.require[1]}): {node.require[2]}")
    return notes


def _to_kith_files(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """The to-KITH files by the to-FHIR file they read backwards (``inverse``)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(folder.glob("fhir.to-kith-*.yaml")):
        header = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        shape = header.get("shape") or {}
        entry = {"file": path.name, "title": header.get("title", ""), "types": shape.get("types", [])}
        found.setdefault(str(header.get("inverse", "")), []).append(entry)
    return found


def _concerns(entry: dict[str, Any], mapping: Mapping) -> bool:
    """Whether an entry of unmapped.yaml is about the standard ``mapping`` maps (or about all of them)."""
    standard = str(mapping.source.get("standard", "")).split(" ", 1)[0]
    named = {part.strip() for part in str(entry.get("standard", "")).split(",")}
    return "all" in named or standard in named
