"""Instructions per anonymous `tasks/list` with N other sessions' tasks held, under callgrind.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/task_list.py N K [redis-url]

fills a store (a `MemoryTaskStore`, or a `RedisTaskStore` at the URL, under a fresh prefix) with N
anonymous records of 100 other sessions and 5 of the caller's, then makes K listings (`Tasks.listed`, one
page) as the caller. Run it with K and with K = 0: the difference over K is one listing's cost (in this
process: Redis's own work is in the redis-server process).
"""

from __future__ import annotations

import asyncio
import secrets
import sys

from mcpbind.protocol import tasks as proto
from mcpbind.server.tasks import MemoryTaskStore, Tasks, TaskStore


async def main(held: int, listings: int, url: str | None) -> None:
    policy = proto.TaskPolicy()
    store: TaskStore = MemoryTaskStore()
    if url:
        from mcpbind.transports.http.redis import RedisConnection, RedisTaskStore

        store = RedisTaskStore(RedisConnection(url, prefix=f"bench{secrets.token_hex(4)}:"))
    tasks = Tasks(policy, store)
    room = held + 10
    for n in range(held):
        record = proto.new_record("tools/call", policy, client="addr", creator=f"other-{n % 100}")
        await store.create(record, max_per_client=room, max_total=room)
    for _ in range(5):
        record = proto.new_record("tools/call", policy, client="addr", creator="me")
        await store.create(record, max_per_client=room, max_total=room)
    for _ in range(listings):
        page, _ = await tasks.listed(None, 50, "me")
        assert len(page) == 5, len(page)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
