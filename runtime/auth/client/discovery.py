"""Discovery: protected resource metadata (RFC 9728), then authorization server metadata (RFC 8414 / OIDC).

The order is the specification's (2025-06-18 onward): the PRM URL from `WWW-Authenticate`
`resource_metadata`, else the path-based well-known URL, else the root one; then, for the first
authorization server the PRM lists, RFC 8414 with path insertion, OpenID Connect with path insertion,
OpenID Connect with path appending (an issuer without a path: RFC 8414, then OpenID Connect). A server
with no PRM at all is treated as a 2025-03-26 server: its origin is the authorization server, and
without metadata its endpoints are the default /authorize, /token and /register. Where the negotiated
revision's text has less (no well-known PRM in 2025-03-26, no OpenID Connect before 2025-11-25), the
provider asks for less (see `revisions`).

What is checked: the PRM `resource` must cover the server URL (same origin, path prefix); the metadata
`issuer` must equal, exactly, the issuer the well-known URL was built from (RFC 8414 3.3); documents
must be JSON objects with the right member types.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from ...errors import quoted
from .errors import OAuthError
from .web import AuthHttp

__all__ = [
    "ResourceMetadata",
    "ServerMetadata",
    "prm_urls",
    "metadata_urls",
    "resource_matches",
    "protected_resource",
    "authorization_server",
    "legacy_server",
    "served_safely",
    "require_safe_endpoint",
]


def served_safely(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine's loopback (a local authorization server, as for tests).
    The spec: "All authorization server endpoints MUST be served over HTTPS"."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https":
        return bool(parts.netloc)
    return scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


def require_safe_endpoint(issuer: str, name: str, url: str) -> None:
    """OAuthError unless `url`, the authorization server's endpoint `name`, is `served_safely`: the
    client sends it codes, secrets and assertions, or the user's browser (the metadata is the
    authorization server's, or any MCP server's that names it)."""
    if not served_safely(url):
        raise OAuthError(
            f"the authorization server {issuer} names a {name} that is not HTTPS: {quoted(url)}: refused"
        )


class ResourceMetadata(msgspec.Struct, frozen=True):
    resource: str | None = None
    authorization_servers: list[str] = []
    scopes_supported: list[str] | None = None


class ServerMetadata(msgspec.Struct, frozen=True):
    issuer: str
    token_endpoint: str
    authorization_endpoint: str | None = None
    registration_endpoint: str | None = None
    scopes_supported: list[str] | None = None
    response_types_supported: list[str] | None = None
    grant_types_supported: list[str] | None = None
    code_challenge_methods_supported: list[str] | None = None
    token_endpoint_auth_methods_supported: list[str] | None = None
    token_endpoint_auth_signing_alg_values_supported: list[str] | None = None
    client_id_metadata_document_supported: bool = False
    authorization_response_iss_parameter_supported: bool = False
    dpop_signing_alg_values_supported: list[str] | None = None


def _strip(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def prm_urls(server_url: str, from_header: str | None, well_known: bool = True) -> list[str]:
    """Where to look for the protected resource metadata, in order (`well_known`: beyond the URL
    the challenge names)."""
    scheme, netloc, path = _strip(server_url)
    urls = [from_header] if from_header else []
    if not well_known:
        return urls
    if path:
        urls.append(urlunsplit((scheme, netloc, "/.well-known/oauth-protected-resource" + path, "", "")))
    urls.append(urlunsplit((scheme, netloc, "/.well-known/oauth-protected-resource", "", "")))
    return urls


def metadata_urls(issuer: str, openid: bool = True) -> list[str]:
    """Where to look for an authorization server's metadata, in order (2025-11-25 "Authorization
    Server Metadata Discovery"; without `openid`, RFC 8414's location only)."""
    scheme, netloc, path = _strip(issuer)

    def url(path: str) -> str:
        return urlunsplit((scheme, netloc, path, "", ""))

    if not openid:
        return [url("/.well-known/oauth-authorization-server" + path)]
    if not path:
        return [url("/.well-known/oauth-authorization-server"), url("/.well-known/openid-configuration")]
    return [
        url("/.well-known/oauth-authorization-server" + path),
        url("/.well-known/openid-configuration" + path),
        url(path + "/.well-known/openid-configuration"),
    ]


def resource_matches(server_url: str, resource: str) -> bool:
    """Whether a PRM `resource` covers the server URL: same scheme and authority, and its path a prefix
    of the server's on a segment boundary (a resource for the whole host covers /mcp)."""
    server, claimed = urlsplit(server_url), urlsplit(resource)
    if (server.scheme.lower(), server.netloc.lower()) != (claimed.scheme.lower(), claimed.netloc.lower()):
        return False
    if claimed.fragment:
        return False
    base, path = claimed.path.rstrip("/"), server.path.rstrip("/")
    return path == base or path.startswith(base + "/")


def _decode(kind: type[Any], body: dict[str, Any], url: str) -> Any:
    try:
        return msgspec.convert(body, kind, strict=True)
    except msgspec.ValidationError as exc:
        raise OAuthError(f"the metadata at {url} is malformed: {exc}") from None


async def protected_resource(
    http: AuthHttp, server_url: str, from_header: str | None, *, well_known: bool = True
) -> ResourceMetadata | None:
    """The PRM of `server_url` (checked), or None when no well-known location has one."""
    for url in prm_urls(server_url, from_header, well_known):
        reply = await http.get_json(url)
        if reply.status != 200:
            if url == from_header and reply.status >= 500:
                raise OAuthError(f"the protected resource metadata at {url} answered HTTP {reply.status}")
            continue
        if reply.body is None:
            raise OAuthError(f"the protected resource metadata at {url} is not a JSON object")
        prm: ResourceMetadata = _decode(ResourceMetadata, reply.body, url)
        if prm.resource is not None and not resource_matches(server_url, prm.resource):
            raise OAuthError(
                f"the protected resource metadata at {url} is for {prm.resource!r}, not for {server_url!r}:"
                " refused (RFC 9728 3.3)"
            )
        if not prm.authorization_servers:
            raise OAuthError(f"the protected resource metadata at {url} names no authorization server")
        return prm
    return None


async def authorization_server(
    http: AuthHttp, issuer: str, *, openid: bool = True, headers: Mapping[str, str] | None = None
) -> ServerMetadata | None:
    """The metadata of the authorization server `issuer`, or None when no well-known location has it
    (`headers`: sent along, 2025-03-26's `MCP-Protocol-Version`)."""
    for url in metadata_urls(issuer, openid):
        reply = await http.get_json(url, headers)
        if reply.status != 200:
            continue
        if reply.body is None:
            raise OAuthError(f"the authorization server metadata at {url} is not a JSON object")
        metadata: ServerMetadata = _decode(ServerMetadata, reply.body, url)
        if metadata.issuer != issuer:
            raise OAuthError(
                f"the authorization server metadata at {url} names the issuer {metadata.issuer!r}, not"
                f" {issuer!r}: refused (RFC 8414 3.3)"
            )
        return metadata
    return None


def legacy_server(server_url: str) -> ServerMetadata:
    """A 2025-03-26 server without metadata: the default endpoints at its origin."""
    scheme, netloc, _ = _strip(server_url)
    base = urlunsplit((scheme, netloc, "", "", ""))
    return ServerMetadata(
        issuer=base,
        authorization_endpoint=base + "/authorize",
        token_endpoint=base + "/token",
        registration_endpoint=base + "/register",
        code_challenge_methods_supported=["S256"],
    )
