"""The server as a task requestor (2025-11-25): a handler asks the client for sampling or elicitation as
a task (`ctx.sample(..., as_task=True)`, `ctx.elicit(..., as_task=True)`). The request carries `task`,
the client answers `CreateTaskResult` at once and runs its callback on; the server polls `tasks/get`
(backing off up to the client's `pollInterval`) and fetches `tasks/result`, which answers exactly what
the plain request would have. A handler cancelled meanwhile cancels the client's task (`tasks/cancel`).

Only for a client that declares the request in `tasks.requests` (`sampling.createMessage`,
`elicitation.create`); 2026-07-28 has no server-to-client requests, so there the ask is the era's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Any, Final

from .. import wire
from ..errors import McpError
from ..protocol import tasks as proto

if TYPE_CHECKING:
    from .context import Context

__all__ = ["ask_as_task", "client_runs_as_task"]

_FIRST_POLL_S: Final = 0.05
_DEFAULT_POLL_S: Final = 1.0
_CREATE_GRACE_S: Final = 10.0
"""How long a cancelled handler still waits for the client's `CreateTaskResult`, to cancel that task."""
_MAX_WAIT_S: Final = 24 * 3600.0
"""The longest a handler waits for the client's task when its TTL says nothing shorter."""


def client_runs_as_task(ctx: Context, method: str) -> bool:
    """The client declares that it runs `method` as a task (`tasks.requests`, 2025-11-25)."""
    tasks = ctx.client_capabilities.get("tasks")
    if not isinstance(tasks, dict):
        return False
    node: Any = tasks.get("requests")
    for part in method.split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return isinstance(node, dict)


def check_as_task(ctx: Context, method: str) -> None:
    """Raise the error for asking `method` as a task where it cannot be (the revision has no such
    tasks, or the client does not declare it runs them): the server's own check, before anything is sent."""
    if ctx.era.stateless or getattr(ctx.module, "CreateTaskResult", None) is None:
        raise McpError(f"MCP {ctx.revision} has no task-augmented {method}", code=-32601)
    if not client_runs_as_task(ctx, method):
        part, _, leaf = method.partition("/")
        raise ctx.era.missing_capability(
            f"the client does not run {method} as a task (no `tasks.requests.{part}.{leaf}` capability)",
            {"tasks": {"requests": {part: {leaf: {}}}}},
        )


async def ask_as_task(
    ctx: Context, method: str, params: dict[str, Any], result_type: Any, ttl_ms: int | None = None
) -> Any:
    """Ask the client `method` as a task and return its result as `result_type`. What `tasks/result`
    answers with an error (a failed task; a cancelled one, -32800 from mcpbind's client) is raised as
    McpError. A server task asking this stays `working` meanwhile: the client's task is the wait."""
    check_as_task(ctx, method)
    mod = ctx.module
    conn = ctx.connection
    body = {**params, "task": {} if ttl_ms is None else {"ttl": ttl_ms}}
    if ctx.task is not None:  # asked from inside a task of our own: tie the request to it
        body["_meta"] = {**body.get("_meta", {}), proto.RELATED_TASK: {"taskId": ctx.task.task_id}}
    creating = asyncio.ensure_future(conn.ask(method, body, mod.CreateTaskResult, mod))
    try:
        created = await asyncio.shield(creating)
    except asyncio.CancelledError:
        # The client may have started its task already (its answer on the way): wait for the answer,
        # a while, so that the task it names is cancelled too rather than left running for nobody.
        await asyncio.wait({creating}, timeout=_CREATE_GRACE_S)
        if creating.done() and not creating.cancelled() and creating.exception() is None:
            await _cancel(ctx, str(creating.result().task.task_id))
        else:
            creating.cancel()
        raise
    task = wire.to_builtins(created.task)
    task_id = str(task["taskId"])
    try:
        await _until_terminal(ctx, task)
        answer = await conn.ask("tasks/result", {"taskId": task_id}, dict[str, Any], mod)
    except asyncio.CancelledError:
        # The handler was cancelled (its own task cancelled, the request cancelled): stop the
        # client's work too.
        await _cancel(ctx, task_id)
        raise
    meta = answer.get("_meta")
    if isinstance(meta, dict):
        meta.pop(proto.RELATED_TASK, None)
        if not meta:
            del answer["_meta"]
    return wire.convert(answer, result_type)


async def _cancel(ctx: Context, task_id: str) -> None:
    """`tasks/cancel` the client's task, from a handler being cancelled (so, shielded); a task that
    ended meanwhile refuses it, which changes nothing."""
    mod = ctx.module
    with contextlib.suppress(Exception):
        await asyncio.shield(
            ctx.connection.ask("tasks/cancel", {"taskId": task_id}, mod.CancelTaskResult, mod)
        )


async def _until_terminal(ctx: Context, task: dict[str, Any]) -> None:
    """Poll the client's task (its wire form) with `tasks/get` until it is terminal: waits double from
    a short first one, never past the client's `pollInterval`; bounded by the task's TTL."""
    task_id = task["taskId"]
    ttl = task.get("ttl")
    deadline = time.monotonic() + (ttl / 1000 if isinstance(ttl, int) else _MAX_WAIT_S)
    delay = 0.0
    while task.get("status") not in proto.TERMINAL:
        poll = task.get("pollInterval")
        ceiling = poll / 1000 if isinstance(poll, int) and poll > 0 else _DEFAULT_POLL_S
        delay = min(ceiling, max(_FIRST_POLL_S, delay * 2))
        if time.monotonic() + delay > deadline:
            raise McpError(f"the client's task {task_id} did not end within its TTL", code=-32001)
        await asyncio.sleep(delay)
        task = await ctx.connection.ask("tasks/get", {"taskId": task_id}, dict[str, Any], ctx.module)
