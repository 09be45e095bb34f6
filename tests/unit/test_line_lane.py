"""A plain call's whole line read in one pass (`server.plain.answer_line`) against the call read by parts
(`answer_now`, itself checked against the general path in test_plain_lane): the same answer byte for
byte; and None, with nothing run, for anything the frame must not take (another method of the same
shape, an unknown or changed tool, a wrong envelope, an id in use, arguments of the wrong type, a
stateless call naming another version, text that is not ASCII, a server of thousands of tools)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpbind.protocol import revisions
from mcpbind.protocol.endpoint import IncomingRequest, LineTooLong
from mcpbind.server import Connection, Server
from mcpbind.server.plain import MAX_FRAMED_TOOLS, answer_lines, answer_now

from .test_plain_lane import CALLS, _connection, _event, _finished, _server

ALL = [*revisions.STATEFUL, *revisions.MODERN]


def _line(event: IncomingRequest, **envelope: Any) -> bytes:
    whole = {"jsonrpc": "2.0", "id": event.id, "method": event.method, **envelope}
    head = msgspec.json.encode(whole)[:-1]
    assert event.params is not None
    return head + b',"params":' + bytes(event.params) + b"}"


def _prime(conn: Connection, revision: str) -> None:
    """A first call read by parts: outside a session it names the revision a line is read as."""
    assert asyncio.run(_finished(answer_now(conn, _event(0, revision, "count", {"n": 1})))) is not None


def _ready(conn: Connection) -> None:
    """The first lines given to the lane since the tools last changed: it leaves them to the general
    path, and reads lines whole from the next on (`answer_lines`: a server answering one call, as a
    cold start's, makes no frame)."""
    assert answer_lines(conn, [], 0, 0, (), (), _untaken) == 0


def _untaken(reply: bytes) -> bool:
    raise AssertionError("nothing is written")


def _taker(written: list[bytes]) -> Any:
    """A `write` that takes every answer into `written`."""
    return lambda reply: written.append(reply) is None


def answer_line(conn: Connection, data: bytes, running: Any, queued: Any) -> Any:
    """`answer_lines` of one line: None (left, nothing run), its answer written, or what is left to
    carry on (the tool `Paused`)."""
    written: list[bytes] = []
    got = answer_lines(conn, [data], 0, 1, running, queued, lambda reply: written.append(reply) is None)
    if got == 0:
        assert written == []
        return None
    if type(got) is int:
        assert got == 1 and len(written) == 1
        return written[0]
    assert type(got) is tuple and got[0] == 1 and type(got[1]) in (int, str) and written == []
    return got[2]


async def _lined(conn: Connection, data: bytes, running: Any = (), queued: Any = ()) -> bytes | None:
    return await _finished(answer_line(conn, data, running, queued))


def test_lines_of_a_burst_are_answered_in_order_up_to_the_first_left() -> None:
    server, ran = _server()
    revision = revisions.STATEFUL[-1]
    conn = _connection(server, revision)
    lines = [
        _line(_event(1, revision, "shout", {"text": "a"})),
        _line(_event(2, revision, "shout", {"text": "b"})),
        _line(_event(3, revision, "missing", {})),
        _line(_event(4, revision, "shout", {"text": "c"})),
    ]
    written: list[bytes] = []
    _ready(conn)
    assert answer_lines(conn, lines, 0, 4, (), (), lambda reply: written.append(reply) is None) == 2
    assert ran == ["shout", "shout"] and [b'"A"' in written[0], b'"B"' in written[1]] == [True, True]
    # A call whose answer the transport would not take is handed back, with its id.
    refused = answer_lines(conn, lines, 3, 4, (), (), lambda reply: False)
    assert type(refused) is tuple and refused[:2] == (4, 4) and b'"C"' in refused[2]


@pytest.mark.parametrize("revision", ALL)
def test_a_line_answers_as_its_call_read_by_parts_does(revision: str) -> None:
    server, ran = _server()
    conn = _connection(server, revision)
    _prime(conn, revision)

    async def main() -> None:
        taken = 0
        for rid, (name, arguments) in enumerate(CALLS, 1):
            for key in (rid, f"s{rid}"):
                event = _event(key, revision, name, arguments)
                data = _line(event)
                before = len(ran)
                lined = await _lined(conn, data)
                if lined is None:
                    assert len(ran) == before, name  # nothing was run
                    continue
                taken += 1
                assert lined == await _finished(answer_now(conn, event)), name
        assert taken >= len(CALLS)  # (the usual calls all took it)

    asyncio.run(main())


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_what_the_frame_must_not_take_is_left_with_nothing_run(revision: str) -> None:
    server, ran = _server()

    @server.prompt()
    def echo_prompt(text: str) -> str:
        return text

    conn = _connection(server, revision)
    _prime(conn, revision)
    _ready(conn)
    good = _line(_event(1, revision, "echo", {"text": "hi"}))
    assert asyncio.run(_lined(conn, good)) is not None
    del ran[:]
    refused = [
        _line(_event(1, revision, "missing", {"text": "hi"})),  # unknown tool
        _line(_event(1, revision, "echo", {"text": "hi"})).replace(b'"tools/call"', b'"prompts/get"'),
        # (another method, its line naming "tools/call" all the same: the decoder refuses it)
        _line(_event(1, revision, "echo", {"text": "tools/call"})).replace(
            b'"method":"tools/call"', b'"method":"prompts/get"'
        ),
        _line(_event(1, revision, "echo", {"text": "h\u00e9"})),  # not ASCII
        good.replace(b'"2.0"', b'"1.0"'),
        good.replace(b'"jsonrpc":"2.0",', b""),
        good.replace(b'"id":1', b'"id":1.0'),
        good.replace(b'"id":1', b'"id":null'),
        good.replace(b'"id":1', b'"id":true'),
        good.replace(b'"id":1,', b""),
        _line(_event(1, revision, "echo", {"text": 5})),  # arguments of the wrong type
        _line(_event(1, revision, "echo", {})),  # a required argument missing
        _line(_event(1, revision, "echo", None)),
        good.replace(b'"name":"echo"', b'"name":"echo","name":"shout"'),
        good[:-1],  # not JSON
    ]
    for data in refused:
        assert asyncio.run(_lined(conn, data)) is None, data
    # The same lines among others read with them (a burst: those after the first tested together):
    # left at the same place, the call before them answered; with as many "tools/call" as lines
    # too (a line naming it twice), where the burst's test passes and the line is the frame's to
    # refuse.
    twice = _line(_event(7, revision, "echo", {"text": "tools/call"}))
    assert twice.count(b'"tools/call"') == 2
    for data in refused:
        for burst in ([good, data, good], [good, data, twice]):
            taken: list[bytes] = []
            assert answer_lines(conn, burst, 0, 3, (), (), _taker(taken)) == 1, data
            assert len(taken) == 1, data
    # An oversized line's error among them: left where it is.
    oversized: list[object] = [good, LineTooLong(), good]
    taken = []
    assert answer_lines(conn, oversized, 0, 3, (), (), _taker(taken)) == 1
    assert len(taken) == 1
    del ran[:]
    # An id in use (running or queued): the general path refuses it.
    assert asyncio.run(_lined(conn, good, running={1})) is None
    assert asyncio.run(_lined(conn, good, queued={1})) is None
    assert ran == []


def test_a_stateless_line_naming_another_version_is_left_to_the_general_path() -> None:
    server, ran = _server()
    revision = revisions.MODERN[-1]
    conn = Connection(server, _Silent())
    event = _event(1, revision, "echo", {"text": "hi"})
    assert answer_line(conn, _line(event), (), ()) is None  # (no call read by parts named one yet)
    _prime(conn, revision)
    del ran[:]
    for version in (revisions.STATEFUL[-1], "1999-01-01"):
        assert event.params is not None
        data = _line(event).replace(revision.encode(), version.encode())
        assert answer_line(conn, data, (), ()) is None
    assert ran == []
    assert asyncio.run(_lined(conn, _line(event))) is not None and ran == ["echo"]


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_tools_added_removed_or_replaced_at_runtime_are_read_as_they_are_now(revision: str) -> None:
    server, _ = _server()
    conn = _connection(server, revision)
    _prime(conn, revision)
    added = _line(_event(1, revision, "added", {"n": 2}))
    _ready(conn)
    assert asyncio.run(_lined(conn, added)) is None

    @server.tool()
    async def added(n: int) -> int:
        return n * 10

    assert asyncio.run(_lined(conn, added_call(revision))) is None  # (the first since the change)
    assert b'"20"' in (asyncio.run(_lined(conn, added_line := added_call(revision))) or b"")
    assert added_line
    server.remove_tool("added")
    _ready(conn)
    assert asyncio.run(_lined(conn, added_call(revision))) is None

    @server.tool(name="added")
    async def replaced(text: str) -> str:
        return text + "!"

    _ready(conn)
    assert asyncio.run(_lined(conn, added_call(revision))) is None  # (now it takes text)
    line = _line(_event(1, revision, "added", {"text": "b"}))
    assert b'"b!"' in (asyncio.run(_lined(conn, line)) or b"")


@pytest.mark.parametrize("revision", [revisions.STATEFUL[-1], revisions.MODERN[-1]])
def test_a_revisions_first_line_is_left_and_its_frame_made_from_the_second(revision: str) -> None:
    server, ran = _server()
    conn = _connection(server, revision)
    _prime(conn, revision)
    del ran[:]
    data = _line(_event(1, revision, "echo", {"text": "hi"}))
    assert answer_line(conn, data, (), ()) is None and ran == []  # (left: the general path answers it)
    assert all(decode is None for _, decode in server.frames.values())  # (no frame made)
    assert b'"hi"' in (asyncio.run(_lined(conn, data)) or b"") and ran == ["echo"]
    assert any(decode is not None for _, decode in server.frames.values())
    server.remove_tool("shout")  # (the tools change: the frame is dropped, and made again as before)
    assert answer_line(conn, data, (), ()) is None and ran == ["echo"]
    assert b'"hi"' in (asyncio.run(_lined(conn, data)) or b"") and ran == ["echo", "echo"]


def added_call(revision: str) -> bytes:
    return _line(_event(1, revision, "added", {"n": 2}))


def test_a_server_of_thousands_of_tools_reads_its_calls_by_parts() -> None:
    server = Server("many", "1.0.0")
    for at in range(MAX_FRAMED_TOOLS + 1):

        async def tool(n: int, at: int = at) -> int:
            return n + at

        server.tool(name=f"tool{at}")(tool)
    revision = revisions.STATEFUL[-1]
    conn = _connection(server, revision)
    _ready(conn)
    event = _event(1, revision, "tool7", {"n": 1})
    assert answer_line(conn, _line(event), (), ()) is None
    assert b'"8"' in (asyncio.run(_finished(answer_now(conn, event))) or b"")


class _Silent:
    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        raise AssertionError("nothing is sent")

    async def close(self) -> None:
        pass
