"""An MCP endpoint mounted in a Starlette application, behind a bearer token; its tools know the caller.

python examples/mounted_http_server.py --port 8000 --token s3cret    # MCP at /mcp, also /health
"""

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from mcpbind.server import Server
from mcpbind.server.middleware import principal
from mcpbind.transports.http import HttpSecurity

server = Server("mounted", "1.0.0")


@server.tool()
def whoami() -> str:
    """Who is calling."""
    return f"You are {principal()}."


def app(token: str) -> Starlette:
    async def verify(presented: str) -> str | None:
        return "operator" if presented == token else None  # the caller the tools see; None: 401

    mcp = server.http_app(security=HttpSecurity(verify_token=verify))
    health = Route("/health", lambda request: PlainTextResponse("ok"))
    return Starlette(routes=[health, Mount("/", mcp)], lifespan=lambda _: server.running())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    uvicorn.run(app(args.token), host="127.0.0.1", port=args.port)
