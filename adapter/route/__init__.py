"""Routing: the table (data) that says where a message for a receiver goes, in which format and how.

See :mod:`adapter.route.table` for the file's schema.
"""

from __future__ import annotations

from adapter.route.table import Route, RoutingTable

__all__ = ["Route", "RoutingTable"]
