"""The Flask app: FHIR REST and messaging, and the KITH endpoints. The only module family that imports Flask.

:func:`create_app` builds the app from Settings (or a ready :class:`~adapter.service.Service`): blueprints, the
bearer-token check (Bearer or DPoP) before every request but ``/metadata``, the health checks, the SMART
configuration (:mod:`adapter.api.smart`) and the demo JWKS, CORS for the configured origins (:mod:`adapter.api.cors`),
the request size cap, the limits against abuse (rate limits, expensive requests at once, document caps:
:mod:`adapter.api.limits`), X-Forwarded-* headers taken only from ``trusted_proxies`` proxies (werkzeug's ProxyFix),
every ``Location`` made absolute under the public base URL (:func:`adapter.api.context.base_url`), error handlers
that answer every error, ours or Flask's, with an OperationOutcome and the right status (never an HTML page or a
stack trace), and for every request an id, a JSON access log line and the Prometheus metrics (``GET /metrics``,
:mod:`adapter.api.metrics`).
``samhandling serve`` runs it under gunicorn (also in the Docker image), with the outbox worker.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from adapter.api.context import absolute, base_url
from adapter.api.negotiation import respond
from adapter.config import Settings
from adapter.errors import AdapterError, AuthError, Issue
from adapter.receipt.audit import REQUEST_ID
from adapter.records import ID_PATTERN
from adapter.reply import Reply
from adapter.service import Service
from adapter.store import StoreUnavailable

log = logging.getLogger(__name__)
#: Paths that need no token.
OPEN_PATHS = (
    "/metadata",
    "/.well-known/jwks.json",
    "/.well-known/smart-configuration",
    "/health/live",
    "/health/ready",
)
#: Path prefixes that need no token: the implementation guide and the pages' stylesheet (no patient data).
OPEN_PREFIXES = ("/ig/", "/pages/static/")


def create_app(settings: Settings | None = None, *, service: Service | None = None) -> Flask:
    """The WSGI app. ``settings`` default to :meth:`Settings.from_env`; ``service`` to one built from them."""
    from adapter.api import cors, fhir, health, ig, kith, limits, metrics, pages, person, smart, terminology

    service = service or Service(settings or Settings.from_env())
    app = Flask("samhandling-adapter")
    app.config["MAX_CONTENT_LENGTH"] = service.settings.max_request_bytes + 1  # see context.body
    app.extensions["samhandling"] = service
    app.url_map.converters["type"] = _ResourceType
    app.url_map.converters["id"] = _ResourceId
    app.register_blueprint(terminology.blueprint)  # before fhir: it alone serves the conformance types
    app.register_blueprint(fhir.blueprint)
    app.register_blueprint(kith.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(person.blueprint)
    app.register_blueprint(ig.blueprint)
    app.add_url_rule("/health/live", view_func=health.live, methods=["GET"])
    app.add_url_rule("/health/ready", view_func=health.ready, methods=["GET"])
    app.add_url_rule(metrics.METRICS_PATH, view_func=metrics.metrics_view, methods=["GET"])
    app.add_url_rule(smart.SMART_PATH, view_func=smart.smart_configuration, methods=["GET"])

    _observe(app)  # first: a request refused by the token check has its id and its log line too
    cors.allow_origins(app, service.settings.cors_origin_list)  # before the token check: a preflight has no token
    guard = app.extensions["samhandling_limits"] = limits.Guard(service.settings)  # adapter.api.limits
    guard.before_auth(app)
    _check_callers(app, service)
    guard.after_auth(app)
    _answer_errors(app, service)
    _public_locations(app)
    proxies = service.settings.trusted_proxies
    if proxies:  # else X-Forwarded-* are a caller's words and ignored (the request's own host and scheme count)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies, x_prefix=proxies
        )
    return app


def _observe(app: Flask) -> None:
    """Every request's id (also in the AuditEvents written meanwhile), its metrics and its JSON access log line
    (:mod:`adapter.api.metrics`); registered before the token check, so that a refused request has them too."""
    from adapter.api import metrics

    @app.before_request
    def start() -> None:
        g.started = time.perf_counter()
        g.request_id = metrics.request_id(request.headers.get("X-Request-Id"))
        REQUEST_ID.set(g.request_id)

    @app.after_request
    def finish(response: Response) -> Response:
        rid = g.get("request_id") or metrics.request_id(None)
        seconds = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule is not None else None
        metrics.finish(response, rid, request.method, endpoint, seconds, g.get("caller"))
        return response

    @app.teardown_request
    def forget(error: BaseException | None) -> None:
        REQUEST_ID.set(None)


def _public_locations(app: Flask) -> None:
    """Every ``Location`` (a create's, a redirect's, Werkzeug's own slash redirects) absolute under the public base
    URL, never under a Host header a caller made up."""

    @app.after_request
    def public_location(response: Response) -> Response:
        location = response.headers.get("Location")
        if location is not None:
            response.headers["Location"] = absolute(location)
        return response


def _check_callers(app: Flask, service: Service) -> None:
    """The bearer-token check and the size cap before every request but those to :data:`OPEN_PATHS`."""

    @app.before_request
    def authenticate() -> Any:
        if request.path in OPEN_PATHS or request.path.startswith(OPEN_PREFIXES) or request.path == "/ig":
            return None
        if request.path == "/metrics" and service.settings.metrics == "open":
            return None
        length = request.content_length
        if length is not None and length > service.settings.max_request_bytes:
            return _too_large(service.settings.max_request_bytes)
        g.caller = service.verifier.verify(
            request.headers.get("Authorization"),
            method=request.method,
            url=base_url() + request.path,  # the public URL a DPoP proof's htu names
            dpop_proofs=request.headers.getlist("DPoP"),
        )
        if g.caller.person is not None and request.blueprint != "person":  # a person's token: their own page only
            raise AuthError(
                "ADP-7025",
                detail_en="a person's token is accepted only by the person's own page (/meg)",
                detail_nb="en persons token gjelder bare personens egen side (/meg)",
            )
        return None


def _answer_errors(app: Flask, service: Service) -> None:
    """Error handlers that answer every error, ours or Flask's, with an OperationOutcome and the right status."""

    @app.errorhandler(AuthError)
    def auth_error(error: AuthError) -> Any:
        response = respond(Reply.refused(error.issues, default=401))
        if error.www_authenticate:
            response.headers["WWW-Authenticate"] = error.www_authenticate
        return response

    @app.errorhandler(AdapterError)
    def adapter_error(error: AdapterError) -> Any:
        return respond(Reply.refused(error.issues))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Any:
        return _too_large(service.settings.max_request_bytes)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        headers = {}
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            allowed = ", ".join(_served_methods(app, error.valid_methods))
            headers["Allow"] = allowed
            issue = Issue(
                "ADP-5028", "error", args={"method": request.method, "path": request.path, "allowed": allowed}
            )
        elif status in (404, 405):
            issue = Issue("ADP-5014", "error", args={"method": request.method, "path": request.path})
        else:
            issue = Issue("ADP-5015", "error", args={"reference": error.name})
        return respond(Reply.refused([issue], headers=headers, default=status))  # werkzeug's status

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> Any:
        # the database is down, hangs or refuses us: not a bug, 503 with when to try again (the log has its words)
        reference = g.get("request_id") or str(uuid.uuid4())
        log.error("store unavailable %s handling %s %s: %s", reference, request.method, request.path, error)
        return respond(Reply.refused([error.public], headers={"Retry-After": str(error.retry_after)}))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        reference = g.get("request_id") or str(uuid.uuid4())  # the X-Request-Id of the answer and the log line
        log.exception("unexpected error %s handling %s %s", reference, request.method, request.path)
        return respond(Reply.refused([Issue("ADP-5015", "fatal", args={"reference": reference})], default=500))


#: Views that refuse every request they get with 405 (DELETE: nothing is deleted here): never named in ``Allow``.
_REFUSING_VIEWS = ("fhir.delete",)


def _served_methods(app: Flask, valid: Iterable[str]) -> list[str]:
    """The methods of ``valid`` (Werkzeug's, for the request's path) that do something there other than 405, for
    ``Allow`` (RFC 9110 §10.2.1: what the target supports): neither HEAD and OPTIONS (Flask's own) nor a method
    whose view always refuses."""
    urls = app.url_map.bind_to_environ(request.environ)
    served = []
    for method in sorted(set(valid) - {"HEAD", "OPTIONS"}):
        try:
            endpoint, _ = urls.match(method=method)
        except HTTPException:
            continue
        if endpoint not in _REFUSING_VIEWS:
            served.append(method)
    return served


class _ResourceType(BaseConverter):
    """A FHIR resource type name in a path (so ``/$process-message`` or ``/metadata`` is never taken for one)."""

    regex = "[A-Z][A-Za-z]{0,63}"


class _ResourceId(BaseConverter):
    """A FHIR logical id in a path (so ``/CarePlan/$validate`` is never taken for one)."""

    regex = ID_PATTERN


def _too_large(limit: int) -> Any:
    return respond(Reply.refused([Issue("ADP-5016", "error", args={"limit": limit})]))
