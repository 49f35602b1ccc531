"""The published FHIR npm package: layout, manifest, snapshots, reproducibility."""

from __future__ import annotations

import io
import json
import tarfile

from adapter.build.package import build_package, project_config
from adapter.config import Settings


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_package_manifest_names_id_version_and_dependencies(settings: Settings) -> None:
    name, data = build_package(settings)
    config = project_config(settings)
    assert name == f"{config['id']}-{config['version']}.tgz"
    manifest = json.loads(_members(data)["package/package.json"])
    assert manifest["name"] == "no.samhandling.psykiskhelse"
    assert manifest["canonical"] == "http://samhandling.no/fhir"
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1", "hl7.fhir.no.basis": "2.2.2"}


def test_package_holds_every_resource_with_snapshots_and_an_index(settings: Settings) -> None:
    members = _members(build_package(settings)[1])
    committed = sorted(p.name for p in (settings.profiles_dir / "resources").glob("*.json"))
    shipped = sorted(n.removeprefix("package/") for n in members if n.count("/") == 1 and n.endswith(".json"))
    assert [n for n in shipped if n not in ("package.json", ".index.json")] == committed
    index = json.loads(members["package/.index.json"])
    assert sorted(row["filename"] for row in index["files"]) == committed
    for filename in committed:
        resource = json.loads(members[f"package/{filename}"])
        if resource["resourceType"] == "StructureDefinition":
            assert resource["snapshot"]["element"], filename
    examples = [n for n in members if n.startswith("package/example/") and not n.endswith(".index.json")]
    assert len(examples) == len(list((settings.examples_dir / "fhir").glob("*.json")))


def test_package_bytes_are_reproducible(settings: Settings) -> None:
    assert build_package(settings)[1] == build_package(settings)[1]
