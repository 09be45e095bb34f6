"""The session-era exchange: a POSTed message answered with 202, JSON or an SSE stream; batches (2025-03-26);
GET streams and their resumption with `Last-Event-ID`. Stateless requests served on a connection use
`exchange` too."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Final

import msgspec

from ...aio.eager import Paused
from ...aio.interfaces import ROUTE, Prepared
from ...errors import McpError
from ...protocol import dispatch, jsonrpc
from ...protocol.endpoint import IncomingRequest
from ...protocol.fields import TEXT, Headers
from ...protocol.headers import Peek, PeekParams
from ...protocol.inbound import (
    Batch,
    Listen,
    Resume,
    SessionMessage,
    UnknownEvent,
    UnreadableAnswer,
    has_batches,
    naming_none,
    sent_revision,
    session_refusal,
    version_refusal,
)
from ...server.plain import answer_decided, arguments_reader, coroutine_answer
from .asgi import (
    JSON_TYPE,
    RETRY,
    SSE_HEADERS,
    Message,
    Receive,
    Send,
    busy,
    no_answer,
    respond,
    shutting_down,
)
from .heads import CONTENT_LENGTH
from .sse import (
    GET_STREAM,
    Stream,
    answer_status,
    ended,
    feed,
    framed,
    stateless_status,
    watch,
    whole,
    write_stream,
)

if TYPE_CHECKING:
    from ...protocol.jsonrpc import RequestId
    from ...protocol.revisions import Revision
    from ...server import Connection, Server
    from ...server.entries import ToolEntry
    from .app import HttpApp
    from .sessions import Session

__all__ = [
    "STATE_CHANGES",
    "TAKE_OVER",
    "at_once",
    "carry",
    "early",
    "post",
    "post_batch",
    "exchange",
    "get",
    "unreadable",
]

_monotonic: Final = time.monotonic
_Raw: Final = msgspec.Raw
_OPEN: Final = ord("{")

TAKE_OVER: Final = 5.0
"""Seconds a resumption waits for the response still writing its stream out to let go (`Stream.take_over`)."""

STATE_CHANGES: Final = frozenset(
    {"notifications/initialized", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}
)
"""Messages after which a session's state is saved to the store."""


def at_once(app: HttpApp, route: SessionMessage, session: Session | None = None) -> bytes | Paused | None:
    """The usual request of a session, with no coroutine of its own: a call read and decided in one
    pass for its session's revision (so of a version the server speaks), answered by a plain tool in
    one step where its peer admits it. Its answer, to be sent as JSON; or `Paused` (the tool waits:
    `carry` it on); None, with nothing run, for anything else, which `post` serves. `session`: the
    one `post` found (by default this worker's own, when the session needs no further check)."""
    decided = route.decided
    if decided is None or route.peek.method != "tools/call":
        return None
    server = app.server
    tool = server.tool_entry(decided.params.name)  # (looked up once: `answer_decided` is given it)
    if tool is None or not tool.one_step:
        return None  # (first: a tool that takes a Context, say, is the general route's at once)
    table = app.table
    security = table.security
    if session is None:
        session = table.sessions.get(route.session_id)  # the usual case: a session this worker serves
        if session is None or table.shared or not security.anonymous:
            return None  # (`post` finds it, or says it is not found)
    conn = session.conn
    event = route.request
    if (
        decided.revision is not conn.session
        or event is None
        or session.streams >= security.max_streams_per_session
    ):
        return None
    return _answered(server, session, decided.revision, event.id, decided.params, tool)


def _answered(
    server: Server, session: Session, revision: Revision, rid: RequestId, params: Any, tool: ToolEntry
) -> bytes | Paused | None:
    """A session's call that `at_once` read and checked, answered by its one-step tool
    (`answer_decided`) where the session's peer admits it; None, with nothing run, where it does not
    (`early` does the same inline)."""
    # `conn.peer.admits(event)`, inlined (`Peer._startable`, for a `tools/call`, which is never one of
    # the methods answered in order): a frame less on every call answered at once.
    peer = session.conn.peer
    running = peer._running
    if len(running) >= peer._max_waiting or peer._queue or rid in running or rid in peer._queued:
        return None
    done = answer_decided(server, revision, rid, params, tool)
    if done is not None:
        session.last_seen = _monotonic()
    return done


