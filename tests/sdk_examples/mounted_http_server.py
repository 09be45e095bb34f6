"""The mounted HTTP server with the official SDK: Starlette, a bearer token, tools that know the caller."""

import argparse

import uvicorn
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route


class Verifier:
    def __init__(self, token: str) -> None:
        self.token = token

    async def verify_token(self, token: str) -> AccessToken | None:
        if token != self.token:
            return None
        return AccessToken(token=token, client_id="operator", scopes=[], subject="operator")


def app(token: str, port: int) -> Starlette:
    url = f"http://127.0.0.1:{port}"
    auth = AuthSettings(issuer_url=url, resource_server_url=f"{url}/mcp")
    mcp = MCPServer("mounted", version="1.0.0", token_verifier=Verifier(token), auth=auth)

    @mcp.tool()
    def whoami() -> str:
        """Who is calling."""
        access = get_access_token()
        return f"You are {access.subject if access else None}."

    health = Route("/health", lambda request: PlainTextResponse("ok"))
    routes = [health, Mount("/", mcp.streamable_http_app())]
    return Starlette(routes=routes, lifespan=lambda _: mcp.session_manager.run())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    uvicorn.run(app(args.token, args.port), host="127.0.0.1", port=args.port)
