"""A small server for the hostile-input tests (tests/test_hostile_core.py), served over stdio.

`python tests/servers/hostile.py [--max-concurrency N] [--max-queued N] [--uvloop]`

`census` reports what the connection still holds (tasks, running, queued...): after every request
has ended, nothing may be left.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from mcpbind.server import Context, Server

parser = argparse.ArgumentParser()
parser.add_argument("--max-concurrency", type=int, default=64)
parser.add_argument("--max-queued", type=int, default=1024)
parser.add_argument(
    "--uvloop", action="store_true", help="serve on uvloop (as run_stdio does when installed)"
)
args = parser.parse_args()

SERVING: list[asyncio.Task[Any] | None] = []
"""The task serving the connection (`Server.serve`'s, which awaits its read loop's own task): not one
a request left behind."""


@contextlib.asynccontextmanager
async def serving(server: Server) -> AsyncIterator[None]:
    SERVING.append(asyncio.current_task())  # (the lifespan is entered by `serve`, in its task)
    yield None


server = Server(
    "hostile",
    "1.0.0",
    max_concurrency=args.max_concurrency,
    max_queued=args.max_queued,
    lifespan=serving,
)


@server.tool()
async def echo(text: str) -> str:
    return text


@server.tool()
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "slept"


@server.tool()
async def think(ctx: Context) -> str:
    """Ask the client's model (sampling), and say what it answered."""
    answer = await ctx.sample([{"role": "user", "content": {"type": "text", "text": "2+2?"}}], max_tokens=5)
    return f"model said {answer.content.text}"


@server.tool()
async def census() -> str:
    (conn,) = server.connections
    peer = conn.peer
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and t not in SERVING]
    return json.dumps(
        {
            "tasks": len(others),
            "running": peer.load.running,
            "queued": peer.load.queued,
            "batches": peer.load.batched,
            "waiting": peer.load.waiting,
            "pending": peer.endpoint.pending,
        }
    )


if __name__ == "__main__":
    server.run_stdio(uvloop=args.uvloop)
