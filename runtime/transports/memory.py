"""An in-memory transport: a client and a server in one process, no subprocess and no socket.

For tests of what a server does (`async with Client.memory(server) as client:`), in either era: the
messages are the same bytes stdio would carry, framed one per queue item, so the server and the
client run exactly as they do over a wire. The server's lifespan is entered for the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client.transport import ClientTransport, ParamHeaders
    from ..errors import McpError
    from ..server.registry import Server

__all__ = ["MemoryClientTransport", "MemoryServerTransport"]


class MemoryServerTransport:
    """The server's end: reads what the client wrote, writes to the client's queue."""

    def __init__(self, inbox: asyncio.Queue[bytes | None], outbox: asyncio.Queue[bytes | None]) -> None:
        self._inbox = inbox
        self._outbox = outbox

    async def read(self) -> bytes | None:
        return await self._inbox.get()

    async def write(self, data: bytes) -> None:
        self._outbox.put_nowait(data)

    async def close(self) -> None:
        self._outbox.put_nowait(None)


class MemoryClientTransport:
    """The client's end of a connection to `server`, served by a task of this event loop."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._to_server: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._to_client: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._serving: asyncio.Task[None] | None = None
        self._running: contextlib.AsyncExitStack | None = None
        self._closed = False

    async def start(self) -> None:
        # The lifespan is entered here, not only in the serving task: a startup failure is the
        # client's error at once rather than a server that never answers.
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(self.server.running())
        self._running = stack
        end = MemoryServerTransport(self._to_server, self._to_client)
        self._serving = asyncio.get_running_loop().create_task(self.server.serve(end))

    async def read(self) -> bytes | None:
        if self._closed:
            return None
        return await self._to_client.get()

    async def write(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionError("the in-memory connection is closed")
        self._to_server.put_nowait(data)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._to_server.put_nowait(None)  # the server's read loop ends, as at the end of stdin
        self._to_client.put_nowait(None)
        serving, self._serving = self._serving, None
        try:
            if serving is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(serving, 10.0)
        finally:
            running, self._running = self._running, None
            if running is not None:
                await running.aclose()

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        """Messages are read through `read` (the queue is the reading task)."""

    def use_revision(self, revision: str | None) -> None:
        """Nothing is shaped by the revision here (no headers)."""

    def session_started(self) -> None:
        """No stream to open: the server writes to the same queue whatever it sends."""

    def take_session_lost(self) -> bool:
        return False

    @property
    def param_headers(self) -> ParamHeaders | None:
        return None

    async def fallback(self, error: McpError) -> ClientTransport | None:
        return None
