"""The contracts between the asyncio layer, the server's connections and the transports under them.

`MessageTransport` is what a `Peer` reads and writes (`BufferedTransport` and `WriteHolding` with no
coroutine and no loop turn, where it can); `RequestHandler`, `NotificationHandler` and `AnswerNow` are
what it calls with what it reads; `WRITE_WAIT` says how long a write may wait.
`ReplyChannel` is where what a connection sends while serving one request goes, on a transport with
more than one response stream per connection (an HTTP POST's response); `ROUTE` names the channel of
the request being served. stdio has none (None).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Collection, Container, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from ..protocol.endpoint import IncomingNotification, IncomingRequest, LineTooLong
from ..protocol.jsonrpc import RequestId

if TYPE_CHECKING:
    import asyncio

    from .eager import Paused

__all__ = [
    "AnswerLines",
    "AnswerNow",
    "BurstWriting",
    "BufferedTransport",
    "InlineHolding",
    "InlineServe",
    "InlineServing",
    "MessageTransport",
    "NotificationHandler",
    "NowaitWriter",
    "Prepared",
    "READ_ON",
    "ReplyChannel",
    "RequestHandler",
    "RequestTransport",
    "ROUTE",
    "SendingNow",
    "StartingTransport",
    "TakingTransport",
    "WRITE_WAIT",
    "WriteHolding",
    "defines",
]

RequestHandler = Callable[[IncomingRequest], Coroutine[Any, Any, bytes | None]]
"""Answers an incoming request with the encoded response (None: the handler sent nothing, e.g. cancelled)."""
NotificationHandler = Callable[[IncomingNotification], Awaitable[None]]
AnswerNow = Callable[[IncomingRequest], "bytes | Paused | None"]
"""Answers the usual request in one step, with no coroutine of its own: its answer, or the handler
`Paused` at its first wait; None: not such a request, nothing was run (`RequestHandler` serves it)."""
AnswerLines = Callable[
    [
        Sequence[object],
        int,
        int,
        Container[RequestId],
        Container[RequestId],
        Callable[[bytes], object],
        contextvars.Context | None,
    ],
    "int | tuple[int, RequestId, bytes | Paused | None]",
]
"""`AnswerNow` for whole framed lines (`lines`, from `at` to `end`), each read in one pass, its id in
neither container given (the requests running, those queued), its answer written (`write`: False
refuses it, anything else takes it, as a list's `append` does): the index
of the first line left (nothing run: it is read the general way), or (the index after a line whose
call did not end in a written answer, its id, and the answer `write` refused, the handler `Paused`,
or None: no answer). Its last argument: None, or with one line the context it runs in, a copy made
for that line's call, which runs there as it is (no copy of its own)."""

WRITE_WAIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("mcpbind_write_wait", default=None)
"""How long a write may wait for the other side to read (None: as long as it takes), for a transport
whose writes can wait (stdio: a server that stops reading its stdin). A request of ours is written
under its own timeout (`Requester.request`), so that such a server cannot hold it past its timeout; a
best-effort write (a cancellation) under 0."""


class MessageTransport(Protocol):
    async def read(self) -> bytes | None:
        """The next framed message, or None when the peer has closed its side."""
        ...

    async def write(self, data: bytes) -> None:
        """Send one framed message."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class NowaitWriter(Protocol):
    """A transport that can send a message without a coroutine when nothing has to wait. Only a
    transport whose class has the method is taken for one (`defines`)."""

    def write_nowait(self, data: bytes) -> bool:
        """Send one framed message if that needs no wait, and say so; False: nothing was sent (the
        caller sends it with `write`, which waits as the transport's flow control says)."""
        ...


def defines(transport: object, name: str) -> bool:
    """Whether `transport`'s class has `name` itself: a wrapper that passes the names it lacks on to
    the transport it wraps (`__getattr__`) must not be bypassed by a short path of the inner one."""
    return hasattr(type(transport), name)


@runtime_checkable
class BufferedTransport(MessageTransport, Protocol):
    """A transport that can also read and write without a coroutine when nothing has to wait (stdio):
    with many requests in flight, most messages are already read when the peer asks for the next, and
    most answers go out with room to spare. `Peer` uses these for every message it can, `read` and
    `write` for the rest. It may also have `wait_buffered()`: a future to await until
    `read_buffered` has something (None: call `read`), so that waiting for the next message needs no
    coroutine (stdio's)."""

    def read_buffered(self) -> Collection[bytes]:
        """Every message already read and waiting to be taken, oldest first, now the caller's (empty:
        none; `read` then waits for one)."""
        ...

    def write_nowait(self, data: bytes) -> bool:
        """Send one framed message if that needs no wait, and say so; False: nothing was sent (the
        caller sends it with `write`, which waits as the transport's flow control says)."""
        ...


class WriteHolding(Protocol):
    """A transport that batches its writes and lets its one reader send them itself (stdio): a
    peer's read loop holds them while it handles what it read and releases them before it next
    waits, so that no flush has to be scheduled for a later loop turn. Only a transport whose
    class has both methods is taken for one (`defines`)."""

    def hold_writes(self) -> None:
        """From now on, what is written waits for `release_writes` (the caller must call it before
        it, or anything else, waits: until then nothing sends what waits)."""
        ...

    def release_writes(self) -> None:
        """Send what waited since `hold_writes`; writes are sent as usual again."""
        ...


class BurstWriting(Protocol):
    """A `WriteHolding` transport whose writes, while held, can be queued by a plain `list.append`
    (stdio): the lane's answers to the lines of a burst are then queued with no Python call each."""

    def held_writer(self) -> Callable[[bytes], object]:
        """What queues a message while writes are held and the other side reads (`list.append`: None
        is taken), or else `write_nowait`; good until writes are next released."""
        ...


class SendingNow(Protocol):
    """A `WriteHolding` transport that can also send one message at once, after whatever waits before
    it, with no hold around it (stdio): the answer to a read of one line served in its read callback
    (`InlineServing`) goes with no hold and release around it. Only a transport whose class has the
    method is taken for one (`defines`)."""

    def send_now(self, data: bytes) -> bool:
        """Send `data` now, after anything written before it that waits (False: the other side is
        not reading, nothing queued: as `BufferedTransport.write_nowait`)."""
        ...


InlineServe = Callable[[Sequence[bytes | LineTooLong]], Sequence[bytes | LineTooLong]]
"""A reader's own service of a burst of lines read while it waits (`InlineServing`): it serves what it
can at once, oldest first, and gives back the rest (from the first line it cannot serve there), for the
transport to queue for its reader as usual."""


class InlineServing(Protocol):
    """A transport that can hand each burst it reads, while its reader waits with nothing queued, to
    the reader's own service of it as it is read (stdio: in the pipe's read callback), rather than
    wake the reader's task for it: at one request in flight, every request is a future set, a loop
    turn and a task's step saved. Only a transport whose class has the method is taken for one."""

    def serve_inline(self, serve: InlineServe | None) -> None:
        """From now on, every burst read while the reader waits goes to `serve` first (None: no more;
        every line is queued for the reader)."""
        ...


class InlineHolding(Protocol):
    """An `InlineServing` and `WriteHolding` transport whose writes made while it serves a read inline
    wait for the end of that read whatever holds them or not (a WebSocket connection writes them at
    the end of its read callback): its reader holds and releases none around that service, and the
    answer to a lone message served there goes to `write_nowait`, as a `SendingNow` transport's goes
    to `send_now`. Taken for one where `holds_inline_writes` is True (an attribute of the instance:
    it may depend on what the transport is over)."""

    holds_inline_writes: bool
    """Writes made while a read is served inline wait for the end of that read."""


@runtime_checkable
class RequestTransport(MessageTransport, Protocol):
    """A transport that takes each request of ours with what it is (HTTP: its headers come from the
    method and params, and its answer comes back on the request's own exchange), so that it need not
    read the bytes again. `Peer.request` sends through it; everything else goes through `write`."""

    def write_request(
        self, data: bytes, rid: Any, method: str, params: Any, timeout: float | None
    ) -> Awaitable[None]:
        """Send request `rid` (`data`, the encoding of `method` with `params`), once awaited (a
        coroutine function will do; a method may hand back a coroutine of its own: no frame). It
        may end only once the answer has been delivered, but not later than about `timeout` (the
        request's own)."""
        ...


class StartingTransport(RequestTransport, Protocol):
    """A `RequestTransport` that can send the usual request with no coroutine of its own (HTTP: on an
    idle kept-alive connection), so that the caller's coroutine awaits a future directly."""

    def start_request(
        self, data: bytes, rid: Any, method: str, params: Any, timeout: float | None
    ) -> tuple[Any, ...] | None:
        """Send request `rid` (as `write_request`) with no wait: what to await, a future, first of
        what this returns, the whole of which the caller hands to `finish_request` once that wait
        ended. None: nothing was sent (`write_request` sends it)."""
        ...

    def finish_request(self, started: tuple[Any, ...], error: BaseException | None) -> Awaitable[None] | None:
        """What `start_request` began, taken on once its future's wait ended (`error`: how it
        failed; a cancellation is raised again): None, or what remains, for the caller to await at
        once; together, what awaiting `write_request` would have done."""
        ...


READ_ON: Final = object()
"""What a `TakingTransport` resolves a request's future with when its read found no answer to take
there (a head, an SSE stream, an error, a body not all there): the caller takes the request on with
`finish_request`, as after `start_request`'s wait."""


class TakingTransport(StartingTransport, Protocol):
    """A `StartingTransport` whose read takes the usual answer itself: it resolves the request's own
    future with the decoded result (`Answers.answered_whole`), in the read callback, and hands the
    connection back, so that the caller awaits that future alone (one future per request)."""

    def send_request(
        self,
        data: bytes,
        rid: Any,
        method: str,
        params: Any,
        timeout: float | None,
        future: asyncio.Future[Any],
    ) -> tuple[Any, ...] | None:
        """`start_request`, its wait on `future`, the request's own (the one its answer resolves),
        which is first of what this returns. Once awaited: the result, taken by the read, if the
        second member's `answering` is no longer the request's id; else (`READ_ON`, an exception,
        or a result that came some other way: the member's `taking` is still set) the caller takes
        it on with `finish_request`, after putting a new future in the request's place where the
        request is still awaited, and counts the request's deadline from the member's `sent_at`
        (the loop's time as it was sent). None: nothing was sent (`start_request` may send it)."""
        ...


class Prepared:
    """What a transport already read off the request it hands over: the protocol revision it names
    (HTTP: the MCP-Protocol-Version header, checked against `_meta`) and, when the transport decoded
    the whole message at once, its params as that revision's params type (else None)."""

    __slots__ = ("decided", "params", "revision")

    def __init__(self, revision: str, params: Any = None, decided: Any = None) -> None:
        self.revision = revision
        self.params = params
        self.decided = decided
        """The core's decision of the request, when the transport had it made (`dispatch.Dispatch`,
        for `revision`: HTTP's session route, which reads a request in one pass)."""


class ReplyChannel(Protocol):
    """The response stream of one request: its answer, what the handler sends before it, and the
    facts its transport read off the request before handing it over."""

    @property
    def prepared(self) -> Prepared | None:
        """The request's revision and params as its transport already read them, or None."""
        ...

    def put(self, data: bytes, final: bool = False) -> None:
        """Queue one message on the stream (`final`: the answer, after which the stream ends)."""
        ...

    def poll(self, retry_ms: int) -> None:
        """Close the connection carrying the stream once what is queued is sent; the client resumes
        after `retry_ms` (SSE polling). A stream that cannot be resumed ignores it."""
        ...

    @property
    def backed_up(self) -> bool:
        """A message waits for room on the stream: its client reads it more slowly than it is written."""
        ...


ROUTE: contextvars.ContextVar[ReplyChannel | None] = contextvars.ContextVar("mcpbind_route", default=None)
"""The channel of the request being served (None: the connection's own stream). Handler tasks inherit
it from the request that started them; a queued request keeps the context it arrived in."""
