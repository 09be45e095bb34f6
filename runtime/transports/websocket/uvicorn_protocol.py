"""`run_http`'s WebSocket upgrades served by mcpbind's own connection under uvicorn, not through ASGI.

uvicorn hands an upgrade to the protocol its `ws` option names. Its own (`websockets-sansio`, what
`ws="auto"` picks) turns every message into an ASGI event: a dict through an `asyncio.Queue` each
way, reading stopped and started again around each message, the text decoded then encoded again.
Served through it, an `echo` call took 10% more instructions at 1 request in flight and 16% more at
16 than on this connection, and at 16 in flight about 1.7 times the CPU time (the system calls).
`websocket_protocol` (`run_http`'s default `ws`) serves the upgrade of an `HttpApp` with the
standalone server's connection instead (`standalone.Connection`: frames from `data_received` to
the reader with no queue between), on that app's server, path, `HttpSecurity` and
`WebSocketOptions` (`max_message`, `max_send_queue`, `close_timeout`), with uvicorn's keep-alive
(`ws_ping_interval`, `ws_ping_timeout`) and per-message compression (`ws_per_message_deflate`).
The upgrade is checked and answered as `run_websocket` does (the same statuses and bodies). The
message limit is `WebSocketOptions.max_message` (uvicorn's `ws_max_size` and `ws_max_queue` do not
apply: the read-ahead bound is `standalone`'s).

An `HttpApp` behind uvicorn's `proxy_headers` middleware is served so too (the client's address
is not read here). An app otherwise wrapped (uvicorn's trace logging), or any other app, is served
by uvicorn's default implementation through ASGI (`asgi.serve_websocket` for an `HttpApp`), as is
every app when `run_http(ws=...)` names another implementation.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Final

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from websockets.extensions import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

from ..http.app import HttpApp
from .core import WebSocketOptions
from .standalone import Connection, Endpoint

__all__ = ["UvicornConnection", "websocket_protocol"]

GOING_AWAY: Final = 1001
"""The close code of connections open when uvicorn shuts down (as `run_websocket`'s)."""


class UvicornConnection(Connection):
    """A `standalone.Connection` that uvicorn knows of: it is in uvicorn's connections (told to
    close on shutdown) and its serving task in uvicorn's tasks (waited for, then cancelled)."""

    __slots__ = ("server_state",)

    def __init__(self, endpoint: Endpoint, server_state: Any) -> None:
        super().__init__(endpoint)
        self.server_state = server_state

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.server_state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self.server_state.connections.discard(self)

    def started(self, task: asyncio.Task[None]) -> None:
        super().started(task)
        tasks: set[asyncio.Task[None]] = self.server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def shutdown(self) -> None:
        """uvicorn stops: close the connection (1001); the reader sees it and the session ends."""
        self.going_away(GOING_AWAY, "the server is going away")


def _endpoint(app: HttpApp, config: Any) -> Endpoint:
    options = replace(
        app.websocket or WebSocketOptions(),
        ping_interval=config.ws_ping_interval or None,
        ping_timeout=config.ws_ping_timeout or None,
    )
    extensions: list[ServerExtensionFactory] = []
    if config.ws_per_message_deflate:  # (uvicorn's own settings for it)
        extensions.append(
            ServerPerMessageDeflateFactory(
                server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5}
            )
        )
    return Endpoint(app.server, app.path, app.security, options, extensions)


def websocket_protocol(
    config: Any, server_state: Any, app_state: dict[str, Any], _loop: asyncio.AbstractEventLoop | None = None
) -> asyncio.Protocol:
    """The protocol of one upgraded connection, called by uvicorn as its `ws` class is."""
    app = config.loaded_app
    if isinstance(app, ProxyHeadersMiddleware):  # (it rewrites the client address: none is read here)
        app = app.app
    if isinstance(app, HttpApp):
        return UvicornConnection(_endpoint(app, config), server_state)
    from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol

    assert AutoWebSocketsProtocol is not None  # (websockets is installed: this module imports it)
    return AutoWebSocketsProtocol(config=config, server_state=server_state, app_state=app_state, _loop=_loop)
