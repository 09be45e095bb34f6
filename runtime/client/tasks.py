"""Tasks from the client's side: a tool call started as a task, followed through a typed `TaskHandle`
(status, wait with backoff, a stream of statuses, the result as the request's own type, cancel), and
the client's tasks listed. Both eras: 2025-11-25's core tasks (the client asks with `task`; the server
may tell status changes with `notifications/tasks/status`) and 2026-07-28's tasks extension (the client
declares `io.modelcontextprotocol/tasks` for the call and the server decides; `tasks/get` inlines the
result, and input the task waits for is answered with `tasks/update`). The tasks the client runs for
the server are `task_receiver`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

from .. import wire
from ..errors import McpError, quoted
from ..protocol import revisions
from ..protocol import tasks as proto
from ..protocol.jsonrpc import INTERNAL_ERROR
from .calls import MAX_INPUT_REQUESTS, next_page

__all__ = [
    "TaskClient",
    "TaskEvents",
    "TaskHandle",
    "TaskInfo",
    "TaskOptions",
    "handle",
    "list_tasks",
    "start_tool_task",
]

R = TypeVar("R")

_MAX_ROUNDS = 16
_FIRST_POLL_S = 0.05
_DEFAULT_POLL_S = 1.0
_SAFETY_POLL_S = 30.0
"""Between polls while notifications come on a listen stream: only a safety net."""
_LISTEN_ACK_S = 10.0
"""How long a listen stream may take to be acknowledged before the task is polled instead."""
_QUEUED_STATES: Final = 16
"""The states of a watched task kept until read: a server may send them faster than they are read
(while an input callback runs, say), and only the latest counts."""
_STATUSES: Final = frozenset(proto.TRANSITIONS)
"""The statuses the spec names: a task in any other would never be terminal, and polled for ever."""


def _no_task(why: str) -> McpError:
    return McpError(f"the server's answer is no task: {why}", code=INTERNAL_ERROR)


def _typed(data: Any, result_type: type[R], method: str) -> R:
    """A task's result as the request's own type; McpError when the server's is not of it."""
    try:
        return wire.convert(data, result_type)
    except msgspec.ValidationError as exc:
        raise McpError(f"{method}: the server's result is invalid: {exc}", code=INTERNAL_ERROR) from None


def _input_requests(method: str, answer: Mapping[str, Any]) -> Mapping[str, Any]:
    """The input requests of a server's answer (2026-07-28), at most `MAX_INPUT_REQUESTS`: each is a
    call of the user's callback, as for any request that asks for input (`calls`)."""
    requests = answer.get("inputRequests") or {}
    if not isinstance(requests, Mapping):
        raise McpError(f"{method}: the server's inputRequests is no object", code=INTERNAL_ERROR)
    if len(requests) > MAX_INPUT_REQUESTS:
        raise McpError(
            f"{method}: the server asked for {len(requests)} inputs at once,"
            f" more than the {MAX_INPUT_REQUESTS} a round may ask",
            code=INTERNAL_ERROR,
        )
    return requests


class TaskOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How to start a task: `ttl_ms`, how long the server should keep it (it may keep it less)."""

    ttl_ms: int | None = None


class TaskInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A task's state as the server last told it (either era's wire form, read into one shape)."""

    task_id: str
    status: str
    status_message: str | None = None
    created_at: str = ""
    last_updated_at: str = ""
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None

    @property
    def terminal(self) -> bool:
        return self.status in proto.TERMINAL

    @classmethod
    def of(cls, data: Any) -> TaskInfo:
        """A task as the server sent it; McpError when it is none: no object, a `taskId` that is no
        string, a status the spec does not name. Members that only inform (times, TTL, interval,
        message) are kept when they have their type, else dropped."""
        if not isinstance(data, Mapping):
            raise _no_task(f"{quoted(data)} is no object")
        task_id, status = data.get("taskId"), data.get("status")
        if type(task_id) is not str:
            raise _no_task(f"taskId {quoted(task_id)} is no string")
        if status not in _STATUSES:
            raise _no_task(
                f"task {quoted(task_id)} has status {quoted(status)}, which the spec does not name"
            )
        ttl = data.get("ttlMs", data.get("ttl"))
        poll = data.get("pollIntervalMs", data.get("pollInterval"))
        message = data.get("statusMessage")
        return cls(
            task_id=task_id,
            status=status,
            status_message=message if type(message) is str else None,
            created_at=str(data.get("createdAt", "")),
            last_updated_at=str(data.get("lastUpdatedAt", "")),
            ttl_ms=ttl if type(ttl) is int else None,
            poll_interval_ms=poll if type(poll) is int else None,
        )


