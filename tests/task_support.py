"""Helpers for the task store tests, the in-memory store and Redis alike: a store filled with other
sessions' anonymous tasks, and a caller's `tasks/list` paged through to its end."""

from __future__ import annotations

from mcpbind.protocol import tasks as proto
from mcpbind.protocol.tasks import TaskPolicy, TaskRecord
from mcpbind.server.tasks import Tasks, TaskStore


async def hold_anonymous(store: TaskStore, others: int, mine: int = 5) -> list[TaskRecord]:
    """Store `others` anonymous tasks of 7 other sessions, then `mine` of session "me": those, in the
    order `tasks/list` shows them."""
    policy, room = TaskPolicy(), others + mine + 5
    for n in range(others):
        other = proto.new_record("tools/call", policy, client="addr", creator=f"other-{n % 7}")
        await store.create(other, max_per_client=room, max_total=room)
    own = [proto.new_record("tools/call", policy, client="addr", creator="me") for _ in range(mine)]
    for r in own:
        await store.create(r, max_per_client=room, max_total=room)
    return sorted(own, key=lambda r: (r.created_ms, r.task_id))


async def page_through(tasks: Tasks, client: str, size: int, pages: int) -> list[str]:
    """The ids `client` lists, page by page of `size`; fails unless the list ends within `pages`."""
    seen: list[str] = []
    cursor = None
    for _ in range(pages):
        page, cursor = await tasks.listed(cursor, size, client)
        seen += [r.task_id for r in page]
        if cursor is None:
            return seen
    raise AssertionError(f"the list did not end within {pages} pages")
