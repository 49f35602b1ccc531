"""Transaction and batch Bundles (``POST [base]``, R4 3.1.0.11): several interactions in one request.

A **transaction** is all or nothing, in one store transaction: its creates (POST, with ``ifNoneExist``), updates
(PUT, with ``ifMatch``; a PUT never creates here, as a plain one never does) and reads and searches (GET) run in the
order R4 gives (POST, PUT, GET), each under the rules of the same interaction on its own (validated against its
profiles, checked as the caller, audited), and references to an entry's ``fullUrl`` (``urn:uuid:...``) are
rewritten to the id the entry got. When any entry fails, nothing is stored: no resource, no outbox row (the
deliveries of a change are queued in the transaction that stores it, :mod:`adapter.distribute`), no AuditEvent of
a write that did not happen; the answer is that entry's OperationOutcome with its status, and an AuditEvent of the
refusal. A **batch** runs each entry as the request it describes, on its own: the batch-response says how each
ended. DELETE is refused in both, as a DELETE on its own is (ADP-5048).
"""

from __future__ import annotations

import email.utils
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, urlsplit

from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.records.access import check_type
from adapter.records.write import delete_refusal, preferred
from adapter.reply import Reply, operation_outcome
from adapter.search import condition_query, parse_query
from adapter.security import READ_SCOPE, WRITE_SCOPE, Caller
from adapter.store import Tx

if TYPE_CHECKING:
    from adapter.records import Records, Search

#: The most entries a transaction or batch takes (ADP-5051 above it): each is validated and, in a transaction,
#: holds the store's write lock until the last is done.
MAX_ENTRIES = 100
#: R4's processing order within a transaction (3.1.0.11.2): deletes (refused here), creates, updates, reads.
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3}


@dataclass
class Entry:
    """One entry of the Bundle, read: its request and what it needs (``problem``: why it cannot be run)."""

    index: int
    method: str
    url: str
    rtype: str = ""
    rid: str | None = None
    version: int | None = None
    query: list[tuple[str, str]] = field(default_factory=list)
    resource: Any = None
    full_url: str | None = None
    if_match: str | None = None
    if_none_exist: str | None = None
    problem: Reply | None = None
    search: Search | None = None
    condition: tuple[str, list[tuple[str, list[str]]], list[tuple[str, str]]] | None = None
    checked: dict[str, Any] | None = None
    issues: list[Issue] = field(default_factory=list)


class _Failed(Exception):  # noqa: N818 - a transaction's way out, not an error of the service
    """An entry of a transaction failed: the store transaction is rolled back, and ``reply`` answers it."""

    def __init__(self, entry: Entry, reply: Reply, events: list[dict[str, Any]] | None = None) -> None:
        super().__init__(entry.index)
        self.entry = entry
        self.reply = reply
        self.events = events or []


class _Audited:
    """The store transaction, keeping the AuditEvents the entry being run writes. When the transaction fails,
    they are rolled back with it; the failing entry's are written again with the refusal, so that a refused read
    in a transaction is in the patient's audit trail as the same read on its own is."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self.events: list[dict[str, Any]] = []

    def audit(self, event: dict[str, Any]) -> int:
        self.events.append(event)
        return self._tx.audit(event)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)


def process(
    records: Records, data: bytes, fmt: str | None, caller: Caller, base: str, prefer: str, *, lenient: bool = False
) -> Reply:
    """``POST [base]`` with a transaction or batch Bundle: its response Bundle, or the refusal of the Bundle (or,
    for a transaction, of its failing entry). ``prefer`` (``return=``) shapes each write's entry as it shapes the
    write's own answer; ``lenient`` (``handling=lenient``) applies to each search."""
    try:
        source = read_fhir(data, records.validator.definitions, fmt)
    except AdapterError as error:
        return Reply.refused(error.issues)
    found = source.resource
    kind = found.get("type") if isinstance(found, dict) else None
    if not isinstance(found, dict) or found.get("resourceType") != "Bundle" or kind not in ("transaction", "batch"):
        what = found.get("resourceType") if isinstance(found, dict) else type(found).__name__
        detail = f"found a {what}" + (f" of type {kind}" if isinstance(kind, str) else "")
        return Reply.refused([Issue("ADP-5050", "error", args={"detail": detail[:200]})])
    given = found.get("entry") or []
    if not isinstance(given, list):
        return Reply.refused([Issue("ADP-5050", "error", args={"detail": "Bundle.entry is not a list"})])
    if len(given) > MAX_ENTRIES:
        return Reply.refused([Issue("ADP-5051", "error", args={"count": len(given), "limit": MAX_ENTRIES})])
    entries = [_entry(index, item, base) for index, item in enumerate(given)]
    if kind == "batch":
        return _batch(records, entries, caller, base, prefer, lenient)
    return _transaction(records, entries, caller, base, prefer, lenient)


