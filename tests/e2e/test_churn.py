"""Long, messy use in a few seconds: what tests/soak/churn.py and tests/soak/client_churn.py found,
each against a real server (tests/servers/churn.py under uvicorn, in its own process), whose `/stats`
route counts what it holds and whose `/stats?expire` ends its sessions as the idle timeout would."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import subprocess
import sys
import time
from typing import Any

import httpx

from mcpbind.client import Client
from mcpbind.client.options import Mode

from ..http_support import BOTH, SERVERS, initialize, serve
from ..soak.churn import soak

CHURN = str(SERVERS / "churn.py")


def stats(url: str, query: str = "") -> dict[str, Any]:
    return dict(json.loads(httpx.get(url.replace("/mcp", "/stats") + query, timeout=10).text))


def test_calls_refused_together_for_an_ended_session_go_on_in_one_new_session() -> None:
    """The server ended the session while calls were on their way: each is refused (404, or 400 for
    one sent with no session while the first started a new one). The first to see the 404 started a
    new session and sent its call again; the others failed with "Session not found" (7 of 8 here).
    Now every refused call waits for that one new session and is sent again in it."""
    with serve(CHURN) as url:

        async def main() -> None:
            async with Client.http(url, mode="2025-11-25") as client:
                await client.call_tool("echo", {"text": "first"})
                for round in range(3):
                    stats(url, "?expire")
                    results = await asyncio.gather(
                        *(client.call_tool("echo", {"text": f"{round}-{i}"}, timeout=10) for i in range(8))
                    )
                    assert [getattr(r.content[0], "text", None) for r in results] == [
                        f"{round}-{i}" for i in range(8)
                    ]
                    assert stats(url)["sessions"] == 1  # one new session, not one per refused call

        asyncio.run(asyncio.wait_for(main(), 60))


def test_a_call_cancelled_before_its_answer_began_leaves_no_timeout_for_no_one() -> None:
    """A call cancelled while its POST still waited for the response to begin (a tool that had sent
    nothing yet) was forgotten, but its future stayed in the timeout queue: at its deadline it was
    failed with a TimeoutError that no one awaited any more ("Future exception was never
    retrieved", once per cancelled call)."""
    with serve(CHURN) as url:

        async def main() -> list[str]:
            unretrieved: list[str] = []
            loop = asyncio.get_running_loop()
            loop.set_exception_handler(lambda _, context: unretrieved.append(context["message"]))
            async with Client.http(url, mode="2025-11-25") as client:
                calls = [asyncio.ensure_future(client.call_tool("hang", {}, timeout=0.5)) for _ in range(4)]
                await asyncio.sleep(0.1)
                for call in calls:
                    call.cancel()
                await asyncio.gather(*calls, return_exceptions=True)
                await asyncio.sleep(1.0)  # past the cancelled calls' deadlines
                gc.collect()
                await asyncio.sleep(0)
            return unretrieved

        assert asyncio.run(asyncio.wait_for(main(), 60)) == []


def test_a_short_idle_timeout_ends_sessions_about_that_long_after_their_last_request() -> None:
    """Idle sessions were looked for once a minute whatever the idle timeout: with a timeout of a
    second, abandoned sessions (and what they hold) stayed for up to a minute. Now they are looked for
    as often as the timeout, if shorter than a minute."""
    idle = 1.0
    with serve(CHURN, "--idle", str(idle)) as url:

        async def main() -> None:
            async with Client.http(url, mode="2025-11-25") as client:
                await client.call_tool("echo", {"text": "first"})
            started = time.monotonic()
            for _ in range(5):  # never ended by their clients (`Client.close` sends DELETE: not here)
                opened = httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
                assert opened.status_code == 200
            counted = stats(url)["sessions"]
            if time.monotonic() - started < idle:  # a loaded machine may take longer than the timeout
                assert counted == 5
            # Ended within the timeout plus one look for idle sessions (as often as the timeout).
            await asyncio.sleep(2 * idle + 0.4)
            # (Ended with no request since: this one's own session is new.)
            httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
            assert stats(url)["sessions"] == 1

        asyncio.run(asyncio.wait_for(main(), 60))


def test_messy_clients_leave_nothing_behind_on_the_server() -> None:
    """Every scenario of tests/soak/churn.py (clients that leave mid-request, mid-body, mid-headers,
    cancellations racing answers, calls that never return, elicitations never answered, floods,
    resumed streams, dropped GET, listen and WebSocket streams, abandoned sessions), a few hundred
    cycles: once the sessions are ended the server holds no more tasks, fds, connections or memory
    than before, and every scenario went as its client expects. (`nox -s soak` runs 10,000.)"""
    report = asyncio.run(asyncio.wait_for(soak([150, 300]), 240))
    assert report.problems() == []


def test_calls_cancelled_as_the_session_starts_are_cancelled_at_once() -> None:
    """The first calls of a session wait (briefly) for its GET stream to open. That wait was
    `asyncio.wait_for`, which in Python 3.11 loses a cancellation that comes as the wait ends: a call
    cancelled then went on, and ended only at its own timeout (4 of the first 8 calls here)."""
    with serve(CHURN) as url:

        async def main() -> list[str]:
            late: list[str] = []
            for _ in range(3):
                async with Client.http(url, mode="2025-11-25") as client:

                    async def cancelled(delay: float) -> None:
                        call = asyncio.ensure_future(client.call_tool("hang", {}, timeout=20))
                        await asyncio.sleep(delay)
                        call.cancel()
                        try:
                            await asyncio.wait_for(call, 5)
                        except asyncio.CancelledError:
                            return
                        except Exception as exc:
                            late.append(repr(exc))

                    await asyncio.gather(*(cancelled(0.01 * (i % 2)) for i in range(8)))
            return late

        assert asyncio.run(asyncio.wait_for(main(), 60)) == []


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_ends_a_stdio_server_with_calls_in_flight_quietly() -> None:
    """SIGINT to `Server.run_stdio` (Ctrl-C, or a host stopping its server so) with calls in flight
    ended it, but with a KeyboardInterrupt traceback on stderr. Now it ends within a bounded time,
    its calls cancelled, with status 130 and nothing on stderr."""
    script = f"import sys; sys.path.insert(0, {str(SERVERS)!r}); from full import server; server.run_stdio()"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # A process started with SIGINT ignored (a shell's background job, as CI may run this suite)
        # passes that on, and Python then keeps it ignored: the server is given SIGINT's default, as
        # a server started from a terminal has it.
        preexec_fn=_sigint_default,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.stdin.write(json.dumps(initialize("2025-11-25", rid=0)).encode() + b"\n")
        process.stdin.flush()
        assert b'"result"' in process.stdout.readline()
        process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        for rid in range(3):
            call = {"jsonrpc": "2.0", "id": rid + 1, "method": "tools/call"}
            call["params"] = {"name": "slow", "arguments": {"seconds": 60, "tag": str(rid)}}
            process.stdin.write(json.dumps(call).encode() + b"\n")
        process.stdin.flush()
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 130
        assert process.stderr.read() == b""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)


