"""`RedisEventStore`: a session's SSE events kept in Redis for `Last-Event-ID`, so that a client resumes a
stream on any worker, even after the worker that wrote it died. Bounded by bytes, by count and by time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, cast

from ....protocol.inbound import event_id
from ..sessions import StoreUnavailable
from ..sse import GET_STREAM
from .bus import events_notice
from .connection import RedisConnection

__all__ = ["RedisEventStore", "redis_event_stores"]

log = logging.getLogger("mcpbind.redis")

# Appends the events, then drops the oldest until the list is within both bounds, all in one round trip
# and atomically (no reader sees a list over its bounds); raises the GET stream's high-water mark; then
# publishes the notice, if any, on the bus (after the events are in: a worker woken by it finds them).
# KEYS: the list, its byte count, the bus, the GET stream's last number. ARGV: max bytes, max events,
# ttl (s), the notice (or ""), the GET stream's last number in this batch (0: none), then the events.
_APPEND: Final = """
local added = 0
for i = 6, #ARGV do
  redis.call('RPUSH', KEYS[1], ARGV[i])
  added = added + #ARGV[i]
end
local size = redis.call('INCRBY', KEYS[2], added)
local count = redis.call('LLEN', KEYS[1])
local max_bytes, max_events = tonumber(ARGV[1]), tonumber(ARGV[2])
while count > 0 and (size > max_bytes or count > max_events) do
  size = size - #redis.call('LPOP', KEYS[1])
  count = count - 1
end
redis.call('SET', KEYS[2], size, 'EX', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local get_last = tonumber(ARGV[5])
if get_last > tonumber(redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[4], get_last, 'EX', ARGV[3])
else
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
if #ARGV[4] > 0 then
  redis.call('PUBLISH', KEYS[3], ARGV[4])
end
return count
"""


class RedisEventStore:
    """One session's events in a Redis list (`<prefix>events:<session>`), each `b"<stream> <seq> <data>"`.

    `append` is called as an event is sent (it cannot wait): events are sent to Redis in the background,
    many in one round trip; `after` first waits for those still on their way, so a worker replays
    everything it sent. An event larger than the whole bound is never kept. Once a stream has no reader
    here (`unread`), each round trip that keeps its events also tells every worker, on the bus, that
    the session has new events: the one following the stream for a resumption reads them."""

    def __init__(
        self,
        connection: RedisConnection,
        session_id: str,
        *,
        max_bytes: int = 8 * 1024 * 1024,
        max_events: int = 1000,
        ttl: float = 3600.0,
    ) -> None:
        self.connection = connection
        self.key = connection.key("events", session_id)
        self.size_key = connection.key("events-bytes", session_id)
        self.get_key = connection.key("events-get-last", session_id)
        """The last number of the session's GET stream, kept as long as its events (`last_get_event`)."""
        self._get_last = 0
        """The GET stream's last number among the events on their way (0: none)."""
        self.max_bytes = max_bytes
        self.max_events = max_events
        self.ttl = max(1, int(ttl))
        self._pending: list[bytes] = []
        self._flushing: asyncio.Task[None] | None = None
        self._notice = events_notice(session_id)
        self._unread = False
        """A stream of the session has no reader here: the next round trip publishes the notice."""

    def append(self, stream: str, seq: int, data: bytes) -> None:
        if stream == GET_STREAM:  # (its mark, even for an event too large to keep)
            self._get_last = seq
            if self._flushing is None:
                self._flushing = asyncio.get_running_loop().create_task(self._flush())
        entry = b"%s %d %s" % (stream.encode(), seq, data)
        if len(entry) > self.max_bytes:
            return  # could never be replayed without dropping everything else
        self._pending.append(entry)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    def unread(self, stream: str) -> None:
        self._unread = True
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending or self._unread or self._get_last:
                batch, self._pending = self._pending, []
                notice, self._unread = self._notice if self._unread else b"", False
                get_last, self._get_last = self._get_last, 0
                try:
                    await self._send(batch, notice, get_last)
                except StoreUnavailable as exc:
                    # The stream itself goes on; only its resumption is lost while Redis is away.
                    log.warning("events not kept for resumption: %s", exc)
        finally:
            self._flushing = None

    async def _send(self, batch: list[bytes], notice: bytes, get_last: int) -> None:
        args: list[bytes | int] = [self.max_bytes, self.max_events, self.ttl, notice, get_last, *batch]
        keys = (self.key, self.size_key, self.connection.key("bus"), self.get_key)
        # EVALSHA, falling back to EVAL once per Redis that has not seen the script.
        await self.connection.run(lambda client: client.register_script(_APPEND)(keys, args, client))

    async def after(self, last_event_id: str) -> tuple[str, list[tuple[int, bytes]]] | None:
        parsed = event_id(last_event_id)
        if parsed is None:
            return None
        flushing = self._flushing
        if flushing is not None:
            await asyncio.shield(flushing)
        stream, after = parsed
        # bytes: the client is not told to decode responses.
        entries = cast(list[bytes], await self.connection.run(lambda client: client.lrange(self.key, 0, -1)))
        name = stream.encode()
        found: list[tuple[int, bytes]] = []
        for entry in entries:
            st, _, rest = entry.partition(b" ")
            if st == name:
                seq, _, data = rest.partition(b" ")
                if int(seq) > after:
                    found.append((int(seq), data))
        return stream, found

    async def last_get_event(self) -> int:
        flushing = self._flushing
        if flushing is not None:
            await asyncio.shield(flushing)
        last = await self.connection.run(lambda client: client.get(self.get_key))
        return int(last) if last is not None else 0


def redis_event_stores(
    connection: RedisConnection,
    *,
    max_bytes: int = 8 * 1024 * 1024,
    max_events: int = 1000,
    ttl: float = 3600.0,
) -> Callable[[str], RedisEventStore]:
    """The event store of each session (`HttpApp(event_store=...)`), all in one Redis."""

    def store(session_id: str) -> RedisEventStore:
        return RedisEventStore(connection, session_id, max_bytes=max_bytes, max_events=max_events, ttl=ttl)

    return store
