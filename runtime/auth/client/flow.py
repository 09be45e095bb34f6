"""The authorization code grant with PKCE (S256), the authorization response's checks, and refresh.

PKCE is S256 only, and a server whose metadata does not list S256 is refused (2025-11-25 onward: "MUST
refuse to proceed"; under an older negotiated revision, metadata listing no methods at all is taken
as S256, see `revisions`). The authorization response is checked in RFC 9207's order: `iss`, when present,
must equal the recorded issuer exactly (no normalisation), and must be present when the server
advertises `authorization_response_iss_parameter_supported`; then `state`; then an error, or the code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from .discovery import ServerMetadata, require_safe_endpoint
from .dpop import DPoPKey
from .errors import OAuthError
from .grants import token_request
from .redirect import UserRedirect
from .tokens import ClientInfo, Tokens
from .web import AuthHttp

__all__ = ["pkce_pair", "authorization_url", "check_callback", "authorize", "refresh"]


def pkce_pair() -> tuple[str, str]:
    """A code verifier (RFC 7636 4.1: 43..128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    metadata: ServerMetadata,
    client_id: str,
    redirect_uri: str,
    *,
    challenge: str,
    state: str,
    resource: str,
    scope: str | None,
    pkce_must_be_listed: bool = True,
) -> str:
    if metadata.authorization_endpoint is None:
        raise OAuthError(f"the authorization server {metadata.issuer} has no authorization_endpoint")
    # The URL goes to the user's browser, or to whatever the system opens for its scheme (`file:`, a
    # custom handler).
    require_safe_endpoint(metadata.issuer, "authorization_endpoint", metadata.authorization_endpoint)
    methods = metadata.code_challenge_methods_supported
    if (methods is None and pkce_must_be_listed) or (methods is not None and "S256" not in methods):
        raise OAuthError(
            f"the authorization server {metadata.issuer} does not list PKCE S256 in"
            " code_challenge_methods_supported: refused"
        )
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "resource": resource,
    }
    if scope:
        params["scope"] = scope
    endpoint = metadata.authorization_endpoint
    return endpoint + ("&" if urlsplit(endpoint).query else "?") + urlencode(params)


def check_callback(callback: str, *, state: str, issuer: str, iss_supported: bool) -> str:
    """The authorization code of a redirect back to the client, or OAuthError."""
    query = parse_qs(urlsplit(callback).query, keep_blank_values=True)
    if any(len(values) > 1 for values in query.values()):
        raise OAuthError("the authorization response repeats a parameter: refused")
    values = {name: v[0] for name, v in query.items()}
    iss = values.get("iss")
    if iss is not None and iss != issuer:
        raise OAuthError(
            f"the authorization response comes from issuer {iss!r}, not {issuer!r}: refused (RFC 9207)"
        )
    if iss is None and iss_supported:
        raise OAuthError(
            f"the authorization server {issuer} advertises the iss parameter but its authorization"
            " response has none: refused (RFC 9207)"
        )
    if values.get("state") != state:
        raise OAuthError("the authorization response's state does not match the request's: refused")
    if "error" in values:
        detail = values.get("error_description")
        raise OAuthError(f"authorization refused: {values['error']}" + (f" ({detail})" if detail else ""))
    code = values.get("code")
    if not code:
        raise OAuthError("the authorization response has no code")
    return code


async def authorize(
    http: AuthHttp,
    metadata: ServerMetadata,
    client: ClientInfo,
    redirect: UserRedirect,
    *,
    resource: str,
    scope: str | None,
    dpop: DPoPKey | None,
    pkce_must_be_listed: bool = True,
) -> Tokens:
    """Send the user to the authorization server, take the code back, exchange it for tokens."""
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    redirect_uri = await redirect.redirect_uri()
    url = authorization_url(
        metadata,
        client.client_id,
        redirect_uri,
        challenge=challenge,
        state=state,
        resource=resource,
        scope=scope,
        pkce_must_be_listed=pkce_must_be_listed,
    )
    callback = await redirect.authorize(url)
    code = check_callback(
        callback,
        state=state,
        issuer=metadata.issuer,
        iss_supported=metadata.authorization_response_iss_parameter_supported,
    )
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "resource": resource,
    }
    return await token_request(http, metadata, client, form, dpop=dpop)


async def refresh(
    http: AuthHttp,
    metadata: ServerMetadata,
    client: ClientInfo | None,
    tokens: Tokens,
    *,
    resource: str,
    dpop: DPoPKey | None,
) -> Tokens:
    """New tokens for a refresh token (the old refresh token is kept when no new one comes)."""
    assert tokens.refresh_token is not None
    form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token, "resource": resource}
    fresh = await token_request(http, metadata, client, form, dpop=dpop)
    if fresh.refresh_token is None:
        fresh.refresh_token = tokens.refresh_token
    if fresh.scope is None:
        fresh.scope = tokens.scope
    return fresh
