"""An OAuth 2.1 resource server: tokens from your authorization server, verified as JWTs; a scoped tool
that knows its caller. Needs `mcpbind[auth,http]`; run it with `uvicorn oauth_server:app --port 8000`."""

import os

from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.server import Context, Server
from mcpbind.transports.http import HttpSecurity

URL = os.environ.get("MCP_URL", "http://127.0.0.1:8000/mcp")  # tokens' `aud` must name this endpoint
ISSUER = os.environ.get("OAUTH_ISSUER", "https://auth.example.com")

server = Server("files", "1.0.0")


@server.tool(scopes=["files:write"])  # a token without the scope gets 403 insufficient_scope
async def write(name: str, ctx: Context) -> str:
    """Write a file, as the caller."""
    caller = ctx.principal  # subject, client_id, scopes and claims of the verified token
    return f"{caller.subject if caller else 'nobody'} wrote {name}"


resource = ProtectedResource(
    resource=URL,
    authorization_servers=[ISSUER],
    verifier=JwtVerifier(issuer=ISSUER, audience=URL, jwks_uri=f"{ISSUER}/.well-known/jwks.json"),
    scopes_supported=["files:read", "files:write"],
)
app = server.http_app(security=HttpSecurity(auth=resource))
