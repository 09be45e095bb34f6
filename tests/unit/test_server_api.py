"""The server author's API, through the in-memory client: schema-driven metadata (each revision sent what
it has), content helpers, and the safe defaults (duplicates, unsupported hints, private error text)."""

from __future__ import annotations

import asyncio
import base64
import logging
from pathlib import Path
from typing import Any

import pytest

from mcpbind import wire
from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.generated import v2025_11_25
from mcpbind.server import Server, ToolError, content

PNG = b"\x89PNG\r\n\x1a\n fake image bytes"


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 60))


def listed_tools(server: Server, mode: str) -> list[dict[str, Any]]:
    async def main() -> list[dict[str, Any]]:
        async with Client.memory(server, mode=mode) as client:
            # The negotiated revision's own types (the conveniences return the newest revision's).
            return [wire.to_builtins(t) for t in (await client.request("tools/list")).tools]

    result: list[dict[str, Any]] = run(main())
    return result


def test_every_member_of_the_revisions_tool_is_accepted_and_each_revision_gets_what_it_has() -> None:
    server = Server(
        "meta",
        implementation={
            "website_url": "https://example.com",
            "icons": [{"src": "https://example.com/i.png"}],
        },
    )

    @server.tool(
        title="Adder",
        annotations=v2025_11_25.ToolAnnotations(read_only_hint=True),
        icons=[{"src": "https://example.com/add.png", "mimeType": "image/png"}],
        meta={"example.com/k": 1},
        execution={"taskSupport": "forbidden"},  # 2025-11-25 alone has it: a Python name
    )
    def add(a: int, b: int) -> int:
        return a + b

    old, tasks, modern = (listed_tools(server, m)[0] for m in ("2024-11-05", "2025-11-25", "2026-07-28"))
    assert set(old) == {"name", "description", "inputSchema"} or set(old) == {"name", "inputSchema"}
    assert tasks["execution"] == {"taskSupport": "forbidden"}
    assert tasks["annotations"] == {"readOnlyHint": True} and tasks["title"] == "Adder"
    assert tasks["_meta"] == {"example.com/k": 1} and tasks["icons"][0]["mimeType"] == "image/png"
    assert "execution" not in modern and modern["title"] == "Adder"
    assert modern["outputSchema"]["properties"]["result"] == {"type": "integer"}

    async def info(mode: str) -> dict[str, Any]:
        async with Client.memory(server, mode=mode) as client:
            return dict(client.server_info)

    assert "websiteUrl" not in run(info("2025-06-18")) and "icons" not in run(info("2025-06-18"))
    assert run(info("2025-11-25"))["websiteUrl"] == "https://example.com"


def test_members_are_checked_at_registration() -> None:
    server = Server("checked")
    with pytest.raises(TypeError, match=r"tool 'x': 'colour' is not a member of Tool"):
        server.tool(name="x", colour="red")(lambda: "x")
    with pytest.raises(ValueError, match=r"tool 'y': not a valid Tool of MCP 2025-11-25"):
        server.tool(name="y", execution={"taskSupport": "sometimes"})(lambda: "y")
    with pytest.raises(TypeError, match=r"prompt 'p': 'colour' is not a member of Prompt"):
        server.prompt(name="p", colour="red")(lambda: "p")
    with pytest.raises(ValueError, match=r"server 'bad': not a valid Implementation"):
        Server("bad", implementation={"icons": "not a list"})
    assert not server.tool_entry("x") and not server.tool_entry("y")


def test_resources_and_prompts_take_their_types_members() -> None:
    server = Server("res")

    @server.resource("notes://{id}", name="note", icons=[{"src": "https://example.com/n.png"}])
    def note(id: str) -> str:
        return id

    @server.resource("notes://index", annotations={"priority": 0.5, "audience": ["user"]}, size=12)
    def index() -> str:
        return "index"

    @server.prompt(icons=[{"src": "https://example.com/p.png"}], meta={"example.com/p": True})
    def greet(name: str) -> str:
        return f"Hello {name}"

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            (template,) = await client.list_resource_templates()
            assert template.icons[0].src == "https://example.com/n.png"
            (resource,) = await client.list_resources()
            assert resource.size == 12 and resource.annotations.priority == 0.5
            (prompt,) = await client.list_prompts()
            assert prompt.icons[0].src == "https://example.com/p.png" and prompt.meta == {
                "example.com/p": True
            }

    run(main())


def test_duplicate_names_raise() -> None:
    server = Server("dup")
    server.tool(name="t")(lambda: "one")
    with pytest.raises(ValueError, match="a tool named 't' is registered already"):
        server.tool(name="t")(lambda: "two")
    server.remove_tool("t")
    server.tool(name="t")(lambda: "three")  # replacing is removing first
    server.prompt(name="p")(lambda: "p")
    with pytest.raises(ValueError, match="a prompt named 'p'"):
        server.prompt(name="p")(lambda: "p")
    server.resource("a://b")(lambda: "b")
    with pytest.raises(ValueError, match="a resource at 'a://b'"):
        server.resource("a://b")(lambda: "b")
    server.resource("a://{x}")(lambda x: x)
    with pytest.raises(ValueError, match=r"a resource at 'a://\{x\}'"):
        server.resource("a://{x}")(lambda x: x)


