"""``GET /.well-known/smart-configuration``: how a client gets a token for this service (SMART App Launch 2.x,
section "Conformance"; the backend services profile): open, no token needed, no patient data.

The issuer and audience are the ones tokens are checked against; ``jwks_uri`` the issuer's keys (the configured JWKS
URL, or the demo issuer's own); ``token_endpoint`` the authorization server's (``SAMHANDLING_TOKEN_ENDPOINT``, else
``SAMHANDLING_HELSEID_TOKEN_URL``; left out when neither is set, as in the demo, where ``samhandling token`` makes
tokens). Clients authenticate at it with ``private_key_jwt`` and get DPoP-bound or bearer tokens for the scopes of
:data:`adapter.security.SCOPES`.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from adapter.api.context import base_url, service
from adapter.security import SCOPES
from adapter.security_dpop import DPOP_ALGORITHMS
from adapter.service import Service

__all__ = ["SMART_PATH", "smart_configuration", "smart_document", "token_endpoint"]

SMART_PATH = "/.well-known/smart-configuration"


def token_endpoint(svc: Service) -> str:
    """The token endpoint clients get tokens from ("" when none is configured)."""
    return svc.settings.token_endpoint or svc.settings.helseid_token_url


def jwks_uri(svc: Service, base: str) -> str:
    """Where the issuer's public keys are published ("" when only a key file is configured)."""
    if svc.settings.token_jwks_url:
        return svc.settings.token_jwks_url
    return f"{base}/.well-known/jwks.json" if svc.issuer is not None else ""


def smart_document(svc: Service, base: str) -> dict[str, Any]:
    """The SMART configuration of ``svc`` served at ``base``."""
    document: dict[str, Any] = {
        "issuer": svc.settings.token_issuer,
        "jwks_uri": jwks_uri(svc, base),
        "token_endpoint": token_endpoint(svc),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "scopes_supported": sorted(SCOPES),
        "capabilities": ["client-confidential-asymmetric"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGORITHMS),
    }
    return {key: value for key, value in document.items() if value}


def smart_configuration() -> Response:
    """The SMART configuration document (JSON)."""
    body = json.dumps(smart_document(service(), base_url()), indent=2)
    return Response(body, content_type="application/json", headers={"Cache-Control": "public, max-age=3600"})
