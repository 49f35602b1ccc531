"""Limits against abuse: rate limits per caller, a cap on expensive requests running at once, and the per-request
caps of parsing and validation.

* **Rate limits** (``SAMHANDLING_RATE_LIMIT``, ``SAMHANDLING_RATE_LIMIT_ANONYMOUS``): every request with a verified
  token counts against its organisation (the token's HER-id; a person's token against its subject); every request
  without one (the open paths, a missing or failed token) against the client's address (``remote_addr``, after the
  trusted proxies of ``SAMHANDLING_TRUSTED_PROXIES``). Over a limit: 429 ADP-5105 with ``Retry-After``, before the
  view runs. ``/health/*`` is never limited (the orchestrator's probes). The counting is the ``limits`` library's
  (the engine of Flask-Limiter) with a moving window, in each worker process's memory: with ``--workers N`` a caller
  can get up to N times the limit through, and a restart forgets the counts. Flask-Limiter itself is not used: its
  check runs in its own hook, before the token is verified, so it could count only a claimed organisation (which
  an abuser would spend for another) or an address.
* **Expensive requests** (POST and PUT but ``_search``: $validate, $process-message, writes, transactions, KITH
  messages; and the PDFs of the pages) run at most ``SAMHANDLING_EXPENSIVE_CONCURRENCY`` at once on the host (all
  worker processes sharing the data folder: :class:`Gate`); :data:`WAITING` times as many may wait in each process
  up to :data:`WAIT_SECONDS` for a turn, the rest get 503 ADP-5104 at once with ``Retry-After``. So a flood of large
  documents takes a few threads and one core's worth of work, and leaves the rest to the cheap reads; what is
  refused is refused before its body is read.
* **Caps** (``SAMHANDLING_MAX_ELEMENTS``/``_MAX_DEPTH``/``_MAX_ENTRIES``, :mod:`adapter.parse.caps`) and the
  validation time budget (``SAMHANDLING_VALIDATION_SECONDS``, :func:`adapter.validate.limits.start_budget`) are set
  for each request here, from the settings.
"""

from __future__ import annotations

import fcntl
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from adapter.api.negotiation import respond
from adapter.config import Settings
from adapter.errors import Issue
from adapter.parse.caps import CAPS, Caps
from adapter.reply import Reply
from adapter.validate.limits import end_budget, start_budget

#: Paths never rate limited: the liveness and readiness probes.
EXEMPT_PREFIX = "/health/"
#: The longest an expensive request waits for a turn before it is refused (seconds).
WAIT_SECONDS = 30.0  # longer than a request that holds a turn waits for the store (database_timeout)
#: How many expensive requests may wait for a turn, for each that runs. Waiting costs a thread but no CPU, and a
#: flood that waits sends no more meanwhile; one that is refused comes back at once.
WAITING = 3
#: The handle of a turn taken without a lock file (the data folder cannot hold one).
NO_FILE = -1


def _expensive() -> bool:
    """Whether the request is an expensive one: a write or operation (POST, PUT, PATCH; not a ``_search``), a
    page printed as a PDF, or a type or system history (it judges every current resource of its types)."""
    if request.method in ("POST", "PUT", "PATCH"):
        return not request.path.endswith("/_search")
    if request.path == "/_history" or (request.path.endswith("/_history") and request.path.count("/") == 2):
        return True
    return request.path.endswith(".pdf") or request.args.get("format") == "pdf"


def rate_items(text: str, setting: str) -> list[RateLimitItem]:
    """The rate limits of a setting (``20/second;600/minute``; empty: none); ValueError naming the setting."""
    if not text.strip():
        return []
    try:
        return list(parse_many(text))
    except ValueError as exc:
        raise ValueError(f"SAMHANDLING_{setting.upper()} {text!r}: not a rate limit like 600/minute ({exc})") from None


