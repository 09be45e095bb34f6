"""The client's authorization rules per negotiated revision (mcpbind.auth.client.revisions), and the
discovery and PKCE decisions they switch: pure, no network."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client.discovery import ServerMetadata, metadata_urls, prm_urls
from mcpbind.auth.client.errors import OAuthError
from mcpbind.auth.client.flow import authorization_url
from mcpbind.auth.client.revisions import Rules, rules

ISSUER = "https://as.example.com/tenant"


def test_each_revision_has_its_texts_rules() -> None:
    newest = Rules()
    assert rules(None) == rules("2026-07-28") == newest  # unknown yet: the newest text
    assert rules("2099-01-01") == newest  # a revision newer than this table: the newest known
    march = rules("2025-03-26")
    assert not march.well_known_prm and march.protocol_version_header and not march.openid_discovery
    assert (
        not march.client_id_metadata_documents and not march.pkce_must_be_listed and not march.offline_access
    )
    assert rules("2024-11-05") == march  # no authorization text of its own
    june = rules("2025-06-18")
    assert june.well_known_prm and not june.protocol_version_header and not june.openid_discovery
    assert not june.client_id_metadata_documents and not june.pkce_must_be_listed
    november = rules("2025-11-25")
    assert (
        november.openid_discovery and november.client_id_metadata_documents and november.pkce_must_be_listed
    )
    assert not november.offline_access and newest.offline_access


def test_discovery_asks_for_less_where_the_text_has_less() -> None:
    server = "https://mcp.example.com/v1/mcp"
    header = "https://mcp.example.com/.well-known/oauth-protected-resource/v1/mcp"
    assert prm_urls(server, header, well_known=False) == [header]
    assert prm_urls(server, None, well_known=False) == []
    assert len(prm_urls(server, None)) == 2
    assert metadata_urls(ISSUER, openid=False) == [
        "https://as.example.com/.well-known/oauth-authorization-server/tenant"
    ]
    assert metadata_urls("https://as.example.com", openid=False) == [
        "https://as.example.com/.well-known/oauth-authorization-server"
    ]
    assert any("openid-configuration" in url for url in metadata_urls(ISSUER))


def metadata(methods: list[str] | None) -> ServerMetadata:
    return ServerMetadata(
        issuer=ISSUER,
        token_endpoint=f"{ISSUER}/token",
        authorization_endpoint=f"{ISSUER}/authorize",
        code_challenge_methods_supported=methods,
    )


def url(methods: list[str] | None, *, listed: bool) -> str:
    return authorization_url(
        metadata(methods),
        "client",
        "http://127.0.0.1:3000/callback",
        challenge="c" * 43,
        state="s",
        resource="https://mcp.example.com/mcp",
        scope=None,
        pkce_must_be_listed=listed,
    )


def test_pkce_methods_unlisted_are_refused_only_from_2025_11_25() -> None:
    with pytest.raises(OAuthError, match="S256"):
        url(None, listed=True)
    query = parse_qs(urlsplit(url(None, listed=False)).query)
    assert query["code_challenge_method"] == ["S256"]  # an older text: S256 all the same
    for listed in (True, False):  # a list without S256 is refused under every revision
        with pytest.raises(OAuthError, match="S256"):
            url(["plain"], listed=listed)
