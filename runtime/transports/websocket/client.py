"""The client's WebSocket transport (`Client.websocket(url)`), on the `websockets` asyncio client.

One connection carries everything, both ways: one JSON-RPC message per text frame, subprotocol `mcp`
(as the TypeScript SDK's `WebSocketClientTransport`). The bearer token (`auth`) and any `headers` go
in the upgrade request, as they would in every POST over HTTP.

Reconnection: none. A connection is a session (stateful revisions) or a run of stateless requests;
when it drops, every request waiting on it fails with `SessionClosed` and the client is closed. To go
on, open a new `Client` (it negotiates again); a stateful session does not survive its connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Opcode
from websockets.protocol import CLOSED, OPEN, Event
from websockets.typing import Subprotocol

from ...errors import McpError
from ..stdio import DEFAULT_MAX_LINE
from .core import INVALID_DATA, SUBPROTOCOL, UNSUPPORTED_DATA

__all__ = ["WebSocketClientTransport", "DEFAULT_MAX_MESSAGE"]

log = logging.getLogger("mcpbind.websocket")

DEFAULT_MAX_MESSAGE: Final = DEFAULT_MAX_LINE
"""The largest message read from the server (16 MiB, as over stdio); a larger one ends the connection."""


_BINARY: Final = Opcode.BINARY
_NOT_TEXT: Final = "the server sent a binary frame"


class _TextOnly(ClientConnection):
    """A connection that refuses a binary frame as it arrives (closing with 1003), so that every message
    it delivers is a text frame's, read as bytes (`message()`): the peer parses bytes, and a message
    made into a str only to be encoded back (a copy of the message each way, 3 of a 1 MB answer's 18M
    instructions) is not. The frames after a binary one are dropped, as the connection ends there;
    what came before it is read as usual.

    Once the connection is ending (a frame refused, here or by websockets: too large, not UTF-8, a
    protocol error; or a close frame received) no message comes after what is already read, so
    `message()` says so at once: the requests in flight fail then, not after the close handshake,
    which a server that does not finish it draws out to `close_timeout` (10 s, and as long again to
    drop the connection)."""

    refused: tuple[int, str] | None = None
    """The close code and reason of a frame this connection refused (None: none was)."""
    closing: asyncio.Future[None] | None = None
    """The close that a refused frame started (kept: a task nothing refers to may be collected)."""

    def refuse(self, code: int, reason: str, told: str | None = None) -> None:
        """End the connection over a frame it cannot take (`reason`; `told`: what the close frame
        says, if not that): reading ends now, the close handshake goes on."""
        if self.refused is None:
            self.refused = (code, reason)
            self.recv_messages.close()  # (what was read before is still taken)
            self.closing = asyncio.ensure_future(self.close(code, told or reason))

    def process_event(self, event: Event) -> None:
        if getattr(event, "opcode", None) is _BINARY or self.refused:  # (the handshake's response: none)
            if self.refused is None:
                log.warning("the server sent a binary frame: closing the connection (MCP messages are text)")
                self.refuse(UNSUPPORTED_DATA, _NOT_TEXT, "binary frames are not supported")
            return
        super().process_event(event)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.protocol.state is not OPEN and not self.recv_messages.closed:
            # A close frame sent (websockets failed the connection: a frame too large, say) or
            # received: no message follows it.
            self.recv_messages.close()

    async def message(self) -> bytes | None:
        """The next message, as bytes; None once the connection is ending (`refused` or
        `ending_frame` says how); EOFError once it has closed (`recv` then raises how)."""
        try:
            return await self.recv_messages.get(False)
        except EOFError:
            if self.refused is None and self.protocol.state in (OPEN, CLOSED):
                raise  # (closed: `recv` raises the connection's ConnectionClosed at once)
            return None

    def ending_frame(self) -> Close | None:
        """The close frame of a connection that is ending: the one this side sent if it failed the
        connection, else the server's."""
        protocol = self.protocol
        return protocol.close_sent if protocol.close_sent is not None else protocol.close_rcvd

    # -- a server that reads nothing of ours -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # The queue of messages read resumes reading when it drains: not while writing is paused.
        self.recv_messages.resume = self._resume_reading

    def pause_writing(self) -> None:
        super().pause_writing()
        # The server reads nothing of ours: read nothing of its until it does. Each of its pings is
        # answered with a pong as it is read, written with no flow control, so a ping flood from a
        # server that does not read would otherwise pile pongs up in our write buffer without bound.
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.recv_messages.paused:  # (else the queue resumes reading once it drains)
            self.transport.resume_reading()

    def _resume_reading(self) -> None:
        if not self.paused:  # (else `resume_writing` does, once the server reads again)
            self.transport.resume_reading()