def test_an_unsupported_hint_names_the_tool_and_the_parameter() -> None:
    server = Server("hints")

    def takes_a_logger(name: str, log: logging.Logger) -> str:
        return name

    with pytest.raises(TypeError, match=r"takes_a_logger: parameter 'log': unsupported type hint"):
        server.tool()(takes_a_logger)

    def returns_a_logger() -> logging.Logger:
        return logging.getLogger()

    with pytest.raises(TypeError, match=r"returns_a_logger: return value: unsupported type hint"):
        server.tool()(returns_a_logger)


@pytest.mark.parametrize("expose", [False, True])
def test_unexpected_exception_text_is_private_unless_asked(
    expose: bool, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server("errors", expose_errors=expose)

    @server.tool()
    def leaky() -> str:
        raise RuntimeError("password=hunter2")

    @server.tool()
    def refused() -> str:
        raise ToolError("the model may read this")

    async def main() -> None:
        for mode in ("2025-11-25", "2026-07-28"):
            async with Client.memory(server, mode=mode) as client:
                result = await client.call_tool("leaky", {})
                assert result.is_error is True
                assert ("hunter2" in result.content[0].text) is expose
                refusal = await client.call_tool("refused", {})
                assert refusal.is_error is True and refusal.content[0].text == "the model may read this"

    with caplog.at_level(logging.ERROR, logger="mcpbind.server"):
        run(main())
    failed = [r for r in caplog.records if r.getMessage() == "tool leaky failed"]
    assert failed and failed[0].exc_info is not None and "hunter2" in str(failed[0].exc_info[1])


def test_content_helpers_as_tool_results_and_prompt_messages(tmp_path: Path) -> None:
    picture = tmp_path / "chart.png"
    picture.write_bytes(PNG)
    sound = tmp_path / "beep.wav"
    sound.write_bytes(b"RIFF....WAVE")
    server = Server("content")

    @server.tool()
    def show() -> list[content.Content]:
        return [
            content.text("a chart"),
            content.image(picture),
            content.audio(sound.read_bytes(), "audio/wav"),
            content.embedded("notes://1", "first note", "text/plain"),
            content.embedded("files://chart", picture),
            content.resource_link("notes://2", "second", title="Second note", mime_type="text/plain"),
        ]

    @server.prompt()
    def describe(topic: str) -> list[Any]:
        return [
            content.text(f"Describe {topic}"),
            {"role": "assistant", "content": content.image(PNG, "image/png")},
        ]

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            result = await client.call_tool("show", {})
            blocks = [wire.to_builtins(b) for b in result.content]
            assert [b["type"] for b in blocks] == [
                "text",
                "image",
                "audio",
                "resource",
                "resource",
                "resource_link",
            ]
            assert blocks[1] == {
                "type": "image",
                "data": base64.b64encode(PNG).decode(),
                "mimeType": "image/png",
            }
            assert base64.b64decode(blocks[2]["data"]) == b"RIFF....WAVE"
            assert blocks[3]["resource"] == {
                "uri": "notes://1",
                "text": "first note",
                "mimeType": "text/plain",
            }
            assert blocks[4]["resource"]["mimeType"] == "image/png"
            assert blocks[5]["title"] == "Second note"
            prompt = await client.get_prompt("describe", {"topic": "sales"})
            assert [m.role for m in prompt.messages] == ["user", "assistant"]
            assert prompt.messages[1].content.mime_type == "image/png"
        async with Client.memory(server, mode="2024-11-05") as client:
            # Audio and resource links are not part of 2024-11-05: the server refuses to send them,
            # and goes on serving.
            with pytest.raises(McpError, match="Internal error"):
                await client.call_tool("show", {})
            assert (await client.get_prompt("describe", {"topic": "x"})).messages[
                0
            ].content.text == "Describe x"

    run(main())


def test_content_helpers_refuse_what_they_cannot_know(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="need a mime_type"):
        content.image(PNG)
    odd = tmp_path / "data.unknownext"
    odd.write_bytes(b"x")
    with pytest.raises(ValueError, match="cannot be guessed"):
        content.audio(odd)


class _Idle:
    """A transport that never has a message: its reader waits until cancelled."""

    closed = False

    async def read(self) -> bytes | None:
        await asyncio.Event().wait()
        return None

    async def write(self, data: bytes) -> None:
        pass

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("turns", [0, 1, 5])
def test_serve_cancelled_at_once_or_later_closes_its_connection(turns: int) -> None:
    """`serve` runs the read loop as a task of its own: cancelled before that task's first step (or
    after), the connection still ends as the read loop's end ends it, and the transport is closed."""
    server = Server("cancelled")

    async def main() -> None:
        transport = _Idle()
        serving = asyncio.ensure_future(server.serve(transport))
        for _ in range(100):
            if server.connections:
                break
            await asyncio.sleep(0)
        (conn,) = server.connections
        for _ in range(turns):
            await asyncio.sleep(0)
        serving.cancel()
        with pytest.raises(asyncio.CancelledError):
            await serving
        assert conn.peer.closed.is_set()
        assert transport.closed and not server.connections

    run(main())
