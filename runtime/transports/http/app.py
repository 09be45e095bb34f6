"""`HttpApp`: the ASGI application serving an MCP endpoint over Streamable HTTP, both eras, secure by default.

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

This module is the ASGI entry and the dispatch by method; the parts are `security`, `sse`, `sessions`,
`stateful` (the session-era exchange) and `stateless` (the 2026-07-28 route).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from ...protocol import jsonrpc, revisions
from ...protocol.headers import Peek, PeekParams
from ...protocol.headers import peek as peek_message
from ...protocol.request_state import PRINCIPAL
from . import stateful
from .asgi import Receive, Scope, Send, error_body, header, request_headers, respond
from .security import (
    HttpSecurity,
    TokenVerifier,
    accepts,
    accepts_cache,
    authenticate,
    principal_text,
    refuse,
)
from .sessions import MemorySessionStore, Session, SessionState, SessionStore, SessionTable
from .sse import EventStore, MemoryEventStore
from .stateless import StatelessRoute

if TYPE_CHECKING:
    from ...server.core import Server

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

_peek_params = msgspec.json.Decoder(PeekParams).decode


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
        self.path = path
        self._path = path.rstrip("/")
        self.security = security or HttpSecurity()
        self.json_response = json_response
        self.keepalive = keepalive
        self.closing: set[asyncio.Future[Any]] = set()
        """Tasks left running after their request (cancellations, sessions being ended)."""
        self.table = SessionTable(server, self.security, session_store, event_store, self.closing)
        self.stateless = StatelessRoute(server, self.security, self.closing)

    @property
    def sessions(self) -> dict[str, Session]:
        """This worker's sessions, by id."""
        return self.table.sessions

    @property
    def session_store(self) -> SessionStore:
        return self.table.store

    @property
    def event_store(self) -> Callable[[], EventStore]:
        return self.table.event_store

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path != self._path and path.rstrip("/") != self._path:
            await respond(send, 404, b"Not Found", content_type=b"text/plain")
            return
        refusal = refuse(self.security, scope, request_headers(scope))
        principal = None
        if refusal is None and self.security.verify_token is not None:
            refusal = await authenticate(self.security, scope)
            if refusal is None:
                # What this user's requests seal (requestState) opens for this user alone.
                principal = PRINCIPAL.set(principal_text(scope["mcpbind.principal"]))
        if refusal is not None:
            status, body, extra = refusal
            await respond(send, status, body, extra)
            return
        try:
            method = scope["method"]
            if method == "POST":
                await self._post(scope, receive, send)
            elif method == "GET":
                await self._get(scope, receive, send)
            elif method == "DELETE":
                await self.table.delete(header(scope, b"mcp-session-id"), send)
            else:
                await respond(send, 405, b"", [(b"allow", b"GET, POST, DELETE")])
        finally:
            if principal is not None:
                PRINCIPAL.reset(principal)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.table.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

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
        headers = request_headers(scope)
        accept = headers.get(b"accept") or ""
        if (accepts_cache.get(accept) or accepts(accept)) != (True, True):
            await respond(
                send,
                406,
                error_body(-32600, "Not Acceptable: Accept must list application/json and text/event-stream"),
            )
            return
        content_type = headers.get(b"content-type") or ""
        if content_type != "application/json" and content_type.split(";")[0].strip().lower() != (
            "application/json"
        ):
            await respond(send, 415, error_body(-32600, "Unsupported Media Type: send application/json"))
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.security.max_body:
            await respond(
                send, 413, error_body(-32600, f"Payload Too Large: over {self.security.max_body} bytes")
            )
            return
        body = await self._read_body(receive)
        if body is None:
            return
        if body == b"" and length != "0":
            await respond(
                send, 413, error_body(-32600, f"Payload Too Large: over {self.security.max_body} bytes")
            )
            return
        session_id = headers.get(b"mcp-session-id")
        version = headers.get(b"mcp-protocol-version")
        self.table.sweep(time.monotonic())
        request: jsonrpc.Request | None = None
        peek: Peek | list[Any] | None = None
        try:
            if body[:1] == b"{" and version is not None:
                peek = self.stateless.decode_whole(body, version, headers)
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
            await respond(send, 400, reply or error_body(jsonrpc.PARSE_ERROR, f"Parse error: {exc}"))
            return
        except UnicodeDecodeError as exc:
            await respond(send, 400, error_body(jsonrpc.PARSE_ERROR, f"Parse error: {exc.reason}"))
            return
        except RecursionError:
            # msgspec's decoders stop at a fixed depth with RecursionError, not DecodeError.
            await respond(send, 400, error_body(jsonrpc.PARSE_ERROR, "Parse error: nested too deeply"))
            return
        if isinstance(peek, list):
            await stateful.post_batch(self, session_id, body, send, receive)
            return
        modern = (version is not None and revisions.is_modern(version)) or (
            version is None
            and peek.params is not None
            and peek.params.meta is not None
            and revisions.is_modern(str(peek.params.meta.version))
        )
        if peek.method == "initialize" and peek.id is not None and not modern:
            await self.table.initialize(body, send)
            return
        if session_id is not None and not modern:
            await stateful.post(self, session_id, version, body, peek, request, send, receive)
            return
        if modern:
            await self.stateless.post(self, scope, body, peek, version, send, receive, request)
            return
        if version is not None and version not in revisions.ALL:
            data = {"supported": sorted(self.server.revisions, reverse=True), "requested": version}
            await respond(send, 400, error_body(-32022, "Unsupported protocol version", peek.id, data))
            return
        await respond(send, 400, error_body(-32600, "Bad Request: no Mcp-Session-Id (send initialize first)"))

    # -- GET ----------------------------------------------------------------------------------------

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not accepts(header(scope, b"accept") or "")[1]:
            await respond(send, 406, error_body(-32600, "Not Acceptable: Accept must list text/event-stream"))
            return
        session_id = header(scope, b"mcp-session-id")
        if session_id is None:
            await respond(send, 405, b"", [(b"allow", b"POST")])
            return
        await stateful.get(self, session_id, header(scope, b"last-event-id"), send, receive)
