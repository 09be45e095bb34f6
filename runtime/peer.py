"""The asyncio layer over the sans-I/O `Endpoint`: one read loop, handler tasks, awaited requests.

A transport is anything with `read()` (one framed message, or None at end of input) and `write()`
(one framed message). `Peer` feeds what it reads to the endpoint, runs incoming requests as tasks
(bounded in number), resolves the futures of its own requests, and on shutdown fails whatever is
still pending with `SessionClosed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from . import eager
from .engine import Answered, Endpoint, Failed, IncomingNotification, IncomingRequest, Reply, ResultDecoder
from .errors import McpError, RequestTimeout, SessionClosed
from .jsonrpc import INVALID_REQUEST, RequestId, encode_error

__all__ = ["MessageTransport", "Peer", "RequestHandler", "NotificationHandler", "ROUTE"]

log = logging.getLogger("mcpbind")

ROUTE: contextvars.ContextVar[object | None] = contextvars.ContextVar("mcpbind_route", default=None)
"""The stream a message being sent belongs to, for transports with more than one (HTTP: the response
stream of the request being served). Handler tasks inherit it from the request that started them."""


class MessageTransport(Protocol):
    async def read(self) -> bytes | None:
        """The next framed message, or None when the peer has closed its side."""
        ...

    async def write(self, data: bytes) -> None:
        """Send one framed message."""
        ...

    async def close(self) -> None: ...


RequestHandler = Callable[[IncomingRequest], Coroutine[Any, Any, bytes | None]]
"""Answers an incoming request with the encoded response (None: the handler sent nothing, e.g. cancelled)."""
NotificationHandler = Callable[[IncomingNotification], Awaitable[None]]


class Peer:
    def __init__(
        self,
        transport: MessageTransport,
        *,
        on_request: RequestHandler,
        on_notification: NotificationHandler,
        max_concurrency: int = 64,
        allow_batch: Callable[[], bool] | None = None,
        serial: frozenset[str] = frozenset(),
    ) -> None:
        self.transport = transport
        # The endpoint parses arrays; whether a batch is answered or refused is decided per message.
        self.endpoint = Endpoint(batches=allow_batch is not None)
        self._allow_batch = allow_batch
        # Methods answered before the next message is read (initialize: what follows depends on it).
        self._serial = serial
        self._on_request = on_request
        self._on_notification = on_notification
        self._waiting: dict[RequestId, asyncio.Future[Any]] = {}
        self._running: dict[RequestId, asyncio.Task[None]] = {}
        # At most this many handlers wait at once; reading stops until one finishes. Handlers that
        # answer without waiting never count (see `eager`).
        self._max_waiting = max_concurrency
        self._slot_freed: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = asyncio.Event()

    # -- outgoing -----------------------------------------------------------------------------------

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
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        # A timer on the future itself: asyncio.wait_for costs a waiter and callbacks per request.
        timer = None if timeout is None else future.get_loop().call_later(timeout, _expire, future)
        try:
            await self.send(data)
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
        finally:
            if timer is not None:
                timer.cancel()
            self._waiting.pop(rid, None)

    async def refuse(self, reply: bytes) -> None:
        """Send the peer's own error answer to input it cannot take (malformed, a reused id...)."""
        await self.send(reply)

    async def respond_batch(self, reply: bytes | None) -> None:
        """Send the array answering a batch (None: the batch held only notifications)."""
        if reply is not None:
            await self.send(reply)

    def abandoned(self, event: IncomingRequest) -> None:
        """A request was cancelled and will get no answer (transports that stream answers override this)."""

    async def respond(self, event: IncomingRequest, reply: bytes) -> None:
        """Send the answer to an incoming request (transports that route answers override this)."""
        await self.send(reply)

    async def notify(self, method: str, params: Any) -> None:
        await self.transport.write(self.endpoint.notify(method, params))  # as `send` does

    # -- incoming -----------------------------------------------------------------------------------

    def cancel_incoming(self, rid: RequestId) -> bool:
        """Cancel the handler of an incoming request (on `notifications/cancelled`)."""
        task = self._running.get(rid)
        if task is None:
            return False
        task.cancel()
        return True

    async def _serve(self, event: IncomingRequest, pending: Awaitable[bytes | None] | None = None) -> None:
        # `pending`: the handler already started (see `answer`), to be carried on here.
        try:
            reply = await (self._on_request(event) if pending is None else pending)
            if reply is not None:
                await self.respond(event, reply)
        except asyncio.CancelledError:
            self.abandoned(event)  # cancelled by the peer: the spec says no response is sent
        except Exception:  # a transport that broke while answering
            log.exception("could not answer request %r", event.id)
        finally:
            self._running.pop(event.id, None)
            freed = self._slot_freed
            if freed is not None and not freed.done():
                freed.set_result(None)

    async def _notified(self, event: IncomingNotification) -> None:
        try:
            await self._on_notification(event)
        except Exception:
            log.exception("notification handler for %s failed", event.method)

    async def feed(self, data: bytes) -> None:
        """Process one framed message."""
        if self._allow_batch is not None and data[:1] == b"[":
            if self._allow_batch():
                await self._feed_batch(data)
            else:
                await self.refuse(
                    encode_error(
                        None,
                        INVALID_REQUEST,
                        "Invalid request: this protocol revision has no JSON-RPC batches",
                    )
                )
            return
        for event in self.endpoint.receive(data):
            if isinstance(event, IncomingRequest):
                await self.receive_request(event)
            elif isinstance(event, IncomingNotification):
                # Notifications are handled in order, before the next message is read.
                await self._notified(event)
            elif isinstance(event, Reply):
                log.warning("malformed input: %s", event.reason)
                await self.refuse(event.data)
            else:
                self._settle(event)

    async def receive_request(self, event: IncomingRequest) -> None:
        """Serve one incoming request: `feed` calls it for each request it parses, and a transport
        that parses messages itself (HTTP, to route them) calls it directly. A handler that answers
        without waiting is done on return, with no task at all; one that waits goes on as a task,
        cancellable with `cancel_incoming`. Reading waits while `max_concurrency` handlers wait."""
        if event.id in self._running:
            err = McpError(f"request id {event.id!r} is already in use", code=-32600)
            await self.refuse(self.endpoint.respond_error(event.id, err))
            return
        if event.method in self._serial:
            await self._serve(event)
            return
        while len(self._running) >= self._max_waiting:
            self._slot_freed = asyncio.get_running_loop().create_future()
            await self._slot_freed
        self._track(event, eager.start(self._serve(event)))

    async def answer(self, event: IncomingRequest) -> bytes | None:
        """Serve one request as `receive_request` does, but give back its answer instead of sending it
        when the handler answers without waiting: a transport that writes each answer itself (an
        HTTP POST's JSON answer) takes it from here, with no trip through `respond`. None: the handler
        waits; it goes on as a task, and its answer, or its end (`abandoned`), is sent as usual."""
        if (
            event.id in self._running
            or event.method in self._serial
            or len(self._running) >= self._max_waiting
        ):
            await self.receive_request(event)
            return None
        reply, task = eager.begin(self._on_request(event), lambda rest: self._serve(event, rest))
        self._track(event, task)
        if task is None and reply is None:
            self.abandoned(event)
        return reply

    def _track(self, event: IncomingRequest, task: asyncio.Task[None] | None) -> None:
        """Keep the task of a handler that waits (None: it answered inline), to cancel and await it."""
        if task is not None:
            self._running[event.id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _settle(self, event: Answered | Failed) -> None:
        """Resolve the future of one of our requests with its answer."""
        future = self._waiting.get(event.id)
        if future is None or future.done():
            return
        if isinstance(event, Answered):
            future.set_result(event.result)
        else:
            future.set_exception(event.error)

    async def _feed_batch(self, data: bytes) -> None:
        """A JSON-RPC batch: requests run concurrently, their answers go back together as one array."""
        replies: list[bytes] = []
        requests: list[IncomingRequest] = []
        for event in self.endpoint.receive(data):
            if isinstance(event, IncomingRequest):
                requests.append(event)
            elif isinstance(event, IncomingNotification):
                await self._notified(event)
            elif isinstance(event, Reply):
                replies.append(event.data)
            else:
                self._settle(event)

        for reply in await asyncio.gather(*(self._on_request(r) for r in requests)):
            if reply is not None:
                replies.append(reply)
        if replies:
            await self.respond_batch(b"[" + b",".join(replies) + b"]")
        else:
            await self.respond_batch(None)

    async def run(self) -> None:
        """Read until the transport ends, then fail what is pending and cancel running handlers."""
        try:
            while True:
                data = await self.transport.read()
                if data is None:
                    break
                await self.feed(data)
        finally:
            await self.shutdown("the connection closed")

    async def shutdown(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        for event in self.endpoint.close(reason):
            if isinstance(event, Failed):
                future = self._waiting.get(event.id)
                if future is not None and not future.done():
                    future.set_exception(event.error)
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(SessionClosed(reason))
        for task in list(self._running.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())
