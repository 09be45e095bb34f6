"""What a `Peer` keeps count of for the requests in flight: `Load` (counts, for monitoring),
`BatchReplies` (the answers of one JSON-RPC batch, gathered until its last request ends) and
`Notified` (the notification handlers that wait)."""

from __future__ import annotations

import asyncio
import logging

from ..protocol.endpoint import IncomingNotification
from . import eager
from .interfaces import NotificationHandler

__all__ = ["BatchReplies", "Load", "Notified"]


class Notified:
    """Notification handlers, each run up to its first wait in order with the messages around it
    (most never wait: they are done in order). One that waits (on an answer from the other side, say)
    goes on as a task, so that reading goes on: otherwise the answer it waits for is never read.
    At most `limit` wait at once; past that, `run` (the reading) waits for one to end."""

    __slots__ = ("limit", "tasks")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tasks: set[asyncio.Task[None]] = set()

    async def run(self, handler: NotificationHandler, event: IncomingNotification) -> None:
        tasks = self.tasks
        if len(tasks) >= self.limit:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        task = eager.start(_logged(handler, event))
        if task is not None:
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    def cancel(self) -> list[asyncio.Task[None]]:
        """Cancel every handler still waiting (the connection closed); the tasks, to await."""
        waiting = list(self.tasks)
        for task in waiting:
            task.cancel()
        return waiting


class BatchReplies:
    """The answers of one JSON-RPC batch, sent together as one array once its last request ends."""

    __slots__ = ("done", "left", "replies")

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.replies: list[bytes] = []
        self.left = 1  # the reading of the batch itself, until every item has been seen
        self.done = done

    def add(self, reply: bytes | None) -> None:
        """One request ended (None: cancelled, no answer), or the reading of the batch did."""
        if reply is not None:
            self.replies.append(reply)
        self.left -= 1
        if not self.left and not self.done.done():
            self.done.set_result(None)

    def array(self) -> bytes | None:
        return b"[" + b",".join(self.replies) + b"]" if self.replies else None


class Load:
    """What a peer has in flight (`Peer.load`). A plain class, not a NamedTuple: creating one of
    those costs ~0.1 ms at import, paid by every server's cold start."""

    __slots__ = ("batched", "queued", "running", "waiting")

    running: int
    """Incoming requests whose handlers run as tasks."""
    queued: int
    """Incoming requests waiting for a slot."""
    waiting: int
    """Requests of ours awaiting the other side's answer."""
    batched: int
    """Requests of JSON-RPC batches not answered yet."""

    def __init__(self, running: int, queued: int, waiting: int, batched: int) -> None:
        self.running = running
        self.queued = queued
        self.waiting = waiting
        self.batched = batched

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Load):
            return NotImplemented
        return (self.running, self.queued, self.waiting, self.batched) == (
            other.running,
            other.queued,
            other.waiting,
            other.batched,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable attributes: as a dataclass, unhashable

    def __repr__(self) -> str:
        counts = f"running={self.running}, queued={self.queued}, waiting={self.waiting}"
        return f"Load({counts}, batched={self.batched})"


async def _logged(handler: NotificationHandler, event: IncomingNotification) -> None:
    try:
        await handler(event)
    except Exception:
        logging.getLogger("mcpbind").exception("notification handler for %s failed", event.method)
