"""The SUSHI build: committed JSON equals a fresh build, and the published package works as a SUSHI dependency.

These tests run the pinned SUSHI (profiles/sushi) and need node and npm, which CI installs; without them they skip
locally and fail in CI.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapter.build import sushi
from adapter.build.package import project_config, write_package
from adapter.cli import main
from adapter.config import Settings
from adapter.errors import AdapterError

pytestmark = [pytest.mark.sushi, pytest.mark.usefixtures("node_tools")]


def test_committed_json_equals_a_fresh_build(settings: Settings) -> None:
    result = sushi.build(settings)
    assert result.resources, "the build produced no conformance resources"
    found = sushi.differences(settings, result)
    assert not found, "stale committed JSON; run `samhandling profiles build`:\n" + "\n".join(found)


def test_build_reports_fsh_errors_with_file_and_line(settings: Settings, tmp_path: Path) -> None:
    project = tmp_path / "broken"
    (project / "input" / "fsh").mkdir(parents=True)
    (project / "sushi-config.yaml").write_text(
        "id: x.y\ncanonical: http://example.org\nname: X\nstatus: draft\nversion: 0.0.1\nfhirVersion: 4.0.1\n"
        "FSHOnly: true\n",
        encoding="utf-8",
    )
    (project / "input" / "fsh" / "bad.fsh").write_text(
        "Profile: Bad\nParent: CarePlan\n* nosuchelement 1..1\n", encoding="utf-8"
    )
    with pytest.raises(AdapterError) as raised:
        sushi.run_sushi(settings, project)
    text = str(raised.value)
    assert "SUSHI" in text and "bad.fsh" in text and "nosuchelement" in text


def test_published_package_is_a_usable_sushi_dependency(settings: Settings, tmp_path: Path) -> None:
    config = project_config(settings)
    package = write_package(settings, tmp_path / "dist")
    home = tmp_path / "home"
    cache = sushi.seed_package_cache(settings, home)
    target = cache / f"{config['id']}#{config['version']}"
    target.mkdir(parents=True)
    with tarfile.open(package) as archive:
        archive.extractall(target, filter="data")

    project = tmp_path / "consumer"
    (project / "input" / "fsh").mkdir(parents=True)
    (project / "sushi-config.yaml").write_text(
        "id: consumer.test\ncanonical: http://consumer.example.org/fhir\nname: Consumer\nstatus: draft\n"
        f"version: 0.0.1\nfhirVersion: 4.0.1\nFSHOnly: true\ndependencies:\n  {config['id']}: {config['version']}\n",
        encoding="utf-8",
    )
    canonical = config["canonical"]
    (project / "input" / "fsh" / "use.fsh").write_text(
        f"""
Profile: LocalCrisisPlan
Parent: {canonical}/StructureDefinition/krise-og-mestringsplan
Id: local-crisis-plan
* note 1..*
* activity[kontakt] 2..*
""",
        encoding="utf-8",
    )
    warnings = sushi.run_sushi(settings, project, home=home)
    produced = project / "fsh-generated" / "resources" / "StructureDefinition-local-crisis-plan.json"
    assert produced.exists(), warnings
    generated = json.loads(produced.read_text(encoding="utf-8"))
    assert generated["baseDefinition"] == f"{canonical}/StructureDefinition/krise-og-mestringsplan"
    constrained = {e["id"]: e for e in generated["differential"]["element"]}
    assert constrained["CarePlan.activity:kontakt"]["min"] == 2  # a slice of ours, found through our snapshot


def test_an_fsh_error_exits_1_and_names_the_file(settings: Settings, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "profiles" / "input" / "fsh").mkdir(parents=True)
    (home / "profiles" / "sushi").symlink_to(settings.profiles_dir / "sushi", target_is_directory=True)
    shutil.copy2(settings.profiles_dir / "sushi-config.yaml", home / "profiles")
    (home / "profiles" / "input" / "fsh" / "broken.fsh").write_text(
        "Profile: Broken\nParent: CarePlan\n* nosuchelement 1..1\n", encoding="utf-8"
    )
    env = {
        "SAMHANDLING_HOME": str(home),
        "SAMHANDLING_STANDARDS": str(settings.standards),
        "SAMHANDLING_CACHE": str(settings.cache),
    }
    result = CliRunner().invoke(main, ["profiles", "build"], env=env)
    assert result.exit_code == 1, result.output
    assert "ADP-0002" in result.output and "broken.fsh" in result.output
