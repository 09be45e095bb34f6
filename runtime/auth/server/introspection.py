"""`IntrospectionVerifier`: opaque (or any) access tokens checked by asking the authorization server
(RFC 7662 token introspection).

The answer must say `active: true`; `exp` and `nbf` are checked again here (with `leeway`), `aud` must
name this resource (RFC 8707) and `iss`, when configured, must match. The resource server authenticates
to the introspection endpoint with HTTP Basic (`client_id`, `client_secret`) when given.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from typing import Any

import httpx

from .fetch import fetch_json
from .principal import Principal
from .verify import InvalidToken, Remembered

__all__ = ["IntrospectionVerifier"]

log = logging.getLogger("mcpbind.auth")


class IntrospectionVerifier:
    """Verifies tokens by RFC 7662 introspection."""

    def __init__(
        self,
        *,
        endpoint: str,
        audience: str | Sequence[str] | None,
        client_id: str | None = None,
        client_secret: str | None = None,
        issuer: str | None = None,
        leeway: float = 60.0,
        timeout: float = 5.0,
        accept_any_audience: bool = False,
        http: httpx.AsyncClient | None = None,
        cache_size: int = 4096,
        cache_ttl: float = 0.0,
    ) -> None:
        """`audience`: this resource's URI; None only with `accept_any_audience=True`, which warns.
        `cache_ttl`: how long an active token is taken as active without asking again (at most
        `cache_size` tokens, never past `exp`); 0, the default, asks on every request, so that a
        revocation takes effect at once."""
        if audience is None:
            if not accept_any_audience:
                raise ValueError(
                    "audience is required (this resource's URI): accept_any_audience=True skips it"
                )
            message = "IntrospectionVerifier: the audience check is OFF: tokens for any service are accepted"
            warnings.warn(message, stacklevel=2)
            log.warning(message)
        self.endpoint = endpoint
        self.audiences = _audiences(audience)
        self.issuer = issuer
        self.leeway = leeway
        self.timeout = timeout
        self._auth = httpx.BasicAuth(client_id, client_secret or "") if client_id is not None else None
        self._http = http
        self._verified = Remembered(cache_size, cache_ttl)

    async def verify(self, token: str) -> Principal:
        principal = self._verified.get(token)
        if principal is None:
            principal = await self._introspect(token)
            self._verified.put(token, principal)
        return principal

    async def _introspect(self, token: str) -> Principal:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
        request: dict[str, Any] = {"data": {"token": token, "token_type_hint": "access_token"}}
        if self._auth is not None:
            request["auth"] = self._auth
        claims = await fetch_json(
            self._http, "POST", self.endpoint, timeout=self.timeout, what="introspection", **request
        )
        if claims.get("active") is not True:
            raise InvalidToken("the token is not active")
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if exp is not None and (not _number(exp) or exp + self.leeway < now):
            raise InvalidToken("the token has expired")
        if nbf is not None and (not _number(nbf) or nbf - self.leeway > now):
            raise InvalidToken("the token is not valid yet")
        if self.issuer is not None and claims.get("iss") != self.issuer:
            raise InvalidToken("the token's issuer is not accepted here")
        if self.audiences is not None:
            aud = claims.get("aud")
            named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            if not any(a in self.audiences for a in named):
                raise InvalidToken("the token was not issued for this resource")
        return Principal.from_claims(claims)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _audiences(audience: str | Sequence[str] | None) -> list[str] | None:
    return None if audience is None else [audience] if isinstance(audience, str) else list(audience)
