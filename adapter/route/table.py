"""The routing table: which destination, format and transport a message for a receiver goes to. It is data.

The table is a YAML file, read once at startup and checked strictly: an unknown key or a bad value stops the load
with :class:`~adapter.errors.RouteError` ADP-5001, naming the file and the place (``routes[2].format``). Schema::

    routes:                                   # in any order; each receiver and each endpoint at most once
      - receiver: "8100001"                   # the receiver's HER-id (digits; quoted or not) ...
        destination: http://127.0.0.1:8081/kith
        format: kith                          # kith | fhir: the format the receiver speaks
        transport: http                       # http (the default) | nhn-edi (below)
      - receiver: "8100003"                   # through NHN's EDI 2.0 Meldingstjener: KITH only, no destination
        format: kith                          #   (the API's address is the setting nhn_base_url)
        transport: nhn-edi
      - endpoint: https://fhir.example/fhir   # ... or the FHIR endpoint (MessageHeader.destination.endpoint)
        destination: https://fhir.example/fhir/$process-message
        format: fhir
    fallback:                                 # optional: the "ERR" row, used when nothing matches
      destination: http://127.0.0.1:8089/fhir
      format: fhir

A bare list is read as ``routes`` without a fallback. :meth:`RoutingTable.lookup` tries the receiver's HER-id first,
then the endpoint (compared without a trailing slash), then the fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import yaml

from adapter.errors import Issue, RouteError

Format = Literal["fhir", "kith"]
Transport = Literal["http", "nhn-edi"]

FORMATS: tuple[Format, ...] = ("fhir", "kith")
TRANSPORTS: tuple[Transport, ...] = ("http", "nhn-edi")
#: The destination of a row that goes through NHN EDI 2.0: the receiver's HER-id is its address there.
NHN_DESTINATION = "nhn-edi:{receiver}"

_HER_ID = re.compile(r"[0-9]{1,9}")
_ROUTE_KEYS = frozenset({"receiver", "endpoint", "destination", "format", "transport"})
_FALLBACK_KEYS = frozenset({"destination", "format", "transport"})


@dataclass(frozen=True)
class Route:
    """One row: where a message goes, in which format and over which transport.

    ``receiver`` or ``endpoint`` says what the row matches; both are None for the fallback row.
    """

    destination: str
    format: Format
    transport: Transport
    receiver: str | None
    endpoint: str | None


def _endpoint_key(url: str) -> str:
    return url.rstrip("/")


class RoutingTable:
    """Routes keyed by receiver HER-id and by FHIR endpoint, plus an optional fallback."""

    def __init__(self, routes: list[Route], fallback: Route | None = None, source: str = "<data>") -> None:
        self.routes = tuple(routes)
        self.fallback = fallback
        self.source = source
        self._by_receiver = {r.receiver: r for r in routes if r.receiver is not None}
        self._by_endpoint = {_endpoint_key(r.endpoint): r for r in routes if r.endpoint is not None}

    @classmethod
    def load(cls, path: Path) -> RoutingTable:
        """Read and check a routing table file; raises RouteError ADP-5001 when it cannot be read or is invalid."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise _invalid(str(path), None, f"cannot read it ({error})") from error
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise _invalid(str(path), None, f"not valid YAML: {' '.join(str(error).split())}") from error
        return cls.from_data(data, str(path))

    @classmethod
    def from_data(cls, data: Any, source: str) -> RoutingTable:
        """Check already-parsed data (the YAML structure above); ``source`` names it in error messages."""
        if isinstance(data, list):
            data = {"routes": data}
        if not isinstance(data, dict):
            raise _invalid(source, None, "the top level must be a mapping with routes (and fallback) or a list")
        unknown = sorted(str(k) for k in data if k not in ("routes", "fallback"))
        if unknown:
            raise _invalid(source, None, f"unknown key(s) {', '.join(unknown)}; allowed: routes, fallback")
        rows = data.get("routes")
        if not isinstance(rows, list):
            raise _invalid(source, "routes", "must be a list of routes")
        routes = [_route(row, f"routes[{i}]", source) for i, row in enumerate(rows)]
        _no_duplicates(routes, source)
        fallback = None
        if data.get("fallback") is not None:
            fallback = _route(data["fallback"], "fallback", source, is_fallback=True)
        return cls(routes, fallback, source)

    def lookup(self, receiver_her: str | None, endpoint: str | None) -> Route | None:
        """The route for a receiver: by HER-id first, then by FHIR endpoint, then the fallback (None if none)."""
        if receiver_her is not None and (route := self._by_receiver.get(receiver_her.strip())) is not None:
            return route
        if endpoint is not None and (route := self._by_endpoint.get(_endpoint_key(endpoint.strip()))) is not None:
            return route
        return self.fallback

    def require(self, receiver_her: str | None, endpoint: str | None) -> Route:
        """Like :meth:`lookup`, but raises RouteError ADP-5002 when there is no route."""
        route = self.lookup(receiver_her, endpoint)
        if route is None:
            issue = Issue("ADP-5002", "error", args={"receiver": receiver_her or "-", "endpoint": endpoint or "-"})
            raise RouteError([issue])
        return route

    def __len__(self) -> int:
        return len(self.routes)


