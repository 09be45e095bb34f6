"""A stdio MCP server that misbehaves on purpose, for the client's hostile tests.

`python tests/servers/hostile_stdio.py MODE [SIZE]`

A `ping` whose `_meta` has `size` uses that instead of SIZE.

It answers `initialize` (2025-11-25), ignores notifications and answers `tools/list` with no tools;
`ping` is where it misbehaves, as MODE says:

- `stop-reading`: never reads its stdin again after `initialize` (it stays alive, idle).
- `huge-line`: `ping` is answered with a line of about SIZE bytes, its id first.
- `huge-line-id-last`: the same, its id last (as servers built on the TypeScript SDK order members).
- `bad-lines`: before answering `ping` it writes a line that is no UTF-8 and a notification nested
  100000 levels deep, then answers `ping` with a result that is no UTF-8 JSON.
- `deep-answer`: `ping` is answered with a result nested 100000 levels deep, its id last.
- `truncated`: `ping` is answered with a line cut short (no JSON), its id first.
- `stderr-flood`: before answering `ping` it writes SIZE bytes to stderr, then a last line `the end`.
- `bad-logs`: before answering `ping` it sends log notifications the schema forbids (no level, a
  level of no name, no data), then one it allows (`{"level": "info", "data": "ok"}`).
- `null-id-probe`: `server/discover` is refused with a JSON-RPC error whose id is null (as a server
  that takes no request before `initialize` may do).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

REVISION = "2025-11-25"


def send(line: bytes) -> None:
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.buffer.flush()


def answer(rid: Any, result: Any) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()


def ping(mode: str, size: int, rid: Any) -> None:
    rid_json = json.dumps(rid).encode()
    pad = b"x" * size
    if mode == "huge-line":
        send(b'{"jsonrpc":"2.0","id":' + rid_json + b',"result":{"_meta":{"pad":"' + pad + b'"}}}')
    elif mode == "huge-line-id-last":
        send(b'{"result":{"_meta":{"pad":"' + pad + b'"}},"jsonrpc":"2.0","id":' + rid_json + b"}")
    elif mode == "bad-lines":
        send(b'{"jsonrpc":"2.0","method":"notifications/message","params":{"data":"\xff\xfe"}}')
        send(
            b'{"jsonrpc":"2.0","method":"notifications/message","params":{"data":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}"
        )
        send(b'{"jsonrpc":"2.0","id":' + rid_json + b',"result":{"_meta":{"x":"\xff"}}}')
    elif mode == "deep-answer":
        send(
            b'{"result":{"_meta":{"x":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b'}},"jsonrpc":"2.0","id":'
            + rid_json
            + b"}"
        )
    elif mode == "bad-logs":
        forbidden = ({"data": "x"}, {"level": "loud", "data": 1}, {"level": 5, "data": 1}, {"level": "info"})
        for params in forbidden:
            send(json.dumps({"jsonrpc": "2.0", "method": "notifications/message", "params": params}).encode())
        send(b'{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"ok"}}')
        send(answer(rid, {}))
    elif mode == "truncated":
        send(b'{"jsonrpc":"2.0","id":' + rid_json + b',"result":{"_meta":')
    elif mode == "stderr-flood":
        line = b"chatter " * 127 + b"\n"
        for _ in range(size // len(line)):
            sys.stderr.buffer.write(line)
        sys.stderr.buffer.write(b"the end\n")
        sys.stderr.buffer.flush()
        send(answer(rid, {}))
    else:
        send(answer(rid, {}))


def main() -> None:
    mode = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    for line in sys.stdin.buffer:
        message = json.loads(line)
        rid, method = message.get("id"), message.get("method")
        if rid is None:
            continue
        if method == "server/discover" and mode == "null-id-probe":
            error = {"code": -32600, "message": "Bad Request: Server not initialized"}
            send(json.dumps({"jsonrpc": "2.0", "id": None, "error": error}).encode())
        elif method == "initialize":
            info = {"name": "hostile", "version": "0"}
            send(
                answer(rid, {"protocolVersion": REVISION, "capabilities": {"tools": {}}, "serverInfo": info})
            )
            if mode == "stop-reading":
                time.sleep(120)  # the client kills us long before
                return
        elif method == "tools/list":
            send(answer(rid, {"tools": []}))
        elif method == "ping":
            ping(mode, ((message.get("params") or {}).get("_meta") or {}).get("size", size), rid)
        else:
            error = {"code": -32601, "message": f"Method not found: {method}"}
            send(json.dumps({"jsonrpc": "2.0", "id": rid, "error": error}).encode())


if __name__ == "__main__":
    main()
