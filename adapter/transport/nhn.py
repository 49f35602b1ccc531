"""NHN's EDI 2.0 Meldingstjener REST API: send KITH messages, fetch the ones addressed to us, answer with AppRec.

With EDI 2.0, NHN runs the ebXML message handling and offers it as a REST API over HTTPS (DESIGN decision 13).
This client follows the API's OpenAPI definition, version 2 (``standards/kith/api/nhn-msh-api-v2.json``):

* ``POST /Messages`` takes the business document (the whole MsgHead XML, UTF-8, declared in its first line) as
  base64, with ``contentType`` ``application/xml`` and ``contentTransferEncoding`` ``base64``, and answers 201
  with the message id. Version 2 reads sender and receivers from the MsgHead itself, so there is no sender field:
  ``sender_her`` only names the party in our errors (a 403 means the HelseID client is not delegated for it).
  ``receiver_her`` goes into ``receiverHerIdsSubset``, so a MsgHead with copy receivers is delivered to the one
  receiver the outbox is working on.
* ``GET /Messages`` lists unread messages for our HER-ids (``IncludeMetadata`` for sender, MsgId and GenDate,
  ``MessagesToFetch`` at most 100); ``GET /Messages/{id}/business-document`` gives the document (base64);
  ``PUT /Messages/{id}/read/{herId}`` marks it read; ``POST /Messages/{id}/apprec/{appRecSenderHerId}`` has the
  Meldingstjener build and send the AppRec. ``GET /Messages/{id}/apprec`` and ``/status`` follow a sent message.

Every request carries ``api-version`` (required; "2" is the version these endpoints belong to: version 3 is in
test and replaces polling ``/Messages`` with ``/notifications``), ``nhn-source-system`` (required: name and version
of the calling system), ``Accept``, and HelseID's DPoP-bound token with a fresh proof
(:class:`~adapter.transport.helseid.HelseIdClient`). The HelseID client configuration needs the scope
``nhn:msh/api`` (audience ``nhn:msh``) and the API-specific claim ``herid``: ``0`` for every HER-id of the
organisation that delegated to the client, or a dash-separated list of HER-ids (NHN says the claim will be phased
out). Which HER-ids a call may act for is the server's decision; its refusal is HTTP 403, a permanent error.

Failures become :class:`NhnError` with ``transient`` as in :mod:`adapter.transport.outbound`: no answer, a timeout,
HTTP 408, 425, 429 and 5xx are transient; any other status and an answer we cannot use (not JSON, no id, a
document that is not base64) are permanent. The client retries on its own in two cases only, once each: HTTP 401
``use_dpop_nonce`` with a ``DPoP-Nonce`` header (RFC 9449 9: the proof is made again with the nonce, which is kept
for the next requests to this server), and any other 401 (the token expired or was revoked early: a new token is
fetched). Everything else is the caller's to schedule. Redirects are never followed, and answers are read up to a
limit (:data:`MAX_ANSWER_BYTES`, :data:`MAX_DOCUMENT_ANSWER_BYTES` for a business document).

A lost answer is the one case the caller must think about: if ``POST /Messages`` stored the message but the
answer never arrived (timeout, 5xx from a proxy), the retry sends it again. The receiver recognises the second
copy by its MsgId, as KITH receivers must; the AppRec (:meth:`Meldingstjener.receipts`) settles the delivery.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import urllib3

from adapter.transport.helseid import HelseIdClient, HelseIdError, new_session, read_answer, reason
from adapter.transport.outbound import MAX_RESPONSE_BYTES, TransportError, is_transient_status, short_reason

__all__ = ["API_VERSION", "IncomingMessage", "Meldingstjener", "NhnError", "ReceiptInfo"]

#: The API version the endpoints used here belong to (see the module docstring).
API_VERSION = "2"
#: Cap for JSON answers (message lists, statuses, receipts).
MAX_ANSWER_BYTES = MAX_RESPONSE_BYTES
#: Cap for a business document answer: the API takes up to 35 MB per request, base64 makes that 4/3 larger.
MAX_DOCUMENT_ANSWER_BYTES = 64 * 1024 * 1024
#: ``MessagesToFetch`` bounds in the API.
MAX_FETCH = 100

#: Our receipt status -> the API's AppRecStatus ("OkErrorInMessagePart" is in the API, "not supported as of this
#: writing" says its description; we send it when asked and let the server decide).
STATUS_TO_API = {"ok": "Ok", "ok-with-errors": "OkErrorInMessagePart", "rejected": "Rejected"}
#: The API's AppRecStatus (by name, or the number its description gives: 1 Ok, 2 Avvist, 3 feil i delmelding).
API_TO_STATUS = {
    "ok": "ok",
    "1": "ok",
    "rejected": "rejected",
    "2": "rejected",
    "okerrorinmessagepart": "ok-with-errors",
    "3": "ok-with-errors",
}

_UUID = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HER_MAX = 2**31 - 1
_CHALLENGE_ERROR = re.compile(r'\berror\s*=\s*"?([A-Za-z_]+)"?')


class NhnError(TransportError):
    """A Meldingstjener call failed; ``transient`` says whether a later attempt may succeed.

    ``status`` is the HTTP status (None when no answer came) and ``detail`` one line for logs and the operator.
    """


@dataclass(frozen=True)
class IncomingMessage:
    """An unread message for one of our HER-ids, as ``GET /Messages`` lists it (with metadata).

    ``business_document_id`` is the MsgId of the MsgHead, ``gen_date`` its GenDate as the API gives it,
    ``is_apprec`` whether the document is an application receipt (an answer to something we sent).
    """

    id: str
    sender_her: str
    receiver_her: str
    business_document_id: str = ""
    gen_date: str = ""
    is_apprec: bool = False
    content_type: str = ""


@dataclass(frozen=True)
class ReceiptInfo:
    """The AppRec one receiver sent for a message of ours: ``status`` "ok", "ok-with-errors" or "rejected", and
    ``errors`` as (code from KITH list 8221, text)."""

    receiver_her: str
    status: str
    errors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes


class Meldingstjener:
    """One EDI 2.0 Meldingstjener (``base_url``), called with tokens from ``helseid``.

    ``source_system`` is the ``nhn-source-system`` header: name and version of this system, e.g.
    ``"samhandling-adapter, v0.1.0"``. ``timeout`` is (connect, read); the read timeout also bounds reading the
    whole answer. As with :class:`~adapter.transport.outbound.Outbound`, give each worker thread its own instance
    (the HelseID client may be shared).
    """

    def __init__(
        self,
        base_url: str,
        helseid: HelseIdClient,
        *,
        source_system: str,
        api_version: str = API_VERSION,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10.0),
    ) -> None:
        if not source_system.strip():
            raise ValueError("the Meldingstjener requires nhn-source-system: name and version of this system")
        self.base_url = base_url.rstrip("/")
        self.helseid = helseid
        self.source_system = source_system
        self.api_version = api_version
        self.timeout = timeout
        self._session = session or new_session()
        self._nonce: str | None = None

    # -- the API -------------------------------------------------------------------------------------------------

    def send(self, document: bytes, *, sender_her: str, receiver_her: str) -> str:
        """Send a MsgHead document to ``receiver_her``; the Meldingstjener's id for the message."""
        receiver = _her(receiver_her, "receiver")
        _her(sender_her, "sender")
        body = {
            "businessDocument": base64.b64encode(document).decode("ascii"),
            "contentType": "application/xml",
            "contentTransferEncoding": "base64",
            "receiverHerIdsSubset": [receiver],
        }
        answer = self._call("POST", "/Messages", body=body, expect=(201, 200), party=f"sender {sender_her}")
        message_id = _json(answer, "POST /Messages")
        if not isinstance(message_id, str) or not _UUID.match(message_id):
            raise NhnError(f"POST /Messages: the answer is not a message id: {_excerpt(answer.body)}", transient=False)
        return message_id

    def unread(self, receiver_her_ids: Sequence[str], limit: int = MAX_FETCH) -> list[IncomingMessage]:
        """Unread messages for our HER-ids (at most ``limit``, 1 to 100), oldest GenDate first."""
        if not receiver_her_ids:
            raise NhnError("GET /Messages needs at least one receiver HER-id", transient=False)
        if not 1 <= limit <= MAX_FETCH:
            raise NhnError(f"GET /Messages fetches 1 to {MAX_FETCH} messages, not {limit}", transient=False)
        params: list[tuple[str, str]] = [("ReceiverHerIds", str(_her(h, "receiver"))) for h in receiver_her_ids]
        params += [("IncludeMetadata", "true"), ("MessagesToFetch", str(limit))]
        answer = self._call("GET", "/Messages", params=params)
        listed = _json(answer, "GET /Messages")
        if not isinstance(listed, list):
            raise NhnError("GET /Messages: the answer is not a list", transient=False)
        return [_incoming(entry) for entry in listed]

    def business_document(self, message_id: str) -> bytes:
        """The business document (MsgHead XML) of a message, decoded from base64."""
        path = f"/Messages/{_id(message_id)}/business-document"
        answer = self._call("GET", path, limit=MAX_DOCUMENT_ANSWER_BYTES)
        value = _json(answer, f"GET {path}")
        if not isinstance(value, dict):
            raise NhnError(f"GET {path}: the answer is not an object", transient=False)
        encoding = value.get("contentTransferEncoding")
        document = value.get("businessDocument")
        if not isinstance(encoding, str) or encoding.lower() != "base64":
            raise NhnError(f"GET {path}: contentTransferEncoding {encoding!r}, not base64", transient=False)
        if not isinstance(document, str) or not document:
            raise NhnError(f"GET {path}: no businessDocument", transient=False)
        try:
            return base64.b64decode(document, validate=True)
        except (binascii.Error, ValueError):
            raise NhnError(f"GET {path}: businessDocument is not base64", transient=False) from None

    def send_apprec(
        self, message_id: str, *, sender_her: str, status: str, errors: Sequence[tuple[str, str]] = ()
    ) -> None:
        """Have the Meldingstjener send our AppRec for a received message; ``sender_her`` is our HER-id.

        ``status`` is "ok", "ok-with-errors" or "rejected"; a rejection needs at least one error (the API says so).
        """
        api_status = STATUS_TO_API.get(status)
        if api_status is None:
            raise NhnError(f"AppRec status {status!r} is not one of {', '.join(STATUS_TO_API)}", transient=False)
        if status == "rejected" and not errors:
            raise NhnError("a rejecting AppRec needs at least one error", transient=False)
        path = f"/Messages/{_id(message_id)}/apprec/{_her(sender_her, 'AppRec sender')}"
        body: dict[str, Any] = {"appRecStatus": api_status}
        if errors:
            body["appRecErrorList"] = [{"errorCode": code, "details": text} for code, text in errors]
        self._call("POST", path, body=body, expect=(201, 200, 204))

    def mark_read(self, message_id: str, her_id: str) -> None:
        """Mark a message read for one of our HER-ids, so it leaves the unread list."""
        path = f"/Messages/{_id(message_id)}/read/{_her(her_id, 'receiver')}"
        self._call("PUT", path, expect=(204, 200))

    def receipts(self, message_id: str) -> list[ReceiptInfo]:
        """The AppRecs received so far for a message we sent (none yet, or an unknown id: empty)."""
        path = f"/Messages/{_id(message_id)}/apprec"
        answer = self._call("GET", path, expect=(200, 204, 404))
        if answer.status != 200 or not answer.body.strip():
            return []
        listed = _json(answer, f"GET {path}")
        if not isinstance(listed, list):
            raise NhnError(f"GET {path}: the answer is not a list", transient=False)
        receipts = [_receipt(entry, path) for entry in listed]
        return [receipt for receipt in receipts if receipt is not None]

    def status(self, message_id: str) -> list[dict[str, Any]]:
        """Transport and AppRec status per receiver (``StatusInfo`` objects, as the API gives them)."""
        path = f"/Messages/{_id(message_id)}/status"
        listed = _json(self._call("GET", path), f"GET {path}")
        if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
            raise NhnError(f"GET {path}: the answer is not a list of objects", transient=False)
        return listed

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Meldingstjener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one call ------------------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Mapping[str, Any] | None = None,
        expect: Sequence[int] = (200,),
        limit: int = MAX_ANSWER_BYTES,
        party: str = "",
    ) -> _Answer:
        """One API call, with the nonce and token retries; the answer when its status is in ``expect``."""
        url = self.base_url + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        nonce_retried = token_retried = False
        while True:
            answer, challenge, nonce = self._once(method, url, params, data, limit, path)
            if nonce:
                self._nonce = nonce
            if answer.status == 401:
                if challenge == "use_dpop_nonce" and nonce and not nonce_retried:
                    nonce_retried = True
                    continue
                if challenge != "use_dpop_nonce" and not token_retried:
                    self.helseid.invalidate()
                    token_retried = True
                    continue
            if answer.status in expect:
                return answer
            detail = f"{method} {path}: HTTP {answer.status} {reason(answer.status)}"
            why = _error_text(answer.body) or (f"WWW-Authenticate error {challenge}" if challenge else "")
            if why:
                detail += f": {why}"
            if party and answer.status == 403:
                detail += f" ({party})"
            raise NhnError(detail[:300], transient=is_transient_status(answer.status), status=answer.status)

    def _once(
        self,
        method: str,
        url: str,
        params: Sequence[tuple[str, str]] | None,
        data: bytes | None,
        limit: int,
        path: str,
    ) -> tuple[_Answer, str, str]:
        """Send one request; the answer, the 401 challenge's error code ("" if none) and any ``DPoP-Nonce``."""
        headers = self._headers(method, url, data)
        where = f"{method} {path}"
        response = self._send(method, url, params, data, headers, where)
        with response:
            return self._read(response, limit, where)

    def _headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        """The headers of one request, with a fresh HelseID access token and DPoP proof."""
        try:
            auth = self.helseid.headers(method, url, nonce=self._nonce)
        except HelseIdError as error:
            raise NhnError(error.detail, transient=error.transient, status=error.status) from None
        headers = {
            "api-version": self.api_version,
            "nhn-source-system": self.source_system,
            "Accept": "application/json",
            **auth,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        return headers

    def _send(
        self,
        method: str,
        url: str,
        params: Sequence[tuple[str, str]] | None,
        data: bytes | None,
        headers: dict[str, str],
        where: str,
    ) -> requests.Response:
        """The (streamed) response; NhnError when there is none."""
        connect, read = self.timeout
        try:
            return self._session.request(
                method,
                url,
                params=list(params) if params else None,
                data=data,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise NhnError(f"unusable Meldingstjener URL {url!r}", transient=False) from None
        except requests.exceptions.InvalidHeader as error:
            raise NhnError(f"{where}: unusable header: {error}", transient=False) from None
        except requests.exceptions.ConnectTimeout:
            raise NhnError(f"{where}: connect timeout after {connect:g} s", transient=True) from None
        except requests.exceptions.ReadTimeout:
            raise NhnError(f"{where}: no answer within the read timeout of {read:g} s", transient=True) from None
        except requests.exceptions.RequestException as error:
            raise NhnError(f"{where}: {short_reason(error)}", transient=True) from None

    def _read(self, response: requests.Response, limit: int, where: str) -> tuple[_Answer, str, str]:
        """The answer read in full (at most ``limit`` bytes), the 401 challenge's error code and any DPoP-Nonce."""
        _, read = self.timeout
        status = response.status_code
        try:
            body, size = read_answer(response, limit, read)
        except (TimeoutError, requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            # Whatever the server did, only an answer read in full counts: the caller tries again later.
            raise NhnError(
                f"{where}: HTTP {status}, but reading the answer failed: {short_reason(error)}",
                transient=True,
                status=status,
            ) from None
        if size > limit and 200 <= status <= 299:
            raise NhnError(f"{where}: the answer is larger than {limit} bytes", transient=False, status=status)
        challenge = ""
        if status == 401:
            found = _CHALLENGE_ERROR.search(response.headers.get("WWW-Authenticate", ""))
            challenge = found.group(1) if found else ""
        return _Answer(status, body), challenge, response.headers.get("DPoP-Nonce", "")


# -- answers ---------------------------------------------------------------------------------------------------------


def _json(answer: _Answer, where: str) -> Any:
    try:
        return json.loads(answer.body)
    except ValueError:
        raise NhnError(f"{where}: the answer is not JSON: {_excerpt(answer.body)}", transient=False) from None


def _excerpt(body: bytes) -> str:
    text = body[:120].decode("utf-8", "replace")
    return " ".join(text.split()) or "(empty)"


def _error_text(body: bytes) -> str:
    """``error`` and ``requestId`` of the API's ErrorMessage (or an OAuth error), in one line; "" when absent."""
    try:
        value = json.loads(body)
    except ValueError:
        return _excerpt(body) if body.strip() else ""
    if not isinstance(value, dict):
        return ""
    parts = [str(value[key]) for key in ("error", "error_description") if isinstance(value.get(key), str)]
    errors = value.get("validationErrors")
    if isinstance(errors, list) and errors:
        parts.append("; ".join(str(error) for error in errors[:5]))
    text = " ".join(": ".join(parts).split())
    if isinstance(value.get("requestId"), str):
        text += f" (requestId {value['requestId']})"
    return text


def _text(value: Any) -> str:
    """A HER-id (an integer in the API) or string field as text; "" for null."""
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


def _incoming(entry: Any) -> IncomingMessage:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not _UUID.match(entry["id"]):
        raise NhnError(f"GET /Messages: an entry without a message id: {str(entry)[:120]}", transient=False)
    return IncomingMessage(
        id=entry["id"],
        sender_her=_text(entry.get("senderHerId")),
        receiver_her=_text(entry.get("receiverHerId")),
        business_document_id=_text(entry.get("businessDocumentId")),
        gen_date=_text(entry.get("businessDocumentGenDate")),
        is_apprec=entry.get("isAppRec") is True,
        content_type=_text(entry.get("contentType")),
    )


def _receipt(entry: Any, where: str) -> ReceiptInfo | None:
    """One ApprecInfo as a ReceiptInfo; None while that receiver has not answered (``appRecStatus`` null)."""
    if not isinstance(entry, dict) or entry.get("receiverHerId") is None:
        raise NhnError(f"GET {where}: an entry without receiverHerId: {str(entry)[:120]}", transient=False)
    raw = entry.get("appRecStatus")
    if raw is None:
        return None
    status = API_TO_STATUS.get(str(raw).lower())
    if status is None:
        raise NhnError(f"GET {where}: unknown appRecStatus {raw!r}", transient=False)
    errors = []
    for error in entry.get("appRecErrorList") or []:
        if isinstance(error, dict):
            text = _text(error.get("details")) or _text(error.get("description"))
            errors.append((_text(error.get("errorCode")), text))
    return ReceiptInfo(_text(entry["receiverHerId"]), status, tuple(errors))


# -- what goes into a path -------------------------------------------------------------------------------------------


def _id(message_id: str) -> str:
    """A message id as the API gives it (a GUID); anything else never reaches a URL path."""
    if not _UUID.match(message_id):
        raise NhnError(f"{message_id[:60]!r} is not a Meldingstjener message id (a GUID)", transient=False)
    return message_id


def _her(her_id: str, role: str) -> int:
    """A HER-id as the API's int32 (1 to 2**31-1)."""
    text = str(her_id).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= _HER_MAX:
        raise NhnError(f"{str(her_id)[:40]!r} is not a HER-id ({role})", transient=False)
    return int(text)
