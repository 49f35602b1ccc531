"""`samhandling examples run --target URL` against fake services (pytest-httpserver, never the network): setup
problems (no token, a target that does not answer or is no FHIR server, a token refused or short of a scope) are
one line and exit 2 before any example is sent; a failing example shows what the answer says (the OperationOutcome's
issue texts with their codes, the AppRec's status and errors), never a Python repr."""

from __future__ import annotations

import base64
import json
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from adapter import examples as catalogue
from adapter.cli import main
from adapter.transport.client import Answer, HttpTarget

ISSUE_CODES = "http://samhandling.no/fhir/CodeSystem/issue-code"
STATEMENT = {"resourceType": "CapabilityStatement", "status": "active", "fhirVersion": "4.0.1", "kind": "instance"}
PROBES = {"/metadata", f"/kith/receipts/{catalogue.PROBE_MESSAGE}"}


def outcome(code: str, en: str, nb: str, severity: str = "error", expression: str | None = None) -> dict[str, object]:
    issue: dict[str, object] = {
        "severity": severity,
        "code": "invalid",
        "details": {"coding": [{"system": ISSUE_CODES, "code": code}], "text": nb},
        "diagnostics": en,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


FAKE_TOKEN = "t"  # noqa: S105 - what the fake services get, no secret


def run(tmp_path: Path, *words: str, token: str | None = FAKE_TOKEN) -> tuple[int, str]:
    """`samhandling examples run WORDS` with ``token`` in SAMHANDLING_TOKEN (None: no token at all)."""
    env = {"SAMHANDLING_DATA_DIR": str(tmp_path / "data"), "SAMHANDLING_TOKEN": token}
    result = CliRunner().invoke(main, ["examples", "run", *words], env=env)
    return result.exit_code, result.output


def fake_jwt(claims: dict[str, object]) -> str:
    """An unsigned token with ``claims`` (the fake services here do not check signatures)."""

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"


def fhir_server(httpserver: HTTPServer) -> str:
    """A fake service that answers /metadata and accepts the token (the preflight's probes); its base URL."""
    httpserver.expect_request("/metadata", method="GET").respond_with_json(STATEMENT)
    probe = f"/kith/receipts/{catalogue.PROBE_MESSAGE}"
    httpserver.expect_request(probe).respond_with_json(outcome("ADP-5011", "no such message", "ingen"), status=404)
    httpserver.expect_request("/$validate", method="POST", data=b"{}").respond_with_json(
        outcome("ADP-1002", "resourceType is missing", "resourceType mangler", severity="fatal")
    )
    return httpserver.url_for("/").rstrip("/")


def sent_examples(httpserver: HTTPServer) -> list[str]:
    """The paths of the requests that were not the preflight's."""
    return [r.path for r, _ in httpserver.log if r.path not in PROBES and r.get_data() != b"{}"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, output = run(tmp_path, "--target", url)
    assert code == 2, output
    assert output.strip().splitlines() == [
        f"{url} cannot be reached: connection refused (nothing listens at {url.removeprefix('http://')})"
    ]


def test_no_token_is_one_line_and_exit_2_with_nothing_sent(tmp_path: Path, httpserver: HTTPServer) -> None:
    url = fhir_server(httpserver)
    code, output = run(tmp_path, "--target", url, token=None)
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith(f"no token for {url}: give --token or set SAMHANDLING_TOKEN") and "samhandling token" in line
    assert httpserver.log == []


def test_a_refused_token_is_named_with_the_servers_reason(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metadata").respond_with_json(STATEMENT)
    refused = outcome("ADP-7003", "The token is expired or not yet valid: it has expired", "Tokenet er utløpt")
    httpserver.expect_request(f"/kith/receipts/{catalogue.PROBE_MESSAGE}").respond_with_json(
        refused, status=401, headers={"WWW-Authenticate": 'Bearer realm="samhandling", error="invalid_token"'}
    )
    url = httpserver.url_for("/").rstrip("/")
    code, output = run(tmp_path, "--target", url, "--token", "stale")
    assert code == 2, output
    assert output.strip().splitlines() == [
        f"{url} refuses the token: ADP-7003: The token is expired or not yet valid: it has expired"
    ]
    assert sent_examples(httpserver) == []
    assert [r.headers.get("Authorization") for r, _ in httpserver.log] == [None, "Bearer stale"]  # /metadata: none


def test_a_refusal_without_an_outcome_gives_the_www_authenticate_error(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metadata").respond_with_json(STATEMENT)
    header = 'Bearer error="invalid_token", error_description="The access token expired"'
    httpserver.expect_request(f"/kith/receipts/{catalogue.PROBE_MESSAGE}").respond_with_data(
        "", status=401, headers={"WWW-Authenticate": header}
    )
    code, output = run(tmp_path, "--target", httpserver.url_for("/").rstrip("/"))
    assert code == 2 and "refuses the token: HTTP 401, The access token expired" in output, output
    assert sent_examples(httpserver) == []


def test_a_token_without_a_scope_names_the_scope(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/metadata").respond_with_json(STATEMENT)
    httpserver.expect_request(f"/kith/receipts/{catalogue.PROBE_MESSAGE}").respond_with_json(
        outcome("ADP-5011", "no such message", "ingen slik melding"), status=404
    )
    lacking = outcome("ADP-7006", "The token lacks the scope samhandling/validate", "Tokenet mangler tilgangen")
    httpserver.expect_request("/$validate", method="POST").respond_with_json(
        lacking, status=403, headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'}
    )
    code, output = run(tmp_path, "--target", httpserver.url_for("/").rstrip("/"))
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith("the token lacks samhandling/validate: examples run needs"), line
    assert sent_examples(httpserver) == []


def test_a_token_without_admin_is_refused_before_sending_as_other_organisations(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    url = fhir_server(httpserver)
    token = fake_jwt({"org_her": "8100002", "scope": "samhandling/messages samhandling/validate"})
    code, output = run(tmp_path, "--target", url, "--token", token)
    assert code == 2 and output.startswith("the token lacks samhandling/admin:"), output
    assert sent_examples(httpserver) == []


@pytest.mark.parametrize(
    ("status", "body", "content_type", "said"),
    [
        (404, "<html><head><title>Welcome to nginx</title></head></html>", "text/html", "titled Welcome to nginx"),
        (200, '{"resourceType": "Patient"}', "application/fhir+json", "HTTP 200: a Patient"),
        (200, "hello", "text/plain", "HTTP 200: hello"),
    ],
)
def test_a_target_that_is_no_fhir_server_is_one_line(
    tmp_path: Path, httpserver: HTTPServer, status: int, body: str, content_type: str, said: str
) -> None:
    httpserver.expect_request("/metadata").respond_with_data(body, status=status, content_type=content_type)
    url = httpserver.url_for("/").rstrip("/")
    code, output = run(tmp_path, "--target", url)
    assert code == 2, output
    [line] = output.strip().splitlines()
    assert line.startswith(f"{url} does not answer as a FHIR server: GET /metadata gave") and said in line, line
    assert [r.path for r, _ in httpserver.log] == ["/metadata"]


def test_a_failing_example_shows_the_outcomes_text_not_a_repr(tmp_path: Path, httpserver: HTTPServer) -> None:
    url = fhir_server(httpserver)
    wrong = outcome(
        "ADP-4001", "CarePlan.status: a required element is missing", "CarePlan.status mangler", expression="CarePlan"
    )
    httpserver.expect_request(re.compile(r"^/(\w+/)?\$validate$"), method="POST").respond_with_json(wrong)
    httpserver.expect_request("/$process-message", method="POST").respond_with_json(
        outcome("ADP-5020", "the sender 8100001 may not send as 8100003", "avsender kan ikke"), status=403
    )
    httpserver.expect_request("/kith/messages", method="POST").respond_with_data(
        '<AppRec xmlns="http://www.kith.no/xmlstds/apprec/2004-11-21"><Status V="2" DN="Avvist"/>'
        '<Error V="T02" DN="Feil i meldingens struktur" OT="Emne is not expected"/></AppRec>',
        content_type="application/xml",
    )
    httpserver.expect_request("/").respond_with_json(outcome("ADP-5014", "no such endpoint", "ingen"), status=404)
    code, output = run(tmp_path, "--target", url, "--token", "t")
    assert code == 1, output
    assert "FAIL" in output and "got ADP-4001 at CarePlan: CarePlan.status: a required element is missing" in output
    assert "HTTP 403: ADP-5020: the sender 8100001 may not send as 8100003" in output
    assert "AppRec status 2 (Avvist): T02 Feil i meldingens struktur: Emne is not expected" in output
    assert "expected ADP-4004 at CarePlan.status, not given; got ADP-4001 at CarePlan: CarePlan.status" in output
    for repr_ in ("Issue(", "{'resourceType'", "b'", 'b"', "('error',"):
        assert repr_ not in output, repr_
    assert "passed" in output and "failed" in output
    assert all(r.headers["Authorization"] == "Bearer t" for r, _ in httpserver.log if r.path != "/metadata")


def test_describe_answer_gives_one_line() -> None:
    assert catalogue.describe_answer(Answer(0, "text/plain", b"connection refused")) == "no answer: connection refused"
    assert catalogue.describe_answer(Answer(503, "text/plain", b"")) == "HTTP 503 with an empty body"
    long = catalogue.describe_answer(Answer(500, "text/plain", b"x\n" * 1000))
    assert "\n" not in long and len(long) <= catalogue.DETAIL_CHARS
    bundle = {"resourceType": "Bundle", "entry": [{"resource": outcome("ADP-3001", "unmapped", "ikke mappet")}]}
    said = catalogue.describe_answer(Answer(200, "application/fhir+json", json.dumps(bundle).encode()))
    assert said == "HTTP 200: ADP-3001: unmapped"


def test_a_target_that_does_not_answer_in_time() -> None:
    with socket.socket() as listener:  # accepts connections, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        target = HttpTarget(f"http://127.0.0.1:{port}", lambda org: "t", timeout=0.3, connect_timeout=0.3)
        answer = target.send("GET", "/metadata", b"", "", "", authorize=False)
    assert answer.status == 0 and answer.body == b"no answer within 0.3 s"
    target = HttpTarget("127.0.0.1:8080", lambda org: "t")
    assert target.send("GET", "/metadata", b"", "", "").body == b"127.0.0.1:8080 is not an http:// or https:// URL"


def test_a_run_stops_when_the_target_stops_answering() -> None:
    from adapter.cli_service import _send_trials

    class GoneAfterTwo:
        def __init__(self) -> None:
            self.sent = 0

        def send(self, method: str, path: str, body: bytes, content_type: str, org: str) -> Answer:
            self.sent += 1
            if self.sent > 2:
                return Answer(0, "text/plain", b"connection refused (nothing listens at 127.0.0.1:8080)")
            return Answer(503, "text/plain", b"busy")

    client = GoneAfterTwo()
    trials = catalogue.trials(Path(__file__).resolve().parents[2] / "examples")
    results, stopped = _send_trials(client, trials)
    assert (
        client.sent == 3 and len(results) == 2 and stopped == "connection refused (nothing listens at 127.0.0.1:8080)"
    )
    assert [detail for _, _, detail in results] == ["HTTP 503: busy"] * 2
