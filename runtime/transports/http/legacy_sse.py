"""The HTTP+SSE transport of MCP 2024-11-05, for servers that predate Streamable HTTP: one GET stream for
everything the server sends, and a POST per message to the endpoint its first event names.

`StreamableHttpTransport.fallback` switches to it when an endpoint refuses our POSTs with 404 or 405.
Its GET stream and its POSTs are authorized by the same `HttpAuth` hook, and the same decision
(`auth.send_again`), as Streamable HTTP's requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping

from ...errors import McpError, quoted
from ...protocol import jsonrpc
from ...protocol.framing import EventTooLarge, SseParser
from ..plain import PlainTransport
from .auth import (
    AUTHORIZATION_FAILED,
    MAX_AUTH_ROUNDS,
    AuthorizationFailed,
    HttpAuth,
    RevisionAware,
    as_http_auth,
    send_again,
)
from .http11 import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_MESSAGE,
    HttpClient,
    HttpError,
    Response,
    ResponseTooLarge,
)
from .unread import DEFAULT_MAX_UNREAD, Unread

__all__ = ["LegacySseTransport", "DEFAULT_MAX_UNREAD"]

log = logging.getLogger("mcpbind.http")


class LegacySseTransport(PlainTransport):
    """The HTTP+SSE transport of MCP 2024-11-05: one GET stream for everything the server sends, whose
    first `endpoint` event names where to POST each message."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: HttpAuth | Callable[[], Awaitable[str | None]] | None = None,
        timeout: float = 30.0,
        max_message: int = DEFAULT_MAX_MESSAGE,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_headers: int = DEFAULT_MAX_HEADERS,
        max_unread: int = DEFAULT_MAX_UNREAD,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.auth = as_http_auth(auth)
        self.timeout = timeout
        self.max_message = max_message
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.endpoint: str | None = None
        self._client: HttpClient | None = None
        self.max_unread = max_unread
        """Bytes of messages read off the stream and not yet taken by `read`: past it, the stream is not
        read on (the server's writes wait, as TCP has them) until `read` has taken some."""
        self._incoming = Unread(max_unread)
        self._reader: asyncio.Task[None] | None = None

    async def _auth_headers(self, method: str, url: str) -> dict[str, str]:
        headers = dict(self.headers)
        if self.auth is not None:
            headers.update(await self.auth.headers(method, url))
        return headers

    async def start(self) -> None:
        self._client = HttpClient(
            connect_timeout=10.0,
            read_timeout=None,
            max_body=self.max_message,
            max_header_bytes=self.max_header_bytes,
            max_headers=self.max_headers,
        )
        endpoint: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.ensure_future(self._read(endpoint))
        try:
            named = urllib.parse.urljoin(self.url, await asyncio.wait_for(endpoint, self.timeout))
            if _origin(named) != _origin(self.url):
                # Every message, and the credentials the auth hook adds to each POST, would go to a
                # place the user never named: refused, as the other SDKs do.
                raise ConnectionError(f"{self.url} named an endpoint of another origin: {quoted(named)}")
            self.endpoint = named
        except BaseException:
            await self.close()
            raise

    async def _read(self, endpoint: asyncio.Future[str]) -> None:
        """The GET stream: the `endpoint` event first, then every message, until it ends. Authorized
        as Streamable HTTP's requests are: a 401 runs the hook's flow and the GET is sent again."""
        assert self._client is not None
        try:
            for attempt in range(MAX_AUTH_ROUNDS + 1):
                headers = {**await self._auth_headers("GET", self.url), "accept": "text/event-stream"}
                async with self._client.request("GET", self.url, headers) as response:
                    if await send_again(self.auth, "GET", self.url, headers, response, attempt):
                        continue
                    content_type = response.headers.get("content-type", "").lower()  # (RFC 9110, 8.3.1)
                    if response.status != 200 or not content_type.startswith("text/event-stream"):
                        raise ConnectionError(f"{self.url} is no HTTP+SSE endpoint (HTTP {response.status})")
                    await self._events(response, endpoint)
                    break
        except (HttpError, OSError, TimeoutError, AuthorizationFailed) as exc:
            # (ConnectionError is an OSError.) Before the endpoint event, start() raises the cause:
            # a ConnectionError, or the authorization's own error.
            if not endpoint.done():
                keep = isinstance(exc, ConnectionError | AuthorizationFailed)
                endpoint.set_exception(exc if keep else ConnectionError(str(exc)))
            else:
                log.warning("the HTTP+SSE stream ended: %s", exc)
        except asyncio.CancelledError:
            pass
        finally:
            if not endpoint.done():
                endpoint.set_exception(ConnectionError("the SSE stream ended before its endpoint event"))
            self._incoming.put_nowait(None)

    async def _events(self, response: Response, endpoint: asyncio.Future[str]) -> None:
        parser = SseParser(self.max_message)
        try:
            async for chunk in response.chunks():
                for event in parser.feed(chunk):
                    if event.event == "endpoint" and not endpoint.done():
                        endpoint.set_result(event.data.decode("utf-8", "replace"))
                    elif event.event == "message" and event.data:
                        # A server sending faster than we read: the stream waits (bounded memory).
                        await self._incoming.put(event.data)
        except EventTooLarge as exc:
            raise ResponseTooLarge(str(exc)) from None

    # -- messages (what else the client asks of a transport is `PlainTransport`'s) -----------------

    def use_revision(self, revision: str | None) -> None:
        if isinstance(self.auth, RevisionAware):
            self.auth.use_revision(revision)  # no header carries it; the hook follows its text

    async def read(self) -> bytes | None:
        return await self._incoming.get()

    @property
    def unread(self) -> int:
        """Bytes of the messages read off the stream and not yet taken by `read`."""
        return self._incoming.bytes

    async def write(self, data: bytes) -> None:
        assert self._client is not None and self.endpoint is not None, "start() first"
        try:
            await self._post(self.endpoint, data)
        except AuthorizationFailed as exc:
            # What Streamable HTTP answers a request it could not authorize with (to its sender).
            raise McpError(
                f"authorization failed: {exc}", code=jsonrpc.INVALID_REQUEST, data=AUTHORIZATION_FAILED
            ) from exc

    async def _post(self, endpoint: str, data: bytes) -> None:
        assert self._client is not None
        for attempt in range(MAX_AUTH_ROUNDS + 1):
            headers = {**await self._auth_headers("POST", endpoint), "content-type": "application/json"}
            async with self._client.request("POST", endpoint, headers, data) as response:
                if self.auth is not None and await send_again(
                    self.auth, "POST", endpoint, headers, response, attempt
                ):
                    continue
                body = await response.read()
                if response.status >= 400:
                    # Refused (an unknown or expired session, a body too large...): the message will
                    # never be answered, so its request fails now rather than at its timeout.
                    log.warning("the server refused a message with HTTP %s", response.status)
                    text = body[:200].decode("utf-8", "replace")
                    raise McpError(
                        f"HTTP {response.status}: {text}"
                        if text
                        else f"the server refused the message with HTTP {response.status}",
                        code=jsonrpc.INVALID_REQUEST,
                    )
                return

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._client is not None:
            await self._client.close()


def _origin(url: str) -> tuple[str, str, int | None]:
    """A URL's origin (RFC 6454): scheme, host and port, the default port spelled out."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a port that is no number: an origin of its own, equal to none
        return scheme, parts.netloc, -1
    return scheme, (parts.hostname or ""), port or {"http": 80, "https": 443}.get(scheme)
