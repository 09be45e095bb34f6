"""The `mcpbind` command against a real server process."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from mcpbind.protocol import revisions

from ..http_support import free_port, wait_for_port

SERVER = [sys.executable, str(Path(__file__).resolve().parents[1] / "servers" / "full.py")]


def mcpbind(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbind", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_inspect_prints_the_negotiated_revision_and_what_the_server_offers() -> None:
    done = mcpbind("inspect", "--", *SERVER)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"revision: {revisions.MODERN[-1]} (stateless)" in out
    assert '"name": "full"' in out and "tools (" in out and "  echo  Say `text` back." in out
    assert "memo://hello" in out and "memo://items/{item}" in out and "  greet  Greet someone." in out
    legacy = mcpbind("inspect", "--mode", "legacy", "--", *SERVER)
    assert f"revision: {revisions.STATEFUL[-1]} (stateful)" in legacy.stdout


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
    assert unknown.returncode == 1 and "error -32602: Unknown tool: 'nope'" in unknown.stderr
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
        assert f"revision: {revisions.MODERN[-1]} (stateless)" in done.stdout and "tools (37)" in done.stdout
        legacy = mcpbind("call", "test_simple_text", url, "--mode", "legacy")
        assert legacy.returncode == 0, legacy.stderr
        assert (
            json.loads(legacy.stdout)["content"][0]["text"] == "This is a simple text response for testing."
        )
    finally:
        server.terminate()
        server.wait(10)


def test_read_prompt_and_complete_print_text_or_json() -> None:
    read = mcpbind("read", "memo://hello", "--", *SERVER)
    assert read.returncode == 0 and read.stdout == "hello world\n", read.stderr
    as_json = json.loads(mcpbind("read", "memo://items/a", "--json", "--", *SERVER).stdout)
    assert as_json["contents"][0]["uri"] == "memo://items/a"
    prompt = mcpbind("prompt", "greet", "name=Bo", "style=formal", "--mode", "2025-06-18", "--", *SERVER)
    assert prompt.returncode == 0 and "user: Greet Bo in a formal way." in prompt.stdout, prompt.stderr
    complete = mcpbind("complete", "--prompt", "greet", "name", "al", "--", *SERVER)
    assert complete.stdout.split() == ["alice", "albert"], complete.stderr
    unknown = mcpbind("read", "memo://nope", "--", *SERVER)
    assert unknown.returncode == 1 and "memo://nope" in unknown.stderr


def test_inspect_json_is_one_object_for_scripts() -> None:
    done = mcpbind("inspect", "--json", "--mode", "2025-11-25", "--", *SERVER)
    data = json.loads(done.stdout)
    assert data["revision"] == "2025-11-25" and data["stateless"] is False
    assert data["serverInfo"]["name"] == "full" and "tools" in data["capabilities"]
    assert {"echo", "add"} <= {t["name"] for t in data["tools"]}
    assert [t["uriTemplate"] for t in data["resourceTemplates"]] == ["memo://items/{item}"]
    assert data["tools"][0]["inputSchema"]["type"] == "object"


def test_progress_and_logs_go_to_stderr_as_plain_lines_when_not_a_terminal() -> None:
    done = mcpbind("call", "progress", "-a", "steps=3", "--", *SERVER)
    assert done.returncode == 0 and json.loads(done.stdout)["content"][0]["text"] == "progressed"
    assert "progress: 1/3 step 1" in done.stderr and "progress: 3/3 step 3" in done.stderr
    logged = mcpbind("call", "shout", "--log-level", "debug", "--mode", "2025-11-25", "--", *SERVER)
    assert "[debug] quiet" in logged.stderr and '[warning full] {"loud": true}' in logged.stderr
    assert json.loads(logged.stdout)["content"][0]["text"] == "logged"  # stdout: the result only


def test_the_progress_bar_draws_on_a_terminal() -> None:
    import io

    from mcpbind.cli.output import Reporter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    reporter = Reporter(screen, bar_width=10)
    asyncio.run(reporter.progress(5, 10, "half"))
    reporter.done()
    assert screen.getvalue() == "\r\x1b[K[#####.....]  50% half\n"


def test_run_serves_a_server_file_over_stdio_and_http(tmp_path: Path) -> None:
    over_stdio = mcpbind("inspect", "--", sys.executable, "-m", "mcpbind", "run", SERVER[1])
    assert over_stdio.returncode == 0 and "  echo  Say `text` back." in over_stdio.stdout, over_stdio.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mcpbind", "run", SERVER[1], "--transport", "http", "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    try:
        asyncio.run(wait_for_port(port))
        done = mcpbind(
            "call", "echo", '{"text": "hi"}', f"http://127.0.0.1:{port}/mcp", "--header", "X-Trace: 1"
        )
        assert done.returncode == 0 and json.loads(done.stdout)["content"][0]["text"] == "hi", done.stderr
    finally:
        server.terminate()
        server.wait(10)
    none = tmp_path / "empty.py"
    none.write_text("x = 1\n")
    refused = mcpbind("run", str(none))
    assert refused.returncode == 1 and "must define one mcpbind Server; it defines none" in refused.stderr


def test_config_prints_a_desktop_client_entry(tmp_path: Path) -> None:
    file_entry = json.loads(mcpbind("config", SERVER[1], "--env", "TOKEN=x").stdout)
    assert file_entry == {
        "mcpServers": {
            "full": {
                "command": sys.executable,
                "args": ["-m", "mcpbind", "run", SERVER[1]],
                "env": {"TOKEN": "x"},
            }
        }
    }
    url = json.loads(mcpbind("config", "https://example.com/mcp", "--name", "remote").stdout)
    assert url == {"mcpServers": {"remote": {"type": "http", "url": "https://example.com/mcp"}}}
    command = json.loads(mcpbind("config", "--", "uvx", "weather-server").stdout)
    assert command == {"mcpServers": {"weather-server": {"command": "uvx", "args": ["weather-server"]}}}


def test_help_texts() -> None:
    top = mcpbind("--help")
    for name in ("inspect", "call", "read", "prompt", "complete", "run", "config", "stubs"):
        assert name in top.stdout
    expected = {
        "inspect": ["--json", "--header 'NAME: VALUE'", "--url URL", "--mode MODE", "--log-level"],
        "call": ["-a KEY=VALUE, --arg KEY=VALUE", "exit 1 when the tool fails"],
        "read": ["the resource's URI"],
        "prompt": ["the prompt's arguments"],
        "complete": ["--prompt PROMPT", "--template URI_TEMPLATE", "--context KEY=VALUE"],
        "run": ["--transport {stdio,http}", "--port PORT", "--server SERVER_NAME"],
        "config": ["--env KEY=VALUE", "mcpServers"],
        "stubs": ["-o OUTPUT, --output OUTPUT", "--check", "--class-name", "saved tools/list JSON"],
    }
    for command, needles in expected.items():
        done = mcpbind(command, "--help")
        assert done.returncode == 0
        text = " ".join(done.stdout.split())
        for needle in needles:
            assert needle in text, (command, needle, done.stdout)
    bad_header = mcpbind("inspect", "--header", "nocolon", "http://127.0.0.1:9/mcp")
    assert bad_header.returncode != 0 and "--header wants 'Name: value'" in bad_header.stderr