def early(
    app: HttpApp, session_id: bytes, headers: Headers, body: bytes, send: Send, receive: Receive
) -> bytes | Coroutine[Any, Any, None] | None:
    """The usual request of a session answered ahead of the classifier, as `at_once` answers it from
    the route `inbound.post` makes of it (`StatelessRoute.at_once` is the stateless wire's): a
    `tools/call` of a one-step tool on a session of this worker's whose version header names the
    session's revision, read in one pass (`StatelessRoute.session_call`: its arguments left as JSON
    for the tool's own reader, as stdio reads them), with no route, peek or decision made for it, from
    the session's first call on. Its answer (sent with 200), or the coroutine that carries on its
    tool; None, with nothing run, for anything else: the classifier's way serves it as before,
    reading the body again (a session's request of another method is not decoded here: its body
    names no call). The call of a registered tool that is not one step (it takes a Context, say)
    is decided here too (`_exchanged`). `session_id`: its `Mcp-Session-Id` header, as received."""
    version = headers.get(b"mcp-protocol-version")
    # (An object's `{` first: tested once the body is known not to be empty, by its byte's value, with
    # no slice made.)
    if version is None or body.find(b'"tools/call"') < 0 or body[0] != _OPEN:
        return None
    table = app.table
    security = table.security
    session = table.sessions.get(TEXT[session_id])
    if session is None or table.shared or not security.anonymous:
        return None  # (`post` finds it, says it is not found, or admits its caller)
    view = app.stateless
    found = view.sent_session_calls.get(version)
    if found is None:
        named = TEXT[version]
        found = view.session_calls.get(named) or view.session_call(named)
        if found is None:
            return None
        if version == named.encode():  # (the version as sent: kept by its bytes)
            view.sent_session_calls[version] = found
    decode, call = found
    server = app.server
    conn = session.conn
    if (
        call.revision is not conn.session  # (another revision than the session's: refused by `post`)
        or session.streams >= security.max_streams_per_session
        or view.missing_features.get("tools/call") != ""  # (`dispatch.decide`'s check, known)
        or not server.plain_calls  # (`answer_decided`'s check, made here: `call`)
    ):
        return None
    try:
        message = decode(body)
    except (msgspec.DecodeError, RecursionError, ValueError, TypeError):
        return None  # (DecodeError includes ValidationError)
    params = message.params
    tool = server.tool_entry(params.name)
    if tool is None:
        return None
    rid = message.id
    if not tool.one_step:
        return _exchanged(app, session, call.revision, body, rid, params, tool, send, receive)
    # `_answered`, inlined: a frame less on every call answered at once.
    peer = conn.peer
    running = peer._running
    if len(running) >= peer._max_waiting or peer._queue or rid in running or rid in peer._queued:
        return None
    # `answer_decided`'s steps from the tool's lookup on, taken here (a frame, and checks made above,
    # less on every call: `bench/asgi_cost.py 2025-json`): the arguments `decode` left as JSON read by
    # the tool's own reader; a coroutine function that cannot wait (`Signature.suspends`) run to its
    # end as `answer_decided` runs it (`coroutine_answer`); any other tool given to it with its
    # arguments read.
    arguments = params.arguments
    done: bytes | Paused | None
    if type(arguments) is _Raw:
        try:
            values = (tool.read_arguments or arguments_reader(tool))(arguments)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None  # (the general route reads them again, and says what was wrong)
        sig = tool.signature
        if sig.is_async and not sig.suspends:
            done = coroutine_answer(server, tool, call, rid, values)
        else:
            params.arguments = values  # (read: `answer_decided` takes them as they are)
            done = answer_decided(server, call.revision, rid, params, tool, call)
    else:
        done = answer_decided(server, call.revision, rid, params, tool, call)
    if done is None:
        return None
    session.last_seen = _monotonic()
    if isinstance(done, Paused):
        return _carry(app, session, jsonrpc.Request(rid, "tools/call", None), done, send, receive)
    return done


