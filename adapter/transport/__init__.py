"""Transport: the only package that touches the network.

:class:`~adapter.transport.outbound.Outbound` posts one message to one receiver and reports what happened as a
:class:`~adapter.transport.outbound.DeliveryResult`; it never retries and never raises for network problems. The
outbox decides when to try again, with :func:`~adapter.transport.outbound.backoff_seconds`.
"""

from __future__ import annotations

from adapter.transport.outbound import DeliveryResult, Outbound, backoff_seconds

__all__ = ["DeliveryResult", "Outbound", "backoff_seconds"]
