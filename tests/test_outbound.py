"""Outbound delivery against fake receivers on loopback: how each kind of failure is classified, and backoff."""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from collections.abc import Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adapter.transport import DeliveryResult, Outbound, backoff_seconds
from adapter.transport.outbound import is_transient_status


@pytest.fixture
def outbound() -> Generator[Outbound, None, None]:
    """Scope: function. Type: Outbound. Default: 1 s connect timeout, 0.5 s read timeout."""
    with Outbound(connect_timeout=1.0, read_timeout=0.5) as client:
        yield client


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_2xx_is_ok_and_keeps_the_answer(httpserver: HTTPServer, outbound: Outbound) -> None:
    httpserver.expect_request(
        "/fhir", method="POST", data=b"<Bundle/>", headers={"Content-Type": "application/fhir+xml", "X-Corr": "c-1"}
    ).respond_with_data(b'{"ok":1}', status=201, content_type="application/fhir+json")
    result = outbound.post(httpserver.url_for("/fhir"), b"<Bundle/>", "application/fhir+xml", {"X-Corr": "c-1"})
    assert result == DeliveryResult(True, False, 201, "HTTP 201 Created", b'{"ok":1}', "application/fhir+json")
    httpserver.check_assertions()


class _KeepAliveHandler(BaseHTTPRequestHandler):
    """An HTTP/1.1 receiver that keeps connections open (werkzeug's test server always closes them)."""

    protocol_version = "HTTP/1.1"
    ports: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.ports.append(self.client_address[1])
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_connections_are_pooled(outbound: Outbound) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _KeepAliveHandler.ports.clear()
    try:
        for _ in range(5):
            assert outbound.post(f"http://127.0.0.1:{server.server_port}/kith", b"x", "application/xml").ok
    finally:
        server.shutdown()
        server.server_close()
    assert len(_KeepAliveHandler.ports) == 5 and len(set(_KeepAliveHandler.ports)) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 425, 429])
def test_retryable_statuses_are_transient(httpserver: HTTPServer, outbound: Outbound, status: int) -> None:
    httpserver.expect_request("/r").respond_with_data(b"busy", status=status)
    result = outbound.post(httpserver.url_for("/r"), b"x", "application/xml")
    assert (result.ok, result.transient, result.status, result.body) == (False, True, status, b"busy")
    assert result.detail.startswith(f"HTTP {status} ")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 410, 413, 422, 301, 302, 307])
def test_other_statuses_are_permanent(httpserver: HTTPServer, outbound: Outbound, status: int) -> None:
    headers = {"Location": httpserver.url_for("/elsewhere")} if status < 400 else None
    httpserver.expect_request("/p").respond_with_data(b"no", status=status, headers=headers)
    result = outbound.post(httpserver.url_for("/p"), b"x", "application/xml")
    assert (result.ok, result.transient, result.status) == (False, False, status)
    assert httpserver.log and all(req.path == "/p" for req, _ in httpserver.log)  # redirect not followed


def test_404_detail_names_the_status(httpserver: HTTPServer, outbound: Outbound) -> None:
    httpserver.expect_request("/gone").respond_with_data(b"", status=404)
    assert outbound.post(httpserver.url_for("/gone"), b"x", "text/plain").detail == "HTTP 404 Not Found"


def test_status_table() -> None:
    assert [s for s in range(100, 600) if is_transient_status(s)] == [408, 425, 429, *range(500, 600)]


