"""`RedisBus`: the notification bus between workers (Redis pub/sub). A list change or a resource update made
on one worker reaches the clients whose streams another worker holds: a session's GET stream, a
`subscriptions/listen` stream (2026-07-28)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any, Final

import msgspec
from redis.exceptions import RedisError

from ....errors import McpError
from ....protocol.jsonrpc import RequestId
from ..sessions import StoreUnavailable
from .connection import RedisConnection
from .follow import Followers
from .registrations import CHANGES, RegistrySync

if TYPE_CHECKING:
    from ....server import Connection, Server
    from ....server.tasks import Tasks
    from ..sessions import SessionTable

__all__ = ["RedisBus"]

log = logging.getLogger("mcpbind.redis")

_RETRY: Final = 1.0
"""Seconds between attempts to subscribe again after Redis went away."""


class _Change(msgspec.Struct, array_like=True):
    kind: str
    """"list" (value: tools, resources or prompts), "add" or "remove" (value: "<kind>:<name>", a
    registration made while serving: `registrations`), "resource" (value: the URI), "answer" (value: a
    session id; the client's answer `data` to the server's request `rid`), or "notice" (value: a session
    id; `data`, a notification of its client that every worker takes: a cancellation), or, for a task
    (value: its id), "task-cancel" (stop its code), "task-input" (`data`: input responses, JSON; the
    worker running it replies: nothing, or why it refused them) or "task-end" (it is terminal: wake who
    waits on its result); for a session (value: its id), "events" (new events of its streams are in the
    event store: wake who follows them), "get-opened" (a GET stream of it opened on the sender: end
    yours) or "stream-held" (`data`: a stream's name; the worker holding it replies). "reply" answers
    the message whose `rid` it carries, with `data`."""
    value: str
    rid: RequestId | None = None
    data: bytes = b""
    origin: str = ""
    """The bus that sent it (a notice is not taken again by the worker that got it first)."""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(_Change).decode

_HELD_WAIT: Final = 2.0
"""Seconds a worker waits for the one holding a stream to say so (none: it died, or the stream ended)."""


def events_notice(session_id: str) -> bytes:
    """The message that tells every worker of new events of the session's streams (published by the
    event store, in the round trip that keeps them)."""
    return _encode(_Change("events", session_id))


class RedisBus:
    """Carries a server's changes to every worker (`Server.relay`), each delivering to the streams it holds.

    A session's own notifications go out on the worker that holds its GET stream open (a session is
    known to several workers; only that one delivers, so the client gets each once). Listeners
    (`subscriptions/listen`) live on the worker serving the listen request. When Redis cannot be
    reached, a change is delivered by the worker that made it alone, as without a bus."""

    def __init__(
        self, connection: RedisConnection, server: Server, table: SessionTable, keepalive: float = 15.0
    ) -> None:
        self.connection = connection
        self.server = server
        self.table = table
        self.channel = connection.key("bus")
        self.origin = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
        self._last: asyncio.Task[None] | None = None
        self.registry = RegistrySync(connection, server)
        self._replies: dict[RequestId, asyncio.Future[bytes]] = {}
        """Questions to other workers (`_ask`) waiting for the reply, by the id of their message."""
        self.followers = Followers(self.held, keepalive)
        self.ready = asyncio.Event()
        """Set while subscribed (the app's startup waits for it)."""

    def start(self) -> None:
        self.server.relay = self.relay
        self.table.forward = self.forward
        self.table.follow = self.followers.follow
        self.table.claim = self.claim
        tasks = self.server.tasks
        if tasks is not None:
            tasks.peers = self
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self.server.relay == self.relay:
            self.server.relay = None
        tasks = self.server.tasks
        if tasks is not None and tasks.peers is self:
            tasks.peers = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    # -- out ------------------------------------------------------------------------------------------

    def relay(self, kind: str, value: str) -> None:
        """What the server calls on a change (it cannot wait): publish it, in the background, after the
        changes before it (a tool removed then registered again must not arrive the other way round)."""
        change = _Change(kind, value, origin=self.origin)
        task = self._last = asyncio.get_running_loop().create_task(self._publish(change, self._last))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def forward(self, session_id: str, rid: RequestId | None, body: bytes) -> None:
        """Send the client's answer to the worker that awaits it, or (no `rid`) its notification to every
        other worker (StoreUnavailable: Redis is away)."""
        kind = "answer" if rid is not None else "notice"
        data = _encode(_Change(kind, session_id, rid, body, self.origin))
        await self.connection.run(lambda client: client.publish(self.channel, data))

    # -- tasks (`TaskPeers`): what every worker hears of a task another runs or waits on ------------

    async def cancelled(self, task_id: str) -> None:
        await self._tell("task-cancel", task_id)

    async def answered(self, task_id: str, responses: dict[str, Any]) -> str | None:
        tasks = self.server.tasks
        wait = tasks.peer_wait if tasks is not None else 5.0
        # No word: no worker runs its code any more, or the word was lost; the record is the truth.
        refused = await self._ask("task-input", task_id, msgspec.json.encode(responses), wait)
        return refused.decode() if refused else None

    async def claim(self, session_id: str) -> None:
        """A GET stream of the session opens here: the other workers end theirs."""
        try:
            await self._tell("get-opened", session_id)
        except StoreUnavailable as exc:  # then two workers may both deliver for a while
            log.warning("other workers not told of a GET stream opened here: %s", exc)

    async def held(self, session_id: str, stream: str) -> bool:
        """Whether another worker holds the session's stream `stream` open (its request is running)."""
        return await self._ask("stream-held", session_id, stream.encode(), _HELD_WAIT) is not None

    async def _ask(self, kind: str, value: str, data: bytes, wait: float) -> bytes | None:
        """Tell every other worker, and wait up to `wait` seconds for the reply of the one concerned
        (None: no reply)."""
        nonce = secrets.token_hex(8)
        reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._replies[nonce] = reply
        try:
            await self._tell(kind, value, data, nonce)
            try:
                return await asyncio.wait_for(reply, wait)
            except TimeoutError:
                return None
        finally:
            del self._replies[nonce]

    async def ended(self, task_id: str) -> None:
        await self._tell("task-end", task_id)

    async def _tell(self, kind: str, value: str, data: bytes = b"", rid: RequestId | None = None) -> None:
        change = _encode(_Change(kind, value, rid, data, self.origin))
        await self.connection.run(lambda client: client.publish(self.channel, change))

    async def _publish(self, change: _Change, after: asyncio.Task[None] | None = None) -> None:
        if after is not None and not after.done():
            await asyncio.wait([after])
        try:
            if change.kind in CHANGES:  # kept for workers that start later, in the same round trip
                async with self.connection.client.pipeline(transaction=True) as pipe:
                    self.registry.record(pipe, change.kind, change.value)
                    pipe.publish(self.channel, _encode(change))
                    await pipe.execute()
            else:
                await self.connection.client.publish(self.channel, _encode(change))
        except (RedisError, OSError) as exc:
            log.warning("change not sent to other workers (Redis unavailable: %s); delivered here", exc)
            await self.deliver(change, everywhere=True)

    # -- in -------------------------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                async with self.connection.client.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    await self._catch_up()
                    self.ready.set()
                    while True:
                        message: Any = await pubsub.get_message(timeout=None)
                        if message is not None and message.get("type") == "message":
                            try:
                                await self.deliver(_decode(message["data"]))
                            except msgspec.DecodeError:
                                log.warning("ignoring an unreadable message on %s", self.channel)
                            except (RedisError, OSError):
                                raise  # the subscription is lost: subscribe again
                            except Exception:
                                # One message this worker cannot act on (anything may publish on the
                                # channel): it is skipped, and the bus goes on taking the next.
                                log.exception(
                                    "ignoring a message on %s that could not be acted on", self.channel
                                )
            except (RedisError, OSError) as exc:
                self.ready.clear()
                log.warning("bus: Redis unavailable (%s); subscribing again in %.0f s", exc, _RETRY)
                await asyncio.sleep(_RETRY)

    async def _catch_up(self) -> None:
        """Apply the registrations other workers made before this one subscribed (changes published since
        come on the channel; applying one twice changes nothing)."""
        try:
            kinds = await self.registry.catch_up()
        except StoreUnavailable as exc:
            log.warning("bus: registrations of other workers not read (%s)", exc)
            return
        for kind in kinds:
            await self.deliver(_Change("list", kind))

    async def _answer_task(self, tasks: Tasks, change: _Change) -> None:
        """Input for a task: taken if its code runs here, and the worker that got it told."""
        try:
            responses = msgspec.json.decode(change.data, type=dict[str, Any])
            if not await tasks.answer_here(change.value, responses):
                return
            refused = b""
        except McpError as exc:
            refused = exc.message.encode()
        except msgspec.DecodeError:
            log.warning("task %s: unreadable input responses from another worker", change.value)
            return
        await self._reply(change, refused)

    async def _reply(self, change: _Change, data: bytes) -> None:
        if change.rid is not None:
            try:
                await self._tell("reply", change.value, data, change.rid)
            except StoreUnavailable as exc:  # the asker's wait ends without it
                log.warning("%s %s: no reply sent: %s", change.kind, change.value, exc)

    async def deliver(self, change: _Change, everywhere: bool = False) -> None:
        """Tell this worker's clients of `change`: sessions whose GET stream is held here (all of this
        worker's sessions when `everywhere`), and every listener. An answer goes to the session's
        connection here if it awaits it; a notice to the session's connection here. A registration made
        on another worker is applied here first, then told as the list change it is."""
        if change.kind in CHANGES:
            if change.origin == self.origin:
                kind = change.value.partition(":")[0]
            else:
                kind = self.registry.apply(change.kind, change.value)
            change = _Change("list", kind)
        if change.kind == "reply":
            reply = self._replies.get(change.rid) if change.rid is not None else None
            if reply is not None and not reply.done():
                reply.set_result(change.data)
            return
        if change.kind == "events":
            self.followers.wake(change.value)
            return
        if change.kind == "get-opened":
            session = self.table.sessions.get(change.value)
            stream = session.get_stream if session is not None and change.origin != self.origin else None
            if session is not None and stream is not None:
                # The newest GET stream of a session is the one: this one's response ends, and what
                # belongs to no request goes to that worker alone (numbered there, once).
                stream.put(b"", final=True)
                stream.closed = True
                session.get_stream = None
            return
        if change.kind == "stream-held":
            session = self.table.sessions.get(change.value)
            if (
                session is not None
                and change.origin != self.origin
                and change.data.decode() in session.open_streams
            ):
                await self._reply(change, b"")
            return
        if change.kind.startswith("task-"):
            tasks = self.server.tasks
            if tasks is None or change.origin == self.origin:
                return
            if change.kind == "task-cancel":
                tasks.stop(change.value)
            elif change.kind == "task-end":
                tasks.wake(change.value)
            else:
                await self._answer_task(tasks, change)
            return
        if change.kind in ("answer", "notice"):
            session = self.table.sessions.get(change.value)
            if session is None or change.origin == self.origin:
                return
            if change.rid is None or session.conn.peer.endpoint.awaits(change.rid):
                await session.conn.peer.feed(change.data)
            return
        held: dict[Connection, bool] = {}
        for session in list(self.table.sessions.values()):
            stream = session.get_stream
            here = held[session.conn] = (
                everywhere or (stream is not None and not stream.closed) or session.opening_get > 0
            )
            if here and not everywhere and (change.kind == "resource" or not session.conn.initialized):
                # Its subscriptions, or its being initialized (what a list change needs), may have
                # changed on another worker since its GET stream opened here.
                try:
                    held[session.conn] = await self.table.refresh(session)
                except StoreUnavailable:
                    pass  # delivered as this worker last knew the session
        for conn in self.server.connections:
            if held.get(conn, True):
                if change.kind == "list":
                    conn.list_changed(change.value)
                else:
                    await conn.resource_updated(change.value)
