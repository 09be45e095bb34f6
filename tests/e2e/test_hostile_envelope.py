"""A client's answers to the server's questions, hostile: `inputResponses` (2026-07-28) of the wrong
kind or not filling the form, over real uvicorn on loopback, and an elicitation answer not filling the
form in the session era, over stdio (tests/servers/tasks.py in its own process each time)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.transports.stdio import StdioClientTransport

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


@pytest.mark.parametrize(
    "answer",
    [
        {"action": "accept", "content": {"name": 5}},
        {"action": "accept", "content": {"name": ["Ada"]}},
        {"action": "accept", "content": {}},
        {"action": "accept"},
    ],
)
def test_an_accepted_answer_that_does_not_fill_the_form_is_invalid_params(
    url: str, answer: dict[str, Any]
) -> None:
    """Servers SHOULD check that what comes back matches the requested form (elicitation, Form Mode
    Security); a handler with a dict form got a number, a list or nothing for a required string.
    Now -32602 saying what is wrong, in the envelope era where the answer is the request's params."""
    with httpx.Client(timeout=30) as http:
        refused = ask(http, url, "ask_name", inputResponses={"name": answer})
        assert refused["error"]["code"] == -32602, refused
        assert (
            "does not fill the form" in refused["error"]["message"]
            and "'name'" in refused["error"]["message"]
        )


def test_a_declined_answer_carries_no_content(url: str) -> None:
    """Content is only present with an accept (the schema): a decline's content was handed over."""
    with httpx.Client(timeout=30) as http:
        answer = {"action": "decline", "content": {"name": "Mallory"}}
        declined = ask(http, url, "ask_name", inputResponses={"name": answer})
        assert declined["result"]["content"][0]["text"] == "hello None", declined


def test_an_elicitation_answer_that_does_not_fill_the_form_never_reaches_the_tool() -> None:
    """The session era: the client's accepted answer `{"name": 5}` to a form asking for a string
    reached the tool, which answered "hello 5". Now the elicitation fails, and the next call with a
    right answer is served."""

    async def main() -> None:
        answers = [
            {"action": "accept", "content": {"name": 5}},
            {"action": "accept", "content": {"name": "Ada"}},
        ]

        async def elicitation(params: Any) -> dict[str, Any]:
            return answers.pop(0)

        transport = StdioClientTransport(sys.executable, [TASKS])
        async with Client(transport, mode="2025-11-25", elicitation=elicitation) as client:
            try:
                result = await client.call_tool("ask_name")
            except McpError as exc:
                assert "does not fill the form" in exc.message, exc
            else:  # (a tool's failed request may also be its execution error)
                text = result.content[0].text
                assert result.is_error and "does not fill the form" in text, text
            assert (await client.call_tool("ask_name")).content[0].text == "hello Ada"

    asyncio.run(asyncio.wait_for(main(), 60))
