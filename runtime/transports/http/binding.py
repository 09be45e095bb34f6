"""How the HTTP transport makes a server connection: one whose peer answers on the streams of the requests it
serves, counted among the server's connections (`Server.attach`) so that list changes reach it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from .sse import HttpPeer, RoutedTransport

if TYPE_CHECKING:
    from ...server import Connection, Server
    from .sessions import Session

__all__ = ["new_connection"]


def new_connection(server: Server, session: Session | None) -> Connection:
    """A server connection whose peer sends to the streams of the requests it serves (and, for a
    session, what belongs to no request to its GET stream). Drop it with `server.detach(conn)`."""
    # Imported here, not at the top: `mcpbind.transports.http` is imported by HTTP clients too
    # (`transports.http.client`), which have no use for the server's modules.
    from ...server import Connection

    conn = Connection(server, RoutedTransport(session), peer=HttpPeer)
    if session is not None:
        # The same on every worker serving the session (its tasks are its own there too); a digest,
        # so that what the task store keeps does not hold the session's id.
        conn.client_key = "session-" + hashlib.sha256(session.id.encode()).hexdigest()[:32]
        conn.task_client = session.task_client
    server.attach(conn)
    return conn