# --- reading the entries -----------------------------------------------------------------------------------------


def _entry(index: int, item: Any, base: str) -> Entry:
    """An entry as its request says (the URL relative to ``base``); a request that cannot be read gets its
    ``problem``."""
    request = item.get("request") if isinstance(item, dict) else None
    if not isinstance(request, dict):
        return Entry(index, "?", "?", problem=_bad(index, "it has no request (method and url)"))
    method, url = _text(request.get("method")).upper(), _text(request.get("url"))
    full_url = item.get("fullUrl") if isinstance(item.get("fullUrl"), str) else None
    entry = Entry(index, method, url, resource=item.get("resource"), full_url=full_url)
    entry.if_match = None if request.get("ifMatch") is None else _text(request.get("ifMatch"))
    entry.if_none_exist = None if request.get("ifNoneExist") is None else _text(request.get("ifNoneExist"))
    if "fullUrl" in item and full_url is None:
        entry.problem = _bad(index, "its fullUrl is not a URI (a string)")
        return entry
    if url.startswith(base + "/"):
        url = url[len(base) + 1 :]
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith("/"):
        entry.problem = _unsupported(entry, "the url must be relative to this server's base (Type, Type/id)")
        return entry
    segments = parts.path.split("/")
    entry.rtype = segments[0]
    if method not in _ORDER:
        entry.problem = _unsupported(entry, "the methods are POST, PUT, GET (and DELETE, which is refused)")
        return entry
    try:
        entry.query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        entry.problem = _unsupported(entry, "the query is not name=value&...")
        return entry
    shape = (len(segments), bool(parts.query))
    if method == "POST" and shape != (1, False):
        entry.problem = _unsupported(entry, "a create names the type only (POST Type)")
    elif method == "PUT" and (shape != (2, False)):
        entry.problem = _unsupported(entry, "an update names the resource (PUT Type/id); no conditional update")
    elif method == "GET" and not (shape[0] == 1 or (shape == (2, False)) or _is_vread(segments, parts.query)):
        entry.problem = _unsupported(entry, "a read (Type/id, Type/id/_history/vid) or a search (Type?...)")
    elif method == "DELETE":
        entry.problem = delete_refusal(entry.rtype, segments[1] if len(segments) >= 2 else None)
    if entry.problem is None and len(segments) >= 2:
        entry.rid = segments[1]
        entry.version = int(segments[3]) if len(segments) == 4 else None
    if entry.problem is None:
        entry.problem = check_type(entry.rtype) or (_no_resource(entry) if method in ("POST", "PUT") else None)
    return entry


def _text(value: Any) -> str:
    """A request element as text (R4 gives strings; anything else is read as no value, never as code)."""
    return value if isinstance(value, str) else ""


def _is_vread(segments: list[str], query: str) -> bool:
    """Whether the path is ``Type/id/_history/vid`` (no query)."""
    version = segments[3] if len(segments) == 4 else ""
    return (
        segments[2:3] == ["_history"] and version.isascii() and version.isdigit() and len(version) <= 18 and not query
    )


