"""`JwtVerifier`: JWT access tokens (RFC 9068) checked against the authorization server's JWKS.

Checked: the signature, by a key of the issuer's JWKS named by `kid`, with an algorithm of the allowed
list (never `none`, never a symmetric one unless listed); `iss` exactly; `aud` naming this resource (RFC
8707); `exp` (required) and `nbf`/`iat`, with `leeway` seconds of clock skew. The JWKS is cached for
`jwks_ttl` seconds and fetched again at once when a token names a key it lacks (a rotation), but not
more often than once per `refresh_interval` seconds, so that tokens with made-up key ids cannot make
the server hammer the authorization server.
"""

from __future__ import annotations

import asyncio
import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any, Final

import httpx
from joserfc import jws
from joserfc import jwt as jose_jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from .fetch import fetch_json
from .principal import Principal
from .verify import InvalidToken, VerifierUnavailable

__all__ = ["JwtVerifier", "ASYMMETRIC"]

log = logging.getLogger("mcpbind.auth")

ASYMMETRIC: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""The algorithms accepted by default: public-key signatures only (a shared secret would let anyone
holding it mint tokens)."""


class JwtVerifier:
    """Verifies JWT access tokens of one issuer for one resource."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str] | None,
        jwks_uri: str | None = None,
        jwks: dict[str, Any] | None = None,
        algorithms: Sequence[str] = ASYMMETRIC,
        leeway: float = 60.0,
        jwks_ttl: float = 300.0,
        refresh_interval: float = 30.0,
        timeout: float = 5.0,
        accept_any_audience: bool = False,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """`audience`: this resource's canonical URI (what clients send as `resource`), or several. It
        may be None only with `accept_any_audience=True`, which warns: a token issued for another
        service would then be accepted here. `jwks` (a fixed key set) or `jwks_uri` (fetched)."""
        if "none" in algorithms:
            raise ValueError("the 'none' algorithm cannot be accepted")
        if audience is None:
            if not accept_any_audience:
                raise ValueError(
                    "audience is required (this resource's URI): accept_any_audience=True skips it"
                )
            message = "JwtVerifier: the audience check is OFF: tokens issued for any service are accepted"
            warnings.warn(message, stacklevel=2)
            log.warning(message)
        if jwks is None and jwks_uri is None:
            raise ValueError("give jwks_uri (or a fixed jwks)")
        self.issuer = issuer
        self.audiences = _audiences(audience)
        self.jwks_uri = jwks_uri
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self.jwks_ttl = jwks_ttl
        self.refresh_interval = refresh_interval
        self.timeout = timeout
        self._http = http
        self._keys: KeySet | None = KeySet.import_key_set(jwks) if jwks is not None else None  # type: ignore[arg-type]
        self._fetched = time.monotonic() if jwks is not None else float("-inf")
        self._lock = asyncio.Lock()
        claims: dict[str, Any] = {"iss": {"essential": True, "value": issuer}, "exp": {"essential": True}}
        if self.audiences is not None:
            claims["aud"] = {"essential": True, "values": self.audiences}
        self._claims = claims

    async def verify(self, token: str) -> Principal:
        try:
            compact = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError):
            raise InvalidToken("the token is not a JWT") from None
        header = compact.headers()
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise InvalidToken(f"the token's algorithm {alg!r} is not accepted")
        kid = header.get("kid")
        key = await self._key(kid if isinstance(kid, str) else None, alg)
        try:
            decoded = jose_jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except (JoseError, ValueError):
            raise InvalidToken("the token is malformed") from None
        claims = decoded.claims
        try:
            # The registry is cheap; a new one per call carries the current time.
            jose_jwt.JWTClaimsRegistry(leeway=int(self.leeway), **self._claims).validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("the token has expired") from None
        except MissingClaimError as exc:
            raise InvalidToken(f"the token lacks a claim: {exc.description}") from None
        except InvalidClaimError as exc:
            raise InvalidToken(f"the token's claim is not valid here: {exc.description}") from None
        except ClaimError as exc:
            raise InvalidToken(f"the token is not valid: {exc.description}") from None
        return Principal.from_claims(claims)

    async def _key(self, kid: str | None, alg: str) -> Any:
        """The key of the JWKS that `kid` names (the only key, if there is one and no kid is given)."""
        now = time.monotonic()
        keys = self._keys
        if keys is None and now - self._fetched <= self.refresh_interval:
            raise VerifierUnavailable("JWKS: the last fetch failed; not asked again yet")
        if keys is None or now - self._fetched > self.jwks_ttl:
            keys = await self._refresh(stale=self._keys)
        key = _find(keys, kid, alg)
        if key is None and self.jwks_uri is not None and now - self._fetched > self.refresh_interval:
            keys = await self._refresh(stale=keys)  # a key we do not know yet: the keys may have rotated
            key = _find(keys, kid, alg)
        if key is None:
            raise InvalidToken("the token is signed by a key the issuer does not publish")
        return key

    async def _refresh(self, stale: KeySet | None) -> KeySet:
        """Fetch the JWKS once, however many requests want it at the same moment. If the fetch fails, the
        keys known before go on being used (a brief outage of the authorization server does not lock
        everyone out); with none known, the request fails (503)."""
        async with self._lock:
            if self._keys is not stale and self._keys is not None:
                return self._keys  # another request fetched it meanwhile
            assert self.jwks_uri is not None
            try:
                data = await fetch_json(
                    self._client(), "GET", self.jwks_uri, timeout=self.timeout, what="JWKS"
                )
                if not isinstance(data.get("keys"), list):
                    raise VerifierUnavailable("JWKS: no 'keys' list")
                try:
                    keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
                except (JoseError, ValueError, TypeError, KeyError):
                    raise VerifierUnavailable("JWKS: a key is malformed") from None
            except VerifierUnavailable as exc:
                self._fetched = time.monotonic()  # no retry storm: the next try waits refresh_interval
                if stale is None:
                    raise
                log.warning("keeping the JWKS known before: %s", exc)
                return stale
            self._keys, self._fetched = keys, time.monotonic()
            return keys

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _find(keys: KeySet, kid: str | None, alg: str) -> Any:
    if kid is None:
        return keys.keys[0] if len(keys.keys) == 1 else None
    for key in keys.keys:
        if key.kid == kid:
            return key
    return None


def _audiences(audience: str | Sequence[str] | None) -> list[str] | None:
    return None if audience is None else [audience] if isinstance(audience, str) else list(audience)
