"""Fuzzing a stdio server (tests/servers/probe.py, a long-lived subprocess per revision) with hostile
lines: malformed JSON, invalid UTF-8, nesting to 100,000 levels, huge numbers, hostile envelopes and
batches, wrong-typed params for every method of every revision, oversized lines.

The property, for every line: the server answers with JSON-RPC errors or valid answers (nothing for a
notification), stays alive, and answers the next valid request. Where the line is not JSON at all the
answer is -32700. `MCPBIND_FUZZ=deep` runs many more examples.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given

from mcpbind.protocol import revisions

from ..conftest import module
from ..hostile import fuzz, hostile_params, is_valid_json, messages, nested, parse_error_expected, requests_of
from ..http_support import MODERN
from ..stdio_support import StdioServer

ALL = list(revisions.ALL)
MAX_LINE = 1 << 20
"""The servers here take lines up to 1 MiB (the default is 16 MiB), so that oversized lines are cheap."""


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, StdioServer]]:
    """One server per revision, started on first use and kept for the whole module."""
    started: dict[str, StdioServer] = {}

    class Lazy(dict[str, StdioServer]):
        def __missing__(self, revision: str) -> StdioServer:
            server = started[revision] = StdioServer(revision, "--max-line", str(MAX_LINE))
            self[revision] = server
            return server

    yield Lazy()
    for server in started.values():
        assert server.alive
        server.stop()


def methods(revision: str) -> list[str]:
    mod = module(revision)
    return sorted({*mod.REQUESTS, *mod.NOTIFICATIONS})


def exchange(server: StdioServer, line: bytes) -> list[dict[str, Any]]:
    """Send one hostile line, then a ping: what came back up to the ping's answer. The server must be
    alive and the ping answered."""
    server.ensure()
    line = line.replace(b"\n", b" ").replace(b"\r", b" ")
    server.send(line)
    ping = server.next_id("ping")
    server.send(json.dumps({"jsonrpc": "2.0", "id": ping, "method": "ping"}).encode())
    out = server.until({ping})
    assert server.alive, "the server died"
    answers = [m for m in out if "method" not in m and m.get("id") != ping]
    if line.strip() and parse_error_expected(line):
        # One -32700, with no id or the id the server could still read; nothing else without an id
        # (answers to earlier requests may come too, with their ids).
        codes = [m["error"]["code"] for m in answers if "error" in m]
        assert codes.count(-32700) == 1, (line[:200], answers)
        # (No id: left out, or null on a session of 2025-06-18 or earlier, as its schema asks.)
        assert all(m["error"]["code"] == -32700 for m in answers if m.get("id") is None), (
            line[:200],
            answers,
        )
    return out


@pytest.mark.parametrize("revision", ["2025-03-26", "2025-11-25", MODERN])
def test_hostile_lines(servers: dict[str, StdioServer], revision: str) -> None:
    """2025-03-26 is the revision with batches: hostile batches reach the batch path there."""
    server = servers[revision]

    @fuzz(120)
    @given(messages(methods(revision)))
    def check(line: bytes) -> None:
        exchange(server, line)

    check()
    server.ping()


@pytest.mark.parametrize("depth", [1000, 10_000, 100_000])
@pytest.mark.parametrize("where", ["params", "id", "arguments", "top", "batch"])
def test_deep_nesting(servers: dict[str, StdioServer], where: str, depth: int) -> None:
    """Nesting far past any stack, in each place of a request: an error answer, and serving goes on."""
    server = servers["2025-03-26"]  # batches too
    deep = "[" * depth + "]" * depth
    lines = {
        "params": '{"jsonrpc":"2.0","id":"d","method":"tools/list","params":{"cursor":' + deep + "}}",
        "id": '{"jsonrpc":"2.0","id":' + deep + ',"method":"ping"}',
        "arguments": '{"jsonrpc":"2.0","id":"d","method":"tools/call",'
        '"params":{"name":"echo","arguments":{"text":' + deep + "}}}",
        "top": deep,
        "batch": "[" + deep + "]",
    }
    out = exchange(server, lines[where].encode())
    errors = [m for m in out if "error" in m]
    assert errors, out
    assert errors[0]["error"]["code"] in (-32700, -32600, -32602), errors[0]


def test_unclosed_nesting_and_hostile_values(servers: dict[str, StdioServer]) -> None:
    server = servers["2025-11-25"]

    @fuzz(30)
    @given(nested())
    def check(line: bytes) -> None:
        exchange(server, line)

    check()


@pytest.mark.parametrize("revision", ALL)
def test_wrong_typed_params_of_every_method(servers: dict[str, StdioServer], revision: str) -> None:
    """Every request and notification of the revision, its params a valid instance with one member
    made hostile: each request answered once (a result, or an error; -32602 where its params do not
    decode), notifications never answered, and the server goes on."""
    server = servers[revision]

    @fuzz(60)
    @given(hostile_params(revision))
    def check(case: tuple[str, bytes]) -> None:
        name, params = case
        is_request = name in requests_of(revision)
        rid = server.next_id("w")
        head = b'{"jsonrpc":"2.0",' + (b'"id":"' + rid.encode() + b'",' if is_request else b"")
        line = head + b'"method":' + json.dumps(name).encode() + b',"params":' + params + b"}"
        out = exchange(server, line)
        if is_request and is_valid_json(line) is not False:  # else: -32700, checked by exchange
            # Its answer, or the id-less -32700 of a line too deep to read (the only line sent).
            answers = [m for m in out if m.get("id") == rid or (m.get("id") is None and "error" in m)]
            if not answers:
                answers = server.until({rid})[-1:]
            assert len(answers) == 1, answers
            if answers[0].get("id") is None:
                assert answers[0]["error"]["code"] == -32700, answers

    check()
    server.ping()


def test_oversized_lines(servers: dict[str, StdioServer]) -> None:
    """A line over the limit is answered with an error and skipped; the lines around it are served."""
    server = servers["2025-11-25"]
    for size in (MAX_LINE + 1, 3 * MAX_LINE):
        padding = "x" * size
        out = exchange(
            server, b'{"jsonrpc":"2.0","id":"big","method":"ping","params":{"p":"' + padding.encode() + b'"}}'
        )
        errors = [m for m in out if "error" in m]
        assert len(errors) == 1 and errors[0]["error"]["code"] == -32600, errors
    # Just under the limit is fine.
    message = server.message("tools/call", {"name": "echo", "arguments": {"text": "y" * (MAX_LINE - 200)}})
    answer = server.request(message)
    assert answer["result"]["content"][0]["text"] == "y" * (MAX_LINE - 200)
    assert server.restarts == 0


@pytest.mark.parametrize("revision", ["2025-11-25", MODERN])
def test_a_request_id_that_is_no_string_or_integer_gets_invalid_request(
    servers: dict[str, StdioServer], revision: str
) -> None:
    """An id 1.5 (or 1e400, read as infinity) was taken and answered, echoed as 1.5 (infinity as
    null); every schema says string or integer. Now -32600 with no id, and the server goes on."""
    server = servers[revision]
    for rid in (b"1.5", b"1.0", b"-2.5e3", b"1e400", b"true", b"{}"):
        out = [
            m
            for m in exchange(server, b'{"jsonrpc":"2.0","id":' + rid + b',"method":"ping"}')
            if "result" not in m
        ]
        assert len(out) == 1 and out[0]["error"]["code"] == -32600 and out[0].get("id") is None, (rid, out)
    assert server.restarts == 0


BURST: list[tuple[bytes, str | None]] = [
    # (a hostile line, the id its answer carries: None where no id can be read)
    (b'{"jsonrpc":"2.0","id":1e400,"method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":"b-dup","id":"b-dup2","method":"ping"}', "b-dup2"),  # the last one counts
    (b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":"b-nul\x00","method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":"b-utf8\xff","method":"ping"}', None),
    (b"\x00\x00\x00", None),
    (b"[" * 5000, None),
    (b'{"jsonrpc":"2.0","id":true,"method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":1.0,"method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', None),
    (b'{"jsonrpc":"2.0","id":"b-params","method":"ping","params":[]}', "b-params"),
    (b'{"jsonrpc":"2.0","id":"b-name","method":"tools/call","params":{"name":1,"arguments":[]}}', "b-name"),
    (b'{"jsonrpc":"2.0","id":"b-cursor","method":"tools/list","params":{"cursor":{"x":1}}}', "b-cursor"),
    (
        b'{"jsonrpc":"2.0","id":"b-token","method":"tools/call","params":{"name":"echo","arguments":{"text":"x"},'
        b'"_meta":{"progressToken":1e400}}}',
        "b-token",
    ),
    (b'{"jsonrpc":"2.0","id":"b-meta","method":"tools/call","params":{"name":"echo","_meta":"m"}}', "b-meta"),
    (b'{"jsonrpc":"2.0","id":"b-cut","method":"ping"', None),
]


@pytest.mark.parametrize("revision", ["2025-11-25", MODERN])
def test_hostile_lines_in_one_burst_each_get_one_answer(
    servers: dict[str, StdioServer], revision: str
) -> None:
    """The buffered read path: hostile lines, each followed by a valid request, written at once, so
    that the server takes them from one read. Each valid request and each request whose id can be
    read is answered once, every line that has no readable id gets one error with a null id, and the
    server goes on."""
    server = servers[revision]
    server.ensure()
    pings = [server.next_id("burst") for _ in BURST]
    data = b"".join(
        line + b"\n" + json.dumps({**server.message("tools/list"), "id": ping}).encode() + b"\n"
        for (line, _), ping in zip(BURST, pings, strict=True)
    )
    assert server.process is not None and server.process.stdin is not None
    server.process.stdin.write(data)
    server.process.stdin.flush()
    out = [m for m in server.until(set(pings), timeout=30) if "method" not in m]
    ids = [m.get("id") for m in out]
    for ping in pings:
        assert ids.count(ping) == 1 and "result" in out[ids.index(ping)], (ping, out)
    for line, rid in BURST:
        if rid is not None:
            assert ids.count(rid) == 1, (line, out)
    unreadable = sum(1 for _, rid in BURST if rid is None)
    assert len(out) == len(pings) + len(BURST), out  # nothing else: one answer per line
    assert ids.count(None) == unreadable, out
    assert all("error" in m for m in out if m.get("id") is None)
    assert server.alive
    server.ping()
