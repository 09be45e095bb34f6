"""Tasks on the server: the `TaskStore` interface and its in-memory store, and `Tasks`, the per-process
runner that starts a request as a task, runs it, parks it for input, cancels it and answers the
`tasks/*` requests of both eras.

The store holds records (`protocol.tasks.TaskRecord`, plain data) and changes them only by
compare-and-set, so that a store shared between processes can keep the status machine's promises
(a cancel that wins a race with completion stays cancelled). The running asyncio task and the
futures awaiting input live here, in the process that runs the task.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import contextvars
import heapq
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import msgspec
from msgspec import UNSET

from .. import wire
from ..aio.peer import ROUTE
from ..errors import InvalidParams, McpError, quoted
from ..protocol import tasks as proto
from ..protocol.jsonrpc import INTERNAL_ERROR
from ..protocol.request_state import PRINCIPAL
from ..protocol.tasks import TaskPolicy, TaskRecord

if TYPE_CHECKING:
    from .context import Context

__all__ = [
    "MemoryTaskStore",
    "PEER_WAIT",
    "STOP_GRACE",
    "TaskGate",
    "TaskInput",
    "TaskPeers",
    "TaskStore",
    "TaskStoreUnavailable",
    "Tasks",
    "VisibleTaskStore",
    "TooManyTasks",
    "TASK_LIMIT",
]

log = logging.getLogger("mcpbind.server")

TASK_LIMIT: Final = -32000
"""The error code of a task refused because a limit is reached (nothing was started)."""


class TooManyTasks(McpError):
    code = TASK_LIMIT


class TaskStoreUnavailable(McpError):
    """A shared task store cannot be reached (Redis away): the request fails with the reason, and may
    be tried again (a failure of the store, not of the server: no internal error)."""

    code = TASK_LIMIT


class TaskStore(Protocol):
    """Where task records live. Every method is async so that a shared store (Redis, say) fits.

    A store should also provide `visible_to` (see `VisibleTaskStore`): `tasks/list` then reads only the
    caller's records. Without it, an unauthenticated `tasks/list` reads `owned_by("")` (every anonymous
    record the store holds) and keeps the caller's: correct, but its cost grows with other clients'
    tasks."""

    async def create(self, record: TaskRecord, *, max_per_client: int, max_total: int) -> None:
        """Keep a new record; raises `TooManyTasks` when `record.client` already has `max_per_client`
        unfinished tasks, or the store holds `max_total` records (after dropping expired ones). Any
        method of a store that cannot be reached raises `TaskStoreUnavailable`."""
        ...

    async def get(self, task_id: str) -> TaskRecord | None:
        """The record, or None (unknown, or expired: an expired record is gone)."""
        ...

    async def replace(self, old: TaskRecord, new: TaskRecord) -> bool:
        """Store `new` if the stored record is still `old` (compare-and-set); False otherwise."""
        ...

    async def owned_by(self, owner: str) -> list[TaskRecord]:
        """The live records of `owner`, oldest first."""
        ...

    async def purge(self, now: int) -> int:
        """Drop every record whose TTL has run out; how many were dropped."""
        ...


class VisibleTaskStore(TaskStore, Protocol):
    """A `TaskStore` that answers `tasks/list` from an index by who sees a record (`Tasks.listed` uses
    `visible_to` when the store has it, else `owned_by` and a filter)."""

    async def visible_to(self, owner: str, creator: str) -> list[TaskRecord]:
        """The live records whose `tasks/list` is the caller's, oldest first (`created_ms`, then id):
        with a principal (`owner` not ""), the records of that owner (`creator` is ""); without one,
        the anonymous records whose `creator` (or `client`, for a record without a creator) is
        `creator`. It must read only those records (an index kept by that key as records are created,
        expire and are dropped), so that a listing costs what the caller holds, not what others do."""
        ...


def seen_by(record: TaskRecord) -> tuple[str, str]:
    """Who lists `record`, as `VisibleTaskStore.visible_to` is asked: (owner, "") for a principal's,
    ("", creator) for an anonymous caller's."""
    return (record.owner, "") if record.owner else ("", record.creator or record.client)


