"""The EDI 2.0 Meldingstjener client against the fake: round trips, headers, nonce and token retries, faults.

As in test_helseid.py, the last part attacks the fake with hand-made requests, each breaking one rule.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from fakes.nhn import FakeNhn, msghead
from fakes.nhn import fake_nhn as fake_nhn  # the fixture
from pytest_httpserver import HTTPServer

from adapter.transport.helseid import HelseIdClient
from adapter.transport.nhn import IncomingMessage, Meldingstjener, NhnError, ReceiptInfo

US = "8100002"  # our HER-id (the fake's organisation has 8100002 and 8100022)
THEM = "8100001"


def _statuses(calls: list[tuple[str, str, int]]) -> list[int]:
    return [status for _, _, status in calls]


# -- round trips -----------------------------------------------------------------------------------------------------


def test_send_then_receipts_and_status(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    document = msghead(US, THEM, msg_id="msg-1")
    message_id = client.send(document, sender_her=US, receiver_her=THEM)
    [sent] = fake_nhn.msh.sent()
    assert sent.id == message_id and sent.document == document
    assert (sent.sender_her, sent.receivers, sent.business_document_id) == (US, [THEM], "msg-1")
    assert client.receipts(message_id) == []
    assert client.status(message_id) == [
        {"receiverHerId": int(THEM), "transportDeliveryState": "Unconfirmed", "appRecStatus": None}
    ]
    fake_nhn.answer(message_id, THEM, "rejected", [("E10", "Ugyldig meldingsidentifikator")])
    assert client.receipts(message_id) == [ReceiptInfo(THEM, "rejected", (("E10", "Ugyldig meldingsidentifikator"),))]
    assert client.status(message_id)[0]["appRecStatus"] == "Rejected"
    [apprec] = client.unread([US])  # the AppRec arrives in our inbox as well
    assert apprec.is_apprec and apprec.sender_her == THEM and apprec.receiver_her == US
    assert b"OriginalMsgId" in client.business_document(apprec.id)
    assert fake_nhn.msh.rejections == [] and fake_nhn.helseid.rejections == []


def test_receive_read_and_answer(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    document = msghead(THEM, US, msg_id="incoming-1")
    message_id = fake_nhn.deliver(THEM, US, document)
    other = fake_nhn.deliver(THEM, "8100022", msghead(THEM, "8100022"))
    assert client.unread([US]) == [
        IncomingMessage(message_id, THEM, US, "incoming-1", "2026-03-02T10:15:00", False, "application/xml")
    ]
    assert {m.id for m in client.unread([US, "8100022"])} == {message_id, other}
    assert client.business_document(message_id) == document
    client.send_apprec(message_id, sender_her=US, status="ok")
    client.mark_read(message_id, US)
    assert [m.id for m in client.unread([US, "8100022"])] == [other]
    stored = fake_nhn.msh.messages[message_id]
    assert stored.apprecs == {US: ("Ok", [])} and stored.read == {US}
    [apprec] = fake_nhn.msh.inbox(THEM)
    assert apprec.is_apprec and apprec.answers == message_id
    assert fake_nhn.msh.rejections == []


@pytest.mark.parametrize(
    ("status", "api"), [("ok", "Ok"), ("ok-with-errors", "OkErrorInMessagePart"), ("rejected", "Rejected")]
)
def test_apprec_status_and_errors(fake_nhn: FakeNhn, status: str, api: str) -> None:
    message_id = fake_nhn.deliver(THEM, US, msghead(THEM, US))
    fake_nhn.client().send_apprec(message_id, sender_her=US, status=status, errors=[("E36", "Pasient mangler")])
    assert fake_nhn.msh.messages[message_id].apprecs[US] == (api, [{"errorCode": "E36", "details": "Pasient mangler"}])


def test_unread_is_limited_and_oldest_first(fake_nhn: FakeNhn) -> None:
    ids = [fake_nhn.deliver(THEM, US, msghead(THEM, US)) for _ in range(3)]
    fake_nhn.msh.messages[ids[0]].gen_date = "2026-03-03T00:00:00"
    assert [m.id for m in fake_nhn.client().unread([US], limit=2)] == [ids[1], ids[2]]


def test_every_call_sends_the_required_headers(fake_nhn: FakeNhn, httpserver: HTTPServer) -> None:
    client = fake_nhn.client()
    message_id = client.send(msghead(US, THEM), sender_her=US, receiver_her=THEM)
    client.receipts(message_id)
    for request, _ in httpserver.log:
        if request.path.startswith("/api"):
            assert request.headers["api-version"] == "2"
            assert request.headers["nhn-source-system"] == FakeNhn.SOURCE_SYSTEM
            assert request.headers["Accept"] == "application/json"
            assert request.headers["Authorization"].startswith("DPoP ")
    proofs = [request.headers["DPoP"] for request, _ in httpserver.log if request.path.startswith("/api")]
    assert len(proofs) == 2 and len({jwt.decode(p, options={"verify_signature": False})["jti"] for p in proofs}) == 2


def test_token_is_reused_across_calls(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    for _ in range(3):
        client.unread([US])
    assert len(fake_nhn.helseid.calls) == 1


# -- nonce and token retries -----------------------------------------------------------------------------------------


def test_nonce_challenge_at_the_api(fake_nhn: FakeNhn) -> None:
    fake_nhn.msh.demand_nonce = True
    client = fake_nhn.client()
    assert client.unread([US]) == []
    assert _statuses(fake_nhn.msh.calls) == [401, 200]
    assert fake_nhn.msh.rejections == ["use_dpop_nonce (no nonce)"]
    client.unread([US])  # the nonce is remembered
    assert _statuses(fake_nhn.msh.calls) == [401, 200, 200]
    fake_nhn.msh.rotate_nonce()
    client.unread([US])  # the answer to the last call carried the old nonce; a stale one is challenged again
    assert _statuses(fake_nhn.msh.calls) == [401, 200, 200, 401, 200]
    assert len(fake_nhn.helseid.calls) == 1  # a nonce challenge needs no new token


def test_nonces_at_both_servers(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.demand_nonce = True
    fake_nhn.msh.demand_nonce = True
    client = fake_nhn.client()
    client.send(msghead(US, THEM), sender_her=US, receiver_her=THEM)
    assert _statuses(fake_nhn.helseid.calls) == [400, 200]
    assert _statuses(fake_nhn.msh.calls) == [401, 201]
    assert fake_nhn.helseid.nonce != fake_nhn.msh.nonce  # each server's own nonce went to it


def test_expired_token_is_renewed_once(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    client.unread([US])
    fake_nhn.helseid.expire_tokens()  # the server no longer takes it, the client still thinks it is good
    client.unread([US])
    assert _statuses(fake_nhn.msh.calls) == [200, 401, 200]
    assert fake_nhn.msh.rejections == ["access token revoked"]
    assert len(fake_nhn.helseid.calls) == 2


def test_token_expiring_on_the_clock_is_renewed_before_use(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.token_ttl = 300
    client = fake_nhn.client()
    client.unread([US])
    fake_nhn.clock.advance(301)
    client.unread([US])
    assert _statuses(fake_nhn.msh.calls) == [200, 200] and len(fake_nhn.helseid.calls) == 2


def test_401_twice_is_permanent(fake_nhn: FakeNhn) -> None:
    fake_nhn.msh.fail(401, 401)
    with pytest.raises(NhnError) as caught:
        fake_nhn.client().unread([US])
    assert (caught.value.transient, caught.value.status) == (False, 401)
    assert caught.value.detail.startswith("GET /Messages: HTTP 401 Unauthorized")
    assert len(fake_nhn.helseid.calls) == 2  # one new token was tried


def test_nonce_then_expired_token_are_both_handled(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    client.unread([US])
    fake_nhn.helseid.expire_tokens()
    fake_nhn.msh.demand_nonce = True
    assert client.unread([US]) == []
    assert _statuses(fake_nhn.msh.calls) == [200, 401, 401, 200]


# -- faults ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retryable_answers_are_transient(fake_nhn: FakeNhn, status: int) -> None:
    fake_nhn.msh.fail(status)
    with pytest.raises(NhnError) as caught:
        fake_nhn.client().send(msghead(US, THEM), sender_her=US, receiver_her=THEM)
    assert (caught.value.transient, caught.value.status) == (True, status)
    assert fake_nhn.msh.sent() == []


def test_helseid_trouble_is_reported_as_nhn_error(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.fail(503)
    with pytest.raises(NhnError) as caught:
        fake_nhn.client().unread([US])
    assert (caught.value.transient, caught.value.status) == (True, 503)
    assert "HelseID" in caught.value.detail and fake_nhn.msh.calls == []


def test_not_authorised_for_the_her_id_is_permanent(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    with pytest.raises(NhnError) as caught:
        client.unread(["9999999"])
    assert (caught.value.transient, caught.value.status) == (False, 403)
    assert "Not authorized for HerId(s): 9999999" in caught.value.detail and "requestId" in caught.value.detail
    with pytest.raises(NhnError) as caught:
        client.send(msghead("9999999", THEM), sender_her="9999999", receiver_her=THEM)
    assert caught.value.status == 403 and caught.value.detail.endswith("(sender 9999999)")


def test_a_herid_list_limits_the_token(httpserver: HTTPServer, tmp_path: Path) -> None:
    fake = FakeNhn.start(httpserver, tmp_path, herid="8100022")
    client = fake.client()
    assert client.unread(["8100022"]) == []
    with pytest.raises(NhnError) as caught:
        client.unread([US])
    assert caught.value.status == 403


def test_unknown_message(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    missing = str(uuid.uuid4())
    with pytest.raises(NhnError) as caught:
        client.business_document(missing)
    assert (caught.value.transient, caught.value.status) == (False, 404)
    assert client.receipts(missing) == []


def test_invalid_documents_are_refused_permanently(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    undeclared = msghead(US, THEM).replace(b"<?xml version='1.0' encoding='UTF-8'?>", b"")
    for document, why in [
        (undeclared, "UTF-8"),
        (b"<?xml version='1.0' encoding='UTF-8'?><Nothing/>", "not a MsgHead"),
    ]:
        with pytest.raises(NhnError) as caught:
            client.send(document, sender_her=US, receiver_her=THEM)
        assert (caught.value.transient, caught.value.status) == (False, 400)
        assert why in caught.value.detail
    with pytest.raises(NhnError) as caught:
        client.send(msghead(US, THEM), sender_her=US, receiver_her="8100099")
    assert "receiverHerIdsSubset" in caught.value.detail


def test_no_answer_within_the_read_timeout_is_transient(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client(timeout=(1.0, 0.2))
    client.unread([US])  # token first, so only the API call is slow
    fake_nhn.msh.slow(0.6)
    started = time.monotonic()
    with pytest.raises(NhnError) as caught:
        client.unread([US])
    assert time.monotonic() - started < 0.55
    assert caught.value.transient and caught.value.status is None and "read timeout" in caught.value.detail
    assert fake_nhn.msh.wait_idle()


def test_a_lost_answer_is_transient_and_a_retry_sends_again(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    document = msghead(US, THEM, msg_id="lost-1")
    fake_nhn.msh.lose_answers()
    with pytest.raises(NhnError) as caught:
        client.send(document, sender_her=US, receiver_her=THEM)
    assert (caught.value.transient, caught.value.status) == (True, 500)
    client.send(document, sender_her=US, receiver_her=THEM)
    # Stored twice under the same MsgId: the receiver's MsgId check is what makes the retry harmless.
    assert [m.business_document_id for m in fake_nhn.msh.sent()] == ["lost-1", "lost-1"]


def test_bad_arguments_never_reach_the_server(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.client()
    for call in [
        lambda: client.business_document("../../Messages"),
        lambda: client.mark_read(str(uuid.uuid4()), "12a"),
        lambda: client.unread([]),
        lambda: client.unread([US], limit=101),
        lambda: client.send(b"<x/>", sender_her=US, receiver_her="0"),
        lambda: client.send_apprec(str(uuid.uuid4()), sender_her=US, status="maybe"),
        lambda: client.send_apprec(str(uuid.uuid4()), sender_her=US, status="rejected"),
    ]:
        with pytest.raises(NhnError) as caught:
            call()
        assert not caught.value.transient and caught.value.status is None
    assert fake_nhn.msh.calls == [] and fake_nhn.helseid.calls == []


def test_source_system_is_required(fake_nhn: FakeNhn) -> None:
    with pytest.raises(ValueError, match="nhn-source-system"):
        Meldingstjener(fake_nhn.base_url, fake_nhn.helseid_client(), source_system=" ")


# -- answers we cannot use (a misbehaving server at another path) ----------------------------------------------------


def _odd_client(fake: FakeNhn, httpserver: HTTPServer) -> Meldingstjener:
    return Meldingstjener(httpserver.url_for("/odd"), fake.helseid_client(), source_system="test", timeout=(1.0, 2.0))


ONE = str(uuid.UUID(int=1))
UNUSABLE: list[tuple[str, str, str, int, str]] = [
    ("POST", "/odd/Messages", json.dumps("not-a-guid"), 201, "not a message id"),
    ("GET", "/odd/Messages", "<html>busy</html>", 200, "not JSON"),
    ("GET", "/odd/Messages", json.dumps({"id": "x"}), 200, "not a list"),
    ("GET", "/odd/Messages", json.dumps([{"receiverHerId": 1}]), 200, "without a message id"),
    ("GET", f"/odd/Messages/{ONE}/business-document", json.dumps({"businessDocument": "%%"}), 200, "base64"),
    (
        "GET",
        f"/odd/Messages/{ONE}/business-document",
        json.dumps({"businessDocument": "eA==", "contentTransferEncoding": "gzip"}),
        200,
        "not base64",
    ),
    ("GET", f"/odd/Messages/{ONE}/apprec", json.dumps([{"receiverHerId": 1, "appRecStatus": "Maybe"}]), 200, "Maybe"),
    ("GET", f"/odd/Messages/{ONE}/status", json.dumps([1, 2]), 200, "list of objects"),
    ("GET", "/odd/Messages", "", 302, "HTTP 302 Found"),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "why"), UNUSABLE)
def test_unusable_answers_are_permanent(
    fake_nhn: FakeNhn, httpserver: HTTPServer, method: str, path: str, body: str, status: int, why: str
) -> None:
    headers = {"Location": fake_nhn.base_url + "/Messages"} if status == 302 else None
    httpserver.expect_request(path, method=method).respond_with_data(body, status=status, headers=headers)
    client = _odd_client(fake_nhn, httpserver)
    calls = {
        ("POST", "/odd/Messages"): lambda: client.send(msghead(US, THEM), sender_her=US, receiver_her=THEM),
        ("GET", "/odd/Messages"): lambda: client.unread([US]),
        ("GET", f"/odd/Messages/{ONE}/business-document"): lambda: client.business_document(ONE),
        ("GET", f"/odd/Messages/{ONE}/apprec"): lambda: client.receipts(ONE),
        ("GET", f"/odd/Messages/{ONE}/status"): lambda: client.status(ONE),
    }
    with pytest.raises(NhnError) as caught:
        calls[method, path]()
    assert not caught.value.transient and why in caught.value.detail, caught.value.detail
    assert fake_nhn.msh.calls == []  # the redirect was not followed


def test_receipts_not_yet_answered_are_left_out(fake_nhn: FakeNhn, httpserver: HTTPServer) -> None:
    message_id = str(uuid.UUID(int=2))
    httpserver.expect_request(f"/odd/Messages/{message_id}/apprec").respond_with_json(
        [
            {"receiverHerId": 1, "appRecStatus": None, "appRecErrorList": None},
            {"receiverHerId": 2, "appRecStatus": "OkErrorInMessagePart", "appRecErrorList": [{"errorCode": "E31"}]},
            {"receiverHerId": 3, "appRecStatus": 1},
        ]
    )
    assert _odd_client(fake_nhn, httpserver).receipts(message_id) == [
        ReceiptInfo("2", "ok-with-errors", (("E31", ""),)),
        ReceiptInfo("3", "ok"),
    ]


def test_oversized_answer_is_refused(fake_nhn: FakeNhn, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/odd/Messages").respond_with_data(b"[" + b" " * (1 << 20) + b"]")
    with pytest.raises(NhnError) as caught:
        _odd_client(fake_nhn, httpserver).unread([US])
    assert not caught.value.transient and "larger than" in caught.value.detail


# -- the fake refuses what the Meldingstjener refuses ----------------------------------------------------------------


def _api(fake: FakeNhn, helseid: HelseIdClient, method: str, path: str, **changes: Any) -> dict[str, str]:
    """Headers for a hand-made API request; ``changes`` replace (None: drop) single headers."""
    headers = {"api-version": "2", "nhn-source-system": "test", "Accept": "application/json"}
    headers |= helseid.headers(method, fake.base_url + path)
    for name, value in changes.items():
        name = name.replace("_", "-")
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return headers


def _raw(fake: FakeNhn, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, str]:
    data = json.dumps(body).encode() if body is not None else None
    if data is not None:
        headers = {**headers, "Content-Type": "application/json"}
    status, _, answer = fake.raw(method, fake.base_url + path, headers, data)
    return status, answer.decode()


def _post_body(document: bytes, **changes: Any) -> dict[str, Any]:
    body = {
        "businessDocument": base64.b64encode(document).decode(),
        "contentType": "application/xml",
        "contentTransferEncoding": "base64",
    }
    body |= changes
    return {name: value for name, value in body.items() if value is not None}


def test_the_fake_takes_a_correct_hand_made_request(fake_nhn: FakeNhn) -> None:
    helseid = fake_nhn.helseid_client()
    path = f"/Messages?ReceiverHerIds={US}"
    assert _raw(fake_nhn, "GET", path, _api(fake_nhn, helseid, "GET", path)) == (200, "[]")
    body = _post_body(msghead(US, THEM), receiverHerIdsSubset=[int(THEM)])
    assert _raw(fake_nhn, "POST", "/Messages", _api(fake_nhn, helseid, "POST", "/Messages"), body)[0] == 201


def _other_key_proof(fake: FakeNhn, helseid: HelseIdClient, path: str) -> dict[str, str]:
    token = helseid.access_token()
    thief = fake.helseid_client()  # another key pair
    return _api(fake, helseid, "GET", path, DPoP=thief.dpop_proof("GET", fake.base_url + path, access_token=token))


def _forged_token(fake: FakeNhn, helseid: HelseIdClient, path: str) -> dict[str, str]:
    forged = jwt.encode({"aud": "nhn:msh", "scope": "nhn:msh/api"}, "a-secret-of-at-least-32-bytes-long", "HS256")
    proof = helseid.dpop_proof("GET", fake.base_url + path, access_token=forged)
    return _api(fake, helseid, "GET", path, Authorization=f"DPoP {forged}", DPoP=proof)


HEADER_ATTACKS: dict[str, tuple[Any, int, str]] = {
    "no api-version": (lambda f, h, p: _api(f, h, "GET", p, api_version=None), 400, "api-version None"),
    "api-version 3": (lambda f, h, p: _api(f, h, "GET", p, api_version="3"), 400, "api-version '3'"),
    "no nhn-source-system": (lambda f, h, p: _api(f, h, "GET", p, nhn_source_system=None), 400, "nhn-source-system"),
    "Accept XML only": (lambda f, h, p: _api(f, h, "GET", p, Accept="application/xml"), 406, "Accept"),
    "Bearer scheme": (
        lambda f, h, p: _api(f, h, "GET", p, Authorization="Bearer " + h.access_token()),
        401,
        "not DPoP",
    ),
    "no proof": (lambda f, h, p: _api(f, h, "GET", p, DPoP=None), 401, "0 DPoP headers"),
    "proof for another URL": (
        lambda f, h, p: _api(
            f, h, "GET", p, DPoP=h.dpop_proof("GET", f.base_url + "/Messages/x", access_token=h.access_token())
        ),
        401,
        "DPoP proof htu",
    ),
    "proof for another method": (
        lambda f, h, p: _api(
            f, h, "GET", p, DPoP=h.dpop_proof("DELETE", f.base_url + p, access_token=h.access_token())
        ),
        401,
        "DPoP proof htm",
    ),
    "proof without ath": (
        lambda f, h, p: _api(f, h, "GET", p, DPoP=h.dpop_proof("GET", f.base_url + p)),
        401,
        "DPoP proof ath",
    ),
    "proof for another token": (
        lambda f, h, p: _api(f, h, "GET", p, DPoP=h.dpop_proof("GET", f.base_url + p, access_token="other")),  # noqa: S106
        401,
        "DPoP proof ath",
    ),
    "token bound to another key": (_other_key_proof, 401, "cnf.jkt"),
    "token not from HelseID": (lambda f, h, p: _forged_token(f, h, p), 401, "access token"),
}


@pytest.mark.parametrize("attack", sorted(HEADER_ATTACKS))
def test_the_fake_refuses(fake_nhn: FakeNhn, attack: str) -> None:
    make, status, reason = HEADER_ATTACKS[attack]
    helseid = fake_nhn.helseid_client()
    path = f"/Messages?ReceiverHerIds={US}"
    answer_status, answer = _raw(fake_nhn, "GET", path, make(fake_nhn, helseid, path))
    assert answer_status == status and "requestId" in answer
    assert reason in fake_nhn.msh.rejections[-1]


def test_the_fake_refuses_a_replayed_or_stale_proof(fake_nhn: FakeNhn) -> None:
    helseid = fake_nhn.helseid_client()
    path = f"/Messages?ReceiverHerIds={US}"
    headers = _api(fake_nhn, helseid, "GET", path)
    assert _raw(fake_nhn, "GET", path, headers)[0] == 200
    assert _raw(fake_nhn, "GET", path, headers)[0] == 401
    assert fake_nhn.msh.rejections[-1] == "DPoP proof jti used before"
    headers = _api(fake_nhn, helseid, "GET", path)
    fake_nhn.clock.advance(90)
    assert _raw(fake_nhn, "GET", path, headers)[0] == 401
    assert "DPoP proof iat" in fake_nhn.msh.rejections[-1]


def test_the_fake_demands_its_nonce(fake_nhn: FakeNhn) -> None:
    helseid = fake_nhn.helseid_client()
    fake_nhn.msh.demand_nonce = True
    path = f"/Messages?ReceiverHerIds={US}"
    status, headers, _ = fake_nhn.raw("GET", fake_nhn.base_url + path, _api(fake_nhn, helseid, "GET", path))
    assert status == 401 and 'error="use_dpop_nonce"' in headers["WWW-Authenticate"]
    assert headers["DPoP-Nonce"] == fake_nhn.msh.nonce
    wrong = helseid.dpop_proof("GET", fake_nhn.base_url + path, access_token=helseid.access_token(), nonce="guess")
    assert _raw(fake_nhn, "GET", path, _api(fake_nhn, helseid, "GET", path, DPoP=wrong))[0] == 401
    assert fake_nhn.msh.rejections[-1] == "use_dpop_nonce (stale nonce 'guess')"


BODY_ATTACKS: dict[str, tuple[dict[str, Any], int, str]] = {
    "unknown property": (_post_body(msghead(US, THEM), sender=US), 400, "unknown properties ['sender']"),
    "no contentType": (_post_body(msghead(US, THEM), contentType=None), 400, "missing properties ['contentType']"),
    "contentType text/plain": (_post_body(msghead(US, THEM), contentType="text/plain"), 400, "contentType"),
    "not base64": (_post_body(msghead(US, THEM), businessDocument="<MsgHead/>"), 400, "not base64"),
    "not UTF-8": (
        _post_body(msghead(US, THEM).replace(b"UTF-8", b"ISO-8859-1")),
        400,
        "UTF-8",
    ),
    "subset not among receivers": (
        _post_body(msghead(US, THEM), receiverHerIdsSubset=[8100099]),
        400,
        "receiverHerIdsSubset",
    ),
    "subset as strings": (_post_body(msghead(US, THEM), receiverHerIdsSubset=[THEM]), 400, "receiverHerIdsSubset"),
    "sender not ours": (_post_body(msghead("9999999", THEM)), 403, "Not authorized for HerId(s): 9999999"),
    "not an object": ({"businessDocument": ["x"], "contentType": "a", "contentTransferEncoding": "b"}, 400, "string"),
}


@pytest.mark.parametrize("attack", sorted(BODY_ATTACKS))
def test_the_fake_checks_posted_messages(fake_nhn: FakeNhn, attack: str) -> None:
    body, status, reason = BODY_ATTACKS[attack]
    helseid = fake_nhn.helseid_client()
    assert _raw(fake_nhn, "POST", "/Messages", _api(fake_nhn, helseid, "POST", "/Messages"), body)[0] == status
    assert reason in fake_nhn.msh.rejections[-1]
    assert fake_nhn.msh.sent() == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"appRecStatus": "Rejected"}, "must be populated"),
        ({"appRecStatus": "Maybe"}, "appRecStatus 'Maybe'"),
        ({"appRecErrorList": []}, "missing properties ['appRecStatus']"),
        ({"appRecStatus": "Ok", "appRecErrorList": [{"errorCode": "E10"}]}, "missing properties ['details']"),
        ({"appRecStatus": "Ok", "status": 1}, "unknown properties"),
    ],
)
def test_the_fake_checks_posted_apprecs(fake_nhn: FakeNhn, body: dict[str, Any], reason: str) -> None:
    message_id = fake_nhn.deliver(THEM, US, msghead(THEM, US))
    helseid = fake_nhn.helseid_client()
    path = f"/Messages/{message_id}/apprec/{US}"
    assert _raw(fake_nhn, "POST", path, _api(fake_nhn, helseid, "POST", path), body)[0] == 400
    assert reason in fake_nhn.msh.rejections[-1]
    assert fake_nhn.msh.messages[message_id].apprecs == {}


def test_the_fake_refuses_an_apprec_from_someone_else(fake_nhn: FakeNhn) -> None:
    message_id = fake_nhn.deliver(THEM, US, msghead(THEM, US))
    client = fake_nhn.client()
    with pytest.raises(NhnError) as caught:
        client.send_apprec(message_id, sender_her="8100022", status="ok")
    assert caught.value.status == 400 and "not a receiver" in caught.value.detail
    client.send_apprec(message_id, sender_her=US, status="ok")
    with pytest.raises(NhnError) as caught:
        client.send_apprec(message_id, sender_her=US, status="ok")
    assert "already sent an AppRec" in caught.value.detail
