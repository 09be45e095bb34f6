"""The OAuth client sends codes, client secrets and assertions to the authorization server's token and
registration endpoints: the spec (2025-11-25, basic/authorization, Communication Security) says "All
authorization server endpoints MUST be served over HTTPS". An endpoint that is not HTTPS (plain HTTP to
this machine's loopback aside) is refused before anything is sent: no connection is made at all (the
hosts below do not exist; the HTTP client would fail on them otherwise, with another error)."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("httpx")

from mcpbind.auth.client.discovery import ServerMetadata, served_safely
from mcpbind.auth.client.errors import OAuthError
from mcpbind.auth.client.grants import token_request
from mcpbind.auth.client.registration import register
from mcpbind.auth.client.tokens import ClientInfo
from mcpbind.auth.client.web import AuthHttp

HOSTILE = ["http://auth.invalid/x", "file:///etc/passwd", "ftp://auth.invalid/x", "https:///x", "x"]


@pytest.mark.parametrize("url", HOSTILE)
def test_a_token_endpoint_that_is_not_https_is_refused_before_sending(url: str) -> None:
    metadata = ServerMetadata(issuer="https://as.invalid", token_endpoint=url)
    client = ClientInfo("id", "secret", "client_secret_post", "https://as.invalid")

    async def main() -> None:
        http = AuthHttp()
        try:
            with pytest.raises(OAuthError, match="token_endpoint that is not HTTPS"):
                await token_request(http, metadata, client, {"grant_type": "client_credentials"})
        finally:
            await http.close()

    asyncio.run(main())


@pytest.mark.parametrize("url", HOSTILE)
def test_a_registration_endpoint_that_is_not_https_is_refused_before_sending(url: str) -> None:
    metadata = ServerMetadata(
        issuer="https://as.invalid", token_endpoint="https://as.invalid/token", registration_endpoint=url
    )

    async def main() -> None:
        http = AuthHttp()
        try:
            with pytest.raises(OAuthError, match="registration_endpoint that is not HTTPS"):
                await register(
                    http,
                    metadata,
                    preregistered={},
                    metadata_url=None,
                    client_name="c",
                    redirect_uri="http://127.0.0.1:1/cb",
                    grant_types=["authorization_code"],
                    scope=None,
                )
        finally:
            await http.close()

    asyncio.run(main())


def test_loopback_http_and_https_are_served_safely() -> None:
    for url in ("https://as.example/t", "http://127.0.0.1:8/t", "http://localhost/t", "http://[::1]:9/t"):
        assert served_safely(url), url
    for url in ("http://127.0.0.2.example/t", "http://10.0.0.1/t", *HOSTILE):
        assert not served_safely(url), url
