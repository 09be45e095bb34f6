"""tests/servers/full.py served over HTTP (POSTs and WebSocket upgrades on `/mcp`) with a `/stats`
route that counts, from outside the protocol, what the process holds: asyncio tasks, open fds, RSS,
the session table, the events kept for resumption, the server's connections and the tasks left
running after their request. The churn tests (tests/soak/churn.py) read it between rounds of messy
traffic; `/stats?trace=1` starts tracemalloc and `/stats?top=N` gives the N largest growths since;
`/stats?expire` ends every session as if idle too long.

`python tests/servers/churn.py --http PORT [--idle S]`
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from full import server

from mcpbind.server import Context
from mcpbind.transports.http import HttpSecurity
from mcpbind.transports.http.app import HttpApp


@server.tool()
async def hang(ctx: Context) -> str:
    """Never answers (until cancelled or its client leaves)."""
    await asyncio.Event().wait()
    return "never"


@server.tool()
async def chatter(count: int, ctx: Context, pause: float = 0.0) -> str:
    """`count` progress and log notifications, `pause` seconds apart, then an answer."""
    for i in range(count):
        await ctx.progress(i + 1, count)
        await ctx.log("info", f"line {i}")
        if pause:
            await asyncio.sleep(pause)
    return "chattered"


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ChurnApp(HttpApp):
    """An `HttpApp` (so that its WebSocket upgrades are still served by mcpbind's own connection)
    answering `GET /stats` itself."""

    snapshot: tracemalloc.Snapshot | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/stats":
            await self.stats(scope, send)
            return
        await super().__call__(scope, receive, send)

    async def stats(self, scope: Any, send: Any) -> None:
        query = scope.get("query_string", b"").decode()
        gc.collect()
        figures: dict[str, Any] = {
            "tasks": len(asyncio.all_tasks()),
            "fds": len(os.listdir("/proc/self/fd")),
            "rss_kb": rss_kb(),
            "sessions": len(self.sessions),
            "events": sum(len(getattr(s.store, "events", ())) for s in self.sessions.values()),
            "connections": len(self.server.connections),
            "closing": len(self.closing),
            "body_reads": self.reads.reading,
            "pooled": len(self.stateless.idle),
            "stateless_running": self.stateless.running,
        }
        if query == "expire":  # every session idle for ever: ended as the idle timeout would
            for session in self.sessions.values():
                # Idle since ever: 0.0 would be only as long ago as the machine's uptime (the
                # monotonic clock's start), less than the idle timeout on a machine up an hour.
                session.last_seen = float("-inf")
            self.table.expire()
        elif query.startswith("trace"):
            tracemalloc.start(12)
            ChurnApp.snapshot = tracemalloc.take_snapshot()
        elif query.startswith("top=") and ChurnApp.snapshot is not None:
            now = tracemalloc.take_snapshot()
            diff = now.compare_to(ChurnApp.snapshot, "traceback")
            figures["top"] = [
                "\n".join(d.traceback.format()[-8:]) + f"\n  {d}" for d in diff[: int(query[4:])]
            ]
        body = json.dumps(figures).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--idle", type=float, default=3600.0, help="session idle timeout, seconds")
    args = parser.parse_args()
    import uvicorn

    from mcpbind.server.serving import UVICORN_DEFAULTS
    from mcpbind.transports.websocket.uvicorn_protocol import websocket_protocol

    app = ChurnApp(server, security=HttpSecurity(session_idle_timeout=args.idle))
    options: dict[str, Any] = {**UVICORN_DEFAULTS, "ws": websocket_protocol, "log_level": "warning"}
    uvicorn.run(app, host="127.0.0.1", port=args.http, timeout_keep_alive=120, **options)


if __name__ == "__main__":
    main()
