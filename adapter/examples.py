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

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml
from lxml import etree

from adapter import access
from adapter.errors import AdapterError, Issue
from adapter.parse.xml_safe import parse_xml
from adapter.security import ADMIN_SCOPE, MESSAGES_SCOPE, VALIDATE_SCOPE
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
        return False, describe_answer(answer)
    header = (body.get("entry") or [{}])[0].get("resource", {})
    code = header.get("response", {}).get("code")
    if code == "ok":
        return True, "acknowledgement ok"
    return False, _clip(f"acknowledgement {code}: {'; '.join(_issue_texts(body)) or 'no issues given'}")


def _taken(answer: Answer) -> tuple[bool, str]:
    """A receipt is taken: 200 with an OperationOutcome without errors (recorded on a delivery, or on none)."""
    body = _json(answer)
    if answer.status != 200 or body is None or body.get("resourceType") != "OperationOutcome":
        return False, describe_answer(answer)
    errors = _issue_texts(body)
    return (not errors), "receipt taken" if not errors else _clip(f"receipt refused: {'; '.join(errors)}")


def _outcome_is(expected: frozenset[Expected]) -> Callable[[Answer], tuple[bool, str]]:
    def check(answer: Answer) -> tuple[bool, str]:
        body = _json(answer)
        if answer.status != 200 or body is None or body.get("resourceType") != "OperationOutcome":
            return False, describe_answer(answer)
        found: dict[Expected, str] = {}
        for issue in body.get("issue", []):
            if isinstance(issue, dict) and issue.get("severity") in ("error", "fatal"):
                key = (str(issue["severity"]), _issue_code(issue), (issue.get("expression") or [None])[0])
                found[key] = issue_text(issue)
        if set(found) == expected:
            return True, "the stated error" if expected else "no errors"
        missing = [f"expected {_where(e)}, not given" for e in sorted(expected - set(found), key=str)]
        extra = [f"got {text}" for key, text in sorted(found.items(), key=str) if key not in expected]
        return False, _clip("; ".join(missing + extra))

    return check


def _apprec_is(status: str, codes: tuple[str, ...]) -> Callable[[Answer], tuple[bool, str]]:
    def check(answer: Answer) -> tuple[bool, str]:
        if answer.status != 200 or not answer.body.lstrip().startswith(b"<"):
            return False, describe_answer(answer)
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
        return False, _clip(apprec_text(root, ns))

    return check


# --- what an answer says, in one line (the detail of a failed trial, the preflight's messages) ----------------

DETAIL_CHARS = 400


def _clip(text: str, limit: int = DETAIL_CHARS) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _issue_code(issue: dict[str, Any]) -> str:
    """Our code of an OperationOutcome issue (``ADP-xyyy`` from details.coding), else its FHIR issue type."""
    codings = issue.get("details", {}).get("coding", []) if isinstance(issue.get("details"), dict) else []
    ours = [c.get("code") for c in codings if isinstance(c, dict) and c.get("system") == ISSUE_CODE_SYSTEM]
    return str(ours[0] if ours else issue.get("code", "?"))


def _where(expected: Expected) -> str:
    _, code, expression = expected
    return f"{code} at {expression}" if expression else code


def issue_text(issue: dict[str, Any]) -> str:
    """One issue as people read it: its code, where, and its text (``diagnostics``, the English one, else
    ``details.text``, the Norwegian one)."""
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    text = issue.get("diagnostics") or (details or {}).get("text") or ""
    expression = (issue.get("expression") or [None])[0]
    where = f" at {expression}" if expression else ""
    return f"{_issue_code(issue)}{where}: {text}" if text else f"{_issue_code(issue)}{where}"


def _issue_texts(resource: dict[str, Any], severities: tuple[str, ...] = ("error", "fatal")) -> list[str]:
    """The texts of the issues of ``severities`` in an OperationOutcome, or in the OperationOutcomes of a Bundle."""
    if resource.get("resourceType") == "Bundle":
        inner = [e.get("resource") for e in resource.get("entry", []) if isinstance(e, dict)]
        return [t for r in inner if isinstance(r, dict) for t in _issue_texts(r, severities)]
    issues = resource.get("issue", []) if resource.get("resourceType") == "OperationOutcome" else []
    return [issue_text(i) for i in issues if isinstance(i, dict) and i.get("severity") in severities]


def apprec_text(root: Any, ns: str) -> str:
    """An AppRec in one line: its status and each error code with its name and text."""
    status = root.find(f"{{{ns}}}Status")
    parts = [f"AppRec status {status.get('V') if status is not None else '?'}"]
    if status is not None and status.get("DN"):
        parts[0] += f" ({status.get('DN')})"
    for error in root.findall(f"{{{ns}}}Error"):
        named = " ".join(x for x in (error.get("V"), error.get("DN")) if x)
        parts.append(f"{named}: {error.get('OT')}" if error.get("OT") else named)
    return parts[0] + (": " + "; ".join(parts[1:]) if parts[1:] else ", no errors")