def _exchanged(
    app: HttpApp,
    session: Session,
    revision: Revision,
    body: bytes,
    rid: RequestId,
    params: Any,
    tool: ToolEntry,
    send: Send,
    receive: Receive,
) -> Coroutine[Any, Any, None] | None:
    """`early`'s call of a registered tool that is not one step (it takes a Context, say: the usual
    call answered as SSE), decided by the core (`dispatch.decide`) from the params `early` read (its
    `_meta` whole: the Context's) and given to the general exchange as `post` takes it from the route
    the classifier makes: the body read once (the classifier's way, a route and a peek more, cost
    such a call ~24k instructions more, `bench/asgi_cost.py 2025-sse`; reading it again, with a
    union of the revision's requests, 10k more). Its `arguments`, left as JSON, are read here by the
    tool's own reader, into what the handler would convert them into; None, with nothing run, where
    they do not read so (the general route reads the body again, and answers as it does)."""
    arguments = params.arguments
    if arguments is not msgspec.UNSET:
        try:
            # The field is declared as JSON (`msgspec.Raw`); from here it holds the tool's arguments
            # read (`Signature.arguments`), which `Server._run_tool` takes as they are.
            params.arguments = (tool.read_arguments or arguments_reader(tool))(arguments)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            return None
    try:
        decided = dispatch.decide("tools/call", None, params, revision, app.stateless)
    except McpError:
        return None  # (the general route says why)
    session.last_seen = _monotonic()
    peek = Peek("tools/call", rid, PeekParams(params.name))
    event = jsonrpc.Request(rid, "tools/call", None)  # (its params: the decision's)
    prepared = Prepared(revision.name, params, decided)
    return exchange(app, session.conn, session, body, peek, send, receive, event, prepared)


async def carry(app: HttpApp, route: SessionMessage, paused: Paused, send: Send, receive: Receive) -> None:
    """The call `at_once` ran up to its first wait (on a session of this worker's), carried on."""
    session = app.table.sessions[route.session_id]  # (where `at_once` found it, with no wait since)
    event = route.request
    assert event is not None  # (a call `at_once` ran is a request)
    await _carry(app, session, event, paused, send, receive)


async def _carry(
    app: HttpApp, session: Session, event: IncomingRequest, paused: Paused, send: Send, receive: Receive
) -> None:
    session.streams += 1
    try:
        await _plain(app, session.conn, session, event, paused, send, receive)
    finally:
        session.streams -= 1


async def post(app: HttpApp, route: SessionMessage, send: Send, receive: Receive) -> None:
    """A message of a session (`route.request`: the body already parsed, when it is a request). The
    usual call, answered at once on a session of this worker's, is `at_once`'s, before this."""
    table = app.table
    session = table.sessions.get(route.session_id)  # the usual case: a session this worker serves
    security = table.security
    found = session is None or table.shared or security.auth is not None or security.verify_token is not None
    if found:
        session = await table.find(route.session_id)
        if session is None:
            why = "Session not found: it ended, or never existed"
            rid = route.peek.id if route.peek.method is not None else None
            await respond(send, 404, session_refusal(why, sent_revision(route.version), rid))
            return
    assert session is not None
    conn = session.conn
    decided = route.decided
    if decided is None or decided.revision is not conn.session or route.peek.method != "tools/call":
        await _post(app, route, session, send, receive)
        return
    # `at_once` had no session to try (one found here); it tried this worker's own before: nothing ran.
    done = at_once(app, route, session) if found else None
    if type(done) is bytes:
        await respond(send, 200, done)
        return
    if done is not None:
        assert type(done) is Paused
        event = route.request
        assert event is not None  # (a call `at_once` ran is a request)
        await _carry(app, session, event, done, send, receive)
        return
    session.last_seen = time.monotonic()
    event = route.request
    assert event is not None  # (a decided message is a request)
    prepared = Prepared(decided.revision.name, decided.params, decided)
    await exchange(app, conn, session, route.body, route.peek, send, receive, event, prepared)


