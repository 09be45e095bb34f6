"""A stdio MCP server whose answers are scripted, for the client's hostile-server tests.

`python tests/servers/scripted_stdio.py SCRIPT REVISION`

SCRIPT is a file of lines. Each request but `initialize` and `ping` takes the next line and answers
with it, `ID` replaced by the request's id in JSON and `TOKEN` by its progress token (the line is sent
as it is: any bytes, no JSON at all, a result of any shape); a line starting with `!` is sent as it is
(replaced alike), and the next line is taken too (messages before the answer: notifications,
requests, other ids). `initialize` (session revisions) is answered honestly for REVISION, `ping` with
an empty result: the client's check that the session goes on.
"""

from __future__ import annotations

import json
import sys


def send(line: bytes) -> None:
    sys.stdout.buffer.write(line + b"\n")
    sys.stdout.buffer.flush()


def main() -> None:
    with open(sys.argv[1], "rb") as script:
        lines = [line.rstrip(b"\n") for line in script]
    revision = sys.argv[2]
    taken = 0
    for line in sys.stdin.buffer:
        message = json.loads(line)
        rid, method = message.get("id"), message.get("method")
        if rid is None or "method" not in message:
            continue  # notifications, and the client's answers to our requests
        rid_json = json.dumps(rid).encode()
        token = json.dumps(((message.get("params") or {}).get("_meta") or {}).get("progressToken")).encode()
        if method == "initialize":
            info = {"name": "scripted", "version": "0"}
            result = {
                "protocolVersion": revision,
                "capabilities": {"tools": {}, "resources": {}},
                "serverInfo": info,
            }
            send(json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode())
        elif method == "ping":
            send(b'{"jsonrpc":"2.0","id":' + rid_json + b',"result":{}}')
        else:
            while taken < len(lines):
                out = lines[taken]
                taken += 1
                if out.startswith(b"!"):
                    send(out[1:].replace(b"ID", rid_json).replace(b"TOKEN", token))
                    continue
                send(out.replace(b"ID", rid_json).replace(b"TOKEN", token))
                break


if __name__ == "__main__":
    main()
