"""The SSE parser, in process: the same events whatever the chunking, the WHATWG line rules, the limits."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpbind.protocol.framing import LINE_SLACK, MAX_RETRY, EventTooLarge, SseEvent, SseParser


def reference(stream: bytes, max_data: int = 1 << 20) -> tuple[list[SseEvent], str | None, int | None]:
    """The events of a whole stream, parsed line by line the obvious way (the spec's algorithm)."""
    lines = re.split(rb"\r\n|\r|\n", stream)
    events: list[SseEvent] = []
    data: list[bytes] | None = None
    event, last_id, retry = "", None, None
    for line in [*lines, b""]:  # the stream's end dispatches what is pending
        if not line:
            if data is not None:
                events.append(SseEvent(b"\n".join(data), event or "message", last_id, retry))
            data, event = None, ""
            continue
        if line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if name == b"data":
            data = [*(data or []), value]
        elif name == b"event":
            event = value.decode("utf-8", "replace")
        elif name == b"id" and b"\0" not in value:
            last_id = value.decode("latin-1")
        elif name == b"retry" and value.isdigit():
            retry = min(int(value), MAX_RETRY)
    return events, last_id, retry


def parse(chunks: list[bytes], max_data: int = 1 << 20) -> tuple[list[SseEvent], str | None, int | None]:
    parser = SseParser(max_data)
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.end()
    return events, parser.last_id, parser.retry


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


_FIELD = st.sampled_from([b"data", b"event", b"id", b"retry", b"other", b"", b"dat"])
_VALUE = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")) | st.sampled_from(
    [b"", b" ", b"  x", b"123", b"{}", b"\x00", b"\xff\xfe"]
)
_EOL = st.sampled_from([b"\n", b"\r", b"\r\n"])
_LINE = st.one_of(
    st.tuples(_FIELD, st.sampled_from([b":", b": ", b""]), _VALUE, _EOL).map(b"".join),
    st.tuples(st.just(b":"), _VALUE, _EOL).map(b"".join),  # a comment
    _EOL,  # a blank line: dispatch
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINE, max_size=30).map(b"".join), st.lists(st.integers(min_value=0), max_size=12))
def test_any_chunking_gives_the_events_of_the_whole_stream(stream: bytes, cuts: list[int]) -> None:
    assert parse(split(stream, cuts)) == reference(stream)
    assert parse([stream[i : i + 1] for i in range(len(stream))]) == reference(stream)


def test_a_crlf_split_across_chunks_ends_one_line() -> None:
    events, _, _ = parse([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"])
    assert events == [SseEvent(b"a\nb")]


def test_fields_ids_and_retry() -> None:
    stream = b": keep-alive\nid: 7\nretry: 250\nevent: endpoint\ndata: /post\n\n"
    stream += b"id: bad\0\nretry: 1x\ndata:x\n\n"
    events, last_id, retry = parse([stream])
    assert events == [SseEvent(b"/post", "endpoint", "7", 250), SseEvent(b"x", "message", "7", 250)]
    assert (last_id, retry) == ("7", 250)


@pytest.mark.parametrize("piece", [1, 2, 3, 100])
def test_one_leading_byte_order_mark_is_ignored(piece: int) -> None:
    """WHATWG: "One leading U+FEFF BYTE ORDER MARK character must be ignored if any are present"
    (a second one is part of the first field's name), however the stream is cut."""
    stream = b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n"
    events, _, _ = parse([stream[i : i + piece] for i in range(0, len(stream), piece)])
    assert events == [SseEvent(b"a")]
    twice, _, _ = parse([b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n"])
    assert twice == []
    assert parse([b"\xef", b"\xbb"]) == ([], None, None)  # a stream that ends in a mark's first bytes


def test_a_retry_of_any_length_is_read() -> None:
    """A `retry` of more digits than `int()` converts (4300), or than a timer's float holds, is the
    longest delay kept, not an error that ends the stream's reading."""
    for digits in (b"9" * 10, b"9" * 400, b"9" * 5000, b"1" + b"0" * 9):
        _, _, retry = parse([b"retry: " + digits + b"\ndata: x\n\n"])
        assert retry == MAX_RETRY
    assert parse([b"retry: 999999999\n"])[2] == 999_999_999
    assert parse([b"retry: " + b"0" * 5000 + b"5\n"])[2] == 5


def test_an_id_without_data_dispatches_nothing_but_is_kept() -> None:
    parser = SseParser(100)
    assert parser.feed(b"id: e1\n\n") == []
    assert parser.last_id == "e1"
    assert parser.feed(b"data:\n\n") == [SseEvent(b"", "message", "e1")]  # empty data: an event all the same


def test_an_event_left_open_at_the_end_is_dispatched() -> None:
    parser = SseParser(100)
    assert parser.feed(b'data: {"a":1}') == []
    assert parser.end() == [SseEvent(b'{"a":1}')]
    assert parser.end() == []


def test_an_event_just_over_max_data_is_refused() -> None:
    parser = SseParser(10)
    assert parser.feed(b"data: 12345\ndata: 6789\n\n") == [SseEvent(b"12345\n6789")]  # exactly 10 bytes
    with pytest.raises(EventTooLarge, match="exceeds the limit of 10 bytes"):
        SseParser(10).feed(b"data: 12345\ndata: 67890\n")


@pytest.mark.parametrize("piece", [1, 7, 4096])
def test_a_line_over_the_limit_is_refused_before_it_ends(piece: int) -> None:
    """A line that never ends cannot hold memory: it is refused once it is over the limit, however it
    arrives (and a long line arriving in small pieces is not rescanned: this stays fast)."""
    parser = SseParser(1000)
    line = b": " + b"x" * (1000 + LINE_SLACK)
    with pytest.raises(EventTooLarge):
        for i in range(0, len(line), piece):
            parser.feed(line[i : i + piece])


def test_a_long_line_in_small_pieces_is_read_in_linear_time() -> None:
    parser = SseParser(1 << 22)
    body = b"data: " + b"x" * (1 << 21) + b"\n\n"
    events = [e for i in range(0, len(body), 512) for e in parser.feed(body[i : i + 512])]
    assert [len(e.data) for e in events] == [1 << 21]
