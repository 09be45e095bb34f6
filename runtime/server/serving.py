"""How a `Server` is served: one connection on any transport, stdio, Streamable HTTP (uvicorn, several
workers), WebSocket, or the command line's choice; each within the server's lifespan.

The transports are imported only when asked for, so that a stdio server never loads the HTTP or
WebSocket modules (and the HTTP transport, which imports the server, forms no import cycle with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from .lifespan import Lifespan
from .session import Connection

if TYPE_CHECKING:
    from ..aio.contracts import MessageTransport
    from ..transports.websocket.core import WebSocketOptions
    from .registry import Server

__all__ = ["Serving", "UVICORN_DEFAULTS"]

UVICORN_DEFAULTS: Final[dict[str, Any]] = {
    # Streams (GET, subscriptions) stay open until their clients leave: bound the wait on shutdown.
    "timeout_graceful_shutdown": 3,
    "access_log": False,
    "proxy_headers": False,
}
"""What `Server.run_http` passes to uvicorn unless told otherwise."""


class Serving:
    """The serving half of `Server`. A mixin of `Server`, which fills in these members."""

    name: str
    instructions: str | None
    lifespan: Lifespan
    _connections: set[Connection]

    @property
    def _server(self) -> Server:
        """This mixin as the `Server` it is part of (what connections and transports are given)."""
        return cast("Server", self)

    def attach(self, conn: Connection) -> None:
        """Count `conn` among the connections that list changes and resource updates reach."""
        self._connections.add(conn)

    def detach(self, conn: Connection) -> None:
        self._connections.discard(conn)

    @property
    def connections(self) -> frozenset[Connection]:
        """The connections attached now (a snapshot: attaching or detaching later does not change it)."""
        return frozenset(self._connections)

    def running(self) -> AbstractAsyncContextManager[Any]:
        """Run the server's lifespan for the duration of the block (shared with every other entry);
        its value is the lifespan's state. For an application that mounts `http_app()` in its own."""
        return self.lifespan.running()

    async def serve(self, transport: MessageTransport) -> None:
        """Serve one connection until its transport ends (within the server's lifespan)."""
        async with self.lifespan.running():
            conn = Connection(self._server, transport)
            self.attach(conn)
            try:
                # A task of its own: the read loop waits for every request (at one in flight, once per
                # request), and a task wakes only its own coroutine, where awaited here the wake-up
                # resumes this frame and every caller's up the chain to the task (`run_stdio`'s: three).
                await asyncio.ensure_future(conn.peer.run())
            finally:
                # (Done by `run` as it ends, and then nothing here; but a task cancelled before its
                # first step never ran `run` at all.)
                await conn.peer.shutdown("the connection closed")
                self.detach(conn)
                await transport.close()

    async def serve_stdio(self, *, max_line: int | None = None) -> None:
        # (Imported on use, as the HTTP transport is in `http_app`.)
        from ..transports.stdio import DEFAULT_MAX_LINE, StdioServerTransport

        transport = StdioServerTransport(max_line=max_line or DEFAULT_MAX_LINE)
        await transport.start()
        await self.serve(transport)

    def http_app(
        self,
        *,
        path: str = "/mcp",
        security: Any = None,
        json_response: bool = False,
        websocket: WebSocketOptions | None = None,
    ) -> Any:
        """The ASGI application serving this server's MCP endpoint (mount it anywhere). `websocket`, a
        `WebSocketOptions`: the limits of WebSocket connections to the same path."""
        # Imported here, not at the top: the HTTP transport imports the server (its connections), and
        # the server imports a transport only when asked to serve on it, so neither module-level
        # import graph has a cycle, and a stdio server never loads the HTTP modules.
        from ..transports.http.app import HttpApp

        return HttpApp(
            self._server, path=path, security=security, json_response=json_response, websocket=websocket
        )

    def run_http(
        self,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        path: str = "/mcp",
        json_response: bool = False,
        security: Any = None,
        workers: int = 1,
        redis: str | None = None,
        websocket: WebSocketOptions | None = None,
        **uvicorn_options: Any,
    ) -> None:
        """Serve the MCP endpoint with uvicorn (bound to loopback unless told otherwise). `security`,
        an `HttpSecurity`, sets who may connect and the limits (body size, sessions, requests at once,
        bytes kept for resumption). `websocket`, a `WebSocketOptions`: the limits of WebSocket
        connections to the same path (message size, send queue, closing handshake).

        `workers`: processes serving one port (forked: each inherits this server as built). `redis`: a
        Redis URL (`mcpbind[redis]`) where sessions, resumable events and notifications are shared, so
        that any worker serves any request. Stateful revisions need it with several workers (a
        session would otherwise exist in one worker alone): ValueError without it. A Redis that cannot
        be reached at start raises `StoreUnavailable`.

        `uvicorn_options` go to `uvicorn.run`. Two defaults differ from uvicorn's: no access log
        (uvicorn formats each line's arguments, quoting the path, even when the log level hides it)
        and no proxy-headers middleware (it rewrites every request's scope, for client addresses
        that MCP reads only on `initialize`, to count an anonymous client's sessions:
        `HttpSecurity.max_sessions_per_client`). Together they are about 5% of answering a small
        request. Pass `access_log=True`, or, behind a proxy, `proxy_headers=True` with
        `forwarded_allow_ips=` naming it (else every client has the proxy's address).
        WebSocket upgrades of the MCP path are served by mcpbind's own connection, not through
        uvicorn's ASGI WebSocket layer (less CPU per message: `websocket.uvicorn_protocol`);
        `ws="auto"` gives them to uvicorn's.
        """
        import uvicorn

        for option, value in UVICORN_DEFAULTS.items():
            uvicorn_options.setdefault(option, value)
        if "ws" not in uvicorn_options:
            try:  # WebSocket upgrades on mcpbind's own connection, not through ASGI (`mcpbind[ws]`)
                from ..transports.websocket.uvicorn_protocol import websocket_protocol
            except ImportError:
                pass  # no `websockets`: uvicorn's choice
            else:
                uvicorn_options["ws"] = websocket_protocol
        if workers == 1 and redis is None:
            app = self.http_app(
                path=path, security=security, json_response=json_response, websocket=websocket
            )
            with _terminated():
                uvicorn.run(app, host=host, port=port, **uvicorn_options)
            return
        # Imported on use: a server run without workers or Redis never loads these modules.
        from ..transports.http.scaleout import serve_scaled

        serve_scaled(
            self._server,
            host,
            port,
            path,
            json_response,
            security,
            workers,
            redis,
            uvicorn_options,
            websocket,
        )

    def run(
        self,
        argv: Sequence[str] | None = None,
        *,
        transport: Literal["stdio", "http", "streamable-http"] | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        path: str = "/mcp",
    ) -> None:
        """Serve as the command line says (`argv`, by default the process's): stdio unless
        `--transport http`, then Streamable HTTP on `--host` (127.0.0.1) and `--port` (8000) at
        `--path` (/mcp). Given `transport` ("streamable-http" is "http"), serve as the keywords say,
        reading no command line."""
        if transport is not None:
            if argv is not None:
                raise TypeError("run() takes a command line or a transport, not both")
            if transport == "stdio":
                self.run_stdio()
            elif transport in ("http", "streamable-http"):
                self.run_http(host, port, path=path)
            else:
                raise ValueError(f"transport must be 'stdio', 'http' or 'streamable-http', not {transport!r}")
            return
        import argparse

        parser = argparse.ArgumentParser(description=self.instructions or f"The MCP server {self.name}.")
        parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
        parser.add_argument("--host", default=host)
        parser.add_argument("--port", type=int, default=port)
        parser.add_argument("--path", default=path)
        args = parser.parse_args(argv)
        if args.transport == "http":
            self.run_http(args.host, args.port, path=args.path)
        else:
            self.run_stdio()

    def run_websocket(
        self, host: str = "127.0.0.1", port: int = 8000, *, uvloop: bool | None = None, **options: Any
    ) -> None:
        """Serve `ws://host:port/mcp` alone, with no ASGI server (`mcpbind[ws]`; SEP-1288, a
        proposal). `options` go to `mcpbind.transports.websocket.standalone.start` (`path`,
        `security`, `options`: a `WebSocketOptions`). `run_http` serves WebSockets on its path too.
        SIGINT or SIGTERM stops it (status 130 or 0), also when SIGINT was ignored at start."""
        from ..transports.websocket.standalone import serve_forever

        with asyncio.Runner(loop_factory=_loop_factory(uvloop)) as runner, _interrupted(runner):
            runner.run(serve_forever(self._server, host, port, **options))

    def run_stdio(self, *, uvloop: bool | None = None, max_line: int | None = None) -> None:
        """Serve stdin/stdout until stdin closes, on uvloop when it is installed (`uvloop=False`: the
        default asyncio loop; `True`: uvloop or ImportError). uvloop halves the cost of the pipes.
        `max_line`: the largest message read, in bytes (default 16 MiB); a longer one is refused.
        Stdin's end stops it (status 0), and so do SIGINT (130) and SIGTERM (0), also when SIGINT
        was ignored at start (a shell's background job)."""
        with asyncio.Runner(loop_factory=_loop_factory(uvloop)) as runner, _interrupted(runner):
            runner.run(self.serve_stdio(max_line=max_line))


