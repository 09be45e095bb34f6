"""A stdio server of a revision newer than any mcpbind speaks (2026-12-15), written by hand: every
request is refused with UnsupportedProtocolVersionError naming that revision alone, `initialize`
with Method not found naming none. `--silent`: no answer to anything (a server that never answers).

`python tests/servers/future_only.py [--silent]`
"""

from __future__ import annotations

import json
import sys

FUTURE = "2026-12-15"


def main() -> None:
    silent = "--silent" in sys.argv[1:]
    for line in sys.stdin:
        message = json.loads(line)
        if silent or "id" not in message or "method" not in message:
            continue
        if message["method"] == "initialize":
            error = {"code": -32601, "message": "Method not found"}
        else:
            meta = (message.get("params") or {}).get("_meta") or {}
            requested = meta.get("io.modelcontextprotocol/protocolVersion")
            data = {"supported": [FUTURE], "requested": requested}
            error = {"code": -32022, "message": "Unsupported protocol version", "data": data}
        sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "error": error}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
