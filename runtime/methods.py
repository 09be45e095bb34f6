"""Method tables and the one interface typed stubs delegate to.

Each generated revision module describes every method of its revision as a `RequestMethod` or a
`NotificationMethod`: wire name, directions, message, params and result types, and the name of the
handler method. The runtime routes and decodes every method from these tables; typed stubs call
`Sender.send_request` / `Sender.send_notification` with them.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, Protocol, TypeVar

import msgspec

__all__ = ["Direction", "RequestMethod", "NotificationMethod", "Sender"]

P = TypeVar("P")
R = TypeVar("R")

Direction = Literal["client_to_server", "server_to_client", "input"]
"""Who sends a method: client to server, server to client, or (2026-07-28 on) a server's input request
carried inside an `InputRequiredResult` and answered in the retried request."""


class RequestMethod(msgspec.Struct, Generic[P, R], frozen=True, kw_only=True):
    """A request: its params type `P` and the result type `R` it is answered with."""

    name: str
    directions: tuple[Direction, ...]
    message_type: Any
    """The request's own definition (for revisions whose requests are whole JSON-RPC messages)."""
    params_type: Any
    """The params type, or None when the request takes no params."""
    params_required: bool
    result_type: Any
    """The type results decode into: a Struct, or a dispatched union of the possible results."""
    result_types: tuple[Any, ...]
    """Every result type the request may be answered with, in the schema's order."""
    handler: str
    """The Python method name in stubs and handler protocols, e.g. `call_tool`."""
    task_result_type: Any = None
    """The result when the request is task-augmented (2025-11-25 tasks), else None."""


class NotificationMethod(msgspec.Struct, Generic[P], frozen=True, kw_only=True):
    """A notification and its params type `P`."""

    name: str
    directions: tuple[Direction, ...]
    message_type: Any
    params_type: Any
    params_required: bool
    handler: str


class Sender(Protocol):
    """What typed stubs need from the runtime: send a request and await its result; send a notification."""

    async def send_request(self, method: RequestMethod[P, R], params: P) -> R: ...

    async def send_notification(self, method: NotificationMethod[P], params: P) -> None: ...
