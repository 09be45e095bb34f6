"""Authorization servers that trickle their answers (a real socket server on loopback sending one
byte at a time, each well within any per-read timeout): the resource server's JWKS fetch and the OAuth
client's metadata fetch fail within their timeout, as their documentation says, rather than being held
for as long as the peer likes. A held JWKS fetch holds the lock every request that needs the keys waits
on: one slow authorization server would stop the whole MCP server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("joserfc")

from mcpbind.auth.client.errors import OAuthError
from mcpbind.auth.client.web import AuthHttp
from mcpbind.auth.server.jwt import JwtVerifier
from mcpbind.auth.server.verify import VerifierUnavailable

from ..auth_support import AuthServer


@pytest.fixture(scope="module")
def trickler() -> Iterator[str]:
    """An HTTP server whose answer is a 200 with a large JSON body, sent one space every 0.2 s until
    the client leaves (leading whitespace is valid JSON, so every byte is progress)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(30)
            try:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
                )
                for _ in range(1500):  # at most 5 minutes, whatever the client does
                    if stop.is_set():
                        return
                    conn.sendall(b" ")
                    time.sleep(0.2)
            except OSError:
                return  # the client left

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(10)
        listener.close()


async def bounded(awaitable: object, limit: float = 60.0) -> float:
    """Await `awaitable` (which must raise), guarded by `limit`; how long it took."""
    started = time.monotonic()
    with pytest.raises((OAuthError, VerifierUnavailable)):
        await asyncio.wait_for(awaitable, limit)  # type: ignore[arg-type]
    return time.monotonic() - started


def test_a_trickled_jwks_fails_within_the_timeout_and_later_requests_are_not_held(trickler: str) -> None:
    """The JWKS fetch is "bounded in time" (mcpbind.auth.server.fetch): with timeout=2, a JWKS that
    never finishes arriving fails the token's check with VerifierUnavailable (the 503 of the resource
    server) in about 2 s, and so does the next request that needs the keys."""
    with AuthServer().running() as auth:
        token = auth.mint("http://127.0.0.1:1/mcp")

    async def main() -> None:
        verifier = JwtVerifier(
            issuer=auth.url,
            audience="http://127.0.0.1:1/mcp",
            jwks_uri=f"{trickler}/jwks",
            timeout=2.0,
            refresh_interval=0.0,
        )
        try:
            assert await bounded(verifier.verify(token)) < 30
            assert await bounded(verifier.verify(token)) < 30
        finally:
            await verifier.aclose()

    asyncio.run(main())


def test_trickled_authorization_server_metadata_fails_within_the_timeout(trickler: str) -> None:
    """The OAuth client's HTTP: "Every call has a timeout for its whole answer" (mcpbind.auth.client.web)."""

    async def main() -> None:
        http = AuthHttp(timeout=2.0)
        try:
            assert await bounded(http.get_json(f"{trickler}/.well-known/oauth-authorization-server")) < 30
            assert await bounded(http.post_form(f"{trickler}/token", {"grant_type": "x"}, {})) < 30
        finally:
            await http.close()

    asyncio.run(main())
