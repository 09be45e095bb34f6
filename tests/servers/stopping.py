"""Tools that wait, for stopping a server with calls in flight: `Server.run_http` with a grace
period (`--grace`, seconds). Each tool prints `finally <tag>` on stdout as it ends, however it
ends (its `finally`).

`python tests/servers/stopping.py --http PORT [--grace SECONDS] [--own-uvicorn]` (`--own-uvicorn`: its
`http_app()` under `uvicorn.run`, as an application that serves it itself does)
"""

from __future__ import annotations

import argparse
import asyncio

from mcpbind.server import Context, Server

server = Server("stopping", "1.0.0")


@server.tool()
async def wait(seconds: float, tag: str) -> str:
    """Sleep (no Context: answered in one step where it can be, carried on by a task as it waits)."""
    try:
        await asyncio.sleep(seconds)
        return f"waited {tag}"
    finally:
        print("finally", tag, flush=True)


@server.tool()
async def wait_with(seconds: float, tag: str, ctx: Context) -> str:
    """Sleep, with a Context: progress first when the call asked for it (the answer is an SSE stream)."""
    try:
        await ctx.progress(1, 2, "started")
        await asyncio.sleep(seconds)
        return f"waited {tag}"
    finally:
        print("finally", tag, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--grace", type=float, default=1.0)
    parser.add_argument("--own-uvicorn", action="store_true")
    args = parser.parse_args()
    if args.own_uvicorn:
        import uvicorn

        uvicorn.run(server.http_app(), port=args.http, timeout_graceful_shutdown=args.grace)
    else:
        server.run_http(port=args.http, timeout_graceful_shutdown=args.grace)
