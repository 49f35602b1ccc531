"""Receipts close deliveries: a FHIR acknowledgement from the receiver completes the delivery it answers (only the
receiver's own), and the outbox list flags a delivery whose receipt did not come in time."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Callable
from pathlib import Path

import yaml
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, example_json

from adapter.api import create_app
from adapter.cli_service import receipt_column
from adapter.config import Settings
from adapter.security import SCOPES, Caller
from adapter.service import Service
from adapter.store import Delivery

PLAN_MESSAGE = "samhandlingsmelding-kriseplan-ola"


def _routed_service(
    service_settings: Settings, make_service: Callable[..., Service], tmp_path: Path
) -> tuple[Service, FlaskClient]:
    routes = tmp_path / "routes.yaml"
    rows = [{"receiver": KOMMUNE, "destination": "http://127.0.0.1:9/fhir", "format": "fhir"}]
    routes.write_text(yaml.safe_dump({"routes": rows}), encoding="utf-8")
    service = make_service(dataclasses.replace(service_settings, routes_file=str(routes)))
    caller = Caller(org=DPS, scopes=frozenset(SCOPES), subject="test", client_id=None)
    for name in ("Bundle-melding-samtykke-ola.json", "Bundle-melding-kriseplan-ola.json"):
        reply = service.pipeline.process_message(json.dumps(example_json(f"fhir/{name}")).encode(), "json", caller)
        assert reply.status == 200
    claimed = service.store.run(lambda tx: tx.claim("test", 100, 60, 1e12))
    for delivery in claimed:  # as if the receiver took them
        service.store.run(lambda tx, d=delivery: tx.delivered(d.id, "test"))
    return service, create_app(service=service).test_client()


def _ack(sender_her: str, answers: str, code: str) -> bytes:
    """The kommune's acknowledgement example, sent by the organisation ``sender_her`` (its Organization's HER-id)."""
    bundle = example_json("fhir/Bundle-melding-kvittering-kriseplan-ola.json")
    header = bundle["entry"][0]["resource"]
    header["id"] = f"kvittering-{answers}-{sender_her}-{code}"
    bundle["entry"][0]["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{header['id']}"
    header["response"] = {**header["response"], "identifier": answers, "code": code}
    sender = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "org-kommune")
    for identifier in sender["identifier"]:
        if identifier["system"].endswith("2.16.578.1.12.4.1.2"):
            identifier["value"] = sender_her
    return json.dumps(bundle).encode()


def _token(service: Service, org: str) -> dict[str, str]:
    assert service.issuer is not None
    token = service.issuer.issue(org, ["samhandling/messages"], ttl_seconds=600)
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}


def _plan_delivery(service: Service) -> Delivery:
    return next(d for d in service.store.run(lambda tx: tx.deliveries()) if d.answer_id == PLAN_MESSAGE)


def test_a_fhir_acknowledgement_closes_the_delivery_it_answers(
    service_settings: Settings, make_service: Callable[..., Service], tmp_path: Path
) -> None:
    service, client = _routed_service(service_settings, make_service, tmp_path)
    delivery = _plan_delivery(service)
    assert (delivery.state, delivery.recipient, delivery.receipt_status) == ("delivered", KOMMUNE, None)
    forged = client.post(
        "/$process-message",
        data=_ack(LEGEKONTOR, PLAN_MESSAGE, "ok"),
        headers=_token(service, LEGEKONTOR),
    )
    assert forged.status_code == 200, forged.data  # taken, but it closes nothing: it is not the receiver's
    assert "ADP-6002" in forged.get_data(as_text=True)
    assert _plan_delivery(service).receipt_status is None
    answer = client.post(
        "/$process-message",
        data=_ack(KOMMUNE, PLAN_MESSAGE, "fatal-error"),
        headers=_token(service, KOMMUNE),
    )
    assert answer.status_code == 200, answer.data
    assert "ADP-6001" in answer.get_data(as_text=True)
    closed = _plan_delivery(service)
    assert closed.receipt_status == "rejected" and closed.receipt_at


def _delivery(**fields: object) -> Delivery:
    base = Delivery(1, "m", "nhn-edi:8100001", "kith", "application/xml", b"", "delivered", 1, 0.0, None)
    return dataclasses.replace(base, answer_id="m", **fields)  # type: ignore[arg-type]


def test_the_outbox_list_flags_a_delivery_without_a_receipt_past_the_deadline() -> None:
    now = datetime.datetime(2026, 6, 10, 12, tzinfo=datetime.UTC)
    recent = _delivery(delivered_at="2026-06-09T12:00:00.000Z", remote_status="Acknowledged")
    late = _delivery(delivered_at="2026-06-05T11:00:00.000Z")
    answered = _delivery(
        delivered_at="2026-06-01T12:00:00.000Z", receipt_status="ok-with-errors", receipt_errors=("E31",)
    )
    assert receipt_column(recent, now, 96) == "awaiting receipt (Acknowledged)"
    assert receipt_column(late, now, 96).startswith("OVERDUE: no receipt in 121 h")
    assert receipt_column(answered, now, 96) == "receipt ok-with-errors E31"
    assert receipt_column(dataclasses.replace(late, state="pending"), now, 96) == "-"
