"""A small HTTP/1.1 client for the Streamable HTTP transports: keep-alive connections, each request
written in one call, responses parsed by httptools as they arrive (whole for JSON, as it comes for SSE).

An MCP client makes small POSTs and reads either a JSON answer or a stream of events; that is all this
does, and it does it for a fraction of what a general client costs per request (aiohttp took as long
per call as everything else in the client together: see `bench/clients.py`, "aiohttp alone").

    http = HttpClient()
    async with http.request("POST", url, headers, body) as response:
        if response.status == 200:
            body = await response.read()         # or: async for chunk in response.chunks()
    await http.close()

Connections are pooled per (scheme, host, port) and reused once their response has been read to the
end; a response left unread closes its connection. A pooled connection the server has closed is
replaced, and a request it took down before any byte of answer came is sent again on a new one.
Redirects are followed (307/308 for any request, the older codes for GET), at most five, and
credentials are not carried to another origin.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, NamedTuple

import httptools

if TYPE_CHECKING:
    import ssl

__all__ = [
    "HttpClient",
    "HttpError",
    "ResponseTooLarge",
    "Response",
    "Observed",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_MESSAGE",
    "DEFAULT_MAX_LINE",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_HEADERS",
]

_MAX_IDLE: Final = 64
"""Idle connections kept per host."""
_HIGH_WATER: Final = 1 << 20
"""Bytes of unread body after which reading from the socket pauses."""
_NO_BODY_METHODS: Final = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_MAX_REDIRECTS: Final = 5

DEFAULT_MAX_MESSAGE: Final = 16 * 1024 * 1024
"""The largest message the MCP client transports read: a JSON answer's body, or the data of one SSE event."""
DEFAULT_MAX_BODY: Final = 16 * 1024 * 1024
"""The largest response body `Response.read()` takes (the stdio transport's largest line)."""
DEFAULT_MAX_LINE: Final = 16 * 1024 * 1024
"""The longest line `Response.lines()` takes."""
DEFAULT_MAX_HEADER_BYTES: Final = 64 * 1024
"""The most bytes of header names and values a response may have."""
DEFAULT_MAX_HEADERS: Final = 256
"""The most header lines a response may have (a repeated header counts once per line)."""


class _Default:
    """The client's own read timeout (a request may pass None: no limit)."""


_DEFAULT: Final = _Default()


