"""Reading extra conformance resources: a JSON or XML file, a folder of them, or a FHIR package (.tgz).

Used by ``samhandling validate --load`` and by the reference-suite runner for its supporting files. A Bundle
contributes its entries as well, so a Bundle of profiles and ValueSets loads like a folder.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from adapter.errors import AdapterError
from adapter.parse.fhir_source import read_fhir
from adapter.validate.packages import Definitions, Resource

SUFFIXES = (".json", ".xml")


def read_resources(path: Path, defs: Definitions) -> list[Resource]:
    """The resources in ``path``; AdapterError (ADP-0003) when it cannot be read."""
    if path.is_dir():
        found: list[Resource] = []
        for child in sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()):
            found.extend(read_resources(child, defs))
        return found
    if path.name.endswith((".tgz", ".tar.gz")):
        return _package(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AdapterError.of("ADP-0003", path=str(path), detail=exc.strerror or str(exc)) from exc
    resource = read_fhir(data, defs, "xml" if path.suffix == ".xml" else "json").resource
    return _with_entries(resource)


def _package(path: Path) -> list[Resource]:
    found: list[Resource] = []
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive.getmembers():
                if not (member.isfile() and member.name.startswith("package/") and member.name.endswith(".json")):
                    continue
                if member.name.endswith(("package.json", ".index.json")):
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    found.extend(_with_entries(json.loads(handle.read())))
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise AdapterError.of("ADP-0003", path=str(path), detail=str(exc)) from exc
    return found


def _with_entries(resource: object) -> list[Resource]:
    if not isinstance(resource, dict):
        return []
    found = [resource]
    if resource.get("resourceType") == "Bundle":
        entries = resource.get("entry", [])
        found.extend(e["resource"] for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict))
    return found
