"""Server-sent events: a request's stream, the event store for `Last-Event-ID`, the SSE writer, and the
peer's routing of what it sends to the stream of the request being served."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import time
import weakref
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Final, Protocol

import msgspec

from ...aio.interfaces import ROUTE, Prepared
from ...aio.peer import Peer
from ...protocol.endpoint import IncomingRequest
from ...protocol.inbound import error_status, event_id
from .asgi import SSE_HEADERS, Receive, Send, disconnected, shutting_down
from .mailbox import Mailbox

if TYPE_CHECKING:
    from ...server import Connection
    from .sessions import Session

__all__ = [
    "KEEPALIVE",
    "MAX_UNSENT",
    "Mailbox",
    "Stream",
    "EventStore",
    "MemoryEventStore",
    "framed",
    "whole",
    "ended",
    "answer_status",
    "stateless_status",
    "RoutedTransport",
    "HttpPeer",
    "feed",
    "write_stream",
    "left",
    "watch",
]

KEEPALIVE: Final = b":\r\n\r\n"

MAX_UNSENT: Final = 8 * 1024 * 1024
"""`Stream.limit`'s default (`HttpSecurity.max_unsent_bytes`)."""


class EventStore(Protocol):
    """Replay of a session's SSE events for `Last-Event-ID` (bounded: old events fall off). Events are
    appended as they are sent on a stream (numbered), whether or not a connection is writing it out."""

    def append(self, stream: str, seq: int, data: bytes) -> None: ...

    def unread(self, stream: str) -> None:
        """No connection here reads `stream` (its client left, or was told to poll): a store shared by
        several workers tells the one a resumption may land on to look for its new events."""
        ...

    async def after(self, last_event_id: str) -> tuple[str, list[tuple[int, bytes]]] | None: ...

    async def last_get_event(self) -> int:
        """The number of the last event appended to the session's GET stream (`GET_STREAM`), kept even
        once its events have fallen out (0: none): a GET stream opened again on another worker numbers
        on from it, never from 1 again."""
        ...


GET_STREAM: Final = "get"
"""The name of a session's GET stream (its event ids: `get-<n>`)."""


