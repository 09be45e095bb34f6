"""Token requests: client authentication, DPoP nonce retry, and the grants that need no user.

`token_request` POSTs a grant to a token endpoint with the client authenticated by the method the
registration or the server's metadata says (`client_secret_basic`, `client_secret_post`, `none`,
`private_key_jwt`), a DPoP proof when the provider binds tokens, one retry with the server's nonce on
`use_dpop_nonce`, and the answer checked. The grants without a user: client credentials (SEP-1046),
JWT bearer (RFC 7523; workload identity), and enterprise-managed authorization (SEP-990: an RFC 8693
token exchange at the identity provider for an ID-JAG, then a JWT bearer grant with it).
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from joserfc import jwt
from joserfc.jwk import import_key

from .discovery import ServerMetadata, require_safe_endpoint
from .dpop import DPoPKey
from .errors import OAuthError, TokenEndpointError
from .tokens import ClientInfo, Tokens
from .web import AuthHttp

__all__ = [
    "JWT_BEARER",
    "TOKEN_EXCHANGE",
    "ClientCredentials",
    "JwtBearer",
    "EnterpriseManaged",
    "PrivateKey",
    "auth_method",
    "token_request",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"
_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"


@dataclass(frozen=True)
class PrivateKey:
    """A client's key for `private_key_jwt` (RFC 7523 2.2): PEM text and its JWS algorithm."""

    pem: str
    algorithm: str = "ES256"


def auth_method(client: ClientInfo, metadata: ServerMetadata, key: PrivateKey | None = None) -> str:
    """The token endpoint authentication method: the registration's, else the best the server lists
    that this client can do (a key, then a secret by Basic then by POST, else none)."""
    if client.auth_method:
        return client.auth_method
    supported = metadata.token_endpoint_auth_methods_supported or ["client_secret_basic"]
    options = ["private_key_jwt"] if key is not None else []
    options += ["client_secret_basic", "client_secret_post"] if client.client_secret else []
    options.append("none")
    for method in options:
        if method in supported:
            return method
    raise OAuthError(
        f"the authorization server {metadata.issuer} accepts none of this client's token endpoint"
        f" authentication methods ({', '.join(options)}); it lists {', '.join(supported)}"
    )


def _assertion(client_id: str, audience: str, key: PrivateKey) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(24),
    }
    try:
        if key.algorithm.startswith("ES"):
            signing: Any = import_key(key.pem, "EC")
        elif key.algorithm == "EdDSA":
            signing = import_key(key.pem, "OKP")
        else:
            signing = import_key(key.pem, "RSA")
    except Exception as exc:  # joserfc raises several kinds for a bad PEM
        raise OAuthError(f"the client's private key could not be read: {exc}") from None
    return jwt.encode({"alg": key.algorithm, "typ": "JWT"}, claims, signing, algorithms=[key.algorithm])


def _authenticate(
    client: ClientInfo, metadata: ServerMetadata, form: dict[str, str], key: PrivateKey | None
) -> dict[str, str]:
    method = auth_method(client, metadata, key)
    headers: dict[str, str] = {}
    if method == "client_secret_basic":
        if not client.client_secret:
            raise OAuthError("client_secret_basic needs a client secret, and this client has none")
        # RFC 6749 2.3.1: each part form-urlencoded before Base64.
        pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    elif method == "client_secret_post":
        if not client.client_secret:
            raise OAuthError("client_secret_post needs a client secret, and this client has none")
        form["client_id"] = client.client_id
        form["client_secret"] = client.client_secret
    elif method == "private_key_jwt":
        if key is None:
            raise OAuthError("private_key_jwt needs a private key, and this client has none")
        form["client_assertion_type"] = _ASSERTION_TYPE
        form["client_assertion"] = _assertion(client.client_id, metadata.issuer, key)
    elif method == "none":
        form["client_id"] = client.client_id
    else:
        raise OAuthError(f"unsupported token endpoint authentication method {method!r}")
    return headers


async def token_request(
    http: AuthHttp,
    metadata: ServerMetadata,
    client: ClientInfo | None,
    form: Mapping[str, str],
    *,
    dpop: DPoPKey | None = None,
    key: PrivateKey | None = None,
) -> Tokens:
    """POST a grant to the token endpoint; the tokens, or TokenEndpointError / OAuthError."""
    url = metadata.token_endpoint
    require_safe_endpoint(metadata.issuer, "token_endpoint", url)  # (codes, secrets, assertions)
    for attempt in range(2):
        body = dict(form)
        headers = _authenticate(client, metadata, body, key) if client is not None else {}
        if dpop is not None:
            headers["dpop"] = dpop.proof("POST", url)
        reply = await http.post_form(url, body, headers)
        nonce = reply.headers.get("dpop-nonce")
        if dpop is not None and nonce:
            dpop.remember_nonce(url, nonce)
        if reply.status == 200 and reply.body is not None:
            return _tokens(reply.body, url, metadata.issuer, dpop)
        error = reply.body or {}
        code = error.get("error") if isinstance(error.get("error"), str) else ""
        description = error.get("error_description")
        if attempt == 0 and dpop is not None and code == "use_dpop_nonce" and nonce:
            continue  # RFC 9449 8: once more, with the nonce the server gave
        raise TokenEndpointError(
            url,
            reply.status,
            str(code or "no OAuth error"),
            description if isinstance(description, str) else "",
            reply.headers,
        )
    raise AssertionError("unreachable")


