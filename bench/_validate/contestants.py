"""The three contestants, each built once (setup is not timed) and called as ``call(resource_dict)``.

* ours: ``adapter.validate.Validator(Settings.from_env()).validate(resource)``;
* floor: the fhir.resources R4B model class of the resource type, ``model_validate(resource)`` (structure only);
* peer: pyrofile-validator's ``Validator(config).validate_resource(resource)``, with our profiles, HL7 Norway
  no-basis and (``--peer-defs core``, the default) the R4 core package loaded as local packages.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapter import standards
from adapter.config import Settings
from adapter.validate import Validator

Resource = dict[str, Any]

PEER_DIST = "pyrofile-validator"
PEER_VERSION = "0.3.0"
#: pyrofile-validator 0.3.0 answers any input over 1 MiB with one 'structure.size' error instead of validating it.
PEER_SIZE_CODE = "structure.size"
PEER_SIZE_LIMIT = 1_048_576
NO_BASIS_FOLDERS = ("StructureDefinition", "CodeSystem", "ValueSet")


@dataclass(frozen=True)
class Outcome:
    """Error and warning counts of one validation, and its errors as comparable keys (code, location)."""

    errors: int
    warnings: int
    error_keys: frozenset[tuple[str, str]]


@dataclass
class Contestant:
    """A validator under test. ``call`` is None when it could not be set up (``status`` says why)."""

    key: str
    label: str
    call: Callable[[Resource], Any] | None
    status: str = "ok"
    #: One untimed validation summed up for the profile check.
    outcome: Callable[[Resource], Outcome] = field(default=lambda _r: Outcome(0, 0, frozenset()))
    #: Why an input is not measured for this contestant (None: measure it).
    refuses: Callable[[Resource], str | None] = field(default=lambda _r: None)
    detail: dict[str, Any] = field(default_factory=dict)


def ours(settings: Settings) -> Contestant:
    """Our validator, built once."""
    validator = Validator(settings)

    def outcome(resource: Resource) -> Outcome:
        found = validator.validate(resource)
        errors = [issue for issue in found if issue.severity in ("fatal", "error")]
        return Outcome(
            len(errors),
            sum(1 for issue in found if issue.severity == "warning"),
            frozenset((issue.code, issue.expression or "") for issue in errors),
        )

    return Contestant("ours", "ours (adapter Validator.validate)", validator.validate, outcome=outcome)


def floor() -> Contestant:
    """fhir.resources R4B ``model_validate`` of the resource's type: parsing and structure, no profile."""
    from fhir.resources import R4B
    from pydantic import ValidationError

    classes: dict[str, Any] = {}

    def call(resource: Resource) -> Any:
        kind = resource["resourceType"]
        model = classes.get(kind)
        if model is None:
            model = classes[kind] = R4B.get_fhir_model_class(kind)
        return model.model_validate(resource)

    def outcome(resource: Resource) -> Outcome:
        try:
            call(resource)
        except ValidationError as exc:
            keys = frozenset((str(err["type"]), ".".join(str(part) for part in err["loc"])) for err in exc.errors())
            return Outcome(len(exc.errors()), 0, keys)
        return Outcome(0, 0, frozenset())

    return Contestant("floor", "floor (fhir.resources R4B model_validate)", call, outcome=outcome)


def peer_missing_message() -> str:
    """What to do when the peer is not installed."""
    return (
        f"{PEER_DIST} is not installed. Install the benchmark's pinned extras with\n"
        "    pip install -r bench/requirements.txt\n"
        f"(it pins {PEER_DIST}=={PEER_VERSION}; its dependencies fhir.resources and fhirpathpy are already pinned by "
        "pyproject.toml and are not changed)."
    )


def peer(settings: Settings, definitions: str, workdir: Path) -> Contestant:
    """pyrofile-validator over our profiles, no-basis and (``definitions == 'core'``) R4 core; setup not timed."""
    try:
        module = importlib.import_module("pyrofile_validator")
        config_module = importlib.import_module("pyrofile_validator.config")
    except ImportError:
        return Contestant("peer", f"peer ({PEER_DIST})", None, status="not installed")
    version = str(getattr(module, "__version__", "?"))
    paths = [str(settings.profiles_dir / "resources")]
    no_basis = standards.no_basis_json(settings)
    paths += [str(no_basis / folder) for folder in NO_BASIS_FOLDERS]
    if definitions == "core":
        paths.append(str(standards.core_package(settings)))
    config = config_module.ValidatorConfig.load_dict(
        {
            "fhirVersion": "4.0.1",
            "localPackagePaths": paths,
            "terminology": {"mode": "local", "cacheDir": str(workdir / "terminology-cache")},
            "packageCacheDir": str(workdir / "packages"),
            "evidenceOutputDir": str(workdir / "evidence"),
        }
    )
    validator = module.Validator(config)
    # fhirpathpy's trace() (used by the core invariant dom-3) prints to stdout on every call: keep the table clean.
    sink = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the process

    def call(resource: Resource) -> Any:
        with contextlib.redirect_stdout(sink):
            return validator.validate_resource(resource)

    def outcome(resource: Resource) -> Outcome:
        report = call(resource)
        keys = frozenset((str(issue.code), str(issue.path or "")) for issue in report.errors)
        return Outcome(len(report.errors), len(report.warnings), keys)

    def refuses(resource: Resource) -> str | None:
        # Only inputs near the limit are run (untimed) to confirm that the peer itself refuses them.
        if len(json.dumps(resource).encode("utf-8")) <= PEER_SIZE_LIMIT // 2:
            return None
        if any(issue.code == PEER_SIZE_CODE for issue in call(resource).errors):
            return "rejected: over its 1 MiB input limit"
        return None

    status = "ok" if version == PEER_VERSION else f"version {version} (the benchmark pins {PEER_VERSION})"
    return Contestant(
        "peer",
        f"peer ({PEER_DIST} {version})",
        call,
        status=status,
        outcome=outcome,
        refuses=refuses,
        detail={
            "version": version,
            "definitions": definitions,
            "localPackagePaths": paths,
            "structureDefinitionsLoaded": validator.loaded_structure_definitions,
        },
    )


def workdir() -> tempfile.TemporaryDirectory[str]:
    """A scratch folder for the peer's caches (nothing is written into the checkout)."""
    return tempfile.TemporaryDirectory(prefix="bench-validate-")