class Stream(msgspec.Struct, eq=False):
    """One SSE stream (a POST's response stream, or a session's GET stream) and its event ids.

    Messages queue here whether or not a connection is writing the stream out; on a stateful session
    (`store` set) each event is numbered and kept as it is sent (not as it is written out), so that a
    client that lost the connection (or was told to poll) resumes with `Last-Event-ID` and misses
    nothing, on this worker or, through a shared store, on another.

    A msgspec Struct (compared by identity), not a class with `__init__`: every POST makes one, and a
    Struct's defaults are filled in C, at half the cost.
    """

    store: EventStore | None
    id: str = ""
    """Only a session's streams are named (event ids, resumption), once they are kept (`keep`): a
    request answered at once with JSON never is."""
    queue: Mailbox = msgspec.field(default_factory=Mailbox)
    seq: int = 0
    """The number of the last event sent (and kept)."""
    sent: int = 0
    """The number of the last event written out (or skipped): those after it are still queued."""
    closed: bool = False
    """No more messages: the final one was sent, or the stream was dropped."""
    gone: bool = False
    """The connection writing the stream out went away."""
    reading: bool = False
    """A response (its POST, or a GET resuming it) is reading the stream: no other may."""
    poll_retry: int | None = None
    """Set to close the connection (not the stream) after telling the client to poll in N ms."""
    status: int = 200
    """The HTTP status of an answer sent as JSON (400 when the message itself was refused)."""
    owner: dict[str, Stream] | None = None
    """Where its session keeps it for resumption (a dict, not a callback: no reference cycle,
    so a finished stream is freed at once instead of by the garbage collector)."""
    prepared: Prepared | None = None
    """The request's revision and params as the route already read them (`ReplyChannel`)."""
    limit: int = MAX_UNSENT
    """Bytes queued and not yet written out (`HttpSecurity.max_unsent_bytes`): past it, the handler of a
    stream's request waits while a client reads the stream (`drained`), and a session's stream that
    no connection can write out in time sheds its queue to the event store (`shed`)."""
    cut: bool = False
    """The queue was shed: the connection writing the stream out ends, what was shed is replayed."""
    finished: bool = False
    """Its final message is queued: nothing sent after it is written out, so no writer waits for room."""
    stall: float = 10.0
    """Seconds a writer may wait for room with the queue not shrinking before the stream counts as
    stalled (`backed_up`; `HttpSecurity.stalled_stream_timeout`)."""

    _ids: ClassVar[Iterator[int]] = itertools.count(1)
    _origin: ClassVar[str] = secrets.token_hex(3)
    """This process's part of stream names: an event store shared by several workers never sees two
    streams of one name (each forked worker draws its own, `_reseed`)."""

    def keep(self, kept: dict[str, Stream], bound: int) -> None:
        """Name this stream of a session (its event ids) and keep it in `kept`, the session's streams
        kept for resumption, at most `bound` of them. The caller counts this stream among those
        being read (`Session.streams`, below `bound`), so one that nobody reads is always found."""
        self.id = f"s{self._origin}.{next(self._ids)}"
        if len(kept) >= bound:
            # The oldest stream nobody reads (its client left, or was told to poll, and never came
            # back) goes first: resumption is best effort, memory is not.
            gone = next((k for k, v in kept.items() if not v.reading), None)
            if gone is not None:
                kept.pop(gone).closed = True
        kept[self.id] = self
        self.owner = kept
        store = self.store
        if store is not None:
            for data, _ in self.queue.items:  # sent before it was named: kept now, in order
                if data:
                    self.seq += 1
                    store.append(self.id, self.seq, data)

    @classmethod
    def mine(cls, name: str) -> bool:
        """Whether the stream named `name` was made by this process (else by another worker)."""
        return name.startswith(f"s{cls._origin}.")

    def put(self, data: bytes, final: bool = False) -> None:
        if not self.closed:
            store = self.store
            if store is not None and data and self.id:
                if self.queue.size + len(data) > self.limit and self.queue.size and not final:
                    self.shed()
                self.seq += 1
                store.append(self.id, self.seq, data)
                if not self.reading:
                    store.unread(self.id)
            self.queue.put_nowait((data, final))
            if final:
                self.finished = True
                self.queue.wake_senders()  # writers waiting in `drained` would wait for ever

    def shed(self) -> None:
        """The client reads too slowly (or not at all) for what is sent: every event queued is in the
        event store already, so the queue lets go of them (counted as skipped: a resumption replays
        them from the store) and the connection writing the stream out, if any, ends, so that the
        client resumes after the last event it did get. A final message queued stays queued."""
        items = self.queue.items
        if any(final for _, final in items):
            return  # nothing more comes after it: the queue cannot grow
        items.clear()
        self.queue.taken()
        self.sent = self.seq
        self.cut = self.reading  # (a writer that starts later replays from the store first: no gap)

    async def drained(self, incoming: int) -> None:
        """Wait while `incoming` more bytes would put more than `limit` in the queue of a stream a
        client is reading, until it reads them or lets go of the stream: a slow reader slows its
        request's handler (as a slow stdio client does) instead of growing the queue."""
        queue = self.queue
        while queue.size and queue.size + incoming > self.limit and self.reading and not self.gone:
            if self.closed or self.finished:
                return
            space = queue.space
            if space is None:
                space = queue.space = asyncio.Event()
                queue.space_since = time.monotonic()
            await space.wait()

    @property
    def backed_up(self) -> bool:
        """Its client has stopped reading it: a writer has waited in `drained` for longer than `stall`
        with the queue not shrinking at all (a client that reads, however slowly, wakes the writers
        each time it takes a message)."""
        queue = self.queue
        return queue.space is not None and time.monotonic() - queue.space_since > self.stall

    def release(self) -> None:
        """Its reader let go of it: what is sent on it from now on waits for a resumption."""
        self.reading = self.cut = False  # (the next reader replays what was shed from the store)
        self.queue.wake_senders()
        if not self.closed and self.store is not None and self.id:
            self.store.unread(self.id)

    async def take_over(self, within: float) -> bool:
        """A resumption (`Last-Event-ID`) of a stream another response is still writing out: that
        response ends at its writer's next turn, as a shed stream's does (`cut`: what it had not
        written out stays queued), and the resumption becomes the one reader. The client that
        resumes has left the old connection, though the server may not have seen it go yet (its
        close and the new request arrive together, or a proxy holds the old one open): refusing
        (409) until then made a prompt resumption fail. False if the old reader did not let go
        within `within` seconds (a write of its own blocked on a connection that takes nothing)."""
        deadline = time.monotonic() + within
        while self.reading:
            if time.monotonic() > deadline:
                return False
            self.cut = True
            self.queue.put_nowait((b"", False))  # wakes its writer, which sees `cut`
            # Looked at again shortly (a writer woken lets go within a turn or two, unless its own
            # write is blocked): no signal of its own on every stream for this rare wait.
            await asyncio.sleep(0.01)
        return True

    def poll(self, retry_ms: int) -> None:
        """Close the current connection once what is queued is sent; the client reconnects after
        `retry_ms` with `Last-Event-ID` (2025-11-25 SSE polling). Streams without ids ignore it."""
        if self.store is not None:
            self.poll_retry = retry_ms
            self.queue.put_nowait((b"", False))

    def event(self, data: bytes) -> bytes:
        """Frame the next queued event `data`, with its id when the stream is resumable."""
        if self.store is None:
            return b"event: message\r\ndata: " + data + b"\r\n\r\n"
        self.sent += 1
        return framed(self.id, self.sent, data)

    def prime(self) -> bytes:
        """An event with an id and no data: the client can resume from it before anything is sent."""
        return f"id: {self.id}-{self.sent}\r\ndata:\r\n\r\n".encode()


