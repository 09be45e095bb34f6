"""A stdio server sends what its read loop wrote before the loop next waits, whatever it waits for:
the read loop holds its writes while it handles a burst (no flush scheduled for a later loop turn) and
releases them as it waits. Nothing it wrote may sit unsent while it waits: a request a tool sends in
its first step, one a notification handler sends while the loop awaits it, notifications ahead of the
answer they precede (in order), and a burst's answers; each checked against a real server process
that gets no further input until what it owes has arrived."""

from __future__ import annotations

import json
import sys
from typing import Any

from ..stdio_support import LineProcess

SERVER = """
import sys
from mcpbind.server import Context, Server

server = Server("turns")

@server.tool()
async def ask(ctx: Context) -> str:
    roots = await ctx.list_roots()
    return f"{len(roots)} roots"

@server.tool()
async def steps(ctx: Context) -> str:
    await ctx.progress(1, 2)
    await ctx.progress(2, 2)
    return "done"

@server.tool()
def echo(text: str) -> str:
    return text

server.run_stdio()
"""

LOWLEVEL = """
import asyncio
from mcpbind.generated import v2025_11_25 as mcp
from mcpbind.server.lowlevel import HandlerContext, HandlerServer
from mcpbind.transports.stdio import StdioServerTransport

TASKS = set()

class Handler:
    async def initialize(self, params, ctx, /):
        return mcp.InitializeResult(
            protocol_version="2025-11-25",
            capabilities=mcp.ServerCapabilities(),
            server_info=mcp.Implementation(name="turns", version="1"),
        )

    async def on_roots_list_changed(self, params, ctx, /):
        # The read loop awaits this handler (notifications are handled in order), so the request's
        # answer is awaited by a task of its own, which the loop's next read feeds.
        TASKS.add(asyncio.ensure_future(self.recount(ctx)))

    async def recount(self, ctx):
        result = await ctx.client.list_roots()
        await ctx.client.notify_logging_message(
            mcp.LoggingMessageNotificationParams(level="info", data=len(result.roots))
        )

async def main():
    transport = StdioServerTransport()
    await transport.start()
    await HandlerServer(Handler(), "2025-11-25").serve(transport)

asyncio.run(main())
"""


class Process(LineProcess):
    def __init__(self, source: str) -> None:
        super().__init__([sys.executable, "-c", source], keep_stderr=True)
        init = {
            "protocolVersion": "2025-11-25",
            "capabilities": {"roots": {"listChanged": True}},
            "clientInfo": {"name": "turns", "version": "0"},
        }
        self.write({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": init})
        assert self.lines(1)[0]["id"] == "init"
        self.write({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def write(self, *messages: dict[str, Any]) -> None:
        self.write_lines([json.dumps(m).encode() for m in messages])


def call(
    rid: int, name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


def test_a_request_sent_in_a_tools_first_step_arrives_with_no_more_input() -> None:
    server = Process(SERVER)
    try:
        for rid in range(1, 4):  # (again and again: each time the loop waits with it held)
            server.write(call(rid, "ask", {}))
            (asked,) = server.lines(1)
            assert asked["method"] == "roots/list", asked
            server.write({"jsonrpc": "2.0", "id": asked["id"], "result": {"roots": [{"uri": "file:///"}]}})
            (answer,) = server.lines(1)
            assert answer["id"] == rid and answer["result"]["content"][0]["text"] == "1 roots", answer
    finally:
        server.close()


def test_notifications_go_ahead_of_their_answer_and_a_burst_is_answered_in_full() -> None:
    server = Process(SERVER)
    try:
        server.write(call(1, "steps", {}, {"progressToken": "p"}))
        first, second, answer = server.lines(3)
        assert [first["params"]["progress"], second["params"]["progress"]] == [1, 2]
        assert answer["id"] == 1 and answer["result"]["content"][0]["text"] == "done"
        burst = [call(rid, "echo", {"text": str(rid)}) for rid in range(10, 26)]
        server.write(*burst)
        answers = server.lines(16)
        assert [a["id"] for a in answers] == list(range(10, 26))  # each answered in its turn, in order
        assert [a["result"]["content"][0]["text"] for a in answers] == [str(rid) for rid in range(10, 26)]
    finally:
        server.close()


def test_a_request_sent_for_a_notification_arrives_and_its_answer_is_read() -> None:
    server = Process(LOWLEVEL)
    try:
        server.write({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
        (asked,) = server.lines(1)
        assert asked["method"] == "roots/list", asked
        server.write({"jsonrpc": "2.0", "id": asked["id"], "result": {"roots": []}})
        (logged,) = server.lines(1)
        assert logged["method"] == "notifications/message" and logged["params"]["data"] == 0, logged
        server.write({"jsonrpc": "2.0", "id": 7, "method": "ping"})
        assert server.lines(1)[0] == {"jsonrpc": "2.0", "id": 7, "result": {}}
    finally:
        server.close()
