"""bench/validate and bench/translate run and print their figures (no absolute times are asserted: the machine
decides those; bench/translate's coverage must be complete)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "validate"

#: Runs bench/validate as a script with pyrofile_validator made unimportable, as on a machine without the peer.
WITHOUT_PEER = (
    "import runpy, sys; sys.modules['pyrofile_validator'] = None; "
    "sys.argv = [sys.argv[1], *sys.argv[2:]]; runpy.run_path(sys.argv[0], run_name='__main__')"
)


def run(*args: str, without_peer: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", WITHOUT_PEER, str(SCRIPT)] if without_peer else [sys.executable, str(SCRIPT)]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def assert_tables(out: str) -> None:
    for heading in ("input", "ours ms", "floor ms", "peer ms", "ours/floor (<=3)", "peer/ours (>=10)"):
        assert heading in out
    assert "CarePlan krise-og-mestringsplan" in out
    assert "message Bundle, 20 entries" in out
    assert "max/min" in out and "us/entry" in out
    assert "Targets:" in out
    assert "ours   valid CarePlan" in out and "enforces the profile" in out


def test_quick_run_prints_the_ratio_table(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = run("--quick", "--json", str(figures))
    assert done.returncode == 0, done.stderr[-3000:]
    assert_tables(done.stdout)
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert [row["input"] for row in data["ratios"]] == ["careplan", "bundle-20"]
    assert [row["entries"] for row in data["flatness"]] == [10, 20, 40]
    assert data["ratios"][0]["ours"]["median_ms"] > 0
    assert data["ratios"][0]["floor"]["median_ms"] > 0
    assert {t["result"] for t in data["targets"]} <= {"PASS", "FAIL", "n/a"}


def test_quick_run_without_the_peer_says_not_installed() -> None:
    done = run("--quick", without_peer=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_tables(done.stdout)
    assert "not installed" in done.stdout
    assert "pip install -r bench/requirements.txt" in done.stderr


def test_full_run_without_the_peer_exits_2_with_the_install_command() -> None:
    done = run(without_peer=True)
    assert done.returncode == 2
    assert "pip install -r bench/requirements.txt" in done.stderr
    assert "Traceback" not in done.stderr


def test_translate_quick_run_reports_full_coverage_and_the_ratios() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "translate"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    coverage = done.stdout.splitlines()[0]
    assert "valid: " in coverage and "lossless: " in coverage
    assert coverage.count("= 100.0%") == 2, coverage
    assert "Henvisning 2.0: ours" in done.stdout and "crisis plan: ours" in done.stdout
    assert done.stdout.count("ours/floor") == 2
