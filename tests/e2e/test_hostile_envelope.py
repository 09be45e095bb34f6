"""The envelope era (2026-07-28) against hostile input of its own: `inputResponses` of the wrong kind,
over real uvicorn on loopback (tests/servers/tasks.py in its own process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..http_support import messages_of, modern, modern_headers, serve

TASKS = str(Path(__file__).resolve().parent.parent / "servers" / "tasks.py")
CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(TASKS) as found:
        yield found


def ask(http: httpx.Client, url: str, tool: str, **params: Any) -> dict[str, Any]:
    """A call of `tool` by a client that declares elicitation, and its one answer."""
    message = modern(1, "tools/call", {"name": tool, "arguments": {}, **params})
    message["params"]["_meta"][CAPABILITIES] = {"elicitation": {"form": {}}}
    (answer,) = messages_of(http.post(url, json=message, headers=modern_headers(message)))
    return answer


SAMPLED = {"role": "assistant", "content": {"type": "text", "text": "Ada"}, "model": "m"}


@pytest.mark.parametrize("response", [SAMPLED, {"roots": []}, {"roots": [{"uri": "file:///"}]}])
def test_an_input_response_of_another_kind_is_invalid_params(url: str, response: dict[str, Any]) -> None:
    """The spec (MRTR, Error Handling): a server SHOULD check that the input responses parse, and
    answer a JSON-RPC error when they do not. A sampling or roots result given for an elicitation
    made the tool fail as an internal error of the server's (an `isError` result, logged as a fault);
    now it is -32602 naming the key, and a right answer after it is served."""
    with httpx.Client(timeout=30) as http:
        first = ask(http, url, "ask_name")
        assert first["result"]["resultType"] == "input_required", first
        (key,) = first["result"]["inputRequests"]
        state = first["result"].get("requestState")
        more = {} if state is None else {"requestState": state}
        wrong = ask(http, url, "ask_name", inputResponses={key: response}, **more)
        assert wrong["error"]["code"] == -32602, wrong
        assert repr(key) in wrong["error"]["message"] and "ElicitResult" in wrong["error"]["message"]
        # One of two answers wrong: the call is refused as a whole, not half-answered.
        accepted = {"action": "accept", "content": {"name": "Ada"}}
        half = ask(http, url, "two_names", inputResponses={"first": accepted, "second": response})
        assert half["error"]["code"] == -32602, half
        right = ask(http, url, "ask_name", inputResponses={key: accepted}, **more)
        assert right["result"]["content"][0]["text"] == "hello Ada", right
