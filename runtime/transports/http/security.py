"""Who may talk to the endpoint: `HttpSecurity` (limits, Host/Origin allow-lists), the bearer-token hook."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from ...errors import quoted
from ...protocol import inbound
from ...protocol.fields import Headers, text_of
from ...protocol.inbound import INVALID_REQUEST, Rejection
from ...protocol.request_state import PRINCIPAL
from .asgi import Scope, error_body, header, request_headers

if TYPE_CHECKING:
    from ...auth.server.principal import Principal
    from ...server.scopes import RequiredScopes

__all__ = [
    "TokenVerifier",
    "Guard",
    "HttpSecurity",
    "step_up",
    "refuse",
    "authenticate",
    "who",
    "principal_text",
]

TokenVerifier = Callable[[str], Awaitable[Any]]
"""Verifies a bearer token and returns the principal it stands for, or None to refuse (401)."""


class Guard(Protocol):
    """An OAuth 2.1 resource server in front of the endpoint (`mcpbind.auth.server.resource`)."""

    def document(self, path: str) -> bytes | None:
        """The metadata document served at `path` (RFC 9728 well-known paths), if any."""
        ...

    async def admit(self, method: str, headers: Mapping[bytes, str]) -> Principal | Rejection:
        """The verified caller of a request, or its refusal (401, 400, 403, 503 with `WWW-Authenticate`)."""
        ...

    def step_up(self, principal: Principal, required: frozenset[str]) -> Rejection:
        """The 403 `insufficient_scope` refusal naming the scopes to ask for."""
        ...


_LOOPBACK: Final = ("localhost", "127.0.0.1", "[::1]")
_CHALLENGE: Final = ((b"www-authenticate", b'Bearer realm="mcp"'),)
_HOSTS_SEEN: Final = 256
"""Host values whose verdict `refuse` keeps."""


@dataclass
class HttpSecurity:
    """Who may talk to the endpoint. The defaults suit a server bound to loopback."""

    allowed_hosts: tuple[str, ...] = _LOOPBACK
    """Host header values accepted (any port), against DNS rebinding; ("*",) accepts any."""
    allowed_origins: tuple[str, ...] = tuple(f"http://{h}" for h in _LOOPBACK) + tuple(
        f"https://{h}" for h in _LOOPBACK
    )
    """Origin values accepted (any port) when a request carries one; ("*",) accepts any."""
    max_body: int = 4 * 1024 * 1024
    """Bytes of a POST body; more gets 413."""
    body_timeout: float = 30.0
    """Seconds a POST's body may take to arrive once its headers have; a body not all there by then
    (a client sending it a byte at a time, or less than its `Content-Length` and then nothing) is
    answered 408 and its connection closed."""
    max_body_reads: int = 1024
    """POST bodies being read at once (requests whose headers are in and whose body is still coming);
    one more is refused at once with 503 and Retry-After."""
    max_sessions: int = 10_000
    """Stateful sessions at once; an `initialize` beyond gets 503 with Retry-After."""
    max_sessions_per_client: int | None = 100
    """Stateful sessions one client holds at once (None: no bound but `max_sessions`), so that one
    client looping `initialize` cannot take every place. The client is the principal when the
    endpoint authenticates (`verify_token`, `auth`), else the peer address the ASGI server gives
    (`scope["client"]`; an IPv6 address counts by its /64, and requests with no address are one
    client). At the cap, a client's `initialize` ends that client's own session idle the longest
    with nothing in use (no request being answered or running, no stream open): that session gets
    404 afterwards and its client opens a new one, as the spec has it; no other client is affected.
    If every one of its sessions is in use, the `initialize` gets 503 with Retry-After.

    Behind a reverse proxy, every anonymous client has the proxy's address, and they share one cap,
    unless the ASGI server is told the real one (uvicorn's `--proxy-headers` with
    `--forwarded-allow-ips` naming the proxy; `run_http(proxy_headers=True, forwarded_allow_ips=)`):
    do that, or raise the cap, set None, or authenticate.

    With several workers, it bounds each worker's table: the sessions a client opened on a worker or
    used there (taken up from a shared store), idle as that worker saw them; a session it ends is
    ended on every worker (deleted from the store), so a client holds at most workers x this many.

    Anonymous clients whose address is in `uncapped_networks` (loopback, by default) are not bounded
    by it: a process on this machine, a reverse proxy on it included, may speak for many clients."""
    uncapped_networks: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    """Peer addresses (networks, as `ipaddress.ip_network` reads them) whose anonymous clients
    `max_sessions_per_client` does not bound; () bounds every client. An authenticated client is
    bounded by its principal wherever it comes from."""
    session_idle_timeout: float = 3600.0
    max_streams_per_session: int = 64
    """Requests of one session answered at once (each holds a response open: a POST, or a GET
    stream); one more is refused at once with 503, Retry-After and a JSON-RPC error (-32000). Also
    the number of a session's unfinished streams kept for resumption."""
    max_stateless_requests: int = 4096
    """Stateless (2026-07-28) requests answered at once, all clients together; beyond, 503 as above."""
    max_replay_bytes: int = 8 * 1024 * 1024
    """Bytes of SSE events a session keeps for `Last-Event-ID` (the default event store's bound; the
    oldest events fall off first)."""
    max_unsent_bytes: int = 8 * 1024 * 1024
    """Bytes of one SSE stream's messages sent and not yet written to its client. Past it, a request's
    handler waits while its client reads the request's stream slowly, as over stdio; what nobody
    reads in time (a session's GET stream, or a request's stream whose client left) is let go of,
    since it is in the event store: the connection ends, and the client resumes with `Last-Event-ID`
    (as after any disconnect; resumption is bounded by `max_replay_bytes`)."""
    stalled_stream_timeout: float = 10.0
    """Seconds a request's handler may wait for room on an SSE stream whose client reads none of it
    (its queue at `max_unsent_bytes` and not shrinking) before the stream counts as stalled: a 2026
    `subscriptions/listen` on such a stream is then ended at its next notification, instead of each
    change leaving one more notification waiting for as long as the client holds the stream open."""
    verify_token: TokenVerifier | None = None
    """The authentication hook: with it, every request needs `Authorization: Bearer <token>`. What it
    returns is the principal (None or "" refuses the request: 401): return the same value for the same
    user on every request (its subject, say, not the token's expiry), since a stateless requestState is
    bound to it."""
    auth: Guard | None = None
    """The OAuth 2.1 resource server (`mcpbind.auth.server.resource.ProtectedResource`), in place of
    `verify_token`: metadata, token and DPoP verification, scopes, `Context.principal`."""

    @property
    def authenticates(self) -> bool:
        """Every request must carry a credential (`auth` or `verify_token`)."""
        return self.auth is not None or self.verify_token is not None

    anonymous: bool = field(default=True, init=False, repr=False, compare=False)
    """Neither `auth` nor `verify_token` is set (kept with them): what each request's way tests first,
    one attribute where `authenticates` is a call and two tests."""

    short_length: int = field(default=0, init=False, repr=False, compare=False)
    """Digits of `max_body` (kept with it): a `Content-Length` of fewer is within it, with no `int()`."""

    hosts_seen: dict[bytes | None, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    """The verdicts on Host values seen, as received (a client sends the same one every time), under
    the `allowed_hosts` of now: setting that list forgets them. Bounded (`_HOSTS_SEEN`)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "uncapped_networks":  # a wrong one is said here, not at a client's `initialize`
            import ipaddress

            for network in value:
                ipaddress.ip_network(network, strict=False)
        object.__setattr__(self, name, value)
        if name == "auth" or name == "verify_token":
            object.__setattr__(self, "anonymous", self.auth is None and self.verify_token is None)
        elif name == "max_body":
            object.__setattr__(self, "short_length", len(str(value)) if value >= 0 else 0)
        # (Not `self.__dict__`: read once, it would make every attribute of this object, which each
        # request reads, a dictionary's lookup.)
        elif name == "allowed_hosts" and getattr(self, "hosts_seen", None) is not None:
            self.hosts_seen.clear()  # reached under the list before

    def host_allowed(self, host: str) -> bool:
        if "*" in self.allowed_hosts:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in self.allowed_hosts or _listed(self.allowed_hosts, name, host)

    def origin_allowed(self, origin: str) -> bool:
        if "*" in self.allowed_origins:
            return True
        base = origin.rsplit(":", 1)[0] if origin.count(":") > 1 else origin
        return _listed(self.allowed_origins, base, origin)


def _listed(allowed: tuple[str, ...], name: str, full: str) -> bool:
    """`name` (or `full`, with its port) is in `allowed`, ignoring case as host names and schemes do
    (RFC 9110 4.2.3): the exact match, which is what well-behaved clients send, is tried first."""
    if name in allowed or full in allowed:
        return True
    name, full = name.lower(), full.lower()
    return any(entry.lower() in (name, full) for entry in allowed)


def refuse(security: HttpSecurity, headers: Headers) -> Rejection | None:
    """The refusal of a request whose Host or Origin is not allowed. (A request whose Host was allowed
    before, `hosts_seen`, and that has no Origin, as nearly all but browsers', needs no call.)"""
    raw = headers.get(b"host")
    allowed = security.hosts_seen.get(raw)
    if allowed is None:
        allowed = security.host_allowed(text_of(headers, b"host") or "")
        if len(security.hosts_seen) >= _HOSTS_SEEN:
            security.hosts_seen.clear()  # (a client making up Host values gains nothing)
        security.hosts_seen[raw] = allowed
    if not allowed:
        host = text_of(headers, b"host") or ""
        return Rejection(403, error_body(INVALID_REQUEST, f"Forbidden: host {quoted(host)} is not allowed"))
    origin = text_of(headers, b"origin")
    if origin is not None and not security.origin_allowed(origin):
        why = f"Forbidden: origin {quoted(origin)} is not allowed"
        return Rejection(403, error_body(INVALID_REQUEST, why))
    return None


async def authenticate(security: HttpSecurity, scope: Scope) -> Rejection | None:
    """Check the bearer token with `verify_token`; the principal it names goes to the scope."""
    if security.auth is not None:
        return await _admit_upgrade(security.auth, scope)
    auth = header(scope, b"authorization") or ""
    token = auth[7:] if auth[:7].lower() == "bearer " else ""
    if " " in token:  # no b64token (RFC 6750 2.1): two tokens, say, of a repeated header
        token = ""
    principal = await security.verify_token(token) if token and security.verify_token else None
    if principal is None or principal == "":  # "" would be the identity of no one: shared by all
        return Rejection(401, error_body(INVALID_REQUEST, "Unauthorized"), _CHALLENGE)
    scope["mcpbind.principal"] = principal
    return None


async def _admit_upgrade(auth: Guard, scope: Scope) -> Rejection | None:
    """A WebSocket upgrade (a GET) admitted by the resource server as any request is: its principal's
    identity goes to the scope as the principal (what sessions and requestStates are bound to), and
    the verified `Principal` as `mcpbind.caller` (`Context.principal`, the scopes tools require)."""
    admitted = await auth.admit("GET", request_headers(scope))
    if isinstance(admitted, Rejection):
        return admitted
    scope["mcpbind.principal"] = admitted.identity
    scope["mcpbind.caller"] = admitted
    return None


def who() -> str:
    """The principal of the request being served, as sessions keep it: a digest, "" when none."""
    principal = PRINCIPAL.get()
    return hashlib.sha256(principal.encode()).hexdigest() if principal else ""


def principal_text(principal: Any) -> str:
    """What `verify_token` returned, as text that names the same principal on every request (a dict
    of claims in a canonical order; anything else JSON cannot carry, by its `str`)."""
    if isinstance(principal, str):
        return principal
    return msgspec.json.encode(principal, order="sorted", enc_hook=str).decode()


def step_up(auth: Guard, caller: Principal, required: RequiredScopes, route: object) -> Rejection | None:
    """The 403 of a request whose tool, resource or prompt needs scopes `caller` lacks (read before the
    request reaches its handler, where HTTP can still say it)."""
    if not isinstance(route, inbound.Stateless | inbound.SessionMessage):
        return None  # batches and GET streams: the JSON-RPC error of `RequiredScopes.check`
    peek = route.peek
    params = peek.params
    if params is None:
        return None
    needed = required.of(peek.method, params.uri if peek.method == "resources/read" else params.name)
    if not needed or caller.scopes.issuperset(needed):
        return None
    return auth.step_up(caller, needed)
