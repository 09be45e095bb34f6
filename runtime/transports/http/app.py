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
(DNS rebinding), bodies over `max_body` get 413, bodies not all there within `body_timeout` get 408
(and those being waited for are bounded); sessions are bounded in number and expire when idle.
Requests answered at once are bounded (per session, and stateless ones all together): one more gets 503
with Retry-After at once, never a wait. Events kept for resumption are bounded in bytes. With
`verify_token`, a session and a sealed requestState are their principal's alone. (All in `HttpSecurity`.)

One way through: after Host/Origin and the token (`security`), the pure classifier
`mcpbind.protocol.inbound` decides each request, a `Rejection` or a `Route`, and the route's kind names
what acts on it: `sessions` (initialize, DELETE), `stateful` (a session's messages, batches, GET streams)
or `stateless` (the 2026-07-28 route, answered directly when the route says it can be); `sse` writes
streams out.
"""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Final

from ...aio.eager import Paused, boxed, resume, through
from ...protocol import inbound
from ...protocol.inbound import Rejection, Route
from ...protocol.jsonrpc import INTERNAL_ERROR
from ...protocol.media import ACCEPT_CACHE, BOTH
from ...protocol.request_state import CALLER, PRINCIPAL
from ...server.lifespan import LifespanError
from . import stateful
from .asgi import (
    JSON_TYPE,
    Receive,
    Scope,
    Send,
    error_body,
    mounted_path,
    request_headers,
    respond,
    serve_document,
)
from .bodies import BodyReads
from .heads import CONTENT_LENGTH
from .security import HttpSecurity, TokenVerifier, authenticate, principal_text, refuse, step_up
from .sessions import MemorySessionStore, Session, SessionState, SessionStore, SessionTable, StoreUnavailable
from .sse import SHORT_ANSWER, EventStore, MemoryEventStore, stateless_status
from .stateless import StatelessRoute

if TYPE_CHECKING:
    from contextvars import Token

    from ...auth.server.principal import Principal
    from ...server import Server
    from ..websocket.core import WebSocketOptions

__all__ = [
    "HttpApp",
    "HttpSecurity",
    "TokenVerifier",
    "SessionState",
    "SessionStore",
    "MemorySessionStore",
    "EventStore",
    "MemoryEventStore",
    "StoreUnavailable",
]

log = logging.getLogger("mcpbind.http")

_Coroutine: Final = types.CoroutineType
"""What an `async def` `receive` gives (uvicorn's): tested for first, a type test, not an attribute's."""

_Admission = tuple[
    "Rejection | None", "Principal | None", "Token[str] | None", "Token[Principal | None] | None"
]
"""What `HttpApp._admit` says of a caller: its refusal, or who it is and the tokens to reset after."""


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
        event_store: Callable[[str], EventStore] | None = None,
        websocket: WebSocketOptions | None = None,
    ) -> None:
        self.server = server
        self.websocket = websocket
        """The limits of WebSocket connections to the same path (None: the defaults)."""
        self.path = path
        self._path = path.rstrip("/")
        self.security = security or HttpSecurity()
        self.json_response = json_response
        self.keepalive = keepalive
        self.closing: set[asyncio.Future[Any]] = set()
        """Tasks left running after their request (cancellations, sessions being ended)."""
        self.table = SessionTable(server, self.security, session_store, event_store, self.closing)
        # Sessions and their open streams end when the server stops, however it is run: a mounting
        # application's lifespan (`server.running()`) sends this app no shutdown event of its own.
        server.lifespan.close_on_stop(self.table.shutdown)
        self._on_use = server.lifespan.declared
        """The server's lifespan is started by a request (`Lifespan.hold`) when nothing else has: no
        ASGI lifespan event came, and an application that mounts this one did not enter it."""
        self.stateless = StatelessRoute(server, self.security, self.closing)
        self.reads = BodyReads()
        """The POST bodies being read, each within `security.body_timeout`."""
        # Each acts on its route as (app, route, send, receive): no layer of its own in between.
        self._act: dict[type[Route], Callable[[HttpApp, Any, Send, Receive], Awaitable[None]]] = {
            inbound.Stateless: self.stateless.post,
            inbound.SessionMessage: stateful.post,
            inbound.Batch: stateful.post_batch,
            inbound.Listen: stateful.get,
            inbound.Resume: stateful.get,
            inbound.UnknownEvent: stateful.get,
            inbound.UnreadableAnswer: stateful.unreadable,
            inbound.Delete: self._delete,
        }
        """What each kind of route is: one table, one way through (but `Initialize`, which `__call__`
        gives the client's address as well, for `HttpSecurity.max_sessions_per_client`)."""

    @property
    def sessions(self) -> dict[str, Session]:
        """This worker's sessions, by id."""
        return self.table.sessions

    @property
    def session_store(self) -> SessionStore:
        return self.table.store

    @property
    def event_store(self) -> Callable[[str], EventStore]:
        return self.table.event_store

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        if self._on_use and not self.server.lifespan.entered and not await self._start_on_use(scope, send):
            return
        path = scope["path"]
        if path != self._path and path.rstrip("/") != self._path:
            if mounted_path(scope).rstrip("/") != self._path:
                await self._elsewhere(path, scope["method"], send)
                return
        raw = scope["headers"]
        headers = dict(raw)  # (read in C, values as received: the classifier reads the few it needs)
        # Every decision that needs no state is the classifier's (`inbound`): the route it names is
        # acted on. Its first check comes before who sends the request is checked, the rest after.
        security = self.security
        refusal = None
        if len(headers) != len(raw):  # a header is repeated (rare): the first check, if MCP's or Host
            refusal = inbound.screen(headers, raw, inbound.VERSION_HEADER)
            headers = inbound.joined(headers, raw)  # (Accept on two lines: one value)
        if security.hosts_seen.get(headers.get(b"host")) is not True or b"origin" in headers:
            refusal = refusal or refuse(security, headers)  # (a Host not allowed before, or an Origin)
        principal = caller = identity = None
        if refusal is None and not security.anonymous:
            refusal, identity, principal, caller = await self._admit(scope)
        if refusal is not None:
            await respond(send, refusal.status, refusal.body, refusal.headers)
            return
        # (One coroutine for the whole request: a layer more would cost its own frame and object.)
        try:
            method = scope["method"]
            length = headers.get(b"content-length")
            if (
                method == "POST"
                and headers.get(b"content-type") == b"application/json"
                and ACCEPT_CACHE.get(headers.get(b"accept") or b"") is BOTH
                and (
                    length is None
                    or len(length) < security.short_length  # (fewer digits than `max_body`: within it)
                    or not length.isdigit()
                    or int(length) <= security.max_body
                )
            ):
                # The usual POST, which `inbound.head` passes on to its body (its Accept worked out
                # before, to both media types; its length within bounds): no call to say so.
                route = None
            else:
                route = inbound.head(method, headers, security.max_body, self.server.revisions)
            # A stateless call's answer made at once, or the coroutine that carries on its tool.
            answer: bytes | Coroutine[Any, Any, None] | None = None
            # A session's call answered at once (sent with 200), or the coroutine that carries it on.
            done: bytes | Coroutine[Any, Any, None] | None = None
            if route is None:  # a POST: its body decides
                # Its first message: `receive()` run up to its first wait, which a body there with
                # its head never reaches; one that has to wait is read under a deadline (`bodies`).
                message: Any = receive()
                if type(message) is _Coroutine or getattr(message, "send", None) is not None:
                    # (Run `through`: a body already there ends the step with none of the
                    # StopIteration that `coro.send` raises; `boxed` gives the value of one that waits.)
                    box: list[Any] = []
                    stepped: Any = through(message, box)  # (a generator-based coroutine: `resume` takes it)
                    waiting_on = next(stepped, box)
                    message = box[0] if waiting_on is box else boxed(resume(stepped, waiting_on), box)
                if (
                    type(message) is dict
                    and message["type"] == "http.request"
                    and not message.get("more_body", False)
                ):
                    data = message.get("body", b"")  # the usual case: all of it, there at once
                    if len(data) > security.max_body:
                        data = None  # (refused by `inbound.post`)
                else:  # the rest, if it comes in time (`bodies`)
                    data = await self.reads.read(message, receive, send, security)
                    if data is None:
                        return  # the client left, or was answered
                if b"mcp-method" in headers and data is not None:
                    # The usual stateless request: a plain tool's call answered in one step, as stdio
                    # runs it (`server.plain`), ahead of the classifier (`StatelessRoute.at_once`).
                    answer = self.stateless.at_once(headers, data, send, receive)
                elif data is not None and (session_id := headers.get(b"mcp-session-id")) is not None:
                    # The usual session request likewise: a one-step tool's call answered ahead of
                    # the classifier (`stateful.early`), as `at_once` below answers it from its route;
                    # its answer sent here, with none of the tests below.
                    done = stateful.early(self, session_id, headers, data, send, receive)
                    if type(done) is bytes:
                        head = [CONTENT_LENGTH[len(done)], JSON_TYPE]
                        await send({"type": "http.response.start", "status": 200, "headers": head})
                        await send({"type": "http.response.body", "body": done})
                        return
                if answer is None and done is None:
                    route = inbound.post(headers, data, self.stateless, security.max_body)
                    if identity is not None and not isinstance(route, Rejection):
                        required = self.server.required_scopes
                        if required.active:
                            assert security.auth is not None  # a caller was admitted by it
                            route = step_up(security.auth, identity, required, route) or route
                    # (The routes below come of a body: looked for only where the classifier read one.)
                    if type(route) is inbound.SessionMessage:
                        # The usual session request, answered with no coroutine but this one (`at_once`).
                        paused = stateful.at_once(self, route)
                        done = (
                            stateful.carry(self, route, paused, send, receive)
                            if isinstance(paused, Paused)
                            else paused
                        )
                    elif type(route) is inbound.Stateless and route.direct:
                        # A call the classifier says is answered directly that `at_once` did not take
                        # (its tool mirrors arguments in headers, say): likewise, where it can be.
                        answer = self.stateless.direct(route, send, receive)
            if done is not None:
                if isinstance(done, bytes):
                    head = [CONTENT_LENGTH[len(done)], JSON_TYPE]
                    await send({"type": "http.response.start", "status": 200, "headers": head})
                    await send({"type": "http.response.body", "body": done})
                else:
                    await done
                return
            if answer is not None:  # sent as JSON, with the status it carries
                if isinstance(answer, bytes):
                    head = [CONTENT_LENGTH[len(answer)], JSON_TYPE]
                    # (A short answer with no `"error"` in it is a result: `stateless_status`'s first
                    # test, with no call for it.)
                    status = 200
                    if len(answer) > SHORT_ANSWER or answer.find(b'"error"') >= 0:
                        status = stateless_status(answer, 200)
                    await send({"type": "http.response.start", "status": status, "headers": head})
                    await send({"type": "http.response.body", "body": answer})
                else:
                    await answer
                return
            if isinstance(route, Rejection):
                await respond(send, route.status, inbound.revised(route.body, headers), route.headers)
            elif type(route) is inbound.Initialize:  # (its client's address is the scope's)
                await self.table.initialize(route.body, send, scope.get("client"), route.id)
            else:
                assert route is not None  # (an answer made at once was sent above)
                await self._act[type(route)](self, route, send, receive)
        except StoreUnavailable as exc:
            await _unavailable(send, exc)
        finally:
            if principal is not None:
                PRINCIPAL.reset(principal)
            if caller is not None:
                CALLER.reset(caller)

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            if self._on_use and not self.server.lifespan.entered:
                if not await self._start_on_use(scope, send):
                    return
            # Imported on the first upgrade: a server that only answers POSTs never loads it.
            from ..websocket.asgi import serve_websocket

            await serve_websocket(self, scope, receive, send)

    async def _elsewhere(self, path: str, method: str, send: Send) -> None:
        """A request for another path: a public document (RFC 9728 metadata) or 404."""
        document = self.security.auth.document(path) if self.security.auth is not None else None
        if document is not None:  # public by design (RFC 9728)
            await serve_document(send, method, document)
            return
        await respond(send, 404, b"Not Found", content_type=b"text/plain")

    async def _admit(self, scope: Scope) -> _Admission:
        """Who sends the request, with a resource server (`auth`) or `verify_token`: (the refusal or
        None, the admitted caller, and the context variables' tokens to reset after the request)."""
        auth = self.security.auth
        if auth is not None:
            admitted = await auth.admit(scope["method"], request_headers(scope))
            if isinstance(admitted, Rejection):
                return admitted, None, None, None
            # Sessions and requestStates are bound to who the caller is, whatever its scopes.
            return None, admitted, PRINCIPAL.set(admitted.identity), CALLER.set(admitted)
        refusal = await authenticate(self.security, scope)
        if refusal is not None:
            return refusal, None, None, None
        # What this user's requests seal (requestState) opens for this user alone.
        return None, None, PRINCIPAL.set(principal_text(scope["mcpbind.principal"])), None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._on_use = False  # (entered here, and left at the shutdown event)
                try:
                    await self.server.lifespan.enter()
                except Exception as exc:  # the server's lifespan failed: the ASGI server says why and stops
                    log.error("%s", exc, exc_info=exc.__cause__)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.table.shutdown()
                finally:
                    await self.server.lifespan.exit()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start_on_use(self, scope: Scope, send: Send) -> bool:
        """The server's lifespan, started by this request as nothing started it (`Lifespan.hold`):
        True to serve the request; False when it failed to start (answered 500, the log says why)."""
        try:
            await self.server.lifespan.hold()
        except LifespanError as exc:
            log.error("%s", exc, exc_info=exc.__cause__)
            if scope["type"] == "http":
                why = "Internal error: the server's lifespan failed to start (its log says why)"
                await respond(send, 500, error_body(INTERNAL_ERROR, why))
            else:
                await send({"type": "websocket.close", "code": 1011})  # (refused before its upgrade)
            return False
        log.info(
            "the lifespan of server %r started with its first request: no ASGI lifespan event reached "
            "its endpoint (a mounting application may enter `server.running()` in its own lifespan); "
            "it stops when the event loop ends",
            self.server.name,
        )
        return True

    # -- acting on a route --------------------------------------------------------------------------

    @staticmethod
    async def _delete(app: HttpApp, route: inbound.Delete, send: Send, receive: Receive) -> None:
        await app.table.delete(route.session_id, send, route.version)


async def _unavailable(send: Send, exc: StoreUnavailable) -> None:
    """A shared store could not be reached: 503 (try again), unless the answer had already begun."""
    log.warning("%s", exc)
    try:
        await respond(send, 503, error_body(-32000, f"Service unavailable: {exc}"), [(b"retry-after", b"1")])
    except Exception:
        pass  # the response was under way (the store failed after it began): nothing more can be said
