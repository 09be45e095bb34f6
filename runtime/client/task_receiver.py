"""The client as a task receiver (2025-11-25): the server's task-augmented `sampling/createMessage` and
`elicitation/create` run as tasks of the client's (`ClientTasks`), which the server follows with
`tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from .. import wire
from ..errors import McpError, quoted
from ..protocol import tasks as proto

__all__ = ["ClientTasks", "TASKABLE"]

TASKABLE = frozenset({"sampling/createMessage", "elicitation/create"})
"""The server's requests a client may run as tasks (2025-11-25 `tasks.requests`)."""


class ClientTasks:
    """Tasks this client runs for the server: a task-augmented `sampling/createMessage` or
    `elicitation/create` is answered at once with `CreateTaskResult`, its callback runs on, and the
    server follows it with `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`. Records are
    kept until their TTL ends, at most `policy.max_total` of them."""

    def __init__(self, policy: proto.TaskPolicy | None = None) -> None:
        self.policy = policy or proto.TaskPolicy(poll_interval_ms=200, max_total=1000)
        self._records: dict[str, proto.TaskRecord] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._done: dict[str, asyncio.Event] = {}

    def capability(self, requests: Mapping[str, Any]) -> dict[str, Any]:
        """The `tasks` capability for the callbacks a client has (`requests`, as the spec shapes it)."""
        return {"list": {}, "cancel": {}, "requests": dict(requests)}

    def start(self, method: str, ttl: int | None, run: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        """Start `run()` as a task; the `CreateTaskResult` to answer with (JSON form)."""
        now = proto.now_ms()
        for task_id in [k for k, r in self._records.items() if r.expired(now)]:
            self._forget(task_id)
        if len(self._runners) >= self.policy.max_total or len(self._records) >= self.policy.max_total:
            raise McpError(f"Too many tasks: this client runs at most {self.policy.max_total}", code=-32000)
        record = proto.new_record(method, self.policy, ttl_ms=ttl, now=now)
        self._records[record.task_id] = record
        self._done[record.task_id] = asyncio.Event()
        loop = asyncio.get_running_loop()
        runner = self._runners[record.task_id] = loop.create_task(self._run(record.task_id, run))
        # A callback still running when the TTL ends (a question nobody answers) is stopped and its
        # record dropped, as a server does: nobody could fetch what it made, and the server's
        # `tasks/result` waiting on it is answered (not found) instead of waiting for ever.
        expiry = loop.call_later(record.ttl_ms / 1000, self._forget, record.task_id)
        runner.add_done_callback(lambda _: expiry.cancel())
        return {"task": proto.core_task(record)}

    async def _run(self, task_id: str, run: Callable[[], Awaitable[Any]]) -> None:
        try:
            value = await run()
        except asyncio.CancelledError:
            self._settle(task_id, "cancelled")
        except McpError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.data is not msgspec.UNSET:
                error["data"] = exc.data
            self._settle(task_id, "failed", error=error)
        except Exception as exc:  # the callback's own failure: the task fails, the client goes on
            self._settle(task_id, "failed", error={"code": -32603, "message": f"{type(exc).__name__}: {exc}"})
        else:
            self._settle(task_id, "completed", result=wire.to_builtins(value))
        finally:
            self._runners.pop(task_id, None)
            done = self._done.get(task_id)
            if done is not None:
                done.set()

    def _settle(self, task_id: str, status: str, **changes: Any) -> None:
        record = self._records.get(task_id)
        if record is not None and not record.terminal:  # a cancel that won stays
            self._records[task_id] = proto.move(record, status, **changes)

    def _forget(self, task_id: str) -> None:
        self._records.pop(task_id, None)
        done = self._done.pop(task_id, None)
        if done is not None:
            done.set()  # a `tasks/result` waiting on it looks again, and finds no task
        runner = self._runners.pop(task_id, None)
        if runner is not None:
            runner.cancel()

    def _find(self, params: Mapping[str, Any]) -> proto.TaskRecord:
        task_id = params.get("taskId")
        record = self._records.get(task_id) if isinstance(task_id, str) else None
        if record is None or record.expired(proto.now_ms()):
            raise McpError(f"Failed to retrieve task: Task not found: {quoted(str(task_id))}", code=-32602)
        return record

    async def answer(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to one of the server's `tasks/*` requests (JSON form)."""
        if method == "tasks/get":
            return proto.core_task(self._find(params))
        if method == "tasks/list":
            now = proto.now_ms()
            live = [proto.core_task(r) for r in self._records.values() if not r.expired(now)]
            return {"tasks": live}
        if method == "tasks/cancel":
            record = self._find(params)
            if record.terminal:
                raise McpError(
                    f"Cannot cancel task {record.task_id}: it is already {record.status}", code=-32602
                )
            self._records[record.task_id] = proto.move(record, "cancelled")
            runner = self._runners.get(record.task_id)
            if runner is not None:
                runner.cancel()
            return proto.core_task(self._records[record.task_id])
        if method == "tasks/result":
            record = self._find(params)
            done = self._done.get(record.task_id)
            if done is not None and not record.terminal:
                await done.wait()
            record = self._find(params)
            if record.error is not None:
                error = record.error  # the request's own error, exactly (its data too)
                raise McpError(
                    str(error.get("message", "")),
                    code=int(error["code"]),
                    data=error.get("data", msgspec.UNSET),
                )
            if record.result is None:
                raise McpError(f"Task {record.task_id} was cancelled", code=-32800)
            meta = {**(record.result.get("_meta") or {}), proto.RELATED_TASK: {"taskId": record.task_id}}
            return {**record.result, "_meta": meta}
        raise McpError(f"Method not found: {quoted(method)}", code=-32601)
