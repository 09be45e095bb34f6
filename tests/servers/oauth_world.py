"""A small, strict OAuth 2.1 world on loopback for the OAuth client's end-to-end tests.

`OAuthWorld` is one ASGI app that is both an authorization server (RFC 8414 metadata, dynamic
registration, an authorization endpoint that approves at once with a redirect carrying `code`,
`state` and `iss`, a token endpoint checking PKCE S256, the redirect URI, the client and the
`resource`, and refresh tokens) and the protected MCP endpoint (protected resource metadata, and
`/mcp` answering 401 with a `WWW-Authenticate` challenge unless the request carries a token it
issued, then handing the request to mcpbind's `HttpApp`). Knobs make the authorization server slow,
answer garbage or redirect its metadata elsewhere. It records what it saw for the tests to check.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = dict[str, Any]


@dataclass
class OAuthWorld:
    mcp_app: Any
    path: str = "/mcp"
    """Where the protected MCP endpoint is: the resource is this server's origin and `path`."""
    also_protected: tuple[str, ...] = ()
    """More paths handed to `mcp_app` behind the same tokens (a 2024-11-05 server's /messages)."""
    revoke_on: list[tuple[str, str]] = field(default_factory=list)
    """(method, path) pairs: the next request of each that carries a good token finds it revoked
    there and then (as an expired token would be) and is answered 401."""
    scopes: list[str] | None = None
    """The resource's scopes_supported; the authorization server lists them and `offline_access`."""
    metadata_requests: list[dict[str, str]] = field(default_factory=list)
    """The headers of each request for the authorization server's metadata."""
    seen: list[tuple[str, str, int]] = field(default_factory=list)
    """(method, path, 401 or 200 for passed on) of every request to a protected path."""
    expires_in: int = 3600
    metadata_delay: float = 0.0
    metadata_body: bytes | None = None
    """Sent instead of the metadata (garbage)."""
    metadata_redirect: str | None = None
    """Where the metadata URL redirects to, instead of answering."""
    metadata_issuer: str | None = None
    """The issuer the metadata names, instead of its own."""
    refuse_tokens: bool = False
    """/mcp refuses every token, even those just issued."""
    dud_refresh: bool = False
    """Tokens from the refresh grant are refused by /mcp."""
    auth_methods: list[str] = field(default_factory=lambda: ["none"])
    """token_endpoint_auth_methods_supported."""
    client_keys: dict[str, Any] = field(default_factory=dict)
    """client id -> public key (joserfc) of a machine client (client credentials, private_key_jwt)."""
    authorizations: list[dict[str, str]] = field(default_factory=list)
    grants: list[dict[str, str]] = field(default_factory=list)
    registrations: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    """Issued access token -> the resource it is for."""
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _refresh: dict[str, str] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.mcp_app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        base = f"http://{headers['host']}"
        path, method = scope["path"], scope["method"]
        if path == self.path or path in self.also_protected:
            await self._protected(scope, receive, send, headers, base)
        elif path == f"/.well-known/oauth-protected-resource{self.path}":
            prm = {"resource": f"{base}{self.path}", "authorization_servers": [base]}
            await _json(send, 200, prm if self.scopes is None else {**prm, "scopes_supported": self.scopes})
        elif path == "/.well-known/oauth-authorization-server":
            self.metadata_requests.append(headers)
            await self._metadata(send, base)
        elif path == "/register" and method == "POST":
            body = json.loads(await _body(receive))
            self.registrations.append(body)
            client_id = f"client-{len(self.registrations)}"
            answer = {"client_id": client_id, "redirect_uris": body.get("redirect_uris", [])}
            await _json(send, 201, answer)
        elif path == "/authorize" and method == "GET":
            await self._authorize(send, scope, base)
        elif path == "/token" and method == "POST":
            await self._token(send, await _body(receive), base)
        else:
            await _json(send, 404, {"error": "not_found"})

    async def _metadata(self, send: Any, base: str) -> None:
        if self.metadata_delay:
            await asyncio.sleep(self.metadata_delay)
        if self.metadata_redirect is not None:
            await _send(send, 302, b"", [(b"location", self.metadata_redirect.encode())])
            return
        if self.metadata_body is not None:
            await _send(send, 200, self.metadata_body, [(b"content-type", b"application/json")])
            return
        await _json(
            send,
            200,
            {
                "issuer": self.metadata_issuer or base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "registration_endpoint": f"{base}/register",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": self.auth_methods,
                "authorization_response_iss_parameter_supported": True,
                **({} if self.scopes is None else {"scopes_supported": [*self.scopes, "offline_access"]}),
            },
        )

    async def _authorize(self, send: Any, scope: Scope, base: str) -> None:
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        self.authorizations.append(query)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            await _json(send, 400, {"error": "invalid_request"})
            return
        code = secrets.token_urlsafe(16)
        self._codes[code] = query
        answer = {"code": code, "iss": base}
        if "state" in query:  # optional with PKCE (OAuth 2.1 7.12.1): echoed when sent
            answer["state"] = query["state"]
        target = query["redirect_uri"] + "?" + urlencode(answer)
        await _send(send, 302, b"", [(b"location", target.encode())])

    async def _token(self, send: Any, raw: bytes, base: str) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.grants.append(form)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            request = self._codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
            if (
                request is None
                or digest.decode() != request["code_challenge"]
                or form.get("redirect_uri") != request["redirect_uri"]
                or form.get("client_id") != request["client_id"]
                or form.get("resource") != request.get("resource")
            ):
                await _json(send, 400, {"error": "invalid_grant"})
                return
            resource = request["resource"]
        elif grant == "refresh_token" and form.get("refresh_token") in self._refresh:
            resource = self._refresh.pop(form["refresh_token"])
        elif grant == "client_credentials" and self._assertion_ok(form, base):
            resource = form.get("resource", "")
        else:
            await _json(send, 400, {"error": "invalid_grant"})
            return
        token, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        if not (self.dud_refresh and grant == "refresh_token"):
            self.tokens[token] = resource
        self._refresh[refresh] = resource
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        await _json(send, 200, {**answer, "refresh_token": refresh})

    def _assertion_ok(self, form: dict[str, str], base: str) -> bool:
        """RFC 7523 2.2: a client assertion signed by the key of the client it names, for this server."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return False
        assertion = form.get("client_assertion", "")
        try:
            payload = assertion.split(".")[1]
            claimed = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims = jwt.decode(assertion, self.client_keys[claimed["iss"]]).claims
            registry = jwt.JWTClaimsRegistry(aud={"essential": True, "value": base}, exp={"essential": True})
            registry.validate(claims)
        except (JoseError, ValueError, KeyError, IndexError):
            return False
        return bool(claims.get("iss") == claims.get("sub") == claimed["iss"])

    async def _protected(
        self, scope: Scope, receive: Any, send: Any, headers: dict[str, str], base: str
    ) -> None:
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        where = (scope["method"], scope["path"])
        if token is not None and self.tokens.get(token) == f"{base}{self.path}" and where in self.revoke_on:
            self.revoke_on.remove(where)
            del self.tokens[token]
        if token is None or self.tokens.get(token) != f"{base}{self.path}" or self.refuse_tokens:
            self.seen.append((*where, 401))
            metadata = f"{base}/.well-known/oauth-protected-resource{self.path}"
            challenge = f'Bearer resource_metadata="{metadata}"'
            await _send(
                send,
                401,
                b'{"error":"invalid_token"}',
                [(b"www-authenticate", challenge.encode()), (b"content-type", b"application/json")],
            )
            return
        self.seen.append((*where, 200))
        await self.mcp_app(scope, receive, send)


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    head = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


async def _json(send: Any, status: int, value: Any) -> None:
    await _send(send, status, json.dumps(value).encode(), [(b"content-type", b"application/json")])
