"""Streamable HTTP: an ASGI application serving one MCP endpoint, both protocol eras, secure by default.

    app = server.http_app()              # mount it in any ASGI server or framework
    server.run_http(host="127.0.0.1", port=8000)

Routing, per POST: a body that is `initialize` opens a stateful session (a random `Mcp-Session-Id`);
a request carrying `Mcp-Session-Id` belongs to that session; a request whose `MCP-Protocol-Version` is a
stateless revision (2026-07-28) is served on its own, after its `Mcp-Method`/`Mcp-Name` headers are
checked against the body. Each request is answered with JSON when its handler sends nothing before the
result, and otherwise upgraded to an SSE stream carrying its notifications (and, on stateful revisions,
its server->client requests) before the result. Stateful sessions also have a GET stream for messages
that belong to no request, resumable with `Last-Event-ID` from a bounded in-memory event store.

Security: a request with an `Origin` that is not allowed gets 403, a `Host` that is not allowed gets 403
(DNS rebinding), bodies over `max_body` get 413; sessions are bounded in number and expire when idle.
Requests answered at once are bounded (per session, and stateless ones all together): one more gets 503
with Retry-After at once, never a wait. Events kept for resumption are bounded in bytes. With
`verify_token`, a session and a sealed requestState are their principal's alone. (All in `HttpSecurity`.)
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import secrets
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, Protocol

import msgspec

from ... import wire
from ...aio import eager
from ...aio.peer import ROUTE, Peer
from ...protocol import jsonrpc, revisions
from ...protocol.endpoint import IncomingRequest
from ...protocol.headers import (
    InvalidHeaderAnnotation,
    Peek,
    PeekMeta,
    PeekParams,
    decode_value,
    param_headers,
    render,
    value_at,
)
from ...protocol.headers import peek as peek_message
from ...protocol.request_state import PRINCIPAL

if TYPE_CHECKING:
    from ...server.core import Server, _Connection

__all__ = [
    "HttpApp",
    "HttpSecurity",
    "TokenVerifier",
    "SessionState",
    "SessionStore",
    "MemorySessionStore",
    "EventStore",
    "MemoryEventStore",
]

log = logging.getLogger("mcpbind.http")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
TokenVerifier = Callable[[str], Awaitable[Any]]
"""Verifies a bearer token and returns the principal it stands for, or None to refuse (401)."""

HEADER_MISMATCH: Final = -32020
_MAX_IDLE: Final = 64
"""Stateless connections kept for reuse."""
_STATE_CHANGES: Final = frozenset(
    {"notifications/initialized", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}
)
_KEEPALIVE: Final = b":\r\n\r\n"
_SSE_HEADERS: Final = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_META_VERSION: Final = revisions.META_VERSION
_LOOPBACK: Final = ("localhost", "127.0.0.1", "[::1]")


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
    max_sessions: int = 10_000
    """Stateful sessions at once; an `initialize` beyond gets 503 with Retry-After."""
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
    verify_token: TokenVerifier | None = None
    """The authentication hook: with it, every request needs `Authorization: Bearer <token>`. What it
    returns is the principal: return the same value for the same user on every request (its subject,
    say, not the token's expiry), since a stateless requestState is bound to it."""

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


class _Mailbox:
    """The queue of one stream: a deque, and a future only while its one reader waits (an
    asyncio.Queue per request cost a tenth of answering a stateless call)."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: deque[tuple[bytes, bool]] = deque()
        self.waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: tuple[bytes, bool]) -> None:
        self.items.append(item)
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    def get_nowait(self) -> tuple[bytes, bool]:
        return self.items.popleft()

    async def get(self) -> tuple[bytes, bool]:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.popleft()


class _Stream:
    """One SSE stream (a POST's response stream, or a session's GET stream) and its event ids.

    Messages queue here whether or not a connection is writing the stream out; on a stateful session
    (`store` set) each event sent is kept, so that a client that lost the connection (or was told to
    poll) resumes with `Last-Event-ID` and misses nothing.
    """

    __slots__ = ("closed", "gone", "id", "owner", "poll_retry", "queue", "reading", "seq", "status", "store")
    _ids: ClassVar[Iterator[int]] = itertools.count(1)

    def __init__(self, store: EventStore | None) -> None:
        # Only a session's streams are named (event ids, resumption); a stateless one never is.
        self.id = f"s{next(self._ids)}" if store is not None else ""
        self.queue = _Mailbox()
        self.store = store
        self.seq = 0
        self.closed = False
        """No more messages: the final one was sent, or the stream was dropped."""
        self.gone = False
        """The connection writing the stream out went away."""
        self.reading = False
        """A response (its POST, or a GET resuming it) is reading the stream: no other may."""
        self.poll_retry: int | None = None
        """Set to close the connection (not the stream) after telling the client to poll in N ms."""
        self.status = 200
        """The HTTP status of an answer sent as JSON (400 when the message itself was refused)."""
        self.owner: dict[str, _Stream] | None = None
        """Where its session keeps it for resumption (a dict, not a callback: no reference cycle,
        so a finished stream is freed at once instead of by the garbage collector)."""

    def put(self, data: bytes, final: bool = False) -> None:
        if not self.closed:
            self.queue.put_nowait((data, final))

    def poll(self, retry_ms: int) -> None:
        """Close the current connection once what is queued is sent; the client reconnects after
        `retry_ms` with `Last-Event-ID` (2025-11-25 SSE polling). Streams without ids ignore it."""
        if self.store is not None:
            self.poll_retry = retry_ms
            self.queue.put_nowait((b"", False))

    def event(self, data: bytes) -> bytes:
        """Frame `data` as an SSE event, with an id when the stream is resumable."""
        self.seq += 1
        if self.store is None:
            return b"event: message\r\ndata: " + data + b"\r\n\r\n"
        self.store.append(self.id, self.seq, data)
        return _framed(self.id, self.seq, data)

    def prime(self) -> bytes:
        """An event with an id and no data: the client can resume from it before anything is sent."""
        return f"id: {self.id}-{self.seq}\r\ndata:\r\n\r\n".encode()


def _framed(stream: str, seq: int, data: bytes) -> bytes:
    return b"id: %s-%d\r\nevent: message\r\ndata: %s\r\n\r\n" % (stream.encode(), seq, data)


class SessionState(msgspec.Struct):
    """What a stateful session is, apart from its open streams: enough for another worker to go on."""

    revision: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any]
    initialized: bool = False
    log_level: str | None = None
    subscriptions: list[str] = msgspec.field(default_factory=list)
    principal: str = ""
    """Who opened the session (a digest of the principal `verify_token` returned; "" without it):
    the session is no one else's."""


class SessionStore(Protocol):
    """Where stateful sessions live between requests. Give every worker the same store (a database,
    a cache) and a request may land on any of them; the default keeps sessions in this process."""

    async def load(self, session_id: str) -> SessionState | None: ...

    async def save(self, session_id: str, state: SessionState) -> None: ...

    async def delete(self, session_id: str) -> None: ...


class MemorySessionStore:
    def __init__(self) -> None:
        self._states: dict[str, bytes] = {}

    async def load(self, session_id: str) -> SessionState | None:
        data = self._states.get(session_id)
        return None if data is None else msgspec.json.decode(data, type=SessionState)

    async def save(self, session_id: str, state: SessionState) -> None:
        self._states[session_id] = msgspec.json.encode(state)

    async def delete(self, session_id: str) -> None:
        self._states.pop(session_id, None)


class EventStore(Protocol):
    """Replay of a session's SSE events for `Last-Event-ID` (bounded: old events fall off)."""

    def append(self, stream: str, seq: int, data: bytes) -> None: ...

    def after(self, last_event_id: str) -> tuple[str, list[tuple[int, bytes]]] | None: ...


class _ErrorCode(msgspec.Struct):
    code: int = 0


class _ErrorPeek(msgspec.Struct):
    error: _ErrorCode | None = None


_error_peek = msgspec.json.Decoder(_ErrorPeek).decode
_peek_params = msgspec.json.Decoder(PeekParams).decode
#: On the stateless wire an error answer carries its HTTP status (2026-07-28 server validation).
_ERROR_STATUS: Final = {-32600: 400, -32602: 400, -32020: 400, -32021: 400, -32022: 400, -32601: 404}


_UNKNOWN: Final[Any] = object()


def _ended(stream: _Stream, session: _Session | None) -> None:
    """A POST's stream has its final message: it is closed, and no longer kept for resumption."""
    if session is not None:
        session.open_streams.pop(stream.id, None)
    stream.closed = True


def _json_status(stream: _Stream, session: _Session | None, answer: bytes) -> int:
    """The HTTP status of a final message sent as the POST's JSON body."""
    return stream.status if session is not None else _stateless_status(answer, stream.status)


def _stateless_status(answer: bytes, status: int) -> int:
    """The HTTP status of a stateless JSON answer: 200 for a result, 400/404 for protocol errors."""
    if status != 200 or b'"error"' not in answer:
        return status
    try:
        error = _error_peek(answer).error
    except msgspec.DecodeError:
        return status
    return _ERROR_STATUS.get(error.code, status) if error is not None else status


def _event_id(last_event_id: str) -> tuple[str, int] | None:
    """A `Last-Event-ID` of ours split into stream and sequence number; None for anything else."""
    stream, _, seq = last_event_id.rpartition("-")
    if not stream or not (seq.isascii() and seq.isdigit()):  # isdigit alone takes "²", int() does not
        return None
    return stream, int(seq)


class MemoryEventStore:
    """A session's SSE events kept in memory for `Last-Event-ID`, bounded by bytes and by count: the
    oldest fall off first, and an event larger than the whole bound is never kept."""

    _OVERHEAD: Final = 100
    """What keeping an event costs beyond its data (the tuple, the int, the deque slot), in bytes."""

    def __init__(self, max_bytes: int = 8 * 1024 * 1024, max_events: int = 1000) -> None:
        self.max_bytes = max_bytes
        self.max_events = max_events
        self.events: deque[tuple[str, int, bytes]] = deque()
        self.size = 0

    def append(self, stream: str, seq: int, data: bytes) -> None:
        cost = len(data) + self._OVERHEAD
        if cost > self.max_bytes:
            return  # could never be replayed without dropping everything else
        events = self.events
        events.append((stream, seq, data))
        self.size += cost
        while self.size > self.max_bytes or len(events) > self.max_events:
            self.size -= len(events.popleft()[2]) + self._OVERHEAD

    def after(self, last_event_id: str) -> tuple[str, list[tuple[int, bytes]]] | None:
        parsed = _event_id(last_event_id)
        if parsed is None:
            return None
        stream, after = parsed
        return stream, [(s, d) for (st, s, d) in self.events if st == stream and s > after]


class _RoutedTransport:
    """The peer's transport: frames go to the stream of the request being served, else the GET stream.

    It holds its session weakly: the session holds the connection, which holds this, and a cycle would
    keep an ended session (and what its streams hold) until the garbage collector's next full pass."""

    def __init__(self, session: _Session | None) -> None:
        self._session = None if session is None else weakref.ref(session)

    @property
    def session(self) -> _Session | None:
        return None if self._session is None else self._session()

    async def read(self) -> bytes | None:  # HTTP feeds the peer directly
        return None

    async def write(self, data: bytes) -> None:
        route = ROUTE.get()
        if isinstance(route, _Stream):
            route.put(data)
        else:
            session = self.session
            if session is not None:
                session.unrouted(data)

    async def close(self) -> None:
        return None


class _HttpPeer(Peer):
    async def refuse(self, reply: bytes) -> None:
        route = ROUTE.get()
        if isinstance(route, _Stream):
            # The message itself was refused: an HTTP error, answered at once. -32000 is the peer's
            # "Server busy" (too many requests waiting): try again later, not a bad request.
            route.status = 503 if b'"code":-32000' in reply else 400
            route.put(reply, final=True)
        else:
            await self.send(reply)

    async def respond_batch(self, reply: bytes | None) -> None:
        route = ROUTE.get()
        if isinstance(route, _Stream):
            route.put(reply or b"", final=True)
        elif reply is not None:
            await self.send(reply)

    def abandoned(self, event: IncomingRequest) -> None:
        route = ROUTE.get()
        if isinstance(route, _Stream):
            route.put(b"", final=True)  # no answer will come: end the request's stream
            if route.owner is not None:
                route.owner.pop(route.id, None)  # and nothing is left to resume

    async def respond(self, event: IncomingRequest, reply: bytes) -> None:
        route = ROUTE.get()
        if isinstance(route, _Stream):
            route.put(reply, final=True)
        else:
            await self.send(reply)


@dataclass
class _Session:
    id: str
    conn: _Connection
    store: EventStore = field(default_factory=MemoryEventStore)
    get_stream: _Stream | None = None
    principal: str = ""
    """Whose session it is (`SessionState.principal`)."""
    streams: int = 0
    """Responses open for the session's requests (POSTs being answered, GET streams)."""
    last_seen: float = field(default_factory=time.monotonic)

    backlog: deque[bytes] = field(default_factory=lambda: deque(maxlen=100))
    open_streams: dict[str, _Stream] = field(default_factory=dict)
    """POST streams still waiting for their final message (resumable with Last-Event-ID)."""

    def unrouted(self, data: bytes) -> None:
        """A message that belongs to no request: the GET stream's, or kept (bounded) until one opens."""
        if self.get_stream is not None and not self.get_stream.closed:
            self.get_stream.put(data)
        else:
            self.backlog.append(data)


def _headers(scope: Scope) -> dict[bytes, str]:
    """The request's headers as a dict, read once per request (a request asks for a dozen)."""
    headers: dict[bytes, str] | None = scope.get("mcpbind.headers")
    if headers is None:
        headers = scope["mcpbind.headers"] = {}
        for k, v in scope["headers"]:  # a loop, not a comprehension: no frame of its own (3.11)
            headers[k] = v.decode("latin-1").strip(" \t")  # RFC 9110 OWS
    return headers


def _header(scope: Scope, name: bytes) -> str | None:
    return _headers(scope).get(name)


_SINGLE: Final = (b"mcp-method", b"mcp-name", b"mcp-session-id", b"mcp-protocol-version", b"last-event-id")


def _duplicated(raw: list[tuple[bytes, bytes]]) -> str | None:
    """An MCP header the request carries more than once (which of two values is meant? refused)."""
    seen: set[bytes] = set()
    for name, _ in raw:
        if name in seen and (name in _SINGLE or name.startswith(b"mcp-param-")):
            return name.decode("latin-1")
        seen.add(name)
    return None


_accepts_cache: dict[str, tuple[bool, bool]] = {}


def _accepts(accept: str) -> tuple[bool, bool]:
    """Whether `accept` takes application/json, and text/event-stream (RFC 9110 12.5.1: media ranges,
    `type/*` and `*/*`, the most specific range deciding, q=0 meaning "not acceptable"). Clients send
    the same one or two values again and again: each is worked out once."""
    known = _accepts_cache.get(accept)
    if known is not None:
        return known
    ranges: list[tuple[str, str, int, float]] = []
    for item in accept.split(","):
        kind, *params = item.split(";")
        main, _, sub = kind.strip().lower().partition("/")
        if not main or not sub:
            continue  # not a media range
        q, extra = 1.0, 0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() != "q":
                extra += 1
                continue
            try:
                q = float(value.strip())
            except ValueError:
                q = -1.0
        if 0.0 <= q <= 1.0:
            ranges.append((main, sub, extra, q))
    known = (_quality(ranges, "application", "json") > 0, _quality(ranges, "text", "event-stream") > 0)
    if len(_accepts_cache) >= 256:
        _accepts_cache.clear()  # bounded: Accept is the client's to choose
    _accepts_cache[accept] = known
    return known


def _quality(ranges: list[tuple[str, str, int, float]], main: str, sub: str) -> float:
    """The weight the most specific range matching `main/sub` gives it (0 when none matches)."""
    best, weight = -1, 0.0
    for range_main, range_sub, extra, q in ranges:
        if range_main == "*" and range_sub == "*":
            rank = 0
        elif range_main != main:
            continue
        elif range_sub == "*":
            rank = 1
        elif range_sub == sub:
            rank = 2 + (extra > 0)
        else:
            continue
        if rank > best:
            best, weight = rank, q
    return weight


def _who() -> str:
    """The principal of the request being served, as sessions keep it: a digest, "" when none."""
    principal = PRINCIPAL.get()
    return hashlib.sha256(principal.encode()).hexdigest() if principal else ""


def _principal_text(principal: Any) -> str:
    """What `verify_token` returned, as text that names the same principal on every request (a dict
    of claims in a canonical order; anything else JSON cannot carry, by its `str`)."""
    if isinstance(principal, str):
        return principal
    return msgspec.json.encode(principal, order="sorted", enc_hook=str).decode()


def _error_body(code: int, message: str, rid: Any = None, data: Any = msgspec.UNSET) -> bytes:
    """An error answer; `rid` as read off the body, echoed only if it is a valid request id."""
    return jsonrpc.encode_error(rid if jsonrpc.valid_id(rid) else None, code, message, data)


_RETRY: Final = ((b"retry-after", b"1"),)


async def _busy(send: Send, rid: Any, why: str) -> None:
    """Refuse a request at once, without queueing it: the client may try again shortly."""
    await _respond(send, 503, _error_body(-32000, f"Server busy: {why}", rid), _RETRY)


async def _no_answer(send: Send) -> None:
    """The response to a POSTed request that was cancelled before it answered: an SSE stream that ends
    with no event. A request's POST is answered with JSON or an event stream, whatever becomes of it
    (clients refuse any other content type), and the spec sends no answer to a cancelled request."""
    await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
    await send({"type": "http.response.body", "body": b""})


async def _respond(
    send: Send,
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: bytes | None = b"application/json",
) -> None:
    head = [(b"content-length", str(len(body)).encode()), *headers]
    if body and content_type is not None:
        head.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


class HttpApp:
    """The ASGI application of a `Server`'s MCP endpoint."""

    def __init__(
        self,
        server: Server,
        *,
        path: str = "/mcp",
        security: HttpSecurity | None = None,
        json_response: bool = False,
        keepalive: float = 15.0,
        session_store: SessionStore | None = None,
        event_store: Callable[[], EventStore] | None = None,
    ) -> None:
        self.server = server
        self.session_store: SessionStore = session_store or MemorySessionStore()
        self.path = path
        self._path = path.rstrip("/")
        self.security = security or HttpSecurity()
        self.event_store = event_store or (lambda: MemoryEventStore(self.security.max_replay_bytes))
        self._stateless_running = 0
        self.json_response = json_response
        self.keepalive = keepalive
        self.sessions: dict[str, _Session] = {}
        self._closing: set[asyncio.Future[Any]] = set()
        self._swept = time.monotonic()
        self._params: dict[str, tuple[Any, dict[str, tuple[str, ...]]]] = {}
        self._typed: dict[tuple[str, str, bool], Callable[[bytes], Any] | None] = {}
        self._idle: list[_Connection] = []

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path != self._path and path.rstrip("/") != self._path:
            await _respond(send, 404, b"Not Found", content_type=b"text/plain")
            return
        refusal = self._refuse(scope, _headers(scope))
        principal = None
        if refusal is None and self.security.verify_token is not None:
            refusal = await self._authenticate(scope)
            if refusal is None:
                # What this user's requests seal (requestState) opens for this user alone.
                principal = PRINCIPAL.set(_principal_text(scope["mcpbind.principal"]))
        if refusal is not None:
            status, body, extra = refusal
            await _respond(send, status, body, extra)
            return
        try:
            method = scope["method"]
            if method == "POST":
                await self._post(scope, receive, send)
            elif method == "GET":
                await self._get(scope, receive, send)
            elif method == "DELETE":
                await self._delete(scope, send)
            else:
                await _respond(send, 405, b"", [(b"allow", b"GET, POST, DELETE")])
        finally:
            if principal is not None:
                PRINCIPAL.reset(principal)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for session in list(self.sessions.values()):
                    await self._end(session, "the server is shutting down")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _refuse(
        self, scope: Scope, headers: dict[bytes, str]
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
        sec = self.security
        if len(headers) != len(scope["headers"]):  # some header is repeated (rare: only then, a search)
            twice = _duplicated(scope["headers"])
            if twice is not None:
                why = f"Bad Request: the {twice} header is sent more than once"
                return 400, _error_body(-32600, why), []
        host = headers.get(b"host") or ""
        if not sec.host_allowed(host):
            return 403, _error_body(-32600, f"Forbidden: host {host!r} is not allowed"), []
        origin = headers.get(b"origin")
        if origin is not None and not sec.origin_allowed(origin):
            return 403, _error_body(-32600, f"Forbidden: origin {origin!r} is not allowed"), []
        return None

    async def _authenticate(self, scope: Scope) -> tuple[int, bytes, list[tuple[bytes, bytes]]] | None:
        auth = _header(scope, b"authorization") or ""
        token = auth[7:] if auth[:7].lower() == "bearer " else ""
        principal = await self.security.verify_token(token) if token and self.security.verify_token else None
        if principal is None:
            return 401, _error_body(-32600, "Unauthorized"), [(b"www-authenticate", b'Bearer realm="mcp"')]
        scope["mcpbind.principal"] = principal
        return None

    # -- POST ---------------------------------------------------------------------------------------

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body; None if the client left, b"" if it is over `max_body`."""
        message = await receive()
        if message["type"] == "http.request" and not message.get("more_body", False):
            body: bytes = message.get("body", b"")  # the usual case: all of it in one message
            return body if len(body) <= self.security.max_body else b""
        chunks: list[bytes] = []
        size = 0
        while True:
            if message["type"] == "http.disconnect":
                return None
            body = message.get("body", b"")
            size += len(body)
            if size > self.security.max_body:
                return b""
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = _headers(scope)
        accept = headers.get(b"accept") or ""
        if (_accepts_cache.get(accept) or _accepts(accept)) != (True, True):
            await _respond(
                send,
                406,
                _error_body(
                    -32600, "Not Acceptable: Accept must list application/json and text/event-stream"
                ),
            )
            return
        content_type = headers.get(b"content-type") or ""
        if content_type != "application/json" and content_type.split(";")[0].strip().lower() != (
            "application/json"
        ):
            await _respond(send, 415, _error_body(-32600, "Unsupported Media Type: send application/json"))
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.security.max_body:
            await _respond(
                send, 413, _error_body(-32600, f"Payload Too Large: over {self.security.max_body} bytes")
            )
            return
        body = await self._read_body(receive)
        if body is None:
            return
        if body == b"" and length != "0":
            await _respond(
                send, 413, _error_body(-32600, f"Payload Too Large: over {self.security.max_body} bytes")
            )
            return
        session_id = headers.get(b"mcp-session-id")
        version = headers.get(b"mcp-protocol-version")
        now = time.monotonic()
        if now - self._swept > 60.0:  # idle sessions are ended at most a minute after their timeout
            self._swept = now
            self._expire()
        request: jsonrpc.Request | None = None
        peek: Peek | list[Any] | None = None
        try:
            if body[:1] == b"{" and version is not None:
                peek = self._decode_whole(body, version, headers)
            if peek is None and body[:1] == b"{":
                # The common case, one request: its envelope is read once, its params left raw for the
                # handler, and only what routing and the headers need is peeked at. Anything else (a
                # notification, a response, a malformed message) is peeked at as a whole below, and
                # its route names what is wrong with it.
                if not body.isascii():
                    # Params left raw are not read yet: their UTF-8 is checked here, so that a bad
                    # byte is a parse error of the message, not of its params. (ASCII, the usual
                    # case, is valid UTF-8: a scan eight bytes at a time, and no copy.)
                    body.decode()
                message = jsonrpc.parse(body)[0]
                if isinstance(message, jsonrpc.Request):
                    try:
                        params = _peek_params(message.params) if message.params is not None else None
                    except msgspec.DecodeError:
                        pass
                    else:
                        request = message
                        peek = Peek(message.method, message.id, params)
            if peek is None:
                peek = peek_message(body)
        except msgspec.DecodeError as exc:
            # The wrong shape may have been seen before the end of a text that is no JSON at all.
            reply = jsonrpc.refusal(body, exc) if isinstance(exc, msgspec.ValidationError) else None
            await _respond(send, 400, reply or _error_body(jsonrpc.PARSE_ERROR, f"Parse error: {exc}"))
            return
        except UnicodeDecodeError as exc:
            await _respond(send, 400, _error_body(jsonrpc.PARSE_ERROR, f"Parse error: {exc.reason}"))
            return
        except RecursionError:
            # msgspec's decoders stop at a fixed depth with RecursionError, not DecodeError.
            await _respond(send, 400, _error_body(jsonrpc.PARSE_ERROR, "Parse error: nested too deeply"))
            return
        if isinstance(peek, list):
            await self._post_batch(scope, body, session_id, version, send, receive)
            return
        modern = (version is not None and revisions.is_modern(version)) or (
            version is None
            and peek.params is not None
            and peek.params.meta is not None
            and revisions.is_modern(str(peek.params.meta.version))
        )
        if peek.method == "initialize" and peek.id is not None and not modern:
            await self._initialize(body, peek, send)
            return
        if session_id is not None and not modern:
            session = self.sessions.get(session_id) or await self._session(session_id)
            if session is None or (self.security.verify_token is not None and session.principal != _who()):
                await _respond(
                    send, 404, _error_body(-32600, "Session not found: it ended, or never existed")
                )
                return
            if (
                version is not None
                and session.conn.legacy not in (version, None)
                and version not in revisions.ALL
            ):
                await _respond(
                    send, 400, _error_body(-32600, f"Unsupported MCP-Protocol-Version {version!r}")
                )
                return
            session.last_seen = time.monotonic()
            event = None if request is None else IncomingRequest(request.id, request.method, request.params)
            await self._exchange(session.conn, session, body, peek, send, receive, event)
            if peek.method in _STATE_CHANGES:
                await self.session_store.save(session.id, self._state(session))
            return
        if modern:
            await self._stateless_post(scope, body, peek, version, send, receive, request)
            return
        if version is not None and version not in revisions.ALL:
            data = {"supported": sorted(self.server.revisions, reverse=True), "requested": version}
            await _respond(send, 400, _error_body(-32022, "Unsupported protocol version", peek.id, data))
            return
        await _respond(
            send, 400, _error_body(-32600, "Bad Request: no Mcp-Session-Id (send initialize first)")
        )

    def _decode_whole(self, body: bytes, version: str, headers: dict[bytes, str]) -> Peek | None:
        """A stateless request, decoded in one pass into the params type its headers name (the headers
        must agree with the body there anyway). None when they do not, or when the message is not a
        well-formed request of that method and revision: the general route then names what is wrong.
        A call of a tool answered directly is decoded lean (`Peek.lean`): it never reads `_meta`.
        Raises msgspec.DecodeError when the body is not JSON (or not UTF-8): a parse error."""
        method = headers.get(b"mcp-method")
        if method is None:
            return None
        name_header = headers.get(b"mcp-name") if method == "tools/call" else None
        lean = name_header is not None and self.server.takes_no_context(decode_value(name_header))
        decode = self._typed.get((version, method, lean), _UNKNOWN)
        if decode is _UNKNOWN:
            decode = self._whole_decoder(version, method, lean)
        if decode is None:
            return None
        try:
            message = decode(body)
        except msgspec.ValidationError:
            return None  # the general route reads it again, and says what is wrong with it
        except RecursionError:
            return None
        params = message.params
        meta = getattr(params, "meta", None)
        body_version = (
            meta.get(_META_VERSION) if isinstance(meta, dict) else getattr(meta, "protocol_version", None)
        )
        if body_version != version:
            return None  # the version must be in `_meta` too: the general route says so
        name = getattr(params, "name", None)
        uri = getattr(params, "uri", None)
        peeked = PeekParams(
            name=None if name is msgspec.UNSET else name,
            uri=None if uri is msgspec.UNSET else uri,
            meta=PeekMeta(version),
        )
        return Peek(method, message.id, peeked, params, lean)

    def _whole_decoder(self, version: str, method: str, lean: bool) -> Callable[[bytes], Any] | None:
        if version not in self.server.revisions or not revisions.is_modern(version):
            return None  # nothing is kept for values outside the schema: headers are the client's
        spec = revisions.module(version).REQUESTS.get(method)
        if spec is None:
            return None
        decode = None
        if spec.params_type is not None:
            envelope = msgspec.defstruct(
                "WholeRequest",
                [
                    ("jsonrpc", Literal["2.0"]),
                    ("id", str | int | float),
                    ("method", Literal[method]),
                    ("params", wire.members_only(spec.params_type) if lean else spec.params_type),
                ],
            )
            decode = wire.decoder(envelope).decode
        self._typed[(version, method, lean)] = decode
        return decode

    async def _post_batch(
        self,
        scope: Scope,
        body: bytes,
        session_id: str | None,
        version: str | None,
        send: Send,
        receive: Receive,
    ) -> None:
        """A JSON-RPC batch (2025-03-26 sessions only). Its answer is one array, sent when its last
        request ends; what its requests send before that (progress, and requests to the client such as
        sampling, which the batch cannot finish without) turns the response into an SSE stream, as for
        a single request. A batch of notifications only is accepted with 202."""
        session = None
        if session_id is not None:
            session = self.sessions.get(session_id) or await self._session(session_id)
            if session is None or (
                self.security.verify_token is not None and session.principal != _who()
            ):  # another principal's session is not found, as on any other route
                await _respond(
                    send, 404, _error_body(-32600, "Session not found: it ended, or never existed")
                )
                return
        if session is None or session.conn.legacy != "2025-03-26":
            await _respond(
                send,
                400,
                _error_body(-32600, "Invalid request: this protocol revision has no JSON-RPC batches"),
            )
            return
        if session.streams >= self.security.max_streams_per_session:
            await _busy(send, None, "too many requests of this session are being answered")
            return
        session.last_seen = time.monotonic()
        # A batch is one request in flight for the session's bound, from its first byte to its answer.
        session.streams += 1
        try:
            await self._answer_batch(session, body, send, receive)
        finally:
            session.streams -= 1

    async def _answer_batch(self, session: _Session, body: bytes, send: Send, receive: Receive) -> None:
        # No event ids: a batch's stream is not resumable (the client that leaves it gets nothing
        # more of it; its requests go on, as a disconnect cancels nothing on a session).
        stream = _Stream(None)
        await self._feed(session.conn, body.strip(), stream)  # (the peer tells a batch by its "[")
        ready = not stream.queue.empty()
        watcher = None if ready else self._watch(receive, stream)
        try:
            data, final = stream.queue.get_nowait() if ready else await stream.queue.get()
            if stream.gone:
                stream.closed = True
                return
            if final:
                stream.closed = True
                # The array, a refusal (400), or nothing: a batch of notifications or cancelled requests.
                await _respond(send, stream.status if data else 202, data)
                return
            await self._stream(send, stream, [(data, final)], None, session.conn, session, receive, watcher)
        finally:
            if watcher is not None:
                watcher.cancel()

    @staticmethod
    async def _feed(conn: _Connection, body: bytes, stream: _Stream) -> None:
        """Hand a message to the connection; what it sends while serving it goes to `stream`."""
        token = ROUTE.set(stream)
        try:
            await conn.peer.feed(body)
        finally:
            ROUTE.reset(token)

    def _new_connection(self, session: _Session | None) -> _Connection:
        from ...server.core import _Connection

        conn = _Connection(self.server, _RoutedTransport(session), peer=_HttpPeer)
        self.server._connections.add(conn)  # so that list changes and resource updates reach it
        return conn

    async def _forget(self, session: _Session) -> None:
        await self.session_store.delete(session.id)
        await self._end(session, "the session expired")

    async def _end(self, session: _Session, reason: str) -> None:
        self.server._connections.discard(session.conn)
        await session.conn.peer.shutdown(reason)
        for stream in [*session.open_streams.values(), *([session.get_stream] if session.get_stream else [])]:
            stream.put(b"", final=True)  # ends the response of a connection still writing it out
            stream.closed = True
        session.open_streams.clear()

    async def _initialize(self, body: bytes, peek: Peek, send: Send) -> None:
        self._expire()
        if len(self.sessions) >= self.security.max_sessions:
            await _respond(send, 503, _error_body(-32600, "Too many sessions"), [(b"retry-after", b"5")])
            return
        session = _Session(secrets.token_urlsafe(24), None, self.event_store())  # type: ignore[arg-type]
        session.principal = _who()
        session.conn = self._new_connection(session)
        stream = _Stream(None)
        await self._feed(session.conn, body, stream)
        data, _ = await stream.queue.get()
        if session.conn.legacy is not None:
            self.sessions[session.id] = session
            await self.session_store.save(session.id, self._state(session))
            await _respond(send, 200, data, [(b"mcp-session-id", session.id.encode())])
        else:
            self.server._connections.discard(session.conn)
            await _respond(send, 400 if b'"error"' in data else 200, data)

    @staticmethod
    def _state(session: _Session) -> SessionState:
        conn = session.conn
        assert conn.legacy is not None
        return SessionState(
            conn.legacy,
            conn.client_caps,
            conn.client_info,
            conn.initialized,
            conn.log_level,
            sorted(conn.subscriptions),
            session.principal,
        )

    async def _session(self, session_id: str) -> _Session | None:
        """The session, from this worker's memory or rebuilt from the shared store; None when there is
        none, or when it is another principal's (as if it did not exist: a session id is no proof of
        who sends it)."""
        session = self.sessions.get(session_id)
        if session is not None:
            return session if session.principal == _who() else None
        state = await self.session_store.load(session_id)
        if state is None or state.principal != _who():
            return None
        session = _Session(session_id, None, self.event_store())  # type: ignore[arg-type]
        session.principal = state.principal
        conn = session.conn = self._new_connection(session)
        conn.legacy, conn.client_caps, conn.client_info = (
            state.revision,
            state.client_capabilities,
            state.client_info,
        )
        conn.initialized, conn.log_level, conn.subscriptions = (
            state.initialized,
            state.log_level,
            set(state.subscriptions),
        )
        self.sessions[session_id] = session
        return session

    def _expire(self) -> None:
        cutoff = time.monotonic() - self.security.session_idle_timeout
        for sid in [sid for sid, s in self.sessions.items() if s.last_seen < cutoff]:
            session = self.sessions.pop(sid)
            task = asyncio.ensure_future(self._forget(session))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _stateless_post(
        self,
        scope: Scope,
        body: bytes,
        peek: Peek,
        version: str | None,
        send: Send,
        receive: Receive,
        request: jsonrpc.Request | None = None,
    ) -> None:
        """Serve one message on the stateless wire. `request` is the body already parsed, when it is a
        request: it goes to the handler as it is, instead of being parsed again."""
        if peek.method is None:
            await _respond(send, 400, _error_body(-32600, "Invalid request: clients send no responses here"))
            return
        body_version = peek.params.meta.version if peek.params and peek.params.meta else None
        if peek.typed is not None and version is not None:
            # Taken by the one-pass decoder its headers chose (`_decode_whole`): its method and `_meta`
            # version are the headers', and a method and revision the server has. Only names are left.
            problem = self._name_mismatch(scope, peek)
        else:
            problem = self._header_mismatch(scope, peek, version)
        if problem is not None:
            await _respond(send, 400, _error_body(HEADER_MISMATCH, f"Header mismatch: {problem}", peek.id))
            return
        requested = version or str(body_version or "")
        if peek.typed is None:
            if requested not in self.server.revisions or not revisions.is_modern(requested):
                data = {"supported": sorted(self.server.revisions, reverse=True), "requested": requested}
                await _respond(send, 400, _error_body(-32022, "Unsupported protocol version", peek.id, data))
                return
            module = revisions.module(requested)
            spec = (
                module.REQUESTS.get(peek.method)
                if peek.id is not None
                else module.NOTIFICATIONS.get(peek.method)
            )
            if spec is None:
                await _respond(send, 404, _error_body(-32601, f"Method not found: {peek.method}", peek.id))
                return
        if peek.id is not None and self._stateless_running >= self.security.max_stateless_requests:
            await _busy(send, peek.id, "too many requests are being answered")
            return
        if peek.lean:
            if self.server.answers_directly(peek.typed):
                # (A registered tool means the tools feature is offered: no capability to check.)
                self._stateless_running += 1
                try:
                    await self._direct(peek, requested, send, receive)
                finally:
                    self._stateless_running -= 1
                return
            peek.typed = None  # decoded for the direct answer only: the general route reads the body
        event = None
        if peek.typed is not None:
            event = IncomingRequest(peek.id, peek.method, None, requested, peek.typed)
        elif request is not None:
            # The revision is known once the body says it too (a request without it is refused by
            # the handler, as on every other route).
            revision = requested if body_version == requested else None
            event = IncomingRequest(request.id, request.method, request.params, revision)
        # Each stateless request is a world of its own: ids of different clients never meet. A
        # connection left with nothing running or awaited is as good as new, and is used again.
        conn = self._idle.pop() if self._idle else self._new_connection(None)
        self._stateless_running += 1
        try:
            await self._exchange(conn, None, body, peek, send, receive, event)
        finally:
            self._stateless_running -= 1
            if conn.idle() and len(self._idle) < _MAX_IDLE:
                self._idle.append(conn)
            else:
                self.server._connections.discard(conn)

    async def _direct(self, peek: Peek, revision: str, send: Send, receive: Receive) -> None:
        """Answer a stateless call of a tool that needs no connection (`Server.answers_directly`): most
        finish in their first step and are answered at once, with no peer, stream or task. One that
        waits goes on as a task, cancelled if the client leaves, as on the general route."""
        assert peek.id is not None
        answer, task = eager.run(self.server.call_direct(peek.id, peek.typed, revision))
        if task is not None:
            left = asyncio.ensure_future(self._disconnected(receive))
            try:
                done, _ = await asyncio.wait((task, left), return_when=asyncio.FIRST_COMPLETED)
            finally:
                left.cancel()
                if not task.done():
                    task.cancel()  # the client left, or this POST was cancelled: so is the request
                    self._closing.add(task)  # kept until its cancellation has run
                    task.add_done_callback(self._closing.discard)
            if task not in done:
                return  # the client left: nobody to answer
            if task.cancelled():
                await _no_answer(send)  # cancelled before it answered: no answer will come
                return
            answer = task.result()
        assert answer is not None
        await _respond(send, _stateless_status(answer, 200), answer)

    def _header_mismatch(self, scope: Scope, peek: Peek, version: str | None) -> str | None:
        body_method, params = peek.method, peek.params
        body_version = params.meta.version if params and params.meta else None
        if version is None:
            return "MCP-Protocol-Version is required"
        if body_version is not None and body_version != version:
            return f"MCP-Protocol-Version {version!r} but _meta says {body_version!r}"
        headers = _headers(scope)
        method = headers.get(b"mcp-method")
        if method is None:
            if peek.id is None:
                # The transport requires it of requests; a notification's headers are not defined
                # (2026-07-28 "Sending Messages"), and clients send `notifications/cancelled` without.
                return None
            return "Mcp-Method is required"
        if method != body_method:
            return f"Mcp-Method {method!r} but the body's method is {body_method!r}"
        return self._name_mismatch(scope, peek)

    def _name_mismatch(self, scope: Scope, peek: Peek) -> str | None:
        """`Mcp-Name` against the tool, prompt or resource the body names, and `Mcp-Param-*`."""
        body_method, params = peek.method, peek.params
        if body_method in ("tools/call", "prompts/get", "resources/read"):
            source = (
                params.uri
                if body_method == "resources/read" and params
                else (params.name if params else None)
            )
            name = _headers(scope).get(b"mcp-name")
            if name is None:
                return "Mcp-Name is required"
            if decode_value(name) != source:
                return f"Mcp-Name {name!r} does not match the body"
        if body_method == "tools/call" and params is not None:
            return self._param_mismatch(scope, peek)
        return None

    def _param_mismatch(self, scope: Scope, peek: Peek) -> str | None:
        """`Mcp-Param-*` headers against the arguments they mirror (the tool's `x-mcp-header`s)."""
        paths = self._param_paths(peek.params.name if peek.params is not None else None)
        if not paths:
            return None
        arguments = peek.arguments() or {}
        for name, path in paths.items():
            value = render(value_at(arguments, path))
            header = _header(scope, b"mcp-param-" + name.lower().encode())
            if value is None:
                continue  # nothing to mirror: the header is not expected
            if header is None:
                return f"Mcp-Param-{name} is missing but the body's argument is present"
            if decode_value(header) != value:
                return f"Mcp-Param-{name} does not match the body"
        return None

    def _param_paths(self, tool: Any) -> dict[str, tuple[str, ...]]:
        entry = self.server._tools.get(tool) if isinstance(tool, str) else None
        if entry is None:
            return {}
        cached = self._params.get(tool)
        if cached is None or cached[0] is not entry:
            try:
                paths = param_headers(entry.definition.get("inputSchema"))
            except InvalidHeaderAnnotation:
                paths = {}
            cached = self._params[tool] = (entry, paths)
        return cached[1]

    async def _exchange(
        self,
        conn: _Connection,
        session: _Session | None,
        body: bytes,
        peek: Peek,
        send: Send,
        receive: Receive,
        event: IncomingRequest | None = None,
    ) -> None:
        """Feed one message to the connection (`event`: the request, already parsed) and answer the
        POST: 202, JSON, or an SSE stream."""
        rid = peek.id
        if peek.method is None or rid is None:
            # A notification, or a response to one of our requests: accepted, nothing to stream.
            await conn.peer.feed(body)
            await _respond(send, 202, b"")
            return
        stream = _Stream(session.store if session is not None else None)
        if session is not None:
            if session.streams >= self.security.max_streams_per_session:
                await _busy(send, rid, "too many requests of this session are being answered")
                return
            session.streams += 1
            kept = session.open_streams
            if len(kept) >= self.security.max_streams_per_session:
                # The oldest stream nobody reads (its client left, or was told to poll, and never
                # came back) goes first: resumption is best effort, memory is not. One is always
                # found: fewer streams than the bound are read at once (above).
                left = next((k for k, v in kept.items() if not v.reading), None)
                if left is not None:
                    kept.pop(left).closed = True
            kept[stream.id] = stream
            stream.owner = kept
        stream.reading = True
        try:
            if event is None:
                await self._feed(conn, body, stream)
            else:
                token = ROUTE.set(stream)
                try:
                    reply = await conn.peer.answer(event)
                finally:
                    ROUTE.reset(token)
                if reply is not None:
                    if stream.queue.empty():  # answered at once with nothing before it: the JSON body
                        _ended(stream, session)
                        await _respond(send, _json_status(stream, session, reply), reply)
                        return
                    stream.put(reply, final=True)
            # A handler that answered without waiting has left its answer in the queue: no client can
            # leave in between, so no watcher is needed unless the answer turns into a stream.
            ready = not stream.queue.empty()
            watcher = None if ready else self._watch(receive, stream)
            try:
                data, final = stream.queue.get_nowait() if ready else await stream.queue.get()
                if stream.gone:
                    # The client left before anything was sent. On the stateless wire that cancels the
                    # request; a session's stream keeps what comes for a resumption (Last-Event-ID).
                    if session is None:
                        conn.peer.cancel_incoming(rid)
                    elif data:
                        stream.event(data)
                        stream.closed = final
                    return
                if final:
                    _ended(stream, session)
                    if not data:  # cancelled before it said anything: no answer will come
                        await _no_answer(send)
                        return
                    if self.json_response or stream.queue.empty() or stream.status != 200:
                        status = _json_status(stream, session, data)
                        await _respond(send, status, data, _RETRY if status == 503 else ())
                        return
                await self._stream(send, stream, [(data, final)], rid, conn, session, receive, watcher)
            finally:
                if watcher is not None:
                    watcher.cancel()
        finally:
            stream.reading = False
            if session is not None:
                session.streams -= 1

    async def _stream(
        self,
        send: Send,
        stream: _Stream,
        first: list[tuple[bytes, bool]],
        rid: Any,
        conn: _Connection | None,
        session: _Session | None,
        receive: Receive,
        watcher: asyncio.Future[None] | None = None,
        replay: list[bytes] | None = None,
    ) -> None:
        """Write `stream` out as SSE until its final message, until the client leaves (`watcher`,
        started when the stream first has to wait), or until the server asks the client to poll.
        Whatever is queued goes out in one write; `replay`, events already framed (resumption), first."""
        await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
        stream.gone = False
        chunks: list[bytes] = replay or []
        if stream.store is not None and session is not None and session.conn.legacy == "2025-11-25":
            chunks.append(stream.prime())
        pending = list(first)
        ended = False
        queue = stream.queue
        try:
            while True:
                while not queue.empty():
                    pending.append(queue.get_nowait())
                for data, final in pending:
                    if data:
                        chunks.append(stream.event(data))
                    if final:
                        stream.closed = ended = True
                        break
                pending = []
                if ended:
                    break
                if chunks:
                    await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                    chunks = []
                if stream.gone:
                    self._left(stream, rid, conn, session)
                    break
                if stream.poll_retry is not None:
                    retry, stream.poll_retry = stream.poll_retry, None
                    chunks.append(f"retry: {retry}\r\n\r\n".encode())
                    break  # the connection closes; the stream stays open for the client's GET
                if watcher is None:
                    watcher = self._watch(receive, stream)
                try:
                    pending = [await asyncio.wait_for(queue.get(), self.keepalive)]
                except TimeoutError:
                    await send({"type": "http.response.body", "body": _KEEPALIVE, "more_body": True})
        except OSError:
            self._left(stream, rid, conn, session)
        finally:
            if stream.closed and session is not None:
                session.open_streams.pop(stream.id, None)
            if watcher is not None:
                watcher.cancel()
            try:
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})
            except Exception:
                pass  # the connection is gone: nothing more can be sent on it

    @staticmethod
    def _left(stream: _Stream, rid: Any, conn: _Connection | None, session: _Session | None) -> None:
        """The client went away before the final message. On the stateless wire that cancels the
        request; a stateful session's stream stays open, to be resumed with Last-Event-ID (earlier
        revisions say a disconnect is no cancellation)."""
        if session is None or stream.store is None:
            stream.closed = True
            if conn is not None and rid is not None:
                conn.peer.cancel_incoming(rid)

    # -- GET and DELETE -----------------------------------------------------------------------------

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _accepts(_header(scope, b"accept") or "")[1]:
            await _respond(
                send, 406, _error_body(-32600, "Not Acceptable: Accept must list text/event-stream")
            )
            return
        session_id = _header(scope, b"mcp-session-id")
        if session_id is None:
            await _respond(send, 405, b"", [(b"allow", b"POST")])
            return
        session = await self._session(session_id)
        if session is None:
            await _respond(send, 404, _error_body(-32600, "Session not found"))
            return
        last = _header(scope, b"last-event-id")
        named = _event_id(last) if last is not None else None
        if last is not None and named is None:
            why = "Bad Request: Last-Event-ID names no event of this server"
            await _respond(send, 400, _error_body(-32600, why))
            return
        if named is not None and named[0] != "get":
            await self._resume(session, named[0], named[1], send, receive)
            return
        get_stream = session.get_stream
        if get_stream is not None and not get_stream.closed and get_stream.reading:
            await _respond(send, 409, _error_body(-32600, "Conflict: this session's GET stream is open"))
            return
        if session.streams >= self.security.max_streams_per_session:
            await _busy(send, None, "too many requests of this session are being answered")
            return
        replay: list[bytes] = []
        if named is not None:
            found = session.store.after(f"get-{named[1]}")
            if found is not None:
                replay = [_framed("get", seq, data) for seq, data in found[1]]
        stream = get_stream if get_stream is not None else _Stream(session.store)
        stream.id = "get"
        backlog = [(d, False) for d in session.backlog]
        session.backlog.clear()
        session.get_stream = stream
        await self._read_out(send, stream, backlog, session, receive, replay)

    async def _resume(self, session: _Session, name: str, after: int, send: Send, receive: Receive) -> None:
        """GET with the `Last-Event-ID` of a POST's stream: the events sent after it on that stream
        alone, then, while the request is not answered yet, the rest of the stream as it comes. A stream
        that ended (or that this session never had, or whose events fell out of the store) has nothing
        more to come: what is left of it is sent, and the response ends."""
        stream = session.open_streams.get(name)
        if stream is not None and stream.reading:
            # Its POST (or another GET) is still reading it: two readers would split its events.
            await _respond(send, 409, _error_body(-32600, "Conflict: this stream is being read"))
            return
        if stream is not None and session.streams >= self.security.max_streams_per_session:
            await _busy(send, None, "too many requests of this session are being answered")
            return
        found = session.store.after(f"{name}-{after}")
        replay = [_framed(name, seq, data) for seq, data in found[1]] if found is not None else []
        if stream is None:
            await send({"type": "http.response.start", "status": 200, "headers": _SSE_HEADERS})
            await send({"type": "http.response.body", "body": b"".join(replay), "more_body": False})
            return
        await self._read_out(send, stream, [], session, receive, replay)

    async def _read_out(
        self,
        send: Send,
        stream: _Stream,
        first: list[tuple[bytes, bool]],
        session: _Session,
        receive: Receive,
        replay: list[bytes],
    ) -> None:
        """Write a session's stream out on a GET, as one of its open requests."""
        session.streams += 1
        stream.reading = True
        try:
            await self._stream(send, stream, first, None, None, session, receive, replay=replay)
        finally:
            stream.reading = False
            session.streams -= 1

    def _watch(self, receive: Receive, stream: _Stream) -> asyncio.Future[None]:
        return asyncio.ensure_future(self._watch_disconnect(receive, stream))

    async def _watch_disconnect(self, receive: Receive, stream: _Stream) -> None:
        await self._disconnected(receive)
        stream.gone = True
        stream.queue.put_nowait((b"", False))  # wake the writer, which sees the client gone

    @staticmethod
    async def _disconnected(receive: Receive) -> None:
        """Return when the client has gone away."""
        while (await receive())["type"] != "http.disconnect":
            pass

    async def _delete(self, scope: Scope, send: Send) -> None:
        session_id = _header(scope, b"mcp-session-id")
        session = await self._session(session_id) if session_id else None
        if session is not None:
            self.sessions.pop(session.id, None)
            await self.session_store.delete(session.id)
        if session is None:
            await _respond(send, 404 if session_id else 400, _error_body(-32600, "Session not found"))
            return
        await self._end(session, "the client ended the session")
        await _respond(send, 200, b"")
