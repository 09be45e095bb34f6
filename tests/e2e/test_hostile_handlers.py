"""Handlers and middleware that raise what they should not, or return garbage (tests/servers/
odd_exceptions.py, a real stdio subprocess): each such request gets its answer (a tool's `isError`
result, or -32603) and the server serves the next one. Only a real cancellation is not the request's
to answer (KeyboardInterrupt and SystemExit a handler raises are its failure: test_hostile_tasks.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_fuzz_tasks import Peer

SCRIPT = str(Path(__file__).resolve().parent.parent / "servers" / "odd_exceptions.py")
KINDS = ["odd", "generator_exit", "self_cancelled"]


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    started = Peer(SCRIPT)
    yield started
    started.stop()


def call(peer: Peer, name: str, **arguments: str) -> dict[str, Any]:
    return peer.ask(b'"tools/call"', json.dumps({"name": name, "arguments": arguments}).encode())


def still_serves(peer: Peer) -> None:
    assert call(peer, "ok")["result"]["content"][0]["text"] == "ok"


@pytest.mark.parametrize("tool", ["raises", "raises_after_wait"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_tool_raising_an_odd_exception_is_an_error_result(peer: Peer, tool: str, kind: str) -> None:
    answer = call(peer, tool, kind=kind)
    assert answer["result"]["isError"] is True, answer
    assert "failed (internal error)" in answer["result"]["content"][0]["text"]
    still_serves(peer)


@pytest.mark.parametrize("kind", KINDS)
def test_middleware_raising_an_odd_exception_is_an_internal_error(peer: Peer, kind: str) -> None:
    answer = call(peer, f"mw_{kind}")
    assert answer["error"]["code"] == -32603, answer
    still_serves(peer)


def test_a_result_that_contains_itself_is_an_internal_error(peer: Peer) -> None:
    answer = call(peer, "recursive")
    assert answer["error"]["code"] == -32603, answer
    still_serves(peer)


def test_a_resource_with_no_text_is_an_internal_error_that_shows_no_address(peer: Peer) -> None:
    """A resource handler returning an object whose text would be its `repr` (`<X object at 0x...>`):
    -32603, and no memory address of the server's reaches the client, nor one inside a generator's or
    a container's repr; a value with a text of its own (a number, a path) is sent as that text."""
    for opaque in ("opaque", "generator", "holding"):  # (the last two: a repr not object's own)
        answer = peer.ask(b'"resources/read"', f'{{"uri":"odd://{opaque}"}}'.encode())
        assert answer["error"]["code"] == -32603, answer
        assert "0x" not in json.dumps(answer)
    answer = peer.ask(b'"resources/read"', b'{"uri":"odd://number"}')
    assert answer["result"]["contents"][0]["text"] == "42", answer
    answer = peer.ask(b'"resources/read"', b'{"uri":"odd://path"}')
    assert answer["result"]["contents"][0]["text"] == "/srv/data", answer
    still_serves(peer)


def test_a_real_cancellation_is_still_not_answered(peer: Peer) -> None:
    """The client's notifications/cancelled cancels the waiting tool: no answer to it (the spec), and
    the server goes on."""
    rid = "to-cancel"
    peer.send(
        json.dumps(
            {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": {"name": "wait", "arguments": {}}}
        ).encode()
    )
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": rid}}
    peer.send(json.dumps(cancel).encode())
    answer = call(peer, "ok")  # an answer to `to-cancel` first fails (`ask` checks ids)
    assert answer["result"]["content"][0]["text"] == "ok"


def test_a_declared_output_schema_is_held_to() -> None:
    """A tool that declares its `outputSchema` (`output_schema=`) rather than having one made from its
    return annotation: its results were sent as text alone, never as the structured content the
    schema describes (the spec: a tool with an output schema MUST give structured results that
    conform to it), so a client checking them, mcpbind's own among them, refused every call. Now what
    it returns is its `structuredContent`, checked against the schema first; what does not fit is the
    tool's error result, as for a return annotation's schema."""
    import asyncio
    import sys

    from mcpbind.client import Client

    async def main() -> None:
        async with Client.stdio(sys.executable, [SCRIPT]) as client:
            await client.list_tools()  # (the client keeps the output schemas listed, to check calls)
            fits = await client.call_tool("declared", {"kind": "fits"})
            assert fits.is_error is not True and fits.structured_content == {"n": 1, "more": "x"}, fits
            for kind in ("wrong", "list", "text"):
                refused = await client.call_tool("declared", {"kind": kind})
                assert refused.is_error is True, (kind, refused)
                assert "returned an invalid result" in refused.content[0].text, refused

    asyncio.run(asyncio.wait_for(main(), 60))