def whole(stream: Stream, reply: bytes, session: Session | None) -> bytes:
    """The body of a POST's stream whose request was answered (`reply`) as soon as it was handed over,
    after sending something first (the usual progress, then the answer): every event of it is there
    already, framed in one go, with no writer, queue or entry among the session's open streams. On a
    session the events are numbered and kept as `keep` keeps them (a client that loses the response
    resumes from the store with `Last-Event-ID`), after the priming event where the revision asks
    for one; on the stateless wire they have no ids, as `event` frames them."""
    items = stream.queue.items
    store = stream.store
    chunks: list[bytes] = []
    if store is None or session is None:
        for data, final in items:
            if data:
                chunks.append(b"event: message\r\ndata: " + data + b"\r\n\r\n")
            if final:
                break
        else:
            chunks.append(b"event: message\r\ndata: " + reply + b"\r\n\r\n")
    else:
        name = stream.id = f"s{stream._origin}.{next(stream._ids)}"
        head = b"id: " + name.encode() + b"-"
        rev = session.conn.session  # (not `Connection.revision`, a property: this is every stream)
        if rev is not None and rev.primes_streams:
            chunks.append(head + b"0\r\ndata:\r\n\r\n")
        seq = 0
        for data, final in (*items, (reply, True)):
            if data:
                seq += 1
                store.append(name, seq, data)
                chunks.append(b"%s%d\r\nevent: message\r\ndata: %s\r\n\r\n" % (head, seq, data))
            if final:
                break
        stream.seq = stream.sent = seq
    items.clear()
    stream.queue.size = 0  # (`taken`, with no writer to wake: the handler that wrote them is done)
    stream.closed = stream.finished = True
    return b"".join(chunks)


def _reseed() -> None:
    Stream._origin = secrets.token_hex(3)


os.register_at_fork(after_in_child=_reseed)


def framed(stream: str, seq: int, data: bytes) -> bytes:
    """An SSE event of `stream`, numbered `seq`."""
    return b"id: %s-%d\r\nevent: message\r\ndata: %s\r\n\r\n" % (stream.encode(), seq, data)


_OVERHEAD: Final = 100
"""What keeping an event costs beyond its data (the tuple, the int, the deque slot), in bytes (a module
constant: a class attribute read through an instance is a slow read in 3.11, and this is every event)."""


class MemoryEventStore:
    """A session's SSE events kept in memory for `Last-Event-ID`, bounded by bytes and by count: the
    oldest fall off first, and an event larger than the whole bound is never kept."""

    def __init__(self, max_bytes: int = 8 * 1024 * 1024, max_events: int = 1000) -> None:
        self.max_bytes = max_bytes
        self.max_events = max_events
        self.events: deque[tuple[str, int, bytes]] = deque()
        self.size = 0
        self.last_get = 0

    def append(self, stream: str, seq: int, data: bytes) -> None:
        if stream == GET_STREAM:
            self.last_get = seq
        cost = len(data) + _OVERHEAD
        if cost > self.max_bytes:
            return  # could never be replayed without dropping everything else
        events = self.events
        events.append((stream, seq, data))
        self.size += cost
        while self.size > self.max_bytes or len(events) > self.max_events:
            self.size -= len(events.popleft()[2]) + _OVERHEAD

    def unread(self, stream: str) -> None:
        return None  # a resumption reads this process's memory: nothing to tell

    async def after(self, last_event_id: str) -> tuple[str, list[tuple[int, bytes]]] | None:
        parsed = event_id(last_event_id)
        if parsed is None:
            return None
        stream, after = parsed
        return stream, [(s, d) for (st, s, d) in self.events if st == stream and s > after]

    async def last_get_event(self) -> int:
        return self.last_get


# -- the final message's HTTP status ------------------------------------------------------------------


class _ErrorCode(msgspec.Struct):
    code: int = 0


class _ErrorPeek(msgspec.Struct):
    error: _ErrorCode | None = None