async def _post(app: HttpApp, route: SessionMessage, session: Session, send: Send, receive: Receive) -> None:
    """`post` of any message but a call decided for its session's revision."""
    security = app.security
    version = route.version
    negotiated = session.conn.revision
    if version is not None and negotiated is not None and version != negotiated:
        peek = route.peek
        rid = peek.id if peek.method is not None else None
        await respond(send, 400, version_refusal(version, negotiated, app.server.revisions, rid))
        return
    session.last_seen = time.monotonic()
    peek = route.peek
    conn = session.conn
    event = route.request  # (the request as the peer takes it: an `IncomingRequest`)
    decided = route.decided
    if decided is not None and decided.revision is not conn.session:
        # Read for the revision its header names, which is not the session's: its connection reads
        # the body again, for its own.
        decided = event = None
    changes = peek.method in STATE_CHANGES
    if changes:
        send = _saved_first(app, session, send)
    handler: Coroutine[Any, Any, bytes] | None = None
    if event is not None and decided is None and peek.params is not None:
        if session.streams < security.max_streams_per_session:
            handler = conn.plain_call(event, peek.params.name)
            if handler is not None and not conn.peer.admits(event):
                handler.close()  # (never started: nothing ran) refused, queued or answered in order, as usual
                handler = None
    if handler is not None:
        assert event is not None
        session.streams += 1
        try:
            await _plain(app, conn, session, event, handler, send, receive)
        finally:
            session.streams -= 1
    else:
        prepared = None if decided is None else Prepared(decided.revision.name, decided.params, decided)
        await exchange(app, conn, session, route.body, peek, send, receive, event, prepared)
    if changes:
        await _save_changed(app, session)  # (changed after its answer went out)


async def unreadable(app: HttpApp, route: UnreadableAnswer, send: Send, receive: Receive) -> None:
    """A session's POST that is no JSON but reads as an answer to request `route.id`: refused (400) as
    any such body is; the request it answers fails at once (its connection's endpoint reads the body
    as stdio's does), on this worker or, if another sent it, there."""
    session = await app.table.get(route.session_id)
    if session is not None:
        peer, forward = session.conn.peer, app.table.forward
        if peer.endpoint.awaits(route.id):
            await peer.feed(route.body)
        elif forward is not None:
            await forward(session.id, route.id, route.body)
    await respond(send, route.refusal.status, route.refusal.body, route.refusal.headers)


def _saved_first(app: HttpApp, session: Session, send: Send) -> Send:
    """`send`, once the session's state is saved if it changed: the answer to a message that changes
    it goes out only then, so that a client going on at once on another worker finds it there (the
    TypeScript SDK opens its GET stream as soon as `notifications/initialized` is accepted; a worker
    that read the session before the save would never deliver a list change to it)."""
    saved = False

    async def sending(message: Message) -> None:
        nonlocal saved
        if not saved:
            saved = True
            await _save_changed(app, session)
        await send(message)

    return sending


async def _save_changed(app: HttpApp, session: Session) -> None:
    if app.table.state(session) != session.state:
        await app.table.save(session)


