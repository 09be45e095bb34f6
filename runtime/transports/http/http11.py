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
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from ...aio.deadlines import Deadlines
from .connection11 import UNCOUNTED, Http11Connection, HttpError, Response, ResponseTooLarge, read_buffer

if TYPE_CHECKING:
    import ssl

__all__ = [
    "MAX_IDLE",
    "Exchange",
    "FixedHeaders",
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

MAX_IDLE: Final = 64
"""Idle connections kept per host."""
_NO_BODY_METHODS: Final = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_MAX_REDIRECTS: Final = 5
_MAX_HEADS: Final = 1024
"""Request heads kept rendered and checked, per client (most requests repeat the same few)."""
_LENGTH_LINES: dict[int, bytes] = {}
"""A POST's `content-length` line and the blank line after it, by the length (`post_idle`'s): made
once each, where formatting the whole request per request formats the number each time."""
_MAX_LENGTH_LINES: Final = 2048
"""Lengths whose lines are kept (the first ones sent; a longer tail is formatted per request)."""

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


def _length_lines(size: int) -> bytes:
    """The `content-length` line of a body of `size` bytes, and the blank line that ends the head
    (kept in `_LENGTH_LINES` while it has room)."""
    lines = b"content-length: %d\r\n\r\n" % size
    if len(_LENGTH_LINES) < _MAX_LENGTH_LINES:
        _LENGTH_LINES[size] = lines
    return lines


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


class FixedHeaders(dict[str, str]):
    """Request headers that their maker never changes once made (`outgoing.HeaderShapes`' own, one per
    shape): the client finds the head it rendered for them by the dict itself, kept with the head (so
    that its id cannot name another dict), without comparing their contents on every request."""

    __slots__ = ("posted",)

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(headers)
        self.posted: tuple[str, bytes] | None = None
        """(URL, head) of the last POST sent with these headers by `HttpClient.post_idle`: its head
        up to its Content-Length line, found again with no look-up while the URL is the same."""


class Exchange:
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
        self._conn: Http11Connection | None = None
        self._key: tuple[str, str, int] | None = None
        self.resent = False
        """The request was sent once already, on a kept-alive connection that the server closed before
        any byte of answer came (`HttpClient.post_idle`): it is not sent again if that happens twice."""

    def __aenter__(self) -> Coroutine[Any, Any, Response]:
        """The request sent and its response's head read (the client's coroutine itself: no frame of
        the exchange's own around every request); redirects followed (`_follow`)."""
        method, url, headers, body, read_timeout = self._args
        return self._client._send(self, method, url, headers, body, read_timeout, 0)

    async def _follow(
        self,
        response: Response,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        read_timeout: float | None,
        hops: int,
    ) -> Response:
        """A response with a `Location` (sent by `_send` as `hops`th redirect): the response itself,
        or the request sent again where it points."""
        # 307/308 repeat the request as it was (a server mounted at /mcp/ redirects /mcp so); the
        # older codes only for a GET, which they leave a GET.
        if not (response.status in (307, 308) or (response.status in (301, 302, 303) and method == "GET")):
            return response
        client = self._client
        assert self._key is not None and self._conn is not None
        try:
            await response.read()  # so that the connection can carry the next request
        except BaseException:
            client._release(self._key, self._conn, reuse=False)
            raise
        client._release(self._key, self._conn, reuse=self._conn.reusable())
        self._conn = None
        if hops >= _MAX_REDIRECTS:
            raise HttpError(f"more than {_MAX_REDIRECTS} redirects from {self._args[1]}")
        target = urllib.parse.urljoin(url, response.headers["location"])
        try:
            to = client._target(target)
        except ValueError as exc:  # not http(s), a port out of range: nowhere to follow
            raise HttpError(f"a redirect to {target[:200]!r} from {url}: {exc}") from None
        if to[0] != client._target(url)[0]:
            # Credentials go to the origin they were given for, not wherever it points.
            headers = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "cookie")}
        return await client._send(self, method, target, headers, body, read_timeout, hops + 1)

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release(kind is None)

    def release(self, done: bool) -> None:
        """`__aexit__` with no coroutine (`done`: the block ended as it should): the connection back
        to the pool if its response was read to the end, closed otherwise."""
        conn, key = self._conn, self._key
        if conn is None or key is None:
            return
        # (`conn.reusable()` and `_release`'s keeping, inline: every request)
        reuse = done and conn.complete and conn.keep_alive and not conn.closed and conn.error is None
        client = self._client
        if reuse and not client.closed:
            idle = client.idle.get(key)
            if idle is not None and len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        client._release(key, conn, reuse=reuse)


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
        self.idle: dict[tuple[str, str, int], list[Http11Connection]] = {}
        """Kept-alive connections waiting for a request, by (scheme, host, port), at most `MAX_IDLE`
        each (a connection whose answer was taken whole may be put back here by its taker)."""
        self._targets: dict[str, tuple[tuple[str, str, int], str, str]] = {}
        # Every connection made and not closed by the client (idle or in use), for `close`: one set
        # changed as connections come and go, not as each request takes one and gives it back.
        self._open: set[Http11Connection] = set()
        self.closed = False
        """`close` was called: no connection is made or kept any more."""
        self._deadlines = Deadlines()
        self._buffer: memoryview | None = None  # what every connection reads into, made with the first
        self._heads: dict[tuple[str, str, bool, int], tuple[dict[str, str], bytes]] = {}

    def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        read_timeout: float | _Default | None = _DEFAULT,
    ) -> Exchange:
        """A request, sent when entered with `async with`; `read_timeout` overrides the client's."""
        timeout = self.read_timeout if isinstance(read_timeout, _Default) else read_timeout
        # Not copied: `_send` builds the headers it sends afresh, and a redirect makes a new dict.
        return Exchange(self, method, url, headers if headers is not None else {}, body, timeout)

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

    async def _connect(self, key: tuple[str, str, int]) -> Http11Connection:
        scheme, host, port = key
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                import ssl  # only for https: it is a large import

                self._ssl = ssl.create_default_context()
            context = self._ssl
        loop = asyncio.get_running_loop()
        if self._buffer is None:
            self._buffer = read_buffer()
        buffer = self._buffer
        try:
            # (`asyncio.timeout`, not `wait_for`, which in 3.11 loses a cancellation that comes as
            # the connection is made: the cancelled request was sent all the same.)
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: Http11Connection(
                        self.max_header_bytes, self.max_headers, self._deadlines, buffer
                    ),
                    host,
                    port,
                    ssl=context,
                    server_hostname=host if context else None,
                )
        except OSError as exc:
            raise HttpError(f"cannot connect to {host}:{port}: {exc}") from exc
        conn.key = key
        self._open.add(conn)
        return conn

    async def _send(
        self,
        exchange: Exchange,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes,
        read_timeout: float | None,
        hops: int,
    ) -> Response:
        """`exchange`'s request (or its `hops`th redirect) sent, on a connection that becomes the
        exchange's, and its response's head read."""
        if self.closed:
            raise HttpError("the HTTP client is closed")
        found = self._targets.get(url)  # (`_target`'s hit, inline: every request)
        key, authority, target = found if found is not None else self._target(url)
        # The head is the same for every request with the same headers (a client's calls of one
        # method, say): rendered once, found again by the headers dict a caller sends again (the
        # MCP transports keep one per shape), kept with a copy of its contents that must still match
        # (a dict changed in place, or a new one where a freed one was, is rendered again); or, for
        # `FixedHeaders`, with the dict itself (the same object: the same contents).
        sized = bool(body) or method not in _NO_BODY_METHODS
        lead = (method, url, sized, id(headers))
        kept = self._heads.get(lead)
        if kept is not None and (kept[0] is headers or kept[0] == headers):
            head = kept[1]
        else:
            head = self._head(method, authority, target, headers, sized)
            if len(self._heads) >= _MAX_HEADS:
                self._heads.clear()
            self._heads[lead] = (headers if type(headers) is FixedHeaders else dict(headers), head)
        if sized:
            data = b"%scontent-length: %d\r\n\r\n%s" % (head, len(body), body)
        else:
            data = head + b"\r\n"
        for attempt in (0, 1):
            if self.closed:
                # (Not sent again on a new connection either: closing ends the requests in flight.)
                raise HttpError("the HTTP client is closed")
            idle = self.idle.get(key)
            conn = self._pop_idle(idle) if idle else None
            reused = conn is not None
            if conn is None:
                conn = await self._connect(key)
            conn.reset()
            try:
                assert conn.transport is not None
                conn.transport.write(data)
                while not conn.head_done:
                    await conn.waiting(read_timeout)
            except HttpError:
                self._release(key, conn, reuse=False)
                # A kept-alive connection the server closed as this request went out: send it again on
                # a new one (no byte of an answer came, so nothing was answered).
                if reused and not conn.started and attempt == 0 and not exchange.resent:
                    continue
                raise
            except BaseException:
                self._release(key, conn, reuse=False)
                raise
            if self.observe is not None:
                sent = {"host": authority, **headers}
                if sized:
                    sent["content-length"] = str(len(body))
                self.observe(Observed(method, url, sent, body, conn.status, dict(conn.headers)))
            exchange._key, exchange._conn = key, conn
            response = Response(conn, read_timeout, self.max_body, self.max_line)
            if "location" in conn.fields:
                return await exchange._follow(response, method, url, headers, body, read_timeout, hops)
            return response
        raise AssertionError("unreachable")

    def _pop_idle(self, idle: list[Http11Connection]) -> Http11Connection | None:
        """The last idle connection of `idle` still open, taken out of it (None: none is); those the
        server closed while they were idle are forgotten on the way."""
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
            self._open.discard(conn)
        return None

    def post_idle(
        self,
        url: str,
        headers: dict[str, str],
        body: bytes,
        read_timeout: float | None,
        waiter: asyncio.Future[None] | None = None,
    ) -> Http11Connection | None:
        """A POST written at once on an idle kept-alive connection, with no coroutine: the connection
        it went on, whose response the caller awaits (its `waiter`, armed here as `waiting` arms it;
        then `waiting` until the head has come) and hands back with `done_with` (or `adopt`). None,
        with nothing sent, where `request` is needed instead: no idle connection to the URL's origin,
        headers that are not `FixedHeaders`, `observe`, a closed client. The bytes are those
        `request` would send. `waiter`: the future to arm (the caller's own), not a new one."""
        if type(headers) is not FixedHeaders or self.observe is not None or self.closed:
            return None
        found = self._targets.get(url)
        if found is None:
            return None
        idle = self.idle.get(found[0])
        if not idle:
            return None
        conn = idle.pop()  # (`_pop_idle`, inline for the usual connection: still open)
        if conn.closed:
            self._open.discard(conn)
            found_open = self._pop_idle(idle)
            if found_open is None:
                return None
            conn = found_open
        posted = headers.posted
        if posted is not None and posted[0] == url:
            head = posted[1]
        else:
            try:
                head = self._head("POST", found[1], found[2], headers, True)
            except ValueError:
                idle.append(conn)  # (`request` raises it, where the caller's errors are handled)
                return None
            headers.posted = (url, head)
        # `conn.reset()`, for a connection whose last response was complete and taken with no error
        # (`done_with`): what that leaves at its default (`error`, `interim`, `news`) is not set
        # again, and `waiter` is set below. (Inline: every request.)
        conn.status = conn.head_bytes = conn.buffered = 0
        conn.fields = {}
        if conn.repeated is not None:
            conn.repeated = None
        conn.counting = UNCOUNTED  # (the limits' counts are set when counting starts: `_recount`)
        if conn.body:
            conn.body.clear()
        conn.started = conn.head_done = conn.complete = conn.keep_alive = conn.paused = False
        conn.taking = None
        assert conn.transport is not None
        size = len(body)
        lines = _LENGTH_LINES.get(size)
        if lines is None:
            lines = _length_lines(size)
        conn.transport.write(b"".join((head, lines, body)))
        # (`conn.waiting(read_timeout)`, inline, with the loop's future maker and the timeout's queue
        # the connection's last wait kept: nearly always)
        new_future, expiry = conn.new_future, conn.expiry
        if new_future is None or read_timeout is None or expiry is None or expiry.timeout != read_timeout:
            conn.waiting(read_timeout, waiter)
            if read_timeout is not None:
                conn.sent_at = conn.expiry.clock()  # type: ignore[union-attr]  # (`waiting` made it)
        else:
            if waiter is None:
                waiter = new_future()
            conn.waiter = waiter
            # (`expiry.add`, inline: every request; its time kept, `sent_at`)
            futures = expiry.futures
            futures.append(waiter)
            conn.sent_at = now = expiry.clock()
            expiry.deadlines.append(now + read_timeout)
            if len(futures) >= expiry.compact_at:
                expiry.compact()
            if expiry.timer is None:
                expiry.arm()
        return conn

    def done_with(self, conn: Http11Connection, done: bool) -> None:
        """`Exchange.release` for a connection of `post_idle`'s whose response was taken by hand."""
        reuse = done and conn.complete and conn.keep_alive and not conn.closed and conn.error is None
        if reuse and not self.closed:
            idle = self.idle.get(conn.key)
            if idle is not None and len(idle) < MAX_IDLE:
                idle.append(conn)
                return
        self._release(conn.key, conn, reuse=reuse)

    async def adopt(
        self,
        conn: Http11Connection,
        url: str,
        headers: dict[str, str],
        body: bytes,
        read_timeout: float | None,
    ) -> tuple[Exchange, Response]:
        """A POST of `post_idle`'s to `url` whose head has come, as `request` would have it once
        entered: its exchange and response (a redirect followed)."""
        exchange = Exchange(self, "POST", url, headers, body, read_timeout)
        exchange._key, exchange._conn = conn.key, conn
        response = Response(conn, read_timeout, self.max_body, self.max_line)
        if "location" in conn.fields:
            response = await exchange._follow(response, "POST", url, headers, body, read_timeout, 0)
        return exchange, response

    @staticmethod
    def _head(method: str, authority: str, target: str, headers: dict[str, str], sized: bool) -> bytes:
        """A request's head up to its Content-Length line (`sized`: one follows, with the blank line).
        A `host` or (`sized`) `content-length` among `headers` takes the place of the client's own."""
        head = [f"{method} {target} HTTP/1.1\r\nhost: {headers.get('host', authority)}\r\n"]
        for name, value in headers.items():
            if name == "host" or (sized and name == "content-length"):
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name or ":" in name:
                raise ValueError(f"invalid HTTP header {name!r}")
            head.append(f"{name}: {value}\r\n")
        return "".join(head).encode("latin-1")

    def _release(self, key: tuple[str, str, int], conn: Http11Connection, *, reuse: bool) -> None:
        """A connection whose exchange is over: kept for the next request, or closed."""
        idle = self.idle.setdefault(key, [])
        if reuse and not self.closed and len(idle) < MAX_IDLE:
            idle.append(conn)
        else:
            self._open.discard(conn)
            conn.close()

    async def close(self) -> None:
        """Close every connection, idle or in use."""
        self.closed = True
        self.idle.clear()
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._deadlines.close()