def _invalid(source: str, where: str | None, detail: str) -> RouteError:
    text = f"{where}: {detail}" if where else detail
    return RouteError([Issue("ADP-5001", "fatal", expression=where, args={"source": source, "detail": text})])


def _route(row: Any, where: str, source: str, *, is_fallback: bool = False) -> Route:
    if not isinstance(row, dict):
        raise _invalid(source, where, "must be a mapping with destination, format and receiver or endpoint")
    allowed = _FALLBACK_KEYS if is_fallback else _ROUTE_KEYS
    unknown = sorted(str(k) for k in row if k not in allowed)
    if unknown:
        raise _invalid(source, where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
    receiver = _her_id(row.get("receiver"), f"{where}.receiver", source)
    endpoint = row.get("endpoint")
    if endpoint is not None:
        endpoint = _url(endpoint, f"{where}.endpoint", source)
    if not is_fallback and (receiver is None) == (endpoint is None):
        raise _invalid(source, where, "needs exactly one of receiver (a HER-id) and endpoint (a FHIR endpoint URL)")
    fmt = row.get("format")
    if fmt not in FORMATS:
        raise _invalid(source, f"{where}.format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    transport = row.get("transport", "http")
    if transport not in TRANSPORTS:
        raise _invalid(source, f"{where}.transport", f"{transport!r} is not one of {', '.join(TRANSPORTS)}")
    if transport == "nhn-edi":
        if fmt != "kith" or receiver is None or row.get("destination") is not None:
            detail = "goes to a receiver HER-id in KITH format and has no destination (NHN addresses by HER-id)"
            raise _invalid(source, f"{where}.transport", f"nhn-edi {detail}")
        return Route(NHN_DESTINATION.format(receiver=receiver), "kith", "nhn-edi", receiver, None)
    destination = _url(row.get("destination"), f"{where}.destination", source)
    return Route(destination, cast(Format, fmt), cast(Transport, transport), receiver, endpoint)


def _her_id(value: Any, where: str, source: str) -> str | None:
    if value is None:
        return None
    # YAML reads an unquoted 8100001 as an int; accept it, but not a bool or a float.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _HER_ID.fullmatch(value):
        raise _invalid(source, where, f"{value!r} is not a HER-id (1 to 9 digits)")
    return value


def _url(value: Any, where: str, source: str) -> str:
    if not isinstance(value, str):
        raise _invalid(source, where, f"{value!r} is not a URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or value != value.strip():
        raise _invalid(source, where, f"{value!r} is not an absolute http or https URL")
    return value


def _no_duplicates(routes: list[Route], source: str) -> None:
    seen: dict[str, int] = {}
    for i, route in enumerate(routes):
        key = f"receiver {route.receiver}" if route.receiver else f"endpoint {_endpoint_key(route.endpoint or '')}"
        if key in seen:
            raise _invalid(source, f"routes[{i}]", f"{key} is already routed by routes[{seen[key]}]")
        seen[key] = i
