"""Shared fixtures. Every fixture says its scope, type and default.

In CI (``CI=true``) a skipped test counts as a failure: whatever CI is able to provide (node and npm for SUSHI, the
standards directory) must be there, so a skip would only hide a missing install step.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator
from typing import Any

import pytest

from adapter.config import Settings
from adapter.validate import Validator

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Scope: session. Type: Settings. Default: ``Settings.from_env()`` (the checkout and ../shared/standards)."""
    return Settings.from_env()


@pytest.fixture(scope="session")
def validator(settings: Settings) -> Validator:
    """Scope: session. Type: Validator over our profiles, no-basis and core. Default: built from ``settings``."""
    return Validator(settings)


@pytest.fixture(scope="session")
def node_tools() -> None:
    """Scope: session. Type: None. Skips (a failure in CI) when node and npm, which SUSHI needs, are missing."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} to run SUSHI")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    """In CI, turn every skip into a failure that says what was missing."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, which must provide everything this test needs: {reason}"
