"""Fuzzing the decoders with hostile input: `jsonrpc.parse`, `Endpoint.receive`, `LineBuffer`, and the
wire decoder of every params and result type of every method of every revision.

The property, everywhere: bad input is refused with an answer (a JSON-RPC error, or the decoder's
`ValidationError`/`DecodeError`), never an exception of another kind, and nothing is lost for the next
message. Deep nesting (to 100,000 levels), huge numbers, invalid UTF-8 and wrong-typed members all come
from tests/hostile.py; `MCPBIND_FUZZ=deep` runs many more examples.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcpbind import wire
from mcpbind.protocol import jsonrpc, revisions
from mcpbind.protocol.endpoint import (
    Answered,
    Endpoint,
    Failed,
    IncomingNotification,
    IncomingRequest,
    LineBuffer,
    LineTooLong,
    Reply,
)

from ..conftest import module, source
from ..hostile import HOSTILE_VALUES, check_response, fuzz, messages, wrong_typed

METHODS = sorted({m for rev in revisions.ALL for m in (*module(rev).REQUESTS, *module(rev).NOTIFICATIONS)})
ANSWERABLE = (jsonrpc.Request, jsonrpc.Notification, jsonrpc.Response, jsonrpc.ErrorResponse)
PING = b'{"jsonrpc":"2.0","id":"after","method":"ping"}'


def check_malformed(message: jsonrpc.Malformed) -> None:
    if message.reply is not None:
        answer = check_response(json.loads(message.reply))
        assert answer["error"]["code"] in (jsonrpc.PARSE_ERROR, jsonrpc.INVALID_REQUEST), answer


@pytest.mark.parametrize("batches", [False, True], ids=["single", "batches"])
def test_parse_answers_any_input(batches: bool) -> None:
    @fuzz(400)
    @given(messages(METHODS, batches=batches))
    def check(data: bytes) -> None:
        out = jsonrpc.parse(data, batches=batches)
        assert out, data
        for message in out:
            if isinstance(message, jsonrpc.Malformed):
                check_malformed(message)
            else:
                assert isinstance(message, ANSWERABLE), message

    check()


@pytest.mark.parametrize(
    "data",
    [b"[1,", b"12x", b"[\x80]", b'""\x80', b'{"jsonrpc":"2.0","method":"roots/list","params":0C}', b"[{]"],
)
@pytest.mark.parametrize("batches", [False, True], ids=["single", "batches"])
def test_invalid_json_of_any_shape_is_a_parse_error(data: bytes, batches: bool) -> None:
    """Text that is not JSON is a parse error (-32700), even where what was read of it already has the
    wrong shape for a message (an array without batches, a number, params that are no object)."""
    (message,) = jsonrpc.parse(data, batches=batches)
    assert isinstance(message, jsonrpc.Malformed) and message.reply is not None, message
    assert json.loads(message.reply)["error"]["code"] == jsonrpc.PARSE_ERROR, message


@pytest.mark.parametrize("depth", [1000, 10_000, 100_000])
@pytest.mark.parametrize("where", ["params", "id", "result", "error", "top"])
def test_parse_deep_nesting(where: str, depth: int) -> None:
    """Nesting far past any stack: an answer (-32600 for a bad envelope, -32700, or a request whose raw
    params the method's decoder refuses later), never RecursionError."""
    deep = b"[" * depth + b"]" * depth
    data = {
        "params": b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":' + deep + b"}}",
        "id": b'{"jsonrpc":"2.0","id":' + deep + b',"method":"ping"}',
        "result": b'{"jsonrpc":"2.0","id":1,"result":{"x":' + deep + b"}}",
        "error": b'{"jsonrpc":"2.0","id":1,"error":' + deep + b"}",
        "top": deep,
    }[where]
    for batches in (False, True):
        for message in jsonrpc.parse(data, batches=batches):
            if isinstance(message, jsonrpc.Malformed):
                check_malformed(message)
    assert isinstance(jsonrpc.parse(PING)[0], jsonrpc.Request)


def _result_decoder(tp: Any) -> Any:
    return wire.decoder(tp).decode


