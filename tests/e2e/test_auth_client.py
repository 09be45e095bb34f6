"""The OAuth client end to end: mcpbind's `Client` with an `OAuthClientProvider` against a real loopback
authorization server and protected MCP endpoint (tests/servers/oauth_world.py under uvicorn), in both
eras: discovery, dynamic registration, authorization code with PKCE and `resource`, token reuse,
refresh, a file token store, and an authorization server that is slow, answers garbage or redirects
its metadata to another origin (each a clear error, the client process unharmed)."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client import (
    ClientCredentials,
    FileTokenStore,
    FollowRedirect,
    LoopbackBrowser,
    MemoryTokenStore,
    OAuthClientProvider,
    PrivateKey,
)
from mcpbind.auth.client.web import AuthHttp
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Server

from ..http_support import MODERN, SERVERS, free_port, load_script, serve_in_process

OAuthWorld = load_script(str(SERVERS / "oauth_world.py"), "oauth_world").OAuthWorld

MODES = ("2025-11-25", MODERN, "auto")


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def make_server() -> Server:
    server = Server("oauth-protected")

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server


@pytest.fixture
def world() -> Any:
    return OAuthWorld(make_server().http_app())


@pytest.fixture
def url(world: Any) -> Iterator[str]:
    with serve_in_process(world) as address:
        yield address


def provider(url: str, **options: Any) -> OAuthClientProvider:
    http = AuthHttp(timeout=options.pop("timeout", 15.0))
    return OAuthClientProvider(url, redirect=FollowRedirect(http), http=http, **options)


@pytest.mark.parametrize("mode", MODES)
def test_the_flow_authorizes_once_and_the_token_is_reused(world: Any, url: str, mode: str) -> None:
    async def main() -> None:
        auth = provider(url)
        try:
            async with Client.http(url, mode=mode, auth=auth, request_timeout=30) as client:
                assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"
                assert (await client.call_tool("echo", {"text": "again"})).content[0].text == "again"
        finally:
            await auth.aclose()

    run(main())
    assert len(world.registrations) == 1
    assert world.registrations[0]["redirect_uris"] == ["http://localhost:3000/callback"]
    assert len(world.authorizations) == 1  # one flow for every request after it
    [request] = world.authorizations
    assert request["code_challenge_method"] == "S256" and request["resource"] == url
    assert "scope" not in request  # no scope named anywhere: none asked for
    assert [g["grant_type"] for g in world.grants] == ["authorization_code"]  # PKCE checked by the AS


def test_the_cli_way_a_browser_and_a_loopback_redirect(url: str, world: Any, tmp_path: Path) -> None:
    """LoopbackBrowser as `mcpbind` uses it, with a "browser" that follows the authorization server's
    redirect to the loopback listener (a person would click "allow" in between)."""
    opened: list[str] = []

    def browser(address: str) -> None:
        opened.append(address)
        httpx.get(address, follow_redirects=True, timeout=15).raise_for_status()

    port = free_port()

    async def main() -> str:
        redirect = LoopbackBrowser(port=port, timeout=30, open_url=browser)
        auth = OAuthClientProvider(url, redirect=redirect, store=FileTokenStore(tmp_path / "t.json"))
        async with auth, Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
            return str((await client.call_tool("echo", {"text": "cli"})).content[0].text)

    assert run(main()) == "cli"
    assert len(opened) == 1 and opened[0].startswith(url.removesuffix("/mcp") + "/authorize?")
    assert world.registrations[0]["redirect_uris"] == [f"http://127.0.0.1:{port}/callback"]
    assert world.registrations[0]["application_type"] == "native"


def test_an_expired_token_is_refreshed_without_the_user(url: str, world: Any) -> None:
    world.expires_in = 5  # inside the client's expiry margin: expired as soon as it is issued

    async def main() -> None:
        auth = provider(url)
        try:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                await client.call_tool("echo", {"text": "one"})
                first = auth.tokens
                await client.call_tool("echo", {"text": "two"})
                assert auth.tokens is not None and first is not None
                assert auth.tokens.access_token != first.access_token
        finally:
            await auth.aclose()

    run(main())
    assert len(world.authorizations) == 1
    assert [g["grant_type"] for g in world.grants][-1] == "refresh_token"
    assert world.grants[-1]["resource"] == url


def test_requests_refused_together_wait_for_one_flow(url: str, world: Any) -> None:
    async def main() -> list[str]:
        auth = provider(url)
        try:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                await client.call_tool("echo", {"text": "first"})
                world.tokens.clear()  # the server forgets every access token it issued
                calls = [client.call_tool("echo", {"text": str(i)}) for i in range(5)]
                return [str(r.content[0].text) for r in await asyncio.gather(*calls)]
        finally:
            await auth.aclose()

    assert run(main()) == ["0", "1", "2", "3", "4"]
    # One refresh for all five refused requests (the refresh token still works), no second login.
    assert [g["grant_type"] for g in world.grants] == ["authorization_code", "refresh_token"]
    assert len(world.authorizations) == 1


def test_a_refreshed_token_refused_at_once_sends_the_user_again(url: str, world: Any) -> None:
    world.dud_refresh = True

    async def main() -> None:
        async with provider(url) as auth:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                await client.call_tool("echo", {"text": "first"})
                world.tokens.clear()
                await client.call_tool("echo", {"text": "second"})

    run(main())
    assert [g["grant_type"] for g in world.grants] == [
        "authorization_code",
        "refresh_token",
        "authorization_code",
    ]
    assert len(world.authorizations) == 2


def test_a_file_store_keeps_tokens_for_the_next_process(url: str, world: Any, tmp_path: Path) -> None:
    path = tmp_path / "state" / "oauth.json"

    async def once() -> None:
        auth = provider(url, store=FileTokenStore(path))
        try:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                await client.call_tool("echo", {"text": "x"})
        finally:
            await auth.aclose()

    run(once())
    run(once())
    assert len(world.authorizations) == 1  # the second provider started from the file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="readable by others"):
        run(FileTokenStore(path).load("anything"))


def refused(url: str, **options: Any) -> str:
    """Connect through a provider expected to fail; the error's message."""

    async def main() -> str:
        auth = provider(url, **options)
        try:
            with pytest.raises(McpError) as caught:
                async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                    await client.call_tool("echo", {"text": "x"})
            return caught.value.message
        finally:
            await auth.aclose()

    message: str = run(main())
    return message


