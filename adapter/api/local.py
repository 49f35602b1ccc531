"""The service in this process, as a target for ``samhandling examples run`` without ``--target``: the same
Flask app, called through Flask's test client, with tokens from the demo issuer."""

from __future__ import annotations

from adapter.security import SCOPES
from adapter.service import Service
from adapter.transport.client import Answer


class InProcessTarget:
    """Sends requests to the app of ``service`` (which must run the demo issuer) as organisation ``org``."""

    def __init__(self, service: Service) -> None:
        from adapter.api import create_app

        if service.issuer is None:
            raise ValueError("an in-process target needs the demo issuer")
        self.issuer = service.issuer
        self.client = create_app(service=service).test_client()

    def send(self, method: str, path: str, body: bytes, content_type: str, org: str) -> Answer:
        """One request, with a token for ``org`` that has every scope (the examples act as their senders)."""
        token = self.issuer.issue(org or "8100002", SCOPES, ttl_seconds=300)
        response = self.client.open(
            path,
            method=method,
            data=body,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": content_type,
                "Accept": "application/fhir+json",
            },
        )
        return Answer(response.status_code, response.content_type or "", response.get_data())
