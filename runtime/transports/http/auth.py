"""The HTTP client transports' authorization hook: what to add to each request, what to do on a 401/403.

`HttpAuth` is the contract an authorization provider implements (mcpbind.auth.client's
`OAuthClientProvider` does: discovery, flows, DPoP); `BearerToken` adapts the older hook, a callable
returning a bearer token. The transports import nothing else of authorization, so the core stays free
of the `mcpbind[auth]` extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .connection11 import Response

__all__ = [
    "AUTHORIZATION_FAILED",
    "MAX_AUTH_ROUNDS",
    "AuthorizationFailed",
    "BearerToken",
    "HttpAuth",
    "RevisionAware",
    "as_http_auth",
    "send_again",
]

MAX_AUTH_ROUNDS: Final = 4
"""How many times one request is sent again after its authorization hook asked for it (the hook
bounds its own flows; this only stops a hook that would always say yes)."""

AUTHORIZATION_FAILED = {"authorization": "failed"}
"""The `data` of the error a request fails with when it could not be authorized (HTTP 401/403, or
a flow that failed): the era probe does not take it for an older server's answer."""


class AuthorizationFailed(Exception):
    """The request could not be authorized (discovery, registration or a grant failed, or the server
    kept refusing): the request that needed it fails with this message."""


@runtime_checkable
class HttpAuth(Protocol):
    async def headers(self, method: str, url: str) -> Mapping[str, str]:
        """The headers that authorize one request (`Authorization`, `DPoP`, ...), possibly none yet."""
        ...

    async def on_response(
        self,
        method: str,
        url: str,
        sent: Mapping[str, str],
        status: int,
        headers: Mapping[str, str],
        attempt: int,
    ) -> bool:
        """Called for a 401 or 403 answer, and for any answer carrying a `DPoP-Nonce`, with the headers
        the request was sent with and how many times it was sent again already (0: the first answer).
        True: send the request again (with fresh `headers()`). May raise AuthorizationFailed."""
        ...


@runtime_checkable
class RevisionAware(Protocol):
    """An `HttpAuth` that follows the negotiated revision's authorization text: the transport tells
    it the revision once negotiated (None again when a session is lost)."""

    def use_revision(self, revision: str | None) -> None: ...


class BearerToken:
    """A callable returning a bearer token (or None) as an `HttpAuth`; a refusal is final."""

    def __init__(self, token: Callable[[], Awaitable[str | None]]) -> None:
        self.token = token

    async def headers(self, method: str, url: str) -> Mapping[str, str]:
        token = await self.token()
        return {"authorization": f"Bearer {token}"} if token else {}

    async def on_response(
        self,
        method: str,
        url: str,
        sent: Mapping[str, str],
        status: int,
        headers: Mapping[str, str],
        attempt: int,
    ) -> bool:
        return False


def as_http_auth(auth: HttpAuth | Callable[[], Awaitable[str | None]] | None) -> HttpAuth | None:
    if auth is None or isinstance(auth, HttpAuth):
        return auth
    return BearerToken(auth)


async def send_again(
    auth: HttpAuth | None, method: str, url: str, sent: Mapping[str, str], response: Response, attempt: int
) -> bool:
    """Whether the hook wants this request sent again (after a flow, with a new DPoP nonce): asked
    for a 401/403 or an answer carrying a `DPoP-Nonce`, at most `MAX_AUTH_ROUNDS` times. Every
    request of every HTTP transport (POSTs, GET streams, their resumptions, the 2024-11-05 HTTP+SSE
    transport) goes through this one decision. The refused answer's body is read away first, so
    that the connection is reused. May raise AuthorizationFailed."""
    if auth is None or attempt >= MAX_AUTH_ROUNDS:
        return False
    if response.status not in (401, 403) and "dpop-nonce" not in response.headers:
        return False
    if not await auth.on_response(method, url, sent, response.status, response.headers, attempt):
        return False
    await response.read()
    return True