async def exchange(
    app: HttpApp,
    conn: Connection,
    session: Session | None,
    body: bytes,
    peek: Peek,
    send: Send,
    receive: Receive,
    event: IncomingRequest | None = None,
    prepared: Prepared | None = None,
) -> None:
    """Feed one message to the connection (`event`: the request, already parsed; `prepared`: what
    the route read off it besides) and answer the POST: 202, JSON, or an SSE stream."""
    rid = peek.id
    if peek.method is None or rid is None:
        # A notification, or a response to one of our requests: accepted, nothing to stream.
        forward = app.table.forward
        if forward is not None and session is not None:
            if rid is not None and not conn.peer.endpoint.awaits(rid):
                await forward(session.id, rid, body)  # it answers a request another worker sent
                await respond(send, 202, b"")
                return
            if peek.method == "notifications/cancelled":
                await forward(session.id, None, body)  # the request may run on another worker
        await conn.peer.feed(body)
        await respond(send, 202, b"")
        return
    security = app.security
    if session is not None:
        if session.streams >= security.max_streams_per_session:
            await busy(send, rid, "too many requests of this session are being answered")
            return
        session.streams += 1
    stream = Stream(
        session.store if session is not None else None,
        reading=True,
        prepared=prepared,
        limit=security.max_unsent_bytes,
        stall=security.stalled_stream_timeout,
    )
    try:
        if event is None:
            if session is not None:
                stream.keep(session.open_streams, security.max_streams_per_session)
            await feed(conn, body, stream)
        else:
            token = ROUTE.set(stream)
            try:
                reply = await conn.peer.answer(event)
            finally:
                ROUTE.reset(token)
            if reply is not None:
                if not stream.queue.items:  # answered at once with nothing before it: the JSON body
                    # (`ended` and `respond`, inlined: this is every request answered at once; the
                    # stream was never kept for resumption, as nothing was sent on it)
                    status = stream.status if session is not None else stateless_status(reply, stream.status)
                    stream.closed = True
                    head = [CONTENT_LENGTH[len(reply)], JSON_TYPE]
                    await send({"type": "http.response.start", "status": status, "headers": head})
                    await send({"type": "http.response.body", "body": reply})
                    return
                if not app.json_response and stream.status == 200:
                    # Answered at once after sending something (progress, say): the whole stream is
                    # there, sent in one body (`whole`), with no writer or watcher for it.
                    body = whole(stream, reply, session)
                    head = [CONTENT_LENGTH[len(body)], *SSE_HEADERS]
                    await send({"type": "http.response.start", "status": 200, "headers": head})
                    await send({"type": "http.response.body", "body": body})
                    return
                stream.put(reply, final=True)
            if session is not None:
                # Its handler goes on, or sent something before its answer: the response may be a
                # stream, which a client that loses it resumes (Last-Event-ID).
                stream.keep(session.open_streams, security.max_streams_per_session)
        await _answer(app, conn, session, stream, rid, send, receive)
    finally:
        if stream.closed:  # (every request answered at once)
            stream.reading = False
        else:
            stream.release()
        if session is not None:
            session.streams -= 1


async def _plain(
    app: HttpApp,
    conn: Connection,
    session: Session,
    event: IncomingRequest,
    handler: Coroutine[Any, Any, bytes] | Paused,
    send: Send,
    receive: Receive,
) -> None:
    """A session's call that needs no reply channel, admitted by its peer: paused by `server.plain`,
    or (`Connection.plain_call`) its first step run here, in a copy of the context as a task would
    be. Answered there (the usual case): its JSON, with no stream, mailbox or task. If it waits, it
    becomes any request's stream from that point: a task of the peer's (cancellable, counted), its
    answer routed to the stream."""
    if type(handler) is Paused:
        context = handler.context
    else:
        assert not isinstance(handler, Paused)
        context = contextvars.copy_context()
        try:
            waiting_on = context.run(handler.send, None)
        except StopIteration as done:
            reply: bytes = done.value
            # (`respond`, inlined: this is every call answered at once)
            head = [CONTENT_LENGTH[len(reply)], JSON_TYPE]
            await send({"type": "http.response.start", "status": 200, "headers": head})
            await send({"type": "http.response.body", "body": reply})
            return
    security = app.security
    stream = Stream(
        session.store,
        reading=True,
        limit=security.max_unsent_bytes,
        stall=security.stalled_stream_timeout,
    )
    context.run(ROUTE.set, stream)
    if type(handler) is Paused:
        conn.peer.carry_paused(event, handler)
    else:
        assert not isinstance(handler, Paused)
        conn.peer.carry(event, handler, waiting_on, context)
    stream.keep(session.open_streams, security.max_streams_per_session)
    try:
        await _answer(app, conn, session, stream, event.id, send, receive)
    finally:
        if stream.closed:
            stream.reading = False
        else:
            stream.release()


