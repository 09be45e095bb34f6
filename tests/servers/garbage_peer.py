"""A stdio "MCP server" that answers garbage or dies, for the CLI's hostile tests:
`python tests/servers/garbage_peer.py MODE` (each mode below misbehaves at one step; others are honest)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MODE = sys.argv[1]


def out(message: Any) -> None:
    sys.stdout.write((message if isinstance(message, str) else json.dumps(message)) + "\n")
    sys.stdout.flush()


def answer(rid: Any, result: Any) -> None:
    out({"jsonrpc": "2.0", "id": rid, "result": result})


def initialize(rid: Any, params: Any) -> None:
    if MODE == "init_not_json":
        out("hello {")
        out({"jsonrpc": "2.0", "id": rid, "error": "not an error object"})
    elif MODE == "init_bad_error":
        out({"jsonrpc": "2.0", "id": rid, "error": {"code": "x", "message": 5}})
    elif MODE == "init_wrong_types":
        answer(rid, {"protocolVersion": 5, "capabilities": [], "serverInfo": "x"})
    elif MODE == "init_unknown_version":
        answer(
            rid,
            {
                "protocolVersion": "1999-01-01",
                "capabilities": {},
                "serverInfo": {"name": "g", "version": "0"},
            },
        )
    elif MODE == "init_die":
        os._exit(0)
    else:
        info = {"name": "garbage", "version": "0"}
        answer(
            rid,
            {"protocolVersion": params["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": info},
        )


ESCAPES = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\x9b31m"
"""Escape sequences (write the clipboard, clear the screen, C1 CSI) and a carriage return."""


def call(rid: Any, params: Any) -> None:
    if MODE == "call_escapes":
        # Terminal escapes in everything the command shows on stderr: a log message (its level,
        # logger and data), a progress message, the error's message.
        token = (params.get("_meta") or {}).get("progressToken")
        note = {"progressToken": token, "progress": 1, "total": 2, "message": ESCAPES}
        out({"jsonrpc": "2.0", "method": "notifications/progress", "params": note})
        log = {"level": "error", "logger": ESCAPES, "data": ESCAPES}
        out({"jsonrpc": "2.0", "method": "notifications/message", "params": log})
        out({"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": ESCAPES}})
    elif MODE == "call_die":
        os._exit(1)
    elif MODE == "call_bad_error":
        out({"jsonrpc": "2.0", "id": rid, "error": {"code": -32000}})
    elif MODE == "call_wrong_types":
        answer(rid, {"content": 5})
    elif MODE == "call_invalid_utf8":
        sys.stdout.buffer.write(
            b'{"jsonrpc":"2.0","id":' + json.dumps(rid).encode() + b',"result":{"x":"\xff"}}\n'
        )
        sys.stdout.flush()
    else:
        answer(rid, {"content": [{"type": "text", "text": "ok"}]})


if MODE == "exit_at_once":
    sys.exit(3)
for line in sys.stdin:
    try:
        message = json.loads(line)
    except ValueError:
        continue
    method, rid = message.get("method"), message.get("id")
    if rid is None:
        continue
    if method == "initialize":
        initialize(rid, message.get("params") or {})
    elif method == "tools/call":
        call(rid, message.get("params") or {})
    else:
        answer(rid, {})
