"""Fuzzing the tasks methods of a server that runs tools as tasks (tests/servers/tasks.py, a real
subprocess): 2025-11-25's core `tasks/*` over stdio, the 2026-07-28 extension's `tasks/get`,
`tasks/update` and `tasks/cancel` over HTTP, each with params made hostile in one place (wrong types,
missing or unknown ids, huge or negative ttl, garbage `inputResponses`). Every request gets exactly one
answer (a result or an error, never a 500) and the server goes on running tasks."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ..hostile import check_response, fuzz, hostile_params
from ..http_support import MODERN, messages_of, modern, modern_headers, serve

SCRIPT = str(Path(__file__).resolve().parent.parent / "servers" / "tasks.py")
SESSION = "2025-11-25"
EXTENSION = "io.modelcontextprotocol/tasks"
TTLS = st.sampled_from([-1, 0, 2**31, 2**63 - 1, 2**64, 10**30, 1.5, -(2**63), "60000", None])


class Peer:
    """The server over stdio: lines out, answers in (notifications skipped), with bounded waits."""

    def __init__(self, script: str = SCRIPT) -> None:
        self.process = subprocess.Popen(
            [sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.count = 0
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        init = {
            "protocolVersion": SESSION,
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "0"},
        }
        assert "result" in self.ask(b'"initialize"', json.dumps(init).encode())
        self.send(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(b"")

    def send(self, line: bytes) -> None:
        assert self.process.stdin is not None and self.process.poll() is None, "the server died"
        self.process.stdin.write(line.replace(b"\n", b" ") + b"\n")
        self.process.stdin.flush()

    def ask(self, method: bytes, params: bytes) -> dict[str, Any]:
        """Send one request; its one answer (anything else with its id fails)."""
        self.count += 1
        rid = f"f{self.count}"
        self.send(
            b'{"jsonrpc":"2.0","id":"'
            + rid.encode()
            + b'","method":'
            + method
            + b',"params":'
            + params
            + b"}"
        )
        deadline = time.monotonic() + 60
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            assert line, "the server closed its stdout"
            message = json.loads(line)
            if "method" in message:
                continue  # a notification (task status), or a request of the server's
            check_response(message)
            assert message.get("id") in (rid, None), f"an answer to another request: {message}"
            return message
        raise AssertionError(f"no answer to {method!r} within 60 s")

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(30)


@pytest.fixture(scope="module")
def peer() -> Iterator[Peer]:
    started = Peer()
    yield started
    started.stop()


def still_runs_tasks(peer: Peer) -> None:
    call = {"name": "slow", "arguments": {"seconds": 0}, "task": {"ttl": 60_000}}
    created = peer.ask(b'"tools/call"', json.dumps(call).encode())
    task_id = created["result"]["task"]["taskId"]
    answer = peer.ask(b'"tasks/result"', json.dumps({"taskId": task_id}).encode())
    assert answer["result"]["content"][0]["text"] == "done", answer


def test_hostile_params_of_the_core_tasks_methods(peer: Peer) -> None:
    @fuzz(60)
    @given(hostile_params(SESSION, only=("tasks/get", "tasks/result", "tasks/cancel", "tasks/list")))
    def check(case: tuple[str, bytes]) -> None:
        name, params = case
        answer = peer.ask(json.dumps(name).encode(), params)
        if "result" in answer:  # a hostile id that happens to name nothing cannot succeed, but a list can
            assert name == "tasks/list", answer

    check()
    still_runs_tasks(peer)


def test_hostile_task_members_of_a_call(peer: Peer) -> None:
    @fuzz(25)
    @given(TTLS)
    def check(ttl: Any) -> None:
        call = {"name": "slow", "arguments": {"seconds": 0}, "task": {"ttl": ttl}}
        answer = peer.ask(b'"tools/call"', json.dumps(call).encode())
        if "result" in answer:
            task = answer["result"]["task"]
            assert isinstance(task["ttl"], int) and 0 < task["ttl"] <= 2**53, (
                task
            )  # clamped, never echoed raw
        else:
            assert answer["error"]["code"] == -32602, answer

    check()
    still_runs_tasks(peer)


def test_twice_cancelled_and_failed_tasks_answer_as_the_spec_says(peer: Peer) -> None:
    held = peer.ask(b'"tools/call"', json.dumps({"name": "hold", "arguments": {}, "task": {}}).encode())
    task_id = held["result"]["task"]["taskId"]
    first = peer.ask(b'"tasks/cancel"', json.dumps({"taskId": task_id}).encode())
    assert first["result"]["status"] == "cancelled", first
    again = peer.ask(b'"tasks/cancel"', json.dumps({"taskId": task_id}).encode())
    assert again["error"]["code"] == -32602, again  # a terminal task cannot be cancelled
    result = peer.ask(b'"tasks/result"', json.dumps({"taskId": task_id}).encode())
    assert "error" in result, result
    broken = peer.ask(b'"tools/call"', json.dumps({"name": "broken", "arguments": {}, "task": {}}).encode())
    broken_id = broken["result"]["task"]["taskId"]
    failed = peer.ask(b'"tasks/result"', json.dumps({"taskId": broken_id}).encode())
    assert failed["result"]["isError"] is True, failed
    still_runs_tasks(peer)


# -- the 2026-07-28 extension over HTTP ------------------------------------------------------------------


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(SCRIPT) as found:
        yield found


def post(http: httpx.Client, url: str, name: str, params: bytes) -> list[dict[str, Any]]:
    body = b'{"jsonrpc":"2.0","id":"w","method":' + json.dumps(name).encode() + b',"params":' + params + b"}"
    headers = {"content-type": "application/json", **modern_headers({"method": name})}
    try:
        task_id = json.loads(params).get("taskId")
    except (ValueError, AttributeError, RecursionError):
        task_id = None
    if (
        isinstance(task_id, str)
        and task_id.isascii()
        and task_id.isprintable()
        and task_id.strip() == task_id
    ):
        headers["mcp-name"] = task_id
    response = http.post(url, content=body, headers=headers)
    assert response.status_code < 500, (response.status_code, body[:200], response.text[:300])
    answers = [m for m in messages_of(response) if "method" not in m]
    assert len(answers) == 1, answers
    return [check_response(m) for m in answers]


def test_hostile_params_of_the_extension_methods(url: str) -> None:
    with httpx.Client(timeout=60) as http:

        @fuzz(60)
        @given(hostile_params(MODERN, only=("tasks/get", "tasks/update", "tasks/cancel")))
        def check(case: tuple[str, bytes]) -> None:
            post(http, url, *case)

        check()
        caps = {"extensions": {EXTENSION: {}}}
        message = modern("c", "tools/call", {"name": "slow", "arguments": {"seconds": 0}})
        message["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"] = caps
        response = http.post(url, json=message, headers=modern_headers(message))
        (created,) = messages_of(response)
        task_id = created["result"]["taskId"]
        for garbage in (b"5", b'"x"', b"[]", b"null", b'{"a":{"action":"bogus"}}'):
            params = b'{"taskId":' + json.dumps(task_id).encode() + b',"inputResponses":' + garbage + b"}"
            post(http, url, "tasks/update", params)
        for _ in range(2):  # cancelling twice: both answered
            post(http, url, "tasks/cancel", json.dumps({"taskId": task_id}).encode())
