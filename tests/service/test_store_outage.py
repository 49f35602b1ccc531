"""A database that is down, hangs or refuses the service (adapter/store/sql.py, the app's error mapping): a request
is answered within the store's time bound (``database_timeout``) with 503 ADP-5075 and ``Retry-After``, never a
500 and never after the database came back; an unexpected error's reference is the request's id; a database that
does not exist is a setup error, refused at once (ADP-0015), not a lost connection tried again.

The hanging database is a TCP socket in the test that accepts connections and never answers; the one that is down
is a port nothing listens at. Timings are compared with the time bound and with each other, never with a number
of seconds."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from flask.testing import FlaskClient
from reliability_helpers import free_port

from adapter.api import create_app
from adapter.config import Settings
from adapter.service import Service
from adapter.store import StoreUnavailable, open_store

POSTGRES = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
#: The store's time bound in these tests (seconds): short, so that a test takes a few seconds.
BOUND = 2.0


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """Scope: function. Type: int, the port of a TCP server on 127.0.0.1 that accepts every connection and never
    answers (a database that hangs). Default: a free port."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])  # kept open, never read or written
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for connection in [*accepted, server]:
        connection.close()


def moved(url: str, port: int) -> str:
    """``url`` with its host and port replaced by 127.0.0.1:``port``."""
    parsed = urlparse(url)
    user = f"{parsed.username}@" if parsed.username else ""
    return urlunparse(parsed._replace(netloc=f"{user}127.0.0.1:{port}"))


def timed_get(client: FlaskClient, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], dict, float]:
    started = time.perf_counter()
    answer = client.get(path, headers=headers)
    return answer.status_code, dict(answer.headers), answer.get_json(), time.perf_counter() - started


@pytest.fixture
def bounded(service_settings: Settings, make_service: Callable[..., Service]) -> Service:
    """Scope: function. Type: Service whose store waits at most BOUND seconds. Default: on the test database."""
    return make_service(service_settings, database_timeout=BOUND)


@POSTGRES
@pytest.mark.parametrize("down", ["hanging", "closed port"])
def test_a_database_that_hangs_or_is_down_is_answered_503_within_the_bound(
    bounded: Service, auth: Callable[..., dict[str, str]], hanging_port: int, down: str
) -> None:
    client = create_app(service=bounded).test_client()
    headers = auth()
    assert client.get("/CarePlan", headers=headers).status_code == 200
    port = hanging_port if down == "hanging" else free_port()
    bounded.store.url = moved(bounded.store.url, port)
    bounded.store.close()  # this thread's connection: the next request connects anew, to the database that is away
    status, answer_headers, body, seconds = timed_get(client, "/CarePlan", headers)
    assert status == 503, body
    issue = body["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "ADP-5075" and issue["code"] == "transient"
    assert "nothing was stored" in issue["diagnostics"]
    assert int(answer_headers["Retry-After"]) >= 1
    assert seconds < 3 * BOUND, seconds  # the bound, give or take one connection attempt
    assert "psycopg" not in str(body) and str(port) not in str(body)  # the log has the database's words


@POSTGRES
def test_parallel_requests_to_a_hanging_database_all_get_503_and_ready_still_answers(
    bounded: Service, auth: Callable[..., dict[str, str]], hanging_port: int
) -> None:
    app = create_app(service=bounded)
    headers = auth()
    bounded.store.url = moved(bounded.store.url, hanging_port)
    answers: list[tuple[int, float]] = []

    def one() -> None:
        status, _, _, seconds = timed_get(app.test_client(), "/CarePlan", headers)
        answers.append((status, seconds))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    ready_started = time.perf_counter()
    ready = app.test_client().get("/health/ready")
    ready_seconds = time.perf_counter() - ready_started
    for thread in threads:
        thread.join()
    assert ready.status_code == 503 and ready.get_json()["code"] == "ADP-5045"
    assert sorted({status for status, _ in answers}) == [503], answers
    slowest = max(seconds for _, seconds in answers)
    assert slowest < 3 * BOUND, answers
    assert ready_seconds < slowest, (ready_seconds, slowest)  # the check does not wait behind the requests


@POSTGRES
def test_the_bound_scales_with_the_setting(
    service_settings: Settings, make_service: Callable[..., Service], auth: Callable[..., dict[str, str]]
) -> None:
    """Twice the bound, about twice the wait, against a port nothing listens at (refused at once, tried again)."""
    seconds = []
    for bound in (1.0, 2.0):
        service = make_service(service_settings, database_timeout=bound)
        client = create_app(service=service).test_client()
        service.store.url = moved(service.store.url, free_port())
        service.store.close()
        status, _, _, took = timed_get(client, "/CarePlan", auth())
        assert status == 503
        seconds.append(took)
    assert 1.3 < seconds[1] / seconds[0] < 3, seconds


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_unexpected_error_names_the_request_id_as_its_reference(
    service: Service,
    client: FlaskClient,
    auth: Callable[..., dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service.store, "run", broken)
    answer = client.get("/CarePlan", headers={**auth(), "X-Request-Id": "ops-search-me-42"})
    assert answer.status_code == 500
    assert "ops-search-me-42" in answer.get_json()["issue"][0]["diagnostics"]
    assert any("ops-search-me-42" in record.getMessage() for record in caplog.records)


def test_a_database_that_does_not_exist_is_refused_at_once(postgres_url: str, caplog: pytest.LogCaptureFixture) -> None:
    missing = urlunparse(urlparse(postgres_url)._replace(path="/does_not_exist"))
    with caplog.at_level(logging.WARNING), pytest.raises(StoreUnavailable) as refused:
        open_store(missing)
    assert refused.value.issue.code == "ADP-0015" and "does_not_exist" in refused.value.issue.text_en
    assert not [r for r in caplog.records if "trying the transaction again" in r.getMessage()]


def test_a_connection_lost_while_committing_is_not_tried_again_and_says_the_outcome_is_unknown(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tried again, a transaction whose commit may have happened could be stored twice; nor is "nothing was
    stored" true of it."""
    store = open_store(postgres_url, timeout=BOUND)
    ran: list[object] = []

    @contextlib.contextmanager
    def lost_at_commit(schema: bool) -> Iterator[str]:
        yield "tx"
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(store, "_transaction", lost_at_commit)
    try:
        with pytest.raises(StoreUnavailable) as lost:
            store.run(ran.append)
    finally:
        monkeypatch.undo()
        store.close()
    assert ran == ["tx"] and lost.value.public.code == "ADP-5076"
    assert "nothing was stored" not in lost.value.public.text_en and "not known" in lost.value.public.text_en