class WebSocketClientTransport:
    """A client's side of a WebSocket connection to an MCP endpoint (ws:// or wss://)."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Awaitable[str | None]] | None = None,
        max_message: int = DEFAULT_MAX_MESSAGE,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        **websockets_options: Any,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.auth = auth
        self.max_message = max_message
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.options = websockets_options
        self.connection: ClientConnection | None = None
        self.close_code: int | None = None
        """How the connection ended, once it has (the server's close code, or 1006 when it dropped)."""
        self.close_reason = ""

    async def start(self) -> None:
        headers = dict(self.headers)
        token = await self.auth() if self.auth is not None else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.options.setdefault("compression", None)  # no per-message deflate: MCP messages are small
        self.connection = await connect(
            self.url,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            additional_headers=headers,
            max_size=self.max_message,
            open_timeout=self.open_timeout,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            create_connection=_TextOnly,
            **self.options,
        )

    async def read(self) -> bytes | None:
        conn = self.connection
        assert isinstance(conn, _TextOnly), "start() first"
        try:
            message = await conn.message()
        except EOFError:
            try:
                await conn.recv(decode=False)  # closed: raises how at once
            except ConnectionClosed as closed:
                self._closed(closed)
            return None
        if message is None:
            self._ended(conn.ending_frame())
            return None
        if not message.isascii():  # (ASCII is UTF-8: checked a word at a time, with no copy)
            try:
                message.decode()
            except UnicodeDecodeError as exc:
                # What `recv` would have refused, decoding: the connection ends with 1007, as before.
                reason = f"invalid UTF-8 at position {exc.start}"
                log.warning(
                    "the server sent a text frame that is not UTF-8 (%s): closing the connection", reason
                )
                conn.refuse(INVALID_DATA, reason)
                self.close_code, self.close_reason = INVALID_DATA, reason
                return None
        return message

    def _closed(self, closed: ConnectionClosed) -> None:
        self._ended(closed.rcvd or closed.sent)

    def _ended(self, frame: Close | None) -> None:
        """Say how the connection ended: a frame it refused, else the close `frame` (None: dropped)."""
        conn = self.connection
        if isinstance(conn, _TextOnly) and conn.refused is not None:
            self.close_code, self.close_reason = conn.refused
            return
        self.close_code = frame.code if frame is not None else 1006
        self.close_reason = frame.reason if frame is not None else "the connection dropped"
        if self.close_code not in (1000, 1001):
            log.warning("the WebSocket connection closed: %d %s", self.close_code, self.close_reason)

    @property
    def end_reason(self) -> str | None:
        """Why the connection ended, when not as it should (for the error of the requests in flight)."""
        if self.close_code is None or self.close_code in (1000, 1001):
            return None
        return f"{self.close_reason or 'no reason given'}: {self.close_code}"

    async def write(self, data: bytes) -> None:
        conn = self.connection
        assert conn is not None, "start() first"
        try:
            await conn.send(data, text=True)
        except ConnectionClosed as closed:
            self._closed(closed)  # the request fails as the read loop ends (SessionClosed)

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    # -- what the client asks of any transport: one connection, no headers per message, no fallback ---

    def deliver_to(self, feed: Callable[[bytes], Awaitable[None]]) -> None:
        pass  # the peer reads each message with read()

    def use_revision(self, revision: str | None) -> None:
        pass

    def session_started(self) -> None:
        pass

    def take_session_lost(self) -> bool:
        return False

    @property
    def param_headers(self) -> None:
        return None

    async def fallback(self, error: McpError) -> None:
        return None
