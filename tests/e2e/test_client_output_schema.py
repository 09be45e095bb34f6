"""`Client.call_tool` checks a structured result against the output schema its `list_tools` gave (the
spec: clients SHOULD validate structured results against the output schema), as the typed stubs, the
TypeScript and the Python SDK clients do: a result that does not fit, or no structured content at all
from a tool with an output schema, raises `InvalidToolResult` naming the tool and the path; an error
result (`isError`) and a tool without an output schema are not checked, and nothing is checked before
the client lists the tools. Against a real stdio server answering with scripted lines."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbind.client import Client
from mcpbind.client.toolstubs import InvalidToolResult

from ..http_support import SERVERS

SCRIPTED = str(SERVERS / "scripted_stdio.py")
REVISION = "2025-11-25"
OUTPUT = {
    "type": "object",
    "properties": {"temp": {"type": "number"}, "days": {"type": "array", "items": {"type": "string"}}},
    "required": ["temp"],
}
TOOLS = {
    "tools": [
        {"name": "weather", "inputSchema": {"type": "object"}, "outputSchema": OUTPUT},
        {"name": "plain", "inputSchema": {"type": "object"}},
    ]
}


def answer(result: dict[str, Any]) -> bytes:
    return b'{"jsonrpc":"2.0","id":ID,"result":' + json.dumps(result).encode() + b"}"


def structured(value: Any, **more: Any) -> bytes:
    return answer(
        {"content": [{"type": "text", "text": json.dumps(value)}], "structuredContent": value, **more}
    )


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def scripted(tmp_path: Path, lines: list[bytes]) -> Client:
    script = tmp_path / "script"
    script.write_bytes(b"\n".join(lines) + b"\n")
    return Client.stdio(sys.executable, [SCRIPTED, str(script), REVISION], mode=REVISION)


def test_structured_results_are_checked_against_the_listed_output_schema(tmp_path: Path) -> None:
    lines = [
        structured({"temp": "warm"}),  # before tools/list: the client knows no schema, not checked
        answer(TOOLS),
        structured({"temp": 21.5, "days": ["mon"]}),
        structured({"temp": "warm"}),
        structured({"days": ["mon"]}),
        structured({"temp": 1, "days": [1]}),
        answer({"content": [{"type": "text", "text": "21.5"}]}),  # no structuredContent at all
        answer({"content": [{"type": "text", "text": "it broke"}], "isError": True}),
        structured({"anything": True}),  # the tool without an output schema
        structured({"temp": 3}),
    ]

    async def main() -> None:
        async with scripted(tmp_path, lines) as client:
            unchecked = await client.call_tool("weather", {})
            assert unchecked.structured_content == {"temp": "warm"}
            await client.list_tools()
            good = await client.call_tool("weather", {})
            assert good.structured_content == {"temp": 21.5, "days": ["mon"]}
            for path in (r"\$\.temp", r"temp", r"\$\.days\[0\]"):
                with pytest.raises(
                    InvalidToolResult, match=f"weather: the result does not match.*{path}"
                ) as bad:
                    await client.call_tool("weather", {})
                assert bad.value.code == -32602 and bad.value.tool == "weather"
                assert bad.value.result.structured_content is not None  # the whole answer is kept
            with pytest.raises(
                InvalidToolResult, match="has an output schema but sent no structured content"
            ):
                await client.call_tool("weather", {})
            failed = await client.call_tool("weather", {})
            assert failed.is_error is True
            assert (await client.call_tool("plain", {})).structured_content == {"anything": True}
            await client.ping()  # the session goes on
            assert (await client.call_tool("weather", {})).structured_content == {"temp": 3}

    run(main())


def test_a_client_import_loads_no_schema_compiler() -> None:
    """The schema mapping (`mcpbind.stubgen`) is imported on the first checked call, not by the client."""
    code = "import sys, mcpbind.client; print(any(m.startswith('mcpbind.stubgen') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_whole_float_is_an_integer(tmp_path: Path) -> None:
    """JSON Schema's `integer` matches `1.0` (a number with a zero fractional part): a Python server may
    send it. `1.5` still does not fit, nor does a string."""
    count = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    tools = {"tools": [{"name": "count", "inputSchema": {"type": "object"}, "outputSchema": count}]}
    lines = [
        answer(tools),
        structured({"n": 3.0}),
        structured({"n": -(2.0**62)}),
        structured({"n": 1.5}),
        structured({"n": "3"}),
        structured({"n": 7}),
    ]

    async def main() -> None:
        async with scripted(tmp_path, lines) as client:
            await client.list_tools()
            assert (await client.call_tool("count", {})).structured_content == {"n": 3.0}
            assert (await client.call_tool("count", {})).structured_content == {"n": -(2.0**62)}
            for _ in range(2):
                with pytest.raises(InvalidToolResult, match=r"Expected `int`.*\$\.n"):
                    await client.call_tool("count", {})
            assert (await client.call_tool("count", {})).structured_content == {"n": 7}

    run(main())
