"""Stateful sessions: their state (`SessionState`) and where it is kept (`SessionStore`), the session table of
a worker, opening one (`initialize`), rebuilding one from the store, expiry, and DELETE."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from ...protocol.inbound import INVALID_REQUEST, sent_revision, session_refusal, version_refusal
from ...protocol.jsonrpc import RequestId
from ...protocol.tasks import client_at
from .asgi import Receive, Send, error_body, respond
from .binding import new_connection
from .clients import ClientSessions, client_of, uncapped
from .security import HttpSecurity, who
from .sse import MAX_UNSENT, EventStore, MemoryEventStore, Stream, feed

if TYPE_CHECKING:
    from ...server import Connection, Server
    from ...server.session import SessionSnapshot

log = logging.getLogger("mcpbind.http")

_RETRY: Final = ((b"retry-after", b"5"),)
"""What a refused `initialize` is told: try again in five seconds."""

__all__ = [
    "SessionState",
    "SessionStore",
    "MemorySessionStore",
    "Session",
    "SessionTable",
    "StoreUnavailable",
]


class StoreUnavailable(Exception):
    """A shared store (sessions, events) cannot be reached: the request fails (503), the server lives on."""


class SessionState(msgspec.Struct):
    """What a stateful session is, apart from its open streams: enough for another worker to go on."""

    revision: str
    client_capabilities: dict[str, Any]
    client_info: dict[str, Any]
    initialized: bool = False
    log_level: str | None = None
    subscriptions: list[str] = msgspec.field(default_factory=list)
    principal: str = ""
    """Who opened the session (a digest of the principal `verify_token` returned; "" without it):
    the session is no one else's."""
    client: str = ""
    """The address of the client that opened it, when no principal names the client: whose
    `HttpSecurity.max_sessions_per_client` it counts against, on every worker (`clients.client_of`)."""
    task_client: str = ""
    """Whose allowance of unfinished tasks its anonymous tasks count against (`Session.task_client`)."""

    # The one place a server session (`SessionSnapshot`) and its stored form meet: stores keep this
    # wire form, whatever the server's snapshot becomes.

    @classmethod
    def of(
        cls, snapshot: SessionSnapshot, principal: str, client: str = "", task_client: str = ""
    ) -> SessionState:
        """The stored form of a session the server negotiated (`Connection.snapshot()`)."""
        return cls(
            snapshot.revision,
            snapshot.client_capabilities,
            snapshot.client_info,
            snapshot.initialized,
            snapshot.log_level,
            list(snapshot.subscriptions),
            principal,
            "" if principal else client,
            "" if principal else task_client,
        )

    def snapshot(self) -> SessionSnapshot:
        """The session as the server takes it up again (`Connection.restore()`)."""
        from ...server.session import SessionSnapshot

        return SessionSnapshot(
            self.revision,
            self.client_capabilities,
            self.client_info,
            self.initialized,
            self.log_level,
            tuple(self.subscriptions),
        )


class SessionStore(Protocol):
    """Where stateful sessions live between requests. Give every worker the same store (a database,
    a cache) and a request may land on any of them; the default keeps sessions in this process.

    A store whose `shared` attribute is true (another process may change a session) is read on every
    request, so that a worker never serves a session from a stale copy, and it expires sessions itself
    (a worker that has not seen a session for a while drops its own copy, not the stored one)."""

    async def load(self, session_id: str) -> SessionState | None: ...

    async def save(self, session_id: str, state: SessionState) -> None: ...

    async def delete(self, session_id: str) -> None: ...


class MemorySessionStore:
    def __init__(self) -> None:
        self._states: dict[str, bytes] = {}

    async def load(self, session_id: str) -> SessionState | None:
        data = self._states.get(session_id)
        return None if data is None else msgspec.json.decode(data, type=SessionState)

    async def save(self, session_id: str, state: SessionState) -> None:
        self._states[session_id] = msgspec.json.encode(state)

    async def delete(self, session_id: str) -> None:
        self._states.pop(session_id, None)


