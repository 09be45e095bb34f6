"""The stdio client's short paths, each against the long way it stands for: a chunk of whole lines
split at once, a request encoded in one call, a wrapper's transport never bypassed, and the answers a
transport offers to `ClientPeer.take` resolved there while everything else goes to the feed, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpbind import wire
from mcpbind.aio.interfaces import NowaitWriter, defines
from mcpbind.client.peer import ClientPeer
from mcpbind.client.prepared import prepare
from mcpbind.protocol.endpoint import ClippingLineBuffer, Oversized
from mcpbind.protocol.jsonrpc import encode_request


def _one_by_one(chunk: bytes, max_line: int) -> list[bytes | Oversized]:
    """The general way: the same chunk fed a byte at a time (never whole lines in one piece)."""
    framing = ClippingLineBuffer(max_line)
    out: list[bytes | Oversized] = []
    for i in range(len(chunk)):
        out += framing.feed(chunk[i : i + 1])
    return out


@pytest.mark.parametrize(
    "chunk",
    [
        b'{"a":1}\n',
        b'{"a":1}\n{"b":2}\n{"c":3}\n',
        b'{"a":1}\n\n  \n{"b":2}\r\n',
        b"\n",
        b" x \n\ty\t\n",
    ],
)
def test_a_chunk_of_whole_lines_splits_as_the_general_way(chunk: bytes) -> None:
    assert ClippingLineBuffer(64).feed(chunk) == _one_by_one(chunk, 64)


def test_a_line_over_the_limit_in_a_chunk_of_whole_lines_is_still_clipped() -> None:
    framing = ClippingLineBuffer(8)
    out = framing.feed(b'{"a":1}\n{"id":7,"result":"0123456789"}\n')
    assert out[0] == b'{"a":1}' and isinstance(out[1], Oversized) and out[1].size == 30
    # What a line held back leaves: the next chunk takes the general way, then the short one again.
    assert framing.feed(b'{"b"') == [] and framing.feed(b":2}\n") == [b'{"b":2}']
    assert framing.feed(b'{"c":3}\n') == [b'{"c":3}']


@pytest.mark.parametrize("params", [{"a": [1, "x", None]}, {}, "text"])
def test_a_request_encodes_as_its_members_joined(params: Any) -> None:
    joined = b'{"jsonrpc":"2.0","id":7,"method":"m","params":' + wire.encode(params) + b"}"
    assert encode_request(7, "m", params) == joined


def test_a_request_with_typed_params_leaves_unset_members_out() -> None:
    prepared = prepare("2025-11-25", "tools/call")
    assert prepared is not None
    body = prepared.convert({"name": "echo"})
    data = msgspec.json.decode(encode_request("r1", "tools/call", body))
    assert data == {"jsonrpc": "2.0", "id": "r1", "method": "tools/call", "params": {"name": "echo"}}


class _Inner:
    def write_nowait(self, data: bytes) -> bool:
        return True


class _Wrapper:
    """Passes on what it lacks, as a recording wrapper does."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_wrapper_that_passes_names_on_is_not_taken_for_its_inner_transport() -> None:
    wrapper = _Wrapper(_Inner())
    assert isinstance(wrapper, NowaitWriter)  # (by the protocol's check alone, it would be)
    assert not defines(wrapper, "write_nowait") and defines(_Inner(), "write_nowait")


class _Silent:
    async def read(self) -> bytes | None:
        return None

    async def write(self, data: bytes) -> None:
        pass


def test_take_resolves_answers_and_leaves_everything_else() -> None:
    async def main() -> None:
        fed: list[bytes] = []

        async def on_request(event: Any) -> bytes | None:
            return None

        async def on_notification(event: Any) -> None:
            fed.append(event.method.encode())

        peer = ClientPeer(_Silent(), on_request=on_request, on_notification=on_notification)
        pending = asyncio.ensure_future(peer.request("ping", None, msgspec.json.decode))
        await asyncio.sleep(0)  # (sent: its id is 1)
        assert not peer.take(b'{"jsonrpc":"2.0","method":"notifications/x"}')
        assert not peer.take(b'{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}')
        assert not peer.take(
            '{"jsonrpc":"2.0","id":1,"result":"é"}'.encode()
        )  # (UTF-8: checked the long way)
        assert not peer.take(b"not json")
        assert peer.take(b'{"jsonrpc":"2.0","id":1,"result":{"ok":true}}')
        assert await pending == {"ok": True}
        assert peer.take(b'{"jsonrpc":"2.0","id":99,"result":{}}')  # (an answer to nothing: dropped)

    asyncio.run(asyncio.wait_for(main(), 30))
