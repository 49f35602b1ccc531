"""bench/store runs and prints its table (no absolute times or ratios are asserted: the machine decides those)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "store"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_quick_run_fills_the_store_and_prints_the_table_per_size() -> None:
    done = run("--quick", "--calls", "5")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "1,000 res" in out and "3,000 res" in out and "largest/smallest" in out
    for row in (
        "write (a new version)",
        "read by id",
        "search patient:identifier",
        "search category+_lastUpdated, 10",
        "_history of a plan",
        "AuditEvent search (patient)",
        "load (per resource)",
    ):
        line = next(line for line in out.splitlines() if line.startswith(row))
        assert line.count(" ms") == 2 and line.rstrip().endswith("x"), line
    # the store was grown to each size: the patients counted on stderr
    assert "sqlite: 1,0" in done.stderr and "sqlite: 3,0" in done.stderr


def test_help_names_the_sizes_and_the_postgresql_option() -> None:
    done = run("--help")
    assert done.returncode == 0
    assert "--quick" in done.stdout and "--million" in done.stdout and "--postgres" in done.stdout
