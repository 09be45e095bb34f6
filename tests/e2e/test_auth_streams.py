"""Every HTTP request of the client is authorized by the same hook as its POSTs: the session's GET stream
and the 2024-11-05 HTTP+SSE transport (its GET stream and its POSTs) run the OAuth flow on a 401 and
are sent again, against tests/servers/oauth_world.py under uvicorn, whose `revoke_on` revokes the token
of one chosen request (as a token expiring at that moment would be)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client import FollowRedirect, OAuthClientProvider
from mcpbind.auth.client.web import AuthHttp
from mcpbind.client import Client
from mcpbind.server import Server
from mcpbind.transports.http.auth import AuthorizationFailed
from mcpbind.transports.http.client import LegacySseTransport, StreamableHttpTransport

from ..http_support import SERVERS, load_script, serve_in_process

OAuthWorld = load_script(str(SERVERS / "oauth_world.py"), "oauth_world").OAuthWorld


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def provider(url: str) -> OAuthClientProvider:
    http = AuthHttp(timeout=15.0)
    return OAuthClientProvider(url, redirect=FollowRedirect(http), http=http)


def changing_server() -> Server:
    server = Server("oauth-protected-changing")

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool()
    async def add_tool(name: str) -> str:
        server.tool(name=name)(echo)
        return "added"

    return server


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(500):  # bounded: 10 s
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} did not happen")


@pytest.fixture
def world() -> Any:
    return OAuthWorld(changing_server().http_app())


@pytest.fixture
def url(world: Any) -> Iterator[str]:
    with serve_in_process(world) as address:
        yield address


def test_the_get_stream_is_authorized_again_after_a_401(world: Any, url: str) -> None:
    """The session's GET stream finds its token revoked: the hook refreshes it and the GET is sent
    again, and the stream then carries what the server sends outside any request."""
    world.revoke_on.append(("GET", "/mcp"))

    async def main() -> None:
        changed: list[str] = []

        async def on_changed(kind: str) -> None:
            changed.append(kind)

        auth = provider(url)
        async with auth, Client.http(url, mode="2025-11-25", auth=auth, on_list_changed=on_changed) as client:
            await until(lambda: world.seen.count(("GET", "/mcp", 200)) == 1, "the GET stream's second try")
            async with client.listen(tools=True):
                await client.call_tool("add_tool", {"name": "added_after_refresh"})
                await until(lambda: changed == ["tools"], "tools/list_changed on the GET stream")
            assert (await client.call_tool("echo", {"text": "still"})).content[0].text == "still"

    run(main())
    gets = [status for method, path, status in world.seen if method == "GET"]
    assert gets == [401, 200]  # refused once (revoked), then passed with the refreshed token
    assert [g["grant_type"] for g in world.grants] == ["authorization_code", "refresh_token"]
    assert len(world.authorizations) == 1  # the refresh needed no user


def legacy_app() -> Any:
    """tests/servers/legacy_sse.py's app, on a `full` server of its own: the script restricts the
    server it imports to 2024-11-05, and other tests of this process import `full` too."""
    shared = sys.modules.pop("full", None)
    try:
        return load_script(str(SERVERS / "legacy_sse.py"), "mcpbind_tests_legacy_sse").app
    finally:
        sys.modules.pop("full", None)
        if shared is not None:
            sys.modules["full"] = shared


@pytest.fixture
def legacy_world() -> Any:
    return OAuthWorld(legacy_app(), path="/sse", also_protected=("/messages",))


@pytest.fixture
def legacy_url(legacy_world: Any) -> Iterator[str]:
    with serve_in_process(legacy_world) as address:
        yield address.removesuffix("/mcp") + "/sse"


def test_the_http_sse_transport_runs_the_flow_on_a_401(legacy_world: Any, legacy_url: str) -> None:
    """Streamable HTTP's POST is authorized and then refused (405): the client falls back to HTTP+SSE,
    whose GET stream and whose POST each find their token revoked and are authorized again."""
    legacy_world.revoke_on.extend([("GET", "/sse"), ("POST", "/messages")])

    async def main() -> None:
        auth = provider(legacy_url)
        transport = StreamableHttpTransport(legacy_url, auth=auth)
        async with auth, Client(transport, mode="auto", request_timeout=30) as client:
            assert client.revision == "2024-11-05"
            assert (await client.call_tool("echo", {"text": "legacy"})).content[0].text == "legacy"

    run(main())
    seen = legacy_world.seen
    assert ("GET", "/sse", 401) in seen and ("POST", "/messages", 401) in seen
    assert seen.index(("GET", "/sse", 401)) < seen.index(("GET", "/sse", 200))
    assert seen.index(("POST", "/messages", 401)) < seen.index(("POST", "/messages", 200))
    grants = [g["grant_type"] for g in legacy_world.grants]
    assert grants == ["authorization_code", "refresh_token", "refresh_token"]
    assert legacy_world.authorizations[0]["resource"] == legacy_url


def test_the_http_sse_transport_alone_authorizes_from_nothing(legacy_world: Any, legacy_url: str) -> None:
    """No token at all: the HTTP+SSE GET is refused, the whole flow runs, the stream opens."""

    async def main() -> None:
        auth = provider(legacy_url)
        async with auth, Client(LegacySseTransport(legacy_url, auth=auth), mode="2024-11-05") as client:
            assert (await client.call_tool("echo", {"text": "alone"})).content[0].text == "alone"

    run(main())
    assert legacy_world.seen[:2] == [("GET", "/sse", 401), ("GET", "/sse", 200)]
    assert [g["grant_type"] for g in legacy_world.grants] == ["authorization_code"]


def test_the_http_sse_transport_fails_clearly_when_refused(legacy_world: Any, legacy_url: str) -> None:
    legacy_world.refuse_tokens = True

    async def main() -> None:
        auth = provider(legacy_url)
        async with auth:
            with pytest.raises(AuthorizationFailed) as failure:  # at start(): the flow's own error
                async with Client(LegacySseTransport(legacy_url, auth=auth), mode="2024-11-05"):
                    pass
            assert "refused the token" in str(failure.value)

    run(main())
    assert legacy_world.seen.count(("GET", "/sse", 401)) == 2  # without a token; with the new one: stop
