"""The answers gunicorn gives itself, before the app sees a request, are OperationOutcomes with stable codes
(adapter/api/server_errors.py): a real ``samhandling serve`` is sent what a careless or hostile client sends."""

from __future__ import annotations

import json
import socket
from collections.abc import Generator
from typing import Any

import pytest
import requests
from reliability_helpers import ServiceProcess, free_port, service_env

from adapter.api.server_errors import refusal


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Generator[tuple[str, int], None, None]:
    """Scope: module. Type: (base URL, port) of a running ``samhandling serve`` (one worker, SQLite, no routes).
    Default: started here, stopped at the end."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--port", str(port), "--workers", "1", "--threads", "2", "--no-delivery", "--allow-empty-routes"]
    server = ServiceProcess(args, service_env(tmp_path / "data"), tmp_path / "log")
    try:
        server.start().wait_ready(base)
        yield base, port
    finally:
        server.stop()


def raw(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is and read the whole answer: status, headers (lower-case names), body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


def outcome_code(content_type: str, body: bytes) -> str:
    assert content_type.startswith("application/fhir+json"), content_type
    outcome: dict[str, Any] = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert issue["diagnostics"] and issue["details"]["text"]  # English and Norwegian
    return str(issue["details"]["coding"][0]["code"])


def test_a_9_kb_header_is_a_431_operation_outcome(served: tuple[str, int]) -> None:
    base, _ = served
    answer = requests.get(base + "/metadata", headers={"X-Padding": "a" * 9 * 1024}, timeout=10)
    assert answer.status_code == 431
    assert outcome_code(answer.headers["Content-Type"], answer.content) == "ADP-5072"
    assert "8190" in answer.json()["issue"][0]["diagnostics"]  # the limit is named
    assert "<html" not in answer.text


def test_too_many_header_fields_is_a_431_operation_outcome(served: tuple[str, int]) -> None:
    base, _ = served
    answer = requests.get(base + "/metadata", headers={f"X-Field-{n}": "1" for n in range(120)}, timeout=10)
    assert answer.status_code == 431 and outcome_code(answer.headers["Content-Type"], answer.content) == "ADP-5072"


def test_a_request_line_over_the_limit_is_a_414_operation_outcome(served: tuple[str, int]) -> None:
    base, _ = served
    answer = requests.get(base + "/Patient?name=" + "x" * 5000, timeout=10)
    assert answer.status_code == 414 and outcome_code(answer.headers["Content-Type"], answer.content) == "ADP-5071"
    assert "_search" in answer.json()["issue"][0]["diagnostics"]  # what to do instead


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        pytest.param(b"NOT HTTP AT ALL\r\n\r\n", 400, id="garbage request line"),
        pytest.param(b"GET /metadata HTTP/9.9\r\nHost: x\r\n\r\n", 400, id="unknown HTTP version"),
        pytest.param(b"GET /metadata HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", 400, id="space in a header name"),
        pytest.param(b"GET /metadata HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400, id="NUL in a header value"),
        pytest.param(b"POST /Patient HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, id="bad length"),
        pytest.param(
            b"POST /Patient HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: bogus\r\n\r\n",
            501,
            id="unsupported transfer coding",
        ),
    ],
)
def test_a_request_that_is_not_http_is_an_operation_outcome_with_gunicorns_status(
    served: tuple[str, int], request_bytes: bytes, status: int
) -> None:
    _, port = served
    answered, headers, body = raw(port, request_bytes)
    assert answered == status and outcome_code(headers["content-type"], body) == "ADP-5073"
    assert headers["connection"] == "close" and int(headers["content-length"]) == len(body)


def test_the_service_still_answers_after_them(served: tuple[str, int]) -> None:
    base, _ = served
    assert requests.get(base + "/health/live", timeout=10).json() == {"status": "ok"}


def test_a_failure_of_gunicorn_itself_is_a_500_that_says_nothing_more() -> None:
    class Limits:
        limit_request_line = 4094
        limit_request_fields = 100
        limit_request_field_size = 8190

    reply = refusal(RuntimeError("/srv/secret/path broke"), Limits())
    assert reply.status == 500 and reply.resource is not None
    assert reply.resource["issue"][0]["details"]["coding"][0]["code"] == "ADP-5074"
    assert "secret" not in json.dumps(reply.resource)
