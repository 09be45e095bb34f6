"""Whom a task counts against (`max_per_client`). An authenticated principal has an allowance of its own,
whatever its name: two servers share one task store (as workers share one Redis), under one uvicorn, one
without authentication (its stateless clients share the anonymous allowance), one whose token names a
principal literally called "anonymous"; that principal does not take the anonymous clients' allowance,
nor they its. An anonymous client over Streamable HTTP sessions has its address's (all its sessions
together), unless that address is on a network `HttpSecurity.uncapped_networks` exempts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from mcpbind.client import Client
from mcpbind.errors import McpError
from mcpbind.protocol import revisions
from mcpbind.server import Server, TaskPolicy
from mcpbind.server.tasks import TASK_LIMIT, MemoryTaskStore
from mcpbind.transports.http import HttpApp, HttpSecurity

from ..http_support import Session, call, messages_of, open_session, request, serve_in_process

MODERN = revisions.MODERN[-1]
SESSION = "2025-11-25"


def holding_server(store: MemoryTaskStore, per_client: int = 1) -> Server:
    policy = TaskPolicy(max_per_client=per_client)
    server = Server("allowance", "1.0.0", task_policy=policy, task_store=store)

    @server.tool(task_support="required")
    async def hold() -> str:
        await asyncio.Event().wait()  # until cancelled
        return "never"

    return server


class ByPath:
    """One ASGI app per path prefix (`/open/...`, `/authed/...`), lifespans run for each."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        prefix, _, rest = scope["path"].lstrip("/").partition("/")
        await self.apps[prefix]({**scope, "path": "/" + rest}, receive, send)


async def verify(token: str) -> str | None:
    return "anonymous" if token == "named-anonymous" else None


def test_a_principal_named_anonymous_has_an_allowance_of_its_own() -> None:
    store = MemoryTaskStore()
    apps = {
        "open": holding_server(store).http_app(),
        "authed": holding_server(store).http_app(security=HttpSecurity(verify_token=verify)),
    }

    async def token() -> str:
        return "named-anonymous"

    async def main(url: str) -> None:
        anonymous = Client.http(url.replace("/mcp", "/open/mcp"), mode=MODERN)
        named = Client.http(url.replace("/mcp", "/authed/mcp"), mode=MODERN, auth=token)
        async with anonymous, named:
            held = [await anonymous.start_tool_task("hold")]
            with pytest.raises(McpError) as info:  # the anonymous allowance (1) is spent
                await anonymous.start_tool_task("hold")
            assert "anonymous clients of this server share one limit" in info.value.message
            held.append(await named.start_tool_task("hold"))  # its own allowance, not theirs
            with pytest.raises(McpError) as info:
                await named.start_tool_task("hold")
            assert "this client has its limit of 1" in info.value.message
            for handle in held:
                await handle.cancel()

    with serve_in_process(ByPath(apps)) as url:
        asyncio.run(asyncio.wait_for(main(url), 60))


# -- anonymous sessions: one allowance per client address ---------------------------------------------


def _held_tasks(security: HttpSecurity) -> tuple[HttpApp, MemoryTaskStore]:
    store = MemoryTaskStore()
    return holding_server(store, per_client=2).http_app(security=security), store


def _from(address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (a loopback address of its own)."""
    return httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address=address))


async def _start(http: httpx.AsyncClient, session: Session, rid: int) -> dict[str, Any]:
    """A `hold` call as a task: the answer's result (the task), or its error."""
    answer = await http.post(
        session.url, json=call(rid, "hold", task={"ttl": 60_000}), headers=session.headers()
    )
    (message,) = messages_of(answer)
    return dict(message.get("result", message.get("error")))


async def _listed(http: httpx.AsyncClient, session: Session, rid: int) -> list[str]:
    answer = await http.post(session.url, json=request(rid, "tasks/list"), headers=session.headers())
    return [t["taskId"] for t in messages_of(answer)[-1]["result"]["tasks"]]


def test_an_address_has_one_allowance_of_tasks_whatever_sessions_it_opens() -> None:
    """Counted per session, an address opening `max_sessions_per_client` sessions had that many times
    `max_per_client` tasks (100 x 100: the whole of `max_total`), and everyone else none. Its sessions
    now share one allowance; another address has its own; each session still lists only its own."""
    app, store = _held_tasks(HttpSecurity(uncapped_networks=()))  # loopback bounded as any address

    async def scenario(url: str) -> None:
        async with _from("127.0.0.2") as one, _from("127.0.0.3") as two:
            first, second, third = [await open_session(one, url, SESSION) for _ in range(3)]
            mine = [(await _start(one, s, 2))["task"]["taskId"] for s in (first, second)]
            refused = await _start(one, third, 3)
            assert refused["code"] == TASK_LIMIT and refused["data"] == {"limit": 2}, refused
            assert "this client's address has its limit of 2" in refused["message"]
            other = await open_session(two, url, SESSION)
            theirs = (await _start(two, other, 4))["task"]["taskId"]
            assert len(store) == 3
            # Who sees a task is unchanged: the session that started it.
            assert await _listed(one, first, 5) == mine[:1] and await _listed(one, second, 5) == mine[1:]
            assert await _listed(one, third, 5) == [] and await _listed(two, other, 5) == [theirs]
            # A task that ends gives its place back, to any session of the address.
            cancel = request(6, "tasks/cancel", {"taskId": mine[0]})
            assert (await one.post(url, json=cancel, headers=first.headers())).status_code == 200
            assert (await _start(one, third, 7))["task"]["status"] == "working"

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


def test_an_address_on_an_uncapped_network_has_an_allowance_per_session() -> None:
    """A loopback client (`HttpSecurity.uncapped_networks`, by default) may be a proxy for many: as
    its sessions are not bounded per address, neither are its tasks; each session has its own."""
    app, store = _held_tasks(HttpSecurity())

    async def scenario(url: str) -> None:
        async with _from("127.0.0.2") as one:
            sessions = [await open_session(one, url, SESSION) for _ in range(2)]
            for rid, session in enumerate(sessions * 2, start=2):
                assert (await _start(one, session, rid))["task"]["status"] == "working"
            refused = await _start(one, sessions[0], 9)
            assert refused["code"] == TASK_LIMIT and "this client has its limit of 2" in refused["message"]
            assert len(store) == 4

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))
