"""The cap on Streamable HTTP sessions and their idle expiry, against mcpbind's ASGI app under a real
uvicorn on loopback: past `HttpSecurity.max_sessions` an `initialize` is refused 503 with Retry-After;
once sessions have been idle longer than `session_idle_timeout`, an `initialize` at the cap ends them
and is served, while a session in use lives on. Per client (`max_sessions_per_client`; clients on
loopback addresses of their own, or principals): at its cap, a client's `initialize` ends its own
longest-idle session not in use, and no one else's; all in use, 503."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import Any

import httpx
import pytest

from mcpbind.server import Server
from mcpbind.transports.http import HttpApp, HttpSecurity, MemorySessionStore, SessionState

from ..http_support import BOTH, Session, call, initialize, open_session, request, serve_in_process

REVISION = "2025-11-25"


def _app() -> HttpApp:
    server = Server("limits", "1.0.0")

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    return HttpApp(server, security=HttpSecurity(max_sessions=3, session_idle_timeout=0.6))


def test_sessions_are_capped_and_idle_ones_give_way() -> None:
    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            kept, *idle = [await open_session(http, url, REVISION) for _ in range(3)]
            refused = await http.post(url, json=initialize(REVISION), headers={"accept": BOTH})
            assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
            assert refused.json()["error"]["message"] == "Too many sessions"
            # `kept` is used all along; the other two are idle past their timeout (and past the
            # second between two looks for idle sessions at the cap).
            for n in range(6):
                await asyncio.sleep(0.25)
                ping = await http.post(url, json=request(10 + n, "ping"), headers=kept.headers())
                assert ping.status_code == 200, ping.text
            fresh = await open_session(http, url, REVISION)
            assert fresh.id not in {kept.id, *(s.id for s in idle)}
            for gone in idle:
                late = await http.post(url, json=request(99, "ping"), headers=gone.headers())
                assert late.status_code == 404, late.text
            alive = await http.post(url, json=request(100, "ping"), headers=kept.headers())
            assert alive.status_code == 200 and alive.json()["result"] == {}

    with serve_in_process(_app()) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


# -- per client: `HttpSecurity.max_sessions_per_client` ----------------------------------------------


def _capped(per_client: int, **security: Any) -> tuple[HttpApp, threading.Event]:
    """An app capping each client at `per_client` sessions, with a tool `hold` that runs until the
    returned event is set (20 s at most): a session with a request in flight."""
    server = Server("limits", "1.0.0")
    release = threading.Event()

    @server.tool()
    def echo(text: str) -> str:
        """Say `text` back."""
        return text

    @server.tool()
    async def hold() -> str:
        """Run until released."""
        for _ in range(1000):
            if release.is_set():
                break
            await asyncio.sleep(0.02)
        return "released"

    # (Its clients are on loopback, which is not bounded per client by default.)
    bounds = HttpSecurity(max_sessions_per_client=per_client, uncapped_networks=(), **security)
    return HttpApp(server, security=bounds), release


def _from(address: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (a loopback address of its own)."""
    return httpx.AsyncClient(timeout=10, transport=httpx.AsyncHTTPTransport(local_address=address))


async def _status(http: httpx.AsyncClient, session: Session, rid: int) -> int:
    return (await http.post(session.url, json=request(rid, "ping"), headers=session.headers())).status_code


def test_a_client_at_its_cap_ends_its_own_longest_idle_session() -> None:
    app, _ = _capped(3)

    async def scenario(url: str) -> None:
        async with _from("127.0.0.1") as one, _from("127.0.0.2") as two:
            theirs = [await open_session(two, url, REVISION) for _ in range(2)]
            first, second, third = [await open_session(one, url, REVISION) for _ in range(3)]
            assert await _status(one, first, 2) == 200  # used since: `second` is now the longest idle
            fourth = await open_session(one, url, REVISION)
            assert await _status(one, second, 3) == 404
            for kept in (first, third, fourth):
                assert await _status(one, kept, 4) == 200
            for other in theirs:  # another client's sessions are untouched
                assert await _status(two, other, 5) == 200
            # The evicted session's client opens a new one, as after any 404; the cap holds.
            await open_session(one, url, REVISION)
            held = [s for s in app.sessions.values() if s.client == "127.0.0.1"]
            assert len(held) == 3 and len(app.sessions) == 5

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


