"""The outbox worker: deliver stored messages to their receivers until each one has taken its message.

A worker claims due deliveries (a lease, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers in several
processes share one outbox), posts each through :class:`~adapter.transport.outbound.Outbound` with the message id in
``X-Message-Id`` (the receiver's key for recognising a repeat), and records the outcome: ``delivered`` on 2xx; on a
transient failure (timeout, refused connection, 5xx, 429) the next attempt after an exponential backoff; after
``max_attempts`` attempts, or at once on a permanent refusal (other 4xx), the ``dead`` state, which an operator
sees with ``samhandling outbox list --state dead`` and puts back with ``samhandling outbox retry ID``. Right before
posting, ``may_send`` (the service's access rules) may stop a delivery whose recipient is no longer entitled to it
(state ``withdrawn``).

A delivery whose route says ``transport: nhn-edi`` goes through NHN's Meldingstjener instead (``nhn``,
:class:`~adapter.route.nhn.NhnOutbound`), with the same retries; the id the API gives it is kept on the delivery to
follow its AppRec. A delivery is complete when the receiver's application receipt arrives (recorded by the pipeline
or :class:`~adapter.route.nhn.NhnInbox`), not when the transport took it.

A worker that dies holding a claim loses it when the lease runs out, and another worker delivers the message again:
delivery is at least once, and exactly once in effect because every receiver is given the same message id. A
worker renews its claim on each delivery right before posting it and skips one it no longer holds, so a batch that
outlasts its lease is not delivered twice by two live workers.
"""

from __future__ import annotations

import logging
import os
import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from adapter import metrics
from adapter.config import Settings
from adapter.store import Delivery, Store, Tx
from adapter.transport.outbound import DeliveryResult, Outbound, backoff_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker delivers: attempts before the dead-letter state, claim lease, batch size, idle pause and
    backoff (seconds). The defaults are the service's (:class:`~adapter.config.Settings`)."""

    max_attempts: int = Settings.delivery_max_attempts
    lease: float = Settings.delivery_lease
    batch: int = 20
    idle: float = 0.2
    backoff_base: float = Settings.delivery_backoff_base
    backoff_cap: float = Settings.delivery_backoff_cap

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerSettings:
        """The delivery settings of the service."""
        return cls(
            max_attempts=settings.delivery_max_attempts,
            lease=settings.delivery_lease,
            backoff_base=settings.delivery_backoff_base,
            backoff_cap=settings.delivery_backoff_cap,
        )


class Worker:
    """Delivers the outbox of ``store``; ``before_each`` (tests, the pipeline) runs at the start of each round."""

    def __init__(
        self,
        store: Store,
        outbound: Outbound,
        settings: WorkerSettings = WorkerSettings(),  # noqa: B008 - frozen, shared default is fine
        *,
        name: str | None = None,
        before_each: Callable[[], object] | None = None,
        may_send: Callable[[Tx, Delivery], bool] | None = None,
        clock: Callable[[], float] = time.time,
        nhn: Callable[[Delivery], DeliveryResult] | None = None,
    ) -> None:
        self.store = store
        self.outbound = outbound
        self.nhn = nhn
        self.settings = settings
        self.name = name or f"{platform.node()}:{os.getpid()}:{threading.get_ident()}"
        self.before_each = before_each
        self.may_send = may_send
        self.clock = clock

    def run_once(self) -> int:
        """One round: claim what is due and try each once; returns how many were attempted."""
        if self.before_each is not None:
            self.before_each()
        claimed = self.store.run(lambda tx: tx.claim(self.name, self.settings.batch, self.settings.lease, self.clock()))
        for delivery in claimed:
            self._deliver(delivery)
        return len(claimed)

    def _deliver(self, delivery: Delivery) -> None:
        # A batch can take longer than the lease (a slow receiver, a busy process); by then another worker may have
        # claimed what is left of it. Renewing the claim of each delivery just before posting it makes sure that
        # only the worker holding a live claim posts (the lease must outlast one post: connect + 2 x read timeout).
        until = self.clock() + self.settings.lease
        if not self.store.run(lambda tx: tx.renew(delivery.id, self.name, until)):
            log.info("delivery of %s to %s was taken over by another worker", delivery.msg_id, delivery.destination)
            return
        # the recipient may have lost its right to it since it was queued (a consent withdrawn or ended)
        check = self.may_send
        if check is not None and not self.store.run(lambda tx: check(tx, delivery)):
            log.info("delivery of %s to %s withdrawn: %s", delivery.msg_id, delivery.destination, delivery.recipient)
            return
        result = self._post(delivery)
        if result.ok:
            self.store.run(lambda tx: tx.delivered(delivery.id, self.name, result.remote_id or None))
            metrics.observe_delivery(delivery.created_at)
            log.info("delivered %s to %s", delivery.msg_id, delivery.destination)
            return
        dead = not result.transient or delivery.attempts >= self.settings.max_attempts
        wait = backoff_seconds(delivery.attempts, self.settings.backoff_base, self.settings.backoff_cap)
        error = f"attempt {delivery.attempts}: {result.detail}"
        self.store.run(lambda tx: tx.failed(delivery.id, self.name, error, self.clock() + wait, dead))
        log.warning(
            "delivery of %s to %s failed (%s)%s",
            delivery.msg_id,
            delivery.destination,
            error,
            ", dead-lettered" if dead else f", next attempt in {wait:.1f} s",
        )

    def _post(self, delivery: Delivery) -> DeliveryResult:
        """One attempt over the delivery's transport: NHN EDI 2.0 (``nhn``), else an HTTP POST."""
        if delivery.transport == "nhn-edi":
            if self.nhn is None:
                detail = "ADP-6010: NHN EDI 2.0 is not configured (nhn_base_url and the helseid_* settings)"
                return DeliveryResult(False, False, None, detail)
            return self.nhn(delivery)
        return self.outbound.post(
            delivery.destination,
            delivery.body,
            delivery.content_type,
            headers={**(delivery.headers or {}), "X-Message-Id": delivery.msg_id},
        )

    def run_forever(self, stop: threading.Event) -> None:
        """Rounds until ``stop`` is set; sleeps ``idle`` seconds when there was nothing to do. A failing round
        (e.g. the database is restarting) is logged and tried again: the worker never dies of it."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                log.exception("outbox round failed; trying again")
                busy = 0
            if not busy:
                stop.wait(self.settings.idle)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        """Run in a daemon thread; set the returned event to stop it."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run_forever, args=(stop,), name="outbox-worker", daemon=True)
        thread.start()
        return thread, stop
