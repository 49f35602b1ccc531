"""The person's own page: their plans in plain language, and where they add their own words (a person's token).

- ``GET /meg``: the page (:mod:`adapter.pages.person`), read through :class:`adapter.records.person.PersonRecords`
  (the person's own records, audited as disclosed to them).
- ``POST /meg`` (a plain form, no JavaScript; fields ``viktig`` and ``hjelper``): the person's words stored as
  their contribution, then ``303`` back to the page.

Only a person's token reaches these (``create_app`` refuses a person's token everywhere else, and
:meth:`~adapter.security.Caller.require` an organisation's here). Every refusal is an HTML page with its status.

**Forged form posts (CSRF).** The token travels in the ``Authorization`` header, which a browser never adds by
itself: a form another site makes the browser post carries no token and is refused (401). Should a gateway ever keep
the person's session in a cookie and add the header itself, that no longer holds; so a post the browser marks as
coming from another site (``Sec-Fetch-Site`` other than ``same-origin`` or ``none``) is refused too (ADP-7026), and
the page's CSP allows forms to post only here (``form-action 'self'``). A gateway with cookie sessions must still
add a CSRF token of its own (or ``SameSite=Strict`` cookies) for browsers that send no ``Sec-Fetch-Site``.
"""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, request

from adapter.api.context import base_url as _base
from adapter.api.context import caller as _caller
from adapter.api.context import public_host, root_path
from adapter.api.context import service as _service
from adapter.api.pages import HTML_HEADERS
from adapter.errors import AdapterError, AuthError, Issue
from adapter.pages.person import person_page, person_refusal_page, person_view
from adapter.pages.values import OSLO
from adapter.records.person import PersonRecords, Words
from adapter.reply import Reply

blueprint = Blueprint("person", __name__)
#: What a browser may say of where a form post came from (Sec-Fetch-Site) for it to be taken.
_SAME_SITE = ("same-origin", "none")


@blueprint.get("/meg")
def own_page() -> Response:
    """The person's page: their records, read as themself."""
    reply = _records().own(_caller(), _base())
    if reply.status != 200 or reply.resource is None:
        return _refusal(reply)
    entries = [e for e in reply.resource.get("entry") or [] if isinstance(e.get("resource"), dict)]
    found = {f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}": e["resource"] for e in entries}
    own = {
        f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}"
        for e in entries
        if (e.get("search") or {}).get("mode") == "match"
    }
    patient = next(r for r in found.values() if r.get("resourceType") == "Patient")
    records = [r for r in found.values() if r.get("resourceType") != "Patient"]
    today = datetime.datetime.fromtimestamp(_service().clock(), OSLO).date()
    current = next(
        (
            str(link.get("url", "")).rsplit("/", 1)[-1]
            for link in reply.resource.get("link") or []
            if link.get("relation") == "current-crisis-plan"
        ),
        None,
    )
    view = person_view(patient, records, found.get, own, today, current)
    return _html(person_page(view, _links(), saved=request.args.get("lagret") == "1"))


@blueprint.post("/meg")
def add_words() -> Any:
    """The person's own words from the form: stored, then back to the page (303), or the refusal page."""
    site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    if site and site not in _SAME_SITE:
        return _refusal(Reply.refused([Issue("ADP-7026", "error", args={"site": site[:40]})]))
    origin = request.headers.get("Origin", "").strip()
    if origin and origin != "null" and urlsplit(origin).netloc.lower() != public_host():
        # a browser without Sec-Fetch-Site still names the page a form was posted from
        return _refusal(Reply.refused([Issue("ADP-7026", "error", args={"site": origin[:40]})]))
    words = Words(important=request.form.get("viktig", ""), helps=request.form.get("hjelper", ""))
    reply = _records().contribute(_caller(), words)
    if reply.status != 201:
        return _refusal(reply)
    response = redirect(f"{_base()}/meg?lagret=1", code=303)
    response.headers.update(HTML_HEADERS)
    return response


@blueprint.errorhandler(AdapterError)
def _refused(error: AdapterError) -> Response:
    """A refused token or request on the person's page: the refusal page, not an OperationOutcome."""
    default = 401 if isinstance(error, AuthError) else 400
    response = _refusal(Reply.refused(error.issues, default=default))
    if isinstance(error, AuthError) and error.www_authenticate:
        response.headers["WWW-Authenticate"] = error.www_authenticate
    return response


def _records() -> PersonRecords:
    return PersonRecords(_service().records)


def _refusal(reply: Reply) -> Response:
    return _html(person_refusal_page(reply.status, reply.resource, _links()), reply.status)


def _html(text: str, status: int = 200) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(HTML_HEADERS)
    return response


def _links() -> dict[str, str]:
    return {"static": f"{root_path()}/pages/static", "self": f"{root_path()}/meg"}
