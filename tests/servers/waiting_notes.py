"""A server whose middleware holds `notifications/roots/list_changed` (and, for 2026-07-28, which has
none, `notifications/progress`) until a later request (the tool
`release`) lets it go, for tests/e2e/test_hostile_notifications.py: a notification's handler that
waits must not stop the connection from reading what follows. Over stdio, or `--http PORT`."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from mcpbind.server import Server
from mcpbind.server.middleware import Call, Next

released = asyncio.Event()
handled: list[str] = []
HELD = {"notifications/roots/list_changed", "notifications/progress"}


async def hold_roots_changes(call: Call, call_next: Next) -> Any:
    if call.method in HELD:
        await released.wait()
        handled.append("held")
    elif call.is_notification:
        handled.append(call.method)
    return await call_next(call)


server = Server("waiting-notes", "1.0.0", middleware=[hold_roots_changes])


@server.tool()
async def release() -> str:
    released.set()
    return "released"


@server.tool()
async def seen() -> str:
    """The notifications the middleware let through, in the order it did."""
    return ",".join(handled)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None, metavar="PORT")
    args = parser.parse_args()
    if args.http is not None:
        server.run_http(port=args.http, log_level="warning")
    else:
        server.run_stdio()
