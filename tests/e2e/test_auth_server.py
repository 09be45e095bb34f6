"""The resource server end to end: mcpbind's HTTP server under uvicorn, protected by
`mcpbind.auth.server`, with real tokens from a real authorization server on loopback (tests/auth_support.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("joserfc")

from joserfc import jws
from joserfc.jwk import RSAKey

from mcpbind.auth.server.discovery import jwt_verifier_for
from mcpbind.auth.server.dpop import DpopChecker
from mcpbind.auth.server.introspection import IntrospectionVerifier
from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.auth.server.verify import TokenVerifier, VerifierUnavailable
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server.scopes import INSUFFICIENT_SCOPE
from mcpbind.transports.http import HttpSecurity

from ..auth_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    RS_ID,
    RS_SECRET,
    AuthServer,
    dpop_key,
    protected_server,
    serving,
    unsigned,
)
from ..http_support import BOTH, MODERN, free_port, initialize, modern, modern_headers, request

LEGACY = "2025-11-25"
SCOPES = ["files:read", "files:write", "prompts"]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.fixture(scope="module")
def auth() -> Iterator[AuthServer]:
    with AuthServer().running() as server:
        yield server


@contextmanager
def protected(
    auth: AuthServer, verifier: Callable[[str], TokenVerifier] | None = None, **options: Any
) -> Iterator[str]:
    """The protected MCP server (its endpoint URL): JWTs checked against `auth`'s JWKS by default."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    if verifier is None:
        made: TokenVerifier = JwtVerifier(
            issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks", refresh_interval=0.0
        )
    else:
        made = verifier(url)
    resource = ProtectedResource(
        resource=url, authorization_servers=[auth.url], verifier=made, scopes_supported=SCOPES, **options
    )
    app = protected_server().http_app(security=HttpSecurity(auth=resource))
    with serving(app, port):
        yield url


@pytest.fixture(scope="module")
def endpoint(auth: AuthServer) -> Iterator[str]:
    with protected(auth) as url:
        yield url


