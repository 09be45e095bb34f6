"""A server whose tools run as tasks, for tests/e2e/test_tasks.py: over stdio by default, or
`--http PORT`; `--max-per-client N` / `--max-total N` set the task bounds, `--trace` starts tracemalloc
(read back with the `stats` tool), `--users alice-token=alice,...` accepts those bearer tokens (HTTP)
and makes each token's user the principal; `--redis URL` keeps tasks (and sessions) in that Redis, as
one of several workers (HTTP), `--peer-wait S` sets how long a `tasks/result` waits for word from them."""

from __future__ import annotations

import argparse
import asyncio
import os
import tracemalloc
from typing import Any

from mcpbind.errors import McpError
from mcpbind.server import Context, Server, TaskPolicy, ToolError

parser = argparse.ArgumentParser()
parser.add_argument("--http", type=int, default=None, metavar="PORT")
parser.add_argument("--max-per-client", type=int, default=100)
parser.add_argument("--max-total", type=int, default=10_000)
parser.add_argument("--trace", action="store_true")
parser.add_argument("--users", default="")
parser.add_argument("--redis", default=None)
parser.add_argument("--peer-wait", type=float, default=None, help="seconds: Tasks.peer_wait")
parser.add_argument("--bound-loopback", action="store_true", help="no uncapped_networks: loopback bounded")
args = parser.parse_args()

policy = TaskPolicy(max_per_client=args.max_per_client, max_total=args.max_total, poll_interval_ms=50)
server = Server("tasks", "1.0.0", task_policy=policy)
gate = asyncio.Event()
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def plain(text: str) -> str:
    return text


@server.tool(task_support="optional")
async def slow(seconds: float = 0.2, text: str = "done") -> str:
    await asyncio.sleep(seconds)
    return text


@server.tool(task_support="required")
async def only_task(seconds: float = 0.0) -> str:
    await asyncio.sleep(seconds)
    return "only as a task"


@server.tool(task_support="optional")
async def broken() -> str:
    raise ToolError("it broke")


@server.tool(task_support="optional")
async def protocol_failure() -> str:
    raise McpError("deliberate protocol error", code=-32603, data={"why": "test"})


@server.tool(task_support="optional")
async def ask_name(ctx: Context) -> str:
    outcome = await ctx.elicit("Your name?", NAME, key="name")
    return f"hello {(outcome.content or {}).get('name')}"


@server.tool(task_support="optional")
async def two_names(ctx: Context) -> str:
    """Asks two questions at once: two input requests pending together, answerable one at a time."""
    first, second = await asyncio.gather(
        ctx.elicit("First name?", NAME, key="first"), ctx.elicit("Second name?", NAME, key="second")
    )
    return f"{(first.content or {}).get('name')} and {(second.content or {}).get('name')}"


@server.tool(task_support="required", defer_task=True)
async def name_then_task(ctx: Context) -> str:
    outcome = await ctx.elicit("Your name?", NAME, key="name")
    await ctx.become_task()
    await asyncio.sleep(0.05)
    return f"task for {(outcome.content or {}).get('name')}"


@server.tool(task_support="optional")
async def sample_as_task(ctx: Context) -> str:
    """Asks the client's model as a task of the client's (2025-11-25 task-augmented sampling)."""
    answer = await ctx.sample([{"role": "user", "content": {"type": "text", "text": "hi"}}], 50, as_task=True)
    return f"model said {answer.content.text}"


@server.tool(task_support="optional")
async def elicit_as_task(ctx: Context) -> str:
    outcome = await ctx.elicit("Your name?", NAME, as_task=True)
    return f"hello {(outcome.content or {}).get('name')} ({outcome.action})"


@server.tool(task_support="optional")
async def hold() -> str:
    await gate.wait()
    return "released"


@server.tool(task_support="optional")
async def hold_marked(path: str) -> str:
    """Held until cancelled; the cancel, reaching this code, writes `path` (read by another process)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        with open(path, "w") as marker:
            marker.write(str(os.getpid()))
        raise
    return "never"


cleaned: list[str] = []


@server.tool(task_support="optional")
async def hold_tidy(key: str) -> str:
    """Held until cancelled; its cleanup takes a while (it waits) before it notes `key` as cleaned."""
    try:
        await asyncio.Event().wait()
    finally:
        await asyncio.sleep(0.3)
        cleaned.append(key)
    return "never"


@server.tool()
async def tidied() -> list[str]:
    return cleaned


@server.tool()
async def pid() -> int:
    return os.getpid()


latches: dict[str, asyncio.Event] = {}


@server.tool(task_support="optional")
async def latched(key: str) -> str:
    """Runs until `open_latch(key)` is called (each key its own latch: tests sharing a server stay apart)."""
    await latches.setdefault(key, asyncio.Event()).wait()
    return f"latch {key} opened"


@server.tool()
async def open_latch(key: str) -> str:
    latches.setdefault(key, asyncio.Event()).set()
    return "ok"


@server.tool()
async def release() -> str:
    gate.set()
    return "ok"


@server.tool()
async def stats() -> dict[str, Any]:
    tasks = server.tasks
    assert tasks is not None
    traced = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else -1
    return {"running": tasks.running(), "waiting": tasks.waiting(), "traced": traced}


if __name__ == "__main__":
    if args.peer_wait is not None:
        assert server.tasks is not None
        server.tasks.peer_wait = args.peer_wait
    if args.trace:
        tracemalloc.start()
    if args.http is not None:
        from mcpbind.transports.http import HttpSecurity

        security = HttpSecurity(uncapped_networks=()) if args.bound_loopback else None
        if args.users:
            users = dict(pair.split("=", 1) for pair in args.users.split(","))

            async def verify(token: str) -> str | None:
                return users.get(token)

            security = HttpSecurity(verify_token=verify)
        server.run_http(port=args.http, security=security, redis=args.redis, log_level="warning")
    else:
        server.run_stdio()
