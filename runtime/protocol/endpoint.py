"""The sans-I/O core of a JSON-RPC connection: ids, correlation, framing. No sockets, tasks or clocks.

An `Endpoint` turns outgoing calls into bytes and incoming bytes into events. It never blocks and never
does I/O, so it is tested directly; the asyncio layers (`mcpbind.peer`) feed it and act on its events.

    endpoint = Endpoint()
    rid, data = endpoint.request("ping", None, decode=decode_result)   # bytes to send
    for event in endpoint.receive(line):                                # bytes received
        ...  # IncomingRequest, IncomingNotification, Answered, Failed, Reply
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeAlias

import msgspec

from .. import wire
from ..errors import McpError, SessionClosed
from . import jsonrpc
from .jsonrpc import INVALID_REQUEST, PARSE_ERROR, RequestId, encode_error

if TYPE_CHECKING:
    from .salvage import Salvaged

__all__ = [
    "Endpoint",
    "IncomingRequest",
    "IncomingNotification",
    "Answered",
    "Failed",
    "Pending",
    "Reply",
    "Event",
    "LineBuffer",
    "LineTooLong",
    "ClippingLineBuffer",
    "Oversized",
]

log = logging.getLogger("mcpbind.endpoint")

ResultDecoder: TypeAlias = Callable[[msgspec.Raw], Any]

EDGE: Final = 1024
"""Bytes kept of each end of a message too large to keep whole (read by `salvage`, an error path's
module, loaded on its first use rather than with every endpoint)."""


IncomingRequest: TypeAlias = jsonrpc.Request
"""A request from the other side: the message `jsonrpc.parse` read, as it is (one object less per
request). Its raw params are None when absent, or already decoded by the transport (see
`aio.interfaces.Prepared`)."""
IncomingNotification: TypeAlias = jsonrpc.Notification
"""A notification from the other side, as `jsonrpc.parse` read it."""


class Answered(msgspec.Struct, frozen=True):
    """A request of ours was answered with a result, decoded into its method's result type. `waiter`:
    the request's own (`Pending.waiter`)."""

    id: RequestId
    result: Any
    waiter: Any = None


class Failed(msgspec.Struct, frozen=True):
    """A request of ours failed: the peer answered with an error, its result did not decode, or the
    connection closed. `waiter`: the request's own (`Pending.waiter`)."""

    id: RequestId
    error: BaseException
    waiter: Any = None


class Reply(msgspec.Struct, frozen=True):
    """Bytes the endpoint itself must send (the error answer to malformed input)."""

    data: bytes
    reason: str


Event: TypeAlias = IncomingRequest | IncomingNotification | Answered | Failed | Reply


class Pending(msgspec.Struct):
    """A request of ours awaiting its answer: its method, the decoder of its result, and what its
    sender waits on, if anything (the asyncio layer's future: the one table of what is awaited,
    handed back on the request's `Answered` or `Failed`; opaque here)."""

    method: str
    decode: ResultDecoder
    waiter: Any = None


