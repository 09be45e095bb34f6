"""The typed options of `Client` and of its constructors (`Client.stdio`, `Client.http`), and its callbacks.

`Client.stdio(..., **options)` takes exactly these keywords: a misspelt option or a callback of the wrong
shape is a type error, not a surprise at run time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Literal, TypedDict

import msgspec

__all__ = ["ChangeCallback", "ClientOptions", "InputCallback", "LogCallback", "Mode", "RootsCallback"]

Mode = Literal[
    "auto", "legacy", "draft", "2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28"
]
"""How the client chooses its revision: probe then fall back ("auto"), only `initialize` ("legacy"),
or one pinned revision (a unit test keeps this list equal to the revisions mcpbind has)."""

InputCallback = Callable[[dict[str, Any]], Awaitable[Mapping[str, Any] | msgspec.Struct]]
"""Answers a server's sampling or elicitation request: its params in JSON form -> the result (JSON
form, or the generated result type)."""

RootsCallback = Callable[[], Awaitable[Sequence[Mapping[str, Any]]]]
"""The client's roots, each `{"uri": ..., "name": ...}`."""

LogCallback = Callable[[dict[str, Any]], Awaitable[None]]
"""A log message from the server: the `notifications/message` params (`level`, `logger`, `data`).
A client with one and no `log_level` gets every level, in either era."""

ChangeCallback = Callable[[str], Awaitable[None]]
"""A change: the kind of list that changed ("tools", "resources", "prompts"), or the updated URI."""


class ClientOptions(TypedDict, total=False):
    """The keywords of `Client(...)` beyond the transport; see `Client`."""

    mode: Mode
    name: str
    version: str
    sampling: InputCallback | None
    sampling_tools: bool
    elicitation: InputCallback | None
    roots: RootsCallback | None
    on_log: LogCallback | None
    on_list_changed: ChangeCallback | None
    on_resource_updated: ChangeCallback | None
    log_level: str | None
    request_timeout: float | None
    probe_timeout: float
    cache: bool
    run_tasks: bool