def _tokens(body: dict[str, Any], url: str, issuer: str, dpop: DPoPKey | None) -> Tokens:
    token, kind = body.get("access_token"), body.get("token_type")
    if not isinstance(token, str) or not token or not isinstance(kind, str):
        raise OAuthError(f"the token endpoint {url} answered without an access_token and token_type")
    if kind.lower() not in ("bearer", "dpop"):
        raise OAuthError(f"the token endpoint {url} issued a token of unsupported type {kind!r}")
    if kind.lower() == "dpop" and dpop is None:
        raise OAuthError(f"the token endpoint {url} issued a DPoP token to a client that sent no proof")
    expires_in = body.get("expires_in")
    lifetime = expires_in if isinstance(expires_in, int | float) and expires_in > 0 else None
    refresh, scope = body.get("refresh_token"), body.get("scope")
    return Tokens(
        access_token=token,
        token_type="DPoP" if kind.lower() == "dpop" else "Bearer",
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=time.time() + lifetime if lifetime is not None else None,
        scope=scope if isinstance(scope, str) else None,
        issuer=issuer,
    )


# -- grants without a user -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantContext:
    """What a grant has to work with once discovery is done."""

    http: AuthHttp
    metadata: ServerMetadata
    resource: str
    scope: str | None
    dpop: DPoPKey | None


def _common(ctx: GrantContext, grant_type: str) -> dict[str, str]:
    form = {"grant_type": grant_type, "resource": ctx.resource}
    if ctx.scope:
        form["scope"] = ctx.scope
    return form


@dataclass(frozen=True)
class ClientCredentials:
    """The client credentials grant (the OAuth client credentials extension, SEP-1046): a machine
    client authenticated by a secret or by a private key (`private_key_jwt`)."""

    client_id: str
    client_secret: str | None = None
    private_key: PrivateKey | None = None

    async def obtain(self, ctx: GrantContext) -> Tokens:
        client = ClientInfo(self.client_id, self.client_secret)
        form = _common(ctx, "client_credentials")
        return await token_request(ctx.http, ctx.metadata, client, form, dpop=ctx.dpop, key=self.private_key)


@dataclass(frozen=True)
class JwtBearer:
    """The JWT bearer grant (RFC 7523 2.1) with an assertion from elsewhere: a workload identity token
    (SEP-1933), read afresh for each grant. A refusal is final: no retry, no other grant."""

    client_id: str
    assertion: Callable[[], Awaitable[str]]
    client_secret: str | None = None

    async def obtain(self, ctx: GrantContext) -> Tokens:
        form = _common(ctx, JWT_BEARER)
        form["assertion"] = await self.assertion()
        client = ClientInfo(self.client_id, self.client_secret)
        return await token_request(ctx.http, ctx.metadata, client, form, dpop=ctx.dpop)


@dataclass(frozen=True)
class EnterpriseManaged:
    """Enterprise-managed authorization (SEP-990): the user's ID token from the enterprise identity
    provider is exchanged there (RFC 8693) for an ID-JAG naming this authorization server and
    resource, which the authorization server takes in a JWT bearer grant."""

    client_id: str
    client_secret: str | None
    idp_token_endpoint: str
    idp_client_id: str
    id_token: Callable[[], Awaitable[str]]
    idp_client_secret: str | None = None

    async def obtain(self, ctx: GrantContext) -> Tokens:
        exchange = {
            "grant_type": TOKEN_EXCHANGE,
            "requested_token_type": _ID_JAG,
            "subject_token": await self.id_token(),
            "subject_token_type": _ID_TOKEN,
            "audience": ctx.metadata.issuer,
            "resource": ctx.resource,
        }
        if ctx.scope:
            exchange["scope"] = ctx.scope
        idp = ServerMetadata(issuer=self.idp_token_endpoint, token_endpoint=self.idp_token_endpoint)
        idp_client = ClientInfo(
            self.idp_client_id,
            self.idp_client_secret,
            "client_secret_basic" if self.idp_client_secret else "none",
        )
        reply = await ctx.http.post_form(
            self.idp_token_endpoint, exchange, _authenticate(idp_client, idp, exchange, None)
        )
        body = reply.body or {}
        jag = body.get("access_token")
        if reply.status != 200 or not isinstance(jag, str) or body.get("issued_token_type") != _ID_JAG:
            raise OAuthError(
                f"the identity provider's token exchange at {self.idp_token_endpoint} gave no ID-JAG"
                f" (HTTP {reply.status} {body.get('error', '')})"
            )
        form = _common(ctx, JWT_BEARER)
        form["assertion"] = jag
        client = ClientInfo(self.client_id, self.client_secret)
        return await token_request(ctx.http, ctx.metadata, client, form, dpop=ctx.dpop)
