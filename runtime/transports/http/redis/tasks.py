"""`RedisTaskStore`: task records kept in Redis, shared by every worker, so that a task created on one is
polled, fetched, listed and cancelled on any other. Every change is a compare-and-set done by a Lua script
(atomic in Redis), so two workers never make a transition the status table forbids; the bounds (per client,
in all) are counted in Redis too, in the same script that stores the record.

Keys, under the connection's prefix:
    task:<id>                 the record (msgpack), expiring when its TTL ends (results kept until then)
    tasks                     sorted set: every record's id, scored by when it expires (`max_total`, purge)
    tasks-cancelled           sorted set: the cancelled ones (dropped first when `max_total` is reached)
    tasks-active:<client>     sorted set: a client's unfinished tasks (`max_per_client`)
    tasks-owner:<owner>       sorted set: a principal's tasks scored by creation (`tasks/list`, oldest first)
    tasks-created:<creator>   sorted set: an anonymous caller's tasks (`seen_by`) scored by when they
                              expire (its `tasks/list`: a listing reads what its caller holds, not what
                              every anonymous client does; records stored before this key existed are
                              under `tasks-owner:`, "" as owner, until they expire)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, cast

import msgspec
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from ....protocol import tasks as proto
from ....protocol.tasks import TaskRecord
from ....server.tasks import TaskStoreUnavailable, TooManyTasks, seen_by
from ..sessions import StoreUnavailable
from .connection import RedisConnection

__all__ = ["RedisTaskStore"]

_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(TaskRecord).decode

# KEYS: record, all, cancelled, active (the client's), listed (the owner's; for an anonymous record the
# creator's, ARGV[9] = 1). ARGV: id, record, now, expires, created, max total, max per client, the prefix
# of record keys, anonymous (0/1).
# Returns 1 (stored), -1 (the store is full), -2 (the client has its limit of unfinished tasks).
_CREATE: Final = """
local id, now, expires = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4])
local ttl = math.max(1, expires - now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local max_total = tonumber(ARGV[6])
local excess = redis.call('ZCARD', KEYS[2]) - max_total + 1
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[3], 0, excess - 1)) do
    redis.call('DEL', ARGV[8] .. old)
    redis.call('ZREM', KEYS[2], old)
    redis.call('ZREM', KEYS[3], old)
  end
  if redis.call('ZCARD', KEYS[2]) >= max_total then return -1 end
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[7]) then return -2 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], expires, id)
redis.call('ZADD', KEYS[4], expires, id)
if ARGV[9] == '1' then
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
  redis.call('ZADD', KEYS[5], expires, id)
else
  redis.call('ZADD', KEYS[5], tonumber(ARGV[5]), id)
end
for _, key in ipairs({KEYS[4], KEYS[5]}) do
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
return 1
"""

# KEYS: record, active (the client's), cancelled. ARGV: old, new, id, terminal (0/1), cancelled (0/1),
# expires. Stores `new` only if the record is still `old`, byte for byte; 1 if it did, else 0.
_REPLACE: Final = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
if ARGV[4] == '1' then redis.call('ZREM', KEYS[2], ARGV[3]) end
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], ARGV[6], ARGV[3]) end
return 1
"""

# KEYS: listed (a principal's, or an anonymous creator's). ARGV: the prefix of record keys, and for a
# creator's set (scored by expiry) now, to drop the expired ids first. Its live records (a principal's
# oldest first); ids whose record is gone (expired, dropped) are taken off the set on the way.
_LISTED: Final = """
if ARGV[2] then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2]) end
local found = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local record = redis.call('GET', ARGV[1] .. id)
  if record then found[#found + 1] = record else redis.call('ZREM', KEYS[1], id) end
end
return found
"""

# KEYS: all, cancelled. ARGV: now, the prefix of record keys. Drops every expired record; how many.
_PURGE: Final = """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for _, id in ipairs(gone) do redis.call('DEL', ARGV[2] .. id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
return #gone
"""