class Endpoint:
    """One side of a JSON-RPC 2.0 connection.

    `batches` accepts JSON-RPC batches (only MCP 2025-03-26 has them).

    A message that cannot be read (nested too deeply for the decoder, no UTF-8 JSON), or that is no
    valid response (neither `result` nor `error`, an `error` that is no error object), is an error for
    that message only. If it reads as the answer to one of our requests (its id can be read, it has no
    `method`), that request fails at once with the cause (-32700, or -32600 for an invalid response)
    rather than waiting out its timeout, and nothing is sent back; otherwise it is answered (a request)
    or logged and skipped. Either way the connection goes on. Only these error paths read the bytes
    twice (`salvage`).
    """

    __slots__ = ("_pending", "batches", "closed", "next_id", "table", "take_answer")

    other: ClassVar[str] = "peer"
    """Who is on the other side, as errors about its answers name it."""

    def __init__(self, batches: bool = False) -> None:
        self.batches = batches
        self._pending: dict[RequestId, Pending] = {}
        self.closed = False
        self.next_id: Callable[[], int] = itertools.count(1).__next__
        """The id of our next request (the counter's own method: no Python frame per request)."""
        self.table = self._pending
        """Our requests awaiting their answers, by id: `request` in parts, for a caller that encodes
        the request itself (a peer's every request, with no frame for it): `next_id()`, then
        `table[rid] = Pending(method, decode, waiter)` (unless `closed`), and the bytes
        `jsonrpc.encode_request` makes."""
        self.take_answer: Callable[[RequestId, None], Pending | None] = self._pending.pop
        """`take_answer(rid, None)`: `answer` in two steps, for a caller that decodes the result itself
        (a client's every answer, with no event made): the request `rid` answers, no longer awaited
        from then on; None: we wait for no such answer (drop it). An error of its decoder is the
        request's `unreadable_result`. (The table's own `pop`: no Python frame per answer.)"""

    def request(self, method: str, params: Any, decode: ResultDecoder) -> tuple[RequestId, bytes]:
        """Allocate an id for a request; the answer will come back as `Answered`/`Failed` with that id."""
        if self.closed:
            raise SessionClosed("the connection is closed")
        rid = self.next_id()
        self._pending[rid] = Pending(method, decode)
        return rid, jsonrpc.encode_request(rid, method, params)

    def forget(self, rid: RequestId) -> None:
        """Stop waiting for `rid` (after a timeout or a cancellation); a late answer is then ignored."""
        self._pending.pop(rid, None)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def awaits(self, rid: RequestId) -> bool:
        """An answer with id `rid` is awaited (a request of ours with that id is pending)."""
        return rid in self._pending

    def notify(self, method: str, params: Any) -> bytes:
        return jsonrpc.encode_notification(method, params)

    def respond(self, rid: RequestId, result: Any) -> bytes:
        return jsonrpc.encode_result(rid, result)

    def respond_error(self, rid: RequestId | None, error: McpError) -> bytes:
        return jsonrpc.encode_error(rid, error.code, error.message, error.data)

    def receive(self, data: bytes | memoryview) -> list[Event]:
        """Events for one framed message (a line on stdio, a body on HTTP)."""
        try:
            messages = jsonrpc.parse(data, batches=self.batches)
        except Exception as exc:  # only unreadable input gets here: reading it is all parse does
            return self._unreadable(bytes(data), exc)
        if len(messages) == 1:
            message = messages[0]
            if type(message) is IncomingRequest:  # the usual case: one request
                return [message]
            return self.events(message, data)
        return self._events(messages)

    def receive_batch(self, data: bytes | memoryview) -> list[Event] | Reply:
        """Events for the items of a JSON-RPC batch, or the one `Reply` to a text that is no batch as
        a whole (bad JSON, an empty array): that answer is a single error object, not an array."""
        messages = jsonrpc.parse_batch(data)
        if isinstance(messages, jsonrpc.Malformed):
            return Reply(messages.reply or b"", messages.reason)
        return self._events(messages)

    def events(self, message: jsonrpc.Message, data: bytes | memoryview) -> list[Event]:
        """The events for one message its caller parsed itself from `data` (`jsonrpc.parse_single`: a
        peer that starts a request as soon as it is read): as `receive` gives them."""
        events = self._events([message])
        if events:
            return self._malformed(bytes(data), events) if type(events[0]) is Reply else events
        return self._broken_answer(data)

    def _events(self, messages: list[jsonrpc.Message]) -> list[Event]:
        events: list[Event] = []
        for message in messages:
            if isinstance(message, (IncomingRequest, IncomingNotification)):
                events.append(message)
            elif isinstance(message, jsonrpc.Response):
                answer = self.answer(message.id, message.result)
                if answer is not None:  # (None: an answer to nothing we wait for, dropped)
                    events.append(answer)
            elif isinstance(message, jsonrpc.ErrorResponse):
                pending = self._pending.pop(message.id, None) if message.id is not None else None
                if pending is not None and message.id is not None:
                    events.append(Failed(message.id, McpError.from_error(message.error), pending.waiter))
            elif message.reply is not None:
                events.append(Reply(message.reply, message.reason))
        return events

    # -- error paths: what can still be read of a message that cannot be taken whole -----------------

    def _broken_answer(self, data: bytes | memoryview) -> list[Event]:
        """No events: an answer to nothing pending (dropped), or one dropped as malformed without a
        reply (an `error` that is no error object). The request such an answer names fails with the
        reason rather than waiting out its timeout."""
        found = _salvage(bytes(data))
        if found.id is None or found.request or not self.awaits(found.id):
            return []
        messages = jsonrpc.parse(data)
        why = messages[0].reason if messages and isinstance(messages[0], jsonrpc.Malformed) else "malformed"
        return [self._fail(found.id, why, None)]

    def _unreadable(self, data: bytes, exc: Exception) -> list[Event]:
        found = _salvage(data)
        cause = f"{type(exc).__name__}: {exc}"
        if found.id is not None and found.request:
            reply = encode_error(found.id, PARSE_ERROR, f"Parse error: {cause}")
            return [Reply(reply, f"a request that could not be read ({cause})")]  # the peer logs it
        if found.id is not None and self.awaits(found.id):
            return [self._fail(found.id, cause, exc)]
        log.warning("a message from the %s could not be read, skipped (%s)", self.other, cause)
        return []

    def _malformed(self, data: bytes, events: list[Event]) -> list[Event]:
        """Input refused (no JSON, a broken envelope): the refusal is answered, unless it reads as the
        answer to one of our pending requests, which then fails with the reason."""
        found = _salvage(data)
        reply = events[0]
        if (
            found.id is None
            or found.request
            or len(events) != 1
            or not isinstance(reply, Reply)
            or not self.awaits(found.id)
        ):
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
        log.warning("the %s's answer to request %r %s (%s)", self.other, rid, what, cause)
        pending = self._pending.pop(rid, None)
        error = McpError(
            f"the {self.other}'s answer {what}: {cause}", code=INVALID_REQUEST if invalid else PARSE_ERROR
        )
        error.__cause__ = exc
        return Failed(rid, error, pending.waiter if pending is not None else None)

    def answer(self, rid: RequestId, result: msgspec.Raw) -> Answered | Failed | None:
        """The event for a result answering `rid`, its envelope already read (by `receive`, or by a
        client's own reading of answers); None: we wait for no such answer (it timed out, or was
        never sent), and it is dropped."""
        pending = self._pending.pop(rid, None)
        if pending is None:
            return None
        try:
            return Answered(rid, pending.decode(result), pending.waiter)
        except (msgspec.DecodeError, RecursionError) as exc:
            return Failed(rid, self.unreadable_result(pending.method, exc), pending.waiter)

    @staticmethod
    def unreadable_result(method: str, exc: Exception) -> McpError:
        """The error of a request of `method` whose result did not decode (`exc`, from its decoder):
        -32602 for a result the method's type refuses, -32700 for one that is no JSON after all (the
        envelope skips over a result without checking its strings' UTF-8, and decoding it goes
        deeper into the stack than reading it did)."""
        if isinstance(exc, msgspec.ValidationError):
            return McpError(f"invalid result for {method}: {exc}", code=jsonrpc.INVALID_PARAMS)
        detail = wire.TOO_DEEP if isinstance(exc, RecursionError) else str(exc)
        bad = McpError(f"the answer to {method} could not be read: {detail}", code=jsonrpc.PARSE_ERROR)
        bad.__cause__ = exc
        return bad

    def close(self, reason: str = "the connection closed") -> list[Event]:
        """Fail every pending request; further requests raise `SessionClosed`."""
        self.closed = True
        failed: list[Event] = [
            Failed(rid, SessionClosed(f"{reason} before {p.method} was answered"), p.waiter)
            for rid, p in self._pending.items()
        ]
        self._pending.clear()
        return failed


