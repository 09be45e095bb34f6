"""`RedisApp`: an `HttpApp` whose stores live in Redis, with the lifespan that checks Redis at startup,
runs the notification bus and the server's own lifespan, and closes the connection at shutdown."""

from __future__ import annotations

import asyncio
import logging

from ..app import HttpApp
from ..asgi import Receive, Scope, Send
from ..sessions import StoreUnavailable
from .bus import RedisBus
from .connection import RedisConnection

__all__ = ["RedisApp"]

log = logging.getLogger("mcpbind.http")


class RedisApp:
    """The ASGI application: `app` (an `HttpApp` over Redis stores) and its bus."""

    def __init__(self, app: HttpApp, connection: RedisConnection) -> None:
        self.app = app
        self.connection = connection
        self.bus = RedisBus(connection, app.server, app.table, app.keepalive)
        self._started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if not self._started:  # served without a lifespan (some ASGI servers, tests): start on first use
            self.start()
        await self.app(scope, receive, send)

    def start(self) -> None:
        self._started = True
        self.bus.start()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.connection.check()
                except StoreUnavailable as exc:  # a clear reason, and the server does not start
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                try:
                    # The server's own lifespan, as `HttpApp`'s ASGI lifespan enters it (this app
                    # hands that one no lifespan events): what it opens is there for the first request.
                    await self.app.server.lifespan.enter()
                except Exception as exc:  # the server's lifespan failed: the ASGI server says why and stops
                    log.error("%s", exc, exc_info=exc.__cause__)
                    await self.connection.close()
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self.start()
                # Subscribed before the first request: a change made by the first one reaches every worker.
                try:
                    await asyncio.wait_for(self.bus.ready.wait(), self.connection.options["socket_timeout"])
                except TimeoutError:
                    pass  # the bus goes on trying; requests are served meanwhile
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.bus.stop()
                try:
                    await self.app.table.shutdown()
                finally:
                    # (Its sessions ended first, so that nothing it opened is closed under a handler.)
                    await self.app.server.lifespan.exit()
                await self.connection.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