class TaskClient(Protocol):
    """What tasks need of a client (`mcpbind.client.Client` is one)."""

    revision: str

    @property
    def stateless(self) -> bool: ...

    @property
    def module(self) -> Any: ...

    @property
    def task_events(self) -> TaskEvents: ...

    def capabilities(self) -> dict[str, Any]: ...

    async def fulfil(self, request: dict[str, Any]) -> Any: ...

    async def request(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        meta: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        result_type: Any = None,
    ) -> Any: ...


class TaskEvents:
    """Status notifications for the tasks being watched, by task id: 2025-11-25's
    `notifications/tasks/status`, and the extension's `notifications/tasks` on a listen stream."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[TaskInfo]]] = {}
        self._acks: set[asyncio.Future[frozenset[str]]] = set()

    def expect_ack(self) -> asyncio.Future[frozenset[str]]:
        """A future for the next `notifications/subscriptions/acknowledged`: the task ids it agreed to."""
        future: asyncio.Future[frozenset[str]] = asyncio.get_running_loop().create_future()
        self._acks.add(future)
        future.add_done_callback(self._acks.discard)
        return future

    def acknowledged(self, params: Mapping[str, Any]) -> None:
        notifications = params.get("notifications")
        ids = notifications.get("taskIds") if isinstance(notifications, dict) else None
        agreed = frozenset(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else frozenset()
        for future in list(self._acks):
            if not future.done():
                future.set_result(agreed)

    def publish(self, params: Mapping[str, Any]) -> None:
        try:
            info = TaskInfo.of(params)
        except McpError:
            return  # not a task's state: nothing to tell
        for queue in self._queues.get(info.task_id, ()):
            if queue.full():  # the oldest state gives way: what is waited for is the latest
                queue.get_nowait()
            queue.put_nowait(info)

    def watch(self, task_id: str) -> asyncio.Queue[TaskInfo]:
        queue: asyncio.Queue[TaskInfo] = asyncio.Queue(_QUEUED_STATES)
        self._queues.setdefault(task_id, set()).add(queue)
        return queue

    def unwatch(self, task_id: str, queue: asyncio.Queue[TaskInfo]) -> None:
        queues = self._queues.get(task_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[task_id]


def _extension_meta(client: TaskClient) -> dict[str, Any]:
    """The request's own client capabilities, with the tasks extension declared (2026-07-28)."""
    caps = dict(client.capabilities())
    caps.pop("tasks", None)  # the session era's capability: the extension replaces it
    caps["extensions"] = {**caps.get("extensions", {}), proto.EXTENSION: {}}
    return {revisions.META_CAPABILITIES: caps}