class LineTooLong(Exception):
    """A line exceeded the configured limit; its bytes up to the next newline are discarded."""


DEFAULT_MAX_LINE: Final = 16 * 1024 * 1024


class LineBuffer:
    """Newline framing for stdio, sans I/O: feed bytes, get complete lines; partial lines wait.

    A line longer than `max_line` is reported once (as a `LineTooLong` in the output) and skipped up to
    its newline, so that one oversized message costs nothing but itself.
    """

    __slots__ = ("_held", "max_line", "parts", "skipping")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.max_line = max_line
        self.parts: list[bytes] = []
        """The start of a line whose newline has not come yet, as read (as `ClippingLineBuffer`'s).
        Read, with `skipping`, by a reader that tells a whole lone line itself (`pipes.LineProtocol`):
        with neither, a chunk that ends its first line with its newline is that line."""
        self._held = 0
        """Bytes in `parts`."""
        self.skipping = False
        """The rest of an oversized line is being skipped up to its newline."""

    def feed(self, data: bytes) -> list[bytes | LineTooLong]:
        if not self.parts and data[-1:] == b"\n" and len(data) <= self.max_line and not self.skipping:
            # The usual chunk, whole lines and nothing held (a burst of requests): split in one call,
            # none of its lines can be over the limit, and blank lines are dropped as below.
            # (One line: a request at a time, with no split. `partition`, not `find`: 3.11 parses
            # `find`'s arguments the slow way.)
            head, _, rest = data.partition(b"\n")
            if not rest:
                line = head.strip()
                return [line] if line else []
            lines: list[bytes | LineTooLong] = [line.strip() for line in data.split(b"\n")]
            lines.pop()  # (what follows the last newline: nothing)
            return lines if b"" not in lines else [line for line in lines if line]
        out: list[bytes | LineTooLong] = []
        parts = self.parts
        start = 0
        if parts or self.skipping:  # this piece ends the line held (or skipped), or goes with it
            end = data.find(b"\n")
            if end < 0:
                if not self.skipping:
                    parts.append(data)
                    self._held += len(data)
                    self._clip(out)
                return out
            if self.skipping:
                self.skipping = False
            else:
                parts.append(data[:end])
                line = b"".join(parts).strip()  # (the line's one copy)
                parts.clear()
                self._held = 0
                if len(line) > self.max_line:
                    out.append(
                        LineTooLong(f"message of {len(line)} bytes exceeds the limit of {self.max_line}")
                    )
                elif line:
                    out.append(line)
            start = end + 1
        while (end := data.find(b"\n", start)) >= 0:
            line = data[start:end].strip()
            if len(line) > self.max_line:
                out.append(LineTooLong(f"message of {len(line)} bytes exceeds the limit of {self.max_line}"))
            elif line:
                out.append(line)
            start = end + 1
        if start < len(data):
            parts.append(data[start:] if start else data)
            self._held = len(data) - start
            self._clip(out)
        return out

    def _clip(self, out: list[bytes | LineTooLong]) -> None:
        """Report the line held once it is over `max_line`, and skip the rest of it."""
        if self._held > self.max_line:
            out.append(LineTooLong(f"message exceeds the limit of {self.max_line} bytes"))
            self.skipping = True
            self.parts.clear()
            self._held = 0


