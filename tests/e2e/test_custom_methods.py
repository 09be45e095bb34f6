"""`@server.method(...)`: a request method no decorator covers, served from the high-level server with
typed params and a result checked against the revision's result type. Every method of the published
revisions has a handler of the runtime's own, so the method here is the one a synthetic next revision
adds (`tests/revision_support.py`), served by the package generated for it in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ..revision_support import NEW_METHOD, NEXT, package_with

SCRIPT = textwrap.dedent(
    """
    import asyncio, dataclasses

    from mcpbind.client import Client
    from mcpbind.errors import McpError
    from mcpbind.server import Context, Server


    @dataclasses.dataclass
    class Page:
        cursor: str | None = None


    async def typed_params() -> None:
        server = Server("custom", revisions_served=[NEXT])
        seen = []

        @server.method(NEW_METHOD, params=Page)
        async def list_widgets(params: Page, ctx: Context) -> dict:
            seen.append((params, ctx.revision))
            return {"widgets": [], "nextCursor": None if params.cursor == "last" else "last"}

        async with Client.memory(server, mode=NEXT) as client:
            first = await client.request(NEW_METHOD, {"cursor": "c1"})
            assert list(first.widgets) == [] and first.next_cursor == "last", first
            second = await client.request(NEW_METHOD, {"cursor": "last"})
            assert not second.next_cursor, second
        assert seen == [(Page("c1"), NEXT), (Page("last"), NEXT)], seen


    async def forbidden_result() -> None:
        server = Server("custom-bad", revisions_served=[NEXT])

        @server.method(NEW_METHOD)
        def bad(params, ctx):
            return {"widgets": "not a list"}

        async with Client.memory(server, mode=NEXT) as client:
            try:
                await client.request(NEW_METHOD, {})
            except McpError as exc:
                assert "Internal error" in exc.message, exc
            else:
                raise AssertionError("a result the revision forbids was sent")
            await client.request("server/discover")  # serving goes on


    def registered_twice() -> None:
        server = Server("custom-dup")
        for method in ("tools/call", "initialize"):
            try:
                server.method(method)(lambda params, ctx: {})
            except ValueError as exc:
                assert f"'{method}' has a handler already" in str(exc), exc
            else:
                raise AssertionError(f"{method} registered over its handler")
        server.method(NEW_METHOD)(lambda params, ctx: {"widgets": []})
        try:
            server.method(NEW_METHOD)(lambda params, ctx: {"widgets": []})
        except ValueError as exc:
            assert "has a handler already" in str(exc)
        else:
            raise AssertionError("registered twice")


    registered_twice()
    asyncio.run(asyncio.wait_for(typed_params(), 60))
    asyncio.run(asyncio.wait_for(forbidden_result(), 60))
    print("ok")
    """
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return package_with(tmp_path_factory.mktemp("next"))


def test_a_registered_method_is_typed_checked_and_registered_once(site: Path, tmp_path: Path) -> None:
    script = tmp_path / "custom.py"
    script.write_text(f"NEXT = {NEXT!r}\nNEW_METHOD = {NEW_METHOD!r}\n" + SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(site)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok"]
