"""The contracts between the asyncio layer, the server's connections and the transports under them.

`MessageTransport` is what a `Peer` reads and writes (`BufferedTransport` and `WriteHolding` with no
coroutine and no loop turn, where it can); `RequestHandler`, `NotificationHandler` and `AnswerNow` are
what it calls with what it reads; `WRITE_WAIT` says how long a write may wait.
`ReplyChannel` is where what a connection sends while serving one request goes, on a transport with
more than one response stream per connection (an HTTP POST's response); `ROUTE` names the channel of
the request being served. stdio has none (None).
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Container, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..protocol.endpoint import IncomingNotification, IncomingRequest, LineTooLong
from ..protocol.jsonrpc import RequestId

if TYPE_CHECKING:
    from .contracts import (
        BufferedTransport,
        BurstWriting,
        InlineHolding,
        InlineServing,
        MessageTransport,
        NowaitWriter,
        ReplyChannel,
        RequestTransport,
        SendingNow,
        StartingTransport,
        TakingTransport,
        WriteHolding,
    )
    from .eager import Paused

__all__ = [
    "AnswerLines",
    "AnswerNow",
    "BurstWriting",
    "BufferedTransport",
    "InlineHolding",
    "InlineServe",
    "InlineServing",
    "MessageTransport",
    "NotificationHandler",
    "NowaitWriter",
    "Prepared",
    "READ_ON",
    "ReplyChannel",
    "RequestHandler",
    "RequestTransport",
    "ROUTE",
    "SendingNow",
    "StartingTransport",
    "TakingTransport",
    "WRITE_WAIT",
    "WriteHolding",
    "defines",
]

RequestHandler = Callable[[IncomingRequest], Coroutine[Any, Any, bytes | None]]
"""Answers an incoming request with the encoded response (None: the handler sent nothing, e.g. cancelled)."""
NotificationHandler = Callable[[IncomingNotification], Awaitable[None]]
AnswerNow = Callable[[IncomingRequest], "bytes | Paused | None"]
"""Answers the usual request in one step, with no coroutine of its own: its answer, or the handler
`Paused` at its first wait; None: not such a request, nothing was run (`RequestHandler` serves it)."""
AnswerLines = Callable[
    [
        Sequence[object],
        int,
        int,
        Container[RequestId],
        Container[RequestId],
        Callable[[bytes], object],
        contextvars.Context | None,
    ],
    "int | tuple[int, RequestId, bytes | Paused | None]",
]
"""`AnswerNow` for whole framed lines (`lines`, from `at` to `end`), each read in one pass, its id in
neither container given (the requests running, those queued), its answer written (`write`: False
refuses it, anything else takes it, as a list's `append` does): the index
of the first line left (nothing run: it is read the general way), or (the index after a line whose
call did not end in a written answer, its id, and the answer `write` refused, the handler `Paused`,
or None: no answer). Its last argument: None, or with one line the context it runs in, a copy made
for that line's call, which runs there as it is (no copy of its own)."""

WRITE_WAIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("mcpbind_write_wait", default=None)
"""How long a write may wait for the other side to read (None: as long as it takes), for a transport
whose writes can wait (stdio: a server that stops reading its stdin). A request of ours is written
under its own timeout (`Requester.request`), so that such a server cannot hold it past its timeout; a
best-effort write (a cancellation) under 0."""


def defines(transport: object, name: str) -> bool:
    """Whether `transport`'s class has `name` itself: a wrapper that passes the names it lacks on to
    the transport it wraps (`__getattr__`) must not be bypassed by a short path of the inner one."""
    return hasattr(type(transport), name)


InlineServe = Callable[[Sequence[bytes | LineTooLong]], Sequence[bytes | LineTooLong]]
"""A reader's own service of a burst of lines read while it waits (`InlineServing`): it serves what it
can at once, oldest first, and gives back the rest (from the first line it cannot serve there), for the
transport to queue for its reader as usual."""


READ_ON: Final = object()
"""What a `TakingTransport` resolves a request's future with when its read found no answer to take
there (a head, an SSE stream, an error, a body not all there): the caller takes the request on with
`finish_request`, as after `start_request`'s wait."""


class Prepared:
    """What a transport already read off the request it hands over: the protocol revision it names
    (HTTP: the MCP-Protocol-Version header, checked against `_meta`) and, when the transport decoded
    the whole message at once, its params as that revision's params type (else None)."""

    __slots__ = ("decided", "params", "revision")

    def __init__(self, revision: str, params: Any = None, decided: Any = None) -> None:
        self.revision = revision
        self.params = params
        self.decided = decided
        """The core's decision of the request, when the transport had it made (`dispatch.Dispatch`,
        for `revision`: HTTP's session route, which reads a request in one pass)."""


ROUTE: contextvars.ContextVar[ReplyChannel | None] = contextvars.ContextVar("mcpbind_route", default=None)
"""The channel of the request being served (None: the connection's own stream). Handler tasks inherit
it from the request that started them; a queued request keeps the context it arrived in."""


def __getattr__(name: str) -> Any:
    """The contracts (`typing.Protocol` classes, `mcpbind.aio.contracts`), loaded on first use: each
    costs a class of typing's own machinery (~0.5M instructions), which no server pays at its start
    (they are only annotations and casts there; tests/unit/test_cold_start.py)."""
    if name not in _CONTRACTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import contracts

    value = getattr(contracts, name)
    globals()[name] = value
    return value


_CONTRACTS: Final = frozenset(
    {
        "BufferedTransport",
        "BurstWriting",
        "InlineHolding",
        "InlineServing",
        "MessageTransport",
        "NowaitWriter",
        "ReplyChannel",
        "RequestTransport",
        "SendingNow",
        "StartingTransport",
        "TakingTransport",
        "WriteHolding",
    }
)
