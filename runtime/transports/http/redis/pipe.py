"""`RedisPipe`: the stateful hot path's Redis command on one pipelined connection per worker.

redis-py takes a connection from its pool, sends, reads and gives it back for every command: 50-60 µs of
CPU per `GETEX` here, as much as the rest of a small request. A stateful request needs one command (read
its session, renewing its life), so that command goes through this instead: every caller's command is
written to one connection at once, and the replies, which Redis sends in order, complete the callers'
futures in order (hiredis parses them): about 6 µs a command. Scripts, pub/sub and the rarer commands
stay on redis-py. Only plain `redis://` URLs are served here (`for_url`); others keep redis-py.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any
from urllib.parse import unquote, urlsplit

import hiredis
from redis.exceptions import ResponseError

__all__ = ["RedisPipe"]

Arg = bytes | str | int


def _encode(args: tuple[Arg, ...]) -> bytes:
    """A RESP command: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class _Protocol(asyncio.Protocol):
    """One connection: the callers waiting for a reply, oldest first, with when each was sent."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.waiting: deque[tuple[asyncio.Future[Any], float]] = deque()
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                future, _ = self.waiting.popleft()
                if future.done():  # its caller was cancelled: the reply is still its, and dropped
                    continue
                if isinstance(reply, hiredis.ReplyError):
                    future.set_exception(ResponseError(str(reply)))
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError) as exc:  # garbage, or a reply nobody asked for
            self.fail(ConnectionError(f"unreadable reply from Redis ({exc!r})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(exc or ConnectionError("Redis closed the connection"))

    def fail(self, exc: BaseException) -> None:
        """The connection is unusable: every waiting caller gets `exc`; the next call opens another."""
        if self.lost is None:
            self.lost = exc
        if self.transport is not None:
            self.transport.abort()
        waiting, self.waiting = self.waiting, deque()
        for future, _ in waiting:
            if not future.done():
                future.set_exception(exc)


class RedisPipe:
    """Commands pipelined on one connection, opened on first use in the running loop (so a forked worker
    opens its own) and again after a failure. A command not answered within `timeout` fails, and so do
    the others waiting on that connection (it is closed: a Redis that stops answering answers none)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
    ) -> None:
        self.host, self.port, self.db = host, port, db
        self.username, self.password = username, password
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None
        self._watch: asyncio.TimerHandle | None = None

    @classmethod
    def for_url(cls, url: str, *, timeout: float, connect_timeout: float) -> RedisPipe | None:
        """A pipe for a plain `redis://[user:password@]host[:port][/db]` URL; None for any other (TLS, a
        Unix socket, query options), which redis-py serves."""
        parts = urlsplit(url)
        if parts.scheme != "redis" or parts.query or not parts.hostname:
            return None
        path = parts.path.strip("/")
        if path and not path.isdigit():
            return None
        return cls(
            parts.hostname,
            parts.port or 6379,
            db=int(path or 0),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
            connect_timeout=connect_timeout,
        )

    async def call(self, *args: Arg) -> Any:
        """Send one command and return its reply (ResponseError for Redis's error reply; ConnectionError or
        TimeoutError when Redis cannot be reached or does not answer in time).

        A command sent on a connection that turns out to have died since its last reply (Redis restarted,
        or a proxy dropped the idle connection, before this worker noticed) is sent once more on a new
        connection: the commands sent here read or renew (`GETEX`), which a second try cannot double. A
        Redis that is really gone refuses the new connection at once, and that error is the caller's."""
        command = _encode(args)
        protocol = self._protocol
        if protocol is None or protocol.lost is not None or self._loop is not asyncio.get_running_loop():
            return await self._send(await self._open(), command)
        try:
            return await self._send(protocol, command)
        except ConnectionError:
            return await self._send(await self._open(), command)

    def _send(self, protocol: _Protocol, command: bytes) -> asyncio.Future[Any]:
        assert protocol.transport is not None and self._loop is not None
        future = self._loop.create_future()
        protocol.waiting.append((future, time.monotonic()))
        protocol.transport.write(command)
        if self._watch is None:
            self._watch = self._loop.call_later(self.timeout, self._check, protocol)
        return future

    def _check(self, protocol: _Protocol) -> None:
        """Fail the connection when its oldest command waited `timeout`; else look again when it would."""
        self._watch = None
        if not protocol.waiting:
            return
        overdue = protocol.waiting[0][1] + self.timeout - time.monotonic()
        if overdue <= 0:
            protocol.fail(TimeoutError(f"Redis did not answer within {self.timeout:g} s"))
        else:
            assert self._loop is not None
            self._watch = self._loop.call_later(overdue, self._check, protocol)

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first use, or a new loop (a forked worker, another asyncio.run)
            self._loop, self._protocol, self._opening, self._watch = loop, None, asyncio.Lock(), None
        assert self._opening is not None
        async with self._opening:  # callers arriving together share one new connection
            current = self._protocol
            if current is not None and current.lost is None:
                return current
            connect = loop.create_connection(_Protocol, self.host, self.port)
            _, protocol = await asyncio.wait_for(connect, self.connect_timeout)
            if self._watch is not None:
                self._watch.cancel()
                self._watch = None
            setup = []
            if self.password is not None:
                auth = ("AUTH", self.username, self.password) if self.username else ("AUTH", self.password)
                setup.append(self._send(protocol, _encode(auth)))
            if self.db:
                setup.append(self._send(protocol, _encode(("SELECT", self.db))))
            try:
                await asyncio.gather(*setup)
            except BaseException:
                protocol.fail(ConnectionError("Redis refused the connection's setup"))
                raise
            self._protocol = protocol
            return protocol

    def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        loop_open = self._loop is not None and not self._loop.is_closed()  # else its socket went with it
        if protocol is not None and protocol.transport is not None and loop_open:
            protocol.transport.close()
