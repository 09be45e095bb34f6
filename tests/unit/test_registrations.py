"""Removing registrations, and applying other workers' (`Server.withdraw`/`restore`): what is served and
listed changes at once, scopes come back with what is restored, the bus (`Server.relay`) is told of local
changes by name, and nothing is kept without a bus."""

from __future__ import annotations

import asyncio

import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.server import Server


def server_with_all() -> Server:
    server = Server("moving")
    server.tool(name="t", scopes=["s:tool"])(lambda: "tool")
    server.prompt(name="p")(lambda: "prompt")
    server.resource("r://static", scopes=["s:res"])(lambda: "res")
    server.resource("r://{id}/t", scopes=["s:tmpl"])(lambda id: id)
    # Kept throughout: a server with none of a kind left does not offer its list at all.
    server.tool(name="k")(lambda: "kept")
    server.prompt(name="k")(lambda: "kept")
    server.resource("r://kept")(lambda: "kept")
    return server


async def listing(client: Client) -> tuple[set[str], ...]:
    tools = {t.name for t in (await client.request("tools/list", {})).tools}
    prompts = {p.name for p in (await client.request("prompts/list", {})).prompts}
    resources = {r.uri for r in (await client.request("resources/list", {})).resources}
    templates = {
        t.uri_template for t in (await client.request("resources/templates/list", {})).resource_templates
    }
    return tools, prompts, resources, templates


@pytest.mark.parametrize("mode", ["2025-11-25", "2026-07-28"])
def test_withdrawn_and_restored_registrations_are_listed_as_they_are(mode: str) -> None:
    server = server_with_all()
    told: list[tuple[str, str]] = []
    server.relay = lambda change, value: told.append((change, value))
    names = [("tools", "t"), ("prompts", "p"), ("resources", "r://static"), ("resources", "r://{id}/t")]

    async def main() -> None:
        async with Client.memory(server, mode=mode) as client:
            full = await listing(client)  # (listed once: the lists are cached until a change)
            assert full == ({"t", "k"}, {"p", "k"}, {"r://static", "r://kept"}, {"r://{id}/t"})
            for kind, name in names:
                assert server.withdraw(kind, name) is not None
                assert not server.registered(kind, name)
            assert await listing(client) == ({"k"}, {"k"}, {"r://kept"}, set())
            assert server.withdraw("tools", "t") is None and server.withdraw("nothing", "t") is None
            for kind, name in names:
                assert server.restore(kind, name) and not server.restore(kind, name)
            assert await listing(client) == full
            with pytest.raises(McpError, match="needs the scopes s:tool"):  # served, and guarded, again
                await client.call_tool("t", {})

    asyncio.run(asyncio.wait_for(main(), 30))
    assert told == []  # another worker's change: the bus that applies it tells the clients


def test_scopes_come_back_with_what_is_restored() -> None:
    server = server_with_all()
    server.relay = lambda change, value: None
    for kind, name, method, scope in [
        ("tools", "t", "tools/call", "s:tool"),
        ("resources", "r://static", "resources/read", "s:res"),
        ("resources", "r://{id}/t", "resources/read", "s:tmpl"),
    ]:
        probe = "r://1/t" if "{" in name else name
        assert server.required_scopes.of(method, probe) == {scope}
        server.withdraw(kind, name)
        assert server.required_scopes.of(method, probe) == frozenset()
        server.restore(kind, name)
        assert server.required_scopes.of(method, probe) == {scope}


def test_local_changes_go_to_the_bus_by_name() -> None:
    server = server_with_all()
    told: list[tuple[str, str]] = []
    server.relay = lambda change, value: told.append((change, value))
    server.remove_tool("t")
    server.tool(name="t")(lambda: "again")
    server.remove_prompt("p")
    server.remove_resource("r://{id}/t")
    server.remove_resource("r://never")  # nothing registered there: nothing told
    assert told == [
        ("remove", "tools:t"),
        ("add", "tools:t"),
        ("remove", "prompts:p"),
        ("remove", "resources:r://{id}/t"),
    ]
    with pytest.raises(KeyError):
        server.remove_tool("absent")
    # What was removed here is kept too: another worker registering the name brings it back.
    assert server.restore("prompts", "p") and server.registered("prompts", "p")
    assert not server.restore("tools", "t")  # registered here again since: the new one stays


def test_nothing_is_kept_without_a_bus() -> None:
    server = server_with_all()
    server.remove_tool("t")
    assert not server.restore("tools", "t") and not server.registered("tools", "t")


def test_a_template_registered_after_listing_is_listed() -> None:
    server = server_with_all()

    async def main() -> None:
        async with Client.memory(server, mode="2025-11-25") as client:
            assert (await listing(client))[3] == {"r://{id}/t"}
            server.resource("r://{id}/more")(lambda id: id)
            assert (await listing(client))[3] == {"r://{id}/t", "r://{id}/more"}
            server.remove_resource("r://{id}/t")
            assert (await listing(client))[3] == {"r://{id}/more"}

    asyncio.run(asyncio.wait_for(main(), 30))
