"""The high-level API as its users drive it, over a real stdio subprocess, on a 2025-11-25 session and
on 2026-07-28 (tests/servers/user_api.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from msgspec import UNSET

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.errors import McpError

from ..http_support import SERVERS, free_port, wait_for_port

SERVER = str(SERVERS / "user_api.py")
MODES = ["2025-11-25", "2026-07-28"]


def with_client(mode: str, body: Callable[[Client], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [SERVER], mode=mode, **options) as client:
            await body(client)

    asyncio.run(asyncio.wait_for(main(), 60))


@pytest.mark.parametrize("mode", MODES)
def test_pydantic_models_inside_other_hints(mode: str) -> None:
    async def body(client: Client) -> None:
        tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
        restock = tools["restock"]
        assert restock["inputSchema"]["properties"]["items"]["items"] == {"$ref": "#/$defs/Item"}
        assert "Item" in restock["inputSchema"]["$defs"]
        assert restock["outputSchema"]["properties"]["result"]["type"] == "array"
        result = await client.call_tool(
            "restock", {"items": [{"name": "a"}], "extra": {"name": "b", "count": 5}}
        )
        assert not result.is_error
        assert result.structured_content == {"result": [{"name": "a", "count": 2}, {"name": "b", "count": 6}]}
        bad = await client.call_tool("restock", {"items": [{"name": "a", "count": "many"}]})
        assert bad.is_error and "count" in bad.content[0].text
        found = await client.call_tool("find", {"name": "x"})
        assert found.structured_content == {"result": {"name": "x", "count": 1}}
        none = await client.call_tool("find", {"name": ""})
        assert none.structured_content == {"result": None}

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_models_validator_raising_another_exception_is_the_tools_failure(mode: str) -> None:
    """A pydantic validator of the tool's own raising a TypeError (which pydantic does not turn into a
    ValidationError): the call's error result, as when the tool raises it (it was -32603)."""

    async def body(client: Client) -> None:
        failed = await client.call_tool("book", {"ticket": {"seat": 13}})
        assert failed.is_error and failed.content[0].text == "Tool book failed (internal error)"
        assert (await client.call_tool("book", {"ticket": {"seat": 12}})).content[0].text == "seat 12"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_validator_raising_another_exception_refuses_a_prompts_or_templates_arguments(mode: str) -> None:
    """A pydantic validator of a prompt's argument, or of a template variable's type, raising a
    TypeError: -32602 (invalid params), as a bad argument is (it was -32603, an internal error);
    what the exception says is the server's own (sent only with `expose_errors`)."""

    async def body(client: Client) -> None:
        with pytest.raises(McpError) as refused:
            await client.get_prompt("seat_prompt", {"seat": "13"})
        assert refused.value.code == -32602
        said = "Invalid arguments for prompt seat_prompt: its validator raised TypeError"
        assert refused.value.message == said
        with pytest.raises(McpError) as refused:
            await client.read_resource("seats://13")
        assert refused.value.code == -32602
        assert "resource template seats://{seat}: its validator raised TypeError" in refused.value.message
        # A validation error of the validator's own kind is as it was, and a good value is served.
        with pytest.raises(McpError) as invalid:
            await client.get_prompt("seat_prompt", {"seat": "0"})
        assert invalid.value.code == -32602 and "greater than or equal to 1" in invalid.value.message
        prompt = await client.get_prompt("seat_prompt", {"seat": "12"})
        assert getattr(prompt.messages[0].content, "text", None) == "Show me seat 12"
        assert getattr((await client.read_resource("seats://12")).contents[0], "text", None) == "seat 12"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_validators_message_holding_the_whole_value_is_clipped(mode: str) -> None:
    """A validator that says the whole value it refused (100 kB here): the tool's error result and the
    prompt's -32602 carry its first kilobyte and its length, not the whole value back."""
    word = "a " * 50_000

    async def body(client: Client) -> None:
        failed = await client.call_tool("tag", {"word": word})
        said = failed.content[0].text
        assert failed.is_error and "not one word" in said and len(said) < 2_000, said[:200]
        assert "characters)" in said
        with pytest.raises(McpError) as refused:
            await client.get_prompt("tagged", {"word": word})
        assert refused.value.code == -32602 and "not one word" in refused.value.message
        assert len(refused.value.message) < 2_000 and "characters)" in refused.value.message
        assert (await client.call_tool("tag", {"word": "owls"})).content[0].text == "#owls"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_pydantic_constraints_and_validators_in_annotated_hold_without_a_field(mode: str) -> None:
    """`n: PositiveInt` (`Annotated[int, Gt(0)]`) and `Annotated[str, AfterValidator(fn)]`: checked as
    pydantic checks them, and described (were read by msgspec, which skips both: -1 and "a b" went
    through to the function, and the schema said nothing of them)."""

    async def body(client: Client) -> None:
        tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
        assert tools["step"]["inputSchema"]["properties"]["n"]["exclusiveMinimum"] == 0
        assert (await client.call_tool("step", {"n": 2, "word": "hop"})).content[0].text == "hop 2"
        negative = await client.call_tool("step", {"n": -1})
        assert negative.is_error and "greater than 0" in negative.content[0].text, negative
        spaced = await client.call_tool("step", {"n": 1, "word": "a b"})
        assert spaced.is_error and "not one word" in spaced.content[0].text, spaced
        with pytest.raises(McpError) as refused:
            await client.get_prompt("steps", {"n": "-3"})
        assert refused.value.code == -32602 and "greater than 0" in refused.value.message
        prompt = await client.get_prompt("steps", {"n": "3"})
        assert getattr(prompt.messages[0].content, "text", None) == "Take 3 steps"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_template_variables_annotated_constraints_hold(mode: str) -> None:
    """`row: Annotated[int, Field(ge=1, le=100)]`: a URI whose variable breaks the constraint names no
    resource (its Annotated part was dropped: `rows://0` was served, the constraint never checked)."""

    async def body(client: Client) -> None:
        assert getattr((await client.read_resource("rows://7")).contents[0], "text", None) == "row 7"
        for uri in ("rows://0", "rows://101", "rows://x"):
            with pytest.raises(McpError) as missing:
                await client.read_resource(uri)
            assert missing.value.code == (-32602 if mode == "2026-07-28" else -32002), uri
            assert "Resource not found" in missing.value.message

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_resources_of_json_data(mode: str) -> None:
    async def body(client: Client) -> None:
        profile = (await client.read_resource("users://acme/bob/profile")).contents[0]
        assert profile.mime_type == "application/json"
        assert json.loads(profile.text) == {"org": "acme", "user": "bob"}
        item = (await client.read_resource("items://first")).contents[0]
        assert json.loads(item.text) == {"name": "first", "count": 1}

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_context_reads_a_resource_logs_by_level_and_knows_the_client(mode: str) -> None:
    logged: list[tuple[str, str | None, Any]] = []
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_log(params: dict[str, Any]) -> None:
        logged.append((params["level"], params.get("logger"), params["data"]))

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def body(client: Client) -> None:
        result = await client.call_tool("look", {"uri": "users://acme/bob/profile"}, progress=on_progress)
        assert not result.is_error, result
        assert result.content[0].text == 'tester/9.9: {"org":"acme","user":"bob"}'
        with pytest.raises(McpError) as missing:  # (the tool lets the not-found error through)
            await client.call_tool("look", {"uri": "nothing://here"})
        assert "nothing://here" in missing.value.message

    with_client(mode, body, on_log=on_log, log_level="debug", name="tester", version="9.9")
    assert logged[:4] == [
        ("debug", None, "d"),
        ("info", "look", "i"),
        ("warning", None, "w"),
        ("error", None, "e"),
    ]
    assert progress == [(1, 1, "read")]