def _no_resource(entry: Entry) -> Reply | None:
    if isinstance(entry.resource, dict):
        return None
    return Reply.refused(
        [Issue("ADP-5053", "error", args={"index": entry.index, "detail": "a write needs a resource"})]
    )


def _bad(index: int, detail: str) -> Reply:
    return Reply.refused([Issue("ADP-5053", "error", args={"index": index, "detail": detail})])


def _unsupported(entry: Entry, detail: str) -> Reply:
    args = {"index": entry.index, "method": entry.method[:10], "url": entry.url[:200], "detail": detail}
    return Reply.refused([Issue("ADP-5052", "error", args=args)])


def _prepare(records: Records, entry: Entry, lenient: bool = False) -> None:
    """What an entry needs before the store is touched: its search read, its condition read."""
    from adapter.records import parsed_search

    try:
        if entry.method == "GET" and entry.rid is None:
            defined = records._r4_parameters(entry.rtype) if lenient else None
            entry.search = parsed_search(entry.rtype, entry.query, lenient=lenient, defined=defined)
        if entry.method == "POST" and entry.if_none_exist is not None:
            condition = condition_query(entry.rtype, str(entry.if_none_exist))
            params, updated, _, _ = parse_query(condition, entry.rtype)
            entry.condition = ("&".join(f"{k}={v}" for k, v in condition), params, updated)
    except AdapterError as error:
        entry.problem = Reply.refused(error.issues)


# --- the transaction ---------------------------------------------------------------------------------------------


def _transaction(
    records: Records, entries: list[Entry], caller: Caller, base: str, prefer: str, lenient: bool
) -> Reply:
    """All entries in one store transaction, or none (see the module)."""
    methods = {e.method for e in entries}
    if methods & {"POST", "PUT"}:
        caller.require(WRITE_SCOPE)
    if "GET" in methods or any(e.if_none_exist is not None for e in entries):
        caller.require(READ_SCOPE)
    for entry in entries:
        if entry.problem is None:
            _prepare(records, entry, lenient)
    _overlaps(entries)
    provisional = {e.full_url: f"{e.rtype}/{uuid.uuid4()}" for e in entries if e.method == "POST" and e.full_url}
    for entry in entries:
        if entry.problem is None and entry.method in ("POST", "PUT"):
            _validate(records, entry, provisional)
    failed = next((e for e in entries if e.problem is not None), None)
    if failed is not None and failed.problem is not None:
        return _refused(records, caller, failed, failed.problem)

    def work(store_tx: Tx) -> list[Reply]:
        audited = _Audited(store_tx)
        tx = cast("Tx", audited)
        replies: dict[int, Reply] = {}
        final = dict(provisional)
        for entry in sorted(entries, key=lambda e: (_ORDER[e.method], e.index)):
            if entry.method == "POST" and entry.condition is not None:
                audited.events = []
                matched = records._conditional(tx, entry.rtype, entry.condition, caller)
                if matched is not None:
                    _check(entry, matched, audited.events)
                    replies[entry.index] = matched
                    if entry.full_url and matched.resource is not None:
                        final[entry.full_url] = f"{entry.rtype}/{matched.resource['id']}"
        for entry in sorted(entries, key=lambda e: (_ORDER[e.method], e.index)):
            if entry.index in replies:
                continue
            moved = {provisional[k]: final[k] for k in provisional if final[k] != provisional[k]}
            audited.events = []
            replies[entry.index] = _check(entry, _run(records, tx, entry, moved, caller, base), audited.events)
        return [replies[e.index] for e in entries]

    try:
        replies = records.store.run(work)
    except _Failed as failure:
        return _refused(records, caller, failure.entry, failure.reply, failure.events)
    answered = [
        _response(e, preferred(r, prefer, e.issues) if e.method != "GET" else r, base, r)
        for e, r in zip(entries, replies, strict=True)
    ]
    return Reply(200, {"resourceType": "Bundle", "type": "transaction-response", "entry": answered})


