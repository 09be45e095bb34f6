"""A stdio server's request path end to end, in a real process: one burst of lines (one write) mixing
every kind of call the short cuts of the path treat apart (a plain tool answered inline, a plain tool
that waits, a tool that takes a Context and waits, a synchronous tool with structured output, tool
errors, wrong arguments, an unknown tool) with input that must be refused (bad JSON, an unknown method,
params that are no object, an id already in use, a batch where the revision has none, a batch where it
has them). Every answer is checked by its id, in both eras, and the server serves on."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.protocol import revisions

from ..hostile import check_response
from ..http_support import initialize, modern
from ..stdio_support import LineProcess

SERVER = str(Path(__file__).resolve().parents[1] / "servers" / "request_path.py")


class Lines(LineProcess):
    """The server process, in a session of `revision` (none for a stateless one)."""

    def __init__(self, revision: str) -> None:
        super().__init__([sys.executable, SERVER])
        self.revision = revision
        if not revisions.is_modern(revision):
            self.write([json.dumps(initialize(revision, rid="init")).encode()])
            assert self.answers(1)[0]["result"]["protocolVersion"] == revision
            self.write([b'{"jsonrpc":"2.0","method":"notifications/initialized"}'])

    def request(self, rid: Any, method: str, params: dict[str, Any] | None = None) -> bytes:
        if revisions.is_modern(self.revision):
            return json.dumps(modern(rid, method, params, version=self.revision)).encode()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        return json.dumps(message).encode()

    def call(self, rid: Any, name: str, arguments: dict[str, Any]) -> bytes:
        return self.request(rid, "tools/call", {"name": name, "arguments": arguments})

    write = LineProcess.write_lines
    answers = LineProcess.lines  # (the server sends nothing but answers here)


def _text(answer: dict[str, Any]) -> str:
    content = answer["result"]["content"]
    assert len(content) == 1 and content[0]["type"] == "text", answer
    return str(content[0]["text"])


@pytest.mark.parametrize("revision", ["2025-11-25", "2025-03-26", revisions.MODERN[-1]])
def test_one_burst_of_every_kind_of_call_and_refusal(revision: str) -> None:
    server = Lines(revision)
    try:
        batch = (
            b"["
            + server.call("b1", "echo", {"text": "in a batch"})
            + b","
            + b'{"jsonrpc":"2.0","id":"b2","method":"ping"}'
            + b"]"
        )
        burst = [
            server.call("e1", "echo", {"text": "inline"}),
            server.call("n1", "nap", {"seconds": 0.2, "text": "waited"}),
            server.call("s1", "slow", {"seconds": 0.2}),  # takes a Context, waits
            server.call("a1", "add", {"a": 2, "b": 3}),  # synchronous, structured output
            server.call("n1", "nap", {"seconds": 0, "text": "again"}),  # n1 is still running
            server.call("f1", "fail", {"message": "refused"}),
            server.call("c1", "crash", {}),
            server.call("w1", "echo", {"text": 5}),
            server.call("u1", "no_such_tool", {}),
            b'{"jsonrpc":"2.0","id":"j1","method":"tools/call","params":',  # no JSON
            server.request("m1", "no/such/method"),
            b'{"jsonrpc":"2.0","id":"p1","method":"tools/call","params":5}',
            batch,
            server.call("n2", "nap", {"seconds": 0, "text": "last"}),
            b'{"jsonrpc":"2.0","id":"g1","method":"ping"}',
        ]
        server.write(burst)
        got = server.answers(len(burst))
        for answer in got:
            check_response(answer if not isinstance(answer, list) else answer[0])
        by_id: dict[Any, list[Any]] = {}
        arrays = [a for a in got if isinstance(a, list)]
        for answer in got:
            if isinstance(answer, dict):
                by_id.setdefault(answer.get("id"), []).append(answer)
        assert _text(by_id["e1"][0]) == "inline"
        assert _text(by_id["s1"][0]) == "done"
        assert json.loads(_text(by_id["a1"][0])) == {"total": 5, "terms": [2, 3]}
        if revision >= "2025-06-18":  # (structured content came with 2025-06-18)
            assert by_id["a1"][0]["result"]["structuredContent"] == {"total": 5, "terms": [2, 3]}
        # The first n1 waits and is answered; the second, read while it waited, is refused.
        (refused,) = [a for a in by_id["n1"] if "error" in a]
        (waited,) = [a for a in by_id["n1"] if "result" in a]
        assert refused["error"]["code"] == -32600 and "already in use" in refused["error"]["message"]
        assert _text(waited) == "WAITED"
        assert _text(by_id["n2"][0]) == "LAST"
        assert by_id["f1"][0]["result"]["isError"] and _text(by_id["f1"][0]) == "refused"
        assert by_id["c1"][0]["result"]["isError"] and "crash failed" in _text(by_id["c1"][0])
        assert by_id["w1"][0]["result"]["isError"] and "Invalid arguments" in _text(by_id["w1"][0])
        assert by_id["u1"][0]["error"]["code"] == -32602
        assert by_id[None][0]["error"]["code"] == -32700  # (no id: the line could not be read)
        assert by_id["m1"][0]["error"]["code"] == -32601
        assert by_id["p1"][0]["error"]["code"] == -32600
        assert by_id["g1"][0]["result"] == {}
        if revision == "2025-03-26":  # the one revision with batches: answered as one array
            (array,) = arrays
            items = {a["id"]: a for a in array}
            assert (
                set(items) == {"b1", "b2"}
                and _text(items["b1"]) == "in a batch"
                and items["b2"]["result"] == {}
            )
        else:
            assert not arrays and by_id[None][1]["error"]["code"] == -32600  # refused as a whole
        # Serving goes on, with every slot free again.
        server.write([server.call("z1", "echo", {"text": "after"})])
        assert _text(server.answers(1)[0]) == "after"
    finally:
        server.close()


@pytest.mark.parametrize("revision", ["2025-11-25", revisions.MODERN[-1]])
def test_a_plain_tool_keeps_its_context_variables_and_is_cancelled_as_any_handler(revision: str) -> None:
    """Plain tools answered in one step (`server.plain`): a context variable one sets, at once or before
    a wait, is never seen by the next request; one that waits is cancelled by the client, gets no
    answer, and the server serves on."""
    server = Lines(revision)
    try:
        server.write(
            [
                server.call(1, "remember", {"text": "a"}),
                server.call(2, "remember", {"text": "b"}),
                server.call(3, "remember_later", {"text": "c"}),
                server.call(4, "remember", {"text": "d"}),
            ]
        )
        got = {answer["id"]: _text(answer) for answer in server.answers(4)}
        assert got == {1: "unset", 2: "unset", 3: "unset", 4: "unset"}
        cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "h"}}
        server.write([server.call("h", "hold", {"name": "h"}), json.dumps(cancel).encode()])
        server.write([server.call(5, "released", {"name": "h"}), server.call(6, "remember", {"text": "e"})])
        answers = server.answers(2)
        assert {answer["id"]: _text(answer) for answer in answers} == {5: "released", 6: "unset"}
    finally:
        server.close()
