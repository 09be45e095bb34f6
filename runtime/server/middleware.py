"""Middleware: ordered async hooks around every request and notification a server handles, both eras.

A middleware is `async def mw(call: Call, call_next: Next) -> Any`. It sees the method, the decoded
params, the era and revision, the principal and the request's `Context`; it may time or log the call,
change `call.params`, short-circuit (raise an `McpError`, answered as that error; or return a result
without calling `call_next`), or look at the result `call_next` returns (a request's result before it
is shaped for the wire; None for a notification).

    async def timing(call: Call, call_next: Next) -> Any:
        started = time.perf_counter()
        try:
            return await call_next(call)
        finally:
            log.info("%s took %.1f ms", call.method, (time.perf_counter() - started) * 1e3)

    server = Server("demo", middleware=[timing])   # or server.add_middleware(timing)

The first registered is the outermost. With none registered, nothing of this runs: requests go
straight to their handlers (and stateless tool calls keep their direct path, which middleware, as it
must see every call, turns off).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from ..aio import own
from ..protocol.jsonrpc import RequestId
from ..protocol.request_state import PRINCIPAL

if TYPE_CHECKING:
    from ..protocol.eras import Era
    from .context import Context

__all__ = ["Call", "Next", "Middleware", "MiddlewareChain", "chain", "principal"]


class Call(msgspec.Struct):
    """One request or notification on its way to its handler."""

    method: str
    params: Any
    """The decoded params: the revision's params type for a request; JSON data for a notification
    and for `initialize`; None when there are none."""
    revision: str | None
    """The revision the call is served in; None before one is negotiated (`initialize`, a
    notification outside a session)."""
    era: Era | None
    context: Context | None
    """The request's `Context` (progress, log, elicit...); None for a notification and `initialize`."""
    request_id: RequestId | None
    """None for a notification."""
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    """For middleware to hand values to the ones inside it (a span, a start time)."""

    @property
    def is_notification(self) -> bool:
        return self.request_id is None

    @property
    def stateless(self) -> bool:
        """Served in the envelope era (2026-07-28 on): each request stands alone."""
        return self.era is not None and self.era.stateless

    @property
    def meta(self) -> dict[str, Any]:
        """The request's `_meta` (the envelope era's version and capabilities, trace context...)."""
        if self.context is not None:
            return self.context.meta
        params = self.params
        meta = params.get("_meta") if isinstance(params, dict) else None
        return meta if isinstance(meta, dict) else {}

    @property
    def principal(self) -> str | None:
        """Who sent the call (see `principal()`)."""
        return principal()


def principal() -> str | None:
    """Who sent the request being served, as `HttpSecurity(verify_token=...)` made it known (what
    the verifier returned, as text); None when no one was authenticated (stdio, say)."""
    return PRINCIPAL.get() or None


Next = Callable[[Call], Awaitable[Any]]
"""The rest of the chain: the next middleware, and at the end the handler."""
Middleware = Callable[[Call, Next], Awaitable[Any]]
MiddlewareChain = Callable[[Call, Next], Awaitable[Any]]
"""Every middleware as one: called with a call and the handler that ends the chain."""


def chain(middleware: Sequence[Middleware]) -> MiddlewareChain:
    """The middleware as one function of a call and its handler, the first the outermost."""

    def wrap(mw: Middleware, inner: MiddlewareChain) -> MiddlewareChain:
        async def run(call: Call, handler: Next) -> Any:
            async def call_next(c: Call) -> Any:
                return await inner(c, handler)

            return await own.run(mw(call, call_next))  # (user code: a task of its own, see `aio.own`)

        return run

    async def innermost(call: Call, handler: Next) -> Any:
        return await handler(call)

    composed: MiddlewareChain = innermost
    for mw in reversed(middleware):
        composed = wrap(mw, composed)
    return composed
