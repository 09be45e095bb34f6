"""The full test server over Streamable HTTP, with what the HTTP tests need beyond it.

`python tests/servers/http_extra.py --http PORT [--token T] [--keepalive S]`

- `drip(seconds)`: reports progress once (so its answer is an SSE stream), then sleeps; a cancelled
  sleep counts in `cancelled_count`, as `slow` does.
- `doze(seconds)`: sleeps without a Context (a tool answered directly, without a connection); a
  cancelled sleep counts in `cancelled_count` too.
- `--token T`: the app is built with `HttpSecurity(verify_token=...)` accepting only bearer token T.
- `--keepalive S`: SSE keep-alive comments every S seconds (the default is 15).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from full import counted_sleep, server

from mcpbind.server import Context
from mcpbind.transports.http import HttpApp, HttpSecurity


@server.tool()
async def drip(seconds: float, ctx: Context) -> str:
    await ctx.progress(1, 2, "started")
    await counted_sleep(seconds)
    return "dripped"


@server.tool()
async def doze(seconds: float) -> str:
    await counted_sleep(seconds)
    return "dozed"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--token", default=None)
    parser.add_argument("--keepalive", type=float, default=15.0)
    args = parser.parse_args()
    security = HttpSecurity()
    if args.token is not None:
        expected = args.token

        async def verify(token: str) -> Any:
            return {"sub": "tester"} if token == expected else None

        security = HttpSecurity(verify_token=verify)
    app: HttpApp = server.http_app(security=security)
    app.keepalive = args.keepalive
    uvicorn.run(app, host="127.0.0.1", port=args.http, log_level="warning", timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
