"""Transport: the only package that touches the network.

:class:`~adapter.transport.outbound.Outbound` posts one message to one receiver and reports what happened as a
:class:`~adapter.transport.outbound.DeliveryResult`; it never retries and never raises for network problems. The
outbox decides when to try again, with :func:`~adapter.transport.outbound.backoff_seconds`.
:class:`~adapter.transport.nhn.Meldingstjener` is NHN's EDI 2.0 API, authenticated by
:class:`~adapter.transport.helseid.HelseIdClient` (client credentials, DPoP).
"""

from __future__ import annotations

from adapter.transport.helseid import HelseIdClient, HelseIdConfig
from adapter.transport.nhn import Meldingstjener, NhnError
from adapter.transport.outbound import DeliveryResult, Outbound, backoff_seconds

__all__ = [
    "DeliveryResult",
    "HelseIdClient",
    "HelseIdConfig",
    "Meldingstjener",
    "NhnError",
    "Outbound",
    "backoff_seconds",
]
