"""The full test server (full.py) over WebSocket, for tests/e2e/test_websocket.py.

`python tests/servers/websocket.py [--standalone | --asgi] [--max-message N] [--max-send-queue N]
[--token T [--resource]] --http PORT`

On PORT under uvicorn, where `/mcp` takes POSTs and WebSocket upgrades alike (the upgrades on
mcpbind's own connection, served by `run_http` itself, or with `--asgi` through uvicorn's ASGI
WebSocket layer), or with `--standalone` on its own asyncio server (`run_websocket`). Two tools
more than full.py: `flood` (progress notifications, to fill a client that does not read),
`overflows` (how many connections were closed for not reading) and `caller` (`ctx.principal`'s
subject). `--token T` accepts that bearer token; with `--resource`, through an OAuth resource server
(`ProtectedResource`, whose verifier takes T for the subject "tester") instead of `verify_token`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from full import server

from mcpbind.server import Context
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.websocket import WebSocketOptions

overflowed = 0


class _Count(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        global overflowed
        if "does not read" in record.getMessage():
            overflowed += 1


@server.tool()
async def flood(count: int, size: int, ctx: Context) -> str:
    for i in range(count):
        await ctx.progress(i + 1, count, "x" * size)
    return "flooded"


@server.tool()
async def overflows() -> int:
    return overflowed


@server.tool()
async def caller(ctx: Context) -> str | None:
    return None if ctx.principal is None else ctx.principal.subject


def resource_server(port: int, token: str) -> Any:
    """A resource server in front of the endpoint, taking `token` for the subject "tester"."""
    from mcpbind.auth.server.principal import Principal
    from mcpbind.auth.server.resource import ProtectedResource
    from mcpbind.auth.server.verify import InvalidToken

    class Verifier:
        async def verify(self, presented: str) -> Principal:
            lifetime = presented.removeprefix(f"{token}-expiring-in-")
            if lifetime != presented and lifetime.isdigit():  # a token that expires that many seconds on
                expires_at = time.time() + int(lifetime)
                return Principal(subject="tester", issuer="https://issuer.invalid", expires_at=expires_at)
            if presented != token:
                raise InvalidToken("unknown token")
            return Principal(subject="tester", issuer="https://issuer.invalid")

    return ProtectedResource(
        resource=f"http://127.0.0.1:{port}/mcp",
        authorization_servers=["https://issuer.invalid"],
        verifier=Verifier(),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--standalone", action="store_true")
    parser.add_argument("--asgi", action="store_true", help="under uvicorn: through its ASGI WebSocket layer")
    parser.add_argument("--max-message", type=int, default=WebSocketOptions.max_message)
    parser.add_argument("--max-send-queue", type=int, default=WebSocketOptions.max_send_queue)
    parser.add_argument("--token", default=None)
    parser.add_argument("--resource", action="store_true", help="--token through a ProtectedResource")
    parser.add_argument(
        "--ping", type=float, default=WebSocketOptions.ping_interval, help="interval and timeout"
    )
    args = parser.parse_args()
    logging.getLogger("mcpbind.websocket").addHandler(_Count())
    options = WebSocketOptions(
        max_message=args.max_message,
        max_send_queue=args.max_send_queue,
        ping_interval=args.ping,
        ping_timeout=args.ping,
    )
    security = HttpSecurity()
    if args.token is not None and args.resource:
        security = HttpSecurity(auth=resource_server(args.http, args.token))
    elif args.token is not None:

        async def verify(token: str) -> Any:
            return {"sub": "tester"} if token == args.token else None

        security = HttpSecurity(verify_token=verify)
    if args.standalone:
        server.run_websocket(port=args.http, security=security, options=options)
    elif not args.asgi:  # as users serve it: `run_http`, upgrades on mcpbind's own connection
        server.run_http(
            port=args.http,
            security=security,
            websocket=options,
            log_level="warning",
            ws_max_size=args.max_message * 2,
            ws_ping_interval=args.ping,
            ws_ping_timeout=args.ping,
        )
    else:
        import uvicorn

        from mcpbind.transports.http import HttpApp

        app = HttpApp(server, security=security, websocket=options)
        uvicorn.run(
            app,
            ws="websockets-sansio",  # uvicorn's ASGI WebSocket layer, as under any ASGI server
            host="127.0.0.1",
            port=args.http,
            log_level="warning",
            ws_max_size=args.max_message * 2,
            ws_ping_interval=args.ping,  # (ASGI has no pings: the server's own keep-alive)
            ws_ping_timeout=args.ping,
        )
