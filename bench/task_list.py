"""Instructions per anonymous `tasks/list` with N other sessions' tasks held, under callgrind.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/task_list.py N K

fills a `MemoryTaskStore` with N anonymous records of 100 other sessions and 5 of the caller's, then
makes K listings (`Tasks.listed`, one page) as the caller. Run it with K and with K = 0: the difference
over K is one listing's cost. With Redis, the filling (round trips whose cost varies from run to run)
is done first, in a process of its own, and only the listings run under callgrind:

    python bench/task_list.py N 0 redis://127.0.0.1:6379/0 bench:
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/task_list.py 0 K redis://... bench:

(this process only: a Redis script's work is the redis-server process's).
"""

from __future__ import annotations

import asyncio
import sys

from mcpbind.protocol import tasks as proto
from mcpbind.server.tasks import MemoryTaskStore, Tasks, TaskStore


async def main(held: int, listings: int, url: str | None, prefix: str) -> None:
    policy = proto.TaskPolicy()
    store: TaskStore = MemoryTaskStore()
    if url:
        from mcpbind.transports.http.redis import RedisConnection, RedisTaskStore

        store = RedisTaskStore(RedisConnection(url, prefix=prefix))
    tasks = Tasks(policy, store)
    room = held + 10
    for n in range(held):
        record = proto.new_record("tools/call", policy, client="addr", creator=f"other-{n % 100}")
        await store.create(record, max_per_client=room, max_total=room)
    for _ in range(5 if held or not url else 0):
        record = proto.new_record("tools/call", policy, client="addr", creator="me")
        await store.create(record, max_per_client=room, max_total=room)
    await tasks.listed(None, 50, "me")  # (a first call loads what later ones find ready)
    for _ in range(listings):
        page, _ = await tasks.listed(None, 50, "me")
        assert len(page) == 5, len(page)


if __name__ == "__main__":
    args = sys.argv[1:]
    url, prefix = (args[2], args[3]) if len(args) > 3 else (None, "")
    asyncio.run(main(int(args[0]), int(args[1]), url, prefix))
