"""Server-Sent Events parsing, sans-I/O: feed the bytes of a stream as they come, get its events.

One parser for both HTTP client transports (Streamable HTTP's answers and GET stream, and the
2024-11-05 HTTP+SSE stream), following the WHATWG event-stream rules: lines end in CRLF, LF or CR
(a CRLF may be split across two chunks), one leading byte order mark is ignored, `:` starts a
comment, a field's value loses one leading space, `data` lines join with LF, a blank line dispatches,
`id` persists from event to event (one with NUL is ignored), `retry` takes ASCII digits only (more
than `MAX_RETRY` counts as `MAX_RETRY`). Nothing here does I/O or imports asyncio.

    parser = SseParser(max_data=16 * 1024 * 1024)
    for chunk in body:
        for event in parser.feed(chunk):
            ...
    trailing = parser.end()

Memory is bounded: an event's data over `max_data`, or a line over `max_data` plus a little, raises
`EventTooLarge`; the stream cannot be read further (the parser is left mid-line).
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = ["SseEvent", "SseParser", "EventTooLarge", "LINE_SLACK", "MAX_RETRY"]

LINE_SLACK: Final = 64
"""A line may exceed `max_data` by this much: it holds the data, its field name and a line end."""

MAX_RETRY: Final = 999_999_999
"""The longest `retry` kept, in milliseconds (11 days: a delay that means "never"). A longer one is
taken as this: read whole, its digits could exceed what `int()` converts (4300) or what a timer takes
(a float's range), failing whatever reads the stream."""
_RETRY_DIGITS: Final = len(str(MAX_RETRY))
_BOM: Final = b"\xef\xbb\xbf"
_CR: Final = 13
_COLON: Final = 58


class EventTooLarge(ValueError):
    """An event (or a line of the stream) over the parser's limit."""


class SseEvent(NamedTuple):
    data: bytes
    """The `data` lines joined with LF (empty for an event whose only data line was empty)."""
    event: str = "message"
    """The event type: `message` unless an `event` field named another."""
    id: str | None = None
    """The last event id in force when this event was dispatched (latin-1: sent back as it came)."""
    retry: int | None = None
    """The reconnection delay (ms) in force when this event was dispatched."""


class SseParser:
    """The events of one stream; make one per HTTP response."""

    __slots__ = (
        "_cr",
        "_data",
        "_event",
        "_lead",
        "_size",
        "_tail",
        "last_id",
        "max_data",
        "max_line",
        "retry",
    )

    def __init__(self, max_data: int) -> None:
        self.max_data = max_data
        self.max_line = max_data + LINE_SLACK
        self.last_id: str | None = None
        """The last `id` field read (an `id` read after the last event counts: a stream resumes from it)."""
        self.retry: int | None = None
        """The last valid `retry` field read, in milliseconds."""
        self._tail = bytearray()  # the line begun and not yet ended
        self._cr = False  # the last chunk ended in CR: an LF opening the next one ends no line
        self._data: list[bytes] = []
        self._size = 0  # of the data so far, counting the LF that will join each line to the next
        self._event = ""
        self._lead: bytes | None = b""  # the stream's first bytes, until a byte order mark is ruled out

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events that `chunk` completes, in order."""
        if self._lead is not None:
            lead = self._lead + chunk
            if len(lead) < len(_BOM) and _BOM.startswith(lead):
                self._lead = lead  # (a stream's first chunk of one or two bytes: more may be the mark)
                return []
            self._lead = None
            chunk = lead[len(_BOM) :] if lead.startswith(_BOM) else lead
        if self._cr:
            self._cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        tail = self._tail
        if tail:
            start = len(tail)
            tail += chunk
            # Only the new bytes can end the line: a long line arriving in pieces is scanned once.
            last = max(tail.rfind(b"\n", start), tail.rfind(b"\r", start))
            if last < 0:
                if len(tail) > self.max_line:
                    raise EventTooLarge(f"an event exceeds the limit of {self.max_data} bytes")
                return []
            lines = bytes(tail[: last + 1])
            del tail[: last + 1]
        else:
            last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
            if last < 0:
                tail += chunk
                if len(tail) > self.max_line:
                    raise EventTooLarge(f"an event exceeds the limit of {self.max_data} bytes")
                return []
            if last + 1 == len(chunk):
                lines = chunk
            else:
                lines = chunk[: last + 1]
                tail += chunk[last + 1 :]
        if tail:
            if len(tail) > self.max_line:
                raise EventTooLarge(f"an event exceeds the limit of {self.max_data} bytes")
        elif lines[-1] == _CR:
            self._cr = True
        return self._lines(lines.splitlines())

    def end(self) -> list[SseEvent]:
        """The stream ended: its last line, and an event whose blank line never came (dispatched
        anyway: a server that closes the stream right after an answer's data loses nothing)."""
        lines = [bytes(self._tail), b""] if self._tail else [b""]
        self._tail.clear()
        self._cr = False
        return self._lines(lines)

    def _lines(self, lines: list[bytes]) -> list[SseEvent]:
        events: list[SseEvent] = []
        for line in lines:
            if not line:
                if self._data:
                    data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                    events.append(SseEvent(data, self._event or "message", self.last_id, self.retry))
                    self._data = []
                    self._size = 0
                self._event = ""
                continue
            if line[0] == _COLON:
                continue  # a comment (a keep-alive)
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"data":
                self._size += len(value) + 1
                if self._size - 1 > self.max_data:
                    raise EventTooLarge(f"an event exceeds the limit of {self.max_data} bytes")
                self._data.append(value)
            elif name == b"event":
                self._event = value.decode("utf-8", "replace")
            elif name == b"id":
                if value.find(b"\0") < 0:  # (`in` on 3.11 first tries the bytes as an int: a TypeError made)
                    self.last_id = value.decode("latin-1")
            elif name == b"retry":
                if value.isdigit():
                    digits = value.lstrip(b"0")
                    self.retry = int(digits or b"0") if len(digits) <= _RETRY_DIGITS else MAX_RETRY
        return events
