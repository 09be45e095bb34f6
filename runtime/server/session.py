"""The server's side of one connection (`Connection`): the negotiated session, if any, and every request.

A connection either negotiates a session with `initialize` (the session era; `revision` then holds the
revision agreed) or serves each request by the version its `_meta` carries (the envelope era). Either
way a request is decoded by its revision's method table, gated by what the server offers, and routed
to the handler the table names (`handlers.routes`).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Coroutine
from types import ModuleType
from typing import TYPE_CHECKING, Any

import msgspec

from .. import wire
from ..aio import own
from ..aio.interfaces import ROUTE
from ..aio.own import handler_fault
from ..aio.peer import Peer
from ..errors import InvalidRequest, MethodNotFound, quoted
from ..protocol import dispatch, eras, revisions
from ..protocol.endpoint import IncomingNotification, IncomingRequest
from ..protocol.jsonrpc import RequestId, encode_result
from .context import Context, drop_none
from .features import failure
from .handlers import ROUTES
from .plain import answer_lines, answer_now

if TYPE_CHECKING:
    from ..aio.contracts import MessageTransport, ReplyChannel
    from .registry import Server

__all__ = ["Connection", "SessionSnapshot"]

log = logging.getLogger("mcpbind.server")

_LIST_CHANGED = {
    "tools": ("notifications/tools/list_changed", "toolsListChanged"),
    "resources": ("notifications/resources/list_changed", "resourcesListChanged"),
    "prompts": ("notifications/prompts/list_changed", "promptsListChanged"),
}
"""Per registry kind: its list-changed notification, and the flag a `subscriptions/listen` sets for it."""


class SessionSnapshot(msgspec.Struct, frozen=True):
    """What a negotiated session is, apart from the connection that carries it."""

    revision: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any]
    initialized: bool
    log_level: str | None
    subscriptions: tuple[str, ...]


class Connection:
    """The server's side of one connection: the negotiated session, or per-request stateless state."""

    answer_now = answer_now
    """`plain.answer_now` for this connection: a plain call's answer, `Paused`, or None."""
    answer_lines = answer_lines
    """`plain.answer_lines` for this connection: plain calls' lines read in one pass, answered."""

    def __init__(self, server: Server, transport: MessageTransport, peer: type[Peer] = Peer) -> None:
        self.server = server
        self.peer = peer(
            transport,
            on_request=self.on_request,
            on_notification=self.on_notification,
            max_concurrency=server.max_concurrency,
            max_queued=server.max_queued,
            allow_batch=self._batches_allowed,
            null_ids=self._null_ids,
            # Answered as they are read, limits or not: a ping must get through a full queue.
            serial=frozenset({"initialize", "ping"}),
            # A call of a plain tool, the usual request, in one step (`plain`): no coroutine of ours.
            # (A bound method, not `functools.partial`: the interpreter calls a bound method's function
            # in its own loop, where a partial re-enters it from C, ~300 instructions a request.)
            answer_now=self.answer_now,
            answer_lines=self.answer_lines,
        )
        self.session: revisions.Revision | None = None
        """The stateful revision negotiated by `initialize`; None while there is no session."""
        self.client_caps: dict[str, Any] = {}
        self.client_info: dict[str, Any] = {}
        self.initialized = False
        self.log_level: str | None = None
        self.subscriptions: set[str] = set()
        self.listeners: dict[RequestId, tuple[str, dict[str, Any], ReplyChannel | None]] = {}
        """`subscriptions/listen` requests being served: their revision, what they want, their route."""
        self._pending_notes: set[asyncio.Task[None]] = set()
        self._client_key: str | None = None
        self.task_client = ""
        """Whose allowance of unfinished tasks (`TaskPolicy.max_per_client`) an unauthenticated
        caller's tasks count against, when the transport knows the client beyond this connection (an
        HTTP session's: its address, the same for all its sessions); "": `client_key`'s alone."""

    @property
    def client_key(self) -> str:
        """Who an unauthenticated caller is, for what the server keeps of it (its tasks): this
        connection alone, unless its transport names a longer-lived client (an HTTP session's, on
        every worker). Random, not `id(self)`: an id is reused once its connection is freed."""
        key = self._client_key
        if key is None:
            import secrets  # (with hashlib, hmac and random: ~3% of a stdio server's cold start)

            key = self._client_key = "anonymous-" + secrets.token_urlsafe(16)
        return key

    @client_key.setter
    def client_key(self, key: str) -> None:
        self._client_key = key

    def is_idle(self) -> bool:
        """Nothing is running, awaited or listening, and no session was negotiated: a stateless
        connection in this state carries nothing of the requests it served."""
        return self.session is None and not self.listeners and not self._pending_notes and self.peer.is_idle()

    @property
    def revision(self) -> str | None:
        """The name of the session's revision (None: no session)."""
        session = self.session
        return None if session is None else session.name

    @revision.setter
    def revision(self, name: str | None) -> None:
        self.session = None if name is None else revisions.revision(name)

    def snapshot(self) -> SessionSnapshot:
        """The negotiated session as data (to keep in a shared store); ValueError when there is none."""
        if self.session is None:
            raise ValueError("no session was negotiated on this connection")
        return SessionSnapshot(
            self.session.name,
            self.client_caps,
            self.client_info,
            self.initialized,
            self.log_level,
            tuple(sorted(self.subscriptions)),
        )

    def restore(self, snapshot: SessionSnapshot) -> None:
        """Take up a session negotiated elsewhere (another connection, another worker)."""
        self.session = revisions.revision(snapshot.revision)
        self.client_caps = snapshot.client_capabilities
        self.client_info = snapshot.client_info
        self.initialized = snapshot.initialized
        self.log_level = snapshot.log_level
        self.subscriptions = set(snapshot.subscriptions)

    def _batches_allowed(self) -> bool:
        return self.session is not None and self.session.batches

    def _null_ids(self) -> bool:
        return self.session is not None and self.session.null_ids

    # -- outgoing ----------------------------------------------------------------------------------

    async def notify(self, method: str, params: dict[str, Any], mod: ModuleType) -> None:
        """Send `method` as the revision of `mod` has it (nothing where that revision lacks it)."""
        spec = mod.NOTIFICATIONS.get(method)
        if spec is None:
            return
        body = wire.convert(params, spec.params_type) if spec.params_type is not None else None
        await self.peer.notify(method, body)

    async def ask(
        self,
        method: str,
        params: dict[str, Any],
        result_type: Any,
        mod: ModuleType,
        *,
        timeout: float = 300.0,
    ) -> Any:
        """Send the client a request of ours and await its answer, decoded as `result_type`, at most
        `timeout` seconds (then `RequestTimeout`)."""
        spec = mod.REQUESTS[method]
        body = wire.convert(params, spec.params_type)
        decoder = wire.decoder(result_type)
        return await self.peer.request(
            method, body, decoder.decode, timeout=timeout, on_cancel=lambda rid: self._cancel_sent(rid, mod)
        )

    async def _cancel_sent(self, rid: RequestId, mod: ModuleType) -> None:
        await self.notify("notifications/cancelled", {"requestId": rid, "reason": "cancelled"}, mod)

    def _spawn_note(self, coro: Coroutine[Any, Any, None], route: ReplyChannel | None) -> None:
        """Send a notification that belongs to no request (route None: the session's own stream) or to
        a subscription stream (`route`), whatever request is being served when it is triggered."""
        context = contextvars.copy_context()
        context.run(ROUTE.set, route)
        task = asyncio.get_running_loop().create_task(coro, context=context)
        self._pending_notes.add(task)
        task.add_done_callback(self._pending_notes.discard)

    def _note_listener(
        self, rid: RequestId, note: Coroutine[Any, Any, None], route: ReplyChannel | None
    ) -> None:
        """Send a `subscriptions/listen` stream its notification, unless its client has stopped keeping
        up: a notification already waits for room on the stream (`ReplyChannel.backed_up`: what it
        holds unwritten is at its bound). Then the listen ends, cancelled as if by its client (which
        may listen again), rather than one more waiting task and message per change for as long as
        the client holds the stream open without reading it."""
        if route is not None and route.backed_up:
            note.close()
            self.listeners.pop(rid, None)
            self.peer.cancel_incoming(rid)
            log.warning("ended the listen %s: its client does not read its stream", quoted(rid))
            return
        self._spawn_note(note, route)

    def list_changed(self, kind: str) -> None:
        """A registry list changed: tell the session (once initialized), and every listener that wants it."""
        method, flag = _LIST_CHANGED[kind]
        if self.session is not None and self.initialized:
            self._spawn_note(self.notify(method, {}, self.session.module), None)
        for rid, (revision, wanted, route) in list(self.listeners.items()):
            if wanted.get(flag):
                meta = {"_meta": {revisions.META_SUBSCRIPTION: rid}}
                self._note_listener(rid, self.notify(method, meta, revisions.module(revision)), route)

    async def resource_updated(self, uri: str) -> None:
        method = "notifications/resources/updated"
        if self.session is not None and uri in self.subscriptions:
            self._spawn_note(self.notify(method, {"uri": uri}, self.session.module), None)
        for rid, (revision, wanted, route) in list(self.listeners.items()):
            if uri in (wanted.get("resourceSubscriptions") or ()):
                params = {"uri": uri, "_meta": {revisions.META_SUBSCRIPTION: rid}}
                self._note_listener(rid, self.notify(method, params, revisions.module(revision)), route)

    def task_changed(self, task_id: str, task: dict[str, Any]) -> None:
        """A task changed: `notifications/tasks` (the tasks extension) with the whole `task`, to every
        listener that follows it (`taskIds`)."""
        if not self.listeners:
            return
        # (loaded by an envelope-era revision, the only one with listeners: a session-era server's
        # start never loads it)
        from ..protocol.task_subscriptions import NOTIFICATION as TASK_NOTIFICATION
        from ..protocol.task_subscriptions import TASK_IDS

        for rid, (_, wanted, route) in list(self.listeners.items()):
            if task_id in (wanted.get(TASK_IDS) or ()):
                params = {**task, "_meta": {revisions.META_SUBSCRIPTION: rid}}
                self._note_listener(rid, self.peer.notify(TASK_NOTIFICATION, params), route)

    # -- incoming ----------------------------------------------------------------------------------

    async def on_notification(self, event: IncomingNotification) -> None:
        wrapped = self.server.middleware_chain
        if wrapped is not None:
            from .middleware import Call  # loaded already: a chain exists

            session = self.session
            call = Call(
                event.method,
                _json(event.params),
                None if session is None else session.name,
                None if session is None else eras.of(session),
                None,
                None,
            )
            await wrapped(call, lambda c: self._notified(event))
            return
        await self._notified(event)

    async def _notified(self, event: IncomingNotification) -> None:
        method = event.method
        if method == "notifications/initialized":
            self.initialized = True
        elif method == "notifications/roots/list_changed":
            if self.server.on_roots_changed is not None:
                await own.run(self.server.on_roots_changed())
        elif method == "notifications/cancelled":
            try:
                params = msgspec.json.decode(event.params or b"{}")
                rid = params["requestId"]
                # A cancelled listen stops at once, not when its handler next runs: a change made by
                # the very next request must not reach it.
                self.listeners.pop(rid, None)
                self.peer.cancel_incoming(rid)
            except (msgspec.DecodeError, RecursionError, KeyError, TypeError):
                log.warning("ignoring malformed notifications/cancelled")

    async def on_request(self, event: IncomingRequest) -> bytes | None:
        rid = event.id
        method = event.method
        server = self.server
        try:
            if method == "initialize":
                wrapped = server.middleware_chain
                if wrapped is not None:
                    from .middleware import Call  # loaded already: a chain exists

                    call = Call("initialize", _json(event.params), None, None, None, rid)
                    return encode_result(rid, await wrapped(call, lambda c: _now(self._initialize(event))))
                return encode_result(rid, self._initialize(event))
            rev = self.session
            decoded = None
            # What an HTTP transport already read off the request (its version header, its params
            # decoded with the whole message, or for the session's revision): taken as it is rather
            # than read again.
            channel = ROUTE.get()
            prepared = None if channel is None else channel.prepared
            if rev is None:
                if prepared is not None:
                    requested: object = prepared.revision
                else:
                    requested = dispatch.requested_version(event.params)
                chosen = dispatch.negotiate(method, requested, server.revisions)
                if chosen is None:
                    return encode_result(rid, {})  # a ping outside any session or version
                rev = chosen
            decided = None
            if prepared is not None and prepared.revision == rev.name:
                decoded = prepared.params
                decided = prepared.decided
            if decided is None:
                decided = dispatch.decide(method, event.params, decoded, rev, server)
            spec = decided.spec
            if spec.handler == "call_tool" and server.tasks is None:
                era = decided.era
                # A tool that takes no Context, with no middleware or tasks (the usual call): run with
                # none, as a stateless call is answered directly; no Context is made for nothing. (The
                # envelope era's rule was applied by `decide`; a session's params carry no input
                # responses or request state, so the tool's registration decides alone.)
                if decided.direct or not era.direct_calls:
                    # (the tool looked up first: one that takes a Context makes no coroutine for nothing)
                    tool = server.tool_entry(decided.params.name)
                    if tool is not None and tool.plain:
                        answer = await server.call_plain(rid, decided.params, rev.module, spec, era)
                        if answer is not None:
                            return answer
            # Run the handler the request's method table names (inline, not another coroutine: this
            # is every request), and answer with its result.
            route = ROUTES.get(spec.handler) or server.method_route(method)
            if route is None:  # neither the runtime's nor one the server's author registered
                raise MethodNotFound(f"Method not found: {quoted(method)}")
            era = decided.era
            caps = era.client_capabilities(self.client_caps, decided.meta)
            ctx = Context(self, rid, decided.revision, decided.meta, caps)
            wrapped = server.middleware_chain
            if wrapped is None:
                result = await route(server.handlers, decided.params, ctx)
            else:
                from .middleware import Call  # loaded already: a chain exists

                run = route
                call = Call(method, decided.params, decided.revision.name, era, ctx, rid)
                result = await wrapped(call, lambda c: run(server.handlers, c.params, ctx))
            return server.answer(rid, method, result, spec, era)
        except BaseException as exc:
            if not handler_fault(exc):
                raise
            return failure(rid, method, exc)

    def plain_call(
        self, event: IncomingRequest, name: Any, decided: dispatch.Dispatch | None = None
    ) -> Coroutine[Any, Any, bytes] | None:
        """`on_request`'s usual case alone, for a transport that writes each answer itself (an HTTP
        POST's JSON answer): in a session, a `tools/call` of tool `name` (as the route peeked at it)
        that takes no Context, with no middleware or tasks, needs nothing of the request's reply
        channel until it waits. Its answer's coroutine, to run with none (`decided`: the core's
        decision of it, if the transport had it made for the session's revision, `dispatch.decide`);
        None (nothing was read or run): the request takes `on_request`."""
        rev = self.session
        server = self.server
        if (
            rev is None
            or event.method != "tools/call"
            or server.tasks is not None
            or not server.takes_no_context(name)
            or eras.of(rev).direct_calls  # (there, `decide` rules on a call answered directly)
        ):
            return None
        return self._call_plain(event, rev, decided)

    async def _call_plain(
        self, event: IncomingRequest, rev: revisions.Revision, decided: dispatch.Dispatch | None
    ) -> bytes:
        """`on_request` for a call `plain_call` chose: the same decision, the same answers and errors."""
        rid = event.id
        server = self.server
        try:
            if decided is None or decided.revision is not rev:
                decided = dispatch.decide("tools/call", event.params, None, rev, server)
            answer = await server.call_plain(rid, decided.params, rev.module, decided.spec, decided.era)
            assert answer is not None  # (`plain_call` found its tool plain, in the same step)
            return answer
        except BaseException as exc:
            if not handler_fault(exc):
                raise
            return failure(rid, "tools/call", exc)

    def _initialize(self, event: IncomingRequest) -> Any:
        """Open the session `initialize` asks for (as `dispatch.handshake` decides), and answer it."""
        if self.session is not None:
            # A session is initialized once: another `initialize` would replace what the client
            # negotiated (its revision, its capabilities) under the requests it has running.
            why = f"Invalid request: the session is initialized already (revision {self.session.name})"
            raise InvalidRequest(why)
        opened = dispatch.handshake(event.params, self.server.revisions)
        rev = self.session = opened.revision
        self.client_caps = opened.client_capabilities
        self.client_info = opened.client_info
        result = drop_none(
            {
                "protocolVersion": rev.name,
                "capabilities": self.server.capabilities(),
                "serverInfo": self.server.info,
                "instructions": self.server.instructions,
            }
        )
        return wire.convert(result, rev.type("InitializeResult"))


def _json(params: bytes | None) -> Any:
    """A message's raw params as JSON data, for middleware (None: none, or not readable)."""
    if params is None:
        return None
    try:
        return msgspec.json.decode(params)
    except (msgspec.DecodeError, RecursionError):
        return None


async def _now(value: Any) -> Any:
    return value
