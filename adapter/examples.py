"""The examples in examples/ and their expected outcomes.

* ``examples/fhir/*.json``: valid instances (compiled from profiles/input/fsh/examples by SUSHI); expected: no error.
* ``examples/negative/<case>/input.json`` with ``expected.outcome.json``: each breaks exactly one rule; expected:
  exactly the errors listed in the OperationOutcome (matched on severity, our issue code and expression).
* ``examples/kith/*.xml``: KITH messages (made by our translator from the FHIR examples); expected: the AppRec
  status (and error codes) in ``examples/kith/expected.yaml``.

:func:`check` validates an example offline; :func:`trials` turns every example into a request to a running
service with its expected answer (``samhandling examples run``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import etree

from adapter import access
from adapter.errors import AdapterError, Issue
from adapter.parse.xml_safe import parse_xml
from adapter.transport.client import Answer
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


def scenario_order(path: Path) -> tuple[bool, str]:
    """Sort key for sending examples as a scenario: the patient's consent (``*samtykke*``) before the plans it
    allows to be shared, then by name."""
    return "samtykke" not in path.name, path.name


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


# --- trials against a running service (``samhandling examples run``) ------------------------------------------

FHIR_JSON = "application/fhir+json"
KITH_XML = "application/xml"
#: The organisation that sends the validation trials (any organisation with the validate scope would do).
VALIDATING_ORG = "8100002"
_NS_APPREC = ("http://www.kith.no/xmlstds/apprec/2004-11-21", "http://www.kith.no/xmlstds/apprec/2012-02-15")


@dataclass(frozen=True)
class Trial:
    """One request a test team sends to a service, and what must come back."""

    name: str
    method: str
    path: str
    body: bytes
    content_type: str
    org: str
    expect: str
    check: Callable[[Answer], tuple[bool, str]]


def trials(examples_dir: Path) -> list[Trial]:
    """Every example as a request with its expected outcome: message Bundles to ``$process-message`` (ack ``ok``; an
    acknowledgement is taken as a receipt),
    single resources to ``$validate`` (no error), negative cases to ``$validate`` (exactly the stated errors) and
    KITH messages to ``/kith/messages`` (the AppRec status stated in examples/kith/expected.yaml)."""
    found: list[Trial] = []
    for example in sorted(discover(examples_dir), key=lambda e: scenario_order(e.path)):
        data = example.path.read_bytes()
        resource = json.loads(data)
        rtype = str(resource.get("resourceType"))
        if rtype == "Bundle" and resource.get("type") == "message":
            sender = access.message_sender(resource) or ""
            header = access.message_header(resource) or {}
            if isinstance(header.get("response"), dict):  # an acknowledgement: recorded, never answered with one
                expect = "receipt taken"
                trial = Trial(example.name, "POST", "/$process-message", data, FHIR_JSON, sender, expect, _taken)
            else:
                trial = Trial(
                    example.name, "POST", "/$process-message", data, FHIR_JSON, sender, "acknowledgement ok", _ack_ok
                )
            found.append(trial)
        else:
            expected = example.expected
            endpoint = "/$validate" if example.negative else f"/{rtype}/$validate"
            describe = "the stated error" if example.negative else "no error"
            found.append(
                Trial(example.name, "POST", endpoint, data, FHIR_JSON, VALIDATING_ORG, describe, _outcome_is(expected))
            )
    kith_dir = examples_dir / "kith"
    stated = yaml.safe_load((kith_dir / "expected.yaml").read_text(encoding="utf-8")) if kith_dir.is_dir() else {}
    for message in sorted(kith_dir.glob("*.xml")):
        expectation = stated.get(message.name) or {}
        status, codes = str(expectation.get("status", "1")), tuple(expectation.get("errors", ()))
        found.append(
            Trial(
                f"kith/{message.name}",
                "POST",
                "/kith/messages",
                message.read_bytes(),
                KITH_XML,
                str(expectation.get("sender", "")),
                f"AppRec status {status}" + (f" with {', '.join(codes)}" if codes else ""),
                _apprec_is(status, codes),
            )
        )
    return found


def _json(answer: Answer) -> dict[str, Any] | None:
    try:
        loaded = json.loads(answer.body)
    except ValueError:
        return None
    return loaded if isinstance(loaded, dict) else None


def _ack_ok(answer: Answer) -> tuple[bool, str]:
    body = _json(answer)
    if answer.status != 200 or body is None:
        return False, f"HTTP {answer.status}: {answer.body[:200]!r}"
    header = (body.get("entry") or [{}])[0].get("resource", {})
    code = header.get("response", {}).get("code")
    if code == "ok":
        return True, "acknowledgement ok"
    errors = [
        i.get("diagnostics", "")
        for e in body.get("entry", [])
        for i in e.get("resource", {}).get("issue", [])
        if i.get("severity") in ("error", "fatal")
    ]
    return False, f"acknowledgement {code}: {'; '.join(errors)[:300]}"


def _taken(answer: Answer) -> tuple[bool, str]:
    """A receipt is taken: 200 with an OperationOutcome without errors (recorded on a delivery, or on none)."""
    body = _json(answer)
    if answer.status != 200 or body is None or body.get("resourceType") != "OperationOutcome":
        return False, f"HTTP {answer.status}: {answer.body[:200]!r}"
    errors = [i for i in body.get("issue", []) if i.get("severity") in ("error", "fatal")]
    return (not errors), "receipt taken" if not errors else f"receipt refused: {errors[0].get('diagnostics', '')}"


def _outcome_is(expected: frozenset[Expected]) -> Callable[[Answer], tuple[bool, str]]:
    def check(answer: Answer) -> tuple[bool, str]:
        body = _json(answer)
        if answer.status != 200 or body is None or body.get("resourceType") != "OperationOutcome":
            return False, f"HTTP {answer.status}: {answer.body[:200]!r}"
        found = set()
        for issue in body.get("issue", []):
            if issue.get("severity") not in ("error", "fatal"):
                continue
            codes = [
                c["code"] for c in issue.get("details", {}).get("coding", []) if c.get("system") == ISSUE_CODE_SYSTEM
            ]
            found.add(
                (issue["severity"], codes[0] if codes else issue.get("code"), (issue.get("expression") or [None])[0])
            )
        if found == expected:
            return True, "the stated error" if expected else "no errors"
        return False, f"expected {sorted(expected, key=str)}, got {sorted(found, key=str)}"

    return check


def _apprec_is(status: str, codes: tuple[str, ...]) -> Callable[[Answer], tuple[bool, str]]:
    def check(answer: Answer) -> tuple[bool, str]:
        if answer.status != 200 or not answer.body.lstrip().startswith(b"<"):
            return False, f"HTTP {answer.status}: {answer.body[:200]!r}"
        try:
            root = parse_xml(answer.body).getroot()
        except AdapterError as error:
            return False, f"the AppRec is not readable: {error}"
        ns = etree.QName(root).namespace
        if ns not in _NS_APPREC:
            return False, f"not an AppRec: {root.tag}"
        found_status = root.find(f"{{{ns}}}Status")
        got = found_status.get("V") if found_status is not None else None
        got_codes = tuple(e.get("V") or "" for e in root.findall(f"{{{ns}}}Error"))
        if got == status and set(got_codes) == set(codes):
            return True, f"AppRec status {got}" + (f" ({', '.join(got_codes)})" if got_codes else "")
        return False, f"AppRec status {got} with {', '.join(got_codes) or 'no errors'}"

    return check
