"""The classification of one message: the usual request's short path and the full one agree.

`jsonrpc.parse` takes a well-formed ASCII request with an int or string id by a short path; every
neighbour of that case (the id's other types, a wrong version, params that are no object, text that
is not ASCII) must be classified exactly as the full path does.
"""

from __future__ import annotations

import msgspec
import pytest

from mcpbind.protocol import jsonrpc
from mcpbind.protocol.endpoint import Endpoint, Failed, IncomingRequest, Reply

RAW_OBJECT = msgspec.Raw(b"{}")


def one(data: bytes) -> jsonrpc.Message:
    messages = jsonrpc.parse(data)
    assert len(messages) == 1
    return messages[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"jsonrpc":"2.0","id":1,"method":"m"}', jsonrpc.Request(1, "m", None)),
        (b'{"jsonrpc":"2.0","id":"a","method":"m","params":{}}', jsonrpc.Request("a", "m", RAW_OBJECT)),
        (b'{"jsonrpc":"2.0","id":2,"method":"m","params":[1]}', jsonrpc.Request(2, "m", msgspec.Raw(b"[1]"))),
        (b'{"jsonrpc":"2.0","method":"m"}', jsonrpc.Notification("m", None)),
    ],
)
def test_requests_and_notifications(data: bytes, expected: jsonrpc.Message) -> None:
    assert one(data) == expected


@pytest.mark.parametrize(
    ("data", "reason", "answer"),
    [
        (
            b'{"jsonrpc":"2.0","id":true,"method":"m"}',
            "`id` must be a string or an integer",
            b'"code":-32600',
        ),
        (
            b'{"jsonrpc":"2.0","id":null,"method":"m"}',
            "`id` must be a string or an integer",
            b'"code":-32600',
        ),
        # Every schema says string or integer: a float id was accepted and echoed.
        (b'{"jsonrpc":"2.0","id":1.5,"method":"m"}', "`id` must be a string or an integer", b'"code":-32600'),
        (b'{"jsonrpc":"2.0","id":1.0,"method":"m"}', "`id` must be a string or an integer", b'"code":-32600'),
        (b'{"jsonrpc":"2.0","id":{},"method":"m"}', "`id` must be a string or an integer", b'"code":-32600'),
        (b'{"jsonrpc":"1.0","id":1,"method":"m"}', '`jsonrpc` must be "2.0"', b'"id":1,'),
        (b'{"id":1,"method":"m"}', '`jsonrpc` must be "2.0"', b'"id":1,'),
        (b'{"jsonrpc":"2.0","id":1,"method":5}', "`method` must be a string", b'"id":1,'),
        (b'{"jsonrpc":"2.0","id":1,"method":"m","params":3}', "`params` must be an object", b'"id":1,'),
        (b'{"jsonrpc":"2.0","id":"x","method":"m","params":"s"}', "`params` must be an object", b'"id":"x",'),
    ],
)
def test_malformed_requests_keep_their_answers(data: bytes, reason: str, answer: bytes) -> None:
    message = one(data)
    assert isinstance(message, jsonrpc.Malformed)
    assert message.reason == reason
    assert message.reply is not None and answer in message.reply


def test_text_that_is_not_ascii() -> None:
    # UTF-8 beyond ASCII is read as usual; bytes that are not UTF-8 are a parse error naming the id.
    good = '{"jsonrpc":"2.0","id":7,"method":"m","params":{"t":"é"}}'.encode()
    assert one(good) == jsonrpc.Request(7, "m", msgspec.Raw('{"t":"é"}'.encode()))
    bad = b'{"jsonrpc":"2.0","id":7,"method":"m","params":{"t":"\xff"}}'
    message = one(bad)
    assert isinstance(message, jsonrpc.Malformed)
    assert message.reply is not None and b'"id":7' in message.reply and b"-32700" in message.reply


def test_endpoint_events_for_one_request_and_for_the_rest() -> None:
    endpoint = Endpoint()
    assert endpoint.receive(b'{"jsonrpc":"2.0","id":3,"method":"m"}') == [IncomingRequest(3, "m", None)]
    events = endpoint.receive(b'{"jsonrpc":"2.0","id":true,"method":"m"}')
    assert len(events) == 1 and isinstance(events[0], Reply)
    assert endpoint.receive(b'{"jsonrpc":"2.0","id":9,"result":{}}') == []  # an answer to nothing: dropped


@pytest.mark.parametrize("rid", [b"1.5", b"1e400", b"true", b"{}", b"[1]"])
def test_a_request_id_that_is_no_string_or_integer_is_refused_without_an_id(rid: bytes) -> None:
    """A float id (1.5; 1e400, which reads as infinity) was taken, and echoed (infinity as null)."""
    message = one(b'{"jsonrpc":"2.0","id":' + rid + b',"method":"ping"}')
    assert isinstance(message, jsonrpc.Malformed) and message.reply is not None
    reply = msgspec.json.decode(message.reply)
    assert reply["error"]["code"] == jsonrpc.INVALID_REQUEST and reply.get("id") is None, reply


def test_an_answer_with_an_ill_typed_id_answers_no_request_of_ours() -> None:
    """1.0 == 1 in Python: an answer with id 1.0 was taken as the answer to our request 1."""
    endpoint = Endpoint()
    rid, _ = endpoint.request("ping", None, lambda raw: raw)
    assert rid == 1
    for bad in (b"1.0", b"1e0", b"true", b'"1"'):
        assert endpoint.receive(b'{"jsonrpc":"2.0","id":' + bad + b',"result":{}}') == []
        assert endpoint.awaits(rid)
    assert endpoint.receive(b'{"jsonrpc":"2.0","id":' + msgspec.json.encode(rid) + b',"result":{}}') != []


def test_an_answer_with_both_result_and_error_is_an_invalid_response_not_a_result() -> None:
    """It was classified as a result: the call it answered returned as if all was well."""
    endpoint = Endpoint()
    rid, _ = endpoint.request("ping", None, lambda raw: raw)
    events = endpoint.receive(b'{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"},"result":{}}')
    assert len(events) == 1 and isinstance(events[0], Failed) and events[0].id == rid
    assert events[0].error.code == jsonrpc.INVALID_REQUEST and "both" in events[0].error.message
    assert not endpoint.awaits(rid)


@pytest.mark.parametrize(
    "data",
    [
        rb'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\ud800"}}',  # near the end: "truncated"
        rb'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\udbffabcdefgh"}}',
        rb'{"jsonrpc":"2.0","id":1,"method":"ping\ud800"}',
        rb'[{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\\ud800"}}]',  # (a batch)
    ],
)
def test_a_lone_surrogate_escape_is_named_as_the_parse_error(data: bytes) -> None:
    (message,) = jsonrpc.parse(data, batches=True)
    assert isinstance(message, jsonrpc.Malformed) and message.reply is not None
    error = msgspec.json.decode(message.reply)["error"]
    assert error["code"] == jsonrpc.PARSE_ERROR
    assert "lone UTF-16 high surrogate" in error["message"] and "truncated" not in error["message"]


def test_an_escaped_backslash_before_u_is_no_escape_and_truncated_text_stays_truncated() -> None:
    (message,) = jsonrpc.parse(rb'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\ud800')
    assert isinstance(message, jsonrpc.Malformed) and message.reply is not None
    error = msgspec.json.decode(message.reply)["error"]
    assert error["code"] == jsonrpc.PARSE_ERROR and "truncated" in error["message"]
