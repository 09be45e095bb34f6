"""Sending the user to the authorization URL and taking the redirect back: pluggable.

A `UserRedirect` names the redirect URI the client registers and turns an authorization URL into the
URL the authorization server redirected back to. `LoopbackBrowser` is the CLI's: it opens the system
browser and listens on a loopback port (RFC 8252 7.3) for the one redirect. `FollowRedirect` is for
authorization servers that answer at once without a user (tests, the conformance suite's mock): it GETs
the authorization URL and takes the `Location` it redirects to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import webbrowser
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from .errors import OAuthError
from .web import AuthHttp

__all__ = ["UserRedirect", "LoopbackBrowser", "FollowRedirect", "DEFAULT_LOOPBACK_PORT"]

log = logging.getLogger("mcpbind.auth")

DEFAULT_LOOPBACK_PORT = 33418
"""The CLI's loopback port: fixed, since a registration stored for next time names its redirect URI."""

_PAGE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\nconnection: close\r\n\r\n"
    b"<!doctype html><title>mcpbind</title><p>Authorization received: you can close this window.</p>"
)


class UserRedirect(Protocol):
    async def redirect_uri(self) -> str:
        """The redirect URI to register and send (ready to receive once this returns)."""
        ...

    async def authorize(self, url: str) -> str:
        """Send the user to `url`; the full URL they were redirected back to (with code, state, iss)."""
        ...


class FollowRedirect:
    """An authorization endpoint that redirects at once: GET it, take its `Location`."""

    def __init__(
        self, http: AuthHttp | None = None, redirect_uri: str = "http://localhost:3000/callback"
    ) -> None:
        self.http = http
        """The HTTP client to use (the provider's, say); None: one per authorization, closed after."""
        self.uri = redirect_uri

    async def redirect_uri(self) -> str:
        return self.uri

    async def authorize(self, url: str) -> str:
        if self.http is not None:
            target = await self.http.redirect_target(url)
        else:
            http = AuthHttp()
            try:
                target = await http.redirect_target(url)
            finally:
                await http.close()
        if target is None:
            raise OAuthError(f"the authorization endpoint did not redirect back ({urlsplit(url).netloc})")
        if not target.startswith(self.uri):
            raise OAuthError(f"the authorization endpoint redirected to {target!r}, not to {self.uri!r}")
        return target


class LoopbackBrowser:
    """Open the authorization URL in the browser; wait (up to `timeout` s) for the redirect to
    http://127.0.0.1:`port``path`. The URL is also logged, for a machine without a browser."""

    def __init__(
        self,
        port: int = DEFAULT_LOOPBACK_PORT,
        path: str = "/callback",
        timeout: float = 300.0,
        open_url: Callable[[str], object] = webbrowser.open,
    ) -> None:
        self.port = port
        self.path = path
        self.timeout = timeout
        self.open_url = open_url
        """Shows the user the authorization URL (the system browser; called in a worker thread)."""
        self._server: asyncio.Server | None = None
        self._result: asyncio.Future[str] | None = None

    async def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10)
            parts = line.decode("latin-1").split()
            if len(parts) >= 2 and parts[0] == "GET" and urlsplit(parts[1]).path == self.path:
                writer.write(_PAGE)
                if self._result is not None and not self._result.done():
                    self._result.set_result(f"http://127.0.0.1:{self.port}{parts[1]}")
            else:
                writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (OSError, TimeoutError, UnicodeError):
            pass
        finally:
            writer.close()

    async def authorize(self, url: str) -> str:
        loop = asyncio.get_running_loop()
        self._result = loop.create_future()
        try:
            server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        except OSError as exc:
            raise OAuthError(f"cannot listen for the redirect on 127.0.0.1:{self.port}: {exc}") from None
        try:
            log.warning("open this URL to authorize: %s", url)
            await loop.run_in_executor(None, self.open_url, url)
            return await asyncio.wait_for(self._result, self.timeout)
        except TimeoutError:
            raise OAuthError(f"no authorization came back within {self.timeout:g} s") from None
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
