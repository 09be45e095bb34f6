"""Line framing of large messages read in pieces (stdio reads at most 64 KiB at a time): each piece is
searched for a newline once and held as read, a line's pieces are joined once, and what comes out is
the same lines, stripped, and the same refusals of lines over the limit, whatever the cut."""

from __future__ import annotations

import pytest

from mcpbind.protocol.endpoint import ClippingLineBuffer, LineBuffer, Oversized

BIG = b'{"text":"' + b"0123456789abcdef" * 12_500 + b'"}'  # 200 KB: several pieces
STREAM = b'{"a":1}\n  ' + BIG + b"  \n" + b'{"b":2}\n' + BIG + b"\n" + b'{"c"'


def _fed(buffer: LineBuffer | ClippingLineBuffer, piece: int) -> list[bytes]:
    out: list[bytes] = []
    for at in range(0, len(STREAM), piece):
        for line in buffer.feed(STREAM[at : at + piece]):
            assert isinstance(line, bytes), line
            out.append(line)
    return out


@pytest.mark.parametrize("piece", [1 << 16, 65_537, 4096, 7, len(STREAM)])
@pytest.mark.parametrize("kind", ["server", "client"])
def test_large_lines_in_pieces(kind: str, piece: int) -> None:
    buffer = LineBuffer(1 << 20) if kind == "server" else ClippingLineBuffer(1 << 20)
    assert _fed(buffer, piece) == [b'{"a":1}', BIG, b'{"b":2}', BIG]
    assert buffer.feed(b":3}\n") == [b'{"c":3}']  # the piece held is the next line's start


def test_an_oversized_line_among_large_ones_keeps_its_ends() -> None:
    buffer = ClippingLineBuffer(100_000)
    got = [line for at in range(0, len(STREAM), 1 << 16) for line in buffer.feed(STREAM[at : at + (1 << 16)])]
    assert got[0] == b'{"a":1}' and got[2] == b'{"b":2}' and len(got) == 4
    for line in (got[1], got[3]):
        assert (
            isinstance(line, Oversized)
            and line.head.lstrip().startswith(b'{"text":"0123')
            and line.tail.rstrip().endswith(b'"}')
        )


def test_a_request_over_the_limit_among_large_ones_is_reported_once_and_skipped() -> None:
    buffer = LineBuffer(100_000)
    got = [line for at in range(0, len(STREAM), 1 << 16) for line in buffer.feed(STREAM[at : at + (1 << 16)])]
    assert [line if isinstance(line, bytes) else "too long" for line in got] == [
        b'{"a":1}',
        "too long",
        b'{"b":2}',
        "too long",
    ]
    assert buffer.feed(b":3}\n") == [b'{"c":3}']  # after a line skipped, the next one is read whole