def _overlaps(entries: list[Entry]) -> None:
    """R4: a transaction whose entries name the same resource twice (two updates of one, a fullUrl given twice)
    fails; the second of them gets the problem."""
    seen: set[str] = set()
    for entry in entries:
        if entry.problem is not None:
            continue
        names = [f"{entry.rtype}/{entry.rid}"] if entry.method == "PUT" else []
        names += [entry.full_url] if entry.full_url and entry.method in ("POST", "PUT") else []
        for name in names:
            if name in seen:
                entry.problem = _bad(entry.index, f"{name[:200]} is named by another entry of the transaction too")
            seen.add(name)


def _validate(records: Records, entry: Entry, mapping: dict[str, str]) -> None:
    """Check and validate a write's resource as it will be written (its fullUrl references resolved)."""
    resource = _resolved(entry.resource, mapping, entry)
    if entry.problem is not None:  # a reference to no entry's fullUrl
        return
    checked = records._checked(entry.rtype, entry.rid, resource)
    if isinstance(checked, Reply):
        entry.problem = checked
        return
    entry.checked, entry.issues = checked
    if entry.method == "POST" and entry.full_url in mapping:  # the id its fullUrl's references were given
        entry.checked = {**entry.checked, "id": mapping[entry.full_url].partition("/")[2]}
    if any(i.severity in ("error", "fatal") for i in entry.issues):
        entry.problem = Reply.refused(entry.issues, default=422)  # profile findings refuse a write with 422


def _resolved(value: Any, mapping: dict[str, str], entry: Entry) -> Any:
    """A copy of ``value`` with every ``reference`` to a fullUrl of the Bundle rewritten to the id its entry got;
    one to a ``urn:uuid:`` no entry has is a problem of ``entry``. Walked without recursion: however deeply a
    resource is nested, this never runs out of stack (the validator refuses what is too deep, ADP-1009)."""
    if not isinstance(value, dict | list):
        return value
    copy: Any = {} if isinstance(value, dict) else [None] * len(value)
    stack: list[tuple[Any, Any]] = [(value, copy)]
    while stack:
        source, target = stack.pop()
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            if key == "reference" and isinstance(source, dict) and isinstance(item, str):
                if item.startswith("urn:uuid:") and item not in mapping:
                    entry.problem = _bad(entry.index, f"it refers to {item[:100]}, the fullUrl of no entry")
                target[key] = mapping.get(item, item)
            elif isinstance(item, dict | list):
                target[key] = {} if isinstance(item, dict) else [None] * len(item)
                stack.append((item, target[key]))
            else:
                target[key] = item
    return copy


def _run(records: Records, tx: Tx, entry: Entry, moved: dict[str, str], caller: Caller, base: str) -> Reply:
    """One entry inside the transaction; ``moved``: the references that a conditional create's match changed from
    the id given to the id found."""
    if entry.method == "GET":
        if entry.search is not None:
            return records._search_in(tx, caller, base, entry.search)
        return records._read_in(tx, entry.rtype, str(entry.rid), caller, entry.version)
    body = _resolved(entry.checked, moved, entry) if moved else entry.checked
    assert body is not None  # noqa: S101 - every write entry was checked before the transaction began
    if entry.method == "POST":
        return records._write_in(tx, entry.rtype, None, body, caller, None)
    return records._write_in(tx, entry.rtype, entry.rid, body, caller, entry.if_match)


def _check(entry: Entry, reply: Reply, events: list[dict[str, Any]] | None = None) -> Reply:
    """``reply``, or the end of the transaction when it refuses (with the AuditEvents the entry wrote)."""
    if reply.status >= 400:
        raise _Failed(entry, reply, events)
    return reply