@pytest.mark.parametrize("mode", MODES)
def test_prompt_messages_of_the_generated_type(mode: str) -> None:
    async def body(client: Client) -> None:
        prompt = await client.get_prompt("chat", {"topic": "owls"})
        said = [(m.role, getattr(m.content, "text", None)) for m in prompt.messages]
        assert said == [("user", "Tell me about owls"), ("assistant", "Gladly.")]

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_parameters_described_with_pydantic_fields(mode: str) -> None:
    async def body(client: Client) -> None:
        tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
        props = tools["forecast"]["inputSchema"]["properties"]
        assert props["city"]["description"] == "The city"
        assert props["days"] == {
            "description": "How many days",
            "minimum": 1,
            "maximum": 7,
            "type": "integer",
            "default": 3,
        }
        assert props["units"]["description"] == "metric or imperial" and props["units"]["default"] == "metric"
        assert tools["forecast"]["inputSchema"]["required"] == ["city"]
        result = await client.call_tool("forecast", {"city": "Oslo"})
        assert result.content[0].text == "Oslo: 3 days, metric"
        too_many = await client.call_tool("forecast", {"city": "Oslo", "days": 9})
        assert too_many.is_error and "less than or equal to 7" in too_many.content[0].text

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_model_from_a_tool_without_a_return_annotation(mode: str) -> None:
    async def body(client: Client) -> None:
        result = await client.call_tool("loose", {"name": "x"})
        assert not result.is_error
        assert json.loads(result.content[0].text) == {"name": "x", "count": 1}

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_decorators_used_without_a_call(mode: str) -> None:
    async def body(client: Client) -> None:
        assert "shout" in {t.name for t in await client.list_tools()}
        assert (await client.call_tool("shout", {"text": "hi"})).content[0].text == "HI"
        prompt = await client.get_prompt("hello", {"name": "Ann"})
        assert getattr(prompt.messages[0].content, "text", None) == "Say hello to Ann"
        # A prompt's argument described with pydantic's Field: text read as its type, and checked.
        louder = await client.get_prompt("hello", {"name": "Ann", "times": "3"})
        assert getattr(louder.messages[0].content, "text", None) == "Say hello to Ann!!"
        with pytest.raises(McpError):
            await client.get_prompt("hello", {"name": "Ann", "times": "0"})
        described = {p.name: p for p in await client.list_prompts()}["hello"].arguments
        assert described is not UNSET and described[1].description == "How often"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_sampling_with_texts_for_messages(mode: str) -> None:
    asked: list[dict[str, Any]] = []

    async def sampling(params: dict[str, Any]) -> dict[str, Any]:
        asked.append(params)
        said = " ".join(m["content"]["text"] for m in params["messages"])
        return {"role": "assistant", "content": {"type": "text", "text": f"<{said}>"}, "model": "m"}

    async def body(client: Client) -> None:
        result = await client.call_tool("summarize", {"text": "owls"})
        assert result.content[0].text == "<Shorter: <Summarize: owls>>"

    with_client(mode, body, sampling=sampling)
    assert all(m["role"] == "user" for p in asked for m in p["messages"])
    assert asked[0]["maxTokens"] == 512 and asked[-1]["maxTokens"] == 10


