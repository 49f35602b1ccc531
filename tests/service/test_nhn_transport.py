"""The service on NHN EDI 2.0, end to end against the fake HelseID and Meldingstjener (tests/fakes/nhn.py): messages
fetched, processed, answered and marked read; deliveries sent through the API and closed by the receiver's AppRec;
and the same with faults injected at every step (answers lost, 5xx, 429, nonce challenges, expired tokens, a crash
between steps), counting what was lost and what was duplicated."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Generator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import TODAY
from fakes.nhn import FakeNhn
from pytest_httpserver import HTTPServer
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, example

from adapter.api import create_app
from adapter.cli import main
from adapter.config import Settings
from adapter.route.deliver import Worker, WorkerSettings
from adapter.route.nhn import NhnInbox
from adapter.service import Service
from adapter.store import Delivery
from adapter.translate import Translator

OURS = DPS  # the adapter fetches the DPS's messages from NHN (its HER-ids 8100002 and 8100022)
POLLED = (DPS, "8100022")


@pytest.fixture
def fake(httpserver: HTTPServer, tmp_path: Path) -> FakeNhn:
    """Scope: function. Type: FakeNhn. Default: our HelseID client may send for the DPS and, as the hub the
    kommune's messages are relayed through, for the kommune."""
    return FakeNhn.start(httpserver, tmp_path, our_her=(*POLLED, KOMMUNE))


@pytest.fixture
def nhn_service(
    service_settings: Settings, translator: Translator, fake: FakeNhn, tmp_path: Path
) -> Generator[Service, None, None]:
    """Scope: function. Type: Service whose KITH receivers (the kommune, the legekontor) are reached through NHN;
    its Meldingstjener client is the fake's (on the fake clock). Default: retries after 1 ms."""
    routes = tmp_path / "routes.yaml"
    rows = [{"receiver": her, "format": "kith", "transport": "nhn-edi"} for her in (KOMMUNE, LEGEKONTOR)]
    routes.write_text(yaml.safe_dump({"routes": rows}), encoding="utf-8")
    settings = dataclasses.replace(
        service_settings,
        routes_file=str(routes),
        nhn_her_ids=",".join(POLLED),
        delivery_backoff_base=0.001,
        delivery_backoff_cap=0.001,
        delivery_max_attempts=50,
    )
    service = Service(settings, translator=translator, clock=lambda: TODAY, meldingstjener=fake.client())
    yield service
    service.store.close()
    service.outbound.close()


def _inbox(service: Service) -> NhnInbox:
    return service.nhn_inbox()


def _worker(service: Service) -> Worker:
    return service.worker()


def _deliveries(service: Service) -> list[Delivery]:
    return service.store.run(lambda tx: tx.deliveries())


def _drain(service: Service, rounds: int = 60) -> None:
    worker = _worker(service)
    for _ in range(rounds):
        if all(d.state != "pending" for d in _deliveries(service)):
            return
        worker.run_once()


# --- receiving --------------------------------------------------------------------------------------------------


def test_a_message_from_nhn_is_processed_answered_and_marked_read(nhn_service: Service, fake: FakeNhn) -> None:
    remote = fake.deliver(KOMMUNE, OURS, example("kith/dialogmelding-samtykke-ola.xml"))
    report = _inbox(nhn_service).poll_once()
    assert (report.listed, report.answered, report.read, report.failures) == (1, 1, 1, [])
    stored = fake.msh.messages[remote]
    assert stored.apprecs[OURS][0] == "Ok"  # the AppRec went back through the API
    assert OURS in stored.read
    assert nhn_service.store.run(lambda tx: tx.message(KOMMUNE, "kith", stored.business_document_id)) is not None
    again = _inbox(nhn_service).poll_once()  # nothing left: it was marked read
    assert (again.listed, again.answered) == (0, 0)