def test_with_a_token_each_principal_is_capped_apart_whatever_its_address() -> None:
    async def verify(token: str) -> str | None:
        return {"alice-token": "alice", "bob-token": "bob"}.get(token)

    app, _ = _capped(2, verify_token=verify)

    async def scenario(url: str) -> None:
        async with _from("127.0.0.1") as http:
            alice = {"authorization": "Bearer alice-token"}
            bob = {"authorization": "Bearer bob-token"}

            async def open_as(who: dict[str, str]) -> str:
                opened = await http.post(url, json=initialize(REVISION), headers={"accept": BOTH, **who})
                assert opened.status_code == 200, opened.text
                return opened.headers["mcp-session-id"]

            async def ping(who: dict[str, str], sid: str) -> int:
                headers = {"accept": BOTH, "mcp-session-id": sid, "mcp-protocol-version": REVISION, **who}
                return (await http.post(url, json=request(7, "ping"), headers=headers)).status_code

            bobs = [await open_as(bob) for _ in range(2)]
            alices = [await open_as(alice) for _ in range(3)]  # the third ends alice's first
            assert [await ping(alice, sid) for sid in alices] == [404, 200, 200]
            assert [await ping(bob, sid) for sid in bobs] == [200, 200]  # same address, another principal
            bobs.append(await open_as(bob))  # bob's cap is bob's own
            assert [await ping(bob, sid) for sid in bobs] == [404, 200, 200]
            assert [await ping(alice, sid) for sid in alices] == [404, 200, 200]

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


def test_a_session_in_use_is_not_ended_and_all_in_use_is_503() -> None:
    app, release = _capped(2)

    async def scenario(url: str) -> None:
        async with _from("127.0.0.1") as http:
            listening, calling = [await open_session(http, url, REVISION) for _ in range(2)]
            get_headers = listening.headers(accept="text/event-stream")
            async with http.stream("GET", url, headers=get_headers) as stream:
                assert stream.status_code == 200
                call_task = asyncio.create_task(
                    http.post(url, json=call(3, "hold"), headers=calling.headers(), timeout=30)
                )
                for _ in range(500):  # until the call is being answered
                    if app.sessions[calling.id].streams:
                        break
                    await asyncio.sleep(0.01)
                # Both in use (a GET stream open, a request in flight): nothing gives way.
                refused = await http.post(url, json=initialize(REVISION), headers={"accept": BOTH})
                assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
                assert "this client" in refused.json()["error"]["message"]
                release.set()
                answered = await call_task
                assert answered.status_code == 200 and "released" in answered.text
                # Now idle, `calling` gives way, though `listening` has been idle longer.
                fresh = await open_session(http, url, REVISION)
                assert await _status(http, calling, 4) == 404
                assert await _status(http, fresh, 5) == 200
                assert listening.id in app.sessions

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


def test_loopback_clients_are_not_capped_by_default_but_a_principal_is() -> None:
    """By default a client on loopback (a local process, or a reverse proxy on this machine speaking
    for many) is not bounded by its address: its sessions stay, past the cap. A principal is bounded
    wherever it comes from. A network list that is no list of networks is refused when set."""

    async def verify(token: str) -> str | None:
        return "alice" if token == "alice-token" else None

    anonymous = HttpApp(Server("limits", "1.0.0"), security=HttpSecurity(max_sessions_per_client=2))
    signed = HttpApp(
        Server("limits", "1.0.0"), security=HttpSecurity(max_sessions_per_client=2, verify_token=verify)
    )
    alice = {"authorization": "Bearer alice-token"}

    async def scenario(url: str, who: dict[str, str]) -> list[int]:
        async with _from("127.0.0.1") as http:
            sids = []
            for _ in range(4):
                opened = await http.post(url, json=initialize(REVISION), headers={"accept": BOTH, **who})
                assert opened.status_code == 200, opened.text
                sids.append(opened.headers["mcp-session-id"])
            statuses = []
            for sid in sids:
                headers = {"accept": BOTH, "mcp-session-id": sid, "mcp-protocol-version": REVISION, **who}
                statuses.append((await http.post(url, json=request(7, "ping"), headers=headers)).status_code)
            return statuses

    with serve_in_process(anonymous) as url:
        assert asyncio.run(asyncio.wait_for(scenario(url, {}), 60)) == [200, 200, 200, 200]
    with serve_in_process(signed) as url:
        assert asyncio.run(asyncio.wait_for(scenario(url, alice), 60)) == [404, 404, 200, 200]
    with pytest.raises(ValueError):
        HttpSecurity(uncapped_networks=("not a network",))


def test_the_global_cap_still_refuses_another_client_but_a_capped_one_replaces() -> None:
    app, _ = _capped(2, max_sessions=3)

    async def scenario(url: str) -> None:
        async with _from("127.0.0.1") as one, _from("127.0.0.2") as two:
            mine = [await open_session(one, url, REVISION) for _ in range(2)]
            await open_session(two, url, REVISION)
            refused = await two.post(url, json=initialize(REVISION), headers={"accept": BOTH})
            assert refused.status_code == 503 and refused.json()["error"]["message"] == "Too many sessions"
            # A client at its own cap replaces one of its sessions: the table does not grow.
            await open_session(one, url, REVISION)
            assert await _status(one, mine[0], 6) == 404 and len(app.sessions) == 3

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))


