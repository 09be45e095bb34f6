"""Our side's requests and notifications over a connection: sent, awaited, resolved by their answers.

`Requester` is the half of `Peer` that asks: it allocates ids (through the sans-I/O `Endpoint`),
writes the request, awaits the future its answer resolves (with a timeout from a shared timer, see
`deadlines`), and fails what is still awaited when the connection closes. The other half, serving
what the other side asks, is `Peer` itself (`aio.peer`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from msgspec import DecodeError, Raw

from ..errors import RequestTimeout, SessionClosed
from ..protocol.endpoint import Answered, Endpoint, Failed, ResultDecoder
from ..protocol.jsonrpc import RequestId
from .interfaces import WRITE_WAIT, MessageTransport, NowaitWriter, RequestTransport, defines

if TYPE_CHECKING:
    from .deadlines import Deadlines, Expiry

__all__ = ["Requester"]

_WriteRequest = Callable[[bytes, RequestId, str, Any, float | None], Awaitable[None]]
"""`RequestTransport.write_request`: a request's bytes, with its id, method, params and timeout."""


class Requester:
    """Sends requests of ours and resolves them with the other side's answers."""

    def __init__(self, transport: MessageTransport, endpoint: Endpoint) -> None:
        self.transport = transport
        self.endpoint = endpoint
        self._waiting: dict[RequestId, asyncio.Future[Any]] = {}
        self._deadlines: Deadlines | None = None  # made by the first request with a timeout (cold start)
        self._expiry: Expiry | None = None
        """The deadlines of the last timeout a request had (`Deadlines.expiry`, kept: one lookup less)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop of our requests, looked up once: on Python 3.11 each lookup is a system call
        (`getpid`), and a client makes one per call. Forgotten when the connection closes."""
        self.closed = asyncio.Event()
        # Our own requests go out with no coroutine where the transport can tell that nothing has to
        # wait (stdio, either side): with many requests in flight, that is nearly every one.
        # (The class's own method makes the transport one of those protocols: no `isinstance`, whose
        # first check of a protocol costs more than the rest of a peer's making.)
        self._send_nowait: Callable[[bytes], bool] | None = (
            cast(NowaitWriter, transport).write_nowait if defines(transport, "write_nowait") else None
        )
        # Requests go with their method and params to a transport that can use them (HTTP); one whose
        # class says so: a wrapper that hands on what it lacks (`__getattr__`) would be passed by.
        self._write_request: _WriteRequest | None = None
        if defines(transport, "write_request"):
            self._write_request = cast(RequestTransport, transport).write_request

    @property
    def awaited(self) -> int:
        """Requests of ours awaiting the other side's answer."""
        return len(self._waiting)

    async def send(self, data: bytes) -> None:
        # Every transport writes a whole frame per call, so concurrent sends cannot interleave.
        await self.transport.write(data)

    async def request(
        self,
        method: str,
        params: Any,
        decode: ResultDecoder,
        *,
        timeout: float | None = None,
        on_cancel: Callable[[RequestId], Awaitable[None]] | None = None,
    ) -> Any:
        """Send a request and await its decoded result; raises McpError, RequestTimeout or SessionClosed."""
        rid, data = self.endpoint.request(method, params, decode)
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting[rid] = future
        # Expiry on the future itself (asyncio.wait_for costs a waiter and callbacks per request),
        # from a timer shared by the requests with the same timeout (one each costs more still).
        if timeout is not None:
            expiry = self._expiry  # (the queue of the last timeout: nearly every request has the same)
            if expiry is None or expiry.timeout != timeout:
                deadlines = self._deadlines
                if deadlines is None:
                    from .deadlines import Deadlines

                    deadlines = self._deadlines = Deadlines()
                expiry = self._expiry = deadlines.expiry(timeout, loop)
            # (`expiry.add`, inline: this is every request)
            futures = expiry.futures
            futures.append(future)
            expiry.deadlines.append(expiry.clock() + timeout)
            if len(futures) >= expiry.compact_at:
                expiry.compact()
            if expiry.timer is None:
                expiry.arm()
        try:
            if self._write_request is not None:
                await self._write_request(data, rid, method, params, timeout)
            else:
                send = self._send_nowait
                if send is None or not send(data):
                    # The write may wait (stdio: for the other side to read), but not past the
                    # request's own timeout.
                    token = WRITE_WAIT.set(timeout)
                    try:
                        await self.transport.write(data)  # as `send` does
                    finally:
                        WRITE_WAIT.reset(token)
            return await future
        except TimeoutError:
            self.endpoint.forget(rid)
            if on_cancel is not None:
                with contextlib.suppress(Exception):
                    await on_cancel(rid)
            raise RequestTimeout(f"{method} got no answer within {timeout} s") from None
        except asyncio.CancelledError:
            self.endpoint.forget(rid)
            if on_cancel is not None and not self.closed.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.shield(on_cancel(rid))
            raise
        except Exception:
            # An error answer (forgotten already) or a write that failed (a refused POST, a broken
            # pipe): then nothing will answer, and the endpoint must not wait for it forever.
            self.endpoint.forget(rid)
            raise
        finally:
            self._waiting.pop(rid, None)

    async def notify(self, method: str, params: Any) -> None:
        await self.transport.write(self.endpoint.notify(method, params))  # as `send` does

    def answered(self, rid: RequestId, result: Raw) -> None:
        """A result answering our request `rid`, its envelope read by the caller (a client that reads
        answers by a shorter path than `feed`): decode it and resolve the request's future."""
        # (`Endpoint.answer` and `settle`, inline, with no event made: this is every answer of a client)
        pending = self.endpoint.take_answer(rid, None)
        if pending is None:
            return
        try:
            value = pending.decode(result)
        except (DecodeError, RecursionError) as exc:
            error = self.endpoint.unreadable_result(pending.method, exc)
            future = self._waiting.get(rid)
            if future is not None and not future.done():
                future.set_exception(error)
            return
        future = self._waiting.get(rid)
        if future is not None and not future.done():
            future.set_result(value)

    def settle(self, event: Answered | Failed) -> None:
        """Resolve the future of one of our requests with its answer."""
        future = self._waiting.get(event.id)
        if future is None or future.done():
            return
        if isinstance(event, Answered):
            future.set_result(event.result)
        else:
            future.set_exception(event.error)

    def fail_awaited(self, reason: str) -> None:
        """The connection closed: every request of ours still awaited fails with `SessionClosed`."""
        self._loop = None
        self._expiry = None
        if self._deadlines is not None:
            self._deadlines.close()
        for event in self.endpoint.close(reason):
            if isinstance(event, Failed):
                future = self._waiting.get(event.id)
                if future is not None and not future.done():
                    future.set_exception(event.error)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(SessionClosed(reason))
