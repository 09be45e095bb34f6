"""mcpbind benchmark server: an ``echo`` tool (and optionally N generated tools) over stdio or HTTP.

python bench/apps/mcpbind_server.py [--tools N] [--page-size P]            # stdio
python bench/apps/mcpbind_server.py --http PORT [--json]                  # uvicorn, /mcp
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mcpbind.server import Server

ap = argparse.ArgumentParser()
ap.add_argument("--http", type=int, default=None)
ap.add_argument("--json", action="store_true", help="HTTP: JSON bodies for every answer")
ap.add_argument("--tools", type=int, default=0)
ap.add_argument("--page-size", type=int, default=None)
args = ap.parse_args()

server = Server("bench-mcpbind", "1.0.0", **({"page_size": args.page_size} if args.page_size else {}))


@server.tool()
async def echo(text: str) -> str:
    """Say `text` back."""
    return text


if args.tools:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _toolgen import make_tools

    for name, fn in make_tools(args.tools):
        server.tool(name)(fn)

if args.http is None:
    server.run_stdio()
elif args.json:
    import uvicorn

    uvicorn.run(server.http_app(json_response=True), host="127.0.0.1", port=args.http, log_level="warning")
else:
    server.run_http(port=args.http, log_level="warning")
