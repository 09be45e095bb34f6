"""The neutral half of the client transport contract (`mcpbind.client.transport.ClientTransport`), for a
transport with no HTTP headers to shape, no session the server can end and nothing to fall back to:
stdio, and the 2024-11-05 HTTP+SSE transport. It lives apart from `mcpbind.client` so that a stdio
server, which imports the stdio module, does not load the client with it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ..errors import McpError

__all__ = ["PlainTransport"]


class PlainTransport:
    """A base for client transports that move messages and nothing else: what the client tells them
    is not needed, and what it asks of them they do not have."""

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        pass  # the peer reads each message with read()

    def use_revision(self, revision: str | None) -> None:
        pass  # no header carries the revision

    def session_started(self) -> None:
        pass  # no stream to open for messages that belong to no request

    def take_session_lost(self) -> bool:
        return False  # no session the server could end

    @property
    def param_headers(self) -> None:
        return None  # no headers: tools are not checked for header annotations

    async def fallback(self, error: McpError) -> None:
        return None  # nothing to fall back to