async def _answer(
    app: HttpApp,
    conn: Connection,
    session: Session | None,
    stream: Stream,
    rid: Any,
    send: Send,
    receive: Receive,
) -> None:
    """Answer a POST from its request's stream: JSON when the answer is all there is, else SSE."""
    # A handler that answered without waiting has left its answer in the queue: no client can
    # leave in between, so no watcher is needed unless the answer turns into a stream.
    ready = bool(stream.queue.items)  # (`Mailbox.empty`, inlined: every request that is no JSON at once)
    watcher = None if ready else watch(receive, stream)
    try:
        if ready:
            data, final = stream.queue.get_nowait()
        else:
            try:
                data, final = await stream.queue.get()
            except asyncio.CancelledError:
                # The ASGI server stops and cancels the requests still in flight (uvicorn: once
                # `timeout_graceful_shutdown` is over): answered, and their handlers cancelled.
                await stopped(conn, session, stream, rid, send)
                return
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
            ended(stream, session)
            if not data:  # cancelled before it said anything: no answer will come
                await no_answer(send, app.json_response)
                return
            if app.json_response or not stream.queue.items or stream.status != 200:
                status = answer_status(stream, session, data)
                await respond(send, status, data, RETRY if status == 503 else ())
                return
        first = [(data, final)]
        await write_stream(send, stream, first, rid, conn, session, receive, app.keepalive, watcher)
    finally:
        if watcher is not None:
            watcher.cancel()


async def stopped(conn: Connection, session: Session | None, stream: Stream, rid: Any, send: Send) -> None:
    """A request whose POST was cancelled before its answer began, as the ASGI server stops: its
    handler is cancelled (its `finally` runs), and the client gets the JSON-RPC error that says why
    (`shutting_down`) instead of a bare 500. The cancellation ends here: what cancels a request's
    response is its server stopping, and the response is complete (re-raised, uvicorn would log
    "Exception in ASGI application" with a traceback for each request)."""
    conn.peer.cancel_incoming(rid)
    ended(stream, session)
    await respond(send, 200, shutting_down(rid))


async def post_batch(app: HttpApp, route: Batch, send: Send, receive: Receive) -> None:
    """A JSON-RPC batch (2025-03-26 sessions only). Its answer is one array, sent when its last
    request ends; what its requests send before that (progress, and requests to the client such as
    sampling, which the batch cannot finish without) turns the response into an SSE stream, as for
    a single request. A batch of notifications only is accepted with 202."""
    # Another principal's session is not found, as on any other route.
    session = await app.table.find(route.session_id)
    if session is None:
        why = "Session not found: it ended, or never existed"
        await respond(send, 404, session_refusal(why, sent_revision(route.version)))
        return
    negotiated = session.conn.revision
    if negotiated is None or not has_batches(negotiated):
        why = "Invalid request: this protocol revision has no JSON-RPC batches"
        await respond(send, 400, session_refusal(why, negotiated))
        return
    if route.version is not None and route.version != negotiated:
        await respond(send, 400, version_refusal(route.version, negotiated, app.server.revisions))
        return
    if session.streams >= app.security.max_streams_per_session:
        await busy(send, None, "too many requests of this session are being answered", negotiated)
        return
    session.last_seen = time.monotonic()
    # A batch is one request in flight for the session's bound, from its first byte to its answer.
    session.streams += 1
    try:
        # Its messages may change the session's state as single ones do (`post`): saved alike.
        await _answer_batch(app, session, route.body, _saved_first(app, session, send), receive)
    finally:
        session.streams -= 1
    await _save_changed(app, session)


