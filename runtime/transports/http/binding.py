"""Where the HTTP transport meets the server's internals: its connections (made, registered, dropped) and its
tool entries. `Server` does not name these yet; this module is the one place that reaches past its public
names, so that when it does, one module changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from .sse import HttpPeer, RoutedTransport

if TYPE_CHECKING:
    from ...server.core import Server, _Connection
    from .sessions import Session

    Connection: TypeAlias = _Connection
    """The server's side of one connection (its negotiated session, or per-request state)."""

__all__ = ["new_connection", "drop_connection", "tool_entry"]


def new_connection(server: Server, session: Session | None) -> Connection:
    """A server connection whose peer sends to the streams of the requests it serves (and, for a
    session, what belongs to no request to its GET stream)."""
    from ...server.core import _Connection

    conn = _Connection(server, RoutedTransport(session), peer=HttpPeer)
    server._connections.add(conn)  # so that list changes and resource updates reach it
    return conn


def drop_connection(server: Server, conn: Connection) -> None:
    """The connection serves no more: list changes and resource updates no longer go to it."""
    server._connections.discard(conn)


def tool_entry(server: Server, name: str) -> Any | None:
    """The server's registration of the tool `name` (a new object whenever the tool is registered
    again), or None."""
    return server._tools.get(name)