def test_a_broken_message_from_nhn_is_rejected_with_its_error_codes(nhn_service: Service, fake: FakeNhn) -> None:
    remote = fake.deliver(DPS, OURS, example("kith/dialogmelding-kriseplan-feil-skjema.xml"))
    # the DPS itself is the sender here: its own message to itself, broken on purpose (T02)
    _inbox(nhn_service).poll_once()
    status, errors = fake.msh.messages[remote].apprecs[OURS]
    assert status == "Rejected"
    assert [e["errorCode"] for e in errors] == ["T02"]


def test_a_sender_nhn_did_not_authenticate_is_refused(nhn_service: Service, fake: FakeNhn) -> None:
    """NHN says the legekontor sent it, but the MsgHead says the kommune: rejected, nothing stored."""
    remote = fake.deliver(LEGEKONTOR, OURS, example("kith/dialogmelding-samtykke-ola.xml"))
    _inbox(nhn_service).poll_once()
    status, errors = fake.msh.messages[remote].apprecs[OURS]
    assert status == "Rejected"
    assert errors and errors[0]["errorCode"] == "X99"
    assert nhn_service.store.run(lambda tx: tx.message_by_id(fake.msh.messages[remote].business_document_id)) is None


def test_a_crash_after_processing_neither_loses_nor_repeats(
    nhn_service: Service, fake: FakeNhn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The poller dies after the message and its AppRec are stored but before the AppRec is sent: the message
    stays unread; the next poll finds it stored (a duplicate, answered from the store), sends the AppRec once and
    marks it read."""
    remote = fake.deliver(KOMMUNE, OURS, example("kith/dialogmelding-samtykke-ola.xml"))
    inbox = _inbox(nhn_service)

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(inbox.client, "send_apprec", crash)
    with pytest.raises(SystemExit):
        inbox.poll_once()
    assert fake.msh.messages[remote].apprecs == {} and OURS not in fake.msh.messages[remote].read
    monkeypatch.undo()
    report = _inbox(nhn_service).poll_once()
    assert (report.answered, report.read) == (1, 1)
    assert fake.msh.messages[remote].apprecs[OURS][0] == "Ok"
    messages = nhn_service.store.run(lambda tx: tx.messages_in_state("processed", 100))
    assert len(messages) == 1  # processed once


def test_a_crash_after_the_apprec_only_marks_it_read(
    nhn_service: Service, fake: FakeNhn, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = fake.deliver(KOMMUNE, OURS, example("kith/dialogmelding-samtykke-ola.xml"))
    inbox = _inbox(nhn_service)
    sent: list[str] = []
    original = inbox.client.send_apprec

    def counting(message_id: str, **kwargs: object) -> None:
        sent.append(message_id)
        original(message_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(inbox.client, "send_apprec", counting)

    def crash(*args: object, **kwargs: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(inbox.client, "mark_read", crash)
    with pytest.raises(SystemExit):
        inbox.poll_once()
    monkeypatch.setattr(inbox.client, "mark_read", type(inbox.client).mark_read.__get__(inbox.client))
    inbox.poll_once()
    assert sent == [remote]  # the AppRec went once
    assert OURS in fake.msh.messages[remote].read


# --- sending and receipts ----------------------------------------------------------------------------------------


def _send_plan(service: Service) -> None:
    """The DPS's crisis plan for the kommune (after the consent that lets it go there), as FHIR messages."""
    from adapter.security import SCOPES, Caller

    caller = Caller(org=DPS, scopes=frozenset(SCOPES), subject="test", client_id=None)
    for name in ("fhir/Bundle-melding-samtykke-ola.json", "fhir/Bundle-melding-kriseplan-ola.json"):
        reply = service.pipeline.process_message(example(name), "json", caller)  # the admin scope relays
        assert reply.status == 200, reply


def test_a_delivery_goes_through_nhn_and_its_apprec_closes_it(nhn_service: Service, fake: FakeNhn) -> None:
    _send_plan(nhn_service)
    _drain(nhn_service)
    nhn = [d for d in _deliveries(nhn_service) if d.transport == "nhn-edi"]
    assert nhn and all(d.state == "delivered" and d.remote_id for d in nhn)
    assert {m.id for m in fake.msh.sent()} >= {d.remote_id for d in nhn}
    target = nhn[-1]
    fake.answer(str(target.remote_id), str(target.recipient), "rejected", [("E35", "Pasienten finnes ikke")])
    report = _inbox(nhn_service).poll_once()  # also takes the AppRec message NHN put in our inbox, unanswered
    assert report.failures == [] and (report.listed, report.read) == (1, 1), report
    closed = nhn_service.store.run(lambda tx: tx.delivery(target.id))
    assert closed is not None and (closed.receipt_status, closed.receipt_errors) == ("rejected", ("E35",))
    assert all(not m.apprecs for m in fake.msh.messages.values() if m.is_apprec)  # no receipt for a receipt
    environment = {"SAMHANDLING_DATA_DIR": str(nhn_service.settings.data_dir), "SAMHANDLING_DATABASE_URL": ""}
    if nhn_service.settings.database_url:
        environment["SAMHANDLING_DATABASE_URL"] = nhn_service.settings.database_url
    listing = CliRunner().invoke(main, ["outbox", "list"], env=environment)
    assert f"{target.id:>6}  delivered" in listing.output and "receipt rejected E35" in listing.output, listing.output


def test_an_apprec_posted_to_kith_messages_closes_the_delivery(nhn_service: Service, fake: FakeNhn) -> None:
    """A receiver without NHN answers over HTTP: the AppRec is taken (2xx), matched to the delivery it answers,
    and only the receiver itself can close its delivery."""
    _send_plan(nhn_service)
    _drain(nhn_service)
    target = next(d for d in _deliveries(nhn_service) if d.transport == "nhn-edi" and d.recipient == KOMMUNE)
    assert target.answer_id
    http = create_app(service=nhn_service).test_client()
    answering = {"Content-Type": "application/xml", **_auth(nhn_service, LEGEKONTOR)}  # not the receiver
    answer = http.post("/kith/messages", data=_apprec(str(target.answer_id), answering=LEGEKONTOR), headers=answering)
    assert answer.status_code == 200, answer.data
    assert "ADP-6002" in answer.get_data(as_text=True)
    still = nhn_service.store.run(lambda tx: tx.delivery(target.id))
    assert still is not None and still.receipt_status is None
    receiver = {"Content-Type": "application/xml", **_auth(nhn_service, str(target.recipient))}
    apprec = _apprec(str(target.answer_id), answering=str(target.recipient))
    answer = http.post("/kith/messages", data=apprec, headers=receiver)
    assert answer.status_code == 200, answer.data
    assert "ADP-6001" in answer.get_data(as_text=True)
    closed = nhn_service.store.run(lambda tx: tx.delivery(target.id))
    assert closed is not None and closed.receipt_status == "ok"


def _auth(service: Service, org: str) -> dict[str, str]:
    assert service.issuer is not None
    return {"Authorization": f"Bearer {service.issuer.issue(org, ['samhandling/messages'], ttl_seconds=600)}"}


def _apprec(answers: str, *, answering: str) -> bytes:
    """An AppRec 1.0 from ``answering`` for our message ``answers``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<AppRec xmlns="http://www.kith.no/xmlstds/apprec/2004-11-21">
  <MsgType V="APPREC"/>
  <MIGversion>1.0 2004-11-21</MIGversion>
  <GenDate>2026-06-01T14:00:00</GenDate>
  <Id>{answers}-apprec-{answering}</Id>
  <Sender><HCP><Inst><Name>Mottaker</Name><Id>{answering}</Id><TypeId V="HER" DN="HER-id"/></Inst></HCP></Sender>
  <Receiver><HCP><Inst><Name>Vestbyen DPS</Name><Id>{DPS}</Id><TypeId V="HER" DN="HER-id"/></Inst></HCP></Receiver>
  <Status V="1" DN="OK"/>
  <OriginalMsgId>
    <MsgType V="DIALOG_HELSEFAGLIG"/><IssueDate>2026-06-01T12:00:00</IssueDate><Id>{answers}</Id>
  </OriginalMsgId>
</AppRec>""".encode()


# --- faults -----------------------------------------------------------------------------------------------------


def test_with_faults_injected_nothing_is_lost_and_nothing_processed_twice(nhn_service: Service, fake: FakeNhn) -> None:
    """Messages both ways while the fakes fail at random: 5xx and 429 before doing anything, answers lost after
    doing the work, nonce challenges, expired tokens. Every incoming message ends processed once, answered and
    read; every delivery ends delivered with a remote id. Lost answers to POST /Messages are the only source of
    duplicates at the Meldingstjener (the receiver recognises them by MsgId); the counts are printed."""
    rng = random.Random(13)
    incoming = [
        fake.deliver(KOMMUNE, OURS, example(f"kith/{name}"))
        for name in ("dialogmelding-samtykke-ola.xml", "dialogmelding-individuell-plan-ola.xml")
    ]
    _send_plan(nhn_service)
    worker, inbox = _worker(nhn_service), _inbox(nhn_service)
    faults = {"5xx": 0, "429": 0, "lost": 0, "nonce": 0, "expired": 0}
    for _ in range(40):
        pick = rng.choice(["5xx", "429", "lost", "nonce", "expired", "none", "none"])
        if pick == "5xx":
            fake.msh.fail(rng.choice([500, 502, 503]))
        elif pick == "429":
            fake.msh.fail(429)
        elif pick == "lost":
            fake.msh.lose_answers(1)
        elif pick == "nonce":
            fake.msh.demand_nonce = True
            fake.msh.rotate_nonce()
        elif pick == "expired":
            fake.helseid.expire_tokens()
        if pick != "none":
            faults[pick] += 1
        worker.run_once()
        inbox.poll_once()
        if rng.random() < 0.3:  # more messages while the faults go on: a change of the plan, resent as new
            incoming.append(fake.deliver(KOMMUNE, OURS, example("kith/dialogmelding-samtykke-ola.xml")))
    fake.msh.demand_nonce = False
    for _ in range(20):  # settle what the last faults left
        worker.run_once()
        inbox.poll_once()
    nhn = [d for d in _deliveries(nhn_service) if d.transport == "nhn-edi"]
    assert nhn and all(d.state == "delivered" and d.remote_id for d in nhn), [(d.state, d.last_error) for d in nhn]
    for remote in incoming:
        assert OURS in fake.msh.messages[remote].read
        assert fake.msh.messages[remote].apprecs[OURS][0] == "Ok"
    processed = nhn_service.store.run(lambda tx: tx.messages_in_state("processed", 1000))
    from_nhn = [m for m in processed if m.format == "kith"]
    distinct = {fake.msh.messages[r].business_document_id for r in incoming}
    assert len(from_nhn) == len(distinct)  # each MsgId processed once, however often NHN held it
    copies = [m for m in fake.msh.sent() if not m.is_apprec]
    msg_ids = [m.business_document_id for m in copies]
    print(
        f"\nNHN faults {faults}: received {len(incoming)} from NHN ({len(distinct)} distinct MsgIds, each processed "
        f"once; none lost or left unread), "
        f"sent {len(nhn)} deliveries as {len(copies)} posts ({len(msg_ids) - len(set(msg_ids))} duplicates by MsgId)"
    )
    assert set(msg_ids) >= {d.answer_id for d in nhn}


def test_a_lost_answer_to_a_send_is_sent_again_and_the_copy_carries_the_same_msgid(
    nhn_service: Service, fake: FakeNhn
) -> None:
    """The Meldingstjener took the message but its answer was lost: the worker cannot know, and sends it again
    (at least once); both copies carry the same MsgId, by which the receiver recognises the second. The delivery
    follows the copy it was told about."""
    _send_plan(nhn_service)
    fake.msh.lose_answers(1)  # the next answer of the Meldingstjener: the worker's first send (no polling here)
    worker = Worker(
        nhn_service.store,
        nhn_service.outbound,
        WorkerSettings.from_settings(nhn_service.settings),
        nhn=nhn_service.nhn_outbound.post,
    )
    for _ in range(10):
        worker.run_once()
    posts = [m for m in fake.msh.sent() if not m.is_apprec]
    delivered = [d for d in _deliveries(nhn_service) if d.transport == "nhn-edi"]
    assert len(posts) == len(delivered) + 1
    first, second = posts[0], next(m for m in posts[1:] if m.business_document_id == posts[0].business_document_id)
    assert first.document == second.document
    mine = next(d for d in delivered if d.answer_id == first.business_document_id)
    assert mine.remote_id == second.id and mine.attempts == 2


def test_a_receipt_is_taken_whatever_display_text_it_gives_and_a_second_one_changes_nothing(
    nhn_service: Service, fake: FakeNhn
) -> None:
    """From the outside test: the receiver's AppRec wrote its own display text for E35 (not list 8221's): its
    receipt still counts. A second receipt for the same delivery is stored, says the first stands, and changes
    nothing."""
    _send_plan(nhn_service)
    _drain(nhn_service)
    target = next(d for d in _deliveries(nhn_service) if d.transport == "nhn-edi" and d.recipient == KOMMUNE)
    http = create_app(service=nhn_service).test_client()
    headers = {"Content-Type": "application/xml", **_auth(nhn_service, KOMMUNE)}
    rejecting = _apprec(str(target.answer_id), answering=KOMMUNE).replace(
        b'<Status V="1" DN="OK"/>',
        b'<Status V="2" DN="Avvist"/><Error V="E35" S="2.16.578.1.12.4.1.1.8221" DN="Pasienten finnes ikke"/>',
    )
    answer = http.post("/kith/messages", data=rejecting, headers=headers)
    assert answer.status_code == 200, answer.data
    assert "ADP-6001" in answer.get_data(as_text=True)
    later = _apprec(str(target.answer_id), answering=KOMMUNE).replace(b"-apprec-", b"-apprec-again-")
    again = http.post("/kith/messages", data=later, headers=headers)
    assert again.status_code == 200 and "ADP-6003" in again.get_data(as_text=True), again.data
    closed = nhn_service.store.run(lambda tx: tx.delivery(target.id))
    assert closed is not None and (closed.receipt_status, closed.receipt_errors) == ("rejected", ("E35",))


def test_the_outbox_list_names_a_delivery_by_the_id_its_receipt_will_name(nhn_service: Service, fake: FakeNhn) -> None:
    _send_plan(nhn_service)
    _drain(nhn_service)
    target = next(d for d in _deliveries(nhn_service) if d.transport == "nhn-edi" and d.recipient == KOMMUNE)
    environment = {"SAMHANDLING_DATA_DIR": str(nhn_service.settings.data_dir), "SAMHANDLING_DATABASE_URL": ""}
    listing = CliRunner().invoke(main, ["outbox", "list"], env=environment)
    assert f"{target.id:>6}  delivered   1  {target.answer_id}  " in listing.output, listing.output


def test_a_missing_or_unusable_helseid_key_is_a_setup_error(
    service_settings: Settings, translator: Translator, tmp_path: Path
) -> None:
    from adapter.errors import SetupError

    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    for key_file in (str(tmp_path / "missing.pem"), str(broken)):
        settings = dataclasses.replace(
            service_settings,
            nhn_base_url="https://msh.test.example/api",
            nhn_her_ids=DPS,
            helseid_token_url="https://helseid.test.example/connect/token",  # noqa: S106 - a URL, no secret
            helseid_client_id="client",
            helseid_key_file=key_file,
        )
        with pytest.raises(SetupError) as raised:
            Service(settings, translator=translator)
        assert raised.value.issues[0].code == "ADP-6010"
