"""Instructions per `MemoryTaskStore.create` with N records held, under callgrind.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/task_create.py N K MODE

fills a store with N unfinished records of N clients, then makes K creates (`accepted`: each a new
client's, under a `max_total` with room; `refused`: each refused at `max_total` = N, nothing expired or
cancelled to make room). Run it with K and with K = 0: the difference over K is one create's cost.
"""

from __future__ import annotations

import asyncio
import sys

from mcpbind.protocol import tasks as proto
from mcpbind.server.tasks import MemoryTaskStore, TooManyTasks


async def main(held: int, creates: int, mode: str) -> None:
    policy = proto.TaskPolicy()
    store = MemoryTaskStore()
    for n in range(held):
        record = proto.new_record("tools/call", policy, client=f"held-{n}")
        await store.create(record, max_per_client=100, max_total=held + 1)
    max_total = held if mode == "refused" else held + creates + 1
    fresh = [proto.new_record("tools/call", policy, client=f"new-{n}") for n in range(creates)]
    refused = 0
    for record in fresh:
        try:
            await store.create(record, max_per_client=100, max_total=max_total)
        except TooManyTasks:
            refused += 1
    assert refused == (creates if mode == "refused" else 0), refused


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