class Oversized:
    """A line over the limit, dropped: its size and its ends (where its id usually is). A plain
    class, not a NamedTuple: one costs ~0.1 ms to create at import, paid by every cold start."""

    __slots__ = ("head", "size", "tail")

    size: int
    head: bytes
    tail: bytes

    def __init__(self, size: int, head: bytes, tail: bytes) -> None:
        self.size = size
        self.head = head
        self.tail = tail

    def __repr__(self) -> str:
        return f"Oversized(size={self.size}, head={self.head[:32]!r}..., tail=...{self.tail[-32:]!r})"


class ClippingLineBuffer:
    """Newline framing that keeps the ends of what it drops (the stdio client's, of the server's
    stdout): as `LineBuffer`, but a line over `max_line` is reported as `Oversized`, with its first
    and last bytes, where its id usually is (`salvage`), so that the request it answers fails at once
    with an error that says why rather than at its timeout. Only those ends of it are ever kept."""

    __slots__ = ("_head", "_held", "_parts", "_skipped", "_tail", "max_line")

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._parts: list[bytes] = []
        """The start of a line whose newline has not come yet, as read: no newline in it. Joined once
        the newline comes (a bytearray grown by each 64 KiB piece copied a 1 MB answer four times
        over, reallocating)."""
        self._held = 0
        """Bytes in `_parts`."""
        self._skipped = -1  # bytes of an oversized line dropped so far; -1: not inside one
        self._head = b""
        self._tail = b""

    def feed(self, data: bytes) -> list[bytes | Oversized]:
        if self._skipped < 0 and not self._parts and data[-1:] == b"\n" and len(data) <= self.max_line:
            # The usual chunk (answers to requests in flight): whole lines, nothing held, none over
            # the limit. One line (one request in flight: every answer) is taken as it is; more are
            # split in one call, as `LineBuffer` does.
            head, _, rest = data.partition(b"\n")  # (not `find`: see `LineBuffer.feed`)
            if not rest:
                line = head.strip()
                return [line] if line else []
            lines: list[bytes | Oversized] = [line.strip() for line in data.split(b"\n")]
            lines.pop()  # (what follows the last newline: nothing)
            return lines if b"" not in lines else [line for line in lines if line]
        out: list[bytes | Oversized] = []
        if self._skipped >= 0:
            end = data.find(b"\n")
            rest = data if end < 0 else data[:end]  # (a copy, on this error path only)
            if len(self._head) < EDGE:
                self._head += rest[: EDGE - len(self._head)]
            self._tail = (self._tail + rest[-EDGE:])[-EDGE:]
            self._skipped += len(rest)
            if end < 0:
                return out
            out.append(Oversized(self._skipped, self._head, self._tail))
            self._skipped = -1
            data = data[end + 1 :]
        parts = self._parts
        start = 0
        if parts:  # the start of a line is held: this piece ends it, or is held with it
            end = data.find(b"\n")
            if end < 0:
                parts.append(data)
                self._held += len(data)
                self._clip()
                return out
            parts.append(data[:end])
            line = b"".join(parts)  # (the line's one copy)
            parts.clear()
            self._held = 0
            if len(line) > self.max_line:
                out.append(Oversized(len(line), line[:EDGE], line[-EDGE:]))
            elif line := line.strip():
                out.append(line)
            start = end + 1
        while (end := data.find(b"\n", start)) >= 0:
            if end - start > self.max_line:
                out.append(
                    Oversized(
                        end - start, data[start : min(end, start + EDGE)], data[max(start, end - EDGE) : end]
                    )
                )
            elif line := data[start:end].strip():
                out.append(line)
            start = end + 1
        if start < len(data):
            parts.append(data[start:] if start else data)
            self._held = len(data) - start
            self._clip()
        return out

    def _clip(self) -> None:
        """Drop the line held once it is over `max_line`, keeping its ends, and skip the rest of it."""
        if self._held > self.max_line:
            held = b"".join(self._parts)
            self._skipped, self._head, self._tail = len(held), held[:EDGE], held[-EDGE:]
            self._parts.clear()
            self._held = 0


def _salvage(data: bytes) -> Salvaged:
    """`salvage.salvage(data)`, its module loaded on first use: only a message that cannot be read
    needs it, so a cold start does not pay for it."""
    from .salvage import salvage

    return salvage(data)
