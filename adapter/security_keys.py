"""The token issuer's public keys as the verifier holds them: read from PEM (a key or a certificate) or a JWK, and
written as a public JWK (:func:`public_jwk`, for the demo issuer's JWKS). A key that cannot be used is a setup
error (ADP-7007) for a configured key; the verifier leaves such a key of a fetched JWKS out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.errors import SetupError
from adapter.security_dpop import jwk_thumbprint

__all__ = ["KeySource", "PublicKey", "load_key", "public_jwk"]

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey
KeySource = str | bytes | Mapping[str, Any] | PublicKey


def public_jwk(key: PublicKey, kid: str | None = None) -> dict[str, Any]:
    """The public JWK of ``key`` with ``kid`` (default: its RFC 7638 thumbprint), ``use`` and ``alg``."""
    members: tuple[str, ...]
    if isinstance(key, rsa.RSAPublicKey):
        jwk = dict(jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True))
        members, alg = ("e", "kty", "n"), "RS256"
    else:
        jwk = dict(jwt.algorithms.ECAlgorithm.to_jwk(key, as_dict=True))
        members, alg = ("crv", "kty", "x", "y"), "ES256"
    public = {m: jwk[m] for m in members}
    return {**public, "kid": kid or jwk_thumbprint(public), "use": "sig", "alg": alg}


def load_key(source: KeySource, index: int) -> tuple[str, PublicKey]:
    """One configured key as (kid, public key); a bad key is a setup error, found at startup."""
    try:
        if isinstance(source, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            key: Any = source
        elif isinstance(source, Mapping):
            if "d" in source:
                raise ValueError("it is a private key; configure the public key only")
            key = jwt.PyJWK(dict(source)).key
        else:
            pem = source.encode("ascii") if isinstance(source, str) else source
            if b"-----BEGIN CERTIFICATE-----" in pem:
                key = x509.load_pem_x509_certificate(pem).public_key()
            else:
                key = serialization.load_pem_public_key(pem)
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise ValueError(f"{type(key).__name__} is neither an RSA nor an EC public key")
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise SetupError.of("ADP-7007", index=index, detail=str(error)) from error
    kid = source.get("kid") if isinstance(source, Mapping) else None
    return str(kid) if kid else public_jwk(key)["kid"], key