@pytest.mark.parametrize("mode", MODES)
def test_elicitation_with_no_form_is_a_confirmation(mode: str) -> None:
    forms: list[Any] = []

    answers = [{"action": "accept", "content": {}}, {"action": "accept", "content": {"token": "x"}}]

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        forms.append(params["requestedSchema"])
        return answers[len(forms) - 1]

    async def body(client: Client) -> None:
        assert (await client.call_tool("confirm")).content[0].text == "accept"
        # A member the form does not ask for reaches no handler (it was handed on unchecked).
        assert (await client.call_tool("confirm")).content[0].text == "accept"

    with_client(mode, body, elicitation=elicitation)
    assert forms == [{"type": "object", "properties": {}}] * 2


@pytest.mark.parametrize("mode", MODES)
def test_prompt_arguments_of_a_string_rooted_model_and_of_a_model_as_json_text(mode: str) -> None:
    """Prompt arguments are text: a `RootModel` of a constrained string validates the text itself,
    and a model is read from the JSON text it is given (both were refused for every value, read as
    objects); a text outside the constraint, or JSON that is no such model, is -32602."""

    def text(result: Any) -> Any:
        return getattr(result.messages[0].content, "text", None)

    async def body(client: Client) -> None:
        assert text(await client.get_prompt("trip", {"origin": "LHR"})) == "From LHR"
        luggage = json.dumps({"name": "bags", "count": 2})
        got = await client.get_prompt("trip", {"origin": "CDG", "luggage": luggage})
        assert text(got) == "From CDG with 2 bags"
        # (A text the type refuses is read as JSON too: a JSON string is its text.)
        assert text(await client.get_prompt("trip", {"origin": '"ORY"'})) == "From ORY"
        for arguments, said in [
            ({"origin": "lhr"}, "should match pattern"),
            ({"origin": "LHR", "luggage": '{"count": 2}'}, "name"),
            ({"origin": "LHR", "luggage": "bags"}, "valid dictionary"),
        ]:
            with pytest.raises(McpError) as refused:
                await client.get_prompt("trip", arguments)
            assert refused.value.code == -32602 and said in refused.value.message, refused.value.message

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_an_elicitation_forms_member_constraints_hold(mode: str) -> None:
    """A form type's members annotated with pydantic's `Field` (a dataclass's, a TypedDict's) are
    held to its constraints, as msgspec's `Meta` holds: an answer outside them reaches no handler
    (msgspec converted the form and skipped pydantic's constraints); the form shows them."""
    forms: list[Any] = []
    answers = [
        {"seats": 3, "nights": 2},
        {"name": "Ada"},
        {"seats": 0},  # pydantic's ge=1
        {"seats": 2, "nights": 0},  # msgspec's ge=1
        {"seats": 2},
        {"name": "A"},  # pydantic's min_length=2
    ]

    async def elicitation(params: dict[str, Any]) -> dict[str, Any]:
        forms.append(params["requestedSchema"])
        return {"action": "accept", "content": answers[len(forms) - 1]}

    async def body(client: Client) -> None:
        assert (await client.call_tool("reserve")).content[0].text == "3 seats, 2 nights, for Ada"
        for _ in range(3):
            try:
                result = await client.call_tool("reserve")
            except McpError as exc:
                assert "does not fill the form" in exc.message, exc.message
            else:
                assert result.is_error and "does not fill the form" in result.content[0].text
                assert "seats," not in result.content[0].text

    with_client(mode, body, elicitation=elicitation)
    assert len(forms) == 6
    seats = forms[0]["properties"]["seats"]
    assert (seats["minimum"], seats["maximum"], seats["description"]) == (1, 8, "How many seats")
    assert forms[0]["properties"]["nights"]["minimum"] == 1
    assert forms[1]["properties"]["name"]["minLength"] == 2


