"""The client's endpoint: a message from the server that cannot be read fails one request, not the session.

Sans-I/O like the endpoint it extends: bytes in, events out.
"""

from __future__ import annotations

import logging

import msgspec

from ..errors import McpError
from ..protocol import jsonrpc
from ..protocol.endpoint import Endpoint, Event, Failed, Reply
from ..protocol.jsonrpc import INVALID_REQUEST, PARSE_ERROR, RequestId, encode_error
from ..protocol.salvage import salvage

__all__ = ["ClientEndpoint"]

log = logging.getLogger("mcpbind.client")


class ClientEndpoint(Endpoint):
    """The client's endpoint: a message from the server that cannot be read (nested too deeply for
    the decoder, a result that is no UTF-8 JSON) is an error for that message only. The request it
    answers fails with the cause, if its id can be read; otherwise it is logged once and skipped. The
    session goes on either way."""

    __slots__ = ()

    def receive(self, data: bytes | memoryview) -> list[Event]:
        try:
            events = super().receive(data)
        except Exception as exc:  # only unreadable input gets here: reading it is all receive does
            return self._unreadable(bytes(data), exc)
        if events:
            return self._malformed(bytes(data), events) if type(events[0]) is Reply else events
        if len(self._pending) == 1 and (refused := self._refused_probe(data)):
            return refused
        return self._broken_answer(data)

    def _refused_probe(self, data: bytes | memoryview) -> list[Event]:
        """An error with a null id while only the era probe is pending refuses the probe: a server
        that takes no request before `initialize` answers so, and the probe must not wait it out."""
        ((rid, pending),) = self._pending.items()
        if pending.method != "server/discover":
            return []
        message = jsonrpc.parse(data)[0]
        if not isinstance(message, jsonrpc.ErrorResponse) or message.id is not None:
            return []
        self.forget(rid)
        return [Failed(rid, McpError.from_error(message.error))]

    def _broken_answer(self, data: bytes | memoryview) -> list[Event]:
        """No events: an answer to nothing pending (dropped), or one the endpoint dropped as malformed
        without a reply (an `error` that is no error object). The request such an answer names fails
        with the reason rather than waiting out its timeout. Only this rare path reads the bytes twice."""
        found = salvage(bytes(data))
        if found.id is None or found.request or not self.awaits(found.id):
            return []
        messages = jsonrpc.parse(data)
        why = messages[0].reason if messages and isinstance(messages[0], jsonrpc.Malformed) else "malformed"
        return [self._fail(found.id, why, None)]

    def _unreadable(self, data: bytes, exc: Exception) -> list[Event]:
        found = salvage(data)
        cause = f"{type(exc).__name__}: {exc}"
        if found.id is not None and found.request:
            reply = encode_error(found.id, PARSE_ERROR, f"Parse error: {cause}")
            return [Reply(reply, f"a request that could not be read ({cause})")]  # the peer logs it
        if found.id is not None:
            return [self._fail(found.id, cause, exc)]
        log.warning("a message from the server could not be read, skipped (%s)", cause)
        return []

    def _malformed(self, data: bytes, events: list[Event]) -> list[Event]:
        """Input the endpoint refused (no JSON, a broken envelope): the refusal is answered, unless
        it reads as the answer to one of our requests, which then fails with the reason."""
        found = salvage(data)
        reply = events[0]
        if found.id is None or found.request or len(events) != 1 or not isinstance(reply, Reply):
            return events
        try:
            refusal = msgspec.json.decode(reply.data)["error"]  # our own refusal
            cause, code = str(refusal["message"]), refusal["code"]
        except (msgspec.DecodeError, KeyError, TypeError):
            cause, code = reply.reason, PARSE_ERROR
        return [self._fail(found.id, cause, None, invalid=code == INVALID_REQUEST)]

    def _fail(self, rid: RequestId, cause: str, exc: Exception | None, *, invalid: bool = False) -> Failed:
        """Fail request `rid` for its answer: one that could not be read (-32700), or, `invalid`, one
        that was read but is no valid response (-32600: both `result` and `error`, or neither)."""
        what = "is invalid" if invalid else "could not be read"
        log.warning("the server's answer to request %r %s (%s)", rid, what, cause)
        self.forget(rid)
        error = McpError(
            f"the server's answer {what}: {cause}", code=INVALID_REQUEST if invalid else PARSE_ERROR
        )
        error.__cause__ = exc
        return Failed(rid, error)
