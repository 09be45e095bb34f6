"""A stdio MCP server (2025-11-25) that answers `tools/call` in bursts, for the stdio client's write tests.

`python tests/servers/burst_stdio.py N`

`initialize` and `ping` are answered at once; a `tools/call` waits until N of them wait, then all N are
answered in one write (each echoing its `arguments.text`), so the client reads them in one chunk (the
write is under `PIPE_BUF`: the pipe hands it over whole). Notifications are dropped.
"""

from __future__ import annotations

import json
import os
import sys


def answer(rid: object, result: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode() + b"\n"


def main() -> None:
    burst = int(sys.argv[1])
    waiting: list[bytes] = []
    for line in sys.stdin.buffer:
        message = json.loads(line)
        rid, method = message.get("id"), message.get("method")
        if rid is None or method is None:
            continue
        if method == "initialize":
            info = {"name": "burst", "version": "0"}
            result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": info}
            os.write(1, answer(rid, result))
        elif method == "tools/call":
            text = message["params"]["arguments"]["text"]
            waiting.append(answer(rid, {"content": [{"type": "text", "text": text}], "isError": False}))
            if len(waiting) == burst:
                os.write(1, b"".join(waiting))
                waiting.clear()
        else:
            os.write(1, answer(rid, {}))


if __name__ == "__main__":
    main()
