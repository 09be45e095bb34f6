"""The asyncio layer over the sans-I/O `Endpoint`: one read loop, handler tasks, awaited requests.

A transport is anything with `read()` (one framed message, or None at end of input) and `write()`
(one framed message). `Peer` feeds what it reads to the endpoint, runs incoming requests as tasks
(bounded in number), resolves the futures of its own requests, and on shutdown fails whatever is
still pending with `SessionClosed`.

Reading never stops for the concurrency limit: the answers to our own requests, cancellations and
pings must get through while every handler waits (a tool waiting on the client's sampling answer
would otherwise wait for an answer nobody reads). Past `max_concurrency` waiting handlers, requests
queue (FIFO, at most `max_queued`) and start as handlers finish; past that they are refused at once
with `SERVER_BUSY`. For the same reason a notification's handler that waits goes on as a task
(`inflight.Notified`); those that do not are done in order.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine, KeysView, Sequence
from typing import TYPE_CHECKING, Any, Final, cast

from ..errors import SERVER_BUSY, McpError
from ..protocol.endpoint import Endpoint, Event, IncomingNotification, IncomingRequest, LineTooLong, Reply
from ..protocol.jsonrpc import INVALID_REQUEST, RequestId, null_id, parse_single, refuse_batch
from . import eager, own
from .inflight import BatchReplies, Load, Notified
from .interfaces import ROUTE, AnswerLines, AnswerNow, NotificationHandler, RequestHandler, defines
from .outgoing import Requester

if TYPE_CHECKING:
    from .contracts import (
        BufferedTransport,
        BurstWriting,
        InlineServing,
        MessageTransport,
        SendingNow,
        WriteHolding,
    )

__all__ = ["Load", "Peer", "RequestHandler", "NotificationHandler", "ROUTE"]

log = logging.getLogger("mcpbind")

# (`own.enter_task` / `leave_task`: asyncio's own; a Python without them serves nothing inline.)
_enter_task, _leave_task = own.enter_task, own.leave_task

_ALONE_BELOW: Final = 8
"""The answer to the first message of a read goes alone, before the others read with it are handled,
when the read has fewer messages than this (see `run`): from 8 on, the client has that many requests
of its own under way already, and the early write is one more system call and pass for nothing."""

_Queued = tuple[IncomingRequest, contextvars.Context]
"""A request waiting for a slot, with the context it arrived in (HTTP: the route of its POST)."""


class Peer(Requester):
    """Serves what the other side asks (this module); asks it through `Requester` (`aio.outgoing`)."""

    __slots__ = (  # (see `Requester`'s; a subclass's own attributes go in its instances' dictionary)
        "_allow_batch",
        "_answer_lines",
        "_answer_now",
        "_batches",
        "_cancelled",
        "_draining",
        "_held_writer",
        "_hold",
        "_loop",
        "_max_queued",
        "_max_waiting",
        "_notes",
        "_null_ids",
        "_on_notification",
        "_on_request",
        "_parked",
        "_queue",
        "_queued",
        "_read_buffered",
        "_reader",
        "_release",
        "_running",
        "_send_now",
        "_serial",
        "_serve_hold",
        "_serve_release",
        "_tasks",
        "_wait_buffered",
        "_write_nowait",
    )

    def __init__(
        self,
        transport: MessageTransport,
        *,
        on_request: RequestHandler,
        on_notification: NotificationHandler,
        max_concurrency: int = 64,
        max_queued: int = 1024,
        allow_batch: Callable[[], bool] | None = None,
        null_ids: Callable[[], bool] | None = None,
        serial: frozenset[str] = frozenset(),
        answer_now: AnswerNow | None = None,
        answer_lines: AnswerLines | None = None,
    ) -> None:
        if max_concurrency < 1 or max_queued < 0:
            limits = f"max_concurrency={max_concurrency}, max_queued={max_queued}"
            raise ValueError(f"{limits}: at least one request must run, and no queue is less than 0")
        # The endpoint parses arrays; whether a batch is answered or refused is decided per message.
        super().__init__(transport, Endpoint(batches=allow_batch is not None))
        self._allow_batch = allow_batch
        # Whether a refusal naming no request says `"id": null` (the session's revision decides),
        # the transport's own refusals too (an oversized line's, on stdio).
        self._null_ids = null_ids
        if null_ids is not None and hasattr(transport, "refusal_form"):
            cast(Any, transport).refusal_form = self._revised
        # Methods answered before the next message is read (initialize: what follows depends on it).
        self._serial = serial
        self._on_request = on_request
        self._on_notification = on_notification
        self._answer_now = answer_now
        self._answer_lines = answer_lines
        self._running: dict[RequestId, asyncio.Task[None]] = {}
        self._cancelled: set[RequestId] = set()
        """Running requests the peer cancelled: a handler that catches its cancellation and returns
        is not answered either."""
        # At most this many handlers wait at once (handlers that answer without waiting never count,
        # see `eager`); more requests queue, up to `max_queued`, and past that are refused.
        self._max_waiting = max_concurrency
        self._max_queued = max_queued
        self._queue: deque[_Queued] = deque()
        self._queued: dict[RequestId, _Queued] = {}
        self._draining = False
        # The batch each request of a JSON-RPC batch answers into (empty unless a batch is running).
        self._batches: dict[RequestId, BatchReplies] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._notes = Notified(max_concurrency)
        # What a transport that can (`BufferedTransport`) reads and writes with no coroutine: a message
        # already read, an answer with room to go. Answers go around `respond` only where no subclass
        # routes them (an HTTP peer does).
        self._read_buffered: Callable[[], Collection[bytes]] = _none
        # Writes the read loop sends itself as it waits, not one loop turn later (`run`; stdio's).
        self._hold = self._release = _no_hold
        if defines(transport, "hold_writes") and defines(transport, "release_writes"):
            holding = cast("WriteHolding", transport)
            self._hold, self._release = holding.hold_writes, holding.release_writes
        self._write_nowait: Callable[[bytes], bool] | None = None
        # `run`'s task, loop and context while it waits, for a transport that serves inline (stdio).
        self._reader: asyncio.Task[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._parked = contextvars.Context()
        # A future to await until `read_buffered` has something (no `read` coroutine around it).
        self._wait_buffered: Callable[[], Awaitable[None] | None] = _no_wait
        # (`isinstance(transport, BufferedTransport)` as typing checks it, less its first check's
        # cost: 0.1% of a stdio server's cold start; `read`, `write` and `close` it has.)
        if getattr(transport, "read_buffered", None) and getattr(transport, "write_nowait", None):
            buffered = cast("BufferedTransport", transport)
            self._read_buffered = buffered.read_buffered
            self._wait_buffered = getattr(transport, "wait_buffered", None) or _no_wait
            if type(self).respond is Peer.respond:
                self._write_nowait = buffered.write_nowait
        if self._write_nowait is None or type(self).abandoned is not Peer.abandoned:
            self._answer_lines = None  # (the lane writes its answers straight to the transport)
        # The lane's answer to a read of one line, sent at once with no hold around it (`SendingNow`).
        # What queues the lane's answers to a burst while they are held (`BurstWriting`).
        self._send_now: Callable[[bytes], bool] | None = None
        self._held_writer: Callable[[], Callable[[bytes], object]] | None = None
        # What holds the writes around a read served inline: nothing where the transport holds them
        # itself until the end of that read (`InlineHolding`), whose lone message's answer then
        # goes to `write_nowait` as another's goes to `send_now`.
        held_inline = getattr(transport, "holds_inline_writes", False) is True
        self._serve_hold, self._serve_release = (
            (_no_hold, _no_hold) if held_inline else (self._hold, self._release)
        )
        if self._answer_lines is not None and self._hold is not _no_hold:
            if defines(transport, "send_now"):
                self._send_now = cast("SendingNow", transport).send_now
            elif held_inline:
                self._send_now = self._write_nowait
            if defines(transport, "held_writer"):
                self._held_writer = cast("BurstWriting", transport).held_writer

    # -- outgoing -----------------------------------------------------------------------------------

    async def refuse(self, reply: bytes) -> None:
        """Send the peer's own error answer to input it cannot take (malformed, a reused id...)."""
        await self.send(self._revised(reply))

    def _revised(self, reply: bytes) -> bytes:
        """`reply` in the form the revision in force asks for where it names no request (`null_id`)."""
        return null_id(reply) if self._null_ids is not None and self._null_ids() else reply

    async def respond_batch(self, reply: bytes | None) -> None:
        """Send the array answering a batch (None: the batch held only notifications)."""
        if reply is not None:
            await self.send(reply)

    def abandoned(self, event: IncomingRequest) -> None:
        """A request was cancelled and will get no answer (transports that stream answers override this)."""

    async def respond(self, event: IncomingRequest, reply: bytes) -> None:
        """Send the answer to an incoming request (transports that route answers override this)."""
        await self.transport.write(reply)  # as `send` does (this is every answer: one call less)

    # -- incoming -----------------------------------------------------------------------------------

    def is_idle(self) -> bool:
        """Nothing of ours runs, waits for an answer or is queued, and the peer is still open."""
        return (
            not self._running
            and not self._queued
            and not self.endpoint.pending  # (`awaited`: our requests awaiting their answers)
            and not self._tasks
            and not self._notes.tasks
            and not self.closed.is_set()
        )

    @property
    def running(self) -> KeysView[RequestId]:
        """The ids of the incoming requests whose handlers are running as tasks (they waited); a
        handler that answered without waiting is never among them."""
        return self._running.keys()

    @property
    def load(self) -> Load:
        """How much is in flight, as counts (for monitoring and tests)."""
        return Load(len(self._running), len(self._queued), self.awaited, len(self._batches))

    @property
    def saturated(self) -> bool:
        """Whether a new request would be refused with `SERVER_BUSY`: every slot is taken by a
        waiting handler and the queue is full."""
        return len(self._running) >= self._max_waiting and len(self._queued) >= self._max_queued

    def cancel_incoming(self, rid: RequestId) -> bool:
        """Cancel the handler of an incoming request (on `notifications/cancelled`); a request still
        queued leaves the queue, and is never answered."""
        task = self._running.get(rid)
        if task is not None:
            own.cancel(task)
            self._cancelled.add(rid)
            return True
        entry = self._queued.pop(rid, None)
        if entry is None:
            return False
        self._queue.remove(entry)
        event, context = entry
        context.run(self._unanswered, event)
        return True

    async def _serve(self, event: IncomingRequest, pending: Awaitable[bytes | None] | None = None) -> None:
        # `pending`: the handler already started (see `answer`), to be carried on here.
        try:
            reply = await (self._on_request(event) if pending is None else pending)
            if self._cancelled and event.id in self._cancelled:
                raise asyncio.CancelledError  # (its handler answered its cancellation with a value)
            batch = self._batches.pop(event.id, None) if self._batches else None
            if batch is not None:
                batch.add(reply)
            elif reply is not None:
                write = self._write_nowait
                if write is None or not write(reply):
                    await self.respond(event, reply)
        except asyncio.CancelledError:
            self._unanswered(event)  # cancelled by the peer: the spec says no response is sent
        except Exception:  # a transport that broke while answering
            log.exception("could not answer request %r", event.id)
            batch = self._batches.pop(event.id, None) if self._batches else None
            if batch is not None:
                batch.add(None)  # the rest of its batch is still answered
        finally:
            self._running.pop(event.id, None)
            if self._cancelled:
                self._cancelled.discard(event.id)
            if self._queue:
                self._drain()

    def _unanswered(self, event: IncomingRequest) -> None:
        """A request ends with no answer (cancelled): its batch counts it, or the transport is told."""
        batch = self._batches.pop(event.id, None) if self._batches else None
        if batch is not None:
            batch.add(None)
        else:
            self.abandoned(event)

    async def _deliver(self, event: IncomingRequest, reply: bytes) -> None:
        """Send an answer made without running the handler (a refusal): into its batch, if any, else
        as the peer's own refusal (`refuse`: over HTTP an error status, 503 for "Server busy")."""
        batch = self._batches.pop(event.id, None) if self._batches else None
        if batch is not None:
            batch.add(reply)
        else:
            await self.refuse(reply)

    async def feed(self, data: bytes) -> None:
        """Process one framed message."""
        if self._allow_batch is not None and data[:1] == b"[":
            if self._allow_batch():
                await self._feed_batch(data)
            else:
                await self.refuse(refuse_batch(data))
            return
        await self._process(self.endpoint.receive(data))

    async def _process(self, events: Sequence[Event]) -> None:
        for event in events:
            if isinstance(event, IncomingRequest):
                # The usual case, `receive_request`'s first branch, without its coroutine: this is
                # every request of a transport that frames messages (stdio, WebSocket).
                if self._startable(event):
                    self._start(event)
                else:
                    await self.receive_request(event)
            elif isinstance(event, IncomingNotification):
                await self._notes.run(self._on_notification, event)
            elif isinstance(event, Reply):
                log.warning("malformed input: %s", event.reason)
                await self.refuse(event.data)
            else:
                self.settle(event)

    def _in_use(self, rid: RequestId) -> bool:
        return rid in self._running or rid in self._queued

    def _id_in_use(self, rid: RequestId) -> bytes:
        err = McpError(f"request id {rid!r} is already in use", code=INVALID_REQUEST)
        return self.endpoint.respond_error(rid, err)

    def _startable(self, event: IncomingRequest) -> bool:
        """Admission's usual case: the id is free, a slot is free, nothing waits in the queue and the
        method is not one answered in order. The request then starts at once."""
        rid = event.id
        return (
            len(self._running) < self._max_waiting
            and not self._queue
            and rid not in self._running
            and rid not in self._queued
            and event.method not in self._serial
        )

    async def receive_request(self, event: IncomingRequest) -> None:
        """Serve one incoming request: `feed` calls it for each request it parses (and for each of a
        batch), and a transport that parses messages itself (HTTP, to route them) calls it directly.
        It never waits for a slot. A handler that answers without waiting is done on return, with no
        task at all; one that waits goes on as a task, cancellable with `cancel_incoming`. A reused id
        is refused; while `max_concurrency` handlers wait, the request is queued (started when one
        ends), or with the queue full refused at once with `SERVER_BUSY` (sent through `respond`).
        Every request is admitted here, or (`answer`) by the same `_startable`."""
        if self._startable(event):
            self._start(event)
            return
        rid = event.id
        if self._in_use(rid):
            await self.refuse(self._id_in_use(rid))
        elif event.method in self._serial:
            await self._serve(event)  # answered before the next message is read, limits or not
        elif len(self._queued) < self._max_queued:
            entry = (event, contextvars.copy_context())
            self._queue.append(entry)
            self._queued[rid] = entry
        else:
            busy = McpError(
                f"Server busy: {len(self._running)} requests running and {len(self._queued)} queued "
                "(the limits); send it again later",
                code=SERVER_BUSY,
            )
            await self._deliver(event, self.endpoint.respond_error(rid, busy))

    def _drain(self) -> None:
        """Start queued requests while slots are free. Not re-entered: a queued handler that answers at
        once ends inside this loop, and the loop (not a deeper call) starts the next one."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._queue and len(self._running) < self._max_waiting and not self.closed.is_set():
                event, context = self._queue.popleft()
                del self._queued[event.id]
                # In the context it arrived in: its answer and messages take its own route.
                context.run(self._start, event)
        finally:
            self._draining = False

    def _start(self, event: IncomingRequest) -> None:
        """Run an admitted request's handler up to its first wait: answered there, or carried on by a
        task (`_track`). Where answers go straight to the transport (`_write_nowait`), a handler that
        does not wait is answered here, with no coroutine around it; else `_serve` wraps it."""
        write = self._write_nowait
        if write is None:
            self._track(event, eager.start(self._serve(event)))
            return
        # `eager.begin`, inline (this is every request): the handler's first step runs in a copy of
        # the context; a handler that waits is carried on by a task inside `_serve`. The usual
        # request is answered in one step first, where the handler says it can (`answer_now`).
        now = self._answer_now
        reply: bytes | None
        try:
            done = None if now is None else now(event)
            if done is None:
                coro = self._on_request(event)
                context = contextvars.copy_context()
                try:
                    waiting_on = context.run(coro.send, None)
                except StopIteration as stopped:
                    reply = stopped.value
                else:
                    carry = functools.partial(self._serve, event)
                    self._track(event, eager.carried(coro, waiting_on, carry, context))
                    return
            elif type(done) is bytes:
                reply = done
            else:
                assert type(done) is eager.Paused  # (no `cast`: a Python function's frame on 3.11)
                self.carry_paused(event, done)
                return
        except asyncio.CancelledError:
            self._unanswered(event)  # (as in `_serve`, which this is inline)
            return
        except Exception:
            log.exception("could not answer request %r", event.id)
            reply = None
        if self._batches:
            batch = self._batches.pop(event.id, None)
            if batch is not None:
                batch.add(reply)
                return
        if reply is not None and not write(reply):
            # The client is not reading our output: the answer waits with the others, as a task that
            # holds its slot (`_serve` with the handler already done).
            self._track(event, eager.start(self._serve(event, _done(reply))))

    async def answer(self, event: IncomingRequest) -> bytes | None:
        """Serve one request as `receive_request` does, but give back its answer instead of sending it
        when the handler answers without waiting: a transport that writes each answer itself (an
        HTTP POST's JSON answer) takes it from here, with no trip through `respond`. None: the handler
        waits, or the request was queued or refused; it goes on as a task, and its answer, or its end
        (`abandoned`), is sent as usual."""
        if not self._startable(event):
            await self.receive_request(event)  # refused, queued, or answered in order: sent as usual
            return None
        # `eager.begin`, inline (every request of an HTTP exchange): what carries on a handler that
        # waits is made only for one that does.
        coro = self._on_request(event)
        context = contextvars.copy_context()
        try:
            waiting_on = context.run(coro.send, None)
        except StopIteration as stopped:
            reply: bytes | None = stopped.value
            if reply is None:
                self.abandoned(event)
            return reply
        self._track(event, eager.carried(coro, waiting_on, functools.partial(self._serve, event), context))
        return None

    def _answer_later(self, rid: RequestId, reply: bytes) -> None:
        """An answer made in one pass (`AnswerLines`) that the transport would not take (the client
        is not reading our output): it waits with the others, as `_start`'s does, holding its slot."""
        event = IncomingRequest(rid, "tools/call", None)
        self._track(event, eager.start(self._serve(event, _done(reply))))

    def carry_paused(self, event: IncomingRequest, paused: eager.Paused) -> None:
        """Carry a handler paused (by `answer_now`, or a transport after `admits`) as a task, apart
        from `_start` (a closure there would cost every request its cells): `finish(rest)` answers."""
        finish = paused.finish
        carry = lambda rest: self._serve(event, finish(rest))  # noqa: E731
        self._track(event, eager.carry(paused, carry))

    admits = _startable
    """Whether a request would start at once (`_startable`, itself: no call in between): a transport
    that runs a handler's first step itself (`carry`) asks first, and otherwise hands the request to
    `answer`."""

    def carry(
        self,
        event: IncomingRequest,
        handler: Coroutine[Any, Any, bytes | None],
        waiting_on: Any,
        context: contextvars.Context,
    ) -> None:
        """Carry on a handler whose first step its transport ran itself (in `context`, admitted by
        `admits`) and that waits on `waiting_on`: a task, tracked and answered as `answer`'s are."""
        self._track(event, eager.carried(handler, waiting_on, functools.partial(self._serve, event), context))

    def _track(self, event: IncomingRequest, task: asyncio.Task[None] | None) -> None:
        """Keep the task of a handler that waits (None: it answered inline), to cancel and await it."""
        if task is not None:
            self._running[event.id] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _feed_batch(self, data: bytes) -> None:
        """A JSON-RPC batch: its items are taken in order, its requests run concurrently under the same
        limits as any other, and their answers go back together as one array once the last one ends
        (in a task of its own: reading goes on meanwhile, so a request of the batch that asks the
        client something gets its answer). A text that is no batch as a whole gets one error object."""
        events = self.endpoint.receive_batch(data)
        if isinstance(events, Reply):
            log.warning("malformed input: %s", events.reason)
            await self.refuse(events.data)
            return
        batch = BatchReplies(asyncio.get_running_loop().create_future())
        seen: set[RequestId] = set()
        for event in events:
            if isinstance(event, IncomingRequest):
                if event.id in seen or self._in_use(event.id):
                    batch.replies.append(self._id_in_use(event.id))
                    continue
                seen.add(event.id)
                batch.left += 1
                self._batches[event.id] = batch
                await self.receive_request(event)
            elif isinstance(event, IncomingNotification):
                await self._notes.run(self._on_notification, event)
            elif isinstance(event, Reply):
                batch.replies.append(self._revised(event.data))
            else:
                self.settle(event)
        batch.add(None)  # every item is read
        if batch.done.done():
            await self.respond_batch(batch.array())
        else:
            task = asyncio.get_running_loop().create_task(self._answer_batch(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _answer_batch(self, batch: BatchReplies) -> None:
        await batch.done
        await self.respond_batch(batch.array())

    def _serve_inline(self, lines: Sequence[bytes | LineTooLong]) -> Sequence[bytes | LineTooLong]:
        """`run`'s service of a burst, given by its transport as it reads it while `run` waits with
        nothing queued (`InlineServing`): each request `run` would start at once is started here, as
        in `run`'s own step (in its context, its task the current one, its writes held until the end
        of the burst); the rest, from the first message that is anything else, goes back to the
        transport, which queues it and wakes `run` (that message is read again there)."""
        loop, task = self._loop, self._reader  # (set by `run` before it serves inline)
        try:
            _enter_task(loop, task)  # type: ignore[misc,arg-type]  # (current_task() in a handler: `run`'s)
        except RuntimeError:  # (fed from a running task: `run` takes them on its next step)
            return lines
        try:
            send = self._send_now
            if (
                send is not None
                and len(lines) == 1
                and len(self._running) < self._max_waiting
                and not self._queue
                and not self._batches
            ):
                # A read of one line (most reads at one in flight) that the lane takes: answered
                # and sent at once (`SendingNow`: after what waits, so no hold around it), no loop;
                # read and run in one copy of `run`'s context, its call's own (`AnswerLines`).
                current = self._parked.copy()
                got = current.run(
                    self._answer_lines,  # type: ignore[arg-type]  # (`send`: there are lines)
                    lines,
                    0,
                    1,
                    self._running,
                    self._queued,
                    send,
                    current,
                )
                if got == 1:
                    return ()
                if got:  # (a call that did not end in an answer written)
                    _, rid, outcome = cast(tuple[int, RequestId, "bytes | eager.Paused | None"], got)
                    self._parked.run(self._unwritten, rid, outcome)
                    return ()
                # (the line not taken: read the general way, not by the lane again)
                self._serve_hold()
                try:
                    return self._parked.run(self._started, lines, False)
                finally:
                    self._serve_release()
            self._serve_hold()
            try:
                return self._parked.run(self._started, lines)
            finally:
                self._serve_release()
        finally:
            _leave_task(loop, task)  # type: ignore[misc,arg-type]

    def _unwritten(self, rid: RequestId, outcome: bytes | eager.Paused | None) -> None:
        """A call the lane ran that did not end in an answer written (`AnswerLines`): its answer the
        transport would not take (`_answer_later`), its tool paused (carried on as a task), or none."""
        if type(outcome) is bytes:
            self._answer_later(rid, outcome)
        elif outcome is not None:
            assert type(outcome) is eager.Paused  # (no `cast`: a function's frame)
            self.carry_paused(IncomingRequest(rid, "tools/call", None), outcome)

    def _started(
        self, lines: Sequence[bytes | LineTooLong], lane: bool = True
    ) -> Sequence[bytes | LineTooLong]:
        """`_serve_inline`'s requests, started: the lines it leaves to `run`, from the first that is no
        request `run` would start at once (nothing when it started them all). `lane`: False where the
        lane has refused the first line already."""
        running, queue, queued, limit = self._running, self._queue, self._queued, self._max_waiting
        lined, held = self._answer_lines, self._held_writer
        # (held: the queue's own `append` while the other side reads, good until the next release)
        write: Callable[[bytes], object] | None = self._write_nowait if held is None else held()
        # Whether lines may be answered in one pass: admission's usual case as it stands (found
        # again whenever something is started or kept otherwise; an answer written leaves it so).
        # What only the general way reads is read there (a lone request's burst is most bursts).
        lane = lane and lined is not None and len(running) < limit and not queue and not self._batches
        count = len(lines)
        if lane and count == 1:
            # A read of one line (most reads at one in flight): the loop's first pass, inline.
            got = lined(lines, 0, 1, running, queued, write, None)  # type: ignore[misc,arg-type]  # (`lane`)
            if type(got) is int:
                if got:
                    return ()
                lane = False  # (the line not taken: read below the general way, as in the loop)
            else:
                _, rid, outcome = cast(tuple[int, RequestId, "bytes | eager.Paused | None"], got)
                self._unwritten(rid, outcome)
                return ()
        fresh = 1 < count < _ALONE_BELOW
        at = 0
        while at < count:
            if lane:
                # The usual calls, each line read in one pass and answered (`AnswerLines`): no
                # `IncomingRequest`, no `_start`; the id's and the limit's checks are the same. (A
                # batch is no object: the frame refuses it, and it is left below.) The first of a
                # read alone: its answer goes now, the rest after (see `run`).
                end = at + 1 if fresh else count
                got = lined(lines, at, end, running, queued, write, None)  # type: ignore[misc,arg-type]
                if type(got) is int:
                    taken = got != at
                    at = got
                else:
                    at, rid, outcome = cast(tuple[int, RequestId, "bytes | eager.Paused | None"], got)
                    taken = True
                    self._unwritten(rid, outcome)
                    lane = len(running) < limit
                if taken:
                    if fresh:
                        fresh = False
                        self._serve_release()
                        self._serve_hold()
                        if held is not None:
                            write = held()
                    continue
            data = lines[at]
            if type(data) is not bytes:
                return lines[at:]
            if self._allow_batch is not None and data[:1] == b"[":
                return lines[at:]
            message = parse_single(data, self.endpoint.batches)
            if (
                type(message) is IncomingRequest
                and len(running) < limit
                and not queue
                and message.id not in running
                and message.id not in queued
                and message.method not in self._serial
            ):
                self._start(message)
                lane = lined is not None and len(running) < limit and not queue and not self._batches
            else:
                return lines[at:]
            at += 1
            if fresh:  # (the first message of a read: its answer goes now, the rest after; see `run`)
                fresh = False
                self._serve_release()
                self._serve_hold()
                if held is not None:
                    write = held()
        return ()

    async def run(self) -> None:
        """Read until the transport ends, then fail what is pending and cancel running handlers."""
        read, read_buffered, start = self.transport.read, self._read_buffered, self._start
        # A transport that can serve what it reads inline while this waits (stdio) does (`_serve_inline`).
        inline = None
        self._reader = asyncio.current_task()
        if defines(self.transport, "serve_inline") and self._reader is not None and _enter_task is not None:
            inline = cast("InlineServing", self.transport)
            self._loop = asyncio.get_running_loop()
        serve_inline = self._serve_inline
        wait_buffered = self._wait_buffered
        batches = self._allow_batch is not None
        parsing_batches = self.endpoint.batches
        # Admission's usual case (`_startable`), inline with these: every message is read here.
        running, queue, queued, serial = self._running, self._queue, self._queued, self._serial
        limit = self._max_waiting
        # What this task writes while it handles a burst is sent as it next waits, whatever for:
        hold, release = self._hold, self._release  # a lone request's answer needs no second turn
        # Save that the answer to the first request of a read goes alone, before the others read with
        # it are handled: the client gets to work on it (its next request) while the server handles
        # them, instead of each side waiting for the other's whole burst. At 4 in flight (the raw
        # stdio driver of bench/servers.py, both processes at real-time priority) the server's
        # blocking waits went from 0.03-0.22 to 0.00-0.03 per call and calls/s from 57-103k
        # (bimodal) to 97-115k, for one write per call where there were 0.5-0.7. At 1 in flight
        # nothing changes (one read, one write); at 16, calls/s are the same with 0.6 writes per call
        # where there were 0.3: so a read of `_ALONE_BELOW` messages or more is answered in one write
        # (bench/stdio_inproc.py --inflight 16, callgrind: 19.7k -> 19.3k instructions a request).
        fresh = False
        hold()
        try:
            while True:
                # Where the transport says when it has read something (stdio), the wait is its
                # future, awaited here: no `read` coroutine (a frame made, entered and resumed per
                # wait, and a line taken apart from the rest), which at one request in flight is
                # every request; and asked first, it saves asking for a burst when there is none.
                waiter = wait_buffered()  # (None: something waits, or `read` is to say what)
                if waiter is not None:
                    release()
                    if inline is not None:
                        # While this waits here, and only here, the transport serves what it reads
                        # inline (`_serve_inline`): in this task's context as it is now (only a
                        # request served in it, `initialize`, changes it), which this wait keeps.
                        self._parked = contextvars.copy_context()
                        inline.serve_inline(serve_inline)
                        await waiter
                        inline.serve_inline(None)
                    else:
                        await waiter
                    hold()
                    burst: Collection[bytes] = read_buffered()
                    fresh = 1 < len(burst) < _ALONE_BELOW
                else:
                    burst = read_buffered()
                if not burst:  # (`read` says what that leaves: the end, an oversized line)
                    release()
                    data = await read()
                    if data is None:
                        break
                    hold()
                    burst = (data,)
                    fresh = True
                for data in burst:  # (one pass: the envelope read and a request recognised at once)
                    message = None if batches and data[:1] == b"[" else parse_single(data, parsing_batches)
                    if (
                        type(message) is IncomingRequest
                        and len(running) < limit
                        and not queue
                        and message.id not in running
                        and message.id not in queued
                        and message.method not in serial
                    ):
                        start(message)
                    else:  # (anything else, as `feed` takes it: through the endpoint)
                        release()
                        if message is None:
                            await self.feed(data)
                        elif type(message) is IncomingRequest:
                            await self.receive_request(message)
                        else:
                            await self._process(self.endpoint.events(message, data))
                        hold()
                    if fresh:  # (the first message of a read: its answer goes now, the rest after)
                        fresh = False
                        release()
                        hold()
        finally:
            if inline is not None:
                inline.serve_inline(None)
            release()
            # A transport may say why the connection ended (a WebSocket's close code and reason).
            why = getattr(self.transport, "end_reason", None)
            await self.shutdown(f"the connection closed ({why})" if why else "the connection closed")

    async def shutdown(self, reason: str) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self._queue.clear()  # never started: nothing to cancel, and no slot will free for them
        self._queued.clear()
        self.fail_awaited(reason)
        for task in list(self._running.values()):
            own.cancel(task)
        noted = self._notes.cancel()
        if self._tasks or noted:
            await asyncio.gather(*self._tasks, *noted, return_exceptions=True)


def _no_hold() -> None:
    """`Peer`'s `_hold`/`_release` for a transport that writes as it is asked: nothing is held."""


def _no_wait() -> None:
    """`Peer`'s `wait_buffered` for a transport that has none: `read` waits."""


def _none() -> Collection[bytes]:
    """`Peer`'s `read_buffered` for a transport that has none: nothing is ever waiting."""
    return ()


async def _done(reply: bytes) -> bytes:
    """A handler's answer, already made (for `_serve` to send when it must wait)."""
    return reply