class TaskHandle(Generic[R]):
    """A task the server runs for this client; `result()` gives the request's own result type `R`.

    A server may answer a call it could run as a task at once instead (2026-07-28): the handle then
    holds that result, is `completed`, and has no `task_id`."""

    def __init__(
        self,
        client: TaskClient,
        info: TaskInfo | None,
        result_type: type[R],
        *,
        immediate: R | None = None,
    ) -> None:
        self.client = client
        self.info = info
        """The latest state seen (None: answered at once, with no task)."""
        self.result_type = result_type
        self._immediate = immediate
        self._detail: dict[str, Any] = {}
        """The last `tasks/get` answer as it came (2026-07-28 inlines result, error, input requests)."""

    def __repr__(self) -> str:
        status = self.info.status if self.info is not None else "completed (no task)"
        return f"<TaskHandle {self.task_id} {status}>"

    @property
    def task_id(self) -> str | None:
        return None if self.info is None else self.info.task_id

    async def _task_request(self, method: str, **params: Any) -> Any:
        assert self.info is not None
        body: dict[str, Any] = {"taskId": self.info.task_id, **params}
        if self.client.stateless:
            body["_meta"] = _extension_meta(self.client)
        return await self.client.request(method, body, result_type=dict[str, Any])

    async def status(self) -> TaskInfo:
        """The task's state now (`tasks/get`)."""
        if self.info is None:
            return TaskInfo(task_id="", status="completed")
        data = await self._task_request("tasks/get")
        self.info = self._same_task("tasks/get", data)
        self._detail = data
        return self.info

    def _same_task(self, method: str, data: Any) -> TaskInfo:
        """The state in the server's answer about this task; McpError if it is about another."""
        assert self.info is not None
        info = TaskInfo.of(data)
        if info.task_id != self.info.task_id:
            raise McpError(
                f"{method} {quoted(self.info.task_id)}: the server answered with task {quoted(info.task_id)}",
                code=INTERNAL_ERROR,
            )
        return info

    def _interval(self, previous: float) -> float:
        """The next wait between polls: doubling from a short first one, never past the server's
        suggested interval (or a second when it suggests none). Whatever it suggests, polls are at
        least `_FIRST_POLL_S` apart (a server's 0 or negative interval must not make the client
        poll without pause) and at most `_SAFETY_POLL_S` (nor a huge one stop the polling)."""
        assert self.info is not None
        suggested = self.info.poll_interval_ms
        ceiling = suggested / 1000 if suggested is not None and suggested > 0 else _DEFAULT_POLL_S
        ceiling = min(max(ceiling, _FIRST_POLL_S), _SAFETY_POLL_S)
        return min(ceiling, max(_FIRST_POLL_S, previous * 2))

    async def statuses(self) -> AsyncIterator[TaskInfo]:
        """Each state the task passes through, from now until it is terminal: from status
        notifications where the server sends them (2025-11-25 `notifications/tasks/status`; in
        2026-07-28 `notifications/tasks` on a `subscriptions/listen` stream opened for the task, with
        a rare poll as a safety net), polled otherwise."""
        if self.info is None:
            yield TaskInfo(task_id="", status="completed")
            return
        events = self.client.task_events.watch(self.info.task_id)
        listening = await self._listen() if self.client.stateless else None
        try:
            last = await self.status()  # (after the subscription is acknowledged: no change is missed)
            yield last
            delay = 0.0
            while not last.terminal:
                delay = _SAFETY_POLL_S if listening is not None else self._interval(delay)
                try:
                    info = await asyncio.wait_for(events.get(), delay)
                except TimeoutError:
                    info = await self.status()
                else:
                    self.info = info
                if info.status != last.status or info.status_message != last.status_message:
                    yield info
                last = info
        finally:
            self.client.task_events.unwatch(self.info.task_id, events)
            if listening is not None:
                await _close(listening)

    async def _listen(self) -> asyncio.Future[Any] | None:
        """Open a `subscriptions/listen` stream for this task's `notifications/tasks` (2026-07-28);
        None when the server does not agree to it (then the task is polled)."""
        assert self.info is not None
        ack = self.client.task_events.expect_ack()
        body = {"notifications": {"taskIds": [self.info.task_id]}, "_meta": _extension_meta(self.client)}
        stream = asyncio.ensure_future(
            self.client.request("subscriptions/listen", body, timeout=1e9, result_type=dict[str, Any])
        )
        try:
            await asyncio.wait({stream, ack}, timeout=_LISTEN_ACK_S, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ack.cancel()
        if ack.done() and not ack.cancelled() and self.info.task_id in ack.result():
            return stream
        await _close(stream)
        return None

    async def wait(self, *, timeout: float | None = None, answer_input: bool = True) -> TaskInfo:
        """Wait until the task is terminal, polling with backoff bounded by the server's poll interval
        (a status notification ends a wait early). With `answer_input`, input the task waits for
        (2026-07-28 `input_required`) is answered with the client's callbacks as it comes; in
        2025-11-25 the server asks with requests of its own. TimeoutError after `timeout` seconds."""
        if self.info is None:
            return TaskInfo(task_id="", status="completed")
        deadline = None if timeout is None else time.monotonic() + timeout
        events = self.client.task_events.watch(self.info.task_id)
        answered: set[bytes] = set()
        try:
            info = await self.status()
            delay = 0.0
            while not info.terminal:
                if info.status == "input_required" and answer_input and self.client.stateless:
                    if await self._answer_input(answered):
                        delay = 0.0  # the task goes on at once: look again soon
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"task {info.task_id} is still {info.status} after {timeout} s")
                delay = self._interval(delay)
                try:
                    info = await asyncio.wait_for(events.get(), delay if left is None else min(delay, left))
                    self.info = info
                except TimeoutError:
                    info = await self.status()
            return info
        finally:
            self.client.task_events.unwatch(self.info.task_id, events)

    async def _answer_input(self, answered: set[bytes]) -> bool:
        """Answer the input requests of the last `tasks/get` not answered yet; True if any were."""
        requests = _input_requests("tasks/get", self._detail)
        fresh = {}
        for key, request in requests.items():
            seen = msgspec.json.encode([key, request])
            if seen not in answered:
                answered.add(seen)
                fresh[key] = request
        if not fresh:
            return False
        responses = {key: await self.client.fulfil(request) for key, request in fresh.items()}
        await self._task_request("tasks/update", inputResponses=responses)
        return True

    async def result(self, *, timeout: float | None = None) -> R:
        """The request's result, once the task is terminal: exactly what the request would have given
        (its error is raised as McpError). 2025-11-25 asks `tasks/result`, which blocks."""
        if self.info is None:
            assert self._immediate is not None
            return self._immediate
        if not self.client.stateless:
            data = await asyncio.wait_for(self._task_request("tasks/result"), timeout)
            meta = data.get("_meta")
            if isinstance(meta, dict):
                meta.pop(proto.RELATED_TASK, None)
                if not meta:
                    del data["_meta"]
            return _typed(data, self.result_type, "tasks/result")
        await self.wait(timeout=timeout)
        if self._detail.get("status") != self.info.status:
            # The end came as a notification (a listen stream open for `statuses()`): the last
            # `tasks/get` is of an earlier state, without the result. Read the end itself.
            await self.status()
        detail = self._detail
        if self.info.status == "completed" and "result" in detail:
            return _typed(detail["result"], self.result_type, "tasks/get")
        error = detail.get("error")
        if isinstance(error, dict):
            raise McpError(
                str(error.get("message", "")), code=int(error.get("code", -32603)), data=error.get("data")
            )
        raise McpError(f"task {self.info.task_id} ended {self.info.status} with no result", code=-32800)

    async def cancel(self) -> TaskInfo:
        """Cancel the task; its state afterwards (`cancelled`, unless it had ended already)."""
        if self.info is None:
            return TaskInfo(task_id="", status="completed")
        answer = await self._task_request("tasks/cancel")
        if "taskId" in answer:
            self.info = self._same_task("tasks/cancel", answer)
            return self.info
        return await self.status()  # the extension's ack is empty: read the state back


