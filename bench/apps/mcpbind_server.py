"""mcpbind benchmark server: an ``echo`` tool (and optionally N generated tools) over stdio or HTTP.

python bench/apps/mcpbind_server.py [--tools N] [--page-size P] [--asyncio]  # stdio
python bench/apps/mcpbind_server.py --http PORT [--json]                  # run_http: uvicorn, /mcp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcpbind.server import Context, Server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _toolgen import big, blob, echo, make_tools

ap = argparse.ArgumentParser()
ap.add_argument("--http", type=int, default=None)
ap.add_argument("--json", action="store_true", help="HTTP: JSON bodies for every answer")
ap.add_argument("--tools", type=int, default=0)
ap.add_argument("--big", action="store_true", help="add a `big` tool returning 1 MB of text")
ap.add_argument("--page-size", type=int, default=None)
ap.add_argument("--asyncio", action="store_true", help="stdio on the default asyncio loop, not uvloop")
args = ap.parse_args()

server = Server("bench-mcpbind", "1.0.0", **({"page_size": args.page_size} if args.page_size else {}))


server.tool()(echo)


@server.tool()
async def echo_progress(text: str, ctx: Context) -> str:
    """Report progress once, then say `text` back (an answer that has to be a stream)."""
    await ctx.progress(1, 1)
    return text


server.tool()(blob)
if args.big:
    server.tool()(big)
for name, fn in make_tools(args.tools):
    server.tool(name)(fn)

if args.http is None:
    server.run_stdio(uvloop=False if args.asyncio else None)
else:
    server.run_http(port=args.http, json_response=args.json, log_level="warning")
