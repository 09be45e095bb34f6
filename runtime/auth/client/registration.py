"""How the client gets a client id at an authorization server, in the specification's order of preference.

1. A pre-registration for that authorization server (or one given for any server).
2. A Client ID Metadata Document: the client's HTTPS metadata URL is its client id, when the server
   says `client_id_metadata_document_supported`.
3. Dynamic Client Registration (RFC 7591) at the server's `registration_endpoint`.
A registration belongs to the server that made it: it is stored by issuer and never offered elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .discovery import ServerMetadata, require_safe_endpoint
from .errors import OAuthError
from .tokens import ClientInfo
from .web import AuthHttp

__all__ = ["register", "dcr_auth_method"]


def dcr_auth_method(metadata: ServerMetadata) -> str:
    """What to ask for at registration: a public client (PKCE protects it) where the server allows it."""
    supported = metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    for method in ("none", "client_secret_basic", "client_secret_post"):
        if method in supported:
            return method
    return supported[0]


async def register(
    http: AuthHttp,
    metadata: ServerMetadata,
    *,
    preregistered: Mapping[str, ClientInfo],
    metadata_url: str | None,
    client_name: str,
    redirect_uri: str | None,
    grant_types: list[str],
    scope: str | None,
) -> ClientInfo:
    known = preregistered.get(metadata.issuer) or preregistered.get("*")
    if known is not None:
        return ClientInfo(known.client_id, known.client_secret, known.auth_method, metadata.issuer)
    if metadata_url is not None and metadata.client_id_metadata_document_supported:
        return ClientInfo(metadata_url, None, "none", metadata.issuer)
    if metadata.registration_endpoint is None:
        raise OAuthError(
            f"the authorization server {metadata.issuer} offers no way to register this client (no"
            " Client ID Metadata Document support, no registration_endpoint) and no client id is"
            " configured for it"
        )
    method = dcr_auth_method(metadata)
    body: dict[str, object] = {
        "client_name": client_name,
        "grant_types": grant_types,
        "response_types": ["code"] if "authorization_code" in grant_types else [],
        "token_endpoint_auth_method": method,
        # SEP-837: a client on the user's machine (loopback redirect) is a native application.
        "application_type": "native" if _loopback(redirect_uri) else "web",
    }
    if redirect_uri is not None:
        body["redirect_uris"] = [redirect_uri]
    if scope:
        body["scope"] = scope
    require_safe_endpoint(metadata.issuer, "registration_endpoint", metadata.registration_endpoint)
    reply = await http.post_json(metadata.registration_endpoint, body)
    answer = reply.body or {}
    client_id = answer.get("client_id")
    if reply.status not in (200, 201) or not isinstance(client_id, str) or not client_id:
        error = answer.get("error", "")
        raise OAuthError(
            f"dynamic client registration at {metadata.registration_endpoint} failed: HTTP {reply.status}"
            + (f" {error}" if error else "")
        )
    secret = answer.get("client_secret")
    granted = answer.get("token_endpoint_auth_method")
    return ClientInfo(
        client_id,
        secret if isinstance(secret, str) and secret else None,
        granted if isinstance(granted, str) else method,
        metadata.issuer,
    )


def _loopback(uri: str | None) -> bool:
    if uri is None:
        return True
    host = urlsplit(uri).hostname or ""
    return host in ("localhost", "127.0.0.1", "::1") or urlsplit(uri).scheme not in ("http", "https")