@dataclass
class Session:
    """A session this worker serves: its connection, its streams, and what is bounded per session."""

    id: str
    conn: Connection
    store: EventStore = field(default_factory=MemoryEventStore)
    get_stream: Stream | None = None
    opening_get: int = 0
    """GET streams of the session being opened here (not yet `get_stream`): what is delivered
    meanwhile is this worker's to keep for them (`unrouted`, the backlog)."""
    principal: str = ""
    """Whose session it is (`SessionState.principal`)."""
    client: str = ""
    """Whose place it takes (`clients.client_of`): its principal, else its client's address."""
    task_client: str = ""
    """Whose allowance of unfinished tasks (`TaskPolicy.max_per_client`) its tasks count against
    without a principal (`Connection.task_client`): its client's address, shared by all its sessions,
    unless that address is in `HttpSecurity.uncapped_networks` ("": the session's own)."""
    state: SessionState | None = None
    """What the shared store held when this worker last read it (shared stores only)."""
    streams: int = 0
    """Responses open for the session's requests (POSTs being answered, GET streams)."""
    last_seen: float = field(default_factory=time.monotonic)

    backlog: deque[bytes] = field(default_factory=lambda: deque(maxlen=100))
    backlog_bytes: int = 0
    backlog_limit: int = MAX_UNSENT
    """Bytes the backlog keeps (`HttpSecurity.max_unsent_bytes`), besides its 100 messages."""
    open_streams: dict[str, Stream] = field(default_factory=dict)
    """POST streams still waiting for their final message (resumable with Last-Event-ID)."""

    def in_use(self) -> bool:
        """A request of it is being answered or runs, a stream of it is open, or the server awaits its
        client's answer: a session its client's cap does not end (`ClientSessions.longest_idle`)."""
        return self.streams > 0 or self.opening_get > 0 or not self.conn.peer.is_idle()

    def unrouted(self, data: bytes) -> None:
        """A message that belongs to no request: the GET stream's, or kept (bounded, in number and in
        bytes: the oldest go first) until one opens."""
        if self.get_stream is not None and not self.get_stream.closed:
            self.get_stream.put(data)
            return
        backlog = self.backlog
        if len(backlog) == backlog.maxlen:
            self.backlog_bytes -= len(backlog[0])
        backlog.append(data)
        self.backlog_bytes += len(data)
        while self.backlog_bytes > self.backlog_limit and len(backlog) > 1:
            self.backlog_bytes -= len(backlog.popleft())

    def take_backlog(self) -> list[bytes]:
        """What the backlog kept, for the GET stream that opens now."""
        taken = list(self.backlog)
        self.backlog.clear()
        self.backlog_bytes = 0
        return taken


