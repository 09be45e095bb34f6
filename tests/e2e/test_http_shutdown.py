"""A Streamable HTTP server stopped with requests in flight (`Server.run_http`, SIGTERM): uvicorn
stops accepting, lets them finish within its grace period, then cancels what still runs. Each POST
so cancelled got a bare 500 and the log an "Exception in ASGI application" traceback (a GET stream
too), and the process died of the signal (status -15). Now each request gets the JSON-RPC error
that says the server is shutting down (its JSON body, its SSE stream's last event, or in its
batch's array), its handler is cancelled (its `finally` runs), a GET stream just ends, and the
process exits 0 with no traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from ..http_support import (
    BOTH,
    SERVERS,
    _die_with_parent,
    call,
    free_port,
    initialize,
    messages_of,
    modern,
    modern_headers,
)

STOPPING = str(SERVERS / "stopping.py")
GRACE = 2.0
"""The server's `timeout_graceful_shutdown` (tests/servers/stopping.py)."""


@pytest.mark.parametrize("own", [False, True], ids=["run_http", "own_uvicorn"])
def test_sigterm_answers_each_request_still_in_flight_and_exits_0(own: bool) -> None:
    """`own`: `http_app()` under the application's own `uvicorn.run`: answered alike, but its
    process ends as uvicorn ends it on SIGTERM (killed by the signal, raised again)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    process = subprocess.Popen(
        [
            sys.executable,
            STOPPING,
            "--http",
            str(port),
            "--grace",
            str(GRACE),
            *(["--own-uvicorn"] if own else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                httpx.get(url.replace("/mcp", "/up"), timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.05)
        opened = httpx.post(url, json=initialize("2025-11-25"), headers={"accept": BOTH}, timeout=10)
        session = {
            "mcp-session-id": opened.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-11-25",
            "accept": BOTH,
        }
        note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert httpx.post(url, json=note, headers=session, timeout=10).status_code == 202

        progress = {"_meta": {"progressToken": "p"}}
        sent: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        # A session's calls: a plain tool (carried on from its first step), a tool with a Context
        # answered as JSON, one whose progress made its answer an SSE stream, one done in the grace.
        for rid, (name, tag, extra) in enumerate(
            [
                ("wait", "s-plain", {}),
                ("wait_with", "s-json", {}),
                ("wait_with", "s-sse", progress),
                ("wait", "s-quick", {}),
            ],
            start=10,
        ):
            seconds = 1.5 if tag.endswith("quick") else 60
            sent[tag] = (call(rid, name, {"seconds": seconds, "tag": tag}, **extra), session)
        # The stateless era's: a call answered directly (no connection), the others on a connection.
        for rid, (name, tag, extra) in enumerate(
            [("wait", "m-plain", {}), ("wait_with", "m-json", {}), ("wait_with", "m-sse", progress)],
            start=20,
        ):
            message = modern(
                rid, "tools/call", {"name": name, "arguments": {"seconds": 60, "tag": tag}, **extra}
            )
            sent[tag] = (message, modern_headers(message))

        # A batch of a 2025-03-26 session (answered together: an array), and the first session's GET stream.
        older = httpx.post(url, json=initialize("2025-03-26"), headers={"accept": BOTH}, timeout=10)
        batched = {
            "mcp-session-id": older.headers["mcp-session-id"],
            "mcp-protocol-version": "2025-03-26",
            "accept": BOTH,
        }
        assert httpx.post(url, json=note, headers=batched, timeout=10).status_code == 202
        batch = [call(rid, "wait", {"seconds": 60, "tag": f"b-{rid}"}) for rid in (30, 31)]

        got: dict[str, httpx.Response | BaseException] = {}

        def post(tag: str) -> None:
            try:
                if tag == "batch":
                    got[tag] = httpx.post(url, json=batch, headers=batched, timeout=20)
                elif tag == "get":
                    listen = {**session, "accept": "text/event-stream"}
                    got[tag] = httpx.get(url, headers=listen, timeout=20)
                else:
                    message, headers = sent[tag]
                    got[tag] = httpx.post(url, json=message, headers=headers, timeout=20)
            except BaseException as exc:  # (said by the assertions below)
                got[tag] = exc

        posting = [threading.Thread(target=post, args=(tag,)) for tag in [*sent, "batch", "get"]]
        for thread in posting:
            thread.start()
        time.sleep(1.0)  # every call is in its tool (the quick one ends 0.5 s after the signal)
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(GRACE + 8) == (-signal.SIGTERM if own else 0)
        took = time.monotonic() - stopped
        for thread in posting:
            thread.join(10)
        out, err = process.communicate(timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(5)

    stopping = {"code": -32000, "message": "Server shutting down"}
    stderr = err.decode()
    assert "Traceback" not in stderr and "Exception in ASGI application" not in stderr, stderr
    assert took < GRACE + 6, took
    for tag, (message, _) in sent.items():
        response = got[tag]
        assert isinstance(response, httpx.Response), (tag, response)
        assert response.status_code == 200, (tag, response.status_code, response.text)
        answers = messages_of(response)
        assert answers and answers[-1]["id"] == message["id"], (tag, answers)
        if tag.endswith("quick"):
            assert answers[-1]["result"]["content"][0]["text"] == f"waited {tag}"
        else:
            assert answers[-1]["error"] == stopping, (tag, answers)
        if tag.endswith("sse"):  # (the error as the stream's last event, after what it sent)
            assert response.headers["content-type"].startswith("text/event-stream"), tag
            assert answers[0]["method"] == "notifications/progress", (tag, answers)
    response = got["batch"]
    assert isinstance(response, httpx.Response) and response.status_code == 200, response
    assert response.json() == [{"jsonrpc": "2.0", "id": rid, "error": stopping} for rid in (30, 31)]
    response = got["get"]  # (ended with the server: no error to say on a stream of no request)
    assert isinstance(response, httpx.Response) and response.status_code == 200, response
    # Every handler ended through its `finally`, cancelled or done.
    tags = [*sent, "b-30", "b-31"]
    ended = [line for line in out.decode().split("\n") if line.startswith("finally ")]  # (not the access log)
    assert sorted(ended) == sorted(f"finally {tag}" for tag in tags), out
