"""What a `Peer` keeps count of for the requests in flight: `Load` (counts, for monitoring) and
`BatchReplies` (the answers of one JSON-RPC batch, gathered until its last request ends)."""

from __future__ import annotations

import asyncio

__all__ = ["BatchReplies", "Load"]


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
