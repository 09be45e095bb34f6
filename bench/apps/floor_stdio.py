"""The floor, stdio: plain asyncio + msgspec JSON-RPC over the pipes, no framework.

It serves both benchmarks. For the server benchmark (``bench/servers.py``) it is the no-framework
reference: what answering over a pipe costs with nothing but the codec. For the client benchmark
(``bench/clients.py``) it is the near-free peer: the server does next to nothing, so what is left is
the client.

It answers the least a client needs to connect and call one ``echo`` tool: ``initialize`` (2025-11-25
and older), ``server/discover`` (2026-07-28), ``tools/list`` (one ``echo`` tool, no output schema),
``tools/call`` (echoes ``arguments.text`` as one text block; ``big`` and ``blob`` answer the 1 MB and
``size`` bytes of text of ``_toolgen.py``, so the 1 MB row and the payload curve have a floor that sends the
same bytes) and ``ping``; other requests get "method
not found", notifications are dropped. A request carrying the 2026-07-28 ``_meta`` protocol version
gets that era's ``resultType`` (and ``cacheScope``/``ttlMs`` on ``tools/list`` and ``server/discover``,
which the 2026-07-28 schema requires). One decode and one encode per message, in order, on one task,
no validation. ``floor_asgi.py`` (the HTTP floor) and ``floor_ws.py`` import ``answer`` from here.

How it reads and writes is the cheapest honest way over pipes, as mcpbind's stdio server does it: stdin
is an ``asyncio.Protocol`` on ``loop.connect_read_pipe`` (``Lines``; no task, future or stream per
message or read), each read split into lines in ``data_received`` and every request of it answered right
there, the answers of one read in one write on ``loop.connect_write_pipe``. On asyncio's own loop a pipe
is read 64 KiB at a time (as mcpbind's ``pipes.read_small``: a 256 KiB read is a fresh memory mapping each
time); uvloop reads into a buffer of its own. Flow control as mcpbind's: stdin is not read while more than
1 MiB of answers waits for the client to read them. A line is at most 16 MiB (``LIMIT``, without its
newline); blank lines are skipped. Errors end the floor with the error, as its earlier streams loop did
(it answers nothing it cannot read): a longer line with ``ValueError``, a line that is no JSON with
msgspec's ``DecodeError``; the end of stdin ends it once what it wrote has gone.

``--streams`` serves with that earlier loop instead (``floor_streams.py``: asyncio streams, one
``StreamReader.readline`` and one write and drain per request), kept to measure what it cost.

    python bench/apps/floor_stdio.py [--uvloop] [--streams]
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _toolgen import MEGABYTE, blob_text

MODERN = "2026-07-28"
STATEFUL = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
META_VERSION = "io.modelcontextprotocol/protocolVersion"
SERVER_INFO = {"name": "floor", "version": "0"}
ECHO_TOOL = {
    "name": "echo",
    "description": "Say `text` back.",
    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
}


class Params(msgspec.Struct):
    protocolVersion: str | None = None
    name: str | None = None
    arguments: dict[str, Any] | None = None
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")


class Frame(msgspec.Struct):
    method: str | None = None
    id: int | str | None = None
    params: Params | None = None


decode = msgspec.json.Decoder(Frame).decode
encode = msgspec.json.Encoder().encode


def answer(msg: Frame) -> bytes:
    """The encoded response to the request ``msg`` (one that has an id)."""
    params = msg.params
    modern = params is not None and params.meta is not None and META_VERSION in params.meta
    method = msg.method
    result: dict[str, Any]
    if method == "tools/call" and params is not None:
        arguments = params.arguments or {}
        if params.name == "big":
            text = MEGABYTE
        elif params.name == "blob":
            text = blob_text(arguments["size"])
        else:
            text = arguments.get("text", "")
        result = {"content": [{"type": "text", "text": text}], "isError": False}
    elif method == "tools/list":
        result = {"tools": [ECHO_TOOL]}
        if modern:  # required in 2026-07-28 (the SDK checks)
            result["cacheScope"], result["ttlMs"] = "public", 0
    elif method == "ping":
        result = {}
    elif method == "initialize":
        asked = params.protocolVersion if params is not None else None
        result = {
            "protocolVersion": asked if asked in STATEFUL else STATEFUL[0],
            "capabilities": {"tools": {}},
            "serverInfo": SERVER_INFO,
        }
    elif method == "server/discover":
        result = {
            "supportedVersions": [MODERN],
            "capabilities": {"tools": {}},
            "_meta": {"io.modelcontextprotocol/serverInfo": SERVER_INFO},
            "cacheScope": "public",
            "ttlMs": 0,
        }
        modern = True
    else:
        error = {"code": -32601, "message": f"Method not found: {method}"}
        return encode({"jsonrpc": "2.0", "id": msg.id, "error": error})
    if modern:
        result["resultType"] = "complete"
    return encode({"jsonrpc": "2.0", "id": msg.id, "result": result})


LIMIT = 1 << 24
"""Bytes of one line at most, without its newline (mcpbind's default ``max_line``, and what the streams
loop gave its ``StreamReader``)."""
READ_SIZE = 64 * 1024
"""The most asyncio's pipe transport reads at a time (its default, 256 KiB, is mapped afresh per read)."""
WRITE_HIGH = 1024 * 1024
"""Bytes of answers buffered for stdout beyond which stdin is not read (mcpbind's ``WRITE_BUFFER_HIGH``)."""