async def _close(stream: asyncio.Future[Any]) -> None:
    """End a listen stream (the request is cancelled); how it ended does not matter any more."""
    stream.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await stream


async def start_tool_task(
    client: TaskClient,
    name: str,
    arguments: Mapping[str, Any] | None = None,
    options: TaskOptions | None = None,
    *,
    timeout: float | None = None,
) -> TaskHandle[Any]:
    """Call tool `name` as a task; the handle's result is the revision's `CallToolResult`."""
    module = client.module
    result_type = module.CallToolResult
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = dict(arguments)
    if not client.stateless:
        if getattr(module, "CreateTaskResult", None) is None:
            raise McpError(f"MCP {client.revision} has no tasks", code=-32601)
        ttl = options.ttl_ms if options is not None else None
        params["task"] = {} if ttl is None else {"ttl": ttl}
        created = await client.request("tools/call", params, timeout=timeout, result_type=dict[str, Any])
        if "task" not in created:  # a server that ignored the request for a task answered at once
            return TaskHandle(client, None, result_type, immediate=_typed(created, result_type, "tools/call"))
        return TaskHandle(client, TaskInfo.of(created["task"]), result_type)
    params["_meta"] = _extension_meta(client)
    for _ in range(_MAX_ROUNDS):
        answer = await client.request("tools/call", params, timeout=timeout, result_type=dict[str, Any])
        kind = answer.get("resultType", "complete")
        if kind == "task":
            return TaskHandle(client, TaskInfo.of(answer), result_type)
        if kind != "input_required":
            return TaskHandle(client, None, result_type, immediate=_typed(answer, result_type, "tools/call"))
        # Input the server needs before it starts the task (multi round-trip input, then the task).
        params = {k: v for k, v in params.items() if k not in ("inputResponses", "requestState")}
        requests = _input_requests("tools/call", answer)
        params["inputResponses"] = {key: await client.fulfil(req) for key, req in requests.items()}
        if "requestState" in answer:
            params["requestState"] = answer["requestState"]
    raise McpError(f"tools/call {name}: the server still needed input after {_MAX_ROUNDS} rounds")


def handle(client: TaskClient, task_id: str, result_type: type[R]) -> TaskHandle[R]:
    """A handle on a task started earlier (by this client, or by another that ended): poll it by id."""
    return TaskHandle(client, TaskInfo(task_id=task_id, status="working"), result_type)


async def list_tasks(client: TaskClient) -> list[TaskInfo]:
    """Every task the server holds for this client (2025-11-25 `tasks/list`, all pages)."""
    if client.stateless:
        raise McpError("the tasks extension has no tasks/list (SEP-2663 removed it)", code=-32601)
    found: list[TaskInfo] = []
    cursor: str | None = None
    seen: set[int] = set()
    for _ in range(10_000):
        page = await client.request(
            "tasks/list", {"cursor": cursor} if cursor else {}, result_type=dict[str, Any]
        )
        tasks = page.get("tasks", ())
        if not isinstance(tasks, list):
            raise McpError("tasks/list: the server's tasks is no list", code=INTERNAL_ERROR)
        found.extend(TaskInfo.of(t) for t in tasks)
        nxt = page.get("nextCursor")
        if not nxt:
            break
        cursor = next_page("tasks/list", str(nxt), seen, len(found))
    return found
