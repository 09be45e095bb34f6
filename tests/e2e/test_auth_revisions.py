"""The OAuth client follows the authorization text of the revision it negotiated, end to end against
tests/servers/oauth_world.py: the transport tells the provider the revision; a flow before negotiation
follows the newest text (`offline_access` where listed), a flow after it the negotiated one's (none
before 2026-07-28; 2025-03-26: `MCP-Protocol-Version` on metadata discovery, no well-known probing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from typing import Any

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client import FollowRedirect, MemoryTokenStore, OAuthClientProvider
from mcpbind.auth.client.web import AuthHttp
from mcpbind.client import Client
from mcpbind.server import Server

from ..http_support import MODERN, SERVERS, load_script, serve_in_process

OAuthWorld = load_script(str(SERVERS / "oauth_world.py"), "oauth_world").OAuthWorld


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def provider(url: str, store: MemoryTokenStore | None = None) -> OAuthClientProvider:
    http = AuthHttp(timeout=15.0)
    return OAuthClientProvider(url, redirect=FollowRedirect(http), http=http, store=store)


def echo_server() -> Server:
    server = Server("oauth-protected")

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server


@pytest.fixture
def world() -> Any:
    return OAuthWorld(echo_server().http_app(), scopes=["mcp"])


@pytest.fixture
def url(world: Any) -> Iterator[str]:
    with serve_in_process(world) as address:
        yield address


@pytest.mark.parametrize(
    ("mode", "offline_after"), [("2025-11-25", False), (MODERN, True), ("2025-06-18", False)]
)
def test_a_flow_after_negotiation_follows_the_negotiated_text(
    world: Any, url: str, mode: str, offline_after: bool
) -> None:
    async def main() -> str | None:
        auth = provider(url)
        async with auth, Client.http(url, mode=mode, auth=auth, request_timeout=30) as client:
            assert (await client.call_tool("echo", {"text": "a"})).content[0].text == "a"
            revision = auth.revision
            # The token is revoked and its refresh yields a token the server refuses: a full flow,
            # now under the negotiated revision.
            world.dud_refresh = True
            world.revoke_on.append(("POST", "/mcp"))
            assert (await client.call_tool("echo", {"text": "b"})).content[0].text == "b"
            return revision

    assert run(main()) == mode
    first, second = world.authorizations
    assert first["scope"] == "mcp offline_access"  # before negotiation: the newest text
    assert second["scope"] == ("mcp offline_access" if offline_after else "mcp")


def test_2025_03_26_metadata_discovery_carries_the_protocol_version(world: Any, url: str) -> None:
    store = MemoryTokenStore()

    async def main() -> None:
        first = provider(url, store)  # tokens and registration, kept in the shared store
        async with first, Client.http(url, mode="2025-11-25", auth=first, request_timeout=30) as client:
            await client.call_tool("echo", {"text": "a"})
        later = provider(url, store)
        async with later, Client.http(url, mode="2025-03-26", auth=later, request_timeout=30) as client:
            assert later.revision == "2025-03-26"
            world.revoke_on.append(("POST", "/mcp"))
            assert (await client.call_tool("echo", {"text": "b"})).content[0].text == "b"

    run(main())
    before, after = world.metadata_requests
    assert "mcp-protocol-version" not in before  # before negotiation: not known
    assert after["mcp-protocol-version"] == "2025-03-26"
    assert [g["grant_type"] for g in world.grants] == ["authorization_code", "refresh_token"]
