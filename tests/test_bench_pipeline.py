"""bench/pipeline runs and prints its figures: the whole $process-message, Bundle.model_validate and the parts (no
absolute times or ratios are asserted: the machine decides those)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "pipeline"
PARTS = ("read", "validate", "route", "access+write", "answer", "store", "other")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def check(done: subprocess.CompletedProcess[str], figures: Path) -> None:
    assert done.returncode == 0, done.stderr[-2000:]
    for heading in ("process-message (ours)", "Bundle.model_validate", "ours/model_validate (<=1)", *PARTS):
        assert heading in done.stdout
    got = json.loads(figures.read_text(encoding="utf-8"))
    assert got["entries"] == 14 and got["calls"] >= 3
    assert got["process_message_ms"] > 0 and got["model_validate_ms"] > 0
    assert set(got["parts_ms"]) == set(PARTS)
    # the parts are of the whole: each message went all the way (validated, written, answered)
    assert all(got["parts_ms"][part] > 0 for part in ("read", "validate", "access+write", "answer"))


def test_quick_run_on_sqlite(tmp_path: Path) -> None:
    check(run("--quick", "--json", str(tmp_path / "figures.json")), tmp_path / "figures.json")


@pytest.mark.postgres
def test_quick_run_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    import psycopg

    database = "samhandling_bench_pipeline"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    url = postgres_url.rsplit("/", 1)[0] + "/" + database
    try:
        check(run("--quick", "--database-url", url, "--json", str(tmp_path / "f.json")), tmp_path / "f.json")
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_help_and_a_bad_budget() -> None:
    assert "model_validate" in run("--help").stdout
    refused = run("--seconds", "0")
    assert refused.returncode == 2 and "--seconds" in refused.stderr
