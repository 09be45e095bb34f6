"""The OAuth client against an authorization server whose metadata names a hostile
`authorization_endpoint` (a real in-process HTTP server on loopback: MCP endpoint, protected resource
metadata, authorization server metadata and registration). The authorization URL is handed to the
user's browser, or to whatever the system opens for its scheme; any MCP server can name such an
authorization server in its metadata. The spec (2025-11-25, basic/authorization, Communication
Security): "All authorization server endpoints MUST be served over HTTPS." An endpoint that is not
HTTPS (plain HTTP to this machine's loopback aside) is refused before anything is opened."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

pytest.importorskip("httpx")

from mcpbind.auth.client import LoopbackBrowser, OAuthClientProvider
from mcpbind.client import Client

from ..auth_support import serving
from ..http_support import MODERN, free_port


def world(endpoint: str) -> Any:
    """The MCP server (always 401) and its authorization server, in one app; `endpoint` (with
    `{origin}` in it) is the authorization_endpoint its metadata names."""
    origin: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        base = origin[0]
        path, status, headers, body = scope["path"], 200, [(b"content-type", b"application/json")], b""
        if path == "/mcp":
            status, body = (
                401,
                b'{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Unauthorized"}}',
            )
            prm = f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
            headers.append((b"www-authenticate", prm.encode()))
        elif path == "/.well-known/oauth-protected-resource/mcp":
            body = json.dumps({"resource": f"{base}/mcp", "authorization_servers": [base]}).encode()
        elif path == "/.well-known/oauth-authorization-server":
            metadata = {
                "issuer": base,
                "authorization_endpoint": endpoint.format(origin=base),
                "token_endpoint": f"{base}/token",
                "registration_endpoint": f"{base}/register",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
            }
            body = json.dumps(metadata).encode()
        elif path == "/register":
            status = 201
            body = json.dumps(
                {"client_id": "hostile-client", "redirect_uris": ["http://127.0.0.1/cb"]}
            ).encode()
        else:
            status = 404
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app, origin


@pytest.mark.parametrize(
    "endpoint",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ms-settings:privacy",
        "http://auth.example.com/authorize",
        "https:///no-host",
        "{origin}/../../x",  # (plain HTTP to loopback: allowed, the control case below)
    ],
)
def test_an_authorization_endpoint_that_is_not_https_is_never_opened(endpoint: str) -> None:
    opened: list[str] = []
    app, origin = world(endpoint)
    with serving(app) as base:
        origin.append(base)

        async def main() -> None:
            redirect = LoopbackBrowser(port=free_port(), timeout=2, open_url=opened.append)
            async with OAuthClientProvider(f"{base}/mcp", redirect=redirect) as auth:
                client = Client.http(f"{base}/mcp", mode=MODERN, auth=auth, request_timeout=30)
                with pytest.raises(Exception) as failed:
                    async with client:
                        pass
                return str(failed.value)

        said = asyncio.run(main())
    if endpoint.startswith("{origin}"):
        assert len(opened) == 1, said  # loopback HTTP is opened (and then nothing comes back)
    else:
        assert opened == [] and "not HTTPS" in said, said
