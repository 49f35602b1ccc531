"""KITH code lists <-> FHIR codes through the ConceptMaps published with the profiles (profiles/resources).

A ConceptMap is read in both directions: ``translate`` follows it from source to target; ``translate_back`` finds
the source code for a target code, preferring an ``equivalent``/``equal`` row when several source codes share
the target (for example AppRec status 1 and 3 both give ``ok``; ``ok`` goes back to 1). What a one-way
translation loses is kept by the mapping engine (the ``kith-original`` extension), not guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

_PREFERRED = ("equal", "equivalent")


@dataclass(frozen=True)
class _Map:
    forward: dict[str, str]
    back: dict[str, str]
    source: str
    target: str


class ConceptMaps:
    """The ConceptMaps of the project, by id."""

    def __init__(self, maps: dict[str, _Map]) -> None:
        self._maps = maps

    @classmethod
    def load(cls, folder: Path) -> ConceptMaps:
        """Read every ``ConceptMap-*.json`` in ``folder``."""
        maps = {}
        for path in sorted(folder.glob("ConceptMap-*.json")):
            resource = json.loads(path.read_text(encoding="utf-8"))
            forward: dict[str, str] = {}
            back: dict[str, tuple[bool, str]] = {}
            source = target = ""
            for group in resource.get("group", []):
                source, target = group.get("source", ""), group.get("target", "")
                for element in group.get("element", []):
                    for row in element.get("target", []):
                        code = row.get("code")
                        if code is None or row.get("equivalence") in ("unmatched", "disjoint"):
                            continue
                        forward.setdefault(element["code"], code)
                        preferred = row.get("equivalence") in _PREFERRED
                        if code not in back or (preferred and not back[code][0]):
                            back[code] = (preferred, element["code"])
            maps[resource["id"]] = _Map(forward, {k: v for k, (_, v) in back.items()}, source, target)
        return cls(maps)

    def ids(self) -> list[str]:
        """The ids of the maps held."""
        return sorted(self._maps)

    def translate(self, map_id: str, code: str) -> str | None:
        """The target code for ``code``, or None when the map has no row for it."""
        return self._map(map_id).forward.get(code)

    def translate_back(self, map_id: str, code: str) -> str | None:
        """The source code that maps to ``code`` (an equivalent row first), or None."""
        return self._map(map_id).back.get(code)

    def systems(self, map_id: str) -> tuple[str, str]:
        """The source and target code systems of the map."""
        found = self._map(map_id)
        return found.source, found.target

    def _map(self, map_id: str) -> _Map:
        try:
            return self._maps[map_id]
        except KeyError:
            raise KeyError(f"no ConceptMap {map_id!r} in profiles/resources") from None
