"""The client side of Streamable HTTP: every message a POST; answers as JSON or SSE; sessions; GET stream.

`StreamableHttpTransport` is a message transport for `Client`: `write()` POSTs one message and queues
what comes back (a JSON answer, or the events of an SSE stream) for `read()`. It carries the headers
each era needs: `Mcp-Session-Id` and `MCP-Protocol-Version` on stateful sessions, and on stateless
revisions `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` mirrored from the body. An HTTP error
whose body is no JSON-RPC answer is turned into one for the request it refused, so that the caller
sees a typed error, and the era probe sees a non-modern error and falls back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec

from ... import wire
from ...aio.interfaces import READ_ON
from ...errors import McpError
from ...protocol import jsonrpc, revisions
from ...protocol.framing import EventTooLarge, SseParser
from ...protocol.headers import Peek
from ...protocol.headers import peek as peek_message
from ...protocol.salvage import is_answer_to
from .auth import (
    AUTHORIZATION_FAILED,
    MAX_AUTH_ROUNDS,
    AuthorizationFailed,
    HttpAuth,
    RevisionAware,
    as_http_auth,
    send_again,
)
from .connection11 import Http11Connection
from .http11 import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_MESSAGE,
    MAX_IDLE,
    Exchange,
    HttpClient,
    HttpError,
    Response,
    ResponseTooLarge,
)
from .legacy_sse import LegacySseTransport
from .outgoing import HeaderShapes
from .replies import (
    Reply,
    SseEnd,
    answers,
    discover_version,
    failure,
    read_plain,
    read_reply,
    request_peek,
)
from .unread import DEFAULT_MAX_UNREAD, Unread

if TYPE_CHECKING:
    from ...client.transport import Answers

__all__ = [
    "StreamableHttpTransport",
    "LegacySseTransport",
    "DEFAULT_MAX_MESSAGE",
    "DEFAULT_MAX_RECONNECT_DELAY",
]

log = logging.getLogger("mcpbind.http")

_MAX_RESUMES: Final = 20
DEFAULT_MAX_RECONNECT_DELAY: Final = 30.0
"""The longest a stream's reconnection waits (seconds) by default, whatever the server's SSE `retry`
says: see `max_reconnect_delay`."""
_GET_HEAD_WAIT: Final = 0.5
"""How long a session's first request waits for its GET stream to be open (seconds): at most once."""
_MEDIA_TYPES: dict[str, str] = {}
"""`Content-Type` values as received, and the media type each names (in lower case)."""
_MEDIA_RAW: dict[bytes | None, str] = {}
"""The same, by the value's bytes as read (`Http11Connection.fields`), for the usual answer: filled in
as `_content_type` reads a connection's head. Looked up with None where there is none (never a key:
what a missing value names, the empty media type, is no usual answer's)."""
_MAX_MEDIA_TYPES: Final = 64
"""Values remembered at most (then forgotten all at once: a server that makes them up costs a look-up
per response more, and no more memory than this)."""
_STRUCT_OR_NONE: Final = (msgspec.Struct, type(None))
"""What `write_request` takes params as (made once: a union written in place is made per call)."""
DEFAULT_CANCEL_GRACE: Final = 5.0
"""How long a cancelled session request's stream is read on (seconds): see `cancel_grace`."""


def started_peek(started: tuple[Any, ...]) -> Peek:
    """The `Peek` of a request `StreamableHttpTransport.start_request` (or `send_request`) sent, as
    `request_peek` makes it from what was sent: made there only where its headers needed it."""
    peek: Peek | None = started[2]
    if peek is None:
        peek = request_peek(started[6], started[7], started[8], started[9])
    return peek