async def issued(auth: AuthServer, resource: str, scope: str = "", **form: str) -> str:
    """An access token from the authorization server's token endpoint (client credentials)."""
    async with httpx.AsyncClient(timeout=20) as http:
        response = await http.post(
            f"{auth.url}/token",
            data={"grant_type": "client_credentials", "resource": resource, "scope": scope, **form},
            auth=(CLIENT_ID, CLIENT_SECRET),
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def echo_call(rid: int = 1, name: str = "echo", arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return modern(rid, "tools/call", {"name": name, "arguments": arguments or {"text": "hi"}})


async def post(
    url: str, token: str | None, message: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    message = message or echo_call()
    extra = dict(headers)
    if token is not None:
        extra.setdefault("authorization", f"Bearer {token}")
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(url, json=message, headers=modern_headers(message, **extra))


def challenge(response: httpx.Response) -> str:
    return ", ".join(response.headers.get_list("www-authenticate"))


# -- metadata and the challenge ---------------------------------------------------------------------


def test_metadata_at_both_well_known_paths_and_the_401_names_it(auth: AuthServer, endpoint: str) -> None:
    async def main() -> None:
        response = await post(endpoint, None)
        assert response.status_code == 401
        header = challenge(response)
        assert header.startswith("Bearer resource_metadata=")
        metadata_url = header.split('resource_metadata="', 1)[1].split('"', 1)[0]
        origin = endpoint.rsplit("/mcp", 1)[0]
        assert metadata_url == f"{origin}/.well-known/oauth-protected-resource/mcp"
        async with httpx.AsyncClient(timeout=10) as http:
            for url in (metadata_url, f"{origin}/.well-known/oauth-protected-resource"):
                document = (await http.get(url)).json()
                assert document["resource"] == endpoint
                assert document["authorization_servers"] == [auth.url]
                assert document["scopes_supported"] == SCOPES
                assert document["bearer_methods_supported"] == ["header"]
            assert (await http.get(f"{origin}/.well-known/oauth-protected-resource/other")).status_code == 404
            # The metadata is public; nothing else is.
            assert (await http.get(endpoint, headers={"accept": "text/event-stream"})).status_code == 401

    run(main())


def test_metadata_app_serves_a_server_mounted_under_a_prefix(auth: AuthServer) -> None:
    resource = ProtectedResource(
        resource="https://example.com/tenant/mcp",
        authorization_servers=[auth.url],
        verifier=JwtVerifier(issuer=auth.url, audience="https://example.com/tenant/mcp", jwks_uri=auth.url),
    )
    assert resource.metadata_url == "https://example.com/.well-known/oauth-protected-resource/tenant/mcp"
    with serving(resource.metadata_app()) as origin:

        async def main() -> None:
            async with httpx.AsyncClient(timeout=10) as http:
                got = await http.get(f"{origin}/.well-known/oauth-protected-resource/tenant/mcp")
                assert got.status_code == 200 and got.json()["resource"] == "https://example.com/tenant/mcp"
                assert got.headers["access-control-allow-origin"] == "*"
                assert (await http.get(f"{origin}/tenant/mcp")).status_code == 404

        run(main())


# -- valid tokens, both eras ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [LEGACY, MODERN])
def test_the_caller_reaches_handlers_in_both_eras(auth: AuthServer, endpoint: str, mode: str) -> None:
    async def main() -> None:
        token = await issued(auth, endpoint, "files:read")

        async def bearer() -> str:
            return token

        async with Client.http(endpoint, mode=mode, auth=bearer) as client:
            result = await client.call_tool("whoami", {})
            assert result.structured_content == {
                "subject": CLIENT_ID,
                "client": CLIENT_ID,
                "scopes": ["files:read"],
            }
            assert (await client.call_tool("read_file", {"name": "a"})).content[0].text == "contents of a"

    run(main())


# -- tokens that must be refused ---------------------------------------------------------------------


def test_bad_tokens_are_refused_and_never_logged(
    auth: AuthServer, endpoint: str, caplog: pytest.LogCaptureFixture
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": auth.keys[0].kid})  # same kid, other key
    now = int(time.time())
    cases = {
        "expired": auth.mint(endpoint, expires_in=-3600),
        "wrong audience": auth.mint("http://127.0.0.1:1/other"),
        "wrong issuer": auth.mint(endpoint, issuer="https://evil.example"),
        "unsigned": unsigned({"iss": auth.url, "aud": endpoint, "sub": "x", "exp": now + 300}),
        "wrong key": auth.mint(endpoint, key=stranger),
        "not yet valid": auth.mint(endpoint, nbf=now + 3600),
        "garbage": "not.a.jwt",
    }

    async def main() -> None:
        for why, token in cases.items():
            response = await post(endpoint, token)
            assert response.status_code == 401, why
            header = challenge(response)
            assert 'error="invalid_token"' in header and "error_description=" in header, why
            assert "resource_metadata=" in header
            assert token not in response.text and token not in header, why
        oversized = auth.mint(endpoint, padding="x" * 9000)
        response = await post(endpoint, oversized)
        assert response.status_code == 400 and 'error="invalid_request"' in challenge(response)
        assert (await post(endpoint, None, authorization="Bearer two parts")).status_code == 400
        # Nothing was accepted, and the server serves the next request.
        good = await issued(auth, endpoint)
        assert (await post(endpoint, good)).status_code == 200

    with caplog.at_level(logging.DEBUG):
        run(main())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert all(token not in logged for token in cases.values())


def test_an_unknown_key_id_refetches_the_jwks_at_most_once_per_interval(auth: AuthServer) -> None:
    def slow_refresh(url: str) -> TokenVerifier:
        return JwtVerifier(issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks", refresh_interval=3600)

    with protected(auth, slow_refresh) as url:

        async def main() -> None:
            assert (await post(url, await issued(auth, url))).status_code == 200
            before = auth.jwks_fetches
            for n in range(5):
                made_up = RSAKey.generate_key(2048, parameters={"kid": f"made-up-{n}"})
                assert (await post(url, auth.mint(url, key=made_up))).status_code == 401
            assert auth.jwks_fetches - before <= 1

        run(main())


def test_key_rotation_is_followed(auth: AuthServer) -> None:
    keys = list(auth.keys)
    with protected(auth) as url:

        async def main() -> None:
            old = await issued(auth, url)
            assert (await post(url, old)).status_code == 200
            auth.rotate(keep_old=False)
            new = await issued(auth, url)
            assert (await post(url, new)).status_code == 200  # an unknown kid: the JWKS is fetched again
            assert (await post(url, old)).status_code == 401  # the old key is no longer published

        try:
            run(main())
        finally:
            auth.keys = keys


@pytest.mark.parametrize("mode", ["slow", "garbage", "malformed-jwks", "error"])
def test_an_authorization_server_that_misbehaves_gets_no_token_accepted(auth: AuthServer, mode: str) -> None:
    def impatient(url: str) -> TokenVerifier:
        return JwtVerifier(
            issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks", timeout=1.0, refresh_interval=0.0
        )

    with protected(auth, impatient) as url:

        async def main() -> None:
            token = auth.mint(url)
            auth.mode, auth.slow_seconds = mode, 5.0
            try:
                started = time.monotonic()
                response = await post(url, token)
                assert response.status_code == 503 and "retry-after" in response.headers
                assert time.monotonic() - started < 4.5  # the verifier's timeout, not the server's delay
                assert token not in response.text
            finally:
                auth.mode = "ok"
            assert (await post(url, token)).status_code == 200  # and it recovers

        run(main())


# -- scopes: 403 with the scopes to ask for -------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "has", "needs"),
    [
        ("tools/call", {"name": "write_file", "arguments": {"name": "a"}}, "files:read", "files:write"),
        ("resources/read", {"uri": "secret://files/a"}, "prompts", "files:read"),
        ("resources/read", {"uri": "secret://plans"}, "prompts", "files:read"),
        ("prompts/get", {"name": "briefing", "arguments": {"topic": "x"}}, "files:read", "prompts"),
    ],
)
def test_insufficient_scope_is_403_with_the_scopes_to_ask_for(
    auth: AuthServer, endpoint: str, method: str, params: dict[str, Any], has: str, needs: str
) -> None:
    async def main() -> None:
        token = await issued(auth, endpoint, has)
        message = modern(1, method, params)
        response = await post(endpoint, token, message)
        assert response.status_code == 403
        header = challenge(response)
        assert header.startswith('Bearer error="insufficient_scope"')
        wanted = header.split('scope="', 1)[1].split('"', 1)[0].split()
        assert has in wanted and needs in wanted  # what the caller has is kept
        assert response.json()["error"]["message"].endswith(needs)
        assert "resource_metadata=" in header
        full = await issued(auth, endpoint, " ".join(SCOPES))
        response = await post(endpoint, full, message)
        assert response.status_code == 200 and "result" in response.json(), response.text

    run(main())


def test_the_scopes_to_ask_for_are_named_whole_however_many_the_caller_has(
    auth: AuthServer, endpoint: str
) -> None:
    """The `scope` of a 403 was cut at 200 characters, as an error description is: a caller holding
    many scopes was told to ask for a list ending in a scope cut in two (and without the one it
    needs, when that sorted last), so authorizing again could not succeed. It names each scope
    whole; a scope that is no scope token (a `"` in it) is left out rather than garbled."""

    async def main() -> None:
        held = [f"project:{n:02}:documents.read" for n in range(20)]
        token = auth.mint(endpoint, scope=" ".join([*held, 'odd"scope', "files:read"]))
        message = modern(1, "tools/call", {"name": "write_file", "arguments": {"name": "a"}})
        response = await post(endpoint, token, message)
        assert response.status_code == 403
        wanted = challenge(response).split('scope="', 1)[1].split('"', 1)[0].split(" ")
        assert sorted(wanted) == sorted([*held, "files:read", "files:write"])

    run(main())


def test_scopes_in_a_session_step_up_keeps_the_session_and_another_principal_is_refused(
    auth: AuthServer, endpoint: str
) -> None:
    async def main() -> None:
        reader = await issued(auth, endpoint, "files:read")
        async with httpx.AsyncClient(timeout=30) as http:

            def headers(token: str, sid: str | None = None) -> dict[str, str]:
                out = {"accept": BOTH, "authorization": f"Bearer {token}", "mcp-protocol-version": LEGACY}
                if sid:
                    out["mcp-session-id"] = sid
                return out

            opened = await http.post(endpoint, json=initialize(LEGACY), headers=headers(reader))
            assert opened.status_code == 200
            sid = opened.headers["mcp-session-id"]
            await http.post(
                endpoint,
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers=headers(reader, sid),
            )
            write = request(2, "tools/call", {"name": "write_file", "arguments": {"name": "a"}})
            refused = await http.post(endpoint, json=write, headers=headers(reader, sid))
            assert refused.status_code == 403 and "insufficient_scope" in challenge(refused)
            writer = await issued(auth, endpoint, "files:read files:write")  # step-up: same caller
            done = await http.post(endpoint, json=write, headers=headers(writer, sid))
            assert done.status_code == 200 and "wrote a" in done.text
            other = auth.mint(endpoint, client_id="someone-else", scope="files:read files:write")
            stolen = await http.post(endpoint, json=write, headers=headers(other, sid))
            assert stolen.status_code == 404

    run(main())


def elicits(rid: int) -> dict[str, Any]:
    message = echo_call(rid, "confirm_write", {})
    message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = {"elicitation": {}}
    return message


def test_request_state_is_bound_to_the_principal(auth: AuthServer, endpoint: str) -> None:
    async def main() -> None:
        mine = await issued(auth, endpoint, "files:read files:write")
        first = await post(endpoint, mine, elicits(1))
        result = first.json()["result"]
        assert result["resultType"] == "input_required"
        (key,) = result["inputRequests"]
        retry = elicits(2)
        retry["params"]["requestState"] = result["requestState"]
        retry["params"]["inputResponses"] = {key: {"action": "accept", "content": {"ok": True}}}
        other = auth.mint(endpoint, client_id="someone-else", scope="files:read files:write")
        replayed = (await post(endpoint, other, retry)).json()
        assert replayed["error"]["code"] == -32602
        answered = (await post(endpoint, mine, retry)).json()
        assert answered["result"]["content"][0]["text"].startswith("accept")

    run(main())


# -- introspection -----------------------------------------------------------------------------------


def test_introspection(auth: AuthServer) -> None:
    def introspecting(url: str) -> TokenVerifier:
        return IntrospectionVerifier(
            endpoint=f"{auth.url}/introspect", audience=url, client_id=RS_ID, client_secret=RS_SECRET
        )

    with protected(auth, introspecting) as url:

        async def main() -> None:
            token = await issued(auth, url, "files:read", token_format="opaque")
            response = await post(url, token, echo_call(1, "whoami", {}))
            assert response.status_code == 200
            assert response.json()["result"]["structuredContent"]["scopes"] == ["files:read"]
            elsewhere = await issued(auth, "http://127.0.0.1:1/other", token_format="opaque")
            assert (await post(url, elsewhere)).status_code == 401
            auth.revoked.add(token)
            assert (await post(url, token)).status_code == 401
            auth.mode = "slow"
            try:
                assert (await post(url, await issued_unchecked(auth, url))).status_code in (401, 503)
            finally:
                auth.mode = "ok"

        run(main())


def test_introspection_answers_can_be_remembered(auth: AuthServer) -> None:
    def remembering(url: str) -> TokenVerifier:
        return IntrospectionVerifier(
            endpoint=f"{auth.url}/introspect",
            audience=url,
            client_id=RS_ID,
            client_secret=RS_SECRET,
            cache_ttl=60.0,
        )

    with protected(auth, remembering) as url:

        async def main() -> None:
            token = await issued(auth, url, token_format="opaque")
            assert (await post(url, token)).status_code == 200
            asked = auth.introspections
            for _ in range(3):
                assert (await post(url, token)).status_code == 200
            assert auth.introspections == asked  # answered from memory
            refused = uuid.uuid4().hex
            for _ in range(2):
                assert (await post(url, refused)).status_code == 401
            assert auth.introspections == asked + 2  # a refusal is never remembered

        run(main())


def test_a_token_naming_no_one_is_refused(auth: AuthServer) -> None:
    """An active token whose introspection answer has neither `sub` nor `client_id` would give every
    such caller one empty identity, sharing sessions and tasks: it is refused as invalid_token."""

    def introspecting(url: str) -> TokenVerifier:
        return IntrospectionVerifier(
            endpoint=f"{auth.url}/introspect", audience=url, client_id=RS_ID, client_secret=RS_SECRET
        )

    with protected(auth, introspecting) as url:

        async def main() -> None:
            nameless = uuid.uuid4().hex
            claims = {"iss": auth.url, "aud": url, "scope": "", "exp": int(time.time()) + 300}
            auth.issued[nameless] = claims
            response = await post(url, nameless)
            assert response.status_code == 401
            assert 'error="invalid_token"' in challenge(response)
            assert "names no subject" in challenge(response)
            auth.issued[nameless] = {**claims, "client_id": "someone"}  # a client is an identity
            assert (await post(url, nameless)).status_code == 200

        run(main())


async def issued_unchecked(auth: AuthServer, url: str) -> str:
    """A token the authorization server does not know (opaque, made up)."""
    return uuid.uuid4().hex


# -- DPoP --------------------------------------------------------------------------------------------


def proof(key: Any, method: str, url: str, token: str, **claims: Any) -> str:
    import base64
    import hashlib

    ath = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()
    payload = {
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "ath": ath,
        **claims,
    }
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jws.serialize_compact(header, json.dumps(payload).encode(), key)


def test_dpop_bound_tokens(auth: AuthServer) -> None:
    with protected(auth, dpop=DpopChecker()) as url:

        async def main() -> None:
            key, other_key = dpop_key(), dpop_key()
            token = auth.mint(url, cnf={"jkt": key.thumbprint()})
            good = proof(key, "POST", url, token)
            assert (await post(url, token, authorization=f"DPoP {token}", dpop=good)).status_code == 200
            replay = await post(url, token, authorization=f"DPoP {token}", dpop=good)
            assert replay.status_code == 401 and 'error="invalid_dpop_proof"' in challenge(replay)
            bad = {
                "as bearer": {"authorization": f"Bearer {token}", "dpop": proof(key, "POST", url, token)},
                "no proof": {"authorization": f"DPoP {token}"},
                "other method": {"authorization": f"DPoP {token}", "dpop": proof(key, "GET", url, token)},
                "other url": {"authorization": f"DPoP {token}", "dpop": proof(key, "POST", url + "x", token)},
                "other token": {"authorization": f"DPoP {token}", "dpop": proof(key, "POST", url, "t")},
                "other key": {"authorization": f"DPoP {token}", "dpop": proof(other_key, "POST", url, token)},
                "old": {
                    "authorization": f"DPoP {token}",
                    "dpop": proof(key, "POST", url, token, iat=int(time.time()) - 3600),
                },
            }
            for why, headers in bad.items():
                assert (await post(url, None, **headers)).status_code == 401, why
            plain = auth.mint(url)
            assert (await post(url, plain, authorization=f"DPoP {plain}", dpop=good)).status_code == 401
            assert (await post(url, plain)).status_code == 200  # DPoP not required: bearer tokens pass

        run(main())


def test_the_jwks_is_found_in_the_issuers_metadata(auth: AuthServer) -> None:
    audience = "http://127.0.0.1:1/mcp"

    async def main() -> None:
        verifier = await jwt_verifier_for(auth.url, audience=audience)
        try:
            assert verifier.jwks_uri == f"{auth.url}/jwks"
            principal = await verifier.verify(auth.mint(audience, scope="files:read"))
            assert principal.subject == CLIENT_ID and principal.scopes == {"files:read"}
        finally:
            await verifier.aclose()
        for mode, why in (
            ("garbage", "not JSON"),
            ("metadata-issuer", "its issuer is not"),
            ("metadata-no-jwks", "no usable jwks_uri"),
            ("error", "answered 500"),
        ):
            auth.mode = mode
            try:
                with pytest.raises(VerifierUnavailable, match=why):
                    await jwt_verifier_for(auth.url, audience=audience)
            finally:
                auth.mode = "ok"

    run(main())


def test_dpop_nonces(auth: AuthServer) -> None:
    with protected(auth, dpop=DpopChecker(nonces=True)) as url:

        async def main() -> None:
            key = dpop_key()
            token = auth.mint(url, cnf={"jkt": key.thumbprint()})
            scheme = f"DPoP {token}"
            asked = await post(url, None, authorization=scheme, dpop=proof(key, "POST", url, token))
            assert asked.status_code == 401 and 'error="use_dpop_nonce"' in challenge(asked)
            nonce = asked.headers["dpop-nonce"]
            made_up = proof(key, "POST", url, token, nonce="made-up")
            refused = await post(url, None, authorization=scheme, dpop=made_up)
            assert refused.status_code == 401 and 'error="use_dpop_nonce"' in challenge(refused)
            answered = await post(
                url, None, authorization=scheme, dpop=proof(key, "POST", url, token, nonce=nonce)
            )
            assert answered.status_code == 200, answered.text

        run(main())


def test_audience_check_cannot_be_switched_off_silently(auth: AuthServer) -> None:
    with pytest.raises(ValueError, match="audience"):
        JwtVerifier(issuer=auth.url, audience=None, jwks_uri=f"{auth.url}/jwks")
    with pytest.raises(ValueError, match="audience"):
        IntrospectionVerifier(endpoint=f"{auth.url}/introspect", audience=None)
    with pytest.warns(UserWarning, match="audience check is OFF"):
        JwtVerifier(issuer=auth.url, audience=None, jwks_uri=f"{auth.url}/jwks", accept_any_audience=True)
    with pytest.raises(ValueError, match="none"):
        JwtVerifier(issuer=auth.url, audience="x", jwks_uri="x", algorithms=["none"])


# -- where no HTTP status can say it ------------------------------------------------------------------


def test_over_stdio_a_scoped_feature_is_refused_with_a_json_rpc_error() -> None:
    script = str(Path(__file__).resolve().parents[1] / "servers" / "protected_stdio.py")

    async def main() -> None:
        async with Client.stdio(sys.executable, [script]) as client:
            assert (await client.call_tool("echo", {"text": "open"})).content[0].text == "open"
            for call in (
                client.call_tool("read_file", {"name": "a"}),
                client.read_resource("secret://plans"),
                client.get_prompt("briefing", {"topic": "x"}),
            ):
                with pytest.raises(McpError) as refused:
                    await call
                assert refused.value.code == INSUFFICIENT_SCOPE
            assert (await client.call_tool("echo", {"text": "still"})).content[0].text == "still"

    run(main())


def test_in_a_batch_a_scoped_call_is_a_json_rpc_error(auth: AuthServer, endpoint: str) -> None:
    async def main() -> None:
        reader = await issued(auth, endpoint, "files:read")
        headers = {"accept": BOTH, "authorization": f"Bearer {reader}"}
        async with httpx.AsyncClient(timeout=30) as http:
            opened = await http.post(endpoint, json=initialize("2025-03-26"), headers=headers)
            headers["mcp-session-id"] = opened.headers["mcp-session-id"]
            await http.post(
                endpoint, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers
            )
            batch = [
                request(2, "tools/call", {"name": "write_file", "arguments": {"name": "a"}}),
                request(3, "tools/call", {"name": "read_file", "arguments": {"name": "a"}}),
            ]
            answered = await http.post(endpoint, json=batch, headers=headers)
            assert answered.status_code == 200
            by_id = {m["id"]: m for m in answered.json()}
            assert by_id[2]["error"]["code"] == INSUFFICIENT_SCOPE
            assert by_id[3]["result"]["content"][0]["text"] == "contents of a"

    run(main())