@pytest.mark.parametrize("mode", MODES)
def test_template_variables_of_the_parameter_types(mode: str) -> None:
    async def body(client: Client) -> None:
        line = (await client.read_resource("orders://7/lines/2")).contents[0]
        assert getattr(line, "text", None) == "order 1007, line 20"
        with pytest.raises(McpError) as missing:
            await client.read_resource("orders://seven/lines/2")
        assert "orders://seven/lines/2" in missing.value.message

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_long_uri_against_variables_that_span_segments(mode: str) -> None:
    """200 KB of `a/blob/` against `repos://{+repo}/blob/{+path}/raw`: not found, at once (the
    template's regex tried every split of it, minutes of the server's loop), and the server goes on."""

    async def body(client: Client) -> None:
        blob = (await client.read_resource("repos://acme/tools/blob/src/main.py/raw")).contents[0]
        assert getattr(blob, "text", None) == "acme/tools: src/main.py"
        with pytest.raises(McpError) as missing:
            await asyncio.wait_for(client.read_resource("repos://" + "a/blob/" * 30_000), 30)
        assert "repos://a/blob/" in missing.value.message
        assert (await client.call_tool("shout", {"text": "on"})).content[0].text == "ON"

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_a_tool_that_builds_its_whole_result(mode: str) -> None:
    async def body(client: Client) -> None:
        tools = {t.name: wire.to_builtins(t) for t in await client.list_tools()}
        assert "outputSchema" not in tools["graded"]
        failed = await client.call_tool("graded", {"score": 10})
        assert failed.is_error and failed.content[0].text == "score 10"
        assert failed.meta["grader"] == "v2"
        passed = await client.call_tool("graded", {"score": 90})
        assert not passed.is_error

    with_client(mode, body)


@pytest.mark.parametrize("mode", MODES)
def test_run_with_a_transport_keyword_serves_http(mode: str) -> None:
    """`server.run(transport="streamable-http", port=N)`, as other Python MCP servers are run."""
    port = free_port()
    process = subprocess.Popen([sys.executable, SERVER, "http-on", str(port)], stderr=subprocess.DEVNULL)

    async def main() -> None:
        await wait_for_port(port)
        async with Client.http(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
            assert (await client.call_tool("shout", {"text": "up"})).content[0].text == "UP"

    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize("mode", MODES)
def test_a_plain_resource_takes_the_context(mode: str) -> None:
    async def body(client: Client) -> None:
        said = (await client.read_resource("session://client")).contents[0]
        assert getattr(said, "text", None) == "tester"

    with_client(mode, body, name="tester")


@pytest.mark.parametrize("mode", MODES)
def test_a_client_with_a_log_callback_gets_logs_in_either_era(mode: str) -> None:
    """No level set: a session sends everything; a stateless request asks for everything too when the
    client has somewhere to put it (before, 2026-07-28 requests asked for nothing)."""
    levels: list[str] = []

    async def on_log(params: dict[str, Any]) -> None:
        levels.append(params["level"])

    async def body(client: Client) -> None:
        await client.call_tool("look", {"uri": "items://first"})
        for _ in range(100):
            if len(levels) >= 4:
                break
            await asyncio.sleep(0.01)

    with_client(mode, body, on_log=on_log)
    assert levels == ["debug", "info", "warning", "error"]


@pytest.mark.parametrize("mode", MODES)
def test_the_servers_title_from_its_implementation(mode: str) -> None:
    async def body(client: Client) -> None:
        assert client.server_info["title"] == "User API"
        assert client.server_info["websiteUrl"] == "https://example.invalid"

    with_client(mode, body)
