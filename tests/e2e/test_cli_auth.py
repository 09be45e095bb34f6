"""`mcpbind inspect/call` against a protected server: `--token` sends a bearer token, `--no-oauth` keeps a
401 a clear error, and without a token a URL that needs one is never served. The authorization server
(authlib-issued JWTs) and the protected endpoint run on loopback; the CLI runs as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.resource import ProtectedResource
from mcpbind.transports.http import HttpSecurity

from ..auth_support import AuthServer, protected_server, serving
from ..http_support import free_port


def mcpbind(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbind", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[AuthServer, str]]:
    with AuthServer().running() as auth:
        port = free_port()
        url = f"http://127.0.0.1:{port}/mcp"
        verifier = JwtVerifier(issuer=auth.url, audience=url, jwks_uri=f"{auth.url}/jwks")
        resource = ProtectedResource(resource=url, authorization_servers=[auth.url], verifier=verifier)
        app = protected_server().http_app(security=HttpSecurity(auth=resource))
        with serving(app, port):
            yield auth, url


def test_a_token_reaches_the_tools_and_their_caller(world: tuple[AuthServer, str]) -> None:
    auth, url = world
    token = auth.mint(url, scope="files:read", sub="ada")
    listed = mcpbind("inspect", url, "--token", token)
    assert listed.returncode == 0, listed.stderr
    assert "whoami" in listed.stdout and "read_file" in listed.stdout
    called = mcpbind("call", "whoami", url, "--json", MCPBIND_TOKEN=token)  # from the environment too
    assert called.returncode == 0, called.stderr
    assert token not in called.stdout + called.stderr  # never echoed
    assert json.loads(called.stdout)["structuredContent"]["subject"] == "ada"


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_no_token_or_a_bad_one_is_a_clear_error(world: tuple[AuthServer, str], token: str | None) -> None:
    _, url = world
    args = ["inspect", url, "--no-oauth", *(["--token", token] if token else [])]
    done = mcpbind(*args, MCPBIND_TOKEN="")
    assert done.returncode != 0
    assert "401" in done.stderr or "authoriz" in done.stderr.lower(), done.stderr
    assert "Traceback" not in done.stderr


def test_token_options_are_in_the_help() -> None:
    done = mcpbind("inspect", "--help")
    assert done.returncode == 0
    for option in ("--token", "--no-oauth", "--token-file", "--header"):
        assert option in done.stdout, option
