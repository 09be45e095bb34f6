"""`DpopChecker`: DPoP proofs (RFC 9449) checked on each request that presents a DPoP-bound token.

A proof is a JWT of type `dpop+jwt`, signed (asymmetric algorithms only) by the public key in its own
`jwk` header. Checked: the signature; `htm` is the request's method; `htu` is this resource's URI
(without query or fragment); `iat` is within `max_age` seconds of now; `jti` was not seen before (a
bounded replay cache remembers each for as long as its proof could be accepted); `ath` is the hash of
the access token presented; and the key's thumbprint is the token's `cnf.jkt`. Digests are compared in
constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

__all__ = ["DpopChecker", "InvalidProof", "NonceRequired", "DPOP_ALGORITHMS"]

DPOP_ALGORITHMS: Final = ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA")
MAX_PROOF: Final = 8192
"""Bytes of a proof read at most (a proof carries one public key and a few claims)."""


class InvalidProof(Exception):
    """The DPoP proof is not acceptable; the message says why (`invalid_dpop_proof`)."""


class NonceRequired(InvalidProof):
    """The proof lacks the server's current nonce (`use_dpop_nonce`): send it again with `nonce`."""

    def __init__(self, message: str, nonce: str) -> None:
        super().__init__(message)
        self.nonce = nonce


class DpopChecker:
    """Checks DPoP proofs for one resource and remembers the `jti`s it has accepted."""

    def __init__(
        self,
        *,
        algorithms: Sequence[str] = DPOP_ALGORITHMS,
        max_age: float = 300.0,
        max_remembered: int = 100_000,
        nonces: bool = False,
        nonce_lifetime: float = 300.0,
    ) -> None:
        """`max_age`: how far `iat` may be from now, either way (clock skew included). `max_remembered`:
        the most `jti`s kept; when full, a new proof is refused rather than an old `jti` forgotten
        early (so a replay can never get through). `nonces`: proofs must carry a nonce this server
        gave (RFC 9449 9: 401 `use_dpop_nonce` with a `DPoP-Nonce` header); a nonce is good for
        between one and two `nonce_lifetime`s, and needs no memory (an HMAC of its time window)."""
        if "none" in algorithms or any(a.startswith("HS") for a in algorithms):
            raise ValueError("DPoP proofs are signed with asymmetric algorithms only")
        self.algorithms = list(algorithms)
        self.max_age = max_age
        self.max_remembered = max_remembered
        self._seen: OrderedDict[str, float] = OrderedDict()
        """jti -> when it may be forgotten, oldest first."""
        self.nonces = nonces
        self.nonce_lifetime = nonce_lifetime
        self._nonce_key = os.urandom(32)

    def nonce(self) -> str:
        """The nonce proofs should carry now."""
        return self._nonce_for(int(time.time() // self.nonce_lifetime))

    def _nonce_for(self, window: int) -> str:
        mac = hmac.new(self._nonce_key, str(window).encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(mac).decode()

    def _nonce_ok(self, nonce: object) -> bool:
        if not isinstance(nonce, str):
            return False
        window = int(time.time() // self.nonce_lifetime)
        return any(hmac.compare_digest(nonce, self._nonce_for(w)) for w in (window, window - 1))

    def check(self, proof: str, *, method: str, url: str, token: str, jkt: str | None) -> None:
        """Raise `InvalidProof` unless `proof` is a fresh proof for `method` on `url`, for `token`, by the
        key the token is bound to (`jkt`)."""
        if len(proof) > MAX_PROOF:
            raise InvalidProof("the DPoP proof is too large")
        try:
            compact = jws.extract_compact(proof.encode("ascii"))
            header = compact.headers()
        except (JoseError, ValueError, UnicodeError):
            raise InvalidProof("the DPoP proof is not a JWT") from None
        if header.get("typ") != "dpop+jwt":
            raise InvalidProof("the DPoP proof's typ is not dpop+jwt")
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidProof(f"the DPoP proof's algorithm {alg!r} is not accepted")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk or "p" in jwk or "k" in jwk:
            raise InvalidProof("the DPoP proof carries no public key")
        try:
            key = JWKRegistry.import_key(jwk)
            jws.deserialize_compact(proof, key, algorithms=[alg])
        except JoseError:
            raise InvalidProof("the DPoP proof's signature does not verify") from None
        except (ValueError, TypeError, KeyError):
            raise InvalidProof("the DPoP proof's key is malformed") from None
        try:
            claims: Any = json.loads(compact.payload)
        except ValueError:
            raise InvalidProof("the DPoP proof's claims are not JSON") from None
        if not isinstance(claims, dict):
            raise InvalidProof("the DPoP proof's claims are not an object")
        if claims.get("htm") != method:
            raise InvalidProof("the DPoP proof is for another method")
        htu = claims.get("htu")
        try:
            same_url = isinstance(htu, str) and _plain(htu) == _plain(url)
        except ValueError:  # a port that is no number
            same_url = False
        if not same_url:
            raise InvalidProof("the DPoP proof is for another URL")
        iat = claims.get("iat")
        now = time.time()
        if not isinstance(iat, int | float) or isinstance(iat, bool) or abs(now - iat) > self.max_age:
            raise InvalidProof("the DPoP proof is too old or from the future")
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(ath, _hash(token)):
            raise InvalidProof("the DPoP proof is not for this access token")
        if jkt is None or not hmac.compare_digest(key.thumbprint(), jkt):
            raise InvalidProof("the DPoP proof is signed by a key the token is not bound to")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise InvalidProof("the DPoP proof has no usable jti")
        if self.nonces and not self._nonce_ok(claims.get("nonce")):
            raise NonceRequired("the DPoP proof needs this server's nonce", self.nonce())
        self._remember(jti, now)

    def _remember(self, jti: str, now: float) -> None:
        seen = self._seen
        while seen:  # forget what could no longer be accepted anyway
            oldest, until = next(iter(seen.items()))
            if until > now:
                break
            del seen[oldest]
        if jti in seen:
            raise InvalidProof("the DPoP proof was used before (replay)")
        if len(seen) >= self.max_remembered:
            raise InvalidProof("too many DPoP proofs in flight; retry with a new proof later")
        seen[jti] = now + 2 * self.max_age  # iat may be max_age ahead of now: keep it that long past


def _hash(token: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def _plain(url: str) -> tuple[str, str, str]:
    """A URL as RFC 9449 4.3 compares it: without query and fragment, scheme and host in lower case,
    the default port dropped."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port
    scheme = parts.scheme.lower()
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    return scheme, host, urlunsplit(("", "", parts.path or "/", "", ""))