def test_a_session_whose_client_reads_its_get_stream_is_not_idle() -> None:
    """A client that only listens (its GET stream open, no request for longer than the idle
    timeout) had its session ended as idle, its stream cut; the sweep now passes over a session with
    a response open, and a session is idle from when its GET stream ends."""
    with serve(CHURN, "--idle", "0.5") as url:
        opened = httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
        session = {"mcp-session-id": opened.headers["mcp-session-id"], "mcp-protocol-version": "2025-11-25"}
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert httpx.post(url, json=note, headers={**session, "accept": BOTH}, timeout=10).status_code == 202
        with httpx.stream("GET", url, headers={**session, "accept": "text/event-stream"}, timeout=10) as get:
            assert get.status_code == 200
            time.sleep(1.2)
            # (A session opened meanwhile: the listening one is still there beside it.)
            httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
            assert stats(url)["sessions"] == 2
        time.sleep(1.2)  # the stream closed: idle from then
        httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
        assert stats(url)["sessions"] == 1


def test_a_client_leaving_with_calls_in_flight_ends_them_at_once() -> None:
    """`Client` exiting its context with calls in flight: on the stateless wire the HTTP client, closed,
    saw each call's connection close before any answer, took it for a kept-alive connection the
    server had closed, and sent the call again on a new one: the calls (and the close) ended only at
    the request timeout. Now a closed HTTP client sends nothing more: each call fails at once with
    SessionClosed, in either era."""
    with serve(CHURN) as url:

        async def main(mode: Mode) -> tuple[float, list[str]]:
            async with Client.http(url, mode=mode, request_timeout=20) as client:
                calls = [asyncio.ensure_future(client.call_tool("hang", {})) for _ in range(3)]
                await asyncio.sleep(0.3)
                started = time.monotonic()
            ended = await asyncio.gather(*calls, return_exceptions=True)
            return time.monotonic() - started, [type(e).__name__ for e in ended]

        modes: tuple[Mode, ...] = ("2025-11-25", "2026-07-28")
        for mode in modes:
            took, ended = asyncio.run(asyncio.wait_for(main(mode), 60))
            assert ended == ["SessionClosed"] * 3, (mode, ended)
            assert took < 5, (mode, took)
