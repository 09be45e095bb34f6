"""The `mcpbind` command against a real server process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SERVER = [sys.executable, str(Path(__file__).resolve().parents[1] / "servers" / "full.py")]


def mcpbind(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbind", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_inspect_prints_the_negotiated_revision_and_what_the_server_offers() -> None:
    done = mcpbind("inspect", "--", *SERVER)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "revision: 2026-07-28 (stateless)" in out
    assert '"name": "full"' in out and "tools (" in out and "  echo  Say `text` back." in out
    assert "memo://hello" in out and "memo://items/{item}" in out and "  greet  Greet someone." in out
    legacy = mcpbind("inspect", "--mode", "legacy", "--", *SERVER)
    assert "revision: 2025-11-25 (stateful)" in legacy.stdout


def test_call_prints_the_result_as_json() -> None:
    done = mcpbind("call", "add", '{"a": 1, "b": 2}', "--mode", "2024-11-05", "--", *SERVER)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert json.loads(result["content"][0]["text"]) == {"total": 3, "terms": [1, 2]}
    assert "structuredContent" not in result  # 2024-11-05 has no structured content


def test_failures_exit_non_zero_with_a_clear_message() -> None:
    tool_error = mcpbind("call", "fail", '{"message": "boom"}', "--", *SERVER)
    assert tool_error.returncode == 1 and json.loads(tool_error.stdout)["isError"] is True
    unknown = mcpbind("call", "nope", "--", *SERVER)
    assert unknown.returncode == 1 and "error -32602: Unknown tool: nope" in unknown.stderr
    bad_json = mcpbind("call", "echo", "{oops", "--", *SERVER)
    assert bad_json.returncode != 0 and "not JSON" in bad_json.stderr
    no_server = mcpbind("inspect")
    assert no_server.returncode == 2 and "after --" in no_server.stderr


def test_the_everything_example_serves_over_stdio() -> None:
    example = [
        sys.executable,
        str(Path(__file__).resolve().parents[2] / "examples" / "everything_server.py"),
    ]
    for mode in ("2025-11-25", "2026-07-28"):
        done = mcpbind("inspect", "--mode", mode, "--", *example, "--transport", "stdio")
        assert done.returncode == 0, done.stderr
        assert "tools (37)" in done.stdout and "test://template/{id}/data" in done.stdout
    called = mcpbind("call", "test_simple_text", "--", *example)
    assert json.loads(called.stdout)["content"][0]["text"] == "This is a simple text response for testing."


def test_inspect_and_call_over_http() -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    example = Path(__file__).resolve().parents[2] / "examples" / "everything_server.py"
    server = subprocess.Popen([sys.executable, str(example), "--transport", "http", "--port", str(port)])
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
            except urllib.error.HTTPError:
                break  # the endpoint answers (a GET without a session is refused)
            except OSError:
                time.sleep(0.05)
        done = mcpbind("inspect", url)
        assert done.returncode == 0, done.stderr
        assert "revision: 2026-07-28 (stateless)" in done.stdout and "tools (37)" in done.stdout
        legacy = mcpbind("call", "test_simple_text", url, "--mode", "legacy")
        assert legacy.returncode == 0, legacy.stderr
        assert (
            json.loads(legacy.stdout)["content"][0]["text"] == "This is a simple text response for testing."
        )
    finally:
        server.terminate()
        server.wait(10)