class Lines(asyncio.Protocol):
    """stdin: the requests of each read answered in its callback, their answers in one write."""

    def __init__(self, out: asyncio.WriteTransport, ended: asyncio.Future[None]) -> None:
        self.out = out
        self.ended = ended
        self.transport: asyncio.BaseTransport | None = None
        self.parts: list[bytes] = []  # the start of a line whose newline has not come yet
        self.held = 0  # bytes in `parts`

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        if getattr(transport, "max_size", 0) > READ_SIZE:  # (asyncio's loop; uvloop has none)
            transport.max_size = READ_SIZE  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        out: list[bytes] = []
        try:
            lines = data.split(b"\n")
            rest = lines.pop()  # what follows the last newline: b"" or the start of a line
            long = len(data) > LIMIT  # (else no line of it can be too long)
            if self.parts:
                if not lines:  # (no newline yet: the line held goes on)
                    self.hold(rest)
                    return
                self.parts.append(lines[0])
                lines[0] = b"".join(self.parts)
                self.parts.clear()
                self.held = 0
                long = long or len(lines[0]) > LIMIT
            over = None
            if long:
                over = next((i for i, line in enumerate(lines) if len(line) > LIMIT), None)
                if over is not None:
                    del lines[over:]  # (those before it are answered first, as the streams loop did)
            for line in lines:
                try:
                    msg = decode(line)
                except msgspec.DecodeError:
                    if line.strip():
                        raise
                    continue  # a blank line
                if msg.id is not None and msg.method is not None:  # (else a notification or a response)
                    out.append(answer(msg))
            if over is not None:
                raise ValueError(f"a line exceeds the limit of {LIMIT} bytes")
            if rest:
                self.hold(rest)
        except Exception as exc:  # (a read callback's error would only be logged: it ends the floor)
            self.fail(exc)
        if out:
            out.append(b"")  # (the newline after the last answer)
            self.out.write(b"\n".join(out))

    def fail(self, exc: Exception) -> None:
        if not self.ended.done():
            self.ended.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    def hold(self, part: bytes) -> None:
        self.parts.append(part)
        self.held += len(part)
        if self.held > LIMIT:
            raise ValueError(f"a line exceeds the limit of {LIMIT} bytes")

    def eof_received(self) -> bool | None:
        if self.parts:  # a last line with no newline: read as the streams loop's `readline` gives it
            self.data_received(b"\n")
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class Output(asyncio.Protocol):
    """stdout: stdin's reading paused while the client does not read (`WRITE_HIGH`), and the end."""

    def __init__(self, closed: asyncio.Future[None]) -> None:
        self.closed = closed
        self.reading: asyncio.ReadTransport | None = None

    def pause_writing(self) -> None:
        if self.reading is not None and not self.reading.is_closing():
            self.reading.pause_reading()

    def resume_writing(self) -> None:
        if self.reading is not None and not self.reading.is_closing():
            self.reading.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def main() -> None:
    """Serve stdin/stdout until the end of stdin (or an error: raised)."""
    loop = asyncio.get_running_loop()
    ended, closed = loop.create_future(), loop.create_future()
    out, output = await loop.connect_write_pipe(lambda: Output(closed), sys.stdout)
    out.set_write_buffer_limits(high=WRITE_HIGH)
    output.reading, _ = await loop.connect_read_pipe(lambda: Lines(out, ended), sys.stdin)
    try:
        await ended
    finally:
        out.close()  # (once what is buffered is written)
        await closed


if __name__ == "__main__":
    serve = main
    if "--streams" in sys.argv[1:]:  # (its own module: this script, compiled at each start, stays short)
        from floor_streams import main_streams as serve
    if "--uvloop" in sys.argv[1:]:  # the same floor on the loop mcpbind's run_stdio uses
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())
