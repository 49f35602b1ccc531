"""CORS for browser clients of the configured origins (``SAMHANDLING_CORS_ORIGINS``); none configured: no CORS
headers at all, and browsers keep other sites' scripts out as they do by default.

* A preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered here, before the token
  check (a browser sends no credentials with it), 204 with no body. For an allowed origin it names that origin
  (exactly, never ``*``), the methods the API has, the request headers it reads (``Authorization``, ``DPoP``,
  ``Content-Type``, the conditional ones, ``Prefer``) and how long a browser may keep the answer. Any other origin
  gets the same 204 without CORS headers, so the browser refuses the request, and nothing about the API is said.
* Every answer to an allowed origin, a refusal included (so a script can read its OperationOutcome and its
  ``WWW-Authenticate``), names the origin and the headers a script may read (``Location``, ``ETag``,
  ``Last-Modified``...). No ``Access-Control-Allow-Credentials``: the API takes tokens in headers, not cookies.
* Every answer says ``Vary: Origin``, so a cache never gives one origin's answer to another.

Written here rather than with flask-cors: these few rules are all we need, and they must run before the token check
and after the error handlers of :mod:`adapter.api`, which is where these hooks sit.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, request

__all__ = ["ALLOWED_HEADERS", "ALLOWED_METHODS", "EXPOSED_HEADERS", "MAX_AGE", "allow_origins"]

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "OPTIONS")
ALLOWED_HEADERS = (
    "Authorization",
    "DPoP",
    "Content-Type",
    "Accept",
    "If-Match",
    "If-None-Exist",
    "If-None-Match",
    "If-Modified-Since",
    "Prefer",
    "X-Request-Id",
)
EXPOSED_HEADERS = ("Location", "ETag", "Last-Modified", "Content-Location", "WWW-Authenticate", "X-Request-Id")
#: How long a browser may keep a preflight's answer, in seconds.
MAX_AGE = 600


def allow_origins(app: Flask, origins: Sequence[str]) -> None:
    """Answer preflights and add CORS headers for ``origins`` (exact, lower case); nothing when there are none."""
    if not origins:
        return
    allowed = frozenset(origins)

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin", "")
        return origin if origin in allowed else None  # exact: a browser sends it in lower case (RFC 6454)

    @app.before_request
    def preflight() -> Response | None:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        response = Response(status=204)
        if allowed_origin() is not None:
            response.headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
            response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
            response.headers["Access-Control-Max-Age"] = str(MAX_AGE)
        response.vary.update(("Access-Control-Request-Method", "Access-Control-Request-Headers"))
        return response

    @app.after_request
    def cors_headers(response: Response) -> Response:
        response.vary.add("Origin")
        origin = allowed_origin()
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
            if request.method != "OPTIONS":
                response.headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)
        return response