class SessionTable:
    """The sessions of one worker, backed by a `SessionStore` any worker may share. A session enters and
    leaves the table through its methods (`_hold`, `_let_go`), which keep each client's sessions
    (`clients`) in step with it."""

    def __init__(
        self,
        server: Server,
        security: HttpSecurity,
        store: SessionStore | None,
        event_store: Callable[[str], EventStore] | None,
        closing: set[asyncio.Future[Any]],
    ) -> None:
        self.server = server
        self.security = security
        self.store: SessionStore = store or MemorySessionStore()
        self.event_store = event_store or (lambda _: MemoryEventStore(self.security.max_replay_bytes))
        """The event store of a session, by its id."""
        self.sessions: dict[str, Session] = {}
        self.clients: ClientSessions[Session] = ClientSessions()
        """The same sessions by client (`HttpSecurity.max_sessions_per_client`)."""
        self.refused = float("-inf")
        """When an `initialize` was last refused for its client's sessions all being in use (logged
        as a warning at most once a minute). Never, at first: the monotonic clock counts from the
        machine's boot, so 0.0 would be "just now" on a machine up for less than a minute."""
        self.shared: bool = getattr(self.store, "shared", False)
        """Other processes share the store: read it on every request (`get`)."""
        self.forward: Callable[[str, RequestId | None, bytes], Awaitable[None]] | None = None
        """Set by a bus between workers: takes a session's message to the other workers (session id,
        request id, body): an answer to the request of that id, to the worker awaiting it; with no id,
        a cancellation, to every worker (the request it cancels may run on any)."""
        self.follow: Callable[[Session, str, int, Send, Receive], Awaitable[None]] | None = None
        """Set by a bus between workers: answers a resumption (session, stream name, last event id seen)
        of a stream another worker made, with its events from the shared store as they are sent."""
        self.claim: Callable[[str], Awaitable[None]] | None = None
        """Set by a bus between workers: a GET stream of the session (by its id) opens on this worker;
        the other workers end theirs."""
        self.closing = closing
        """Tasks left running (sessions being ended), kept until they finish."""
        self.swept = time.monotonic()
        """When idle sessions were last looked for."""
        self.sweep_every = min(60.0, security.session_idle_timeout)
        """How often they are looked for: a minute, or the idle timeout if shorter (a session is
        ended at most that long after its timeout, not a minute after a timeout of seconds)."""
        self._sweeper: asyncio.TimerHandle | None = None
        """The loop timer that looks for them, armed while the table holds sessions (`_hold`): they
        end whether or not requests arrive. A timer, not a task: nothing is left pending when a loop
        that served the app stops with no lifespan shutdown, and nothing runs while there is nothing
        to end."""
        self._sweeping: asyncio.AbstractEventLoop | None = None
        """The loop `_sweeper` runs on (a table may be served by one loop after another, as tests do)."""

    async def get(self, session_id: str) -> Session | None:
        """The session, from this worker's memory or rebuilt from the shared store; None when there is
        none, or when it is another principal's (as if it did not exist: a session id is no proof of
        who sends it)."""
        session = self.sessions.get(session_id)
        if session is not None and not self.shared:
            return session if session.principal == who() else None
        if session is not None:
            if not await self.refresh(session):
                return None
            return session if session.principal == who() else None
        state = await self.store.load(session_id)
        if state is None or state.principal != who():
            return None
        session = Session(session_id, None, self.event_store(session_id))  # type: ignore[arg-type]
        session.backlog_limit = self.security.max_unsent_bytes
        session.principal = state.principal
        session.client = state.principal or state.client
        session.task_client = state.task_client
        session.state = state
        session.conn = new_connection(self.server, session)
        try:
            session.conn.restore(state.snapshot())
        except ValueError as exc:  # a stored session this server cannot take up (its revision)
            await self.end(session, "the stored session could not be taken up")
            await self._discard(session_id, exc)
            return None
        self._hold(session)
        return session

    def _hold(self, session: Session) -> None:
        """`session` is this worker's: in the table and counted against its client (and looked for
        when idle: the sweeper runs on this loop)."""
        self.sessions[session.id] = session
        self.clients.add(session)
        loop = asyncio.get_running_loop()
        if self._sweeping is not loop:
            self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()  # (another loop's, stopped or not: this one sweeps from now)
        self._sweeping = loop
        self._sweeper = loop.call_later(self.sweep_every, self._tick)

    def _tick(self) -> None:
        """The sweeper's turn: end idle sessions, and come back while any are left."""
        self._sweeper = None
        try:
            self.sweep(time.monotonic())
        finally:
            if self.sessions and self._sweeping is not None:
                # From the last sweep (an `initialize` at the cap may have swept since): at most
                # `sweep_every` between two.
                delay = max(0.0, self.swept + self.sweep_every - time.monotonic())
                self._sweeper = self._sweeping.call_later(delay, self._tick)
            else:
                self._sweeping = None  # the next session held arms it again

    @property
    def sweeping(self) -> bool:
        """Whether the sweeper is armed."""
        return self._sweeper is not None

    def stop_sweeping(self) -> None:
        """Cancel the sweeper (the app's lifespan ends; a session held after arms it again)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        self._sweeper = self._sweeping = None

    def _let_go(self, session: Session) -> None:
        """`session` is no longer this worker's (ended, or ended elsewhere)."""
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        self.clients.remove(session)

    async def refresh(self, session: Session) -> bool:
        """Read `session` again from a shared store: it may have changed (or ended: False, and it is
        ended here too) on another worker since this one last read it."""
        state = await self.store.load(session.id)
        if state is None:
            self._let_go(session)
            await self.end(session, "the session ended on another worker")
            return False
        if state != session.state:
            try:
                session.conn.restore(state.snapshot())
            except ValueError as exc:
                self._let_go(session)
                await self.end(session, "the stored session could not be taken up")
                await self._discard(session.id, exc)
                return False
            session.state = state
        return True

    async def _discard(self, session_id: str, why: Exception) -> None:
        """A stored session no worker can take up is unknown (404: the client opens a new one), not an
        error on each of its requests until it expires: deleted, and logged once."""
        log.warning("session %s: its stored state cannot be taken up (%s); deleted", session_id, why)
        await self.store.delete(session_id)

    async def find(self, session_id: str) -> Session | None:
        """The session a POST names, if it is the caller's (another principal's is not found)."""
        session = None if self.shared else self.sessions.get(session_id)
        session = session or await self.get(session_id)
        if session is None or (self.security.authenticates and session.principal != who()):
            return None
        return session

    async def save(self, session: Session) -> None:
        state = self.state(session)
        await self.store.save(session.id, state)
        session.state = state

    @staticmethod
    def state(session: Session) -> SessionState:
        return SessionState.of(
            session.conn.snapshot(), session.principal, session.client, session.task_client
        )

    def sweep(self, now: float) -> None:
        """End idle sessions (the sweeper calls it every `sweep_every` while the table holds any, so
        that a session is ended at most that long after its timeout, requests or not)."""
        self.swept = now
        self.expire()

    def expire(self) -> None:
        """End the sessions idle longer than the timeout: no request since, and no response of theirs
        open (a client reading its GET stream, or awaiting a long call, is there; one that left is
        noticed as its stream is written to, keep-alive comments included)."""
        cutoff = time.monotonic() - self.security.session_idle_timeout
        for session in [s for s in self.sessions.values() if s.last_seen < cutoff and not s.streams]:
            self._let_go(session)
            self._closing(self._forget(session, "the session expired", not self.shared))

    def _closing(self, ending: Awaitable[None]) -> None:
        task = asyncio.ensure_future(ending)
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def _forget(self, session: Session, reason: str, delete: bool) -> None:
        """End a session this worker let go of; `delete`: in the store too. (A shared store expires its
        sessions itself: one idle here may be alive elsewhere.)"""
        try:
            if delete:
                await self.store.delete(session.id)
        except StoreUnavailable as exc:
            log.warning("session %s: %s; the store could not delete it (%s)", session.id, reason, exc)
        finally:
            await self.end(session, reason)

    async def end(self, session: Session, reason: str) -> None:
        self.server.detach(session.conn)
        await session.conn.peer.shutdown(reason)
        for stream in [*session.open_streams.values(), *([session.get_stream] if session.get_stream else [])]:
            stream.put(b"", final=True)  # ends the response of a connection still writing it out
            stream.closed = True
        session.open_streams.clear()

    async def shutdown(self) -> None:
        """End every session of this worker (once: a second call finds none), and its sweeper."""
        self.stop_sweeping()
        while self.sessions:
            _, session = self.sessions.popitem()
            self.clients.remove(session)
            await self.end(session, "the server is shutting down")
        self.clients.clear()

    async def initialize(
        self, body: bytes, send: Send, peer: Sequence[object] | None = None, rid: Any = None
    ) -> None:
        """Open a session with the `initialize` request `body` (`rid`: its id, which a refusal names),
        and answer it. `peer`: the client's address (`scope["client"]`), whose sessions are bounded
        when no principal names the client."""
        principal = who()
        client = client_of(principal, peer)
        # An anonymous client on an exempt network is bounded neither in sessions nor in tasks by its
        # address (it may speak for many); any other has one allowance of tasks, its sessions together.
        exempt = not principal and uncapped(peer, self.security.uncapped_networks)
        cap = None if exempt else self.security.max_sessions_per_client
        replacing = cap is not None and self.clients.count(client) >= cap
        if replacing and self.clients.longest_idle(client) is None:
            await self._refuse_client(client, send, rid)
            return
        # A client at its cap replaces one of its own sessions: the table does not grow.
        if not replacing and len(self.sessions) >= self.security.max_sessions:
            # Full: idle sessions may be holding the places. Look for them at most once a second, as
            # the scan walks every session and a flood of initializes at the cap must not repeat it.
            now = time.monotonic()
            if now - self.swept >= 1.0:
                self.sweep(now)
        if not replacing and len(self.sessions) >= self.security.max_sessions:
            await respond(send, 503, error_body(INVALID_REQUEST, "Too many sessions", rid), _RETRY)
            return
        sid = secrets.token_urlsafe(24)
        session = Session(sid, None, self.event_store(sid))  # type: ignore[arg-type]
        session.backlog_limit = self.security.max_unsent_bytes
        session.principal = principal
        session.client = client
        session.task_client = "" if principal or exempt else client_at(client)
        session.conn = new_connection(self.server, session)
        stream = Stream(None)
        await feed(session.conn, body, stream)
        data, _ = await stream.queue.get()
        if session.conn.revision is not None:
            try:
                await self.save(session)
            except BaseException:  # not stored (StoreUnavailable): no session was opened
                self.server.detach(session.conn)
                raise
            # Room is made here, with no wait between it and holding the session: a client's
            # initializes answered at the same time cannot take it past its cap.
            if cap is not None and not self._make_room(client, cap):
                self.server.detach(session.conn)
                await self.store.delete(session.id)
                await self._refuse_client(client, send, rid)
                return
            if len(self.sessions) >= self.security.max_sessions:
                # Filled by initializes answered meanwhile (the handshake and the save wait): the cap
                # is checked again here, with no wait before the session is held.
                self.server.detach(session.conn)
                await self.store.delete(session.id)
                await respond(send, 503, error_body(INVALID_REQUEST, "Too many sessions", rid), _RETRY)
                return
            self._hold(session)
            await respond(send, 200, data, [(b"mcp-session-id", session.id.encode())])
        else:
            self.server.detach(session.conn)
            await respond(send, 400 if data.find(b'"error"') >= 0 else 200, data)

    def _make_room(self, client: str, cap: int) -> bool:
        """Below its cap, `client` may open a session; at it, its session idle the longest with nothing
        in use is ended to make room (everywhere: deleted from a shared store too). False: all of
        its sessions are in use."""
        while self.clients.count(client) >= cap:
            oldest = self.clients.longest_idle(client)
            if oldest is None:
                return False
            self._let_go(oldest)
            log.info(
                "session %s ended: its client (%s) is at its cap of %d sessions and opened another",
                oldest.id,
                client[:24],
                cap,
            )
            self._closing(self._forget(oldest, "its client opened more sessions than its cap", True))
        return True

    async def _refuse_client(self, client: str, send: Send, rid: Any) -> None:
        """503: the client is at its cap and every one of its sessions is in use (logged as a warning
        at most once a minute: a client looping `initialize` must not flood the log)."""
        now = time.monotonic()
        if now - self.refused >= 60.0:
            self.refused = now
            log.warning("client %s: initialize refused: at its cap, all its sessions in use", client[:24])
        busy = error_body(INVALID_REQUEST, "Too many sessions of this client, all of them in use", rid)
        await respond(send, 503, busy, _RETRY)

    async def delete(self, session_id: str | None, send: Send, version: str | None = None) -> None:
        """DELETE: end the session the client names (`version`: its `MCP-Protocol-Version`)."""
        session = await self.get(session_id) if session_id else None
        negotiated = None if session is None else session.conn.revision
        if version is not None and negotiated is not None and version != negotiated:
            await respond(send, 400, version_refusal(version, negotiated, self.server.revisions))
            return
        if session is not None:
            self._let_go(session)
            await self.store.delete(session.id)
        if session is None:
            in_force = sent_revision(version) if session_id else version
            await respond(send, 404 if session_id else 400, session_refusal("Session not found", in_force))
            return
        await self.end(session, "the client ended the session")
        await respond(send, 200, b"")
