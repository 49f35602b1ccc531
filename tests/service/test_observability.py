"""Observing the service as an operator does: Prometheus metrics at /metrics (labelled by the Flask rule, never a
path or a fødselsnummer; operators only), and one JSON access log line per request with a request id that is also
in the response and in the AuditEvents the request wrote."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, ack_code, example_json

from adapter.api import create_app
from adapter.config import Settings
from adapter.receipt.audit import REQUEST_ID_DETAIL
from adapter.service import Service

Auth = Callable[..., dict[str, str]]
FNR = "15838510075"
READ = "samhandling/plans.read"
ADMIN = "samhandling/admin"
SEARCH = f"/CarePlan?patient:identifier=urn:oid:2.16.578.1.12.4.1.4.1|{FNR}"


def send(client: FlaskClient, org: str, name: str, auth: Auth) -> None:
    answer = client.post(
        "/$process-message",
        data=json.dumps(example_json(name)),
        headers={**auth(org), "Content-Type": "application/fhir+json"},
    )
    assert answer.status_code == 200 and ack_code(answer.get_json()) == "ok", answer.get_data(as_text=True)[-2000:]


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "samhandling.access"]


def test_metrics_count_requests_by_rule_and_hold_no_fnr(client: FlaskClient, auth: Auth) -> None:
    assert client.get(SEARCH, headers=auth(DPS, READ)).status_code == 200
    assert client.get("/CarePlan/no-such-plan", headers=auth(DPS, READ)).status_code == 404
    client.post("/$validate", data=b'{"resourceType": "CarePlan"}', headers=auth(DPS, "samhandling/validate"))
    answer = client.get("/metrics", headers=auth(DPS, ADMIN))
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert re.search(r'samhandling_http_requests_total\{endpoint="/<type:\w+>",method="GET",status="200"\} ', text)
    assert re.search(
        r'samhandling_http_requests_total\{endpoint="/<type:\w+>/<id:\w+>",method="GET",status="404"', text
    )
    assert re.search(r'samhandling_http_request_duration_seconds_bucket\{endpoint="/<type:\w+>"', text)
    assert re.search(r'samhandling_validation_issues_total\{code="ADP-\d+",severity="(error|fatal)"\}', text)
    assert 'samhandling_outbox_deliveries{state="pending"}' in text
    assert "samhandling_outbox_dead_letters " in text
    assert FNR not in text and "no-such-plan" not in text and "patient:identifier" not in text


def test_outbox_gauges_read_the_store(client: FlaskClient, auth: Auth, service: Service) -> None:
    send(client, KOMMUNE, "fhir/Bundle-melding-samtykke-ola.json", auth)
    send(client, DPS, "fhir/Bundle-melding-kriseplan-ola.json", auth)
    pending = len(service.store.run(lambda tx: tx.deliveries("pending")))
    text = client.get("/metrics", headers=auth(DPS, ADMIN)).get_data(as_text=True)
    assert f'samhandling_outbox_deliveries{{state="pending"}} {float(pending)}' in text
    assert "samhandling_outbox_dead_letters 0.0" in text


def test_metrics_need_the_admin_scope_unless_open(
    client: FlaskClient, auth: Auth, service_settings: Settings, make_service: Callable[..., Service]
) -> None:
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers=auth(DPS, READ))
    assert refused.status_code == 403 and refused.get_json()["resourceType"] == "OperationOutcome"
    opened = create_app(service=make_service(service_settings, metrics="open")).test_client()
    assert opened.get("/metrics").status_code == 200
    with pytest.raises(ValueError, match="SAMHANDLING_METRICS"):
        dataclasses.replace(service_settings, metrics="public")


def test_access_line_request_id_is_the_response_header_and_the_audit_events(
    client: FlaskClient, auth: Auth, service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    send(client, KOMMUNE, "fhir/Bundle-melding-samtykke-ola.json", auth)
    send(client, DPS, "fhir/Bundle-melding-kriseplan-ola.json", auth)
    before = service.store.run(lambda tx: tx.audits(limit=1000))[0]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="samhandling.access"):
        answer = client.get(SEARCH, headers={**auth(DPS, READ), "X-Request-Id": "trace-42.a:b"})
    assert answer.status_code == 200 and answer.get_json()["total"] >= 1
    assert answer.headers["X-Request-Id"] == "trace-42.a:b"
    [line] = access_lines(caplog)
    assert (
        line["request_id"] == "trace-42.a:b"
        and line["method"] == "GET"
        and re.fullmatch(r"/<type:\w+>", line["endpoint"])
    )
    assert line["status"] == 200 and line["org"] == DPS and isinstance(line["duration_ms"], float)
    _, events = service.store.run(lambda tx: tx.audits(limit=1000, offset=before))
    assert events
    for event in events:
        identifier = event["source"]["observer"]["identifier"]
        assert identifier == {"type": {"text": REQUEST_ID_DETAIL}, "value": "trace-42.a:b"}


def test_no_fnr_in_the_access_line(client: FlaskClient, auth: Auth, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="samhandling.access"):
        client.get(SEARCH, headers=auth(DPS, READ))
        client.get(f"/Patient/{FNR}", headers=auth(DPS, READ))
        client.get(f"/no/such/{FNR}", headers=auth(DPS, READ))
    lines = [r.getMessage() for r in caplog.records if r.name == "samhandling.access"]
    assert len(lines) == 3
    assert all(FNR not in line and "identifier" not in line for line in lines)
    assert [json.loads(line)["status"] for line in lines][2] == 404


@pytest.mark.parametrize(
    "hostile",
    ["abc\r\nX-Injected: 1", "x" * 10240, 'a"b', "a b", "", f"id-{FNR}", "ø"],
    ids=["newline", "10 KB", "quote", "space", "empty", "fnr", "non-ascii"],
)
def test_a_hostile_request_id_is_replaced(client: FlaskClient, hostile: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="samhandling.access"):
        answer = client.get("/metadata", environ_overrides={"HTTP_X_REQUEST_ID": hostile})
    given = answer.headers["X-Request-Id"]
    assert given != hostile and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", given)
    assert access_lines(caplog)[-1]["request_id"] == given


def test_refused_and_unmatched_requests_get_an_id_and_a_line(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="samhandling.access"):
        refused = client.get("/CarePlan")
        unmatched = client.get("/nothing-here")
    assert refused.status_code == 401 and unmatched.status_code in (401, 404)
    lines = access_lines(caplog)
    assert [line["request_id"] for line in lines] == [
        refused.headers["X-Request-Id"],
        unmatched.headers["X-Request-Id"],
    ]
    assert lines[0]["org"] is None and re.fullmatch(r"/<type:\w+>", lines[0]["endpoint"])


def test_serve_gives_the_workers_a_private_metrics_folder_and_takes_it_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapter.cli_service import _gunicorn_options, _metrics_folder
    from adapter.config import metrics_multiprocess_dir

    assert _gunicorn_options("127.0.0.1:8080", 2, 8)["accesslog"] is None  # its lines hold the query string
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delitem(sys.modules, "prometheus_client")  # as in a fresh `samhandling serve`
    seen: list[str | None] = []

    def refused_start() -> None:
        with _metrics_folder():
            seen.append(metrics_multiprocess_dir())
            folder = Path(str(seen[0]))
            assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0
            raise SystemExit(2)

    with pytest.raises(SystemExit):
        refused_start()
    folder = str(seen[0])
    assert metrics_multiprocess_dir() is None and not Path(folder).exists()
