"""mcpbind benchmark server: an ``echo`` tool (and optionally N generated tools) over stdio or HTTP.

python bench/apps/mcpbind_server.py [--tools N] [--page-size P] [--asyncio]  # stdio
python bench/apps/mcpbind_server.py --http PORT [--json]                  # run_http: uvicorn, /mcp
python bench/apps/mcpbind_server.py --http PORT --auth JWKS_FILE           # every request needs a JWT
python bench/apps/mcpbind_server.py --websocket PORT                      # run_websocket, /mcp
"""

from __future__ import annotations

import sys
from pathlib import Path

from mcpbind.server import Context, Server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _toolgen import big, blob, echo, make_tools, options

args = options(
    {
        "--http": (int, None),
        "--websocket": (int, None),  # serve WebSocket alone (run_websocket)
        "--json": (bool, False),  # HTTP: JSON bodies for every answer
        "--tools": (int, 0),
        "--big": (bool, False),  # add a `big` tool returning 1 MB of text
        "--page-size": (int, None),
        "--auth": (str, None),  # HTTP: JWTs checked against this JWKS file (joserfc)
        "--workers": (int, 1),  # HTTP: processes serving the port
        "--redis": (str, None),  # HTTP: the Redis URL the workers share
        "--asyncio": (bool, False),  # stdio on the default asyncio loop, not uvloop
    }
)

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

if args.websocket is not None:
    server.run_websocket(port=args.websocket)
elif args.http is None:
    server.run_stdio(uvloop=False if args.asyncio else None)
else:
    security = None
    if args.auth:
        import json

        from _toolgen import ISSUER

        from mcpbind.auth.server.jwt import JwtVerifier
        from mcpbind.auth.server.resource import ProtectedResource
        from mcpbind.transports.http import HttpSecurity

        url = f"http://127.0.0.1:{args.http}/mcp"
        with open(args.auth) as f:
            jwks = json.load(f)
        verifier = JwtVerifier(issuer=ISSUER, audience=url, jwks=jwks)
        security = HttpSecurity(
            auth=ProtectedResource(resource=url, authorization_servers=[ISSUER], verifier=verifier)
        )
    server.run_http(
        port=args.http,
        json_response=args.json,
        workers=args.workers,
        redis=args.redis,
        log_level="warning",
        security=security,
    )
