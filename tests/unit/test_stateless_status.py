"""The HTTP status of a stateless JSON answer: a result is told from its head (a large one is not scanned
whole), an error anywhere else still gets its status."""

from __future__ import annotations

import pytest

from mcpbind.protocol.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, encode_error, encode_result
from mcpbind.transports.http.sse import stateless_status


@pytest.mark.parametrize(
    "result",
    [
        {"content": [{"type": "text", "text": "x" * (1 << 20)}]},
        {"content": [{"type": "text", "text": '"error": {"code": -32601}'}]},
        {"error": {"code": METHOD_NOT_FOUND, "message": "a result member named error"}},
    ],
)
@pytest.mark.parametrize("rid", [1, "a-string-id", 'an id with "error" in it', "i" * 600])
def test_results_are_200(result: dict[str, object], rid: int | str) -> None:
    assert stateless_status(encode_result(rid, result), 200) == 200


@pytest.mark.parametrize("rid", [7, "s", 'x","result":1,"y', "i" * 600, None])
@pytest.mark.parametrize(("code", "status"), [(METHOD_NOT_FOUND, 404), (INVALID_PARAMS, 400), (-32000, 200)])
def test_errors_get_their_status(rid: int | str | None, code: int, status: int) -> None:
    answer = encode_error(rid, code, "m", {"detail": {"a": 1, "result": 2}, "pad": "p" * 300})
    assert stateless_status(answer, 200) == status


def test_errors_in_another_layout_get_their_status() -> None:
    """Keys in another order (not the encoder's): the head does not decide, the whole answer does."""
    answer = b'{"id":1,"error":{"code":-32601,"message":"m","data":{"x":1,"result":2}},"jsonrpc":"2.0"}'
    assert stateless_status(answer, 200) == 404
    nested = b'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"m","data":{"a":0,"result":1}}}'
    assert stateless_status(nested, 200) == 404


def test_a_status_other_than_200_stands() -> None:
    assert stateless_status(encode_error(1, METHOD_NOT_FOUND, "m"), 500) == 500
