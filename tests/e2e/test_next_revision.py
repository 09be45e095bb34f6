"""The runtime follows a new revision with no code change: a synthetic next revision (the newest schema
plus a method, a `Tool` member and a content block type) is added with `add-revision`, generated into a
copy of the package, and served and called end to end by the high-level server and client over stdio, in
a subprocess that imports that copy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from mcpbind.codegen.pins import published_pins

from ..revision_support import DRAFT_VERSION, NEW_CONTENT, NEW_METHOD, NEW_TOOL_MEMBER, NEXT, package_with

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_LATEST = published_pins()[-1].name

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys

    from mcpbind.server import Server
    from mcpbind.client import Client
    from mcpbind.generated import LATEST

    server = Server("next", "1.0.0")


    @server.tool(cost_hint=0.25)  # the new revision's `Tool.costHint`, by its Python name
    def film():  # no annotation: the result is content blocks, not structured output
        \"\"\"A tool whose result is the new revision's content block.\"\"\"
        return [{"type": "video", "data": "AAAA", "mimeType": "video/mp4"}]


    @server.method(NEW_METHOD)  # the new revision's request, served by the high-level server
    async def list_widgets(params, ctx):
        return {"widgets": [{"name": "gear", "size": 1.5}]}


    async def main() -> None:
        async with Client.stdio(sys.executable, [__file__, "serve"]) as client:
            assert client.revision == LATEST == NEXT, (client.revision, LATEST)
            result = await client.call_tool("film", {})
            block = result.content[0]
            assert type(block).__name__ == NEW_CONTENT and block.mime_type == "video/mp4", block
            (tool,) = await client.list_tools()  # the newest revision's types: NEXT's here
            assert tool.cost_hint == 0.25, tool
            widgets = await client.request(NEW_METHOD)
            assert type(widgets).__name__ == "ListWidgetsResult" and widgets.widgets[0].size == 1.5, widgets
            print("ok", client.revision, type(block).__name__, NEW_METHOD, NEW_TOOL_MEMBER)


    if sys.argv[1:] == ["serve"]:
        server.run_stdio()
    else:
        asyncio.run(main())
    """
)


def test_a_new_revision_is_served_and_called_with_no_runtime_change(tmp_path: Path) -> None:
    site = package_with(tmp_path)
    script = tmp_path / "next_revision.py"
    constants = f"NEXT = {NEXT!r}\nNEW_CONTENT = {NEW_CONTENT!r}\nNEW_METHOD = {NEW_METHOD!r}\n"
    constants += f"NEW_TOOL_MEMBER = {NEW_TOOL_MEMBER!r}\n"
    script.write_text(constants + SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["ok", NEXT, NEW_CONTENT, NEW_METHOD, NEW_TOOL_MEMBER]


DRAFT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys

    from mcpbind.client import Client
    from mcpbind.errors import McpError
    from mcpbind.generated import LATEST
    from mcpbind.protocol import revisions
    from mcpbind.server import Server

    default = Server("released", "1.0.0")
    trying = Server("draft", "1.0.0", revisions_served=[*revisions.ALL, "draft"])
    for server in (default, trying):
        server.tool(name="video")(lambda: [{"type": "video", "data": "AAAA", "mimeType": "video/mp4"}])


    async def main() -> None:
        assert revisions.DRAFT == DRAFT_VERSION and DRAFT_VERSION not in revisions.ALL
        me = [__file__]
        async with Client.stdio(sys.executable, [*me, "trying"]) as client:
            assert client.revision == LATEST, client.revision  # never offered unless asked
        async with Client.stdio(sys.executable, [*me, "trying"], mode="draft") as client:
            assert client.revision == DRAFT_VERSION, client.revision
            # The conveniences return the newest release's types; the draft's own come from `request`.
            result = await client.request("tools/call", {"name": "video", "arguments": {}})
            assert type(result.content[0]).__name__ == "VideoContent", result
        try:
            async with Client.stdio(sys.executable, [*me, "default"], mode="draft") as client:
                raise AssertionError(f"a server that does not serve the draft negotiated {client.revision}")
        except McpError as exc:
            print("refused", exc.code)
        print("ok")


    if sys.argv[1:] == ["trying"]:
        trying.run_stdio()
    elif sys.argv[1:] == ["default"]:
        default.run_stdio()
    else:
        asyncio.run(main())
    """
)


def test_the_draft_is_spoken_only_where_it_is_asked_for(tmp_path: Path) -> None:
    site = package_with(tmp_path, draft=True)
    package = (site / "mcpbind" / "generated" / "__init__.py").read_text()
    assert (
        '"draft": "mcpbind.generated.vdraft"' in package
        and f'LATEST: Final = "{PUBLISHED_LATEST}"' in package
    )
    script = tmp_path / "draft.py"
    script.write_text(f"DRAFT_VERSION = {DRAFT_VERSION!r}\n" + DRAFT_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == "ok" and "refused" in done.stdout
