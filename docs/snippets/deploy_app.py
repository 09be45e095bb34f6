"""first_server.py deployed: its MCP endpoint in a Starlette app with a health check, behind a token,
answering only for its public host name. Run it with `uvicorn deploy_app:app --host 0.0.0.0 --port 8000`."""

import os
import secrets

from first_server import server
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from mcpbind.server.middleware import principal
from mcpbind.transports.http import HttpSecurity

HOST = os.environ.get("MCP_HOST", "mcp.example.com")  # the name clients use to reach this server
TOKEN = os.environ.get("MCP_TOKEN", "")


@server.tool()
def whoami() -> str:
    """Who is calling (what `verify` returned for the caller's token)."""
    return f"You are {principal()}."


async def verify(token: str) -> str | None:
    """The caller for a bearer token, or None (401)."""
    return "operator" if TOKEN and secrets.compare_digest(token, TOKEN) else None


security = HttpSecurity(
    allowed_hosts=(HOST, "127.0.0.1"),  # the Host header is checked (DNS rebinding)
    allowed_origins=(f"https://{HOST}",),
    verify_token=verify,
)
app = Starlette(
    routes=[
        Route("/health", lambda request: PlainTextResponse("ok")),
        Mount("/", server.http_app(security=security)),  # MCP at /mcp
    ],
    lifespan=lambda app: server.running(),  # the server's lifespan runs inside the application's
)
