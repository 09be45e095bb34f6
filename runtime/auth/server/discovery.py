"""What the resource server learns from its authorization server's metadata (RFC 8414, or OpenID Connect
Discovery): where the JWKS and the introspection endpoint are, so that only the issuer need be configured.

    verifier = await jwt_verifier_for("https://auth.example.com", audience="https://mcp.example.com/mcp")

The metadata URLs are tried in the order the MCP specification gives clients (RFC 8414 with path
insertion, OpenID Connect with path insertion, OpenID Connect appended); the document's `issuer` must be
the configured issuer exactly, and the endpoints it names absolute http(s) URLs, or nothing is used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from .fetch import fetch_json
from .jwt import JwtVerifier
from .verify import VerifierUnavailable

__all__ = ["authorization_server_metadata", "metadata_urls", "jwt_verifier_for"]


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata may be, in the order to try."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [
            f"{origin}/.well-known/oauth-authorization-server",
            f"{origin}/.well-known/openid-configuration",
        ]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


async def authorization_server_metadata(
    issuer: str, *, http: httpx.AsyncClient | None = None, timeout: float = 5.0
) -> dict[str, Any]:
    """The first metadata document found for `issuer` whose `issuer` is exactly it; raises
    `VerifierUnavailable` saying why when there is none."""
    client = http or httpx.AsyncClient(follow_redirects=False)
    failures: list[str] = []
    try:
        for url in metadata_urls(issuer):
            try:
                document = await fetch_json(client, "GET", url, timeout=timeout, what=f"metadata at {url}")
            except VerifierUnavailable as exc:
                failures.append(str(exc))
                continue
            if document.get("issuer") != issuer:
                failures.append(f"metadata at {url}: its issuer is not {issuer!r}")
                continue
            return document
    finally:
        if http is None:
            await client.aclose()
    raise VerifierUnavailable("; ".join(failures))


async def jwt_verifier_for(
    issuer: str, *, audience: str, http: httpx.AsyncClient | None = None, timeout: float = 5.0, **options: Any
) -> JwtVerifier:
    """A `JwtVerifier` for `issuer`'s tokens, its JWKS found in the issuer's metadata (`options` go to
    `JwtVerifier`)."""
    document = await authorization_server_metadata(issuer, http=http, timeout=timeout)
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or urlsplit(jwks_uri).scheme not in ("http", "https"):
        raise VerifierUnavailable(f"the metadata of {issuer} names no usable jwks_uri")
    return JwtVerifier(
        issuer=issuer, audience=audience, jwks_uri=jwks_uri, timeout=timeout, http=http, **options
    )