_error_peek = msgspec.json.Decoder(_ErrorPeek).decode


def ended(stream: Stream, session: Session | None) -> None:
    """A POST's stream has its final message: it is closed, and no longer kept for resumption."""
    if session is not None:
        session.open_streams.pop(stream.id, None)
    stream.closed = True


def answer_status(stream: Stream, session: Session | None, answer: bytes) -> int:
    """The HTTP status of a final message sent as the POST's JSON body."""
    return stream.status if session is not None else stateless_status(answer, stream.status)


_RESULT_HEAD: Final = b'{"jsonrpc":"2.0","id":'
SHORT_ANSWER: Final = 512
"""The longest answer `stateless_status` scans whole for `"error"` (a caller may test it first); a
longer one has its head read, up to this many bytes."""


def stateless_status(answer: bytes, status: int) -> int:
    """The HTTP status of a stateless JSON answer: 200 for a result, 400/404 for protocol errors."""
    if status != 200:
        return status
    # A result as `encode_result` writes it is told by its head, `{"jsonrpc":"2.0","id":<id>,"result":`
    # (the scalar id holds no `,"result":`, and no `"error"` comes before it): a large result is not
    # scanned whole for `"error"`, which cost more than encoding it.
    if len(answer) <= SHORT_ANSWER:
        # One scan of a short answer costs less than reading its head (and `find` less than `in`,
        # which goes through the buffer protocol).
        if answer.find(b'"error"') < 0:
            return status
    else:
        end = answer.find(b',"result":', 0, SHORT_ANSWER)
        if end > 0 and answer.startswith(_RESULT_HEAD) and answer.find(b'"error"', 0, end) < 0:
            return status
        if b'"error"' not in answer:
            return status
    try:
        error = _error_peek(answer).error
    except msgspec.DecodeError:
        return status
    return error_status().get(error.code, status) if error is not None else status


# -- the peer's side: what it sends goes to the stream of the request being served --------------------


class RoutedTransport:
    """The peer's transport: frames go to the stream of the request being served, else the GET stream.

    It holds its session weakly: the session holds the connection, which holds this, and a cycle would
    keep an ended session (and what its streams hold) until the garbage collector's next full pass."""

    def __init__(self, session: Session | None) -> None:
        self._session = None if session is None else weakref.ref(session)

    @property
    def session(self) -> Session | None:
        return None if self._session is None else self._session()

    async def read(self) -> bytes | None:  # HTTP feeds the peer directly
        return None

    async def write(self, data: bytes) -> None:
        if self.write_nowait(data):
            return
        route = ROUTE.get()
        if isinstance(route, Stream):
            await route.drained(len(data))
            route.put(data)
        else:
            session = self.session
            if session is not None:
                session.unrouted(data)

    def write_nowait(self, data: bytes) -> bool:
        """Queue `data` on the stream of the request being served if it has room for it (the usual
        progress, with no coroutine: `Requester.offer`), and say so; False, with nothing queued: `write`
        waits for room, or sends it where a message of no request goes."""
        route = ROUTE.get()
        if not isinstance(route, Stream):
            return False
        queue = route.queue
        if queue.size + len(data) > route.limit:
            return False
        if route.id or route.closed or queue.waiter is not None:
            route.put(data)
        else:
            # (`put`, inlined for a stream not named yet, with no writer waiting on its queue: the
            # usual progress of a request still being handed over, kept and numbered once named)
            queue.items.append((data, False))
            queue.size += len(data)
        return True

    async def close(self) -> None:
        return None


class HttpPeer(Peer):
    async def refuse(self, reply: bytes) -> None:
        reply = self._revised(reply)
        route = ROUTE.get()
        if isinstance(route, Stream):
            # The message itself was refused: an HTTP error, answered at once. -32000 is the peer's
            # "Server busy" (too many requests waiting): try again later, not a bad request. (`find`:
            # `in` on bytes first tries its operand as an integer, a TypeError made and dropped.)
            route.status = 503 if reply.find(b'"code":-32000') >= 0 else 400
            route.put(reply, final=True)
        else:
            await self.send(reply)

    async def respond_batch(self, reply: bytes | None) -> None:
        route = ROUTE.get()
        if isinstance(route, Stream):
            route.put(reply or b"", final=True)
        elif reply is not None:
            await self.send(reply)

    def abandoned(self, event: IncomingRequest) -> None:
        route = ROUTE.get()
        if isinstance(route, Stream):
            route.put(b"", final=True)  # no answer will come: end the request's stream
            if route.owner is not None:
                route.owner.pop(route.id, None)  # and nothing is left to resume

    async def respond(self, event: IncomingRequest, reply: bytes) -> None:
        route = ROUTE.get()
        if isinstance(route, Stream):
            route.put(reply, final=True)
        else:
            await self.send(reply)


