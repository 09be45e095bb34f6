"""The official Python SDK's client (`mcp` 2.x) against mcpbind's protected server (`mcpbind.auth.server`),
with tokens from the test authorization server (tests/auth_support.py): a bearer token it is handed, and
its own OAuth client (client credentials), which finds everything from our 401 on: the protected
resource metadata, the authorization server's metadata, the token endpoint with `resource`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("mcp")
pytest.importorskip("joserfc")

import httpx2
from mcp import Client as SdkClient
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from mcp.shared.exceptions import MCPError

from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.transports.http import HttpSecurity

from ..auth_support import CLIENT_ID, CLIENT_SECRET, AuthServer, protected_server, serving
from ..http_support import free_port
from .common import run

MODERN = "2026-07-28"
LEGACY = "legacy"  # the SDK negotiates 2025-11-25 with initialize


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[AuthServer, str]]:
    with AuthServer().running() as auth:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        resource = ProtectedResource(
            resource=url,
            authorization_servers=[auth.url],
            verifier=JwtVerifier(issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks"),
            scopes_supported=["files:read", "files:write", "prompts"],
        )
        with serving(protected_server().http_app(security=HttpSecurity(auth=resource)), port):
            yield auth, url


class Memory:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def whoami(url: str, mode: str, **http: Any) -> Any:
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(20.0), **http) as client:
        async with SdkClient(streamable_http_client(url, http_client=client), mode=mode) as sdk:
            result = await sdk.call_tool("whoami", {})
            assert not result.is_error, result
            read = await sdk.call_tool("read_file", {"name": "a"})
            return result.structured_content, read


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
def test_sdk_client_with_a_bearer_token(endpoint: tuple[AuthServer, str], mode: str) -> None:
    auth, url = endpoint
    token = auth.mint(url, scope="files:read")
    who, read = run(whoami(url, mode, headers={"authorization": f"Bearer {token}"}))
    assert who == {"subject": CLIENT_ID, "client": CLIENT_ID, "scopes": ["files:read"]}
    assert read.content[0].text == "contents of a"
    with pytest.raises(ExceptionGroup) as refused:  # no token: refused (401), nothing served
        run(whoami(url, mode))
    assert refused.group_contains(MCPError)


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
def test_sdk_oauth_client_discovers_and_gets_a_token(endpoint: tuple[AuthServer, str], mode: str) -> None:
    auth, url = endpoint
    storage = Memory()
    provider = ClientCredentialsOAuthProvider(
        server_url=url,
        storage=storage,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope="files:read",
        issuer=auth.url,  # the credentials go to this authorization server only
    )
    who, read = run(whoami(url, mode, auth=provider))
    # With no `scope` in our 401, the SDK asks for the metadata's scopes_supported (as the spec says).
    assert who["subject"] == CLIENT_ID and who["scopes"] == ["files:read", "files:write", "prompts"]
    assert read.content[0].text == "contents of a"
    assert storage.tokens is not None  # it went through our 401, the metadata and the token endpoint
