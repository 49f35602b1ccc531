"""The service's commands: token (refused without the demo issuer), outbox list and retry of dead letters,
examples run against an in-process service and against a running one (a fake one here)."""

from __future__ import annotations

import socket
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from adapter.cli import main
from adapter.store import open_store


def run(tmp_path: Path, *words: str, **env: str) -> tuple[int, str]:
    environment = {"SAMHANDLING_DATA_DIR": str(tmp_path / "data"), **env}
    result = CliRunner().invoke(main, list(words), env=environment)
    return result.exit_code, result.output


def test_token_is_refused_without_a_demo_issuer(tmp_path: Path) -> None:
    code, output = run(tmp_path, "token", "--org", "8100001", "--scope", "samhandling/plans.read")
    assert code == 2 and "no demo issuer" in output


def test_token_from_the_demo_issuer(tmp_path: Path) -> None:
    code, output = run(
        tmp_path,
        "token",
        "--org",
        "8100001",
        "--scope",
        "samhandling/plans.read samhandling/audit",
        SAMHANDLING_DEMO_ISSUER="true",
    )
    assert code == 0
    claims = jwt.decode(output.strip(), options={"verify_signature": False})
    assert claims["org_her"] == "8100001" and claims["scope"] == "samhandling/audit samhandling/plans.read"
    code, output = run(tmp_path, "token", "--org", "8100001", "--scope", "nonsense", SAMHANDLING_DEMO_ISSUER="true")
    assert code == 2
    for wrong in (("--org", "abc"), ("--ttl", "-5")):
        code, output = run(
            tmp_path,
            "token",
            "--org",
            "8100001",
            "--scope",
            "samhandling/audit",
            *wrong,
            SAMHANDLING_DEMO_ISSUER="true",
        )
        assert code == 2 and "Invalid value" in output, wrong


def test_operator_commands_refuse_a_store_that_is_not_there(tmp_path: Path) -> None:
    code, output = run(tmp_path, "outbox", "list")  # a mistyped data folder: not a new, empty outbox
    assert code == 2 and "no store at" in output and not (tmp_path / "data").exists()
    unreachable = "postgresql://nobody@127.0.0.1:1/nothing"
    for words in (("outbox", "list"), ("worker", "--once")):
        code, output = run(tmp_path, *words, SAMHANDLING_DATABASE_URL=unreachable, SAMHANDLING_DATABASE_TIMEOUT="1")
        assert code == 2 and "cannot be used" in output and "Traceback" not in output, output


def test_outbox_list_and_retry_of_a_dead_letter(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'samhandling.sqlite'}")
    store.run(lambda tx: tx.enqueue("m-1", "http://127.0.0.1:9/x", "fhir", "application/fhir+json", b"{}"))
    [claimed] = store.run(lambda tx: tx.claim("w", 1, 30.0, 1.0))
    store.run(lambda tx: tx.failed(claimed.id, "w", "HTTP 400", 0.0, True))
    code, output = run(tmp_path, "outbox", "list", "--state", "dead")
    assert code == 0 and "m-1" in output and "HTTP 400" in output
    assert run(tmp_path, "outbox", "retry", str(claimed.id))[0] == 0
    assert [d.state for d in store.run(lambda tx: tx.deliveries())] == ["pending"]
    code, output = run(tmp_path, "outbox", "retry", str(claimed.id))
    assert code == 1 and "not a dead delivery" in output


def test_examples_run_in_process_passes_every_example(tmp_path: Path) -> None:
    code, output = run(tmp_path, "examples", "run")
    assert code == 0, output
    assert " 0 failed" in output and "kith/dialogmelding-kriseplan-feil-skjema.xml" in output


def test_examples_run_against_a_target_reports_failures(tmp_path: Path, httpserver: HTTPServer) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}
    httpserver.expect_request("/metadata").respond_with_json({"resourceType": "CapabilityStatement"})
    httpserver.expect_request("/kith/receipts/samhandling-examples-run-preflight").respond_with_json(
        outcome, status=404
    )
    httpserver.expect_request("/$validate", method="POST").respond_with_json(outcome)
    httpserver.expect_request("/$process-message", method="POST").respond_with_data("no", status=503)
    code, output = run(tmp_path, "examples", "run", "--target", httpserver.url_for("/").rstrip("/"), "--token", "t")
    assert code == 1
    assert "HTTP 503" in output and "passed" in output
    sent = [request for request, _ in httpserver.log if request.path != "/metadata"]  # /metadata needs no token
    assert sent and all(r.headers["Authorization"] == "Bearer t" for r in sent)


def test_serve_refuses_an_address_it_cannot_bind_before_loading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gunicorn.app.base import BaseApplication

    monkeypatch.setattr(BaseApplication, "run", lambda self: pytest.fail("gunicorn was started"))
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        for words, address in (
            (("--port", str(port)), f"127.0.0.1:{port}"),
            (("--host", "999.1.1.1", "--port", "8180"), "999.1.1.1:8180"),
        ):
            code, output = run(tmp_path, "serve", "--demo", *words)
            assert code == 2 and address in output and len(output.strip().splitlines()) == 1, output
            assert "Traceback" not in output
    finally:
        taken.close()
    assert not (tmp_path / "data" / "samhandling.sqlite").exists()  # no store made, no example loaded


def test_gunicorn_takes_every_option_and_opens_no_shared_control_socket() -> None:
    import gunicorn.config

    from adapter.cli_service import _gunicorn_options

    config = gunicorn.config.Config()
    for key, value in _gunicorn_options("127.0.0.1:8080", 2, 8).items():
        config.set(key, value)  # an unknown setting raises
    assert config.control_socket_disable is True


def test_a_database_that_does_not_exist_is_one_line_and_exit_2(
    postgres_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A setup error, not a lost connection: refused at once with ADP-0015, never tried again."""
    from urllib.parse import urlparse, urlunparse

    missing = urlunparse(urlparse(postgres_url)._replace(path="/does_not_exist"))
    for words in (("worker", "--once"), ("db", "current"), ("db", "upgrade")):
        code, output = run(tmp_path, *words, SAMHANDLING_DATABASE_URL=missing)
        assert code == 2 and "does_not_exist" in output and "ADP-0015" in output, (words, output)
        assert "trying the transaction again" not in output and "Traceback" not in output, (words, output)
    assert not [r for r in caplog.records if "trying the transaction again" in r.getMessage()]
