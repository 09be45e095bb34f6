"""The server's requests for input (sampling, elicitation, roots, ping), answered by the client's callbacks.

The same callbacks serve both eras: on stateful revisions the server sends these as requests (answered
by `answer_request`); on stateless ones a result's `inputRequests` carry them (answered by `fulfil`,
and the client retries with the answers).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import msgspec

from .. import wire
from ..aio import own
from ..errors import McpError, MethodNotFound, SessionClosed, quoted
from ..protocol.endpoint import IncomingRequest
from ..protocol.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, encode_error, encode_result
from .task_receiver import TASKABLE, ClientTasks

__all__ = ["Callback", "InputCallbacks"]

log = logging.getLogger("mcpbind.client")

Callback = Callable[[Any], Awaitable[Any]]


class InputCallbacks:
    """What the client answers the server with; what it has decides the capabilities it declares."""

    __slots__ = ("changes", "elicitation", "roots", "sampling", "sampling_tools", "tasks")

    changes: int
    """Assignments made to this object so far: while it is the same, so is `offered` (a number the
    client compares per stateless request, cheaper than making `offered`)."""

    def __init__(
        self,
        sampling: Callback | None,
        elicitation: Callback | None,
        roots: Callable[[], Awaitable[Sequence[Mapping[str, Any]]]] | None,
        sampling_tools: bool = False,
        tasks: ClientTasks | None = None,
    ) -> None:
        self.sampling = sampling
        self.sampling_tools = sampling_tools
        """The sampling callback takes `tools`/`toolChoice` and may answer with tool use (2025-11-25 on)."""
        self.elicitation = elicitation
        self.roots = roots
        self.tasks = tasks
        """Runs the server's task-augmented sampling and elicitation (2025-11-25); None: never as tasks."""

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name != "changes":
            object.__setattr__(self, "changes", getattr(self, "changes", 0) + 1)

    def offered(self) -> tuple[object, ...]:
        """What `capabilities` is made of: while it compares equal, so do the capabilities."""
        return (self.roots is None, self.sampling is None, self.sampling_tools, self.elicitation is None)

    def capabilities(self, *, tasks: bool = True) -> dict[str, Any]:
        """What the callbacks offer; `tasks`: with the `tasks` capability (the session era's)."""
        caps: dict[str, Any] = {}
        requests: dict[str, Any] = {}
        if self.roots is not None:
            caps["roots"] = {"listChanged": True}
        if self.sampling is not None:
            caps["sampling"] = {"tools": {}} if self.sampling_tools else {}
            requests["sampling"] = {"createMessage": {}}
        if self.elicitation is not None:
            caps["elicitation"] = {"form": {}, "url": {}}
            requests["elicitation"] = {"create": {}}
        if tasks and requests and self.tasks is not None:
            caps["tasks"] = self.tasks.capability(requests)
        return caps

    async def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "sampling/createMessage" and self.sampling is not None:
            return await own.run(self.sampling(params))
        if method == "elicitation/create" and self.elicitation is not None:
            return await own.run(self.elicitation(params))
        if method == "roots/list" and self.roots is not None:
            return {"roots": [dict(root) for root in await own.run(self.roots())]}
        if method == "ping":
            return {}
        raise MethodNotFound(f"this client does not handle {quoted(method)}")

    async def fulfil(self, request: dict[str, Any]) -> Any:
        """The answer to one of an `InputRequiredResult`'s `inputRequests`, in JSON form."""
        method, params = request.get("method"), request.get("params") or {}
        return wire.to_builtins(await self.answer(str(method), params))

    def _run(self, event: IncomingRequest, params: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:
            return await self.answer(event.method, params)

        return run

    async def answer_request(self, event: IncomingRequest, module: ModuleType | None) -> bytes | None:
        """The encoded answer to a request from the server, in the negotiated revision `module`."""
        try:
            if module is None:
                raise McpError("not initialized", code=INVALID_REQUEST)
            spec = module.REQUESTS.get(event.method)
            if spec is None or "server_to_client" not in spec.directions:
                raise MethodNotFound(f"Method not found: {quoted(event.method)}")
            params = msgspec.json.decode(event.params) if event.params is not None else {}
            if spec.params_type is not None and event.params is not None:
                wire.decoder(spec.params_type).decode(event.params)  # validate against the revision
            tasks = self.tasks
            if tasks is not None and event.method.startswith("tasks/"):
                answer = await tasks.answer(event.method, params)
            elif tasks is not None and event.method in TASKABLE and isinstance(params.get("task"), dict):
                # Task-augmented: answered at once, the callback runs on as the task.
                ttl = params["task"].get("ttl")
                plain = {k: v for k, v in params.items() if k != "task"}
                created = tasks.start(
                    event.method, ttl if isinstance(ttl, int) else None, self._run(event, plain)
                )
                return encode_result(event.id, wire.convert(created, spec.task_result_type))
            else:
                answer = await self.answer(event.method, params)
            return encode_result(event.id, wire.convert(wire.to_builtins(answer), spec.result_type))
        except McpError as exc:
            return encode_error(event.id, exc.code, exc.message, exc.data)
        except msgspec.DecodeError as exc:  # params of the wrong shape, or no UTF-8 JSON at all
            return encode_error(event.id, INVALID_PARAMS, f"Invalid params: {exc}")
        except SessionClosed:
            raise
        except BaseException as exc:
            # Whatever a callback raised is the error answer to the server's request, as a server's
            # handler's is (a BaseException of a library's own, GeneratorExit, a CancelledError of its
            # own while nothing cancels it): raised on, it left the server's request unanswered, or
            # (raised in the read loop's turn, a callback's first step) ended the connection.
            # A real cancellation (the server's notifications/cancelled, the client closing) goes on.
            if not own.handler_fault(exc):
                raise
            log.error("answering %s failed", event.method, exc_info=exc)
            return encode_error(event.id, INTERNAL_ERROR, f"Internal error: {type(exc).__name__}")