class MemoryTaskStore:
    """The default store: a dict in this process. What `create` checks is kept up to date as records
    come, change and go, so that a create costs the same whatever the store holds (no walk over the
    records): unfinished records counted per client, every record's expiry in a heap, and the
    cancelled ones in the order they were cancelled."""

    def __init__(self) -> None:
        self._records: dict[str, TaskRecord] = {}
        self._active: dict[str, int] = {}
        """Unfinished records per `client` (`max_per_client`); a client with none has no entry."""
        self._expiry: list[tuple[int, str]] = []
        """A heap of (expiry, task id): the records in the order their TTL ends. An entry whose record
        went otherwise (cancelled and dropped, read once expired) is skipped when it comes up; they are
        dropped all at once when they outnumber the records (amortised, as each went by one removal)."""
        self._cancelled: dict[str, None] = {}
        """The ids of cancelled records, oldest cancellation first: dropped first at `max_total`."""
        self._seen: dict[tuple[str, str], dict[str, None]] = {}
        """The ids of the records each caller lists (`seen_by`), in the order they were stored: a
        `tasks/list` reads its caller's records only. A key with no record has no entry."""

    def __len__(self) -> int:
        return len(self._records)

    async def create(self, record: TaskRecord, *, max_per_client: int, max_total: int) -> None:
        records = self._records
        self._purge(proto.now_ms())  # (its heap's top alone, unless some TTL ended)
        if len(records) >= max_total:
            # Cancelled tasks may be dropped at any time (2025-11-25): room for new work first.
            cancelled = self._cancelled
            while cancelled and len(records) >= max_total:
                self._drop(next(iter(cancelled)))
            if len(records) >= max_total:
                raise TooManyTasks(
                    f"Too many tasks: the server holds its limit of {max_total}; try again later",
                    data={"limit": max_total},
                )
        client = record.client
        if self._active.get(client, 0) >= max_per_client:
            raise TooManyTasks(
                proto.over_client_limit(client, max_per_client), data={"limit": max_per_client}
            )
        self._hold(record)
        self._seen.setdefault(seen_by(record), {})[record.task_id] = None
        expiry = self._expiry
        heapq.heappush(expiry, (record.expires_ms(), record.task_id))
        if len(expiry) > 2 * len(records) + 64:
            expiry[:] = [(r.expires_ms(), task_id) for task_id, r in records.items()]
            heapq.heapify(expiry)

    async def get(self, task_id: str) -> TaskRecord | None:
        record = self._records.get(task_id)
        if record is not None and record.expired(proto.now_ms()):
            self._drop(task_id)
            return None
        return record

    async def replace(self, old: TaskRecord, new: TaskRecord) -> bool:
        if self._records.get(old.task_id) != old:
            return False
        self._let_go(old)
        self._hold(new)
        if new.owner != old.owner or new.creator != old.creator or new.client != old.client:
            self._unsee(old)  # (`Tasks` never moves a record to another caller: a store's caller might)
            self._seen.setdefault(seen_by(new), {})[new.task_id] = None
        if new.expires_ms() != old.expires_ms():  # (no status change moves it: a store's caller might)
            heapq.heappush(self._expiry, (new.expires_ms(), new.task_id))
        return True

    async def owned_by(self, owner: str) -> list[TaskRecord]:
        now = proto.now_ms()
        found = [r for r in self._records.values() if r.owner == owner and not r.expired(now)]
        found.sort(key=lambda r: (r.created_ms, r.task_id))
        return found

    async def visible_to(self, owner: str, creator: str) -> list[TaskRecord]:
        ids = self._seen.get((owner, creator), ())
        now, records = proto.now_ms(), self._records
        found = [r for r in map(records.__getitem__, ids) if not r.expired(now)]
        found.sort(key=lambda r: (r.created_ms, r.task_id))
        return found

    async def purge(self, now: int) -> int:
        return self._purge(now)

    def _purge(self, now: int) -> int:
        """Drop the records whose TTL has run out, from the heap's top; how many."""
        expiry, records = self._expiry, self._records
        gone = 0
        while expiry and expiry[0][0] <= now:
            _, task_id = heapq.heappop(expiry)
            record = records.get(task_id)
            if record is not None and record.expired(now):  # (else gone already, or its TTL moved)
                self._drop(task_id)
                gone += 1
        return gone

    def _hold(self, record: TaskRecord) -> None:
        """Keep `record` (new, or in place of the one `_let_go` took off the counts)."""
        self._records[record.task_id] = record
        if not record.terminal:
            self._active[record.client] = self._active.get(record.client, 0) + 1
        elif record.status == "cancelled":
            self._cancelled[record.task_id] = None

    def _let_go(self, record: TaskRecord) -> None:
        """Take `record` off the counts `_hold` put it on (its place in `_records` stays)."""
        if not record.terminal:
            left = self._active[record.client] - 1
            if left:
                self._active[record.client] = left
            else:
                del self._active[record.client]
        elif record.status == "cancelled":
            self._cancelled.pop(record.task_id, None)

    def _drop(self, task_id: str) -> None:
        record = self._records.pop(task_id)
        self._let_go(record)
        self._unsee(record)

    def _unsee(self, record: TaskRecord) -> None:
        """Take `record` off its caller's listing index."""
        key = seen_by(record)
        ids = self._seen[key]
        del ids[record.task_id]
        if not ids:
            del self._seen[key]


