"""The resource server against hostile requests, over raw loopback sockets (bytes no HTTP client
library sends): malformed Authorization and DPoP headers each get the RFC 6750 answer (400
`invalid_request` or 401 with a challenge, a JSON-RPC error body) and the server goes on; the metadata
document answers every method as HTTP says (GET/HEAD it, OPTIONS a CORS preflight, others 405)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.server.dpop import DpopChecker
from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.transports.http import HttpSecurity

from ..auth_support import AuthServer, dpop_key, protected_server, serving
from ..http_support import free_port, modern, modern_headers
from .test_auth_server import issued, proof, protected, run


def exchange(
    url: str, method: str, path: str, headers: list[tuple[str, bytes]], body: bytes = b""
) -> tuple[int, dict[str, list[str]], bytes]:
    """One request on its own connection: (status, headers by lower-case name, body)."""
    parts = urlsplit(url)
    head = f"{method} {path} HTTP/1.1\r\nhost: {parts.netloc}\r\ncontent-length: {len(body)}\r\n"
    head += "connection: close\r\n"
    raw = head.encode() + b"".join(k.encode() + b": " + v + b"\r\n" for k, v in headers) + b"\r\n" + body
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), found, rest


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[AuthServer, str]]:
    with AuthServer().running() as auth:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        verifier = JwtVerifier(
            issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks", refresh_interval=0.0
        )
        resource = ProtectedResource(resource=url, authorization_servers=[auth.url], verifier=verifier)
        with serving(protected_server().http_app(security=HttpSecurity(auth=resource)), port):
            yield auth, url


MESSAGE = modern(1, "tools/call", {"name": "echo", "arguments": {"text": "hi"}})
HEADERS = [(k, v.encode()) for k, v in modern_headers(MESSAGE).items()] + [
    ("content-type", b"application/json")
]


def post(url: str, *extra: tuple[str, bytes]) -> tuple[int, dict[str, list[str]], bytes]:
    return exchange(url, "POST", "/mcp", [*HEADERS, *extra], json.dumps(MESSAGE).encode())


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"Bearer",
        b"Bearer ",
        b"Bearer  two-spaces",
        b"Bearer x y",
        b"Bearer\tx",
        b"Basic eDp5",
        b"DPoP",
        b"Bearer \xff\xfe",
        "Bearer \u00e9\u00e9".encode(),
        b"Bearer " + b"a" * 60_000,
        b"Bearer a.b.c",
        b"Bearer eyJhbGciOiJub25lIn0.e30.",
    ],
)
def test_a_malformed_authorization_header_is_refused_with_a_challenge(
    world: tuple[AuthServer, str], value: bytes
) -> None:
    auth, url = world
    status, headers, body = post(url, ("authorization", value))
    assert status in (400, 401), (status, body)
    (challenge,) = headers["www-authenticate"]
    assert challenge.startswith("Bearer resource_metadata="), challenge
    if status == 400:
        assert 'error="invalid_request"' in challenge, challenge
    assert "error" in json.loads(body)
    token = run(issued(auth, url))  # and the server goes on
    status, _, body = post(url, ("authorization", f"Bearer {token}".encode()))
    assert status == 200, body


@pytest.mark.parametrize("proof", [b"", b"x", b"a.b.c", b"\xff", b"e" * 20_000])
def test_a_malformed_dpop_proof_is_refused(world: tuple[AuthServer, str], proof: bytes) -> None:
    auth, url = world
    token = run(issued(auth, url))
    status, headers, body = post(url, ("authorization", f"DPoP {token}".encode()), ("dpop", proof))
    assert status in (400, 401), (status, body)
    assert headers["www-authenticate"], headers
    assert "error" in json.loads(body)


@pytest.mark.parametrize("suffix", ["/mcp", "", "/mcp/", "/mcp?x=1&y", "?"])
def test_the_metadata_answers_every_method(world: tuple[AuthServer, str], suffix: str) -> None:
    _, url = world
    path = "/.well-known/oauth-protected-resource" + suffix
    status, headers, body = exchange(url, "GET", path, [])
    assert status == 200 and json.loads(body)["resource"] == url
    status, headers, body = exchange(url, "HEAD", path, [])
    assert status == 200 and body == b"" and headers["access-control-allow-origin"] == ["*"]
    preflight = [("origin", b"https://elsewhere.example"), ("access-control-request-method", b"GET")]
    status, headers, body = exchange(url, "OPTIONS", path, preflight)
    assert status == 204, (status, body)
    assert (
        headers["access-control-allow-origin"] == ["*"]
        and "GET" in headers["access-control-allow-methods"][0]
    )
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = exchange(url, method, path, [])
        assert status == 405 and headers["allow"] == ["GET, HEAD, OPTIONS"], (method, status)
    for odd in ("/mcpX", "/../mcp", "//mcp", "/mcp/deeper", "/%ff"):
        assert exchange(url, "GET", "/.well-known/oauth-protected-resource" + odd, [])[0] == 404, odd


def test_the_mounted_metadata_app_answers_every_method(world: tuple[AuthServer, str]) -> None:
    auth, _ = world
    resource = ProtectedResource(
        resource="https://example.com/tenant/mcp",
        authorization_servers=[auth.url],
        verifier=JwtVerifier(issuer=auth.url, audience="https://example.com/tenant/mcp", jwks_uri=auth.url),
    )
    with serving(resource.metadata_app()) as origin:
        path = "/.well-known/oauth-protected-resource/tenant/mcp"
        assert exchange(origin, "GET", path, [])[0] == 200
        assert exchange(origin, "OPTIONS", path, [("origin", b"https://elsewhere.example")])[0] == 204
        status, headers, _ = exchange(origin, "POST", path, [])
        assert status == 405 and headers["allow"] == ["GET, HEAD, OPTIONS"]
        assert exchange(origin, "POST", "/tenant/mcp", [])[0] == 404


@pytest.mark.parametrize("first_valid", [True, False])
def test_a_repeated_authorization_header_is_invalid_request(
    world: tuple[AuthServer, str], first_valid: bool
) -> None:
    """RFC 6750 3.1: a request that "repeats the same parameter" is `invalid_request` (400, with the
    challenge). Neither of two Authorization headers is taken: before, the last one alone was read,
    so a garbage first header followed by a valid token passed."""
    auth, url = world
    token = f"Bearer {run(issued(auth, url))}".encode()
    pair = [token, b"Bearer garbage"] if first_valid else [b"Bearer garbage", token]
    for same in (False, True):
        values = [token, token] if same else pair
        status, headers, body = post(url, *(("authorization", v) for v in values))
        assert status == 400, (status, body)
        (challenge,) = headers["www-authenticate"]
        assert challenge.startswith("Bearer resource_metadata=") and 'error="invalid_request"' in challenge
        assert "error" in json.loads(body)
    assert post(url, ("authorization", token))[0] == 200  # and the server goes on


def test_a_repeated_authorization_header_never_reaches_verify_token() -> None:
    """With `verify_token`, two Authorization headers are no single bearer token (RFC 6750 2.1's
    b64token has no space): 401 with the challenge, whichever of them the hook would accept."""
    seen: list[str] = []

    async def verify(token: str) -> str | None:
        seen.append(token)
        return "alice" if token == "good" else None

    with serving(protected_server().http_app(security=HttpSecurity(verify_token=verify))) as origin:
        url = origin + "/mcp"
        for values in ([b"Bearer bad", b"Bearer good"], [b"Bearer good", b"Bearer bad"]):
            status, headers, _ = post(url, *(("authorization", v) for v in values))
            assert status == 401 and headers["www-authenticate"], status
        assert seen == []
        assert post(url, ("authorization", b"Bearer good"))[0] == 200 and seen == ["good"]


def test_a_repeated_dpop_header_is_an_invalid_proof(world: tuple[AuthServer, str]) -> None:
    """RFC 9449 4.3, the first check of a proof: "There is not more than one DPoP HTTP request header
    field." Two proofs, each valid alone, are refused (401 `invalid_dpop_proof`); one alone passes."""
    auth, _ = world
    with protected(auth, dpop=DpopChecker()) as url:
        key = dpop_key()
        token = auth.mint(url, cnf={"jkt": key.thumbprint()})
        scheme = ("authorization", f"DPoP {token}".encode())
        proofs = [("dpop", proof(key, "POST", url, token).encode()) for _ in range(2)]
        status, headers, body = post(url, scheme, *proofs)
        assert status == 401, (status, body)
        assert any('error="invalid_dpop_proof"' in h for h in headers["www-authenticate"]), headers
        assert post(url, scheme, ("dpop", proof(key, "POST", url, token).encode()))[0] == 200
