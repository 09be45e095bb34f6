"""`completion/complete` from a client that should not see what it asks for (tests/servers/
scoped_completions.py, a real stdio subprocess, where no token can reach the server). The spec
(2025-11-25, server/utilities/completion): implementations MUST "Control access to sensitive
suggestions" and "Prevent completion-based information disclosure", and servers SHOULD answer an
"Invalid prompt name: -32602 (Invalid params)". The suggestions for a prompt or resource template that
needs scopes need those scopes (-32003, as the feature itself is refused), a prompt that does not exist
is -32602, and the server serves the next request."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS
from mcpbind.server.scopes import INSUFFICIENT_SCOPE

SCRIPT = str(Path(__file__).resolve().parents[1] / "servers" / "scoped_completions.py")


def test_scoped_and_unknown_references_get_no_suggestions() -> None:
    async def main() -> None:
        async with Client.stdio(sys.executable, [SCRIPT]) as client:
            for ref in (
                {"type": "ref/prompt", "name": "salary"},
                {"type": "ref/resource", "uri": "secret://files/{name}"},
            ):
                with pytest.raises(McpError) as refused:
                    await client.complete(ref, {"name": "employee", "value": ""})
                assert refused.value.code == INSUFFICIENT_SCOPE, ref
                assert "alice" not in str(refused.value) and "merger" not in str(refused.value)
            with pytest.raises(McpError) as unknown:
                await client.complete({"type": "ref/prompt", "name": "nosuch"}, {"name": "a", "value": ""})
            assert unknown.value.code == INVALID_PARAMS and "nosuch" in str(unknown.value)
            done = await client.complete(
                {"type": "ref/prompt", "name": "greet"}, {"name": "name", "value": "a"}
            )
            assert done.completion.values == ["ada", "alan"]
            # A handler that returns one bare string suggests that string, not its letters; one that
            # returns what is no string is refused (-32603), not sent against the schema.
            visit = {"type": "ref/prompt", "name": "visit"}
            city = await client.complete(visit, {"name": "city", "value": "p"})
            assert city.completion.values == ["paris"] and city.completion.total == 1
            with pytest.raises(McpError) as slip:
                await client.complete(visit, {"name": "days", "value": ""})
            assert slip.value.code == INTERNAL_ERROR
            again = await client.complete(
                {"type": "ref/prompt", "name": "greet"}, {"name": "name", "value": ""}
            )
            assert again.completion.values == ["ada", "alan"]

    asyncio.run(main())
