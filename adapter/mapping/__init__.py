"""KITH XML <-> FHIR translation: mapping files (mappings/) interpreted by one engine, codes through ConceptMaps.

:class:`Mappings` loads the mapping files, tables and ConceptMaps once; ``to_fhir(root)`` maps a parsed KITH
message to a FHIR message Bundle and ``to_kith(bundle)`` maps a Bundle back to KITH XML. Both are pure functions
of their input (no clock, no I/O): ids are deterministic and timestamps come from the message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.mapping import engine
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.mapping.envelope import Read
from adapter.mapping.shapers import Shapes
from adapter.mapping.spec import Mapping, load_mappings

MSGHEAD = "{http://www.kith.no/xmlstds/msghead/2006-05-24}MsgHead"


@dataclass(frozen=True)
class Mappings:
    """The loaded mapping files by root element (Clark name), with the ConceptMaps and code tables they use."""

    by_root: dict[str, Mapping]
    conceptmaps: ConceptMaps
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: How a message written in FHIR is shaped for the KITH type it travels as (the to-KITH files' ``shape:``).
    shapes: Shapes = field(default_factory=lambda: Shapes({}))

    @classmethod
    def load(cls, settings: Settings) -> Mappings:
        """Read mappings/ and the ConceptMaps in profiles/resources; a bad mapping file raises ADP-3003."""
        folder = settings.home / "mappings"
        conceptmaps = ConceptMaps.load(settings.profiles_dir / "resources")
        tables = _tables(folder / "_tables.yaml")
        roots = load_mappings(folder, tables, set(conceptmaps.ids()))
        return cls(roots, conceptmaps, tables, Shapes.load(folder, tables))

    def for_root(self, root: etree._Element) -> Mapping | None:
        """The mapping whose root element is ``root``'s (MsgHead, AppRec...), or None."""
        return self.by_root.get(root.tag)

    def envelope(self, root: etree._Element | None) -> Read | None:
        """The envelope of the message ``root`` as its standard declares it (None: not a message we know)."""
        if root is None:
            return None
        mapping = self.by_root.get(root.tag)
        if mapping is None or mapping.envelope is None:
            return None
        return mapping.envelope.read(root)

    def basis_for(self, definition: str) -> tuple[str, str] | None:
        """The legal basis (code, reason) the mapping whose messages have MessageHeader.definition ``definition``
        declares for every message of its type (None: none, the ordinary rules apply)."""
        for mapping in self.by_root.values():
            if definition in (mapping.definition, mapping.enveloped):
                return mapping.basis
        return None

    def root_for(self, definition: str) -> str:
        """The KITH root element for a Bundle whose MessageHeader.definition is ``definition``: a standalone document
        (AppRec, Henvisning 1.x) whose mapping has that definition, else MsgHead (payloads travel inside it)."""
        for mapping in self.by_root.values():
            if mapping.seed and mapping.definition == definition and mapping.root != MSGHEAD:
                return mapping.root
        return MSGHEAD

    def to_fhir(self, root: etree._Element, *, keep_whole: bool = False) -> tuple[dict[str, Any], list[Issue]]:
        """Map a KITH message to a FHIR message Bundle (issues: what was carried verbatim, what is unsupported);
        ``keep_whole``: the message breaks its schema, so it also travels whole (see :func:`engine.to_fhir`)."""
        mapping = self.for_root(root)
        if mapping is None or not mapping.seed:
            namespace, _, local = root.tag[1:].partition("}")
            raise AdapterError.of(
                "ADP-3002", element=local, namespace=namespace, supported="MsgHead (v1.2), AppRec (1.0, 1.1)"
            )
        return engine.to_fhir(root, mapping, self.by_root, self.conceptmaps, keep_whole=keep_whole)

    def to_kith(self, bundle: dict[str, Any], root: str = MSGHEAD) -> etree._Element:
        """Map a FHIR message Bundle back to the KITH message whose root element is ``root`` (Clark name)."""
        mapping = self.by_root.get(root)
        if mapping is None:
            raise AdapterError.of("ADP-3004", detail=f"no mapping for the KITH root element {root}")
        return engine.to_kith(bundle, mapping, self.by_root, self.conceptmaps)


def _tables(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v) for k, v in data.items()}