def describe_answer(answer: Answer) -> str:
    """What an answer says, in one line: the issues of an OperationOutcome (or of a Bundle's), an AppRec's status
    and errors, or the start of any other body; never a Python repr."""
    if answer.status == 0:
        return f"no answer: {answer.body.decode('utf-8', 'replace')}"
    head = f"HTTP {answer.status}"
    body = _json(answer)
    if body is not None:
        texts = _issue_texts(body) or _issue_texts(body, ("warning", "information"))
        what = "; ".join(texts) if texts else f"a {body.get('resourceType', 'JSON object')}"
        return _clip(f"{head}: {what}")
    if answer.body.lstrip().startswith(b"<"):
        try:
            root = parse_xml(answer.body).getroot()
        except AdapterError:
            root = None
        if root is not None and etree.QName(root).namespace in _NS_APPREC:
            return _clip(f"{head}: {apprec_text(root, str(etree.QName(root).namespace))}")
    text = answer.body.decode("utf-8", "replace")
    if "html" in answer.content_type.lower():
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        named = f" titled {_clip(title.group(1), 80)}" if title and title.group(1).strip() else ""
        return f"{head}: an HTML page{named} ({len(answer.body)} bytes)"
    return _clip(f"{head}: {text}" if text.strip() else f"{head} with an empty body")


# --- before any example is sent to a target (``examples run --target``) ----------------------------------------

#: A message id no service holds: reading its receipt checks the token and the messages scope, and changes nothing.
PROBE_MESSAGE = "samhandling-examples-run-preflight"
DEMO_HINT = (
    "a demo service's token: samhandling token --org 8100002 "
    "--scope 'samhandling/messages samhandling/validate samhandling/admin'"
)


class Target(Protocol):
    """A service over HTTP (:class:`adapter.transport.client.HttpTarget`)."""

    base_url: str

    def send(
        self, method: str, path: str, body: bytes, content_type: str, org: str, authorize: bool = True
    ) -> Answer: ...


def preflight(target: Target, token: str | None, trials: list[Trial]) -> str | None:
    """What keeps ``trials`` from being run against ``target``, in one line, or None: no token; no answer to
    ``GET /metadata`` (which needs none) or no FHIR R4 CapabilityStatement in it; the token refused (401); the
    token without the scopes the trials need (messages, validate, and admin to send as each example's
    organisation). Sends no example: a receipt read of a message no one sent and a ``$validate`` of ``{}``."""
    url = target.base_url
    if not token:
        return f"no token for {url}: give --token or set SAMHANDLING_TOKEN ({DEMO_HINT})"
    answer = target.send("GET", "/metadata", b"", "", "", authorize=False)
    if answer.status == 0:
        return f"{url} cannot be reached: {answer.body.decode('utf-8', 'replace')}"
    statement = _json(answer)
    if answer.status != 200 or statement is None or statement.get("resourceType") != "CapabilityStatement":
        return f"{url} does not answer as a FHIR server: GET /metadata gave {describe_answer(answer)}"
    version = str(statement.get("fhirVersion") or "4.0.1")
    if not version.startswith("4.0"):
        return f"{url} is a FHIR {version} server; the examples are FHIR R4 (4.0.1)"
    missing: list[str] = []
    probes = (
        (MESSAGES_SCOPE, "GET", f"/kith/receipts/{PROBE_MESSAGE}", b""),
        (VALIDATE_SCOPE, "POST", "/$validate", b"{}"),
    )
    for scope, method, path, body in probes:
        answer = target.send(method, path, body, FHIR_JSON if body else "", VALIDATING_ORG)
        if answer.status == 0:
            return f"{url} stopped answering: {answer.body.decode('utf-8', 'replace')}"
        if answer.status == 403 and _lacks_scope(answer):
            missing.append(scope)
        elif answer.status in (401, 403):
            return f"{url} refuses the token: {refusal(answer)}"
        elif answer.status >= 500:
            return f"{url} cannot check the token: {method} {path} gave {describe_answer(answer)}"
    if not missing and _needs_admin(token, trials):
        missing.append(ADMIN_SCOPE)
    if missing:
        return (
            f"the token lacks {', '.join(missing)}: examples run needs {MESSAGES_SCOPE}, {VALIDATE_SCOPE}, and "
            f"{ADMIN_SCOPE} to send as each example's organisation ({DEMO_HINT})"
        )
    return None


def _lacks_scope(answer: Answer) -> bool:
    """A 403 for a missing scope (ADP-7006, or RFC 6750's insufficient_scope), not some other refusal."""
    body = _json(answer) or {}
    codes = {_issue_code(i) for i in body.get("issue", []) if isinstance(i, dict)}
    return "ADP-7006" in codes or 'error="insufficient_scope"' in answer.www_authenticate


def refusal(answer: Answer) -> str:
    """Why a token was refused: the OperationOutcome's issue texts, else the ``WWW-Authenticate`` error."""
    body = _json(answer)
    texts = _issue_texts(body) if body is not None else []
    if texts:
        return _clip("; ".join(texts))
    header = dict(re.findall(r'(\w+)="([^"]*)"', answer.www_authenticate))
    error = header.get("error_description") or header.get("error")
    if error:
        return f"HTTP {answer.status}, {error} (WWW-Authenticate: {_clip(answer.www_authenticate, 200)})"
    return describe_answer(answer)


def _needs_admin(token: str, trials: list[Trial]) -> bool:
    """True when the token plainly lacks the admin scope that sending as another organisation needs: its claims
    are readable (a JWT, not checked here: the server did), grant scopes without admin, and some message trial
    is sent as an organisation other than the token's (``org_her``, the service's default claim name)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return False
    scopes = claims.get("scope", claims.get("scp")) if isinstance(claims, dict) else None
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, list) or ADMIN_SCOPE in scopes:
        return False
    own = str(claims.get("org_her", ""))
    return any(t.org != own for t in trials if not t.path.endswith("$validate"))