async def feed(conn: Connection, body: bytes, stream: Stream) -> None:
    """Hand a message to the connection; what it sends while serving it goes to `stream`."""
    token = ROUTE.set(stream)
    try:
        await conn.peer.feed(body)
    finally:
        ROUTE.reset(token)


# -- the writer -----------------------------------------------------------------------------------------


async def write_stream(
    send: Send,
    stream: Stream,
    first: list[tuple[bytes, bool]],
    rid: Any,
    conn: Connection | None,
    session: Session | None,
    receive: Receive,
    keepalive: float,
    watcher: asyncio.Future[None] | None = None,
    replay: list[bytes] | None = None,
) -> None:
    """Write `stream` out as SSE until its final message, until the client leaves (`watcher`,
    started when the stream first has to wait), or until the server asks the client to poll.
    Whatever is queued goes out in one write; `replay`, events already framed (resumption), first."""
    await send({"type": "http.response.start", "status": 200, "headers": [*SSE_HEADERS]})
    stream.gone = False
    chunks: list[bytes] = replay or []
    if stream.store is not None and session is not None:
        rev = session.conn.session  # (not `Connection.revision`, a property: this is every stream)
        if rev is not None and rev.primes_streams:
            chunks.append(stream.prime())
    pending = list(first)
    done = False
    queue = stream.queue
    try:
        while True:
            items = queue.items  # (`empty` and `get_nowait`, inlined: every stream, every wake-up)
            if items:
                pending.extend(items)
                items.clear()
                queue.taken()
            if stream.cut:
                # The queue was shed (the client reads too slowly): what follows it waits for the
                # client's resumption, which replays the shed events from the store first.
                stream.cut = False
                for held in reversed(pending):
                    queue.items.appendleft(held)
                    queue.size += len(held[0])
                break
            for data, final in pending:
                if data:
                    chunks.append(stream.event(data))
                if final:
                    stream.closed = done = True
                    break
            pending = []
            if done:
                break
            if chunks:
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                chunks = []
            if stream.gone:
                left(stream, rid, conn, session)
                break
            if stream.poll_retry is not None:
                retry, stream.poll_retry = stream.poll_retry, None
                chunks.append(f"retry: {retry}\r\n\r\n".encode())
                break  # the connection closes; the stream stays open for the client's GET
            if watcher is None:
                watcher = watch(receive, stream)
            item = await queue.get_within(keepalive)
            if item is None:
                await send({"type": "http.response.body", "body": KEEPALIVE, "more_body": True})
            else:
                pending = [item]
    except OSError:
        left(stream, rid, conn, session)
    except asyncio.CancelledError:
        # The ASGI server stops and cancels the responses still open (uvicorn: once
        # `timeout_graceful_shutdown` is over). A request's stream ends with the JSON-RPC error that
        # says so as its last event, its handler cancelled; a GET stream (or a batch's) just ends.
        # The cancellation ends here, with the response (`stateful.stopped`, which says why).
        if rid is not None and conn is not None and not stream.closed:
            stream.put(shutting_down(rid), final=True)
            conn.peer.cancel_incoming(rid)
            for data, _ in stream.queue.items:
                if data:
                    chunks.append(stream.event(data))
            stream.queue.items.clear()
            stream.queue.taken()
            stream.closed = True
    finally:
        if stream.closed and session is not None:
            session.open_streams.pop(stream.id, None)
        if watcher is not None:
            watcher.cancel()
        try:
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})
        except Exception:
            pass  # the connection is gone: nothing more can be sent on it


def left(stream: Stream, rid: Any, conn: Connection | None, session: Session | None) -> None:
    """The client went away before the final message. On the stateless wire that cancels the
    request; a stateful session's stream stays open, to be resumed with Last-Event-ID (earlier
    revisions say a disconnect is no cancellation)."""
    if session is None or stream.store is None:
        stream.closed = True
        if conn is not None and rid is not None:
            conn.peer.cancel_incoming(rid)


def watch(receive: Receive, stream: Stream) -> asyncio.Future[None]:
    """Mark `stream` gone, and wake its writer, when the client leaves."""
    return asyncio.ensure_future(_watch_disconnect(receive, stream))


async def _watch_disconnect(receive: Receive, stream: Stream) -> None:
    await disconnected(receive)
    stream.gone = True
    stream.queue.put_nowait((b"", False))  # wake the writer, which sees the client gone
    stream.queue.wake_senders()
