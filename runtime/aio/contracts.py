"""The contracts between the asyncio layer, the server's connections and the transports under them, as
`typing.Protocol` classes: what a `Peer` reads and writes (`MessageTransport`, and what some transports
do with no coroutine or loop turn), what a request of ours is sent through (`RequestTransport` and
those after it), and `ReplyChannel`, a request's response stream (see `mcpbind.aio.interfaces`, which
names each of them: read there, each is loaded from here on first use).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import asyncio

    from .interfaces import InlineServe, Prepared

__all__ = [
    "BufferedTransport",
    "BurstWriting",
    "InlineHolding",
    "InlineServing",
    "MessageTransport",
    "NowaitWriter",
    "ReplyChannel",
    "RequestTransport",
    "SendingNow",
    "StartingTransport",
    "TakingTransport",
    "WriteHolding",
]


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