def test_endpoint_receive_answers_any_input() -> None:
    """An endpoint with requests of its own in flight: hostile input is answered with a `Reply` error or
    ignored; answers to its requests (hostile results included) end them exactly once."""
    mod = module("2025-11-25")
    result_types = [mod.CallToolResult, mod.ListToolsResult, mod.EmptyResult, mod.InitializeResult]

    @fuzz(300)
    @given(
        st.lists(
            messages(METHODS)
            | st.builds(
                lambda rid, result: b'{"jsonrpc":"2.0","id":' + rid + b',"result":' + result + b"}",
                st.sampled_from([b"1", b"2", b"3", b"4", b"1.0", b'"1"']),
                HOSTILE_VALUES,
            ),
            min_size=1,
            max_size=6,
        )
    )
    def check(inputs: list[bytes]) -> None:
        endpoint = Endpoint(batches=True)
        ids = [endpoint.request("x", None, _result_decoder(tp))[0] for tp in result_types]
        ended: list[Any] = []
        for data in inputs:
            for event in endpoint.receive(data):
                if isinstance(event, Reply):
                    check_response(json.loads(event.data))
                elif isinstance(event, (Answered, Failed)):
                    ended.append(event.id)
                else:
                    assert isinstance(event, (IncomingRequest, IncomingNotification)), event
        assert len(ended) == len(set(ended)) and set(ended) <= set(ids), ended
        assert endpoint.pending == len(ids) - len(ended)
        (event,) = endpoint.receive(PING)
        assert isinstance(event, IncomingRequest) and event.id == "after"
        assert {e.id for e in endpoint.close()} == set(ids) - set(ended)

    check()


# -- the wire decoders of every method of every revision -------------------------------------------


def _types(revision: str) -> list[tuple[str, Any]]:
    mod = module(revision)
    out: list[tuple[str, Any]] = []
    for name, spec in [*mod.REQUESTS.items(), *mod.NOTIFICATIONS.items()]:
        if spec.params_type is not None:
            out.append((f"{name} params", spec.params_type))
        for result in getattr(spec, "result_types", ()):
            out.append((f"{name} result", result))
    return out


@pytest.mark.parametrize("revision", revisions.ALL)
def test_wire_decoders_of_every_method_refuse_cleanly(revision: str) -> None:
    """Every params and result type of every method: wrong-typed members are a ValidationError (or the
    bytes a DecodeError), and the decoder then decodes a valid instance as before."""
    assert source(revision)
    types = _types(revision)
    decoders = {label: (tp, wire.decoder(tp)) for label, tp in types}

    @fuzz(150)
    @given(
        st.sampled_from(sorted(decoders)).flatmap(
            lambda label: st.tuples(st.just(label), wrong_typed(revision, decoders[label][0]))
        )
    )
    def check(case: tuple[str, bytes]) -> None:
        label, data = case
        tp, decoder = decoders[label]
        try:
            value = decoder.decode(data)
        except msgspec.DecodeError:  # ValidationError included
            return
        # Accepted: then it re-encodes to JSON that decodes to the same value.
        assert wire.decode(wire.encode(value), tp) == value, (label, data)

    check()


# -- stdio framing -------------------------------------------------------------------------------------


def test_line_buffer_skips_oversized_lines_and_keeps_the_rest() -> None:
    """However the bytes are chunked: each line within the limit comes out whole and in order, each
    line over it is one LineTooLong, and nothing else is lost."""
    limit = 64

    @fuzz(300)
    @given(
        st.lists(
            st.binary(max_size=limit).map(lambda b: b.replace(b"\n", b"").strip() or b"x")
            | st.integers(limit + 1, 5 * limit).map(lambda n: b"y" * n),
            min_size=1,
            max_size=8,
        ),
        st.lists(st.integers(1, 3 * limit), min_size=1, max_size=20),
    )
    def check(lines: list[bytes], cuts: list[int]) -> None:
        data = b"".join(line + b"\n" for line in lines)
        buffer = LineBuffer(limit)
        out: list[bytes | LineTooLong] = []
        at = 0
        for size in cuts * (len(data) // max(1, sum(cuts)) + 1):
            if at >= len(data):
                break
            out.extend(buffer.feed(data[at : at + size]))
            at += size
        if at < len(data):
            out.extend(buffer.feed(data[at:]))
        expected = [line if len(line) <= limit else None for line in lines]
        assert [None if isinstance(o, LineTooLong) else o for o in out] == expected
        assert buffer.feed(b'{"ok":1}\n') == [b'{"ok":1}']

    check()
