"""The contract between `Client` and its transport: what the client may ask of any transport.

A transport moves framed JSON-RPC messages (`read`/`write`, as the peer needs). Beyond that, the
client tells it what it negotiated and asks it about what only some transports have (HTTP headers,
sessions the server can end, a transport to fall back to); a transport without such a thing answers
with the neutral value. `StdioClientTransport`, `StreamableHttpTransport` and `LegacySseTransport`
implement it; a wrapper (a recorder, say) implements it by passing each call on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from msgspec import Raw

from ..errors import McpError

__all__ = ["AnswerTransport", "Answers", "ClientTransport", "ParamHeaders", "TakesAnswers"]

ParamHeaders = dict[str, dict[str, tuple[str, ...]]]
"""Per tool, the `Mcp-Param-*` headers its `x-mcp-header` annotations ask for: header name -> path."""


class ClientTransport(Protocol):
    async def start(self) -> None:
        """Connect (spawn the server, open the HTTP client or stream); before any other call."""
        ...

    async def read(self) -> bytes | None:
        """The next framed message, or None when the server has closed its side."""
        ...

    async def write(self, data: bytes) -> None:
        """Send one framed message."""
        ...

    async def close(self) -> None:
        """Disconnect; `read` answers None from then on."""
        ...

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        """Hand each message read to `feed`, in the task that read it, rather than through `read`
        (one turn of the event loop less per answer). A transport may ignore this and keep `read`:
        one that reads on its own, or a wrapper that sees what passes through `read`."""
        ...

    def use_revision(self, revision: str | None) -> None:
        """The revision negotiated so far (None: none yet). HTTP shapes every request's headers by
        it (`MCP-Protocol-Version`, and on stateless revisions `Mcp-Method`/`Mcp-Name`)."""
        ...

    def session_started(self) -> None:
        """`initialize` is done: a stateful session runs (HTTP opens its GET stream for messages
        that belong to no request)."""
        ...

    def take_session_lost(self) -> bool:
        """Whether the server ended our session since the last call (HTTP: a 404 for our
        `Mcp-Session-Id`); the client must then initialize again. Asking clears it."""
        ...

    @property
    def param_headers(self) -> ParamHeaders | None:
        """Where the client records the headers of each listed tool's calls; None when this
        transport carries no headers (then tools are not checked for header annotations)."""
        ...

    async def fallback(self, error: McpError) -> ClientTransport | None:
        """A transport to try instead, started, after `error` ended every attempt at the era on this
        one (HTTP: an endpoint that refuses POST with 404 or 405 may be a 2024-11-05 HTTP+SSE
        server); this one is closed then. None: nothing to fall back to."""
        ...


@runtime_checkable
class TakesAnswers(Protocol):
    """A transport that reads on its own (`deliver_to`) and can offer each message to a plain function
    first: the answers to our requests are then resolved with no coroutine per message (stdio)."""

    def take_with(self, take: Callable[[bytes], bool]) -> None:
        """Offer each message read to `take` before the feed of `deliver_to`; what it takes (True)
        is done, the rest goes to the feed, in order."""
        ...


class Answers(Protocol):
    """What takes the answers to our requests that a transport reads itself (the client's peer),
    for a transport that reads each answer's envelope anyway (`AnswerTransport`)."""

    def answered(self, rid: Any, result: Raw) -> None:
        """A plain result to request `rid` (`jsonrpc` "2.0", an integer id, a `result` and neither
        `method` nor `error`, in ASCII, so valid UTF-8), its envelope read by the transport: the
        result decoded into the request's type and its request resolved (or failed, if it does not
        decode); dropped if `rid` is awaited no more."""
        ...

    def answered_whole(self, rid: Any, body: bytes) -> bool:
        """The whole JSON body that came back for request `rid` (HTTP: its POST's 2xx answer),
        before the transport reads any of it: True if it was taken, a plain result to `rid` read
        with its result in one pass (its request resolved with the value `answered` would give);
        False: nothing was done, and the transport reads the body as usual (its envelope, then
        `answered`, or its error, stray id or anything else). Only ever True where reading the
        envelope, then the result, would have resolved the request with the same value."""
        ...


@runtime_checkable
class AnswerTransport(Protocol):
    """A transport that reads the envelope of what it receives anyway (HTTP: to tell an answer from
    an error page): it hands a plain result to the client as read, so that it is not read twice,
    and a whole body that answers a request of its own (HTTP: a POST's) to be read in one pass."""

    def answer_to(self, answers: Answers) -> None:
        """Offer `answers` each whole body answering one of our requests first
        (`Answers.answered_whole`), then give it each message that is a plain result
        (`Answers.answered`). Every other message still goes to `deliver_to`'s feed, or `read`."""
        ...
