"""Validate every JSON-RPC message a peer sends against the negotiated revision's corrected schema.

Requests and notifications are checked against their own definition (found through the method
table), results against the result definitions of the request they answer, errors against the error
envelope. A `Recorder` wraps a transport and keeps what went each way, so that a test checks both sides.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema.validators import validator_for

from mcpbind.protocol.task_subscriptions import NOTIFICATION as TASK_NOTIFICATION
from mcpbind.protocol.tasks import EXTENSION_REQUESTS

from .conftest import module, source


@cache
def _validator(revision: str, definition: str) -> Any:
    src = source(revision)
    schema = {**src.schema, "$ref": f"#/{src.defs_key}/{definition}"}
    cls = validator_for(src.schema)
    return cls(schema)


def _errors(revision: str, definition: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in _validator(revision, definition).iter_errors(instance)
    ]


_TASK_STATUSES = frozenset({"working", "input_required", "completed", "failed", "cancelled"})


def _task_notification_errors(params: Any) -> list[str]:
    """`notifications/tasks` (the tasks extension; no schema of the revision has it): its params are
    the task as `tasks/get` gives it (SEP-2663 DetailedTask), without `resultType`."""
    if not isinstance(params, dict):
        return ["notifications/tasks: params must be an object"]
    problems = [
        f"notifications/tasks: {k} missing" for k in ("taskId", "status", "createdAt") if k not in params
    ]
    if params.get("status") not in _TASK_STATUSES:
        problems.append(f"notifications/tasks: status {params.get('status')!r}")
    if "resultType" in params:
        problems.append("notifications/tasks: a notification carries no resultType")
    for key, status in (("result", "completed"), ("error", "failed"), ("inputRequests", "input_required")):
        if key in params and params.get("status") != status:
            problems.append(f"notifications/tasks: {key} with status {params.get('status')!r}")
    return problems


class Checker:
    """Checks one connection's messages; `sent` tracks request ids to the method they called."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        self.mod = module(revision)
        self.methods: dict[tuple[str, Any], str] = {}
        self.checked = 0

    def _def_name(self, tp: Any) -> str:
        return str(tp.__name__)

    def check(self, direction: str, frame: bytes) -> None:
        """`direction` is the sender: "client" or "server"."""
        message = json.loads(frame)
        items = message if isinstance(message, list) else [message]
        for item in items:
            self._check_one(direction, item)

    def _check_one(self, sender: str, msg: dict[str, Any]) -> None:
        mod, rev = self.mod, self.revision
        problems: list[str]
        if "method" in msg:
            table = mod.REQUESTS if "id" in msg else mod.NOTIFICATIONS
            spec = table.get(msg["method"])
            extension = None
            if spec is None and mod.STATELESS:
                # The tasks extension's requests, and its status notification (checked below).
                extension = EXTENSION_REQUESTS.get(msg["method"]) or msg["method"] == TASK_NOTIFICATION
            assert spec is not None or extension is not None, (
                f"{sender} sent {msg['method']}, unknown in {rev}"
            )
            if "id" in msg:
                self.methods[(sender, msg["id"])] = msg["method"]
            envelope = "JSONRPCRequest" if "id" in msg else "JSONRPCNotification"
            problems = _errors(rev, envelope, msg)
            if spec is not None:  # (an extension's request: the revision's schema has only its envelope)
                problems += _errors(rev, self._def_name(spec.message_type), msg)
            elif msg["method"] == TASK_NOTIFICATION:
                problems += _task_notification_errors(msg.get("params"))
        elif "result" in msg:
            other = "server" if sender == "client" else "client"
            method = self.methods.get((other, msg.get("id")))
            assert method is not None, f"{sender} answered unknown id {msg.get('id')}"
            envelope = "JSONRPCResultResponse" if hasattr(mod, "JSONRPCResultResponse") else "JSONRPCResponse"
            problems = _errors(rev, envelope, msg)
            if method not in mod.REQUESTS:  # an extension's request (checked as a result by its envelope)
                self.checked += 1
                assert not problems, f"{sender} sent a message {rev} forbids: {msg}\n" + "\n".join(problems)
                return
            spec = mod.REQUESTS[method]
            # A task-augmented request (2025-11-25) may be answered with its CreateTaskResult.
            types = (*spec.result_types, *((spec.task_result_type,) if spec.task_result_type else ()))
            options = [_errors(rev, self._def_name(t), msg["result"]) for t in types]
            if all(options):
                problems += [f"result of {method}: {p}" for p in min(options, key=len)]
        else:
            envelope = "JSONRPCErrorResponse" if hasattr(mod, "JSONRPCErrorResponse") else "JSONRPCError"
            problems = _errors(rev, envelope, msg)
        assert not problems, f"{sender} sent a message {rev} forbids: {msg}\n" + "\n".join(problems)
        self.checked += 1


class Recorder:
    """A transport wrapper that records every frame in both directions."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[bytes] = []
        self.received: list[bytes] = []

    async def start(self) -> None:
        await self.inner.start()

    def deliver_to(self, feed: Any) -> None:
        pass  # every message passes through read(), to be recorded

    async def fallback(self, error: Any) -> Any:
        # The replacement is recorded too: this recorder stays in front of it.
        replacement = await self.inner.fallback(error)
        if replacement is None:
            return None
        self.inner = replacement
        return self

    def __getattr__(self, name: str) -> Any:
        # Everything else is the inner transport's (HTTP: open_get_stream, session_id, ...).
        return getattr(self.inner, name)

    @property
    def protocol_version(self) -> Any:
        return getattr(self.inner, "protocol_version", None)

    @protocol_version.setter
    def protocol_version(self, value: Any) -> None:
        self.inner.protocol_version = value

    async def read(self) -> bytes | None:
        data: bytes | None = await self.inner.read()
        if data is not None:
            self.received.append(data)
        return data

    async def write(self, data: bytes) -> None:
        self.sent.append(data)
        await self.inner.write(data)

    async def close(self) -> None:
        await self.inner.close()

    def validate(self, revision: str, *, skip_probe: bool = False) -> int:
        """Check every frame; requests first, so that each answer finds the request it answers.

        `skip_probe` leaves out a `server/discover` probe and its answer (sent before the client knew
        the server was of the stateful era)."""
        checker = Checker(revision)
        sent = [json.loads(f) for f in self.sent]
        received = [json.loads(f) for f in self.received]
        if skip_probe:
            probes = {
                m.get("id") for m in sent if isinstance(m, dict) and m.get("method") == "server/discover"
            }
            sent = [m for m in sent if not (isinstance(m, dict) and m.get("id") in probes and "method" in m)]
            received = [
                m
                for m in received
                if not (isinstance(m, dict) and "method" not in m and m.get("id") in probes)
            ]

        def is_call(m: Any) -> bool:
            return isinstance(m, dict) and "method" in m

        for sender, frames in (("client", sent), ("server", received)):
            for m in frames:
                if is_call(m):
                    checker.check(sender, json.dumps(m).encode())
        for sender, frames in (("client", sent), ("server", received)):
            for m in frames:
                if not is_call(m):
                    checker.check(sender, json.dumps(m).encode())
        return checker.checked
