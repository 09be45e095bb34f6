"""A minimal HTTP/1.1 keep-alive client for the server benchmark: the load generator must cost far less
than the servers it drives, and aiohttp's client costs about as much per request as a bare ASGI app.

One ``Connection`` is one keep-alive socket with at most one request outstanding. Responses are framed
by Content-Length or chunked transfer coding (SSE answers); nothing else of HTTP is implemented.
"""

from __future__ import annotations

import asyncio


class HttpError(RuntimeError):
    pass


_READ = memoryview(bytearray(256 * 1024))
"""What every connection reads its socket into (one read is handled before the loop reads another): a
plain `Protocol` is handed a new bytes object per read, of the loop's read size, which glibc serves by
mapping and unmapping memory on every read (two page faults), a cost no client that reads into a buffer
pays, and which would make the floor dearer than it is."""


class _Protocol(asyncio.BufferedProtocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, dict[bytes, bytes], bytes]] | None = None
        self.closed_exc: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed_exc = exc or HttpError("connection closed by the server")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.closed_exc)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _READ

    def buffer_updated(self, nbytes: int) -> None:
        self.buf += _READ[:nbytes]
        if self.waiter is None or self.waiter.done():
            return
        try:
            parsed = _parse(self.buf)
        except HttpError as e:
            self.waiter.set_exception(e)
            return
        if parsed is not None:
            response, used = parsed
            del self.buf[:used]
            self.waiter.set_result(response)


def _parse(buf: bytearray) -> tuple[tuple[int, dict[bytes, bytes], bytes], int] | None:
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).split(b"\r\n")
    try:
        status = int(lines[0].split(b" ", 2)[1])
    except (IndexError, ValueError) as e:
        raise HttpError(f"bad status line {lines[0][:100]!r}") from e
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")  # no space may precede the colon (RFC 9112)
        headers[name.lower()] = value.strip()
    start = end + 4
    length = headers.get(b"content-length")
    if length is not None:
        stop = start + int(length)
        if len(buf) < stop:
            return None
        return (status, headers, bytes(buf[start:stop])), stop
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = bytearray()
        pos = start
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            chunk_start = line_end + 2
            if len(buf) < chunk_start + size + 2:
                return None
            if size == 0:
                # No trailers are expected: the terminating chunk is followed by the final CRLF.
                return (status, headers, bytes(body)), chunk_start + 2
            body += buf[chunk_start : chunk_start + size]
            pos = chunk_start + size + 2
    if status in (202, 204, 304) or 100 <= status < 200:
        return (status, headers, b""), start
    raise HttpError("response without Content-Length or chunked coding")


class Connection:
    """One keep-alive connection; ``request`` sends a prepared request head and body."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.protocol: _Protocol | None = None

    async def open(self) -> Connection:
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_connection(_Protocol, self.host, self.port)
        # uvloop may return before connection_made has run.
        protocol.transport = transport
        self.protocol = protocol
        return self

    async def request(self, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        p = self.protocol
        assert p is not None and p.transport is not None
        if p.closed_exc is not None:
            raise p.closed_exc
        p.waiter = asyncio.get_running_loop().create_future()
        p.transport.write(data)
        return await p.waiter

    def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()


def post(path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    """The bytes of one POST request."""
    return head("POST", path, host, headers) + b"content-length: %d\r\n\r\n" % len(body) + body


def head(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    """A request's head up to (not including) its Content-Length line and the blank line."""
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def delete(path: str, host: str, headers: dict[str, str]) -> bytes:
    lines = [f"DELETE {path} HTTP/1.1", f"host: {host}", "content-length: 0"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Pool:
    """Connections handed out one per in-flight request (opened on demand, reused)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[Connection] = []
        self.all: list[Connection] = []

    async def request(self, data: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        conn = self.idle.pop() if self.idle else None
        if conn is None:
            conn = await Connection(self.host, self.port).open()
            self.all.append(conn)
        try:
            response = await conn.request(data)
        except BaseException:
            conn.close()
            self.all.remove(conn)
            raise
        self.idle.append(conn)
        return response

    def close(self) -> None:
        for conn in self.all:
            conn.close()
        self.all.clear()
        self.idle.clear()


def header(headers: dict[bytes, bytes], name: str) -> str | None:
    value = headers.get(name.encode("latin-1"))
    return value.decode("latin-1") if value is not None else None


__all__ = ["Connection", "HttpError", "Pool", "delete", "head", "header", "post"]