class RedisTaskStore:
    """A `TaskStore` in Redis (see the module's docstring for its keys). One round trip per call: a poll
    (`tasks/get`) is one GET; a transition one script. Redis being away raises `TaskStoreUnavailable`
    (the request that needed it is answered with the reason, not as an internal error)."""

    def __init__(self, connection: RedisConnection) -> None:
        self.connection = connection
        self.record_prefix = connection.key("task", "")
        self.all_key = connection.key("tasks")
        self.cancelled_key = connection.key("tasks-cancelled")
        self._scripts: dict[str, AsyncScript] = {}

    async def _eval(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a script: by hash (EVALSHA), sent in full once per Redis that has not seen it. The
        connection's client is taken at each call (a worker opens its own after a fork)."""

        def call(client: Redis) -> Awaitable[Any]:
            script = self._scripts.get(source)
            if script is None:
                script = self._scripts[source] = client.register_script(source)
            return script(keys, args, client)

        return await self._run(call)

    async def _run(self, call: Callable[[Redis], Awaitable[Any]]) -> Any:
        try:
            return await self.connection.run(call)
        except StoreUnavailable as exc:
            raise TaskStoreUnavailable(f"Service unavailable: {exc}") from exc

    async def create(self, record: TaskRecord, *, max_per_client: int, max_total: int) -> None:
        conn = self.connection
        owner = record.owner
        listed = conn.key("tasks-owner", owner) if owner else conn.key("tasks-created", seen_by(record)[1])
        keys = (
            self.record_prefix + record.task_id,
            self.all_key,
            self.cancelled_key,
            conn.key("tasks-active", record.client),
            listed,
        )
        args: list[Any] = [record.task_id, _encode(record), proto.now_ms(), record.expires_ms()]
        args += [record.created_ms, max_total, max_per_client, self.record_prefix, int(not owner)]
        outcome = await self._eval(_CREATE, keys, args)
        if outcome == -1:
            raise TooManyTasks(
                f"Too many tasks: the server holds its limit of {max_total}; try again later",
                data={"limit": max_total},
            )
        if outcome == -2:
            raise TooManyTasks(
                proto.over_client_limit(record.client, max_per_client), data={"limit": max_per_client}
            )

    async def get(self, task_id: str) -> TaskRecord | None:
        key = self.record_prefix + task_id
        # bytes: the client is not told to decode responses.
        data = cast(bytes | None, await self._run(lambda client: client.get(key)))
        if data is None:
            return None
        record = _decode(data)
        # Redis expires the key itself; this covers the clocks of Redis and this worker differing.
        return None if record.expired(proto.now_ms()) else record

    async def replace(self, old: TaskRecord, new: TaskRecord) -> bool:
        keys = (
            self.record_prefix + old.task_id,
            self.connection.key("tasks-active", old.client),
            self.cancelled_key,
        )
        # `old` came from `get`: encoded again, it is the bytes Redis holds (msgpack of the same values).
        args = [_encode(old), _encode(new), old.task_id, int(new.terminal), int(new.status == "cancelled")]
        args.append(new.expires_ms())
        return bool(await self._eval(_REPLACE, keys, args))

    async def owned_by(self, owner: str) -> list[TaskRecord]:
        """The live records of `owner`. Anonymous records (owner "") are kept by creator, not under one
        owner: `visible_to("", creator)` finds them (here "" finds only records stored before)."""
        keys = (self.connection.key("tasks-owner", owner),)
        found = await self._eval(_LISTED, keys, [self.record_prefix])
        now = proto.now_ms()
        records = [_decode(data) for data in cast(list[bytes], found)]
        return [r for r in records if not r.expired(now)]

    async def visible_to(self, owner: str, creator: str) -> list[TaskRecord]:
        if owner:
            return await self.owned_by(owner)
        keys = (self.connection.key("tasks-created", creator),)
        now = proto.now_ms()
        found = await self._eval(_LISTED, keys, [self.record_prefix, now])
        records = [_decode(data) for data in cast(list[bytes], found)]
        records = [r for r in records if not r.expired(now)]
        records.sort(key=lambda r: (r.created_ms, r.task_id))
        return records

    async def purge(self, now: int) -> int:
        keys = (self.all_key, self.cancelled_key)
        args = [now, self.record_prefix]
        return int(await self._eval(_PURGE, keys, args))
