"""The official TypeScript SDK's clients (1.x at 2025-11-25; 2.x at 2025-11-25 and 2026-07-28) against
mcpbind's protected server (`mcpbind.auth.server`: JWTs from tests/auth_support.py's authorization server,
checked against its JWKS, with per-tool scopes), through `ts_auth_client.mjs`:

- a bearer token handed to the SDK in `requestInit` headers: the caller reaches the tools as itself;
- the SDK's `ClientCredentialsProvider`, which finds everything from our 401: the protected resource
  metadata, the authorization server's metadata, the token endpoint with `resource`;
- the SDK's authorization-code flow (dynamic registration, PKCE, `resource`, a redirect followed by the
  driver as the user's browser would) against tests/servers/oauth_world.py's authorization server, in
  front of an mcpbind server;
- no token, and a token for another resource: refused, nothing served.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("joserfc")
pytest.importorskip("authlib")

from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.server import Server
from mcpbind.transports.http import HttpSecurity

from ..auth_support import CLIENT_ID, CLIENT_SECRET, AuthServer, protected_server, serving
from ..http_support import SERVERS, load_script, serve_in_process
from .common import free_port, require_toolchain, run_driver

RUNS = [("v1", "2025-11-25"), ("v2", "2025-11-25"), ("v2", "2026-07-28")]
IDS = [f"{sdk}-{era}" for sdk, era in RUNS]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[AuthServer, str]]:
    with AuthServer().running() as auth:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        resource = ProtectedResource(
            resource=url,
            authorization_servers=[auth.url],
            verifier=JwtVerifier(issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks"),
            scopes_supported=["files:read", "files:write", "prompts"],
        )
        with serving(protected_server().http_app(security=HttpSecurity(auth=resource)), port):
            yield auth, url


def drive(sdk: str, era: str, url: str, **spec: Any) -> dict[str, Any]:
    require_toolchain()
    result = run_driver("ts_auth_client.mjs", {"sdk": sdk, "era": era, "url": url, **spec})
    return result


def explain(result: dict[str, Any]) -> str:
    return f"{result['error']}\n--- requests {result['requests']}\n--- stderr\n{result['stderr'][-2000:]}"


@pytest.mark.parametrize(("sdk", "era"), RUNS, ids=IDS)
def test_a_bearer_token_in_request_init(endpoint: tuple[AuthServer, str], sdk: str, era: str) -> None:
    auth, url = endpoint
    token = auth.mint(url, scope="files:read")
    result = drive(sdk, era, url, auth="bearer", token=token)
    assert result["error"] is None, explain(result)
    assert result["whoami"] == {"subject": CLIENT_ID, "client": CLIENT_ID, "scopes": ["files:read"]}
    assert result["read"] == "contents of a"
    assert all(status < 400 for _, status in result["requests"]), result["requests"]
    if sdk == "v2":
        assert result["protocol"] == era


@pytest.mark.parametrize(("sdk", "era"), RUNS, ids=IDS)
def test_the_sdks_client_credentials_provider(endpoint: tuple[AuthServer, str], sdk: str, era: str) -> None:
    auth, url = endpoint
    spec = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "issuer": auth.url, "scope": "files:read"}
    result = drive(sdk, era, url, auth="client_credentials", **spec)
    assert result["error"] is None, explain(result)
    assert result["whoami"]["subject"] == CLIENT_ID and "files:read" in result["whoami"]["scopes"]
    assert result["read"] == "contents of a"
    # Our 401 came first (what the SDK discovered everything from), then the same request again.
    assert result["requests"][0] == ["POST", 401], result["requests"]
    assert ["POST", 200] in result["requests"]


@pytest.mark.parametrize(("sdk", "era"), RUNS, ids=IDS)
def test_refused_without_a_good_token(endpoint: tuple[AuthServer, str], sdk: str, era: str) -> None:
    auth, url = endpoint
    nothing = drive(sdk, era, url, auth="none")
    assert nothing["whoami"] is None and nothing["error"] is not None
    assert ["POST", 401] in nothing["requests"]
    elsewhere = auth.mint("http://127.0.0.1:9/mcp", scope="files:read")  # another resource's token
    refused = drive(sdk, era, url, auth="bearer", token=elsewhere)
    assert refused["whoami"] is None and refused["error"] is not None
    assert {status for _, status in refused["requests"]} == {401}


def echo_server() -> Server:
    server = Server("oauth-protected")

    @server.tool()
    def whoami() -> dict[str, Any]:
        return {"subject": "the user"}

    @server.tool()
    def read_file(name: str) -> str:
        return f"contents of {name}"

    return server


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Any, str]]:
    world = load_script(str(SERVERS / "oauth_world.py"), "oauth_world").OAuthWorld(echo_server().http_app())
    with serve_in_process(world) as url:
        yield world, url


@pytest.mark.parametrize(("sdk", "era"), RUNS, ids=IDS)
def test_the_sdks_authorization_code_flow(world: tuple[Any, str], sdk: str, era: str) -> None:
    oauth, url = world
    before = len(oauth.authorizations)
    result = drive(sdk, era, url, auth="authorization_code")
    assert result["error"] is None, explain(result)
    assert result["whoami"] == {"subject": "the user"} and result["read"] == "contents of a"
    assert result["redirects"] == 1
    [request] = oauth.authorizations[before:]
    # The world's token endpoint checked PKCE S256, the redirect URI, the client and `resource`.
    assert request["code_challenge_method"] == "S256" and request["resource"] == url
    assert oauth.grants[-1]["grant_type"] == "authorization_code"
