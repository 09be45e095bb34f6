"""The deadline of request bodies: a client that sends its headers and then its body slowly, or never
(a byte a second, or a `Content-Length` larger than what it sends), would otherwise hold its request,
the memory of what it sent and its place among the requests served, for as long as it likes.

The ASGI server hands the application a request once its headers are in; the body comes through
`receive()`, with no deadline of its own. A POST's body read is given one (`HttpSecurity.body_timeout`):
past it, the request's task is cancelled and answered 408, and the connection closed. The deadlines
are `aio.deadlines`' (one loop timer per timeout value, not one per request). Bodies being read at
once are bounded too (`HttpSecurity.max_body_reads`): one more is refused at once with 503, so that stalled
bodies cannot hold every connection the server takes.

Nearly every body is in by the time its headers are: the app runs the first `receive()` up to its
first wait (`HttpApp.__call__`), and only a body that makes it wait is read here, under a deadline
(`BodyReads.read`, handed the rest of that `receive()` to await); the usual request registers nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, MutableMapping
from typing import TYPE_CHECKING, Final

from ...aio.deadlines import Deadlines
from ...protocol.inbound import INVALID_REQUEST, too_large
from .asgi import RETRY, Message, Receive, Send, error_body, respond

if TYPE_CHECKING:
    from .security import HttpSecurity

__all__ = ["BodyRead", "BodyReads"]


class BodyRead:
    """One request whose body is being read: what its deadline's `Expiry` looks at (as at a future)."""

    __slots__ = ("expired", "finished", "task")

    def __init__(self, task: asyncio.Task[object]) -> None:
        self.task = task
        self.finished = False
        self.expired = False

    def done(self) -> bool:
        return self.finished

    def set_exception(self, exception: BaseException, /) -> None:
        """Its deadline passed with the body unread: its task is cancelled (`expired` says why)."""
        self.expired = self.finished = True
        self.task.cancel()


class BodyReads:
    """The bodies an app is reading: their deadlines and their number."""

    __slots__ = ("deadlines", "reading")

    def __init__(self) -> None:
        self.deadlines = Deadlines()
        self.reading = 0
        """Bodies being read now (each a request whose body was not all there when its headers were)."""

    def start(self, timeout: float) -> BodyRead:
        """The current task begins reading its request's body, to be cancelled after `timeout` seconds."""
        task = asyncio.current_task()
        assert task is not None  # (an ASGI app runs in a task)
        read = BodyRead(task)
        self.deadlines.expiry(timeout, task.get_loop()).add(read)
        self.reading += 1
        return read

    def finish(self, read: BodyRead) -> None:
        read.finished = True
        self.reading -= 1

    async def read(
        self, first: Message | Awaitable[Message], receive: Receive, send: Send, security: HttpSecurity
    ) -> bytes | None:
        """The whole body, from its first message (or what to await for it) on, within
        `security.body_timeout`; None when nothing more is to be done (the client left, or the
        request was answered here: 503 past `max_body_reads`, 408 late, 413 over `max_body`)."""
        if self.reading >= security.max_body_reads:
            if not isinstance(first, MutableMapping):
                _close(first)
            # (The connection closed too: what is left of the body would be read as the next request.)
            why = error_body(-32000, "Server busy: too many request bodies being read")
            await respond(send, 503, why, (*RETRY, *_CLOSE))
            return None
        read = self.start(security.body_timeout)
        try:
            message = first if isinstance(first, MutableMapping) else await first
            chunks: list[bytes] = []
            size = 0
            while True:
                if message["type"] == "http.disconnect":
                    return None
                body = message.get("body", b"")
                size += len(body)
                if size > security.max_body:
                    # (What is left of the body the ASGI server reads and drops: the client, still
                    # sending it, gets the answer rather than a reset connection.)
                    refusal = too_large(security.max_body)
                    await respond(send, refusal.status, refusal.body)
                    return None
                chunks.append(body)
                if not message.get("more_body", False):
                    return b"".join(chunks)
                message = await receive()
        except asyncio.CancelledError:
            if not read.expired:
                raise
            read.task.uncancel()  # (cancelled by its deadline alone: answered here)
            await _too_slow(send, security.body_timeout)
            return None
        finally:
            self.finish(read)


def _close(waiting: Awaitable[Message]) -> None:
    """Let go of a `receive()` never to be awaited (a coroutine started, or one not yet started)."""
    close = getattr(waiting, "close", None) or getattr(getattr(waiting, "coro", None), "close", None)
    if close is not None:
        close()


_CLOSE: Final = ((b"connection", b"close"),)


async def _too_slow(send: Send, timeout: float) -> None:
    """The answer to a body that did not come in time: 408, and the connection closed (what is left of
    the body would be read as the next request)."""
    why = f"Request Timeout: the body did not arrive within {timeout:g} s"
    await respond(send, 408, error_body(INVALID_REQUEST, why), _CLOSE)
