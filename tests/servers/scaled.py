"""The full test server served the scaled-out way: `Server.run_http(workers=N, redis=URL)`, with a tool that
says which process answered, one that streams events and then waits (to kill its worker mid-stream),
one that tells the client to poll and answers once a gate is opened (to resume its stream on another
worker), a tool removed and registered again while serving (`movable`, by `move`), and the shared state
(`count`, `remember`, `recall`).

`python tests/servers/scaled.py --http PORT [--redis URL] [--workers N] [--secret HEX] [--revisions R,...]`
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from mcpbind.protocol.request_state import StateSealer
from mcpbind.server import Context
from mcpbind.transports.http import HttpSecurity

sys.path.insert(0, str(Path(__file__).resolve().parent))
from full import server


@server.tool()
async def pid() -> int:
    return os.getpid()


@server.tool()
async def stream_then_wait(steps: int, ctx: Context) -> str:
    """`steps` progress notifications, then a wait no test outlives (the worker is killed meanwhile)."""
    for i in range(steps):
        await ctx.progress(i + 1, steps, f"step {i + 1}")
    await asyncio.sleep(3600)
    return "never"


def movable() -> str:
    """Registered in every worker; removed and registered again while serving (`move`)."""
    return "here"


server.tool("movable")(movable)


@server.tool()
async def move(present: bool) -> str:
    """Remove `movable`, or register it again: the other workers make the same change."""
    if present:
        server.tool("movable")(movable)
    else:
        server.remove_tool("movable")
    return "moved"


@server.tool()
async def count(key: str, ctx: Context) -> int:
    """Add one to `key` in the server's shared state (Redis with --redis), and say the sum."""
    return await ctx.shared.incr(key)


@server.tool()
async def remember(key: str, value: str, ctx: Context) -> str:
    await ctx.shared.set(key, value)
    return "kept"


@server.tool()
async def recall(key: str, ctx: Context) -> str:
    return str(await ctx.shared.get(key, "nothing"))


gates: dict[str, asyncio.Event] = {}


@server.tool()
async def poll_then_answer(key: str, ctx: Context) -> str:
    """Tells the client to poll (the POST's connection closes, the stream stays open), then sends
    progress once `open_gate(key + "/1")` is called on this worker, and more and its answer after
    `open_gate(key + "/2")`."""
    ctx.close_sse_stream(retry_ms=100)
    await gates.setdefault(f"{key}/1", asyncio.Event()).wait()
    await ctx.progress(1, 2, "while polling")
    await gates.setdefault(f"{key}/2", asyncio.Event()).wait()
    await ctx.progress(2, 2, "after the resumption")
    return f"answered {key}"


@server.tool()
async def open_gate(key: str) -> str:
    gates.setdefault(key, asyncio.Event()).set()
    return "ok"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--redis", default=None)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--secret", default=None, help="hex: the requestState secret every process shares")
    parser.add_argument("--revisions", default=None)
    parser.add_argument("--per-client", type=int, default=None, help="HttpSecurity.max_sessions_per_client")
    args = parser.parse_args()
    if args.secret:
        server.sealer = StateSealer(bytes.fromhex(args.secret))
    if args.revisions:
        server.revisions = tuple(args.revisions.split(","))
    security = None
    if args.per_client is not None:  # (its clients are on loopback: bounded too)
        security = HttpSecurity(max_sessions_per_client=args.per_client, uncapped_networks=())
    server.run_http(
        port=args.http, workers=args.workers, redis=args.redis, security=security, log_level="warning"
    )
