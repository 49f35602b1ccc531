"""Settings: one frozen object, built once from the environment and passed down explicitly.

Every setting can be given as an environment variable prefixed ``SAMHANDLING_`` (for example
``SAMHANDLING_STANDARDS``). Nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "SAMHANDLING_"

#: The folder that holds pyproject.toml, profiles/, mappings/ and examples/ (the checkout or the image's /app).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Where the project's data lives.

    ``home`` is the folder with profiles/, mappings/ and examples/. ``standards`` is the standards directory: the
    public FHIR and KITH material that is read from there and never copied into the repo. ``cache`` is where derived
    files go (FHIR package cache for SUSHI, generated snapshots, the core package taken from PyPI).
    """

    home: Path = PROJECT_ROOT
    standards: Path = PROJECT_ROOT.parent / "shared" / "standards"
    cache: Path = PROJECT_ROOT / ".cache"

    @property
    def profiles_dir(self) -> Path:
        """The FSH project and its compiled JSON conformance resources."""
        return self.home / "profiles"

    @property
    def examples_dir(self) -> Path:
        """Example instances, scenario bundles and negative examples."""
        return self.home / "examples"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``SAMHANDLING_*`` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        home = Path(env.get(ENV_PREFIX + "HOME", str(PROJECT_ROOT))).resolve()
        standards = Path(env.get(ENV_PREFIX + "STANDARDS", str(home.parent / "shared" / "standards")))
        cache = Path(env.get(ENV_PREFIX + "CACHE", str(home / ".cache")))
        return cls(home=home, standards=standards.resolve(), cache=cache.resolve())
