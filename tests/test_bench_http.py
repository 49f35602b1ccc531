"""bench/http runs and prints its table (no absolute times or ratios are asserted: the machine decides those)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "http"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def assert_table(out: str) -> None:
    for heading in ("endpoint", "req/s", "p50 ms", "p99 ms", "p99/p50", "errors", "vs echo"):
        assert heading in out
    for row in (
        "echo POST",
        "parse POST",
        "$process-message (crisis plan)",
        "echo GET",
        "plan read (GET /CarePlan/<id>)",
    ):
        assert row in out
    assert "Targets:" in out and "x parse POST" in out and "of echo GET" in out and "zero errors" in out
    assert "of parse POST (reading the Bundle only)" in out


@pytest.mark.parametrize("tool", ["python", "wrk"])
def test_quick_run_prints_the_table(tool: str, tmp_path: Path) -> None:
    if tool == "wrk" and shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (apt-get install wrk); the python load generator is tested")
    figures = tmp_path / "figures.json"
    done = run(
        "--quick", "--seconds", "1", "--warmup", "0.5", "--connections", "4", "--tool", tool, "--json", str(figures)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_table(done.stdout)
    data = json.loads(figures.read_text(encoding="utf-8"))
    assert list(data["rows"]) == ["echo_post", "parse", "process", "echo_get", "read"]
    for row in data["rows"].values():
        assert row["requests"] > 0 and row["tool"] == tool
        assert row["errors"] == {}, row  # every request answered, every message acknowledged ok
    assert data["rows"]["process"]["ratio_to_echo"] > 0
    assert {t["result"] for t in data["targets"]} <= {"PASS", "FAIL"}


def test_processes_shows_how_throughput_scales(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = run(
        "--quick",
        "--seconds",
        "1",
        "--warmup",
        "0.3",
        "--connections",
        "4",
        "--tool",
        "python",
        "--processes",
        "1,2",
        "--json",
        str(figures),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Scaling (throughput by service processes" in done.stdout
    assert done.stdout.count("gunicorn 1 workers") == 1 and done.stdout.count("gunicorn 2 workers") == 1
    for workers in (1, 2):
        data = json.loads((tmp_path / f"figures-{workers}.json").read_text(encoding="utf-8"))
        assert data["plan"]["workers"] == workers and data["rows"]["process"]["requests"] > 0


@pytest.mark.parametrize("value", ["0", "one,two", ""])
def test_processes_refuses_what_is_no_count(value: str) -> None:
    done = run("--processes", value)
    assert done.returncode == 2 and "--processes" in done.stderr


def test_help_describes_the_run() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "--quick" in done.stdout and "--tool" in done.stdout and "echo" in done.stdout
