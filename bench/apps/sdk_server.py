"""Official-SDK (``mcp`` 2.3.0, ``MCPServer``) benchmark server: the same ``echo`` tool (and optionally
N generated tools) over stdio or Streamable HTTP. Runs in the SDK's own venv (bench/.venvs/mcp).

    python bench/apps/sdk_server.py [--tools N]                 # stdio: MCPServer.run("stdio")
    python bench/apps/sdk_server.py --http PORT [--json]        # uvicorn.run(streamable_http_app(...))
    python bench/apps/sdk_server.py --http PORT --auth JWKS     # every request needs a JWT (PyJWT)

HTTP goes through ``uvicorn.run`` with the same options as mcpbind's ``run_http`` (no access log, no
proxy-headers middleware; uvloop+httptools when installed, as they are in the SDK venv), not
``MCPServer.run("streamable-http")``, which runs uvicorn under ``anyio.run`` on the default asyncio
loop (slower): the comparison favours the SDK.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mcp.server.mcpserver import Context, MCPServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _toolgen import big, blob, echo, make_tools, options
from _uvicorn import OPTIONS

args = options(
    {
        "--http": (int, None),
        "--json": (bool, False),  # HTTP: json_response=True (no SSE)
        "--tools": (int, 0),
        "--big": (bool, False),  # add a `big` tool returning 1 MB of text
        "--auth": (str, None),  # HTTP: JWTs checked against this JWKS file (PyJWT)
    }
)

auth_options = {}
if args.auth:
    # The SDK has the TokenVerifier interface but no JWT verifier of its own: this one is PyJWT (which
    # the SDK depends on), checking what mcpbind's JwtVerifier checks (signature, iss, aud, exp).
    import json

    import jwt
    from _toolgen import ISSUER
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings

    url = f"http://127.0.0.1:{args.http}/mcp"
    with open(args.auth) as f:
        keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(json.load(f)).keys}

    class PyJwtVerifier:
        async def verify_token(self, token: str) -> AccessToken | None:
            try:
                key = keys.get(jwt.get_unverified_header(token).get("kid"))
                if key is None:
                    return None
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=["RS256"],
                    audience=url,
                    issuer=ISSUER,
                    leeway=60,
                    options={"require": ["exp", "iss", "aud"]},
                )
            except jwt.PyJWTError:
                return None
            return AccessToken(
                token=token,
                client_id=claims.get("client_id", ""),
                scopes=claims.get("scope", "").split(),
                expires_at=claims.get("exp"),
                resource=url,
                subject=claims.get("sub"),
                claims=claims,
            )

    auth_options = {
        "token_verifier": PyJwtVerifier(),
        "auth": AuthSettings(issuer_url=ISSUER, resource_server_url=url),
    }

server = MCPServer("bench-sdk", version="1.0.0", log_level="WARNING", **auth_options)
logging.getLogger("mcp").setLevel(logging.WARNING)


# Equal work: the SDK's `-> str` tools would also send the text as `structuredContent` (validated against
# an output schema), twice the bytes of mcpbind's and the floor's answers; every text tool here turns that
# off, so all servers send the same content block.
server.tool(structured_output=False)(echo)


@server.tool(structured_output=False)
async def echo_progress(text: str, ctx: Context) -> str:
    """Report progress once, then say `text` back (an answer that has to be a stream)."""
    await ctx.report_progress(1, 1)
    return text


server.tool(structured_output=False)(blob)
if args.big:
    server.tool(structured_output=False)(big)
for name, fn in make_tools(args.tools):
    server.tool(name, structured_output=False)(fn)

if args.http is None:
    server.run("stdio")
else:
    import uvicorn

    app = server.streamable_http_app(json_response=args.json, session_idle_timeout=600, max_sessions=None)
    uvicorn.run(app, host="127.0.0.1", port=args.http, **OPTIONS)
