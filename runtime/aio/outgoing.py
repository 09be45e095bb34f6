"""Our side's requests and notifications over a connection: sent, awaited, resolved by their answers.

`Requester` is the half of `Peer` that asks: it allocates ids (through the sans-I/O `Endpoint`, whose
table of pending requests holds each request's future too: one table), writes the request, awaits the
future its answer resolves (with a timeout from a shared timer, see `deadlines`), and fails what is
still awaited when the connection closes. The other half, serving
what the other side asks, is `Peer` itself (`aio.peer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from msgspec import DecodeError, Raw

from .. import wire
from ..errors import RequestTimeout, SessionClosed
from ..protocol.endpoint import Answered, Endpoint, Failed, Pending, ResultDecoder
from ..protocol.jsonrpc import RequestFrame, RequestId, encode_request
from .interfaces import READ_ON, WRITE_WAIT, defines

if TYPE_CHECKING:
    from .contracts import (
        MessageTransport,
        NowaitWriter,
        RequestTransport,
        StartingTransport,
        TakingTransport,
    )
    from .deadlines import Deadlines, Expiry

__all__ = ["Requester", "future_maker"]

_encode = wire.encode

_WriteRequest = Callable[[bytes, RequestId, str, Any, float | None], Awaitable[None]]
"""`RequestTransport.write_request`: a request's bytes, with its id, method, params and timeout."""
_StartRequest = Callable[[bytes, RequestId, str, Any, float | None], "tuple[Any, ...] | None"]
"""`StartingTransport.start_request`."""
_SendRequest = Callable[
    [bytes, RequestId, str, Any, float | None, "asyncio.Future[Any]"], "tuple[Any, ...] | None"
]
"""`TakingTransport.send_request`."""
_FinishRequest = Callable[["tuple[Any, ...]", BaseException | None], "Awaitable[None] | None"]
"""`StartingTransport.finish_request`."""


