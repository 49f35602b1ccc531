"""What a request handler needs from Flask's context: the app's Service, the verified caller, the body, and the
service's public base URL (the one place that decides what every absolute URL the service writes starts with)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from adapter.security import Caller
from adapter.service import Service


def service() -> Service:
    """The Service of this app (``create_app`` puts it in ``app.extensions``)."""
    found: Service = current_app.extensions["samhandling"]
    return found


def caller() -> Caller:
    """The caller whose token ``create_app``'s before-request check verified."""
    found: Caller = g.caller
    return found


def body() -> bytes:
    """The request body; RequestEntityTooLarge (413) when it is over the size cap, also when it came chunked with no
    Content-Length (Werkzeug cuts such a body off at ``MAX_CONTENT_LENGTH`` without a word, so ``create_app`` sets
    that one byte above the cap, and a body that reaches it is refused here)."""
    data = request.get_data()
    if len(data) > service().settings.max_request_bytes:
        raise RequestEntityTooLarge()
    return data


def base_url() -> str:
    """The service's public base URL, without a trailing slash: ``SAMHANDLING_BASE_URL`` when it is set (so no
    Host or X-Forwarded-* header a caller sends ends up in a link), else the request's own (the demo and tests;
    X-Forwarded-* count only from the proxies ``SAMHANDLING_TRUSTED_PROXIES`` trusts)."""
    configured = service().settings.base_url
    return configured.rstrip("/") if configured else request.url_root.rstrip("/")


def root_path() -> str:
    """The path the service is served under, for the links of the pages (``""`` or ``/fhir``): the base URL's."""
    if service().settings.base_url:
        return urlsplit(base_url()).path
    return request.script_root


def public_host() -> str:
    """The host (and port) browsers reach the service at: the base URL's (to check a form's ``Origin`` against)."""
    return urlsplit(base_url()).netloc.lower()


def absolute(location: str) -> str:
    """``location`` (a ``Location`` header) as an absolute URL under :func:`base_url`: a FHIR-relative one
    (``CarePlan/1/_history/1``), a path (``/meg?lagret=1``, under the script root), or one Werkzeug built from the
    request's own Host (its slash redirects). Another site's absolute URL is kept."""
    own = request.url_root.rstrip("/")
    if location == own or location.startswith(own + "/"):
        rest = location[len(own) :]
    elif location.startswith("/") and not location.startswith("//"):
        script = request.script_root
        rest = location[len(script) :] if script and location.startswith(script + "/") else location
    elif urlsplit(location).scheme or location.startswith("//"):
        return location
    else:
        rest = "/" + location
    return base_url() + rest