def _refused(
    records: Records, caller: Caller, entry: Entry, reply: Reply, events: list[dict[str, Any]] | None = None
) -> Reply:
    """The answer to a failed transaction: the failing entry's OperationOutcome and status, with which entry it
    was; audited in a transaction of its own (the failed one left nothing): the AuditEvents the failing entry
    wrote (its refused read or write, naming the patient), then the refusal of the transaction."""
    args = {"index": entry.index, "method": entry.method[:10], "url": entry.url[:200]}
    outcome = dict(reply.resource or operation_outcome([]))
    told = operation_outcome([Issue("ADP-5054", "information", args=args)])["issue"]
    outcome["issue"] = [*outcome.get("issue", []), *told]
    action = {"POST": "C", "PUT": "U", "DELETE": "D"}.get(entry.method, "R")
    answer = Reply(reply.status, outcome, headers=reply.headers)

    def audit(tx: Tx) -> Reply:
        for event in events or []:
            tx.audit(event)
        return records._refused_in(tx, caller, action, "transaction", answer)

    return records.store.run(audit)


# --- the batch ---------------------------------------------------------------------------------------------------


def _batch(records: Records, entries: list[Entry], caller: Caller, base: str, prefer: str, lenient: bool) -> Reply:
    """Each entry as the request it describes, on its own; the batch-response says how each ended."""
    answered = []
    for entry in entries:
        try:
            reply = entry.problem or _one(records, entry, caller, base, prefer, lenient)
        except AdapterError as error:  # a scope the caller lacks: that entry's 403
            reply = Reply.refused(error.issues, default=403)
        except RecursionError:  # a resource nested too deeply to write out again for its create or update
            reply = Reply.refused([Issue("ADP-1009", "fatal")])
        if entry.problem is not None and entry.method == "DELETE":
            records._refused(caller, "D", entry.url[:200], reply)
        answered.append(_response(entry, reply, base))
    return Reply(200, {"resourceType": "Bundle", "type": "batch-response", "entry": answered})


def _one(records: Records, entry: Entry, caller: Caller, base: str, prefer: str, lenient: bool) -> Reply:
    """One batch entry, through the same method the request on its own would call."""
    if entry.method == "GET":
        if entry.rid is None:
            return records.search(entry.rtype, entry.query, caller, base, lenient=lenient)
        return records.read(entry.rtype, entry.rid, caller, entry.version)
    data = json.dumps(entry.resource).encode()
    if entry.method == "POST":
        condition = None if entry.if_none_exist is None else str(entry.if_none_exist)
        return records.create(entry.rtype, data, "json", caller, if_none_exist=condition, prefer=prefer)
    if_match = None if entry.if_match is None else str(entry.if_match)
    return records.update(entry.rtype, str(entry.rid), data, "json", caller, if_match, prefer=prefer)


# --- the answer --------------------------------------------------------------------------------------------------


def _response(entry: Entry, reply: Reply, base: str, written: Reply | None = None) -> dict[str, Any]:
    """The response entry of ``reply``: its status (``201``), its Location (absolute), ETag and
    lastModified (of ``written``, the write's full answer, when ``reply`` is shaped by ``Prefer``); the resource
    (or, for a refusal or ``return=OperationOutcome``, the outcome)."""
    response: dict[str, Any] = {"status": str(reply.status)}  # the code alone, as the history entries give it
    location = reply.headers.get("Location")
    if location:
        response["location"] = location if "://" in location else f"{base}/{location}"
    if "ETag" in reply.headers:
        response["etag"] = reply.headers["ETag"]
    resource = reply.resource
    stored = (written or reply).resource
    if isinstance(stored, dict) and isinstance(stored.get("meta"), dict) and stored["meta"].get("lastUpdated"):
        response["lastModified"] = stored["meta"]["lastUpdated"]
    elif "Last-Modified" in reply.headers:  # a batch entry answered return=minimal: the header's second
        moment = email.utils.parsedate_to_datetime(reply.headers["Last-Modified"])
        response["lastModified"] = moment.isoformat().replace("+00:00", "Z")
    answered: dict[str, Any] = {}
    if resource is not None and resource.get("resourceType") == "OperationOutcome":
        response["outcome"] = resource
    elif resource is not None:
        if resource.get("resourceType") != "Bundle" and resource.get("id"):
            answered["fullUrl"] = f"{base}/{resource['resourceType']}/{resource['id']}"
        answered["resource"] = resource
    return {**answered, "response": response}
