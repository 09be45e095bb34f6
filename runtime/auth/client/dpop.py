"""DPoP (RFC 9449): a key per provider, a fresh proof per request, and the servers' nonces.

A proof is a JWT signed by the client's key (its public JWK in the header) over the request's method and
URL (without query or fragment), a unique `jti`, `iat`, and, when presenting a token, `ath` (the
token's SHA-256). A server that wants a nonce says `use_dpop_nonce` with a `DPoP-Nonce` header; the
latest nonce of each origin is remembered and put in the next proofs to it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import urlsplit, urlunsplit

from joserfc import jwt
from joserfc.jwk import ECKey

from .web import origin

__all__ = ["DPoPKey", "proof_nonce"]


def proof_nonce(proof: str) -> str | None:
    """The nonce one of our own proofs carried (read, not verified: we signed it)."""
    try:
        payload = proof.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    nonce = claims.get("nonce") if isinstance(claims, dict) else None
    return nonce if isinstance(nonce, str) else None


class DPoPKey:
    """An ES256 (P-256) key made when the provider is, never stored: tokens bound to it die with it."""

    alg = "ES256"

    def __init__(self) -> None:
        self._key = ECKey.generate_key("P-256")
        self.public_jwk = self._key.as_dict(private=False)
        self.thumbprint = self._key.thumbprint()
        self._nonces: dict[tuple[str, str], str] = {}

    def remember_nonce(self, url: str, nonce: str) -> None:
        self._nonces[origin(url)] = nonce

    def nonce_for(self, url: str) -> str | None:
        return self._nonces.get(origin(url))

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        parts = urlsplit(url)
        claims: dict[str, object] = {
            "jti": secrets.token_urlsafe(24),
            "htm": method.upper(),
            "htu": urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
            "iat": int(time.time()),
        }
        nonce = self.nonce_for(url)
        if nonce is not None:
            claims["nonce"] = nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        header = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public_jwk}
        return jwt.encode(header, claims, self._key, algorithms=[self.alg])