@contextlib.contextmanager
def _interrupted(runner: asyncio.Runner) -> Iterator[None]:
    """SIGINT (Ctrl-C, or a host stopping its server so) and SIGTERM (a host or service manager
    stopping it) end what `runner` serves as a cancellation does: its main task is cancelled (SIGINT
    is asyncio's runner's: `asyncio.Runner.run`), the connections and the lifespan end, then the
    process, with status 130 after SIGINT, as an interrupted command's (not with a KeyboardInterrupt
    traceback), and 0 after SIGTERM, as `run_http`'s. A second signal interrupts that ending.

    Whatever the process inherited: one started with SIGINT ignored (a Unix shell's background job's
    children are) stops on it all the same, as `run_http` (uvicorn) does, and SIGTERM no longer kills
    it with nothing ended. A handler of the program's own is left in place; those replaced are put
    back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        with _interrupt_status(None):  # (signal handlers are the main thread's alone)
            yield
        return
    received: list[int] = []

    def terminated(signum: int, frame: Any) -> None:
        received.append(signum)
        on_sigint = signal.getsignal(signal.SIGINT)
        if getattr(getattr(on_sigint, "func", None), "__self__", None) is not runner:
            raise KeyboardInterrupt  # (not serving yet, or no more)
        cast(Callable[[int, Any], None], on_sigint)(signal.SIGINT, frame)  # the runner's: a cancellation

    replaced: dict[int, Any] = {}
    # SIGINT ignored: its default instead, which `asyncio.Runner.run` replaces with its own.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        replaced[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, signal.SIG_IGN):
        replaced[signal.SIGTERM] = signal.signal(signal.SIGTERM, terminated)
    try:
        with _interrupt_status(received):
            yield
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def _interrupt_status(received: list[int] | None) -> Iterator[None]:
    """A KeyboardInterrupt (`_interrupted`) ends the process: status 0 after SIGTERM (`received`
    holds it), else 130."""
    try:
        yield
    except KeyboardInterrupt:
        raise SystemExit(0 if received else 130) from None


@contextlib.contextmanager
def _terminated() -> Iterator[None]:
    """SIGTERM (a host or service manager stopping the server) ends serving as SIGINT does, and the
    process with status 0. uvicorn shuts down gracefully on either, then raises the signal again
    for the handler that was there before it: SIGTERM's default kills the process (status -15),
    SIGINT's raises KeyboardInterrupt, which `uvicorn.run` takes as the end of serving. Here SIGTERM
    raises it too (also before uvicorn has put its own handler in place)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # (signal handlers are the main thread's alone; uvicorn installs none either)
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    except KeyboardInterrupt:
        pass  # the signal came before uvicorn served: nothing was started, nothing to stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _loop_factory(uvloop: bool | None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if uvloop is False:
        return None
    try:
        import uvloop as module
    except ImportError:
        if uvloop:
            raise
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory
