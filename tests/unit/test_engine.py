"""The sans-I/O core, with no sockets, processes or event loop: bytes in, events and bytes out."""

from __future__ import annotations

import json

import msgspec

from mcpbind.errors import MethodNotFound, SessionClosed
from mcpbind.protocol import jsonrpc
from mcpbind.protocol.endpoint import (
    Answered,
    ClippingLineBuffer,
    Endpoint,
    Failed,
    IncomingNotification,
    IncomingRequest,
    LineBuffer,
    LineTooLong,
    Oversized,
    Reply,
)
from mcpbind.protocol.salvage import salvage


def decode_any(raw: msgspec.Raw) -> object:
    return msgspec.json.decode(raw)


def test_requests_are_correlated_with_their_answers() -> None:
    ep = Endpoint()
    rid1, data1 = ep.request("ping", None, decode_any)
    rid2, data2 = ep.request("tools/list", {"cursor": "c"}, decode_any)
    assert rid1 != rid2 and ep.pending == 2
    assert json.loads(data1) == {"jsonrpc": "2.0", "id": rid1, "method": "ping"}
    assert json.loads(data2)["params"] == {"cursor": "c"}
    events = ep.receive(json.dumps({"jsonrpc": "2.0", "id": rid2, "result": {"tools": []}}).encode())
    assert events == [Answered(rid2, {"tools": []})]
    events = ep.receive(
        json.dumps({"jsonrpc": "2.0", "id": rid1, "error": {"code": -32601, "message": "no"}}).encode()
    )
    assert len(events) == 1 and isinstance(events[0], Failed) and isinstance(events[0].error, MethodNotFound)
    assert ep.pending == 0
    # An answer to nothing pending (late, or never asked) is dropped.
    assert ep.receive(b'{"jsonrpc":"2.0","id":99,"result":{}}') == []


def test_a_result_that_does_not_decode_fails_the_request() -> None:
    ep = Endpoint()

    def strict(raw: msgspec.Raw) -> object:
        return msgspec.json.decode(raw, type=dict[str, int])

    rid, _ = ep.request("x", None, strict)
    (event,) = ep.receive(json.dumps({"jsonrpc": "2.0", "id": rid, "result": {"a": "b"}}).encode())
    assert isinstance(event, Failed) and "invalid result for x" in str(event.error)


def test_incoming_calls_keep_params_raw() -> None:
    ep = Endpoint()
    (req,) = ep.receive(b'{"jsonrpc":"2.0","id":"a","method":"tools/call","params":{"name":"t"}}')
    assert isinstance(req, IncomingRequest) and req.id == "a" and bytes(req.params or b"") == b'{"name":"t"}'
    (note,) = ep.receive(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    assert note == IncomingNotification("notifications/initialized", None)
    assert json.loads(ep.respond("a", {"ok": True})) == {"jsonrpc": "2.0", "id": "a", "result": {"ok": True}}


def test_malformed_input_gets_the_prescribed_answer() -> None:
    ep = Endpoint()
    cases = {
        b"{oops": -32700,
        b"\xff\xfe": -32700,
        b"42": -32600,
        b'{"jsonrpc":"2.0","id":1}': -32600,
        b'{"jsonrpc":"1.0","id":1,"method":"ping"}': -32600,
        b'{"jsonrpc":"2.0","id":{},"method":"ping"}': -32600,
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":7}': -32600,
        b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]': -32600,  # no batches unless enabled
    }
    for data, code in cases.items():
        (event,) = ep.receive(data)
        assert isinstance(event, Reply), data
        assert json.loads(event.data)["error"]["code"] == code, data
    (event,) = ep.receive(b'{"jsonrpc":"1.0","id":5,"method":"ping"}')
    assert isinstance(event, Reply) and json.loads(event.data)["id"] == 5


def test_batches_when_enabled() -> None:
    ep = Endpoint(batches=True)
    events = ep.receive(b'[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"n"},3]')
    assert [type(e) for e in events] == [IncomingRequest, IncomingNotification, Reply]
    (empty,) = ep.receive(b"[]")
    assert isinstance(empty, Reply)


def test_closing_fails_what_is_pending_and_refuses_more() -> None:
    ep = Endpoint()
    rid, _ = ep.request("slow", None, decode_any)
    (event,) = ep.close()
    assert isinstance(event, Failed) and event.id == rid and isinstance(event.error, SessionClosed)
    try:
        ep.request("more", None, decode_any)
    except SessionClosed:
        pass
    else:
        raise AssertionError("a closed endpoint must refuse requests")


def test_error_responses_without_an_id_leave_it_out() -> None:
    assert json.loads(jsonrpc.encode_error(None, -32700, "Parse error")) == {
        "jsonrpc": "2.0",
        "error": {"code": -32700, "message": "Parse error"},
    }


def test_line_buffer_frames_partial_and_oversized_lines() -> None:
    buf = LineBuffer(max_line=10)
    assert buf.feed(b'{"a"') == []
    assert buf.feed(b':1}\n{"b":2}\n\n') == [b'{"a":1}', b'{"b":2}']
    out = buf.feed(b"x" * 25)
    assert len(out) == 1 and isinstance(out[0], LineTooLong)
    assert buf.feed(b"yyyy\nok\n") == [b"ok"]  # the rest of the long line is skipped, then framing resumes
    out = buf.feed(b"0123456789012\nfine\n")
    assert isinstance(out[0], LineTooLong) and out[1:] == [b"fine"]


def test_a_burst_of_whole_lines_frames_as_line_by_line() -> None:
    """A chunk of whole lines with nothing held (a burst of requests) is split in one call: the same
    lines as fed byte by byte, blank ones dropped and each stripped; one over the limit still counts."""
    burst = b'{"a":1}\n\n  \n{"b":2}\r\n {"c":3} \n{"d":4}\n'
    slow = LineBuffer(max_line=10)
    by_byte: list[bytes | LineTooLong] = []
    for i in range(len(burst)):
        by_byte += slow.feed(burst[i : i + 1])
    fast = LineBuffer(max_line=10)
    assert fast.feed(burst) == by_byte == [b'{"a":1}', b'{"b":2}', b'{"c":3}', b'{"d":4}']
    assert fast.feed(b"\n") == [] and fast.feed(b'{"e":5}\n') == [b'{"e":5}']
    (over,) = fast.feed(b"x" * 11 + b"\n")  # (the chunk is over the limit: framed line by line)
    assert isinstance(over, LineTooLong)
    assert fast.feed(b'{"f":6}\n{"g":7}\n') == [b'{"f":6}', b'{"g":7}']


def test_deep_nesting_is_a_parse_error_at_any_depth() -> None:
    """msgspec raises RecursionError, not DecodeError, on deep nesting: it is -32700 like any bad JSON,
    in a message, in a batch as a whole and in a batch's item."""
    for depth in (1_000, 3_000, 100_000):
        nested = b"[" * depth + b"]" * depth
        for data in (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":' + nested + b"}}",
            b'{"jsonrpc":"2.0","id":' + nested + b',"method":"ping"}',
        ):
            for ep in (Endpoint(), Endpoint(batches=True)):
                (event,) = ep.receive(data)
                assert isinstance(event, Reply), depth
                assert json.loads(event.data)["error"]["code"] == -32700, depth
        whole = Endpoint(batches=True).receive_batch(b"[" + nested + b"]")
        assert isinstance(whole, Reply) and json.loads(whole.data)["error"]["code"] == -32700


def test_a_batch_that_is_no_batch_as_a_whole_gets_one_error_object() -> None:
    ep = Endpoint(batches=True)
    for data, code in ((b"[]", -32600), (b"[ ]", -32600), (b"[1,", -32700), (b"[\xff]", -32700)):
        reply = ep.receive_batch(data)
        assert isinstance(reply, Reply), data
        assert json.loads(reply.data)["error"]["code"] == code, data  # an object, not an array
    events = ep.receive_batch(b'[{"jsonrpc":"2.0","id":1,"method":"ping"},7,["\xff"]]')
    assert isinstance(events, list) and [type(e) for e in events] == [IncomingRequest, Reply, Reply]
    assert [json.loads(e.data)["error"]["code"] for e in events[1:] if isinstance(e, Reply)] == [
        -32600,
        -32600,
    ]
    (bad_utf8,) = ep.receive_batch(b'[{"jsonrpc":"2.0","id":2,"method":"ping","params":{"a":"\xff"}}]')
    # Not UTF-8 throughout, so no JSON: a parse error for that item alone, naming its id.
    assert isinstance(bad_utf8, Reply)
    assert json.loads(bad_utf8.data)["id"] == 2 and json.loads(bad_utf8.data)["error"]["code"] == -32700


def test_an_undecodable_result_fails_its_request_not_the_connection() -> None:
    """The envelope skips over a result without checking its strings' UTF-8, and a result decoder goes
    deeper into the stack than the envelope's reader: either failure is the request's, as -32700."""

    class Named(msgspec.Struct):
        name: str

    ep = Endpoint()
    rid, _ = ep.request("x", None, msgspec.json.Decoder(Named).decode)
    (failed,) = ep.receive(b'{"jsonrpc":"2.0","id":%d,"result":{"name":"\xff"}}' % rid)
    assert isinstance(failed, Failed) and getattr(failed.error, "code", None) == -32700

    def too_deep(raw: msgspec.Raw) -> object:
        raise RecursionError("maximum recursion depth exceeded while deserializing an object")

    rid, _ = ep.request("y", None, too_deep)
    (failed,) = ep.receive(b'{"jsonrpc":"2.0","id":%d,"result":{}}' % rid)
    assert isinstance(failed, Failed) and getattr(failed.error, "code", None) == -32700
    assert "nested too deeply" in str(failed.error)


def test_a_long_line_in_small_pieces_is_framed_in_linear_time() -> None:
    """Each piece used to search the whole held line again for a newline: a 4 MB line sent 256 bytes
    at a time took about 2 s of the event loop (16 MB in pipe-sized pieces: minutes)."""
    import time

    buf = LineBuffer()
    line = b'{"a":"' + b"x" * 4_000_000 + b'"}\n{"b":1}\n{"c"'
    started = time.process_time()  # this process's CPU time: what other processes do does not count
    out: list[bytes | LineTooLong] = []
    for i in range(0, len(line), 256):
        out += buf.feed(line[i : i + 256])
    elapsed = time.process_time() - started
    assert [len(x) for x in out if isinstance(x, bytes)] == [4_000_008, 7]
    assert buf.feed(b":2}\n") == [b'{"c":2}']
    assert elapsed < 0.5, elapsed


def test_the_clipping_framing_takes_whole_lines_one_or_many_as_the_general_way() -> None:
    """A chunk of one whole line (one request in flight: every answer) is taken as it is, stripped,
    a blank one dropped; a chunk of several is split; each as the general way frames them."""
    for chunk in (
        b'{"a":1}\n',
        b' {"a":1}\r\n',
        b"\n",
        b" \r\n",
        b'{"a":1}\n\n{"b":2}\n',
        b'{"a":1}\n{"b":2}\n',
    ):
        whole = ClippingLineBuffer(max_line=50).feed(chunk)
        pieces: list[bytes | Oversized] = []
        general = ClippingLineBuffer(max_line=50)
        for i in range(len(chunk)):  # (a byte at a time: nothing ever starts with a whole line)
            pieces += general.feed(chunk[i : i + 1])
        assert whole == pieces, chunk
    assert ClippingLineBuffer(max_line=50).feed(b' {"a":1}\r\n') == [b'{"a":1}']
    assert ClippingLineBuffer(max_line=50).feed(b" \r\n") == []
    framing = ClippingLineBuffer(max_line=50)
    assert framing.feed(b'{"a":') == [] and framing.feed(b"1}\n") == [b'{"a":1}']  # (held: the general way)


def test_an_oversized_line_keeps_its_ends_whatever_the_chunking() -> None:
    """The stdio client's framing keeps the first and last bytes of a line it drops (where the id
    is), however the pipe cuts it, and frames the lines around it as usual."""
    big = b'{"jsonrpc":"2.0","id":7,"result":{"pad":"' + b"x" * 5000 + b'"}}'
    last = b'{"result":{"pad":"' + b"x" * 5000 + b'"},"jsonrpc":"2.0","id":"z"}'
    text = b'{"a":1}\n' + big + b"\n" + last + b'\n{"b":2}\n'
    for size in (1, 7, 100, 4096, len(text)):
        framing = ClippingLineBuffer(max_line=50)
        out: list[bytes | Oversized] = []
        for i in range(0, len(text), size):
            out += framing.feed(text[i : i + size])
        assert out[0] == b'{"a":1}' and out[3] == b'{"b":2}' and len(out) == 4
        first, second = out[1], out[2]
        assert isinstance(first, Oversized) and isinstance(second, Oversized)
        assert (first.size, second.size) == (len(big), len(last))
        assert salvage(first.head, first.tail).id == 7
        assert salvage(second.head, second.tail).id == "z"
