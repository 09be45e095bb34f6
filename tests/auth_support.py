"""A real OAuth 2.1 authorization server for the tests, on loopback, and the protected MCP server it serves.

`AuthServer` is an ASGI app under uvicorn (in a thread of the test process) that issues RFC 9068 JWT
access tokens with authlib's `JWTBearerTokenGenerator`, signed by RSA keys it publishes as a JWKS; it has
RFC 8414 metadata, a token endpoint (client credentials, with RFC 8707 `resource`, opaque tokens on
request), RFC 7662 introspection, key rotation, and ways to misbehave (`mode`: slow, garbage, a
malformed JWKS, 500s). Tests also mint tokens directly (`mint`) with any claim or key wrong on purpose.

`protected_server` is an MCP server whose tools tell who calls them and need scopes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from joserfc.jwk import ECKey, KeySet, RSAKey

from mcpbind.server import Context, Server

from .http_support import free_port

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-client-secret"
RS_ID = "mcp-resource-server"
RS_SECRET = "rs-secret"


class _Client:
    """What authlib's generator asks of a client."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def get_client_id(self) -> str:
        return self.client_id


class _Generator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, issuer: str, key: RSAKey, audience: Any, expires_in: int, extra: dict[str, Any]):
        super().__init__(issuer, alg="RS256", expires_generator=expires_in)
        self._key, self._audience, self._extra = key, audience, extra

    def get_jwks(self) -> dict[str, Any]:
        return KeySet([self._key]).as_dict(private=True)

    def get_audiences(self, client: Any, user: Any, scope: Any) -> Any:
        return self._audience

    def get_extra_claims(self, client: Any, grant_type: Any, user: Any, scope: Any) -> dict[str, Any]:
        return self._extra


