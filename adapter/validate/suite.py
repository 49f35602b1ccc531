"""The HL7 validator test suite (fhir/validator-tests in the standards directory), run against our validator.

Each case has a base step (validate the file against the core spec and the profiles it claims) and may have a
profile step (validate it again against ``profile.source`` after loading ``profile.supporting``). A step
*agrees* with the Java reference when both find errors or both find none; its error *locations* agree when the
sets of FHIRPath expressions of the errors are equal (after removing the reference's ``/*Type/id*/`` comments).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.validate import Validator
from adapter.validate.loading import read_resources
from adapter.validate.packages import Resource
from adapter.validate.state import Policy

_COMMENT = re.compile(r"/\*.*?\*/")
_ERRORS = ("error", "fatal")


@dataclass(frozen=True)
class StepResult:
    """Our outcome for one step next to the reference's."""

    case: str
    step: str  # "base" | "profile"
    module: str
    expected_errors: int
    found_errors: int
    expected_locations: frozenset[str]
    found_locations: frozenset[str]
    messages: tuple[str, ...]
    expected_messages: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        """Both find errors, or both find none."""
        return (self.expected_errors > 0) == (self.found_errors > 0)

    @property
    def locations_agree(self) -> bool:
        """The error locations are the same (only meaningful where the reference gives them)."""
        return self.expected_locations == self.found_locations

    @property
    def key(self) -> str:
        """``name/step``, as listed in the disagreements file."""
        return f"{self.case}/{self.step}"


HEADER = """\
# Steps of the HL7 validator test suite (fhir/validator-tests) where we disagree with the Java reference on
# error presence, each with its reason. tests/test_reference_suite.py fails when this list and a fresh run differ:
# a fixed case must be removed, a new disagreement explained. `bench/reference --update` rewrites it (keeping
# reasons written by hand).
"""


def disagreements_file(path: Path) -> dict[str, str]:
    """The listed disagreements (step key -> reason)."""
    if not path.exists():
        return {}
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): str(v) for k, v in loaded.items()}


def suite_folder(settings: Settings) -> Path:
    """Where the suite lives in the standards directory."""
    return settings.standards / "fhir" / "validator-tests"


def cases(settings: Settings) -> list[dict[str, Any]]:
    """The manifest's test cases."""
    manifest = json.loads((suite_folder(settings) / "manifest.json").read_text(encoding="utf-8"))
    return list(manifest["test-cases"])


def run(
    settings: Settings, validator: Validator | None = None, progress: Callable[[str], None] | None = None
) -> list[StepResult]:
    """Run every step of every case."""
    validator = validator or Validator(settings)
    results: list[StepResult] = []
    for case in cases(settings):
        if progress:
            progress(case["name"])
        results.extend(run_case(case, settings, validator))
    return results


def run_case(case: dict[str, Any], settings: Settings, validator: Validator) -> Iterator[StepResult]:
    """The base step and, when there is one, the profile step of ``case``."""
    folder = suite_folder(settings) / "cases"
    data = (folder / case["file"]).read_bytes()
    validator = validator.with_policy(_policy(case))
    supporting = _load(folder, [*case.get("supporting", []), *case.get("profiles", [])], validator)
    yield _step(case, "base", case["java"], validator.with_resources(supporting), data, ())
    profile = case.get("profile")
    if isinstance(profile, dict) and profile.get("source") and profile.get("java"):
        source = _load(folder, [profile["source"]], validator)
        extra = [*source, *_load(folder, profile.get("supporting", []), validator), *supporting]
        url = source[0].get("url") if source else None
        profiles = (url,) if isinstance(url, str) else ()
        step_validator = validator.with_resources(extra).with_policy(_policy(case, profile))
        yield _step(case, "profile", profile["java"], step_validator, data, profiles)


def _policy(case: dict[str, Any], step: dict[str, Any] | None = None) -> Policy:
    """The reference harness's settings for a case (or its profile step) as our policy."""
    trust = (step if step is not None else case).get("assumeValidRestReferences", False)
    return Policy(
        allow_examples=bool(case.get("examples", True)),
        trust_reference_types=bool(trust),
        no_html_in_markdown=bool(case.get("noHtmlInMarkdown", False)),
        references_must_resolve=case.get("validateReference") in ("CHECK_EXISTS", "CHECK_EXISTS_AND_TYPE"),
        bundle_profiles=_bundle_rules(case.get("bundle-param")),
        validate_contained=case.get("validateContains") != "IGNORE",
        missing_urn_is_error=False,  # the reference validator's behaviour: a warning
        malformed_reference_is_error=False,  # also a warning there
    )


def _bundle_rules(param: Any) -> tuple[tuple[str, str], ...]:
    """The harness's bundle-param ({rule, profile}) as the policy's bundle rules."""
    if isinstance(param, dict) and isinstance(param.get("rule"), str) and isinstance(param.get("profile"), str):
        return ((param["rule"], param["profile"]),)
    return ()


def _step(
    case: dict[str, Any], step: str, expected: Any, validator: Validator, data: bytes, profiles: tuple[str, ...]
) -> StepResult:
    count, locations, texts = _expected(expected, suite_folder(validator.settings) / "outcomes")
    fmt = "xml" if case["file"].endswith(".xml") else "json"
    try:
        issues = validator.validate_bytes(data, fmt, profiles)
    except Exception as exc:  # noqa: BLE001 - a crash is a result here, reported as such
        issues = []
        messages: tuple[str, ...] = (f"CRASH {type(exc).__name__}: {exc}",)
        return StepResult(case["name"], step, case.get("module", ""), count, 1, locations, frozenset(), messages, texts)
    errors = [i for i in issues if i.severity in _ERRORS]
    found = frozenset(_normal(i.expression) for i in errors if i.expression)
    return StepResult(
        case["name"],
        step,
        case.get("module", ""),
        count,
        len(errors),
        locations,
        found,
        tuple(str(i) for i in errors),
        texts,
    )


def _expected(expected: Any, outcomes: Path) -> tuple[int, frozenset[str], tuple[str, ...]]:
    """(error count, error locations, error texts) of the reference's outcome."""
    if isinstance(expected, dict):
        if "outcome" in expected:
            outcome = expected["outcome"]
        else:
            return int(expected.get("errorCount", 0)), frozenset(), ()
    else:
        outcome = json.loads((outcomes / expected).read_text(encoding="utf-8"))
    errors = [i for i in outcome.get("issue", []) if i.get("severity") in _ERRORS]
    locations = frozenset(_normal(e) for i in errors for e in i.get("expression", [])[:1])
    texts = tuple(str(i.get("details", {}).get("text", "")) for i in errors)
    return len(errors), locations, texts


def _normal(expression: str) -> str:
    return _COMMENT.sub("", expression).rstrip(".")


def _load(folder: Path, names: list[str], validator: Validator) -> list[Resource]:
    """Read the supporting files that exist (a few manifest entries name files the suite does not carry)."""
    found: list[Resource] = []
    for name in names:
        path = folder / name
        if path.is_file():
            with contextlib.suppress(AdapterError):
                found.extend(read_resources(path, validator.definitions))
    return found
