"""The classification of one message: the usual request's short path and the full one agree.

`jsonrpc.parse` takes a well-formed ASCII request with an int or string id by a short path; every
neighbour of that case (the id's other types, a wrong version, params that are no object, text that
is not ASCII) must be classified exactly as the full path does.
"""

from __future__ import annotations

import msgspec
import pytest

from mcpbind.protocol import jsonrpc
from mcpbind.protocol.endpoint import Endpoint, IncomingRequest, Reply

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
        (b'{"jsonrpc":"2.0","id":1.5,"method":"m"}', jsonrpc.Request(1.5, "m", None)),  # the full path
        (b'{"jsonrpc":"2.0","id":2,"method":"m","params":[1]}', jsonrpc.Request(2, "m", msgspec.Raw(b"[1]"))),
        (b'{"jsonrpc":"2.0","method":"m"}', jsonrpc.Notification("m", None)),
    ],
)
def test_requests_and_notifications(data: bytes, expected: jsonrpc.Message) -> None:
    assert one(data) == expected


@pytest.mark.parametrize(
    ("data", "reason", "answer"),
    [
        (b'{"jsonrpc":"2.0","id":true,"method":"m"}', "`id` must be a string or a number", b'"code":-32600'),
        (b'{"jsonrpc":"2.0","id":null,"method":"m"}', "`id` must be a string or a number", b'"code":-32600'),
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