class Gate:
    """At most ``running`` holders at once on this host: in this process a semaphore, across the worker processes
    a lock file each (``flock`` in ``folder``); up to ``waiting`` more in this process wait at most ``wait`` seconds
    for a turn. A turn across the processes matters on a host with few cores: two workers each checking a large
    document took every core, and the reads of both waited."""

    def __init__(self, running: int, waiting: int, folder: Path, wait: float = WAIT_SECONDS) -> None:
        self.running = running
        self.waiting = waiting
        self.wait = wait
        self.files = [folder / f"turn-{number}.lock" for number in range(running)]
        self._slots = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._waiting = 0

    def enter(self) -> int | None:
        """Take a turn: its handle for :meth:`leave`, or None when all turns are taken and enough others wait
        already, or the wait ran out."""
        deadline = time.monotonic() + self.wait
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.waiting:
                    return None
                self._waiting += 1
            try:
                if not self._slots.acquire(timeout=self.wait):
                    return None
            finally:
                with self._lock:
                    self._waiting -= 1
        handle = self._host_turn(deadline)
        if handle is None:
            self._slots.release()
        return handle

    def leave(self, handle: int) -> None:
        """Give the turn ``handle`` back."""
        if handle != NO_FILE:
            os.close(handle)  # closing the file lets its lock go
        self._slots.release()

    def _host_turn(self, deadline: float) -> int | None:
        """A lock file no other process holds (its open descriptor), tried every few milliseconds till ``deadline``."""
        try:
            self.files[0].parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only data folder: turns in this process only
            return NO_FILE
        while True:
            for path in self.files:
                try:
                    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                except OSError:
                    return NO_FILE
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                return handle
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.002)


class Guard:
    """The limits of one app, from its settings: :meth:`before_auth` and :meth:`after_auth` register the hooks on
    either side of the token check (the order of Flask's ``before_request`` hooks is their registration order)."""

    def __init__(self, settings: Settings) -> None:
        self.caps = Caps(settings.max_elements, settings.max_depth, settings.max_entries)
        self.validation_seconds = settings.validation_seconds
        self.callers = rate_items(settings.rate_limit, "rate_limit")
        self.anonymous = rate_items(settings.rate_limit_anonymous, "rate_limit_anonymous")
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        running = settings.expensive_concurrency or os.cpu_count() or 2  # 0: one per CPU of the host
        self.gate = Gate(running, WAITING * running, settings.data_dir / "turns")

    def before_auth(self, app: Flask) -> None:
        """Before the token check: this request's caps, and the address's limit for a request that brings no token
        (one that brings one is counted once it is verified, or against the address when it fails)."""

        @app.before_request
        def set_caps() -> Any:
            g.caps_token = CAPS.set(self.caps)
            if request.path.startswith(EXEMPT_PREFIX) or request.headers.get("Authorization"):
                return None
            g.rate_counted = True
            return self._hit(self.anonymous, "address", request.remote_addr or "unknown")

        @app.after_request
        def count_refused(response: Response) -> Response:
            if g.get("rate_counted") or g.get("caller") is not None or request.path.startswith(EXEMPT_PREFIX):
                return response
            # a request that brought a token but was answered before it was verified, or whose token failed (401,
            # 403 for a person's token elsewhere, 413 too large, 503 keys unavailable): counted against the address
            g.rate_counted = True
            refused = self._hit(self.anonymous, "address", request.remote_addr or "unknown")
            return response if refused is None else refused

        @app.teardown_request
        def end(error: BaseException | None) -> None:
            turn = g.pop("turn", None)
            if turn is not None:
                self.gate.leave(turn)
            budget = g.pop("budget_token", None)
            if budget is not None:
                end_budget(budget)
            caps = g.pop("caps_token", None)
            if caps is not None:
                CAPS.reset(caps)

    def after_auth(self, app: Flask) -> None:
        """After the token check: the caller's limit, then a turn for an expensive request and its time budget."""

        @app.before_request
        def admit() -> Any:
            caller = g.get("caller")
            if caller is not None and not g.get("rate_counted"):
                g.rate_counted = True
                who = ("organisation", caller.org) if caller.org else ("subject", caller.subject)
                refused = self._hit(self.callers, *who)
                if refused is not None:
                    return refused
            if _expensive():
                g.turn = self.gate.enter()
                if g.turn is None:
                    issue = Issue("ADP-5104", "error", args={"running": self.gate.running, "retry": 1})
                    return respond(Reply.refused([issue], headers={"Retry-After": "1"}))
            g.budget_token = start_budget(self.validation_seconds)
            return None

    def _hit(self, items: list[RateLimitItem], kind: str, key: str) -> Response | None:
        """Count one request of ``key`` against each limit; the 429 answer when one is exceeded, else None."""
        for item in items:
            if self.limiter.hit(item, kind, key):
                continue
            reset = self.limiter.get_window_stats(item, kind, key).reset_time
            retry = max(1, math.ceil(reset - time.time()))
            args = {"caller": f"{kind} {key}", "limit": str(item), "retry": retry}
            return respond(Reply.refused([Issue("ADP-5105", "error", args=args)], headers={"Retry-After": str(retry)}))
        return None
