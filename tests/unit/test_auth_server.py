"""The resource server's decisions without sockets: principals, required scopes, challenges, DPoP proofs."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from typing import Any

import pytest

pytest.importorskip("joserfc")

from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from mcpbind.auth.server.dpop import DpopChecker, InvalidProof
from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.principal import Principal
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.auth.server.verify import InvalidToken, Remembered
from mcpbind.protocol.inbound import Rejection
from mcpbind.protocol.request_state import CALLER
from mcpbind.server.scopes import INSUFFICIENT_SCOPE, InsufficientScope, RequiredScopes

RESOURCE = "https://mcp.example.com/tenant/mcp"
ISSUER = "https://auth.example.com"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def token(**claims: Any) -> str:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": RESOURCE, "sub": "alice", "client_id": "app", "exp": now + 300}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, {**base, **claims}, KEY)


def resource(**options: Any) -> ProtectedResource:
    verifier = JwtVerifier(issuer=ISSUER, audience=RESOURCE, jwks=KeySet([KEY]).as_dict(private=False))
    return ProtectedResource(
        resource=RESOURCE,
        authorization_servers=[ISSUER],
        verifier=verifier,
        scopes_supported=["a", "b"],
        **options,
    )


def admit(guard: ProtectedResource, authorization: str | None, **headers: str) -> Principal | Rejection:
    raw = {k.encode(): v for k, v in headers.items()}
    if authorization is not None:
        raw[b"authorization"] = authorization
    return asyncio.run(guard.admit("POST", raw))


def challenges(rejection: Principal | Rejection) -> list[str]:
    assert isinstance(rejection, Rejection)
    return [v.decode() for k, v in rejection.headers if k == b"www-authenticate"]


def test_principal_from_claims() -> None:
    principal = Principal.from_claims({"sub": "u", "azp": "c", "scp": ["x", "y"], "iss": "i", "exp": 5})
    assert (principal.subject, principal.client_id, principal.scopes) == ("u", "c", frozenset({"x", "y"}))
    assert principal.expires_at == 5.0 and principal.issuer == "i"
    other_scopes = Principal.from_claims({"sub": "u", "azp": "c", "scope": "z", "iss": "i", "exp": 9})
    assert other_scopes.identity == principal.identity  # a step-up keeps the session and the state
    assert Principal.from_claims({"sub": "v", "azp": "c", "iss": "i"}).identity != principal.identity
    assert Principal.from_claims({"client_id": "svc"}).subject == "svc"
    assert Principal.from_claims({"sub": "u", "cnf": {"jkt": "abc"}}).jkt == "abc"


def test_required_scopes_by_name_uri_and_template() -> None:
    scopes = RequiredScopes()
    assert not scopes.active
    scopes.require("tools/call", "write", ["w"])
    scopes.require("resources/read", "file:///{path}", ["r"])
    assert scopes.of("tools/call", "write") == {"w"} and scopes.of("tools/call", "other") == frozenset()
    assert scopes.of("resources/read", "file:///etc") == {"r"} and scopes.of("prompts/get", "write") == set()
    assert scopes.of("tools/call", 3) == frozenset()
    with pytest.raises(InsufficientScope) as refused:
        scopes.check("tools/call", "write")  # no caller at all: refused, never granted by default
    assert refused.value.code == INSUFFICIENT_SCOPE and refused.value.data == {"requiredScopes": ["w"]}
    reset = CALLER.set(Principal("alice", scopes=frozenset({"w"})))
    try:
        scopes.check("tools/call", "write")
        with pytest.raises(InsufficientScope):
            scopes.check("resources/read", "file:///x")
    finally:
        CALLER.reset(reset)
    scopes.require("tools/call", "write", ())
    assert scopes.active
    scopes.require("resources/read", "file:///{path}", ())
    assert not scopes.active


def test_metadata_and_its_paths() -> None:
    guard = resource(resource_name="Files")
    assert guard.metadata_url == "https://mcp.example.com/.well-known/oauth-protected-resource/tenant/mcp"
    document = json.loads(guard.document("/.well-known/oauth-protected-resource/tenant/mcp") or b"")
    assert document == {
        "resource": RESOURCE,
        "authorization_servers": [ISSUER],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["a", "b"],
        "resource_name": "Files",
    }
    assert guard.document("/.well-known/oauth-protected-resource") is not None
    assert guard.document("/.well-known/oauth-protected-resource/other") is None
    for bad in ("mcp.example.com/mcp", "ftp://x/mcp", "https://x/mcp#frag"):
        with pytest.raises(ValueError):
            resource().__class__(resource=bad, authorization_servers=[], verifier=resource().verifier)


def test_challenges() -> None:
    guard = resource(required_scopes=["a"])
    (bare,) = challenges(admit(guard, None))
    assert bare == f'Bearer resource_metadata="{guard.metadata_url}", scope="a"'
    refused = admit(guard, "Basic dXNlcjpwYXNz")
    assert isinstance(refused, Rejection) and refused.status == 401 and challenges(refused) == [bare]
    for header, status in (("Bearer", 400), ("Bearer a b", 400), ("Bearer " + "x" * 9000, 400)):
        refused = admit(guard, header)
        assert isinstance(refused, Rejection) and refused.status == status, header
        assert 'error="invalid_request"' in challenges(refused)[0]
    expired = admit(guard, "Bearer " + token(exp=int(time.time()) - 3600))
    assert isinstance(expired, Rejection) and expired.status == 401
    assert 'error="invalid_token", error_description="the token has expired"' in challenges(expired)[0]
    lacking = admit(guard, "bearer " + token(scope="b"))  # the scheme is case-insensitive
    assert isinstance(lacking, Rejection) and lacking.status == 403
    (step_up,) = challenges(lacking)
    assert step_up.startswith('Bearer error="insufficient_scope", scope="a b", resource_metadata=')
    principal = admit(guard, "Bearer " + token(scope="a b"))
    assert isinstance(principal, Principal) and principal.subject == "alice" and principal.client_id == "app"


def test_error_descriptions_are_safe_header_text() -> None:
    guard = resource()
    hostile = jwt.encode({"alg": "RS256", "kid": "k1"}, {"iss": 'x"\\\r\nSet-Cookie: a=b', "exp": 1}, KEY)
    refused = admit(guard, f"Bearer {hostile}")
    (header,) = challenges(refused)
    description = header.split('error_description="', 1)[1]
    assert description.endswith('"') and '"' not in description[:-1] and "\\" not in description
    assert all(" " <= c <= "~" for c in header)


def test_a_dpop_bound_token_needs_the_dpop_scheme_and_a_checker() -> None:
    key = ECKey.generate_key("P-256")
    bound = token(cnf={"jkt": key.thumbprint()})
    refused = admit(resource(), f"DPoP {bound}", dpop="x")
    assert isinstance(refused, Rejection) and "not accepted here" in refused.body.decode()
    guard = resource(dpop=DpopChecker())
    assert json.loads(guard.document_bytes)["dpop_bound_access_tokens_required"] is False
    refused = admit(guard, f"Bearer {bound}")
    assert isinstance(refused, Rejection) and "goes with the DPoP scheme" in refused.body.decode()
    refused = admit(guard, f"DPoP {bound}")
    assert isinstance(refused, Rejection) and 'DPoP algs="' in challenges(refused)[0]
    assert 'error="invalid_dpop_proof"' in challenges(refused)[0]
    admitted = admit(guard, f"DPoP {bound}", dpop=proof(key, "POST", RESOURCE, bound))
    assert isinstance(admitted, Principal)
    required = resource(dpop_required=True)
    refused = admit(required, "Bearer " + token())
    assert isinstance(refused, Rejection) and "only DPoP-bound" in refused.body.decode()


def proof(key: Any, method: str, url: str, access_token: str, **claims: Any) -> str:
    ath = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
    payload = {
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
        "jti": uuid.uuid4().hex,
        "ath": ath,
        **claims,
    }
    header: dict[str, Any] = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    return jws.serialize_compact(header, json.dumps(payload).encode(), key)


def test_dpop_checker() -> None:
    key = ECKey.generate_key("P-256")
    jkt = key.thumbprint()
    checker = DpopChecker(max_remembered=3)
    url = "https://MCP.example.com:443/mcp"
    checker.check(proof(key, "POST", url + "?q=1", "t"), method="POST", url=url, token="t", jkt=jkt)
    same = proof(key, "POST", "https://mcp.example.com/mcp", "t")
    checker.check(same, method="POST", url=url, token="t", jkt=jkt)
    with pytest.raises(InvalidProof, match="replay"):
        checker.check(same, method="POST", url=url, token="t", jkt=jkt)
    checker.check(proof(key, "POST", url, "t"), method="POST", url=url, token="t", jkt=jkt)
    with pytest.raises(InvalidProof, match="too many"):  # full: refuse, never forget a jti early
        checker.check(proof(key, "POST", url, "t"), method="POST", url=url, token="t", jkt=jkt)
    fresh = DpopChecker()
    private = jws.serialize_compact(
        {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=True)}, b"{}", key
    )
    cases = {
        "not a JWT": "abc",
        "typ": jws.serialize_compact(
            {"typ": "JWT", "alg": "ES256", "jwk": key.as_dict(private=False)}, b"{}", key
        ),
        "private key": private,
        "port": proof(key, "POST", "https://mcp.example.com:x/mcp", "t"),
        "future": proof(key, "POST", url, "t", iat=int(time.time()) + 3600),
        "no jti": proof(key, "POST", url, "t", jti=""),
    }
    for why, bad in cases.items():
        with pytest.raises(InvalidProof):
            fresh.check(bad, method="POST", url=url, token="t", jkt=jkt)
            pytest.fail(why)
    with pytest.raises(ValueError):
        DpopChecker(algorithms=["HS256"])


def test_the_core_loads_nothing_of_the_auth_extra() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, mcpbind.server, mcpbind.client, mcpbind.transports.http\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('joserfc', 'httpx', 'authlib')"
        " or m.startswith('mcpbind.auth')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_token_types_when_asked() -> None:
    jwks = KeySet([KEY]).as_dict(private=False)
    strict = JwtVerifier(issuer=ISSUER, audience=RESOURCE, jwks=jwks, token_types=["at+jwt"])
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": RESOURCE, "sub": "a", "exp": now + 60}
    access = jwt.encode({"alg": "RS256", "kid": "k1", "typ": "application/at+jwt"}, claims, KEY)
    assert asyncio.run(strict.verify(access)).subject == "a"
    plain = jwt.encode({"alg": "RS256", "kid": "k1", "typ": "JWT"}, claims, KEY)
    with pytest.raises(InvalidToken, match="typ"):
        asyncio.run(strict.verify(plain))
    lenient = JwtVerifier(issuer=ISSUER, audience=RESOURCE, jwks=jwks)
    assert asyncio.run(lenient.verify(plain)).subject == "a"


def test_remembered_tokens_are_bounded_and_expire() -> None:
    remembered = Remembered(size=2, ttl=60)
    soon = Principal("a", expires_at=time.time() - 1)  # already expired: never served from memory
    remembered.put("t1", soon)
    assert remembered.get("t1") is None
    later = Principal("b", expires_at=time.time() + 600)
    for name in ("t2", "t3", "t4"):
        remembered.put(name, later)
    assert remembered.get("t2") is None and remembered.get("t4") is later  # the oldest went first
    off = Remembered(size=10, ttl=0)
    off.put("t", later)
    assert off.get("t") is None


def test_metadata_urls_in_the_order_the_spec_gives() -> None:
    from mcpbind.auth.server.discovery import metadata_urls

    assert metadata_urls("https://auth.example.com") == [
        "https://auth.example.com/.well-known/oauth-authorization-server",
        "https://auth.example.com/.well-known/openid-configuration",
    ]
    assert metadata_urls("https://auth.example.com/tenant1/") == [
        "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
        "https://auth.example.com/.well-known/openid-configuration/tenant1",
        "https://auth.example.com/tenant1/.well-known/openid-configuration",
    ]