PEER_WAIT: Final = 5.0
"""The default of `Tasks.peer_wait`: seconds a `tasks/result` waiting on a task run by another process
waits for word of its end before reading the store again (a bus's pub/sub may lose the word)."""
STOP_GRACE: Final = 5.0
"""The default of `Tasks.stop_grace`: seconds `tasks/cancel` gives cancelled code running here to run
its cleanup and settle before it answers anyway (code that swallows the cancellation)."""


SETTLE_RETRY_FIRST: Final = 0.05
SETTLE_RETRY_MAX: Final = 2.0
"""Seconds between tries to store a task's end while the store fails: doubling from the first to the
most (a store back after an outage takes the end within this)."""


class TaskPeers(Protocol):
    """The other processes sharing a task store, as a bus between workers reaches them. Each call tells
    them all; the one running the task (or waiting on it) acts, through `Tasks.stop`, `answer_here` or
    `wake`."""

    async def cancelled(self, task_id: str) -> None:
        """The task was cancelled here: stop its code where it runs."""
        ...

    async def answered(self, task_id: str, responses: dict[str, Any]) -> str | None:
        """Input responses for the task, to the process whose code waits for them; returns once that
        process has taken them (its record no longer lists them as pending), with the reason when it
        refused them, or None (taken, or no word from it within `Tasks.peer_wait`)."""
        ...

    async def ended(self, task_id: str) -> None:
        """The task reached a terminal status here: wake whoever waits on its result."""
        ...


class TaskInput:
    """How a running task asks its requestor for input (`Context._ask` defers to it): in the session
    era with a request of the server's own, tied to the task; in the envelope era by parking the task
    in `input_required` with its input requests until `tasks/update` answers them."""

    def __init__(self, tasks: Tasks, task_id: str, ctx: Context) -> None:
        self.tasks = tasks
        self.task_id = task_id
        self.ctx = ctx
        self.pending: dict[str, tuple[dict[str, Any], asyncio.Future[Any], Any]] = {}

    async def ask(self, ctx: Context, method: str, params: dict[str, Any], result_type: Any, key: str) -> Any:
        if key in ctx.answers:  # given before the task began (multi round-trip input)
            ctx.consumed.add(key)
            return wire.convert(ctx.answers[key], result_type)
        tasks = self.tasks
        if ctx.era.asks_inline:
            meta = {**params.get("_meta", {}), proto.RELATED_TASK: {"taskId": self.task_id}}
            self.pending[key] = ({"method": method}, asyncio.get_running_loop().create_future(), result_type)
            await tasks.park(self)
            try:
                return await ctx.connection.ask(method, {**params, "_meta": meta}, result_type, ctx.module)
            finally:
                self.pending.pop(key, None)
                await tasks.park(self)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[key] = ({"method": method, "params": params}, future, result_type)
        await tasks.park(self)
        return await future

    def answer(self, responses: dict[str, Any]) -> bool:
        """Resolve the pending requests `responses` answers (other keys are ignored); True if any was.
        An answer that is not of its request's result type is refused (-32602), and nothing is taken."""
        found = {key: entry for key, entry in self.pending.items() if key in responses}
        converted = {}
        for key, (_, _, result_type) in found.items():
            try:
                converted[key] = wire.convert(responses[key], result_type)
            except msgspec.ValidationError as exc:
                raise InvalidParams(f"Invalid params: inputResponses[{key!r}]: {exc}") from None
        for key, value in converted.items():
            _, future, _ = self.pending.pop(key)
            if not future.done():
                future.set_result(value)
        return bool(converted)


