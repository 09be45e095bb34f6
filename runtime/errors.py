"""Exceptions: every failure a peer can report surfaces as an `McpError` carrying the JSON-RPC error."""

from __future__ import annotations

from typing import Any, Final

from msgspec import UNSET

from .protocol.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, ErrorObject

__all__ = [
    "McpError",
    "MethodNotFound",
    "InvalidParams",
    "InvalidRequest",
    "InternalError",
    "SessionClosed",
    "RequestTimeout",
    "RESOURCE_NOT_FOUND",
    "SERVER_BUSY",
    "quoted",
    "clipped",
]

RESOURCE_NOT_FOUND = -32002
"""Resource not found, in the revisions before 2026-07-28 (which answers -32602 instead)."""

QUOTED_LIMIT: Final = 64
"""How many characters of a client's value an error message quotes (`quoted`)."""

CLIPPED_LIMIT: Final = 1024
"""How many characters of a text an error carries whole (`clipped`): a value of a usual size (a
resource's URI, a validator's message) is echoed as it is, one as large as a body is not."""

SERVER_BUSY = -32000
"""The server refused a request at once: as many requests as it runs and queues are already in hand
(`max_concurrency` running, `max_queued` waiting). Nothing was done; the request may be sent again.
Other servers use -32000 for other things: clients do not map it to an exception class of its own."""


class McpError(Exception):
    """A JSON-RPC error: raised by handlers to answer with it, and by clients when a peer answers with it."""

    code: int = INTERNAL_ERROR

    def __init__(self, message: str, *, code: int | None = None, data: Any = UNSET) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.data = data

    @property
    def error(self) -> ErrorObject:
        return ErrorObject(self.code, self.message, self.data)

    @classmethod
    def from_error(cls, error: ErrorObject) -> McpError:
        kind = _BY_CODE.get(error.code, McpError)
        exc = kind(error.message, code=error.code, data=error.data)
        return exc

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class MethodNotFound(McpError):
    code = METHOD_NOT_FOUND


class InvalidParams(McpError):
    code = INVALID_PARAMS


class InvalidRequest(McpError):
    code = INVALID_REQUEST


class InternalError(McpError):
    code = INTERNAL_ERROR


_BY_CODE: dict[int, type[McpError]] = {
    METHOD_NOT_FOUND: MethodNotFound,
    INVALID_PARAMS: InvalidParams,
    INVALID_REQUEST: InvalidRequest,
    INTERNAL_ERROR: InternalError,
}


class SessionClosed(Exception):
    """The connection ended while a request was pending, or a request was made after it ended."""


class RequestTimeout(McpError):
    """No answer came within the request's timeout (the request was cancelled at the peer)."""

    code = -32001


def quoted(value: object, limit: int = QUOTED_LIMIT) -> str:
    """`value` as an error message quotes it: its repr, cut at `limit` characters with its length said,
    so that an answer never echoes back a value as large as the body that carried it. A client may send
    any JSON where a string belongs (a number for a version, say): what is no string is quoted as its
    repr, cut the same way."""
    if type(value) is not str:
        text = repr(value)
        return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def clipped(text: str, limit: int = CLIPPED_LIMIT) -> str:
    """`text` as an error carries it: whole up to `limit` characters, else cut there with its length
    said (no quotes, unlike `quoted`: for a text that is the error's member, or its message's end)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"
