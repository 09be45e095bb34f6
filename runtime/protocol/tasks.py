"""Tasks, I/O-free: the status state machine (every allowed transition in one table), task records,
their time-to-live and poll interval, task ids, and a record's wire form in each era.

2025-11-25 has tasks in the core (`tasks/get`, `tasks/result`, `tasks/list`, `tasks/cancel`, a
`task` member asking for one, `CreateTaskResult` wrapping the `Task`). 2026-07-28 moves them to the
`io.modelcontextprotocol/tasks` extension (SEP-2663): the server decides when a call becomes a task,
`CreateTaskResult` is the task itself (`resultType: "task"`), `tasks/get` inlines the result, error or
pending input requests, input arrives with `tasks/update`, and `tasks/result`/`tasks/list` are gone.
A record is plain data (a msgspec Struct holding JSON values): a store may keep it anywhere.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from ..methods import RequestMethod
from .revisions import Revision

__all__ = [
    "ADDRESS_PREFIX",
    "ANONYMOUS",
    "PRINCIPAL_PREFIX",
    "client_at",
    "client_of",
    "EXTENSION",
    "EXTENSION_REQUESTS",
    "CreatedTask",
    "TaskIdParams",
    "UpdateTaskParams",
    "extension_method",
    "RELATED_TASK",
    "TERMINAL",
    "TRANSITIONS",
    "IllegalTransition",
    "Status",
    "TaskPolicy",
    "TaskRecord",
    "can_move",
    "core_task",
    "detailed_task",
    "iso",
    "move",
    "new_record",
    "now_ms",
    "over_client_limit",
]

EXTENSION: Final = "io.modelcontextprotocol/tasks"
"""The 2026-07-28 tasks extension's name (in `capabilities.extensions`, both sides)."""
RELATED_TASK: Final = "io.modelcontextprotocol/related-task"
"""The `_meta` key tying a message to its task (2025-11-25)."""

Status = Literal["working", "input_required", "completed", "failed", "cancelled"]

TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "working": frozenset({"input_required", "completed", "failed", "cancelled"}),
    "input_required": frozenset({"working", "completed", "failed", "cancelled"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}
"""Every status a task may move to from each status (both eras' text agree): a terminal status
(`completed`, `failed`, `cancelled`) moves nowhere, so a cancel that wins the race stays cancelled."""
ANONYMOUS: Final = "anonymous"
"""The `client` of every task an anonymous client of the stateless wire starts: one allowance for all."""
PRINCIPAL_PREFIX: Final = "principal:"
"""Begins the `client` of an authenticated principal's tasks (`client_of`): no other key does."""


ADDRESS_PREFIX: Final = "address:"
"""Begins the `client` of the tasks of an anonymous client known by its address (`client_at`)."""


def client_of(principal: str) -> str:
    """The key a principal's tasks count against `max_per_client` with. In a namespace of its own: a
    principal is whatever `verify_token` names, so one literally named "anonymous" (or like a session's
    key, "anonymous-..." or "session-...") would otherwise share another's allowance."""
    return PRINCIPAL_PREFIX + principal


def client_at(address: str) -> str:
    """The key the tasks of an anonymous client at `address` count against `max_per_client` with,
    whatever number of sessions it opens (the HTTP transport's `clients.client_of`: an IPv6 address by
    its /64). In a namespace of its own, as a principal's."""
    return ADDRESS_PREFIX + address


TERMINAL: Final = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class IllegalTransition(ValueError):
    """A status change the state machine forbids (the record is left as it was)."""


class TaskPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """A server's limits and defaults for tasks (`Server(tasks=TaskPolicy(...))`)."""

    default_ttl_ms: int = 3_600_000
    """Kept this long after creation when the client asks for no TTL."""
    max_ttl_ms: int = 86_400_000
    """A longer TTL asked for is cut to this (receivers may override the TTL asked for)."""
    poll_interval_ms: int = 500
    """The poll interval suggested to clients."""
    max_per_client: int = 100
    """Unfinished tasks one principal may have; without authentication, one client address over
    Streamable HTTP sessions (all its sessions together; an address in `HttpSecurity.uncapped_networks`,
    loopback by default, has an allowance per session), one connection over stdio or WebSocket, and
    all anonymous clients of the stateless wire together."""
    max_total: int = 10_000
    """Task records the store keeps, finished ones included until their TTL ends (cancelled ones
    are dropped first to make room)."""

    def ttl(self, requested: int | None) -> int:
        if requested is None or requested <= 0:
            return self.default_ttl_ms
        return min(int(requested), self.max_ttl_ms)


class TaskRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One task, as a store keeps it: plain data, no live objects (the running code is the runner's)."""

    task_id: str
    status: str
    created_ms: int
    updated_ms: int
    ttl_ms: int
    poll_ms: int
    method: str
    """The request the task runs (`tools/call`)."""
    owner: str = ""
    """The principal that created it ("": no authentication); only that principal sees the task."""
    client: str = ""
    """Who counts against `max_per_client`: the principal, else a key for the client's address or its
    connection (`Connection.task_client`)."""
    era: str = "session"
    creator: str = ""
    """The anonymous caller that made it (`Connection.client_key`: its session, or its connection),
    whose `tasks/list` shows it; "" with a principal (`owner`), whose list shows it. Records stored
    before this member existed have "": `client` was that key then."""
    status_message: str | None = None
    result: dict[str, Any] | None = None
    """The request's result in wire form (terminal `completed`, and `failed` tool results in 2025-11-25)."""
    error: dict[str, Any] | None = None
    """A JSON-RPC error (`code`, `message`, `data`), for a request that ended in a protocol error."""
    input_requests: dict[str, Any] | None = None
    """Pending input requests by key (2026-07-28 `input_required`)."""

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def expires_ms(self) -> int:
        return self.created_ms + self.ttl_ms

    def expired(self, now: int) -> bool:
        return now >= self.created_ms + self.ttl_ms


def over_client_limit(client: str, limit: int) -> str:
    """Why a task past `max_per_client` is refused; the anonymous clients' allowance is said to be
    theirs together (one of them may have no task at all)."""
    if client == ANONYMOUS:
        return (
            f"Too many tasks: the anonymous clients of this server share one limit of {limit} "
            "unfinished, all in use; wait for one to finish, or authenticate for a limit of your own"
        )
    if client.startswith(ADDRESS_PREFIX):
        return (
            f"Too many tasks: this client's address has its limit of {limit} unfinished, its sessions "
            "together; wait for one to finish, or cancel one"
        )
    return (
        f"Too many tasks: this client has its limit of {limit} unfinished; "
        "wait for one to finish, or cancel one"
    )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_record(
    method: str,
    policy: TaskPolicy,
    *,
    ttl_ms: int | None = None,
    owner: str = "",
    client: str = "",
    creator: str = "",
    era: str = "session",
    now: int | None = None,
) -> TaskRecord:
    """A new task, `working` (every task begins there), with an unguessable id."""
    at = now_ms() if now is None else now
    return TaskRecord(
        task_id=base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
        status="working",
        created_ms=at,
        updated_ms=at,
        ttl_ms=policy.ttl(ttl_ms),
        poll_ms=policy.poll_interval_ms,
        method=method,
        owner=owner,
        client=client or owner,
        era=era,
        creator=creator,
    )


def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, ())


def move(record: TaskRecord, status: str, now: int | None = None, **changes: Any) -> TaskRecord:
    """`record` in `status` (with `changes`: result, error, input_requests, status_message); raises
    `IllegalTransition` for a move the table does not allow. Staying in a non-terminal status with
    new data (more input requests, say) is allowed."""
    if status != record.status or record.terminal:
        if not can_move(record.status, status):
            raise IllegalTransition(f"task {record.task_id}: {record.status} -> {status} is not allowed")
    at = now_ms() if now is None else now
    return msgspec.structs.replace(record, status=status, updated_ms=max(at, record.updated_ms), **changes)


def iso(ms: int) -> str:
    """An ISO 8601 (RFC 3339) UTC timestamp of milliseconds since the epoch."""
    seconds, millis = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def core_task(record: TaskRecord) -> dict[str, Any]:
    """The 2025-11-25 `Task` of a record."""
    task: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status,
        "createdAt": iso(record.created_ms),
        "lastUpdatedAt": iso(record.updated_ms),
        "ttl": record.ttl_ms,
        "pollInterval": record.poll_ms,
    }
    if record.status_message is not None:
        task["statusMessage"] = record.status_message
    return task