class TaskGate:
    """A tool that asks for input before it becomes a task (`defer_task`): `started` is resolved by
    `Context.become_task`, `ready` once the task exists and the rest of the tool runs as it."""

    def __init__(self) -> None:
        self.started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ready = asyncio.Event()


Run = Callable[["Context"], Awaitable[Any]]


class Tasks:
    """The tasks of one server process: records in `store`, the running code here."""

    def __init__(self, policy: TaskPolicy | None = None, store: TaskStore | None = None) -> None:
        self.policy = policy or TaskPolicy()
        self.store: TaskStore = store if store is not None else MemoryTaskStore()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._inputs: dict[str, TaskInput] = {}
        self._settled: dict[str, asyncio.Event] = {}
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self.peers: TaskPeers | None = None
        """The other processes sharing `store` (set by a bus between workers), None when alone."""
        self.peer_wait = PEER_WAIT
        self.stop_grace = STOP_GRACE

    # -- starting and running --------------------------------------------------------------------

    async def create(self, ctx: Context, method: str, ttl_ms: int | None) -> TaskRecord:
        """A new record, stored before anyone hears of it (a `tasks/get` right after must find it)."""
        principal = PRINCIPAL.get()
        era = "envelope" if ctx.era.stateless else "session"
        conn = ctx.connection
        # Who counts against `max_per_client`: the principal; without authentication, the client as
        # its transport knows it (`Connection.task_client`: an HTTP session's address, so that opening
        # more sessions gives no more tasks; else the connection), and on the stateless wire all
        # anonymous clients together. Nothing there tells them apart (a pooled connection serves any
        # client; an address may be a proxy's): a key per request would leave their running tasks
        # bounded only by `max_total`, so one allowance bounds them all. A limit per caller needs auth.
        # Whose `tasks/list` shows it is narrower: the principal's, else the session's (`creator`).
        client, creator = proto.ANONYMOUS, ""
        if principal:
            client = proto.client_of(principal)
        elif era == "session":
            creator = conn.client_key
            client = conn.task_client or creator
        record = proto.new_record(
            method, self.policy, ttl_ms=ttl_ms, owner=principal, client=client, creator=creator, era=era
        )
        policy = self.policy
        await self.store.create(record, max_per_client=policy.max_per_client, max_total=policy.max_total)
        return record

    def attach(
        self, record: TaskRecord, ctx: Context, job: asyncio.Future[Any] | None, run: Run | None
    ) -> None:
        """Run the task: `run(ctx)` from now on, or `job` (already running) to its end."""
        task_input = TaskInput(self, record.task_id, ctx)
        ctx.task = task_input
        self._inputs[record.task_id] = task_input
        self._settled[record.task_id] = asyncio.Event()
        if ctx.task_gate is not None:
            ctx.task_gate.ready.set()
        # What the task sends once the request is answered belongs to no request's stream: the
        # session's own (HTTP: the GET stream), as other messages sent outside a request.
        context = contextvars.copy_context()
        context.run(ROUTE.set, None)
        loop = asyncio.get_running_loop()
        runner = loop.create_task(self._run(record, ctx, job, run), context=context)
        self._running[record.task_id] = runner
        # Code still running when the TTL ends (waiting for input nobody gives, say) is stopped: its
        # record is gone, and nobody could fetch what it made.
        expiry = loop.call_later(max(0.0, (record.expires_ms() - proto.now_ms()) / 1000), runner.cancel)
        runner.add_done_callback(lambda _: expiry.cancel())

    async def _run(
        self, record: TaskRecord, ctx: Context, job: asyncio.Future[Any] | None, run: Run | None
    ) -> None:
        task_id = record.task_id
        try:
            try:
                if job is not None:
                    value = await job
                else:
                    assert run is not None
                    value = await run(ctx)
            except asyncio.CancelledError:
                if job is not None:
                    job.cancel()
                await self._settle(record, "cancelled", ctx)
                return
            except McpError as exc:
                error: dict[str, Any] = {"code": exc.code, "message": exc.message}
                if exc.data is not UNSET:
                    error["data"] = exc.data
                # The reason goes in the task's statusMessage too (the spec: "diagnostic information
                # for failed"): a requestor that stops at the status (the TypeScript SDK's task
                # stream, which reports "Task <id> failed" alone) still sees it.
                await self._settle(record, "failed", ctx, error=error, status_message=exc.message)
                return
            except Exception:
                log.exception("task %s failed", task_id)
                error = {"code": INTERNAL_ERROR, "message": "Internal error"}
                await self._settle(record, "failed", ctx, error=error, status_message="Internal error")
                return
            result = self._wire_result(value, ctx)
            # 2025-11-25 counts a tool's own error as failed; the extension keeps `failed` for
            # protocol errors and reports a tool error as completed with `isError`.
            if result.get("isError") is True and not ctx.era.stateless:
                await self._settle(record, "failed", ctx, result=result, status_message=_text_of(result))
            else:
                await self._settle(record, "completed", ctx, result=result)
        finally:
            self._running.pop(task_id, None)
            self._inputs.pop(task_id, None)
            settled = self._settled.pop(task_id, None)
            if settled is not None:
                settled.set()
            self.wake(task_id)
            if self.peers is not None:
                await self._tell_peers(task_id, self.peers.ended(task_id))

    @staticmethod
    def _wire_result(value: Any, ctx: Context) -> dict[str, Any]:
        """The request's result as the revision sends it, as JSON data."""
        if isinstance(value, dict):
            data = dict(value)
            if ctx.era.stateless:
                data.setdefault("resultType", "complete")
            value = wire.convert(data, ctx.module.CallToolResult)
        out = wire.to_builtins(value)
        assert isinstance(out, dict)
        return out

    async def _change(self, task_id: str, status: str | None, **changes: Any) -> TaskRecord | None:
        """Move a live task to `status` (None: keep it) with `changes`, retrying when another writer
        got there first; None when the task is gone or terminal, or the move is not allowed."""
        for _ in range(100):
            current = await self.store.get(task_id)
            if current is None or current.terminal:
                return None
            target = current.status if status is None else status
            try:
                new = proto.move(current, target, **changes)
            except proto.IllegalTransition:
                return None
            if await self.store.replace(current, new):
                return new
        raise RuntimeError(f"task {task_id}: the store kept changing under us")

    async def _settle(self, record: TaskRecord, status: str, ctx: Context, **changes: Any) -> None:
        """Record the end of task `record`. A store that fails meanwhile (a shared one gone away) is
        tried again, a little later each time, until it takes the end: the end is what clients poll
        for, and a record left `working` would be polled, and waited on by `tasks/result`, until its
        TTL. The tries end with the TTL (the record is gone then: there is nothing left to end)."""
        task_id = record.task_id
        delay = SETTLE_RETRY_FIRST
        while True:
            try:
                new = await self._change(task_id, status, input_requests=None, **changes)
                break
            except TaskStoreUnavailable as exc:
                if record.expired(proto.now_ms()):
                    log.warning("task %s: its end (%s) not stored before its TTL ran out", task_id, status)
                    return
                # Said once per task; each retry after it only at debug level.
                say = log.warning if delay == SETTLE_RETRY_FIRST else log.debug
                say("task %s: its end (%s) not stored, tried again: %s", task_id, status, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, SETTLE_RETRY_MAX)
        if new is not None:
            await self._notify(new, ctx)

    async def park(self, task_input: TaskInput) -> None:
        """The task waits for the input `task_input` has pending or, with none pending, works again."""
        # One turn first: questions asked together (`asyncio.gather`) are all pending by then, and go
        # to the store in one record. Written as each is asked, a store whose round trips suspend
        # (Redis) would show the task waiting on the first alone, and a poll would answer that.
        await asyncio.sleep(0)
        requests = {key: entry[0] for key, entry in task_input.pending.items()}
        status = "input_required" if requests else "working"
        before = await self.store.get(task_input.task_id)
        new = await self._change(task_input.task_id, status, input_requests=requests or None)
        if new is not None and before is not None and new.status != before.status:
            await self._notify(new, task_input.ctx)

    async def _notify(self, record: TaskRecord, ctx: Context) -> None:
        """`notifications/tasks/status` to the requestor (2025-11-25); in the extension (2026-07-28),
        `notifications/tasks` to the `subscriptions/listen` streams that follow the task."""
        if ctx.era.stateless:
            task = proto.detailed_task(record)
            del task["resultType"]  # a notification's params: the task alone
            for conn in ctx.server.connections:
                conn.task_changed(record.task_id, task)
            return
        try:
            await ctx.connection.notify("notifications/tasks/status", proto.core_task(record), ctx.module)
        except Exception:  # the connection may be gone: the task's state is in the store regardless
            log.debug("status notification for task %s not sent", record.task_id, exc_info=True)

    # -- the tasks/* requests ----------------------------------------------------------------------

    async def find(self, task_id: str) -> TaskRecord:
        """The caller's task `task_id`; -32602 when there is none (unknown, expired, or another's)."""
        record = await self.store.get(task_id)
        if record is None or record.owner != PRINCIPAL.get():
            raise InvalidParams(f"Failed to retrieve task: Task not found: {quoted(task_id)}")
        return record

    async def result(self, task_id: str) -> TaskRecord:
        """The caller's task once it is terminal (2025-11-25 `tasks/result` blocks until then)."""
        record = await self.find(task_id)
        while not record.terminal:
            settled = self._settled.get(task_id)
            if settled is not None:
                await settled.wait()
            elif self.peers is None:  # run by another process that nothing tells us of: poll
                await asyncio.sleep(record.poll_ms / 1000)
            else:
                woken = asyncio.Event()
                waiting = self._waiting.setdefault(task_id, set())
                waiting.add(woken)
                try:
                    # Read after listening: an end told meanwhile still wakes this wait.
                    record = await self.find(task_id)
                    if record.terminal:
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(woken.wait(), self.peer_wait)
                finally:
                    waiting.discard(woken)
                    if not waiting and self._waiting.get(task_id) is waiting:
                        del self._waiting[task_id]
            record = await self.find(task_id)
        return record

    def wake(self, task_id: str) -> None:
        """Wake the `tasks/result` calls here waiting on `task_id` (it ended, here or elsewhere)."""
        for woken in self._waiting.pop(task_id, ()):
            woken.set()

    async def cancel(self, task_id: str, *, terminal_ok: bool) -> TaskRecord:
        """Cancel the caller's task: it is `cancelled` before this returns, and its code is stopped.
        A terminal task is refused with -32602 (2025-11-25), or left as it is (`terminal_ok`)."""
        record = await self.find(task_id)
        if record.terminal:
            if terminal_ok:
                return record
            raise InvalidParams(f"Cannot cancel task {task_id}: it is already {record.status}")
        new = await self._change(
            task_id, "cancelled", status_message="The task was cancelled by request.", input_requests=None
        )
        task_input = self._inputs.get(task_id)  # read before the code ends and lets go of it
        runner = self.stop(task_id)
        if runner is not None:
            # The answer says the code is stopped: let it run its cleanup (`finally`, `except
            # CancelledError`) and settle first. Bounded, for code that swallows the cancellation.
            await asyncio.wait((runner,), timeout=self.stop_grace)
        elif new is not None and self.peers is not None:
            await self._tell_peers(task_id, self.peers.cancelled(task_id))
        if new is not None and task_input is not None:
            await self._notify(new, task_input.ctx)
        if new is None:  # it reached a terminal status meanwhile
            record = await self.find(task_id)
            if not terminal_ok and record.status != "cancelled":
                raise InvalidParams(f"Cannot cancel task {task_id}: it is already {record.status}")
            return record
        return new

    async def update(self, task_id: str, responses: dict[str, Any]) -> None:
        """Answer pending input requests of the caller's task (keys it is not waiting for are ignored)."""
        record = await self.find(task_id)
        if task_id not in self._inputs and self.peers is not None and not record.terminal:
            # Its code runs elsewhere, which checks the responses. The ack waits for that process to
            # take them, so that the caller's next `tasks/get`, on any worker, no longer lists them.
            try:
                refused = await self.peers.answered(task_id, responses)
            except Exception:
                log.warning("task %s: input not passed to other processes", task_id, exc_info=True)
                return
            if refused is not None:
                raise InvalidParams(refused)
            return
        await self.answer_here(task_id, responses)

    async def answer_here(self, task_id: str, responses: dict[str, Any]) -> bool:
        """Answer input requests of a task whose code runs here; whether it runs here. A response
        of the wrong shape is refused (`InvalidParams`) and nothing is taken."""
        task_input = self._inputs.get(task_id)
        if task_input is None:
            return False
        if task_input.answer(responses):
            await self.park(task_input)
        return True

    def stop(self, task_id: str) -> asyncio.Task[None] | None:
        """Stop the code of `task_id` if it runs here: the task that runs it (cancelled), else None."""
        runner = self._running.get(task_id)
        if runner is not None:
            runner.cancel()
        return runner

    @staticmethod
    async def _tell_peers(task_id: str, telling: Awaitable[None]) -> None:
        try:
            await telling
        except Exception:  # the store holds the truth: a cancelled record stays cancelled regardless
            log.warning("task %s: other processes not told", task_id, exc_info=True)

    async def listed(
        self, cursor: str | None, page_size: int, client: str
    ) -> tuple[list[TaskRecord], str | None]:
        """One page of the caller's tasks, oldest first; the cursor is the last id seen, opaque. An
        unauthenticated caller (`client`: its `Connection.client_key`) sees only the tasks it made:
        the ids of other anonymous clients' tasks are what keeps their results theirs."""
        principal = PRINCIPAL.get()
        store = self.store
        if getattr(store, "visible_to", None) is not None:  # (optional: see `TaskStore`)
            visible = cast("VisibleTaskStore", store)
            records = await visible.visible_to(principal, "" if principal else client)
        else:
            records = await store.owned_by(principal)
            if not principal:
                records = [r for r in records if (r.creator or r.client) == client]
        start = 0
        if cursor:
            try:
                last = base64.urlsafe_b64decode(cursor.encode()).decode()
            except ValueError:
                raise InvalidParams(f"Invalid cursor: {quoted(cursor)}") from None
            ids = [r.task_id for r in records]
            if last not in ids:
                raise InvalidParams(f"Invalid cursor: {quoted(cursor)}")
            start = ids.index(last) + 1
        page = records[start : start + page_size]
        more = start + page_size < len(records)
        nxt = base64.urlsafe_b64encode(page[-1].task_id.encode()).decode() if more and page else None
        return page, nxt

    def running(self) -> int:
        """Tasks whose code runs in this process now."""
        return len(self._running)

    def waiting(self) -> int:
        """`tasks/result` calls here waiting on a task that another process runs."""
        return sum(len(waiting) for waiting in self._waiting.values())


def _text_of(result: dict[str, Any]) -> str | None:
    """A tool error result's text blocks, joined (None when it has none): its failed task's reason."""
    texts = [b["text"] for b in result.get("content", ()) if b.get("type") == "text" and "text" in b]
    return "\n".join(texts) or None
