"""The task side of requests: whether a `tools/call` runs as a task (per tool, era and client), and the
answers to `tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel` and `tasks/update` in each era.

2025-11-25 (core): the client asks for a task with the `task` member; a tool's `execution.taskSupport`
says whether it may (`optional`), must (`required`) or may not (`forbidden`). 2026-07-28 (the
`io.modelcontextprotocol/tasks` extension): the server decides, for a client that declares the
extension; a tool that runs only as a task refuses other clients with -32021.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from msgspec import UNSET

from .. import wire
from ..errors import McpError, MethodNotFound, quoted
from ..protocol import tasks as proto
from .context import Context
from .features import opt
from .tasks import TaskGate, Tasks

if TYPE_CHECKING:
    from .registry import Server

__all__ = [
    "tool_runner",
    "get_task",
    "get_task_payload",
    "list_tasks",
    "cancel_task",
    "update_task",
    "subscribable_tasks",
]

ToolRun = Callable[[str, "dict[str, Any] | None", Context], Awaitable[Any]]


def tool_runner(server: Server, tasks: Tasks, params: Any, ctx: Context) -> ToolRun | None:
    """How to run this `tools/call`: a runner that starts it as a task and answers `CreateTaskResult`,
    or None to run it as a plain call. Raises the era's error for a call the tool's task support refuses."""
    entry = server.tool_entry(params.name)
    if entry is None:
        return None
    support = entry.task_support
    if ctx.era.stateless:
        if support == "forbidden":
            return None  # a legacy `task` member is tolerated, and never makes a task of it
        extensions = ctx.client_capabilities.get("extensions")
        if not isinstance(extensions, dict) or proto.EXTENSION not in extensions:
            if support == "required":
                raise ctx.era.missing_capability(
                    f"Tool {params.name} runs only as a task: the client must declare the "
                    f"{proto.EXTENSION} extension",
                    {"extensions": {proto.EXTENSION: {}}},
                )
            return None
        ttl = None
    else:
        if getattr(ctx.module, "CreateTaskResult", None) is None:
            return None  # a revision before tasks: nothing to negotiate
        task = getattr(params, "task", UNSET)
        if task is UNSET:
            if support == "required":
                raise MethodNotFound(f"Tool {params.name} must be called as a task (taskSupport: required)")
            return None
        if support == "forbidden":
            raise MethodNotFound(f"Tool {params.name} does not run as a task (taskSupport: forbidden)")
        ttl = opt(task.ttl)
    if entry.defer_task and ctx.era.stateless:
        return _deferred(server, tasks)

    async def start(name: str, arguments: dict[str, Any] | None, c: Context) -> Any:
        record = await tasks.create(c, "tools/call", ttl)
        tasks.attach(record, c, None, lambda run_ctx: server.call_tool(name, arguments, run_ctx))
        return _created(record, c)

    return start


def _deferred(server: Server, tasks: Tasks) -> ToolRun:
    """A tool that asks for input before it becomes a task: it runs as a plain call (its asks answered
    with `InputRequiredResult`) until it calls `Context.become_task`; the request then answers
    `CreateTaskResult` and the rest of the tool runs as the task."""

    async def start(name: str, arguments: dict[str, Any] | None, ctx: Context) -> Any:
        gate = ctx.task_gate = TaskGate()
        job = asyncio.get_running_loop().create_task(server.call_tool(name, arguments, ctx))
        try:
            waits: set[asyncio.Future[Any]] = {job, gate.started}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if job.done():
                return job.result()  # a plain answer, or the NeedInput that asks for input
            record = await tasks.create(ctx, "tools/call", None)
        except BaseException:
            job.cancel()
            raise
        tasks.attach(record, ctx, job, None)
        return _created(record, ctx)

    return start


def _created(record: proto.TaskRecord, ctx: Context) -> Any:
    if ctx.era.stateless:
        return proto.CreatedTask.of(record)
    mod = ctx.module
    return mod.CreateTaskResult(task=wire.convert(proto.core_task(record), mod.Task))


def _tasks(server: Server, ctx: Context, method: str) -> Tasks:
    """The server's tasks, for a request the client may make: none registered -> not found; in the
    envelope era, a client that did not declare the extension -> -32021."""
    tasks = server.tasks
    if tasks is None:
        raise MethodNotFound(f"Method not found: {quoted(method)} (this server runs no tasks)")
    if ctx.era.stateless:
        extensions = ctx.client_capabilities.get("extensions")
        if not isinstance(extensions, dict) or proto.EXTENSION not in extensions:
            raise ctx.era.missing_capability(
                f"{method} needs the {proto.EXTENSION} extension, which the client did not declare",
                {"extensions": {proto.EXTENSION: {}}},
            )
    return tasks


async def get_task(server: Server, params: Any, ctx: Context) -> dict[str, Any]:
    record = await _tasks(server, ctx, "tasks/get").find(params.task_id)
    return proto.detailed_task(record) if ctx.era.stateless else proto.core_task(record)


async def get_task_payload(server: Server, params: Any, ctx: Context) -> dict[str, Any]:
    """`tasks/result` (2025-11-25): blocks until the task is terminal, then answers exactly what the
    request would have: its result (tied to the task by `_meta`), or its error."""
    record = await _tasks(server, ctx, "tasks/result").result(params.task_id)
    if record.error is not None:
        error = record.error
        raise McpError(str(error.get("message", "")), code=int(error["code"]), data=error.get("data", UNSET))
    if record.result is None:  # cancelled before it had a result
        raise McpError(f"Task {record.task_id} was cancelled", code=-32800)
    result = dict(record.result)
    result["_meta"] = {**(result.get("_meta") or {}), proto.RELATED_TASK: {"taskId": record.task_id}}
    return result


async def list_tasks(server: Server, params: Any, ctx: Context) -> dict[str, Any]:
    cursor = None if params is None else opt(getattr(params, "cursor", UNSET))
    page, nxt = await _tasks(server, ctx, "tasks/list").listed(
        cursor, server.page_size, ctx.connection.client_key
    )
    listed: dict[str, Any] = {"tasks": [proto.core_task(r) for r in page]}
    if nxt is not None:
        listed["nextCursor"] = nxt
    return listed


async def cancel_task(server: Server, params: Any, ctx: Context) -> dict[str, Any]:
    tasks = _tasks(server, ctx, "tasks/cancel")
    if ctx.era.stateless:
        # The extension's ack is empty, and the same for a task already terminal (idempotent).
        await tasks.cancel(params.task_id, terminal_ok=True)
        return {}
    return proto.core_task(await tasks.cancel(params.task_id, terminal_ok=False))


async def update_task(server: Server, params: Any, ctx: Context) -> dict[str, Any]:
    await _tasks(server, ctx, "tasks/update").update(params.task_id, params.input_responses)
    return {}


async def subscribable_tasks(tasks: Tasks | None, ctx: Context, task_ids: Any) -> list[str]:
    """The tasks of `task_ids` a `subscriptions/listen` may follow (`notifications/tasks`): the
    caller's own live ones (a server with no tasks agrees to none). A client that did not declare the
    extension is refused with -32021, as the extension says."""
    extensions = ctx.client_capabilities.get("extensions")
    if not isinstance(extensions, dict) or proto.EXTENSION not in extensions:
        raise ctx.era.missing_capability(
            f"task status notifications need the {proto.EXTENSION} extension, "
            "which the client did not declare",
            {"extensions": {proto.EXTENSION: {}}},
        )
    agreed: list[str] = []
    if tasks is None:
        return agreed
    for task_id in task_ids or ():
        try:
            await tasks.find(task_id)
        except McpError:
            continue  # unknown, expired or another's: not followed, and the acknowledgement says so
        agreed.append(task_id)
    return agreed
