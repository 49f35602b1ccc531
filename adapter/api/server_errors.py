"""gunicorn's own error answers as OperationOutcomes: the worker class ``serve`` runs.

gunicorn answers some requests itself, before the app sees them, with a small HTML page: a request line over
``limit_request_line`` (414), more header fields than ``limit_request_fields`` or one over
``limit_request_field_size`` (431), and a request that is not valid HTTP/1.1 (400: a bad request line, method,
version, header name or value, chunked body; 501 for a transfer coding it does not support; 417 for an Expect it
does not know). :class:`OutcomeThreadWorker` is gunicorn's ``gthread`` worker with its ``handle_error`` (the method
that writes those pages; a method of the worker class, not a setting) answering instead with an OperationOutcome in
``application/fhir+json`` with a stable code: ADP-5071 (414), ADP-5072 (431), ADP-5073 (the status gunicorn
chose), and ADP-5074 (500) for a failure of gunicorn's own, with ``Connection: close`` as gunicorn does. The limits
stay gunicorn's (8190 bytes a header field, 100 fields, 4094 bytes the request line): ours would be no better.

What gunicorn does not let us answer:

* a client that closes or resets the connection, or sends nothing within the worker's wait (there is nobody to
  answer, and gunicorn drops it: nothing is written);
* a request that a worker was killed in the middle of (``timeout``, a crash): the connection is closed without an
  answer;
* HTTP/2 (off unless configured; ``serve`` does not) and a failed TLS handshake (``serve`` does no TLS: the proxy in
  front does);
* the proxy in front of us answers its own errors (502, 504, 413 from its own limits) in its own format.

Errors of the app itself never reach gunicorn: Flask answers them (``adapter.api``).
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.workers.gthread import ThreadWorker

from adapter.errors import Issue
from adapter.reply import Reply

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json; charset=utf-8"
#: gunicorn's errors for requests that are not valid HTTP/1.1, and the status it answers each with (400 unless
#: named): they become ADP-5073 with that status.
MALFORMED: dict[str, int] = {
    "InvalidRequestLine": 400,
    "InvalidRequestMethod": 400,
    "InvalidHTTPVersion": 400,
    "InvalidHeader": 400,
    "InvalidHeaderName": 400,
    "ObsoleteFolding": 400,
    "InvalidProxyLine": 400,
    "ForbiddenProxyRequest": 403,
    "InvalidSchemeHeaders": 400,
    "UnsupportedTransferCoding": 501,
    "ExpectationFailed": 417,
    "InvalidChunkSize": 400,
    "ChunkMissingTerminator": 400,
    "InvalidChunkExtension": 400,
    "InvalidH2CPreface": 400,
}


#: The interpreter's thread switch interval in the workers, in seconds (Python's default: 0.005).
SWITCH_INTERVAL = 0.0005


class OutcomeThreadWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn has no type hints: its base is Any
    """gunicorn's ``gthread`` worker whose own error answers are OperationOutcomes."""

    def init_process(self) -> None:
        """Start the worker, with the interpreter's thread switch interval at :data:`SWITCH_INTERVAL`."""
        # A thread that waits for the interpreter lock (a cheap read back from the database or the socket) gets it
        # once the thread holding it (a large document being checked) has run this long: the default 5 ms, paid at
        # each of a read's few waits, made reads several times slower while a large $validate ran beside them.
        sys.setswitchinterval(SWITCH_INTERVAL)
        super().init_process()

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        """Answer a request gunicorn could not hand to the app (see the module) with an OperationOutcome."""
        reply = refusal(exc, self.cfg)
        if reply.status >= 500:
            self.log.exception("Error handling request: %s", type(exc).__name__)
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        body = json.dumps(reply.resource, ensure_ascii=False).encode("utf-8")
        head = (
            f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Error')}\r\n"
            f"Connection: close\r\nContent-Type: {FHIR_JSON}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:  # the client may be gone; gunicorn ignores this too
            self.log.debug("Failed to send the error answer.")


def refusal(exc: BaseException, cfg: Any) -> Reply:
    """The OperationOutcome answer for one of gunicorn's errors; ``cfg`` gives the limits to name."""
    if isinstance(exc, http_errors.LimitRequestLine):
        return Reply.refused([Issue("ADP-5071", "error", args={"detail": str(exc), "limit": cfg.limit_request_line})])
    if isinstance(exc, http_errors.LimitRequestHeaders):
        args = {"detail": str(exc), "fields": cfg.limit_request_fields, "size": cfg.limit_request_field_size}
        return Reply.refused([Issue("ADP-5072", "error", args=args)])
    default = MALFORMED.get(type(exc).__name__)
    if default is not None and isinstance(exc, http_errors.ParseException):
        return Reply.refused([Issue("ADP-5073", "error", args={"detail": str(exc)})], default=default)
    return Reply.refused([Issue("ADP-5074", "fatal")])


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
}