async def _answer_batch(app: HttpApp, session: Session, body: bytes, send: Send, receive: Receive) -> None:
    # No event ids: a batch's stream is not resumable (the client that leaves it gets nothing
    # more of it; its requests go on, as a disconnect cancels nothing on a session).
    stream = Stream(None, limit=app.security.max_unsent_bytes, stall=app.security.stalled_stream_timeout)
    await feed(session.conn, body.strip(), stream)  # (the peer tells a batch by its "[")
    ready = not stream.queue.empty()
    watcher = None if ready else watch(receive, stream)
    try:
        if ready:
            data, final = stream.queue.get_nowait()
        else:
            try:
                data, final = await stream.queue.get()
            except asyncio.CancelledError:  # the ASGI server stops (`stopped`)
                stream.closed = True
                await respond(send, 200, _batch_stopped(session.conn, body))
                return
        if stream.gone:
            stream.closed = True
            return
        if final:
            stream.closed = True
            # The array, a refusal (400), or nothing: a batch of notifications or cancelled requests.
            await respond(send, stream.status if data else 202, data)
            return
        first: list[tuple[bytes, bool]] = [(data, final)]
        await write_stream(send, stream, first, None, session.conn, session, receive, app.keepalive, watcher)
    finally:
        if watcher is not None:
            watcher.cancel()


def _batch_stopped(conn: Connection, body: bytes) -> bytes:
    """The answer to a batch whose POST was cancelled as the ASGI server stops (`stopped`): the
    error that says so for each of its requests still running or queued, which are cancelled."""
    parsed = jsonrpc.parse_batch(body.strip())
    ids = [m.id for m in parsed if type(m) is jsonrpc.Request] if isinstance(parsed, list) else []
    return b"[" + b",".join(shutting_down(rid) for rid in ids if conn.peer.cancel_incoming(rid)) + b"]"


async def get(app: HttpApp, route: Listen | Resume | UnknownEvent, send: Send, receive: Receive) -> None:
    """GET of a session: its stream for messages that belong to no request, or (`Resume`, with the
    `Last-Event-ID` of a POST's stream) the rest of that stream."""
    session = await app.table.get(route.session_id)
    if session is None:
        await respond(send, 404, session_refusal("Session not found", sent_revision(route.version)))
        return
    version, negotiated = route.version, session.conn.revision
    if version is not None and negotiated is not None and version != negotiated:
        await respond(send, 400, version_refusal(version, negotiated, app.server.revisions))
        return
    if isinstance(route, UnknownEvent):  # (naming no request, in the form of the session's revision)
        await respond(send, route.refusal.status, naming_none(route.refusal.body, negotiated))
        return
    named = (route.stream, route.after) if isinstance(route, Resume) else None
    if named is not None and named[0] != GET_STREAM:
        await _resume(app, session, named[0], named[1], send, receive)
        return
    get_stream = session.get_stream
    taken = None
    if get_stream is not None and not get_stream.closed and get_stream.reading:
        # A second listener is refused; a resumption (its client lost the stream) takes it over.
        if named is None or not await get_stream.take_over(TAKE_OVER):
            why = "Conflict: this session's GET stream is open"
            await respond(send, 409, session_refusal(why, negotiated))
            return
        taken = get_stream
        taken.reading = True  # this response's from here (a resumption meanwhile takes it over from it)
    try:
        if session.streams >= app.security.max_streams_per_session:
            await busy(send, None, "too many requests of this session are being answered", negotiated)
            return
        # While the stream is being opened (the round trips below), a change to deliver is this
        # worker's: kept in the session's backlog, which the stream takes first (`Session.opening_get`).
        session.opening_get += 1
        try:
            stream, replay = await _open_get(app, session, get_stream, named)
        finally:
            session.opening_get -= 1
        taken = None  # (`_read_out`'s now)
    finally:
        if taken is not None:  # refused as busy, or the store failed
            taken.release()
    await _read_out(app, send, stream, session.take_backlog(), session, receive, replay)