def test_no_answer_within_read_timeout_is_transient(httpserver: HTTPServer, outbound: Outbound) -> None:
    done = threading.Event()

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        done.set()
        return Response(b"late", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    result = outbound.post(httpserver.url_for("/slow"), b"x", "application/xml")
    assert time.monotonic() - started < 0.95
    assert (result.ok, result.transient, result.status) == (False, True, None)
    assert "read timeout" in result.detail
    assert done.wait(5)  # the fake receiver is single-threaded: let it finish before the next test uses it


def test_body_trickling_beyond_read_timeout_is_transient(httpserver: HTTPServer, outbound: Outbound) -> None:
    def trickle(request: Request) -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(8):
                yield b"." * 10
                time.sleep(0.2)  # each read is within the read timeout, the whole body is not

        return Response(chunks(), status=200, content_type="application/xml")

    httpserver.expect_request("/trickle").respond_with_handler(trickle)
    started = time.monotonic()
    result = outbound.post(httpserver.url_for("/trickle"), b"x", "application/xml")
    assert time.monotonic() - started < 1.5
    assert (result.ok, result.transient, result.status) == (False, True, 200)
    assert "longer than 0.5 s" in result.detail


def test_connection_refused_is_transient(outbound: Outbound) -> None:
    result = outbound.post(f"http://127.0.0.1:{_free_port()}/kith", b"x", "application/xml")
    assert (result.ok, result.transient, result.status) == (False, True, None)
    assert result.detail.startswith("connection failed: ")
    assert "\n" not in result.detail


def test_connection_reset_is_transient(outbound: Outbound) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def reset_one() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with RST
        conn.close()

    thread = threading.Thread(target=reset_one, daemon=True)
    thread.start()
    try:
        result = outbound.post(f"http://127.0.0.1:{port}/fhir", b"x", "application/fhir+json")
    finally:
        thread.join(5)
        server.close()
    assert (result.ok, result.transient, result.status) == (False, True, None)


def test_garbage_answer_is_transient(outbound: Outbound) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def garbage() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        conn.sendall(b"this is not HTTP\r\n\r\n")
        conn.close()

    thread = threading.Thread(target=garbage, daemon=True)
    thread.start()
    try:
        result = outbound.post(f"http://127.0.0.1:{port}/", b"x", "text/plain")
    finally:
        thread.join(5)
        server.close()
    assert (result.ok, result.transient) == (False, True)


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http://", "127.0.0.1:8081/kith"])
def test_unusable_url_is_permanent_not_raised(outbound: Outbound, url: str) -> None:
    result = outbound.post(url, b"x", "text/plain")
    assert (result.ok, result.transient, result.status) == (False, False, None)


def test_long_answer_is_cut(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/big").respond_with_data(b"a" * 5000, status=200)
    with Outbound(max_response_bytes=100) as client:
        result = client.post(httpserver.url_for("/big"), b"x", "text/plain")
    assert result.ok and result.body == b"a" * 100
    assert "cut at 100 of 5000 bytes" in result.detail


def test_caller_cannot_override_content_type(httpserver: HTTPServer, outbound: Outbound) -> None:
    httpserver.expect_request("/ct", headers={"Content-Type": "application/fhir+json"}).respond_with_data(b"")
    result = outbound.post(httpserver.url_for("/ct"), b"{}", "application/fhir+json", {"content-type": "text/html"})
    assert result.ok


def test_environment_proxy_is_ignored_by_default(
    httpserver: HTTPServer, outbound: Outbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_free_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    httpserver.expect_request("/direct").respond_with_data(b"")
    assert outbound.post(httpserver.url_for("/direct"), b"x", "text/plain").ok


def test_close_is_idempotent(outbound: Outbound) -> None:
    outbound.close()
    outbound.close()


def test_backoff_grows_exponentially_without_jitter() -> None:
    assert [backoff_seconds(n, jitter=0.0) for n in range(1, 8)] == [1, 2, 4, 8, 16, 32, 64]
    assert backoff_seconds(3, base=0.5, jitter=0.0) == 2.0


def test_backoff_is_capped() -> None:
    assert backoff_seconds(9, jitter=0.0) == 256.0
    assert backoff_seconds(10, jitter=0.0) == 300.0
    assert backoff_seconds(10_000, jitter=0.0) == 300.0
    assert backoff_seconds(10_000, cap=60.0, jitter=0.5) <= 60.0


def test_backoff_jitter_stays_in_band_and_under_cap() -> None:
    rng = random.Random(5)
    for attempt in range(1, 30):
        nominal = min(300.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            delay = backoff_seconds(attempt, jitter=0.1, rng=rng)
            assert nominal * 0.9 <= delay <= min(300.0, nominal * 1.1)
    spread = {backoff_seconds(4, rng=rng) for _ in range(20)}
    assert len(spread) > 10  # jitter really spreads the retries


def test_backoff_is_repeatable_with_a_seeded_rng() -> None:
    assert backoff_seconds(5, rng=random.Random(1)) == backoff_seconds(5, rng=random.Random(1))


@pytest.mark.parametrize(
    "kwargs", [{"attempt": 0}, {"attempt": -1}, {"attempt": 1, "jitter": 1.5}, {"attempt": 1, "base": -1.0}]
)
def test_backoff_rejects_bad_arguments(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="attempt|jitter"):
        backoff_seconds(**kwargs)  # type: ignore[arg-type]