def detailed_task(record: TaskRecord, *, created: bool = False) -> dict[str, Any]:
    """The 2026-07-28 extension's task: `created` gives the `CreateTaskResult` (`resultType: "task"`,
    no result, error or input requests); otherwise the `tasks/get` answer, which inlines them."""
    task: dict[str, Any] = {
        "resultType": "task" if created else "complete",
        "taskId": record.task_id,
        "status": record.status,
        "createdAt": iso(record.created_ms),
        "lastUpdatedAt": iso(record.updated_ms),
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": record.poll_ms,
    }
    if record.status_message is not None:
        task["statusMessage"] = record.status_message
    if created:
        return task
    if record.status == "completed" and record.result is not None:
        task["result"] = record.result
    elif record.status == "failed" and record.error is not None:
        task["error"] = record.error
    elif record.status == "input_required" and record.input_requests:
        task["inputRequests"] = record.input_requests
    return task


# -- the 2026-07-28 extension's methods (SEP-2663), which no generated table carries -------------------


class TaskIdParams(msgspec.Struct, kw_only=True):
    """`tasks/get` and `tasks/cancel` params."""

    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    task_id: str = msgspec.field(name="taskId")


class UpdateTaskParams(msgspec.Struct, kw_only=True):
    """`tasks/update` params: answers to a task's pending input requests, by key."""

    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    task_id: str = msgspec.field(name="taskId")
    input_responses: dict[str, Any] = msgspec.field(name="inputResponses")


class CreatedTask(msgspec.Struct, kw_only=True):
    """The extension's `CreateTaskResult`: the task itself, flat (`Result & Task`), nothing inlined."""

    meta: dict[str, Any] | UnsetType = msgspec.field(default=UNSET, name="_meta")
    result_type: str = msgspec.field(default="task", name="resultType")
    task_id: str = msgspec.field(name="taskId")
    status: str
    status_message: str | UnsetType = msgspec.field(default=UNSET, name="statusMessage")
    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    ttl_ms: int | None = msgspec.field(name="ttlMs")
    poll_interval_ms: int = msgspec.field(name="pollIntervalMs")
    content: list[Any] = msgspec.field(default_factory=list)
    """Always empty. 2026-07-28's schema knows no task result, so a `tools/call` answer is checked
    against its `CallToolResult`, which requires `content`: with an empty one, the task is also a
    valid result of the negotiated revision (for the conformance suite's wire check, and any
    validating intermediary), and no extension-aware client reads it."""

    @classmethod
    def of(cls, record: TaskRecord) -> CreatedTask:
        created = cls(
            task_id=record.task_id,
            status=record.status,
            created_at=iso(record.created_ms),
            last_updated_at=iso(record.updated_ms),
            ttl_ms=record.ttl_ms,
            poll_interval_ms=record.poll_ms,
        )
        if record.status_message is not None:
            created.status_message = record.status_message
        return created


def _extension_request(name: str, params: Any, handler: str) -> RequestMethod[Any, Any]:
    return RequestMethod(
        name=name,
        directions=("client_to_server",),
        message_type=None,
        params_type=params,
        params_required=True,
        result_type=dict[str, Any],
        result_types=(dict[str, Any],),
        handler=handler,
    )


EXTENSION_REQUESTS: Final[Mapping[str, RequestMethod[Any, Any]]] = {
    "tasks/get": _extension_request("tasks/get", TaskIdParams, "get_task"),
    "tasks/update": _extension_request("tasks/update", UpdateTaskParams, "update_task"),
    "tasks/cancel": _extension_request("tasks/cancel", TaskIdParams, "cancel_task"),
}
"""The extension's requests, routed to the same handler names as the 2025-11-25 core's (the handler
answers as the era says). `tasks/result` and `tasks/list` are not among them: not found."""


def extension_method(revision: Revision, method: str) -> RequestMethod[Any, Any] | None:
    """The tasks extension's `method` where `revision` is of the envelope era, else None."""
    return EXTENSION_REQUESTS.get(method) if revision.stateless else None