class _SlowStore(MemorySessionStore):
    """The in-memory store, answering a save after a wait, as a store over the network does."""

    async def save(self, session_id: str, state: SessionState) -> None:
        await asyncio.sleep(0.05)
        await super().save(session_id, state)


class _SharedMemoryStore(MemorySessionStore):
    """The in-memory store, marked shared: each worker reads it on every request, as Redis is read."""

    shared = True


def _consistent(app: HttpApp, cap: int | None) -> None:
    """The per-client table holds exactly the session table's sessions, each under its own client."""
    table = app.table
    by_client: dict[str, set[str]] = {}
    for sid, session in table.sessions.items():
        by_client.setdefault(session.client, set()).add(sid)
    assert {c: set(held) for c, held in table.clients.held.items()} == by_client
    for held in table.clients.held.values():
        assert all(table.sessions[sid] is session for sid, session in held.items())
        assert cap is None or len(held) <= cap


@pytest.mark.parametrize("shared", [False, True])
def test_the_per_client_table_follows_every_initialize_delete_and_expiry(shared: bool) -> None:
    """Random initializes (four clients: IPv4, two addresses of one IPv6 /64, no address), pings,
    DELETEs and expiries on two workers, checked after each step against the session table (and, with
    one worker's own store, the cap; with a shared one, a session is taken up from it by either)."""
    cap = 3
    clients: list[tuple[str, int] | None] = [("192.0.2.1", 1), ("2001:db8::1", 1), ("2001:db8::2", 2), None]

    async def main(seed: int) -> None:
        rng = random.Random(seed)
        store = _SharedMemoryStore() if shared else None
        server = Server("limits", "1.0.0")
        security = HttpSecurity(max_sessions_per_client=cap)
        workers = [HttpApp(server, security=security, session_store=store) for _ in range(2 if shared else 1)]
        known: list[tuple[str, int]] = []  # (session id, client index)
        https = {
            (w, c): httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=peer),  # type: ignore[arg-type]  # None: no address
                base_url="http://127.0.0.1",
            )
            for w, app in enumerate(workers)
            for c, peer in enumerate(clients)
        }
        for _ in range(120):
            op = rng.random()
            w = rng.randrange(len(workers))
            if op < 0.45 or not known:
                c = rng.randrange(len(clients))
                opened = await https[w, c].post("/mcp", json=initialize(REVISION), headers={"accept": BOTH})
                assert opened.status_code == 200, opened.text
                known.append((opened.headers["mcp-session-id"], c))
            else:
                sid, c = rng.choice(known)
                headers = {"accept": BOTH, "mcp-session-id": sid, "mcp-protocol-version": REVISION}
                if op < 0.7:
                    pinged = await https[w, c].post("/mcp", json=request(1, "ping"), headers=headers)
                    assert pinged.status_code in (200, 404)
                elif op < 0.85:
                    ended = await https[w, c].delete("/mcp", headers=headers)
                    assert ended.status_code in (200, 404)
                else:  # some sessions idle past their timeout, and the sweep that ends them
                    table = workers[w].table
                    for session in rng.sample(list(table.sessions.values()), k=min(2, len(table.sessions))):
                        session.last_seen -= 2 * security.session_idle_timeout
                    table.sweep(time.monotonic())
            await asyncio.sleep(0)  # (the ends of swept or evicted sessions run)
            for app in workers:
                _consistent(app, None if shared else cap)
        for app in workers:
            await app.table.shutdown()
            assert not app.table.clients.held and not app.sessions
        for http in https.values():
            await http.aclose()

    for seed in range(4):
        asyncio.run(asyncio.wait_for(main(seed), 60))


def test_initializes_at_once_do_not_take_the_table_past_its_cap() -> None:
    """The cap is checked again where the session is held, with no wait between: initializes answered
    at the same time (each waits on its store, as on Redis) cannot open more than `max_sessions`."""
    app = HttpApp(
        Server("limits", "1.0.0"), security=HttpSecurity(max_sessions=4), session_store=_SlowStore()
    )

    async def scenario(url: str) -> None:
        async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=32)) as http:
            answers = await asyncio.gather(
                *(http.post(url, json=initialize(REVISION), headers={"accept": BOTH}) for _ in range(24))
            )
            statuses = sorted(a.status_code for a in answers)
            assert statuses.count(200) == 4 and statuses.count(503) == 20, statuses
            assert len(app.sessions) == 4
            for refused in (a for a in answers if a.status_code == 503):
                assert refused.headers["retry-after"] == "5"

    with serve_in_process(app) as url:
        asyncio.run(asyncio.wait_for(scenario(url), 60))
