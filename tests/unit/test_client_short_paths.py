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


@pytest.mark.parametrize(
    ("revision", "latest"), [("2026-07-28", "CallToolResult"), ("2025-11-25", "CallToolResult")]
)
def test_answers_in_a_run_read_in_one_pass_give_what_two_passes_give(revision: str, latest: str) -> None:
    """Two answers in a row for one decoder, and the next are read in one pass (`answer_reader`); an
    answer the one pass does not fit (another method's, a result its check refuses, an invalid one,
    a message that is no answer) is read in two, which decides, and the run starts again."""
    from mcpbind.client.prepared import PREPARED
    from mcpbind.errors import McpError

    async def main() -> None:
        async def on_request(event: Any) -> bytes | None:
            return None

        async def on_notification(event: Any) -> None:
            return None

        peer = ClientPeer(_Silent(), on_request=on_request, on_notification=on_notification)
        key = (revision, "tools/call", None, latest)
        PREPARED.pop(key, None)
        prepared = prepare(*key)
        assert prepared is not None
        if revision != "2026-07-28":  # (its decoder that reads straight into the newest type)
            for _ in range(8):
                prepared.decode(msgspec.Raw(b'{"content":[]}'))
            prepared = PREPARED[key]
            assert prepared is not None
        decode = prepared.decode
        other = prepare(revision, "tools/list")
        assert other is not None
        text = b'{"content":[{"type":"text","text":"%d"}],"isError":false}'
        rid = 0

        async def answered(result: bytes, decoder: Any = decode) -> Any:
            nonlocal rid
            rid += 1
            call = asyncio.ensure_future(peer.request("tools/call", None, decoder))
            await asyncio.sleep(0)
            line = b'{"jsonrpc":"2.0","id":%d,"result":%s}' % (rid, result)
            assert peer.take(line)
            try:
                expected = decoder(msgspec.Raw(result))  # (what two passes give)
            except msgspec.DecodeError:
                with pytest.raises(McpError, match=r"invalid result|could not be read"):
                    await call
                return "failed"
            value = await call
            assert value == expected and type(value) is type(expected)
            return value

        assert (await answered(text % 1)).content[0].text == "1"
        assert peer._one_pass is None
        await answered(text % 2)
        assert peer._one_pass is not None and peer._one_pass[1] is decode
        for i in range(3, 6):  # (read in one pass)
            assert (await answered(text % i)).content[0].text == str(i)
        assert peer._one_pass is not None
        # Another method's answer: read in two passes; the run starts again.
        await answered(b'{"tools":[]}', other.decode)
        assert peer._one_pass is None
        await answered(text % 7)
        await answered(text % 8)
        assert peer._one_pass is not None
        # A result the check refuses, or the type: the decoder's own way decides.
        if revision == "2026-07-28":
            value = await answered(b'{"resultType":"input_required","inputRequests":{}}')
            assert type(value).__name__ == "InputRequiredResult"
        else:
            assert await answered(b'{"content":[],"structuredContent":[1]}') == "failed"
        await answered(text % 9)
        await answered(text % 10)
        assert await answered(b'{"content":"no list"}') == "failed"
        assert peer._one_pass is None

    asyncio.run(asyncio.wait_for(main(), 30))


WHOLE_CASES = {
    "plain": b'{"jsonrpc":"2.0","id":#,"result":{"content":[{"type":"text","text":"x"}],"isError":false}}',
    "typed-read-fails": b'{"jsonrpc":"2.0","id":#,"result":{"content":"no list"}}',
    "check-refuses": b'{"jsonrpc":"2.0","id":#,"result":{"content":[],"structuredContent":[1]}}',
    "check-passes-slowly": b'{"jsonrpc":"2.0","id":#,"result":{"content":[],"structuredContent":{"a":1}}}',
    "input-required": b'{"jsonrpc":"2.0","id":#,"result":{"resultType":"input_required","inputRequests":{}}}',
    "error": b'{"jsonrpc":"2.0","id":#,"error":{"code":-32601,"message":"no"}}',
    "unknown-id": b'{"jsonrpc":"2.0","id":99,"result":{"content":[]}}',
    "other-member": b'{"jsonrpc":"2.0","id":#,"result":{"content":[]},"extra":1}',
    "non-ascii": '{"jsonrpc":"2.0","id":#,"result":{"content":[{"type":"text","text":"é"}]}}'.encode(),
    "not-json": b'{"jsonrpc":"2.0","id":#,"result":{"content":[',
    "too-deep": b'{"jsonrpc":"2.0","id":#,"result":{"content":[],"_meta":{"a":%s}}}'
    % (b"[" * 3000 + b"]" * 3000),
    "batch": b'[{"jsonrpc":"2.0","id":#,"result":{"content":[]}}]',
}


@pytest.mark.parametrize("case", sorted(WHOLE_CASES))
@pytest.mark.parametrize("revision", ["2026-07-28", "2025-11-25"])
def test_a_whole_answer_read_in_one_pass_ends_as_the_two_passes_end(revision: str, case: str) -> None:
    """`ClientPeer.answered_whole` (a body that came back for a known request: HTTP) takes a plain
    result to that request in one pass, with the value the envelope's reading and then the result's
    would give; anything else it leaves as it found it (False), for the usual reading, which decides:
    an error, a result the type refuses, another id, a body that is no plain result."""
    from mcpbind.client.prepared import PREPARED

    key = (revision, "tools/call", None, "CallToolResult")
    PREPARED.pop(key, None)
    prepared = prepare(*key)
    assert prepared is not None
    if revision != "2026-07-28":  # (its decoder that reads straight into the newest type)
        for _ in range(8):
            prepared.decode(msgspec.Raw(b'{"content":[]}'))
        prepared = PREPARED[key]
        assert prepared is not None
    decode = prepared.decode

    async def outcome(one_pass: bool) -> tuple[bool, Any]:
        async def on_request(event: Any) -> bytes | None:
            return None

        async def on_notification(event: Any) -> None:
            return None

        peer = ClientPeer(_Silent(), on_request=on_request, on_notification=on_notification)
        call = asyncio.ensure_future(peer.request("tools/call", None, decode, timeout=5.0))
        await asyncio.sleep(0)  # (sent: its id is 1)
        body = WHOLE_CASES[case].replace(b"#", b"1")
        took = False
        if one_pass:
            awaited = dict(peer.endpoint.table)
            took = peer.answered_whole(1, body)
            if not took:  # (left as it was found)
                assert peer.endpoint.table == awaited and not call.done()
        if not took:
            await peer.feed(body)  # (the usual reading: the envelope, then the result)
        try:
            value: Any = await asyncio.wait_for(call, 0.2)
        except TimeoutError:
            value = "unanswered"
        except Exception as exc:
            value = (type(exc), str(exc), getattr(exc, "code", None))
        return took, value

    async def main() -> None:
        took, one = await outcome(True)
        _, two = await outcome(False)
        assert one == two and type(one) is type(two)
        if case in ("plain", "check-passes-slowly"):  # (the latter by the check itself)
            assert took
        elif case != "check-refuses" or revision == "2025-11-25":  # (2026-07-28's type takes it)
            assert not took

    asyncio.run(asyncio.wait_for(main(), 30))