async def _open_get(
    app: HttpApp, session: Session, get_stream: Stream | None, named: tuple[str, int] | None
) -> tuple[Stream, list[bytes]]:
    """The session's GET stream, made its own here (numbered on from the last one, wherever it was),
    and what a resumption replays first."""
    claim = app.table.claim
    if claim is not None:
        # Other workers let go of their GET stream of the session: one alone delivers its messages,
        # each numbered once (told before the store is read: what they add after, they no longer add).
        await claim(session.id)
    replay: list[bytes] = []
    if named is not None or (get_stream is None and app.table.shared):
        # Every kept event of the GET stream: the numbering goes on from the server's own last number,
        # never from the client's (`Last-Event-ID: get-<huge>` set it); an id past it replays nothing.
        found = await session.store.after("get-0")
        if found is not None:
            kept = found[1]
            last = max((seq for seq, _ in kept), default=0)
            if named is not None:
                # Held here, the events after the last one written out are still queued: not replayed twice.
                written = get_stream.sent if get_stream is not None else last
                replay = [framed(GET_STREAM, seq, data) for seq, data in kept if named[1] < seq <= written]
            # A GET stream opened again on another worker goes on numbering where the last one stopped,
            # even if every event it sent has fallen out of the store since.
            if get_stream is None:
                last = max(last, await session.store.last_get_event())
                get_stream = Stream(session.store)
                get_stream.seq = get_stream.sent = last
    stream = get_stream if get_stream is not None else Stream(session.store)
    stream.id = GET_STREAM
    stream.limit = app.security.max_unsent_bytes
    stream.stall = app.security.stalled_stream_timeout
    session.get_stream = stream
    return stream, replay


async def _resume(
    app: HttpApp, session: Session, name: str, after: int, send: Send, receive: Receive
) -> None:
    """GET with the `Last-Event-ID` of a POST's stream: the events sent after it on that stream
    alone, then, while the request is not answered yet, the rest of the stream as it comes. A stream
    that ended (or that this session never had, or whose events fell out of the store) has nothing
    more to come: what is left of it is sent, and the response ends."""
    stream = session.open_streams.get(name)
    if stream is not None and stream.reading:
        # Its POST (or another GET) is still writing it out: that response ends, this one goes on
        # (two readers would split its events). The stream may have ended meanwhile: looked up again.
        if not await stream.take_over(TAKE_OVER):
            why = "Conflict: this stream is being read"
            await respond(send, 409, session_refusal(why, session.conn.revision))
            return
        stream = session.open_streams.get(name)
    if stream is not None and session.streams >= app.security.max_streams_per_session:
        why = "too many requests of this session are being answered"
        await busy(send, None, why, session.conn.revision)
        return
    follow = app.table.follow
    if stream is None and follow is not None and not Stream.mine(name):
        # Another worker's stream: it may still be sending, and what it sends reaches us through the store.
        await follow(session, name, after, send, receive)
        return
    if stream is not None:
        stream.reading = True  # this response's from here (a resumption meanwhile takes it over from it)
    try:
        found = await session.store.after(f"{name}-{after}")
    except BaseException:
        if stream is not None:
            stream.release()
        raise
    # Held here, the events after the last one written out are still queued: not replayed twice.
    written = stream.sent if stream is not None else None
    replay = (
        [framed(name, seq, data) for seq, data in found[1] if written is None or seq <= written]
        if found is not None
        else []
    )
    if stream is None:
        await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS]})
        await send({"type": "http.response.body", "body": b"".join(replay), "more_body": False})
        return
    await _read_out(app, send, stream, [], session, receive, replay)


async def _read_out(
    app: HttpApp,
    send: Send,
    stream: Stream,
    backlog: list[bytes],
    session: Session,
    receive: Receive,
    replay: list[bytes],
) -> None:
    """Write a session's stream out on a GET, as one of its open requests (`backlog`: messages kept
    for it while it was not open, sent on it first)."""
    session.streams += 1
    stream.reading = True
    for data in backlog:
        stream.put(data)
    try:
        await write_stream(send, stream, [], None, None, session, receive, app.keepalive, replay=replay)
    finally:
        stream.release()
        session.streams -= 1
        session.last_seen = time.monotonic()  # (its client was there all along: idle from now)