class AuthServer:
    """The authorization server; `url` is its issuer once `running()`."""

    def __init__(self) -> None:
        self.keys: list[RSAKey] = [RSAKey.generate_key(2048, parameters={"kid": "key-1"})]
        self.url = ""
        self.mode = "ok"
        """ok | slow (answers after `slow_seconds`) | garbage (not JSON) | malformed-jwks | error (500) |
        metadata-issuer (metadata naming another issuer) | metadata-no-jwks (a jwks_uri that is no URL)."""
        self.slow_seconds = 30.0
        self.jwks_fetches = 0
        self.introspections = 0
        self.issued: dict[str, dict[str, Any]] = {}
        """Opaque tokens, to their claims (for introspection)."""
        self.revoked: set[str] = set()

    # -- tokens ---------------------------------------------------------------------------------------

    def mint(
        self,
        audience: Any,
        *,
        scope: str = "",
        client_id: str = CLIENT_ID,
        expires_in: int = 300,
        issuer: str | None = None,
        key: RSAKey | None = None,
        **extra: Any,
    ) -> str:
        """A JWT access token, by authlib's RFC 9068 generator, signed by the current key (or `key`)."""
        generator = _Generator(issuer or self.url, key or self.keys[0], audience, expires_in, extra)
        with warnings.catch_warnings():  # authlib's generator calls its own deprecated key import
            warnings.simplefilter("ignore", AuthlibDeprecationWarning)
            token = generator.access_token_generator(_Client(client_id), "client_credentials", None, scope)
        return token.decode() if isinstance(token, bytes) else str(token)

    def rotate(self, keep_old: bool = True) -> None:
        """A new signing key, published first; the old one stays published only if `keep_old`."""
        new = RSAKey.generate_key(
            2048, parameters={"kid": f"key-{len(self.keys) + 1}-{secrets.token_hex(2)}"}
        )
        self.keys = [new, *self.keys] if keep_old else [new]

    # -- HTTP -----------------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status, answer = await self._answer(scope["method"], scope["path"], headers, body)
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        head = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": data})

    async def _answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any] | bytes]:
        if self.mode == "slow":
            await asyncio.sleep(self.slow_seconds)
        elif self.mode == "garbage":
            return 200, b"\x00<html>not json"
        elif self.mode == "error":
            return 500, {"error": "server_error"}
        if path == "/.well-known/oauth-authorization-server":
            if self.mode == "metadata-issuer":
                return 200, {"issuer": "https://elsewhere.example", "jwks_uri": f"{self.url}/jwks"}
            if self.mode == "metadata-no-jwks":
                return 200, {"issuer": self.url, "jwks_uri": ["not", "a", "url"]}
            return 200, {
                "issuer": self.url,
                # RFC 8414 requires these two even of a server that only issues client credentials.
                "authorization_endpoint": f"{self.url}/authorize",
                "response_types_supported": ["code"],
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "introspection_endpoint": f"{self.url}/introspect",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            }
        if path == "/jwks":
            self.jwks_fetches += 1
            if self.mode == "malformed-jwks":
                return 200, {"keys": [{"kty": "RSA", "kid": "bad", "n": "!!", "e": "AQAB"}]}
            return 200, KeySet(list(self.keys)).as_dict(private=False)
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if path == "/token" and method == "POST":
            return self._token(form, headers)
        if path == "/introspect" and method == "POST":
            if headers.get("authorization") != _basic(RS_ID, RS_SECRET):
                return 401, {"error": "invalid_client"}
            self.introspections += 1
            claims = self.issued.get(form.get("token", ""))
            if claims is None or form.get("token") in self.revoked or claims["exp"] < time.time():
                return 200, {"active": False}
            return 200, {"active": True, **claims}
        return 404, {"error": "not_found"}

    def _token(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if headers.get("authorization") == _basic(CLIENT_ID, CLIENT_SECRET):
            client_id, secret = CLIENT_ID, CLIENT_SECRET
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if client_id != CLIENT_ID or secret != CLIENT_SECRET:
            return 401, {"error": "invalid_client"}
        resource, scope = form.get("resource"), form.get("scope", "")
        if form.get("token_format") == "opaque":
            token = secrets.token_urlsafe(32)
            self.issued[token] = {
                "iss": self.url,
                "sub": CLIENT_ID,
                "client_id": CLIENT_ID,
                "aud": resource,
                "scope": scope,
                "exp": int(time.time()) + 300,
            }
        else:
            token = self.mint(resource, scope=scope)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 300, "scope": scope}

    @contextmanager
    def running(self) -> Iterator[AuthServer]:
        with serving(self) as url:
            self.url = url
            yield self


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """An ASGI app under uvicorn on loopback, in a thread of this process; yields its origin URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the in-process HTTP server did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def unsigned(claims: dict[str, Any]) -> str:
    """A JWT with `alg: none` (which no verifier may accept)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}."


def dpop_key() -> ECKey:
    return ECKey.generate_key("P-256")


def protected_server() -> Server:
    """Tools that say who calls them, and features that need scopes."""
    server = Server("protected", "1.0.0")

    @server.tool()
    async def whoami(ctx: Context) -> dict[str, Any]:
        principal = ctx.principal
        assert principal is not None
        return {
            "subject": principal.subject,
            "client": principal.client_id,
            "scopes": sorted(principal.scopes),
        }

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool(scopes=["files:read"])
    def read_file(name: str) -> str:
        return f"contents of {name}"

    @server.tool(scopes=["files:read", "files:write"])
    def write_file(name: str) -> str:
        return f"wrote {name}"

    @server.tool(scopes=["files:write"])
    async def confirm_write(ctx: Context) -> str:
        answer = await ctx.elicit("Sure?", {"type": "object", "properties": {"ok": {"type": "boolean"}}})
        return f"{answer.action} {answer.content}"

    @server.resource("secret://plans", scopes=["files:read"])
    def plans() -> str:
        return "the plans"

    @server.resource("secret://files/{name}", scopes=["files:read"])
    def secret_file(name: str) -> str:
        return f"file {name}"

    @server.prompt(scopes=["prompts"])
    def briefing(topic: str) -> str:
        return f"Brief me on {topic}"

    return server