def test_a_slow_authorization_server_fails_the_request_in_time(url: str, world: Any) -> None:
    world.metadata_delay = 5.0
    message = refused(url, timeout=0.5)
    assert "authorization failed" in message and "no answer within 0.5 s" in message
    assert not world.authorizations


def test_garbage_metadata_is_refused(url: str, world: Any) -> None:
    world.metadata_body = b"<html>not metadata</html>"
    assert "is not a JSON object" in refused(url)
    world.metadata_body = b'{"issuer": 7, "token_endpoint": []}'
    assert "is malformed" in refused(url)
    assert not world.registrations and not world.authorizations


def test_metadata_redirected_to_another_origin_is_refused(url: str, world: Any) -> None:
    elsewhere = url.replace("127.0.0.1", "localhost").replace(
        "/mcp", "/.well-known/oauth-authorization-server"
    )
    world.metadata_redirect = elsewhere
    assert "redirects to another origin" in refused(url)
    assert not world.registrations and not world.authorizations


@pytest.mark.parametrize("issuer", ["https://attacker.example.com", "{base}/", "{base_upper}"])
def test_metadata_naming_another_issuer_is_refused(url: str, world: Any, issuer: str) -> None:
    base = url.removesuffix("/mcp")
    world.metadata_issuer = issuer.format(base=base, base_upper=base.upper())
    assert "RFC 8414" in refused(url)
    assert not world.registrations and not world.authorizations


def test_a_preregistered_client_is_not_shown_to_another_authorization_server(url: str, world: Any) -> None:
    store = MemoryTokenStore()
    # A previous run used the configured client id with another authorization server (the store
    # remembers which), and the resource now names this one.
    run(store.save(f"preregistered|{url}", {"issuer": "https://old-as.example.com"}))
    message = refused(url, client_id="pre", client_secret="s3cret", store=store)
    assert "not presenting it there" in message
    assert not world.authorizations and not world.grants


def test_a_preregistered_client_is_used_without_registering(url: str, world: Any) -> None:
    async def main() -> None:
        async with provider(url, client_id="pre") as auth:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                await client.call_tool("echo", {"text": "x"})

    run(main())
    assert not world.registrations
    assert world.authorizations[0]["client_id"] == "pre" and world.grants[0]["client_id"] == "pre"


@pytest.mark.parametrize("signed_by", ["the client", "another key"])
def test_client_credentials_with_a_private_key_jwt(url: str, world: Any, signed_by: str) -> None:
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256")
    world.auth_methods = ["private_key_jwt"]
    world.client_keys["machine"] = key if signed_by == "the client" else ECKey.generate_key("P-256")
    pem = key.as_pem(private=True).decode()
    grant = ClientCredentials("machine", private_key=PrivateKey(pem, "ES256"))

    async def main() -> str:
        async with OAuthClientProvider(url, grant=grant) as auth:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                return str((await client.call_tool("echo", {"text": "m2m"})).content[0].text)

    if signed_by == "the client":
        assert run(main()) == "m2m"
    else:
        with pytest.raises(McpError, match="invalid_grant"):
            run(main())
    assert [g["grant_type"] for g in world.grants] == ["client_credentials"]  # no retry, no other grant
    assert world.grants[0]["resource"] == url and not world.authorizations and not world.registrations


def test_a_token_refused_as_soon_as_issued_ends_in_an_error_not_a_loop(url: str, world: Any) -> None:
    world.refuse_tokens = True
    assert "refused the token it was just issued" in refused(url)
    assert len(world.authorizations) == 1


def test_after_a_refusal_the_same_client_process_serves_a_good_flow(url: str, world: Any) -> None:
    world.metadata_body = b"garbage"
    refused(url)
    world.metadata_body = None

    async def main() -> str:
        auth = provider(url)
        try:
            async with Client.http(url, mode=MODERN, auth=auth, request_timeout=30) as client:
                result = await client.call_tool("echo", {"text": "fine"})
                return str(result.content[0].text)
        finally:
            await auth.aclose()

    assert run(main()) == "fine"