class StreamableHttpTransport:
    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: HttpAuth | Callable[[], Awaitable[str | None]] | None = None,
        timeout: float = 300.0,
        get_stream: bool = True,
        client: HttpClient | None = None,
        max_message: int = DEFAULT_MAX_MESSAGE,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_headers: int = DEFAULT_MAX_HEADERS,
        cancel_grace: float = DEFAULT_CANCEL_GRACE,
        max_unread: int = DEFAULT_MAX_UNREAD,
        max_reconnect_delay: float = DEFAULT_MAX_RECONNECT_DELAY,
    ) -> None:
        self.url = url
        self.max_reconnect_delay = max_reconnect_delay
        """The longest a reconnection waits (seconds): a stream that ended before its answer is resumed,
        and the session's GET stream opened again, after the server's SSE `retry` delay or this, if
        shorter. `retry` may say up to 11 days: a request would wait out its whole timeout, and the
        GET stream would stay shut that long."""
        self.cancel_grace = cancel_grace
        """In a session, a request cancelled (or timed out) keeps its stream this long (seconds): what
        the server still sends about the call (its own requests withdrawn, say) arrives; then the stream
        is closed, or at once when the call's answer comes."""
        self._withdrawn: dict[Any, asyncio.TimerHandle] = {}
        """Session requests cancelled whose streams are still read: the timer that ends each."""
        self.max_message = max_message
        """The largest JSON answer, or SSE event, read; a larger one fails its request."""
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        """Limits on a response's head (for the HTTP client this transport makes; one passed as
        `client` keeps its own)."""
        self.headers = dict(headers or {})
        self._shapes = HeaderShapes()
        self.auth = as_http_auth(auth)
        """Authorizes each request; on 401/403 may run a flow and have the request sent again."""
        self.timeout = timeout
        self.want_get_stream = get_stream
        self._client = client
        self._own_client = client is None
        self.session_id: str | None = None
        self.revision: str | None = None
        """`protocol_version`, a plain attribute (read for every request's headers)."""
        self.stateless = False
        """`protocol_version` is a stateless revision (kept with it: read for every request)."""
        self.session_lost = False
        """Set when the server answered 404 for our session: the client initializes again."""
        self.param_headers: dict[str, dict[str, tuple[str, ...]]] = {}
        """Per tool, the `Mcp-Param-*` headers its `x-mcp-header` annotations ask for (from tools/list)."""
        self.max_unread = max_unread
        """Bytes of messages read off responses and not yet taken by `read` (before `deliver_to`, or
        without it): past it, the response they came on is not read on until `read` takes some (the
        server's writes wait, as TCP has them)."""
        self._incoming = Unread(max_unread)
        self.deliver: Callable[[bytes], Awaitable[None]] | None = None
        """Set by the client to take each message as soon as it is read, in the task that read it,
        instead of through `read()` (one turn of the event loop less per answer)."""
        self.answered: Callable[[Any, msgspec.Raw], None] | None = None
        """Set by the client to take a plain result (an integer id, a result, nothing else; ASCII)
        with its envelope already read: see `mcpbind.client.transport.AnswerTransport`."""
        self.answered_whole: Callable[[Any, bytes], bool] | None = None
        """Set with `answered`: offered a POST's whole JSON body first, to read in one pass."""
        self._inflight: dict[Any, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._get_task: asyncio.Task[None] | None = None
        # Set once the session's GET stream is open (or will not be): until then, a request waits for
        # it (at most `_GET_HEAD_WAIT`, once), so that the stream opens before the session's work
        # starts, as it did when every request had a task of its own and the GET's ran first.
        self._get_open: asyncio.Event | None = None
        self._closed = False

    async def start(self) -> None:
        if self._client is None:
            self._client = HttpClient(
                connect_timeout=10.0,
                read_timeout=self.timeout,
                max_body=self.max_message,
                max_header_bytes=self.max_header_bytes,
                max_headers=self.max_headers,
            )

    @property
    def protocol_version(self) -> str | None:
        """Set by the client once negotiated; shapes the headers of every request after that."""
        return self.revision

    @protocol_version.setter
    def protocol_version(self, version: str | None) -> None:
        self.revision = version
        self.stateless = version is not None and revisions.is_modern(version)

    # -- what the client asks of any transport (mcpbind.client.transport.ClientTransport) ----------

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        self.deliver = feed

    def answer_to(self, answers: Answers) -> None:
        self.answered = answers.answered
        self.answered_whole = answers.answered_whole

    def use_revision(self, revision: str | None) -> None:
        self.protocol_version = revision
        if isinstance(self.auth, RevisionAware):
            self.auth.use_revision(revision)

    def session_started(self) -> None:
        self.open_get_stream()

    def take_session_lost(self) -> bool:
        lost, self.session_lost = self.session_lost, False
        return lost

    async def fallback(self, error: McpError) -> LegacySseTransport | None:
        """The spec's backward-compatibility probe: an endpoint that refuses our POSTs with 404 or
        405 may be a 2024-11-05 HTTP+SSE server, whose GET stream names where to post instead."""
        if not error.message.startswith(("HTTP 404", "HTTP 405")):
            return None
        legacy = LegacySseTransport(
            self.url,
            headers=self.headers,
            auth=self.auth,
            max_message=self.max_message,
            max_header_bytes=self.max_header_bytes,
            max_headers=self.max_headers,
            max_unread=self.max_unread,
        )
        try:
            await legacy.start()
        except (ConnectionError, OSError, TimeoutError):
            return None
        except AuthorizationFailed as exc:  # an HTTP+SSE server that refused to be authorized
            raise McpError(
                f"authorization failed: {exc}", code=jsonrpc.INVALID_REQUEST, data=AUTHORIZATION_FAILED
            ) from exc
        await self.close()
        return legacy

    async def read(self) -> bytes | None:
        return await self._incoming.get()

    @property
    def unread(self) -> int:
        """Bytes of the messages read and not yet taken by `read`."""
        return self._incoming.bytes

    async def _push(self, message: bytes) -> None:
        if self.deliver is None:
            await self._incoming.put(message)
        else:
            await self.deliver(message)

    async def _headers(self, peek: Peek | None, method: str = "POST") -> dict[str, str]:
        authorization = await self.auth.headers(method, self.url) if self.auth is not None else None
        return dict(self._shapes.shaped(self, peek, authorization))  # the caller's own: GET adds to it

    async def write(self, data: bytes) -> None:
        try:
            found = peek_message(data)
        except msgspec.DecodeError:
            found = None
        peek = found if isinstance(found, Peek) else None
        if peek is not None and peek.method == "notifications/cancelled":
            rid = peek.params.request_id if peek.params is not None else None
            if not self.stateless:
                # In a session the message is sent, and the stream kept for a while (`cancel_grace`).
                await self._post(data, peek, self.timeout)
                if rid in self._inflight and rid not in self._withdrawn:
                    loop = asyncio.get_running_loop()
                    self._withdrawn[rid] = loop.call_later(self.cancel_grace, self._end_stream, rid)
                return
            # Over HTTP a stateless request is cancelled by closing its stream, not by a message.
            self._end_stream(rid)
            return
        if peek is not None and peek.method == "server/discover" and self.protocol_version is None:
            self.protocol_version = discover_version(data)
        if peek is None or peek.id is None or peek.method is None:
            # A notification or an answer of ours (no answer comes back: the server says 202) is
            # POSTed in the caller's task, so that it reaches the server before whatever the caller
            # sends next: `notifications/initialized` before the first request, which `write_request`
            # POSTs at once.
            await self._post(data, peek, self.timeout)
            return
        if self._get_open is not None:
            await self._await_get_stream()
        # The POST forgets its own task when it ends (no done callback: a turn of the loop each).
        task = asyncio.get_running_loop().create_task(self._post(data, peek))
        self._tasks.add(task)
        if peek is not None and peek.id is not None and peek.method is not None:
            self._inflight[peek.id] = task

    def _end_stream(self, rid: Any) -> None:
        """Close the stream of a request that was cancelled (nothing about it is read any more)."""
        timer = self._withdrawn.pop(rid, None)
        if timer is not None:
            timer.cancel()
        task = self._inflight.pop(rid, None)
        if task is not None:
            task.cancel()
            # (Cancelled before it ran, its POST never reaches the `finally` that forgets it.)
            task.add_done_callback(self._tasks.discard)

    def write_request(
        self, data: bytes, rid: Any, method: str, params: Any, timeout: float | None
    ) -> Awaitable[None]:
        """`write` for a request of ours whose method and params the caller gives (not read again from
        `data`), POSTed in the caller's task: an answer that is one JSON body, all there with its
        head, is delivered before the POST ends, with no task. Anything longer (an SSE stream, a body
        still coming) is read on by a task of its own, as `write` does. The head is awaited at most
        `timeout`, the request's own: meanwhile the caller is not awaiting its answer's deadline.
        The caller awaits what this returns (the POST's own coroutine, usually: no frame of its own
        around every request), at once."""
        if not isinstance(params, _STRUCT_OR_NONE):
            return self.write(data)  # params in JSON form (or anything else): read from the bytes
        if method == "server/discover" and self.revision is None:
            self.protocol_version = discover_version(data)
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        peek = request_peek(rid, method, params, self.stateless)
        if self._get_open is not None:
            return self._post_after_get(data, peek, limit)
        return self._post(data, peek, limit)

    def start_request(
        self, data: bytes, rid: Any, method: str, params: Any, timeout: float | None
    ) -> tuple[Any, ...] | None:
        """`write_request` with no coroutine, for the usual request (no auth hook, the session's GET
        stream open or none, an idle kept-alive connection): its POST written at once, and what the
        caller awaits, first of what this returns (a future: done once a read brought some of the
        answer, or failed), then hands back to `finish_request` with how that wait ended. None:
        nothing was sent (`write_request` sends it)."""
        return self.send_request(data, rid, method, params, timeout, None)

    def send_request(
        self,
        data: bytes,
        rid: Any,
        method: str,
        params: Any,
        timeout: float | None,
        future: asyncio.Future[Any] | None,
    ) -> tuple[Any, ...] | None:
        """`start_request`, its wait on `future`, the request's own, which the read resolves with the
        usual answer's result itself (`_take_now`), the connection handed back there: see
        `TakingTransport`. With None, `start_request`; None for `initialize` (`start_request`'s)."""
        client = self._client
        if (
            client is None
            or (future is not None and method == "initialize")
            or self.auth is not None
            or self._get_open is not None
            or not isinstance(params, _STRUCT_OR_NONE)
            or (method == "server/discover" and self.revision is None)
        ):
            return None
        own = self.timeout
        # (`min(timeout, own)`, with no call)
        limit = own if timeout is None or own < timeout else timeout
        # (`request_peek`, and `HeaderShapes.shaped`'s look-up while the state it was made in holds,
        # inline for the usual request: a stateful one, or a stateless `tools/call` of a tool that
        # mirrors no argument into a header)
        # The request's `Peek` is made only where it is read: for headers not found made, or by
        # `finish_request` (`started_peek`), not for the usual answer, which the read takes.
        shapes = self._shapes
        found: dict[str, str] | None = None
        peek: Peek | None = None
        holds = (
            self.session_id == shapes.session
            and self.revision == shapes.version
            and self.headers == shapes.base
        )
        stateless = self.stateless
        if params is None or not stateless:
            if holds:
                found = shapes.routes.get((None, None))
        elif method == "tools/call":
            try:  # (`getattr(params, "name", None)`, with no builtin call: a tool's call has a name)
                name = params.name  # type: ignore[attr-defined]  # (any Struct: absent, None)
            except AttributeError:
                name = None
            if holds and type(name) is str and not self.param_headers:
                found = shapes.routes.get((method, name))
        else:
            peek = request_peek(rid, method, params, True)
        if found is not None:
            headers = found
        else:
            if peek is None:
                peek = request_peek(rid, method, params, stateless)
            headers = shapes.shaped(self, peek, None)
        conn = client.post_idle(self.url, headers, data, limit, future)
        if conn is None:
            return None
        if future is not None:
            conn.taking = self._take_now
            conn.answering = rid
        return (conn.waiter, conn, peek, headers, data, limit, rid, method, params, stateless)

    def _take_now(self, conn: Http11Connection, future: asyncio.Future[Any]) -> None:
        """A read brought more of the answer to a request of `send_request`'s (or its connection
        ended): the usual answer (a 200 of JSON, of a media type seen before, its body in one piece
        within the limit, a plain result to the request that its reader takes whole) taken here,
        its result the request's `future`'s, the connection back to the idle ones; anything else
        wakes the request (`READ_ON`) to take it on as `finish_request` does, nothing of it taken."""
        rid = conn.answering
        pieces = conn.body
        client = self._client
        if (
            conn.status == 200
            and type(rid) is int
            and not conn.paused
            and client is not None
            and "location" not in conn.fields
            and _MEDIA_RAW.get(conn.fields.get("content-type")) == "application/json"
        ):
            if not conn.complete:
                if conn.buffered <= client.max_body and conn.error is None:
                    # The head of the usual answer, its body still to come (in the next read,
                    # nearly always): waited for, as its wait's deadline has it.
                    conn.taking = self._take_now
                    return
            elif len(pieces) == 1:
                body = pieces[0]
                take_whole = self.answered_whole
                if body and len(body) <= client.max_body and take_whole is not None:
                    try:
                        taken = take_whole(rid, body)
                    except Exception:  # (taken on as `finish_request` does, which reports it)
                        taken = False
                    if taken:
                        pieces.clear()
                        conn.buffered = 0
                        conn.answering = None  # (answered: the request's caller is told so)
                        # (`client.done_with(conn, True)`, inline for the usual connection)
                        if conn.keep_alive and not conn.closed and conn.error is None and not client.closed:
                            idle = client.idle.get(conn.key)
                            if idle is not None and len(idle) < MAX_IDLE:
                                idle.append(conn)
                                return
                        client.done_with(conn, True)
                        return
        future.set_result(READ_ON)

    def finish_request(self, started: tuple[Any, ...], error: BaseException | None) -> Awaitable[None] | None:
        """The rest of a request `start_request` sent, once its future's wait ended (`error`: how it
        failed): as `write_request` would have taken it. None: its answer was delivered (or its
        request failed, typed) with no coroutine; else what remains, for the caller to await at once.
        A cancelled wait is raised again, the connection given up."""
        conn, headers, data, inline = started[1], started[3], started[4], started[5]
        peek = started_peek(started)
        client = self._client
        assert client is not None
        if error is None:
            if conn.complete and "location" not in conn.fields:
                # (`_took`'s way, inline for the usual answer: a 200 of JSON (a media type seen
                # before) to anything but `initialize`, its body in one piece, a plain result its
                # request's reader takes whole.)
                pieces = conn.body
                if (
                    conn.status == 200
                    and len(pieces) == 1
                    and not conn.paused
                    and peek is not None
                    and peek.method != "initialize"
                    and _MEDIA_RAW.get(conn.fields.get("content-type")) == "application/json"
                ):
                    body = pieces[0]
                    pieces.clear()
                    conn.buffered = 0
                    try:
                        if len(body) > client.max_body:
                            conn.close()
                            raise ResponseTooLarge(
                                f"the response body exceeds the limit of {client.max_body} bytes"
                            )
                        rid = peek.id
                        if (
                            type(rid) is not int
                            or not body
                            or (take_whole := self.answered_whole) is None
                            or not take_whole(rid, body)
                        ):
                            messages = self._answer(conn, body, "application/json", rid, peek)
                            if messages:
                                return self._took_on(conn, peek, self._push_all(messages))
                    except Exception as exc:
                        client.done_with(conn, False)
                        self._failed(exc, peek)
                        return None
                    # (`client.done_with(conn, True)`, inline for the usual connection: kept alive,
                    # complete and open, its answer taken whole, back to the idle ones)
                    if conn.keep_alive and not conn.closed and conn.error is None and not client.closed:
                        idle = client.idle.get(conn.key)
                        if idle is not None and len(idle) < MAX_IDLE:
                            idle.append(conn)
                            return None
                    client.done_with(conn, True)
                    return None
                try:
                    return self._took(conn, peek, headers, inline)
                except Exception as exc:
                    client.done_with(conn, False)
                    self._failed(exc, peek)
                    return None
        elif not isinstance(error, HttpError) or conn.started:
            # (The wait's timeout, a connection that failed with its answer begun, a cancellation.)
            client.done_with(conn, False)
            if not isinstance(error, Exception):
                raise error
            self._failed(error, peek)
            return None
        return self._idle_rest(conn, peek, headers, data, inline, error)

    async def _idle_rest(
        self,
        conn: Http11Connection,
        peek: Peek | None,
        headers: dict[str, str],
        data: bytes,
        inline: float,
        error: BaseException | None,
    ) -> None:
        """`finish_request`'s rest: the head still to come, a redirect, a body still coming, or the POST
        to send again (`error`: the kept-alive connection closed as it went out, nothing answered)."""
        client = self._client
        assert client is not None
        try:
            if error is None:
                try:
                    while not conn.head_done:
                        await conn.waiting(inline)
                except HttpError as exc:
                    error = exc
                except BaseException:
                    client.done_with(conn, False)
                    raise
            if error is not None:
                client.done_with(conn, False)
                if conn.started:
                    raise error
                # The server closed the kept-alive connection as the request went out (no byte of
                # answer came, so nothing was answered): sent again, as `request` would, on another
                # connection.
                await self._post(data, peek, inline, resent=True)
                return
            if conn.complete and "location" not in conn.fields:
                try:
                    rest = self._took(conn, peek, headers, inline)
                except BaseException:
                    client.done_with(conn, False)
                    raise
                if rest is not None:
                    await rest
                return
            exchange, response = await client.adopt(conn, self.url, headers, data, inline)
            await self._answered(exchange, response, peek, headers, True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, peek)

    def _took(
        self, conn: Http11Connection, peek: Peek | None, headers: dict[str, str], inline: float
    ) -> Awaitable[None] | None:
        """The whole answer to a POST of `post_idle`'s taken, the connection handed back: None; or
        what remains (messages for the peer's reading, an SSE stream all there, a 202), a coroutine
        that hands it back. Raises what fails it (the connection still to be handed back)."""
        client = self._client
        assert client is not None
        rid = peek.id if peek is not None else None
        status = conn.status
        # (`_content_type`, inline for the usual answer: a 200 to anything but `initialize`, of a
        # media type seen before, notes nothing.)
        content_type = (
            _MEDIA_RAW.get(conn.fields.get("content-type", b""))
            if status == 200 and peek is not None and peek.method != "initialize"
            else None
        )
        if content_type is None:
            content_type = self._content_type(conn, peek, headers.get("mcp-session-id"))
        if content_type in (None, "text/event-stream"):
            response = Response(conn, inline, client.max_body, client.max_line)
            return self._took_on(conn, peek, self._consume(response, rid, peek, content_type))
        pieces = conn.body
        if len(pieces) == 1 and not conn.paused:  # (`take`, inline: most)
            body = pieces[0]
            pieces.clear()
            conn.buffered = 0
        else:
            body = conn.take() if pieces else b""
        if len(body) > client.max_body:
            conn.close()
            raise ResponseTooLarge(f"the response body exceeds the limit of {client.max_body} bytes")
        # (`_answer`'s first step, inline: nearly every answer is a plain result its request's
        # reader takes whole.)
        if (
            status != 200
            or content_type != "application/json"
            or type(rid) is not int
            or not body
            or (take_whole := self.answered_whole) is None
            or not take_whole(rid, body)
        ):
            assert content_type is not None
            messages = self._answer(conn, body, content_type, rid, peek)
            if messages:
                return self._took_on(conn, peek, self._push_all(messages))
        client.done_with(conn, True)
        return None

    async def _took_on(self, conn: Http11Connection, peek: Peek | None, rest: Awaitable[None]) -> None:
        """`_took`'s rest (`rest`), then the connection handed back; a failure fails the request."""
        client = self._client
        assert client is not None
        done = False
        try:
            await rest
            done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, peek)
        finally:
            client.done_with(conn, done)

    async def _push_all(self, messages: tuple[bytes, ...]) -> None:
        for message in messages:
            await self._push(message)

    async def _post_after_get(self, data: bytes, peek: Peek, limit: float) -> None:
        """`_post`, once the session's GET stream is open (the session's first request)."""
        await self._await_get_stream()
        await self._post(data, peek, limit)

    async def _post(
        self, data: bytes, peek: Peek | None, inline: float | None = None, resent: bool = False
    ) -> None:
        """POST one message and take what comes back. In a task of its own (`write`); or, given
        `inline` (the read timeout), in the caller's, which is left once the answer is delivered or
        once its head shows that more is to come (then read on by a task: `_hand_over`). `resent`:
        sent again, on a new connection, after a kept-alive one closed as it went out."""
        client = self._client
        assert client is not None, "start() first"
        rid = peek.id if peek is not None else None
        try:
            for attempt in range(MAX_AUTH_ROUNDS + 1):
                # (No coroutine for the headers when there is no auth hook to ask.)
                headers = (
                    self._shapes.shaped(self, peek, None) if self.auth is None else await self._headers(peek)
                )
                # Nearly every request: written at once on an idle connection, and its answer, whole
                # in the read that brought its head, taken with no exchange (`finish_request`).
                conn = (
                    client.post_idle(self.url, headers, data, inline)
                    if inline is not None and self.auth is None and not resent
                    else None
                )
                if conn is not None:
                    assert inline is not None
                    error: BaseException | None = None
                    try:
                        armed = conn.waiter  # (by `post_idle`)
                        assert armed is not None
                        await armed
                    except BaseException as exc:
                        error = exc
                    rest = self.finish_request((armed, conn, peek, headers, data, inline), error)
                    if rest is not None:
                        await rest
                    return
                exchange = (
                    client.request("POST", self.url, headers, data)
                    if inline is None
                    else Exchange(client, "POST", self.url, headers, data, inline)  # (`request`'s)
                )
                exchange.resent = resent
                response = await exchange.__aenter__()
                if self.auth is not None:
                    try:
                        again = await send_again(self.auth, "POST", self.url, headers, response, attempt)
                    except BaseException:
                        exchange.release(False)
                        raise
                    if again:
                        exchange.release(True)
                        continue
                await self._answered(exchange, response, peek, headers, inline is not None)
                break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, peek)
        finally:
            if inline is None:
                self._forget(rid)

    async def _answered(
        self, exchange: Exchange, response: Response, peek: Peek | None, headers: dict[str, str], inline: bool
    ) -> None:
        """What came back on `exchange` for a POST sent with `headers` (`_post`'s and `_idle_rest`'s):
        a body all there taken at once, anything else read to its end; `inline` (in the caller's
        coroutine), a body still coming is read on by a task of its own (`_hand_over`). The exchange
        released (or handed over) however it ends."""
        done = handed = False  # done: ended as it should (the connection may be reused)
        try:
            sent = headers.get("mcp-session-id")
            complete = response.complete  # (read once: nothing arrives before the next wait)
            if inline and not complete:
                self._hand_over(exchange, response, peek, sent)
                handed = True
                return
            rid = peek.id if peek is not None else None
            content_type = self._content_type(response, peek, sent)
            if complete and content_type not in (None, "text/event-stream"):
                # A body all there (most answers): taken with no coroutine, unless a message must go
                # through the peer's reading (`_push`).
                whole = response.read_nowait()
                assert whole is not None and content_type is not None
                for message in self._answer(response, whole, content_type, rid, peek):
                    await self._push(message)
            else:
                await self._consume(response, rid, peek, content_type)
            done = True
        finally:
            if not handed:
                exchange.release(done)

    def _hand_over(self, exchange: Exchange, response: Response, peek: Peek | None, sent: str | None) -> None:
        """The rest of an inline POST's answer (an SSE stream, a body still coming), read by a task of
        its own: registered as `write`'s are, so that cancelling the request or closing ends it."""
        task = asyncio.get_running_loop().create_task(self._read_on(exchange, response, peek, sent))
        self._tasks.add(task)
        if peek is not None and peek.id is not None:
            self._inflight[peek.id] = task

    async def _read_on(
        self, exchange: Exchange, response: Response, peek: Peek | None, sent: str | None
    ) -> None:
        rid = peek.id if peek is not None else None
        done = False
        try:
            await self._consume(response, rid, peek, self._content_type(response, peek, sent))
            done = True
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, peek)
        finally:
            exchange.release(done)
            self._forget(rid)

    def _forget(self, rid: Any) -> None:
        """A POST's task ends: it forgets itself (no done callback: a turn of the loop each)."""
        if rid is not None:
            self._inflight.pop(rid, None)
            if self._withdrawn:  # (a cancelled request's stream ended before its grace did)
                timer = self._withdrawn.pop(rid, None)
                if timer is not None:
                    timer.cancel()
        current = asyncio.current_task()
        if current is not None:
            self._tasks.discard(current)

    def _failed(self, exc: Exception, peek: Peek | None) -> None:
        """A POST failed: its request fails with the cause (a notification's failure is dropped)."""
        if not isinstance(exc, AuthorizationFailed | HttpError | OSError | TimeoutError):
            log.exception("a POST failed", exc_info=exc)  # `auth` failing, say: not the connection's
        if peek is not None and peek.id is not None and peek.method is not None:
            self._fail(peek.id, *failure(exc, peek.method))

    def _fail(
        self, rid: Any, message: str, code: int = jsonrpc.INTERNAL_ERROR, data: Any = msgspec.UNSET
    ) -> None:
        self._incoming.put_nowait(jsonrpc.encode_error(rid, code, message, data))

    async def _consume(
        self, response: Response, rid: Any, peek: Peek | None, content_type: str | None
    ) -> None:
        """Take what a POST's response brings (its head noted: `_content_type`): the events of an
        SSE stream, or its body's message."""
        if content_type is None:
            if rid is not None and peek is not None and peek.method is not None:
                # 202 is for what needs no answer: a request must have its answer in the response
                # (JSON or a stream), which can come no other way.
                self._fail(
                    rid,
                    f"HTTP 202 with no body, where the answer to {peek.method} was due",
                    jsonrpc.INVALID_REQUEST,
                )
            return
        if content_type == "text/event-stream" and response.status == 200:
            end = await self._read_sse(response, rid)
            if rid is not None and peek is not None and peek.method is not None and not end.answered:
                await self._resume(end, rid)
            return
        body = response.read_nowait()  # (no coroutine for a body that is all there)
        if body is None:
            body = await response.read()
        for message in self._answer(response, body, content_type, rid, peek):
            await self._push(message)

    def _content_type(
        self, response: Response | Http11Connection, peek: Peek | None, sent: str | None
    ) -> str | None:
        """What a response's head says, noted (the session it starts, or ends); its content type
        (None: there is no body to read, 202). `sent`: the session the request named."""
        if peek is not None and peek.method == "initialize":
            self.session_id = response.headers.get("mcp-session-id")
        elif response.status == 404 and sent is not None and sent == self.session_id and not self.stateless:
            # (A 404 for a session before the current one, ended already, says nothing of this one.)
            # The server ended the session (or forgot it): the client must start a new one.
            self.session_id = None
            self.session_lost = True
        if response.status == 202:
            return None
        # (Media types are case-insensitive: RFC 9110, 8.3.1.)
        given = response.headers.get("content-type", "")
        media = _MEDIA_TYPES.get(given)  # (every answer names one of a few: each read once)
        if media is None:
            media = given.split(";")[0].strip().lower()
            if len(_MEDIA_TYPES) >= _MAX_MEDIA_TYPES:
                _MEDIA_TYPES.clear()
            _MEDIA_TYPES[given] = media
        if type(response) is Http11Connection:
            # (Found again by the bytes as read: `_MEDIA_RAW`.)
            if len(_MEDIA_RAW) >= _MAX_MEDIA_TYPES:
                _MEDIA_RAW.clear()
            _MEDIA_RAW[response.fields.get("content-type", b"")] = media
        return media

    def _answer(
        self,
        response: Response | Http11Connection,
        body: bytes,
        content_type: str,
        rid: Any,
        peek: Peek | None,
    ) -> tuple[bytes, ...]:
        """A response's whole body (no SSE stream): its answer delivered (`answered`) or its request
        failed, typed, here; the messages left for the peer to read (`_push`) returned."""
        if response.status in (401, 403) and rid is not None:
            # Not a JSON-RPC answer (an OAuth error body, typically): the request failed, typed.
            challenge = response.headers.get("www-authenticate", "")
            self._fail(
                rid,
                f"HTTP {response.status}: {'unauthorized' if response.status == 401 else 'forbidden'}"
                + (f" ({challenge})" if challenge else ""),
                jsonrpc.INVALID_REQUEST,
                AUTHORIZATION_FAILED,
            )
            return ()
        if content_type == "application/json" and body:
            answered = self.answered
            if answered is not None and type(rid) is int and response.status < 300:
                # Nearly every answer, taken first: a plain result to this POST's request, read
                # with its result in one pass by the client (`answered_whole`), or its envelope
                # read here in one step (no other member), not read again by the peer (what
                # `ClientPeer.feed` does with such a message; ASCII: valid UTF-8). Anything
                # else is read below, as the way below would take this.
                whole = self.answered_whole
                if whole is not None and whole(rid, body):
                    return ()
                try:
                    plain = read_plain(body)
                except (msgspec.DecodeError, RecursionError):
                    pass
                else:
                    if plain.id == rid and body.isascii():
                        answered(rid, plain.result)
                        return ()
            try:
                # Only the envelope is read here: the peer decodes the result into its type.
                reply = read_reply(body)
            except (msgspec.DecodeError, RecursionError) as exc:
                # No envelope to read (or nested too deeply for the decoder): the peer's reading
                # fails the request it names with the cause. A body that does not name this
                # POST's request (not JSON at all, whatever its Content-Type says) still answers
                # it: its request fails now rather than waiting out its timeout.
                if (
                    rid is not None
                    and peek is not None
                    and peek.method is not None
                    and not is_answer_to(body, rid)
                ):
                    detail = wire.TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
                    self._fail(
                        rid,
                        f"the answer to {peek.method} could not be read: its HTTP {response.status} "
                        f"body, said to be JSON, is not ({detail})",
                        jsonrpc.PARSE_ERROR,
                    )
                    return ()
                return (body,)
            if (
                answered is not None
                and type(reply) is Reply
                and type(reply.id) is int
                and type(rid) is int
                and reply.id == rid
                and reply.result is not msgspec.UNSET
                and reply.error is msgspec.UNSET
                and reply.method is msgspec.UNSET
                and reply.jsonrpc == "2.0"
                and response.status < 300
                and body.isascii()
            ):
                # A plain result with members besides (unknown ones, ignored), taken as above.
                answered(reply.id, reply.result)
                return ()
            if isinstance(reply, list):
                items = tuple(bytes(item) for item in reply)
                if rid is not None and peek is not None and peek.method is not None:
                    if not any(answers(item, rid) for item in items):
                        self._stray(rid, peek.method, response.status)
                return items
            if reply.jsonrpc == "2.0" and reply.error is not msgspec.UNSET and rid is not None:
                if (
                    reply.id is msgspec.UNSET
                    or reply.id is None
                    or (response.status >= 400 and reply.id != rid)
                ):
                    # An HTTP-level refusal (the TypeScript SDK's HTTP 400 to a request it will not
                    # take, say) answers the request it refused, whatever id it carries.
                    message = msgspec.json.decode(body)
                    message["id"] = rid
                    body = msgspec.json.encode(message)
                    return (body,)
            if (
                rid is not None
                and peek is not None
                and peek.method is not None
                and (reply.method is not msgspec.UNSET or type(reply.id) is not type(rid) or reply.id != rid)
            ):
                # The one JSON answer a request's POST may have is not its answer (another id, or no
                # answer at all): the request fails now rather than waiting out its timeout. The
                # body is still read, as any message of the server's.
                self._stray(rid, peek.method, response.status)
                return (body,)
            if reply.jsonrpc == "2.0" and reply.error is not msgspec.UNSET and rid is not None:
                return (body,)
            if reply.jsonrpc == "2.0" and reply.result is not msgspec.UNSET and response.status < 300:
                answered = self.answered
                if (
                    answered is not None
                    and type(reply.id) is int
                    and reply.method is msgspec.UNSET
                    and reply.error is msgspec.UNSET
                    and body.isascii()
                ):
                    # A plain result, its envelope read here: to its request, not read again by the
                    # peer (what `ClientPeer.feed` does with such a message; ASCII: valid UTF-8).
                    answered(reply.id, reply.result)
                    return ()
                return (body,)
        if rid is not None and peek is not None and peek.method is not None:
            self._fail(
                rid,
                f"HTTP {response.status}: {body[:200].decode('utf-8', 'replace')}"
                if body
                else f"HTTP {response.status} with no body, where the answer to {peek.method} was due",
                code=jsonrpc.METHOD_NOT_FOUND if response.status == 404 else jsonrpc.INVALID_REQUEST,
            )
        return ()

    def _stray(self, rid: Any, method: str, status: int) -> None:
        """Fail request `rid`, whose POST's JSON body (HTTP `status`) does not answer it."""
        self._fail(
            rid,
            f"the answer to {method} did not come: its HTTP {status} body, said to be JSON, answers"
            " no request of its POST",
            jsonrpc.INVALID_REQUEST,
        )

    async def _read_sse(self, response: Response, rid: Any = None) -> SseEnd:
        """Queue the data of each `message` event (MCP's messages; an event of another type, a
        server's keep-alive `ping` say, is not one: skipped, as an EventSource would); say how the
        stream ended: the last event id, the server's `retry` (ms), and whether the answer to `rid`
        came."""
        parser = SseParser(self.max_message)
        end = SseEnd()
        try:
            async for chunk in response.chunks():
                for event in parser.feed(chunk):
                    if event.event == "message":
                        await self._event(event.data, rid, end)
            for event in parser.end():
                if event.event == "message":
                    await self._event(event.data, rid, end)
        except EventTooLarge as exc:
            raise ResponseTooLarge(str(exc)) from None  # the connection is not reused: `async with` ends
        end.last_id, end.retry_ms = parser.last_id, parser.retry
        return end

    async def _event(self, payload: bytes, rid: Any, end: SseEnd) -> None:
        if payload:  # an event with empty data only primes the client with its id
            await self._push(payload)
            if rid is not None and not end.answered:
                end.answered = answers(payload, rid)
                if end.answered and rid in self._withdrawn:
                    self._end_stream(rid)  # a cancelled call's answer: nothing more is awaited on it

    async def _resume(self, end: SseEnd, rid: Any) -> None:
        """A POST's stream closed before its answer: reconnect with GET and `Last-Event-ID`, after the
        server's `retry` delay (1 s without one; at most `max_reconnect_delay`), until the answer comes
        (bounded)."""
        assert self._client is not None
        for _ in range(_MAX_RESUMES):
            if end.answered or self._closed:
                return
            if end.last_id is None:
                # Nothing to resume from: the answer will never come, so the request fails now
                # rather than at its timeout.
                self._fail(
                    rid,
                    "the server ended the answer's stream without the answer (and without an event id"
                    " to resume from)",
                )
                return
            await asyncio.sleep(self._reconnect_delay(end.retry_ms if end.retry_ms is not None else 1000))
            more = await self._get(rid, end.last_id)
            if more is None:
                break
            end = SseEnd(more.last_id or end.last_id, more.retry_ms or end.retry_ms, more.answered)
        if not end.answered:
            self._fail(rid, "the answer's stream ended and could not be resumed")

    def _reconnect_delay(self, retry_ms: int) -> float:
        """How long to wait (seconds) before reconnecting after a server's SSE `retry` of `retry_ms`."""
        return min(retry_ms / 1000, self.max_reconnect_delay)

    async def _get(self, rid: Any, last_event: str | None, *, endless: bool = False) -> SseEnd | None:
        """One GET stream (resuming after `last_event`; `endless`: no read timeout), read to its end;
        authorized as POSTs are (a 401 runs the hook's flow and the GET is sent again). None: the
        server does not serve it (or kept refusing it)."""
        client = self._client
        assert client is not None
        for attempt in range(MAX_AUTH_ROUNDS + 1):
            headers = await self._headers(None, "GET")
            headers["accept"] = "text/event-stream"
            if last_event is not None:
                headers["last-event-id"] = last_event
            exchange = (
                client.request("GET", self.url, headers, read_timeout=None)
                if endless
                else client.request("GET", self.url, headers)
            )
            async with exchange as response:
                if await send_again(self.auth, "GET", self.url, headers, response, attempt):
                    continue
                if endless and self._get_open is not None:
                    self._get_open.set()
                if response.status != 200:
                    if response.status in (401, 403):
                        log.warning("the server refused the GET stream (HTTP %s)", response.status)
                    return None
                return await self._read_sse(response, rid)
        return None

    def open_get_stream(self) -> None:
        """Stateful sessions: listen for messages that belong to no request on the session's GET stream."""
        if self._get_task is None and self.want_get_stream and self.session_id is not None:
            self._get_open = asyncio.Event()
            self._get_task = asyncio.ensure_future(self._get_loop())

    async def _await_get_stream(self) -> None:
        """Wait (once, bounded) for the session's GET stream to be open: a server may take the first
        GET of a session for the stream it sends on, and a request's answers should not race it."""
        opened = self._get_open
        if opened is not None and not opened.is_set():
            # (`asyncio.timeout`, not `wait_for`: in 3.11 a cancellation that comes as the wait ends
            # is lost by `wait_for`, and the cancelled call went on to its own timeout.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_GET_HEAD_WAIT):
                    await opened.wait()
        self._get_open = None

    async def _get_loop(self) -> None:
        try:
            await self._get_loop_rounds()
        finally:
            if self._get_open is not None:
                self._get_open.set()  # (no stream, or none any more: nothing to wait for)

    async def _get_loop_rounds(self) -> None:
        last_event: str | None = None
        for _ in range(100):
            try:
                end = await self._get(None, last_event, endless=True)
                if end is None:
                    return  # no GET stream here (405), the session ended, or it stays unauthorized
                last_event = end.last_id or last_event
                if end.retry_ms is not None:
                    await asyncio.sleep(self._reconnect_delay(end.retry_ms))
                    continue
            except AuthorizationFailed as exc:
                log.warning("the session's GET stream could not be authorized: %s", exc)
                return
            except ResponseTooLarge as exc:
                log.warning("the session's GET stream was dropped: %s", exc)
            except (HttpError, OSError, TimeoutError):
                pass
            except Exception:  # the hook failing otherwise: the stream ends, the session goes on
                log.exception("the session's GET stream failed")
                return
            if self._closed:
                return
            await asyncio.sleep(0.5)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for timer in self._withdrawn.values():
            timer.cancel()
        self._withdrawn.clear()
        for task in [*self._tasks, *([self._get_task] if self._get_task else [])]:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._get_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._get_task
        if self.session_id is not None and self._client is not None and not self.stateless:
            with contextlib.suppress(HttpError, OSError, TimeoutError, AuthorizationFailed):
                headers = await self._headers(None, "DELETE")
                await asyncio.wait_for(self._delete(headers), 5)
        if self._own_client and self._client is not None:
            await self._client.close()
        self._incoming.put_nowait(None)

    async def _delete(self, headers: dict[str, str]) -> None:
        assert self._client is not None
        async with self._client.request("DELETE", self.url, headers) as response:
            await response.read()
