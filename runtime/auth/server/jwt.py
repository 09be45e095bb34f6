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
from joserfc import jwt as jose_jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingAlgorithmError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import GuestProtocol, KeySet

from .fetch import fetch_json
from .principal import Principal
from .verify import InvalidToken, Remembered, VerifierUnavailable

__all__ = ["JwtVerifier", "ASYMMETRIC"]

log = logging.getLogger("mcpbind.auth")

ASYMMETRIC: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""The algorithms accepted by default: public-key signatures only (a shared secret would let anyone
holding it mint tokens)."""


class _UnknownKey(Exception):
    """The token names a key the cached JWKS lacks."""


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
        cache_size: int = 4096,
        cache_ttl: float = 60.0,
        token_types: Sequence[str] | None = None,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        """`audience`: this resource's canonical URI (what clients send as `resource`), or several. It
        may be None only with `accept_any_audience=True`, which warns: a token issued for another
        service would then be accepted here. `jwks` (a fixed key set) or `jwks_uri` (fetched).
        `cache_size`, `cache_ttl`: tokens already verified are remembered (at most `cache_size`, each
        for at most `cache_ttl` seconds and never past its `exp`), so a client's next requests skip the
        signature check; a new JWKS empties the cache. 0 turns it off. `token_types`: the `typ` header
        values accepted (`("at+jwt",)` for RFC 9068's strict rule; None, the default, accepts any, as many
        authorization servers still send `JWT`: the audience check is what keeps other JWTs out)."""
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
        self.token_types = (
            None if token_types is None else {t.lower().removeprefix("application/") for t in token_types}
        )
        self._verified = Remembered(cache_size, cache_ttl)
        self._http = http
        self._keys: KeySet | None = KeySet.import_key_set(jwks) if jwks is not None else None  # type: ignore[arg-type]
        self._fetched = time.monotonic() if jwks is not None else float("-inf")
        self._lock = asyncio.Lock()
        claims: dict[str, Any] = {"iss": {"essential": True, "value": issuer}, "exp": {"essential": True}}
        if self.audiences is not None:
            claims["aud"] = {"essential": True, "values": self.audiences}
        # Made once: it reads the clock on each validation.
        self._claims = jose_jwt.JWTClaimsRegistry(leeway=int(leeway), **claims)

    async def verify(self, token: str) -> Principal:
        principal = self._verified.get(token)
        if principal is None:
            principal = await self._verify(token)
            self._verified.put(token, principal)
        return principal

    async def _verify(self, token: str) -> Principal:
        keys = self._keys
        if keys is None or (self.jwks_uri is not None and time.monotonic() - self._fetched > self.jwks_ttl):
            await self._keys_now()
        try:
            try:
                # One parse: the key is looked up by the header's kid while the token is decoded.
                decoded = jose_jwt.decode(token, self._key_of, algorithms=self.algorithms)
            except _UnknownKey:
                if self.jwks_uri is None or time.monotonic() - self._fetched <= self.refresh_interval:
                    raise
                await self._refresh(stale=self._keys)  # a key not known yet: the keys may have rotated
                decoded = jose_jwt.decode(token, self._key_of, algorithms=self.algorithms)
        except _UnknownKey:
            raise InvalidToken("the token is signed by a key the issuer does not publish") from None
        except (UnsupportedAlgorithmError, MissingAlgorithmError):
            raise InvalidToken("the token's algorithm is not accepted") from None
        except BadSignatureError:
            raise InvalidToken("the token's signature does not verify") from None
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise InvalidToken("the token is not a well-formed JWT") from None
        if self.token_types is not None:
            typ = decoded.header.get("typ")
            if not isinstance(typ, str) or typ.lower().removeprefix("application/") not in self.token_types:
                raise InvalidToken("the token's type (typ) is not accepted")
        claims = decoded.claims
        try:
            self._claims.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("the token has expired") from None
        except MissingClaimError as exc:
            raise InvalidToken(f"the token lacks a claim: {exc.description}") from None
        except InvalidClaimError as exc:
            raise InvalidToken(f"the token's claim is not valid here: {exc.description}") from None
        except ClaimError as exc:
            raise InvalidToken(f"the token is not valid: {exc.description}") from None
        return Principal.from_claims(claims)

    def _key_of(self, token: GuestProtocol) -> Any:
        """The key of the JWKS the token's `kid` names (the only key, if there is one and no kid)."""
        keys = self._keys
        kid = token.headers().get("kid")
        if keys is not None:
            if kid is None:
                if len(keys.keys) == 1:
                    return keys.keys[0]
            else:
                for key in keys.keys:
                    if key.kid == kid:
                        return key
        raise _UnknownKey

    async def _keys_now(self) -> None:
        """Fetch the JWKS when none is known yet or it is older than `jwks_ttl`; after a failed fetch,
        not again before `refresh_interval` (no retry storm while the authorization server is down)."""
        if self._keys is None and time.monotonic() - self._fetched <= self.refresh_interval:
            raise VerifierUnavailable("JWKS: the last fetch failed; not asked again yet")
        await self._refresh(stale=self._keys)

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
            self._verified.clear()  # a key may have been withdrawn: what it signed is checked again
            return keys

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _audiences(audience: str | Sequence[str] | None) -> list[str] | None:
    return None if audience is None else [audience] if isinstance(audience, str) else list(audience)