class Observed(NamedTuple):
    """One request as sent, and the head of its response (for `HttpClient(observe=...)`)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    response_headers: dict[str, str]


class HttpError(Exception):
    """The connection failed, closed before the response was complete, or the response was no HTTP."""


class ResponseTooLarge(HttpError):
    """A response went over one of the client's limits: its head, its body, or a line of it. What is
    over the limit is not read: the connection is closed."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; the httptools callbacks fill in the response being read."""

    def __init__(self, max_header_bytes: int, max_headers: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self.reset()

    def reset(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.repeated: dict[str, list[str]] | None = None  # values of repeated headers, joined once
        self.head_bytes = 0  # bytes received before the head was complete
        self.header_bytes = 0
        self.header_count = 0
        self.body: deque[bytes] = deque()
        self.buffered = 0
        self.started = False  # a byte of this response came
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.started = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"malformed HTTP response: {exc}"))  # (unless a limit failed it)
            self.close()
            return
        if not self.head_done:
            # Counted here too: a header line that never ends reaches no callback. A head within the
            # limits takes at most this much with its status line, separators and line ends.
            self.head_bytes += len(data)
            if self.head_bytes > self.max_header_bytes + 4 * self.max_headers + 8192:
                over = f"{self.max_header_bytes} bytes of headers"
                self._fail(ResponseTooLarge(f"the response head exceeds the limit of {over}"))
                self.close()

    def eof_received(self) -> bool | None:
        return None  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if (
            self.head_done
            and not self.complete
            and "content-length" not in self.headers
            and ("chunked" not in self.headers.get("transfer-encoding", "").lower())
        ):
            self.complete = True  # a body delimited by the end of the connection
            self._wake()
        elif not self.complete:
            self._fail(HttpError(f"the connection closed before the response was complete ({exc or 'EOF'})"))

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.header_bytes += len(name) + len(value)
        if self.header_count > self.max_headers or self.header_bytes > self.max_header_bytes:
            over = (
                f"{self.max_headers} headers"
                if self.header_count > self.max_headers
                else f"{self.max_header_bytes} bytes of headers"
            )
            error = ResponseTooLarge(f"the response head exceeds the limit of {over}")
            self._fail(error)
            raise error  # stops the parser; data_received closes the connection
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        if key in self.headers:
            if self.repeated is None:
                self.repeated = {}
            self.repeated.setdefault(key, [self.headers[key]]).append(text)
        else:
            self.headers[key] = text

    def on_headers_complete(self) -> None:
        if self.repeated is not None:
            for key, values in self.repeated.items():
                self.headers[key] = ", ".join(values)
        self.status = self.parser.get_status_code()
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        # Asked here: once the callback returns, the parser has moved on to the next message.
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True
        self._wake()

    # -- for the client ----------------------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    async def wait(self, timeout: float | None) -> None:
        """Until the parser has more for the reader (or the connection fails, or `timeout` passes
        with nothing read)."""
        if self.error is not None:
            raise self.error
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, _time_out, waiter)
        try:
            await waiter
        finally:
            self.waiter = None
            if timer is not None:
                timer.cancel()

    def take(self) -> bytes:
        """The body bytes parsed so far (reading resumes if it had paused)."""
        data = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        self.body.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Response:
    """A response whose head has been read; its body is read with `read()`, `chunks()` or `lines()`."""

    def __init__(self, conn: _Connection, read_timeout: float | None, max_body: int, max_line: int) -> None:
        self._conn = conn
        self._timeout = read_timeout
        self.max_body = max_body
        """The largest body `read()` takes (ResponseTooLarge beyond)."""
        self.max_line = max_line
        """The longest line `lines()` takes (ResponseTooLarge beyond)."""
        self.status = conn.status
        self.headers = conn.headers
        """Header names in lower case; repeated headers joined with ", "."""

    async def read(self) -> bytes:
        """The whole body; ResponseTooLarge if it is over `max_body` (found before reading it all)."""
        conn = self._conn
        length = self.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise self._too_large(
                f"the response body of {length} bytes exceeds the limit of {self.max_body} bytes"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            if conn.body:
                chunk = conn.take()
                size += len(chunk)
                if size > self.max_body:
                    raise self._too_large(f"the response body exceeds the limit of {self.max_body} bytes")
                chunks.append(chunk)
            if conn.complete:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            await conn.wait(self._timeout)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, in pieces of any size, for a caller that frames it itself (SSE:
        `mcpbind.protocol.framing`, which bounds what it buffers)."""
        conn = self._conn
        while True:
            if conn.body:
                yield conn.take()
            elif conn.complete:
                return
            else:
                await conn.wait(self._timeout)

    async def lines(self) -> AsyncIterator[bytes]:
        """The body line by line, each with its line ending (the last one may have none)."""
        conn = self._conn
        pending = bytearray()
        scanned = 0  # no newline before this offset of `pending`: a long line is searched once
        while True:
            if conn.body:
                pending += conn.take()
                start = 0
                while (end := pending.find(b"\n", scanned)) >= 0:
                    yield bytes(pending[start : end + 1])
                    start = scanned = end + 1
                del pending[:start]
                scanned = len(pending)
                if scanned > self.max_line:
                    raise self._too_large(
                        f"a line of the response exceeds the limit of {self.max_line} bytes"
                    )
            if conn.body:
                continue  # more came while the lines above were being taken
            if conn.complete:
                if pending:
                    yield bytes(pending)
                return
            await conn.wait(self._timeout)

    def _too_large(self, message: str) -> ResponseTooLarge:
        """The error for a body or line over its limit; the rest is not read: the connection closes."""
        self._conn.close()
        return ResponseTooLarge(message)


class _Exchange:
    """`async with client.request(...) as response`: the connection goes back to the pool when the
    response was read to its end, and is closed otherwise."""

    def __init__(
        self,
        client: HttpClient,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        read_timeout: float | None,
    ) -> None:
        self._args = (method, url, headers, body, read_timeout)
        self._client = client
        self._conn: _Connection | None = None
        self._key: tuple[str, str, int] | None = None

    async def __aenter__(self) -> Response:
        method, url, headers, body, read_timeout = self._args
        client = self._client
        for _ in range(_MAX_REDIRECTS + 1):
            self._key, self._conn, response = await client._send(method, url, headers, body, read_timeout)
            location = response.headers.get("location")
            # 307/308 repeat the request as it was (a server mounted at /mcp/ redirects /mcp so);
            # the older codes only for a GET, which they leave a GET.
            if location is None or not (
                response.status in (307, 308) or (response.status in (301, 302, 303) and method == "GET")
            ):
                return response
            try:
                await response.read()  # so that the connection can carry the next request
            except BaseException:
                client._release(self._key, self._conn, reuse=False)
                raise
            client._release(self._key, self._conn, reuse=self._conn.reusable())
            self._conn = None
            target = urllib.parse.urljoin(url, location)
            if client._target(target)[0] != client._target(url)[0]:
                # Credentials go to the origin they were given for, not wherever it points.
                headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
            url = target
        raise HttpError(f"more than {_MAX_REDIRECTS} redirects from {self._args[1]}")

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, key = self._conn, self._key
        if conn is None or key is None:
            return
        self._client._release(key, conn, reuse=kind is None and conn.reusable())


class HttpClient:
    """Keep-alive HTTP/1.1 connections to any number of hosts (https with the default trust store)."""

    def __init__(
        self,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float | None = 300.0,
        ssl_context: ssl.SSLContext | None = None,
        observe: Callable[[Observed], None] | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        max_line: int = DEFAULT_MAX_LINE,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_headers: int = DEFAULT_MAX_HEADERS,
    ) -> None:
        self.max_body = max_body
        """The largest response body `Response.read()` takes."""
        self.max_line = max_line
        """The longest line `Response.lines()` takes."""
        self.max_header_bytes = max_header_bytes
        """The most bytes of header names and values in a response's head."""
        self.max_headers = max_headers
        """The most header lines in a response's head."""
        self.connect_timeout = connect_timeout
        self.observe = observe
        """Called with each request once its response's head is read (tests, logging)."""
        self.read_timeout = read_timeout
        """The longest wait for the next bytes of a response (None: no limit)."""
        self._ssl = ssl_context
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._targets: dict[str, tuple[tuple[str, str, int], str, str]] = {}
        self._busy: set[_Connection] = set()
        self._closed = False

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        read_timeout: float | _Default | None = _DEFAULT,
    ) -> _Exchange:
        """A request, sent when entered with `async with`; `read_timeout` overrides the client's."""
        timeout = self.read_timeout if isinstance(read_timeout, _Default) else read_timeout
        return _Exchange(self, method, url, dict(headers or {}), body, timeout)

    def _target(self, url: str) -> tuple[tuple[str, str, int], str, str]:
        """(pool key, Host header, request target) of a URL, remembered per URL."""
        found = self._targets.get(url)
        if found is None:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"not an http(s) URL: {url!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = parts.hostname
            default = port == (443 if parts.scheme == "https" else 80)
            shown = f"[{host}]" if ":" in host else host
            authority = shown if default else f"{shown}:{port}"
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            found = self._targets[url] = ((parts.scheme, host, port), authority, target)
            if len(self._targets) > 256:
                self._targets.clear()
                self._targets[url] = found
        return found

    async def _connect(self, key: tuple[str, str, int]) -> _Connection:
        scheme, host, port = key
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                import ssl  # only for https: it is a large import

                self._ssl = ssl.create_default_context()
            context = self._ssl
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Connection(self.max_header_bytes, self.max_headers),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                ),
                self.connect_timeout,
            )
        except OSError as exc:
            raise HttpError(f"cannot connect to {host}:{port}: {exc}") from exc
        return conn

    async def _send(
        self, method: str, url: str, headers: dict[str, str], body: bytes, read_timeout: float | None
    ) -> tuple[tuple[str, str, int], _Connection, Response]:
        if self._closed:
            raise HttpError("the HTTP client is closed")
        key, authority, target = self._target(url)
        headers = {"host": authority, **headers}
        if body or method not in _NO_BODY_METHODS:
            headers["content-length"] = str(len(body))
        head = [f"{method} {target} HTTP/1.1\r\n"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"invalid HTTP header {name!r}")
            head.append(f"{name}: {value}\r\n")
        head.append("\r\n")
        data = "".join(head).encode("latin-1") + body
        for attempt in (0, 1):
            idle = self._idle.get(key)
            conn = None
            while idle:
                candidate = idle.pop()
                if not candidate.closed:
                    conn = candidate
                    break
            reused = conn is not None
            if conn is None:
                conn = await self._connect(key)
            conn.reset()
            self._busy.add(conn)
            try:
                assert conn.transport is not None
                conn.transport.write(data)
                while not conn.head_done:
                    await conn.wait(read_timeout)
            except HttpError:
                self._release(key, conn, reuse=False)
                # A kept-alive connection the server closed as this request went out: send it again on
                # a new one (no byte of an answer came, so nothing was answered).
                if reused and not conn.started and attempt == 0:
                    continue
                raise
            except BaseException:
                self._release(key, conn, reuse=False)
                raise
            if self.observe is not None:
                self.observe(Observed(method, url, headers, body, conn.status, dict(conn.headers)))
            return key, conn, Response(conn, read_timeout, self.max_body, self.max_line)
        raise AssertionError("unreachable")

    def _release(self, key: tuple[str, str, int], conn: _Connection, *, reuse: bool) -> None:
        """A connection whose exchange is over: kept for the next request, or closed."""
        self._busy.discard(conn)
        idle = self._idle.setdefault(key, [])
        if reuse and not self._closed and len(idle) < _MAX_IDLE:
            idle.append(conn)
        else:
            conn.close()

    async def close(self) -> None:
        """Close every connection, idle or in use."""
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        for conn in list(self._busy):
            conn.close()
        self._busy.clear()
