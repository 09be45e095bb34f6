"""mcpbind's OAuth client against the official TypeScript SDK's auth-protected example server: the 1.x
SDK's `examples/server/simpleStreamableHttp.js --oauth --oauth-strict`, which serves protected resource
metadata and checks each token by introspection at its demo in-memory authorization server (a second
port; `--oauth-strict`: only tokens issued for this server's URL, so our `resource` must be right).
Our client starts from nothing: the 401, the metadata, dynamic registration, authorization code with
PKCE (the demo approves at once, so `FollowRedirect` stands in for the user), the token, the call.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client import FollowRedirect, OAuthClientProvider
from mcpbind.auth.client.web import AuthHttp
from mcpbind.client import Client
from mcpbind.errors import McpError

from .common import HERE, MODULES, NODE, free_port, node_env, require_toolchain, serve

EXAMPLE = (
    MODULES
    / "@modelcontextprotocol"
    / "sdk"
    / "dist"
    / "esm"
    / "examples"
    / "server"
    / "simpleStreamableHttp.js"
)


@pytest.fixture(scope="module")
def protected_example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_toolchain()
    port, auth_port = free_port(), free_port()
    env = {**node_env(), "MCP_PORT": str(port), "MCP_AUTH_PORT": str(auth_port)}
    command = [str(NODE), "--import", str(HERE / "loopback.mjs"), str(EXAMPLE), "--oauth", "--oauth-strict"]
    log: Path = tmp_path_factory.mktemp("ts-oauth") / "example.log"
    with serve(command, port, log, env=env):
        deadline = time.monotonic() + 20
        while True:  # its authorization server listens on a port of its own
            try:
                socket.create_connection(("127.0.0.1", auth_port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the example's authorization server did not listen:\n{log.read_text()}"
                    ) from None
                time.sleep(0.05)
        # The example names itself by `localhost` (its metadata, the resource it checks tokens for).
        yield f"http://localhost:{port}/mcp"


def provider(url: str) -> OAuthClientProvider:
    http = AuthHttp(timeout=15.0)
    return OAuthClientProvider(url, redirect=FollowRedirect(http), http=http)


@pytest.mark.parametrize("mode", ["2025-11-25", "auto"])
def test_our_oauth_client_against_the_sdks_protected_example(protected_example: str, mode: str) -> None:
    url = protected_example

    async def main() -> tuple[str, str | None]:
        auth = provider(url)
        async with auth, Client.http(url, mode=mode, auth=auth, request_timeout=30) as client:
            greeting = await client.call_tool("greet", {"name": "mcpbind"})
            tokens = auth.tokens
            return str(greeting.content[0].text), tokens.access_token if tokens else None

    greeting, token = asyncio.run(asyncio.wait_for(main(), 60))
    assert "mcpbind" in greeting
    assert token  # obtained through the whole flow, from nothing

    async def refused() -> None:  # and without authorization, nothing is served
        async with Client.http(url, mode="2025-11-25", request_timeout=15):
            pass

    with pytest.raises(McpError, match=r"401|authoriz"):
        asyncio.run(asyncio.wait_for(refused(), 30))
