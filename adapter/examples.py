"""The examples in examples/ and their expected outcomes.

* ``examples/fhir/*.json``: valid instances (compiled from profiles/input/fsh/examples by SUSHI); expected: no error.
* ``examples/negative/<case>/input.json`` with ``expected.outcome.json``: each breaks exactly one rule; expected:
  exactly the errors listed in the OperationOutcome (matched on severity, our issue code and expression).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from adapter.errors import Issue
from adapter.validate import Validator
from adapter.validate.packages import read_json

ISSUE_CODE_SYSTEM = "http://samhandling.no/fhir/CodeSystem/issue-code"
Expected = tuple[str, str, str | None]  # severity, issue code, expression


@dataclass(frozen=True)
class Example:
    """One example file and what validating it must give (an empty set: no error)."""

    name: str
    path: Path
    expected: frozenset[Expected] = field(default_factory=frozenset)

    @property
    def negative(self) -> bool:
        """True when the example is expected to fail."""
        return bool(self.expected)


@dataclass(frozen=True)
class Outcome:
    """The result of checking one example."""

    example: Example
    passed: bool
    found: list[Issue]
    detail: str


def discover(examples_dir: Path) -> Iterator[Example]:
    """Every example under ``examples_dir``, valid ones first."""
    for path in sorted((examples_dir / "fhir").glob("*.json")):
        yield Example(f"fhir/{path.name}", path)
    for case in sorted(p for p in (examples_dir / "negative").glob("*") if p.is_dir()):
        yield Example(f"negative/{case.name}", case / "input.json", expected_issues(case / "expected.outcome.json"))


def expected_issues(path: Path) -> frozenset[Expected]:
    """The (severity, code, expression) triples of an expected OperationOutcome."""
    outcome = read_json(path)
    found = set()
    for issue in outcome.get("issue", []):
        codes = [c["code"] for c in issue.get("details", {}).get("coding", []) if c.get("system") == ISSUE_CODE_SYSTEM]
        expression = (issue.get("expression") or [None])[0]
        found.add((issue["severity"], codes[0] if codes else issue["code"], expression))
    return frozenset(found)


def check(example: Example, validator: Validator) -> Outcome:
    """Validate one example and compare the errors with what it states."""
    try:
        data = example.path.read_bytes()
    except OSError as exc:
        return Outcome(example, False, [], f"unreadable: {exc}")
    issues = validator.validate_bytes(data, "json")  # the same reading as `samhandling validate`, with positions
    errors = frozenset((i.severity, i.code, i.expression) for i in issues if i.severity in ("error", "fatal"))
    if errors == example.expected:
        return Outcome(example, True, issues, "no errors" if not errors else "the stated error")
    missing = sorted(example.expected - errors, key=str)
    extra = [str(i) for i in issues if (i.severity, i.code, i.expression) in errors - example.expected]
    parts = [f"expected but not found: {m}" for m in missing] + [f"unexpected: {e}" for e in extra]
    return Outcome(example, False, issues, "; ".join(parts))
