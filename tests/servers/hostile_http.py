"""A raw HTTP/1.1 MCP server on 127.0.0.1 that misbehaves on purpose, for the client's hostile tests.

`python tests/servers/hostile_http.py --http PORT --mode MODE [--size N]`

A `ping` whose `_meta` has `size` uses that instead of `--size`.

It speaks just enough stateful MCP (2025-11-25) for a client to connect: `initialize` (with a session
id), notifications (202), `tools/list` (no tools). `ping` is where it misbehaves, as MODE says:

- `ts-probe`: as servers built on the TypeScript SDK do, `server/discover` is refused at once with
  HTTP 400 and a JSON-RPC error whose `id` is null; everything else is answered normally.
- `huge-json`: `ping` is answered with a JSON body of about N bytes.
- `huge-sse`: `ping` is answered with an SSE stream whose one event is a line of about N bytes.
- `huge-headers`: `ping` is answered with N bytes of repeated response headers.
- `many-headers`: `ping` is answered with N small repeated response headers.
- `sse-no-answer`: `ping` is answered with an SSE stream that carries a notification, no event id,
  and ends without the answer.
- `bad-events`: `ping` is answered with an SSE stream whose events are: a notification that is no
  UTF-8, a deeply nested notification, then the answer, whose result is no UTF-8 JSON.
- `deep-json`: `ping` is answered with a JSON body nested N levels deep.
- `silent`: `ping` is never answered (the connection stays open, and other connections are served).
- `slow-body`: `ping` is answered with a JSON body whose second half comes 0.3 s after its head.
- `non-ascii`: `ping` is answered with a JSON result holding non-ASCII text.
- `type-lie`: `ping` is answered with a 200 said to be JSON whose body is an SSE event.
- `sse-as-json`: `ping` is answered with a JSON answer said to be an SSE stream.
- `empty-200`: `ping` is answered with a 200 said to be JSON, with an empty body.
- `redirect-loop`: `ping` is answered with a 307 to the same URL, again and again.
- `sse-comments`: `ping` is answered with an SSE stream of N comment lines, then its end.
- `sse-long-comment`: `ping` is answered with an SSE stream of one comment line of N bytes.
- `sse-no-data`: `ping` is answered with an SSE stream of events that carry an id but no data.
- `wrong-id`: `ping` is answered with a JSON answer (a result) naming another id.
- `float-id`: `ping` is answered with a JSON answer whose id is the request's as a float (`2.0`).
- `error-wrong-id`: `ping` is answered with HTTP 200 and a JSON error naming another id.
- `empty-batch`: `ping` is answered with a JSON body `[]`.
- `notification`: `ping` is answered with a JSON body that is a notification, not an answer.
- `accepted`: `ping` is answered with 202 Accepted and no body, as a notification would be.
- `redirect-ftp`: `ping` is answered with a 307 to an `ftp:` URL.
- `redirect-port`: `ping` is answered with a 307 to a URL whose port is out of range.
- `type-case`: `ping` is answered with a JSON answer whose Content-Type is `Application/JSON`.
- `sse-type-case`: `ping` is answered with an SSE stream whose Content-Type is `Text/Event-Stream`.
- `sse-bom`: `ping` is answered with an SSE stream that opens with a byte order mark.
- `sse-retry-digits`: `ping` is answered with an SSE stream whose `retry` has 5000 digits.
- `sse-other-events`: `ping` is answered with an SSE stream of events of other types (a keep-alive
  `ping` whose data is no JSON-RPC message, an `endpoint`), then the answer.

Anything else the client POSTs that is a request gets a JSON-RPC error (method not found).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

SESSION = "hostile-session"
REVISION = "2025-11-25"


def _head(status: str, headers: list[tuple[str, str]], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _json(status: str, body: bytes, extra: list[tuple[str, str]] | None = None) -> bytes:
    return _head(status, [("content-type", "application/json"), *(extra or [])], len(body)) + body


def _answer(rid: Any, result: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()


def _sse(events: list[bytes]) -> bytes:
    """A whole event stream, delimited by the end of the connection."""
    body = b"".join(b"data: " + event + b"\n\n" for event in events)
    head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
    return head + body


def ping_answer(mode: str, size: int, rid: Any) -> bytes:
    if mode == "huge-json":
        return _json("200 OK", _answer(rid, {"_meta": {"pad": "x" * size}}))
    if mode == "huge-sse":
        return _sse([_answer(rid, {"_meta": {"pad": "x" * size}})])
    if mode == "huge-headers":
        line = ("x-pad", "y" * 1000)
        return _json("200 OK", _answer(rid, {}), [line] * (size // 1000 + 1))
    if mode == "many-headers":
        return _json("200 OK", _answer(rid, {}), [("x-pad", "y")] * size)
    if mode == "sse-no-answer":
        return _sse(
            [b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":1}}']
        )
    if mode == "bad-events":
        return _sse(
            [
                b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"\xff\xfe"}}',
                b'{"jsonrpc":"2.0","method":"notifications/message","params":{"data":'
                + b"[" * 100_000
                + b"]" * 100_000
                + b"}}",
                b'{"jsonrpc":"2.0","id":' + json.dumps(rid).encode() + b',"result":{"_meta":{"x":"\xff"}}}',
            ]
        )
    if mode == "non-ascii":
        return _json(
            "200 OK", json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"_meta": {"x": "é✓"}}}).encode()
        )
    if mode == "deep-json":
        body = b'{"result":{"_meta":{"x":' + b"[" * size + b"]" * size + b'}},"jsonrpc":"2.0","id":'
        return _json("200 OK", body + json.dumps(rid).encode() + b"}")
    if mode == "redirect-loop":
        return _head("307 Temporary Redirect", [("location", "/mcp")], 0)
    if mode == "empty-200":
        return _head("200 OK", [("content-type", "application/json")], 0)
    if mode == "type-lie":
        return _json("200 OK", b"data: " + _answer(rid, {}) + b"\n\n")
    if mode == "sse-as-json":
        body = _answer(rid, {})
        return _head("200 OK", [("content-type", "text/event-stream")], len(body)) + body
    if mode == "sse-comments":
        head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
        return head + b": keep\n" * size
    if mode == "sse-long-comment":
        head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
        return head + b":" + b"x" * size + b"\n\n"
    if mode == "sse-no-data":
        head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
        return head + b"event: message\nid: 1\n\n" * 3
    if mode == "wrong-id":
        return _json("200 OK", _answer(rid + 1000 if isinstance(rid, int) else "other", {}))
    if mode == "float-id":
        return _json("200 OK", b'{"jsonrpc":"2.0","id":%d.0,"result":{}}' % rid)
    if mode == "error-wrong-id":
        error = {"jsonrpc": "2.0", "id": "other", "error": {"code": -32603, "message": "x"}}
        return _json("200 OK", json.dumps(error).encode())
    if mode == "empty-batch":
        return _json("200 OK", b"[]")
    if mode == "notification":
        return _json("200 OK", b'{"jsonrpc":"2.0","method":"notifications/message","params":{"data":1}}')
    if mode == "accepted":
        return _head("202 Accepted", [], 0)
    if mode == "redirect-ftp":
        return _head("307 Temporary Redirect", [("location", "ftp://127.0.0.1/mcp")], 0)
    if mode == "redirect-port":
        return _head("307 Temporary Redirect", [("location", "http://127.0.0.1:99999/mcp")], 0)
    if mode == "type-case":
        body = _answer(rid, {})
        return _head("200 OK", [("content-type", "Application/JSON; charset=utf-8")], len(body)) + body
    if mode == "sse-type-case":
        head = _head("200 OK", [("content-type", "Text/Event-Stream"), ("connection", "close")], None)
        return head + b"data: " + _answer(rid, {}) + b"\n\n"
    if mode == "sse-other-events":
        head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
        others = b"event: ping\ndata: {}\n\nevent: endpoint\ndata: /elsewhere\n\n"
        return head + others + b"event: message\ndata: " + _answer(rid, {}) + b"\n\n"
    if mode in ("sse-bom", "sse-retry-digits"):
        head = _head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")], None)
        lead = b"\xef\xbb\xbf" if mode == "sse-bom" else b"retry: " + b"9" * 5000 + b"\n"
        return head + lead + b"data: " + _answer(rid, {}) + b"\n\n"
    return _json("200 OK", _answer(rid, {}))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, mode: str, size: int) -> None:
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method = head[0].split(" ")[0]
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if method == "GET":
                writer.write(_head("405 Method Not Allowed", [], 0))
            elif method == "DELETE":
                writer.write(_head("200 OK", [], 0))
            else:
                message = json.loads(body)
                data = answer(message, mode, size)
                if message.get("method") == "ping" and mode == "silent":
                    await asyncio.Event().wait()  # until the client goes (the connection ends it)
                if message.get("method") == "ping" and mode == "slow-body":
                    half = data.find(b"\r\n\r\n") + 4 + 10
                    writer.write(data[:half])
                    await writer.drain()
                    await asyncio.sleep(0.3)
                    data = data[half:]
                writer.write(data)
                if b"\r\nconnection: close\r\n" in data[: data.find(b"\r\n\r\n") + 2]:
                    await writer.drain()
                    return  # the body ends with the connection
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def answer(message: dict[str, Any], mode: str, size: int) -> bytes:
    rid, name = message.get("id"), message.get("method")
    if rid is None:
        return _head("202 Accepted", [], 0)
    if name == "server/discover" and mode == "ts-probe":
        error = b'{"code":-32000,"message":"Bad Request: Server not initialized"}'
        refusal = b'{"jsonrpc":"2.0","error":' + error + b',"id":null}'
        return _json("400 Bad Request", refusal)
    if name == "initialize":
        result = {
            "protocolVersion": REVISION,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "hostile", "version": "0"},
        }
        return _json("200 OK", _answer(rid, result), [("mcp-session-id", SESSION)])
    if name == "tools/list":
        return _json("200 OK", _answer(rid, {"tools": []}))
    if name == "ping":
        return ping_answer(mode, ((message.get("params") or {}).get("_meta") or {}).get("size", size), rid)
    error = {"jsonrpc": "2.0", "id": rid, "error": {"code": -32601, "message": f"Method not found: {name}"}}
    return _json("200 OK", json.dumps(error).encode())


async def main(port: int, mode: str, size: int) -> None:
    server = await asyncio.start_server(lambda r, w: handle(r, w, mode, size), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, required=True, metavar="PORT")
    parser.add_argument("--mode", default="")
    parser.add_argument("--size", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.http, args.mode, args.size))