class Requester:
    """Sends requests of ours and resolves them with the other side's answers."""

    # (Slots: with its subclass's, a peer's state is past the ~30 attributes CPython 3.11 keeps in an
    # instance's compact form; beyond them every attribute read is a dictionary's lookup.)
    __slots__ = (
        "__weakref__",
        "_clock",
        "_deadlines",
        "_expiry",
        "_finish_request",
        "_new_future",
        "_send_nowait",
        "_send_request",
        "_start_request",
        "_write_request",
        "closed",
        "endpoint",
        "transport",
    )

    def __init__(self, transport: MessageTransport, endpoint: Endpoint) -> None:
        self.transport = transport
        self.endpoint = endpoint
        self._deadlines: Deadlines | None = None  # made by the first request with a timeout (cold start)
        self._expiry: Expiry | None = None
        """The deadlines of the last timeout a request had (`Deadlines.expiry`, kept: one lookup less)."""
        self._clock: Callable[[], float] = time.monotonic
        """The time of that loop (`Expiry.clock`), set with `_new_future`."""
        self._new_future: Callable[[], asyncio.Future[Any]] | None = None
        """`create_future` of the loop of our requests (`future_maker`), the loop looked up once: on
        Python 3.11 each lookup is a system call (`getpid`), and a client makes one per call.
        Forgotten when the connection closes."""
        self.closed = asyncio.Event()
        self._send_nowait: Callable[[bytes], bool] | None = None
        self._write_request: _WriteRequest | None = None
        self._start_request: _StartRequest | None = None
        self._send_request: _SendRequest | None = None
        self._finish_request: _FinishRequest | None = None
        self.started()

    def started(self) -> None:
        """Look up the transport's writers (again, once it started: a transport may make them in its
        `start`, as the stdio client's does)."""
        transport = self.transport
        # Our own requests go out with no coroutine where the transport can tell that nothing has to
        # wait (stdio, either side): with many requests in flight, that is nearly every one.
        # (The class's own method makes the transport one of those protocols: no `isinstance`, whose
        # first check of a protocol costs more than the rest of a peer's making.)
        self._send_nowait = (
            cast("NowaitWriter", transport).write_nowait if defines(transport, "write_nowait") else None
        )
        # Requests go with their method and params to a transport that can use them (HTTP); one whose
        # class says so: a wrapper that hands on what it lacks (`__getattr__`) would be passed by.
        if defines(transport, "write_request"):
            self._write_request = cast("RequestTransport", transport).write_request
            # And, where it can, the request sent with no coroutine of the transport's: the caller's
            # awaits the transport's future itself (one coroutine level less per request).
            if defines(transport, "start_request"):
                starting = cast("StartingTransport", transport)
                self._start_request, self._finish_request = starting.start_request, starting.finish_request
                # And, where it can, the usual answer taken by the read itself: the caller awaits the
                # request's own future alone.
                if defines(transport, "send_request"):
                    self._send_request = cast("TakingTransport", transport).send_request

    @property
    def awaited(self) -> int:
        """Requests of ours awaiting the other side's answer."""
        return self.endpoint.pending

    async def send(self, data: bytes) -> None:
        # Every transport writes a whole frame per call, so concurrent sends cannot interleave.
        await self.transport.write(data)

    async def request(
        self,
        method: str,
        params: Any,
        decode: ResultDecoder,
        timeout: float | None = None,
        on_cancel: Callable[[RequestId], Awaitable[None]] | None = None,
    ) -> Any:
        """Send a request and await its decoded result; raises McpError, RequestTimeout or SessionClosed.
        (`timeout` and `on_cancel` may be passed by position: a client's every request does.)"""
        # (`endpoint.request`, inline, the future kept in its table: this is every request)
        endpoint = self.endpoint
        if endpoint.closed:
            raise SessionClosed("the connection is closed")
        rid = endpoint.next_id()
        if params is not None:
            data = _encode(RequestFrame("2.0", rid, method, params))
        else:
            data = encode_request(rid, method, None)
        new_future = self._new_future
        if new_future is None:
            loop = asyncio.get_running_loop()
            new_future = self._new_future = future_maker(loop)
            self._clock = time.monotonic if type(loop).time is asyncio.BaseEventLoop.time else loop.time
        future = new_future()
        endpoint.table[rid] = Pending(method, decode, future)
        try:
            write_request = self._write_request
            if write_request is None:
                # Expiry on the future itself (asyncio.wait_for costs a waiter and callbacks per
                # request), from a timer shared by the requests with the same timeout (one each
                # costs more still).
                if timeout is not None:
                    expiry = self._expiry  # (the last timeout's queue: nearly every request has the same)
                    if expiry is None or expiry.timeout != timeout:
                        expiry = self._expiry_of(timeout, future)
                    # (`expiry.add`, inline: this is every request; by id, see `Awaited`)
                    futures = expiry.futures
                    futures.append(rid)
                    expiry.deadlines.append(expiry.clock() + timeout)
                    if len(futures) >= expiry.compact_at:
                        expiry.compact()
                    if expiry.timer is None:
                        expiry.arm()
                send = self._send_nowait
                if send is None or not send(data):
                    # The write may wait (stdio: for the other side to read), but not past the
                    # request's own timeout.
                    token = WRITE_WAIT.set(timeout)
                    try:
                        await self.transport.write(data)  # as `send` does
                    finally:
                        WRITE_WAIT.reset(token)
            elif timeout is not None:
                # The transport waits for the answer's head no longer than the timeout (the POST's
                # own deadline) and delivers nearly every answer before it returns: the request's
                # deadline, which counts from now, is queued only for an answer still to come.
                # (The request's deadline counts from its send: the time the transport read as it
                # sent it, `sent_at` of the connection, or the clock read here before sending.)
                clock = self._clock
                send_request = self._send_request
                started = (
                    send_request(data, rid, method, params, timeout, future)
                    if send_request is not None
                    else None
                )
                if started is not None:
                    # The usual answer resolves `future` itself, as its read takes it (`TakingTransport`).
                    conn = started[1]
                    try:
                        value = await future
                    except BaseException as exc:
                        error: BaseException | None = exc
                    else:
                        if value is not READ_ON and conn.answering != rid:
                            return value  # (taken by the read: nearly every answer)
                        error = None
                    again = self._take_on(rid, future, conn, error, method, decode)
                    sent_at: float = conn.sent_at  # (still the request's: `finish_request` hands it back)
                    if again is None:
                        # Settled some other way while the POST waited (the session's stream,
                        # the connection's end): its answer is read as `finish_request` does,
                        # then the request ends as it was settled.
                        rest = self._finish_request(started, None)  # type: ignore[misc]
                        if rest is not None:
                            await rest
                        if error is not None:
                            raise error
                        return value
                    future = again
                    rest = self._finish_request(started, error)  # type: ignore[misc]
                    if rest is not None:
                        await rest
                    start = None
                else:
                    sent_at = clock()
                    start = self._start_request
                    started = start(data, rid, method, params, timeout) if start is not None else None
                if started is None:
                    await write_request(data, rid, method, params, timeout)
                elif start is not None:
                    # (`write_request`, awaited, in two steps around the wait for its answer: no
                    # coroutine of the transport's between this one and that future)
                    finish = self._finish_request
                    assert finish is not None
                    try:
                        await started[0]
                    except BaseException as exc:
                        rest = finish(started, exc)
                    else:
                        rest = finish(started, None)
                    if rest is not None:
                        await rest
                if clock() - sent_at >= timeout:
                    # Its time ran out while the POST waited (for the session's GET stream, an
                    # authorization flow): it timed out then, as its timer would have had it.
                    _drop(future)
                    raise TimeoutError
                if future.done():  # (nearly every answer: delivered as the POST ended)
                    return future.result()  # (as `await` gives it, with no iterator made)
                self._expiry_of(timeout, future).insert(rid, sent_at + timeout)
            else:
                await write_request(data, rid, method, params, None)
            return await future
        except TimeoutError:
            endpoint.forget(rid)
            if on_cancel is not None:
                with contextlib.suppress(Exception):
                    await on_cancel(rid)
            raise RequestTimeout(f"{method} got no answer within {timeout} s") from None
        except asyncio.CancelledError:
            endpoint.forget(rid)
            # Cancelled while its write waited, the future is still pending: its expiry would fail
            # it later with an exception no one retrieves (cancelled, it is skipped).
            future.cancel()
            if on_cancel is not None and not self.closed.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.shield(on_cancel(rid))
            raise
        except BaseException:
            # An error answer (forgotten already) or a write that failed (a refused POST, a broken
            # pipe): then nothing will answer, and the endpoint must not wait for it forever, nor
            # its expiry fail the future no one awaits any more.
            endpoint.forget(rid)
            future.cancel()
            raise

    def _take_on(
        self,
        rid: RequestId,
        future: asyncio.Future[Any],
        conn: Any,
        error: BaseException | None,
        method: str,
        decode: ResultDecoder,
    ) -> asyncio.Future[Any] | None:
        """`future`, of a request of `send_request`'s, ended with no answer its read took (`error`,
        or `READ_ON`, or the value of `future` otherwise): the new future the request is awaited
        with while `finish_request` takes it on (None: the request was settled some other way, the
        connection's read not done with; so told, that read no longer calls back)."""
        if conn.answering != rid:
            # The read took its answer (the connection may serve another request by now): the
            # caller was cancelled as it was woken.
            assert error is not None
            raise error
        taking = conn.taking
        conn.taking = None
        if taking is not None and not isinstance(error, (TimeoutError, asyncio.CancelledError)):
            return None
        again: asyncio.Future[Any] = future.get_loop().create_future()
        endpoint = self.endpoint
        pending = endpoint.table.get(rid)
        if pending is not None:
            pending.waiter = again
        elif endpoint.closed:
            again.set_exception(SessionClosed("the connection is closed"))
        else:
            # (An answer that came some other way as the read woke the request found its future
            # done: it is awaited again, from the POST.)
            endpoint.table[rid] = Pending(method, decode, again)
        return again

    def _expiry_of(self, timeout: float, future: asyncio.Future[Any]) -> Expiry:
        """The queue of the requests with `timeout` (kept: the next request likely has the same)."""
        expiry = self._expiry
        if expiry is None or expiry.timeout != timeout:
            deadlines = self._deadlines
            if deadlines is None:
                from .deadlines import Deadlines

                deadlines = self._deadlines = Deadlines()
            expiry = self._expiry = deadlines.expiry(timeout, future.get_loop(), self.endpoint.table)
        return expiry

    async def notify(self, method: str, params: Any) -> None:
        await self.transport.write(self.endpoint.notify(method, params))  # as `send` does

    def offer(self, data: bytes) -> bool:
        """Send `data` (a framed message) if that needs no wait, with no coroutine (the transport's
        `write_nowait`), and say so; False: nothing was sent (`send` sends it)."""
        send = self._send_nowait
        return send is not None and send(data)

    def answered(self, rid: RequestId, result: Raw) -> None:
        """A result answering our request `rid`, its envelope read by the caller (a client that reads
        answers by a shorter path than `feed`): decode it and resolve the request's future."""
        # (`Endpoint.answer` and `settle`, inline, with no event made: this is every answer of a client)
        pending = self.endpoint.take_answer(rid, None)
        if pending is None:
            return
        future: asyncio.Future[Any] | None = pending.waiter
        try:
            value = pending.decode(result)
        except (DecodeError, RecursionError) as exc:
            self.unreadable(pending, exc)
            return
        if future is not None and not future.done():
            future.set_result(value)

    def unreadable(self, pending: Pending, exc: Exception) -> None:
        """The result answering `pending` did not decode (`exc`, from its decoder): it fails with
        the error `Endpoint.unreadable_result` says."""
        future: asyncio.Future[Any] | None = pending.waiter
        if future is not None and not future.done():
            future.set_exception(self.endpoint.unreadable_result(pending.method, exc))

    def settle(self, event: Answered | Failed) -> None:
        """Resolve the future of one of our requests with its answer."""
        future: asyncio.Future[Any] | None = event.waiter
        if future is None or future.done():
            return
        if isinstance(event, Answered):
            future.set_result(event.result)
        else:
            future.set_exception(event.error)

    def fail_awaited(self, reason: str) -> None:
        """The connection closed: every request of ours still awaited fails with `SessionClosed`."""
        self._new_future = None
        self._expiry = None
        if self._deadlines is not None:
            self._deadlines.close()
        for event in self.endpoint.close(reason):
            if isinstance(event, Failed):
                future: asyncio.Future[Any] | None = event.waiter
                if future is not None and not future.done():
                    future.set_exception(event.error)


def _drop(future: asyncio.Future[Any]) -> None:
    """`future`, which no one will await, ended: cancelled, or its exception marked as retrieved (no
    warning when it is collected)."""
    if not future.cancel() and not future.cancelled():
        future.exception()


def future_maker(loop: asyncio.AbstractEventLoop) -> Callable[[], asyncio.Future[Any]]:
    """`loop.create_future`; for asyncio's own loop, what it does (the future's class called with the
    loop, from C): one Python frame less per request."""
    if type(loop).create_future is asyncio.BaseEventLoop.create_future:
        return functools.partial(asyncio.Future, loop=loop)
    return loop.create_future
