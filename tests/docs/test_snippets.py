"""Every code sample of the documentation site runs: the samples are files under docs/snippets/, pasted
into the pages (`--8<-- "file.py"`), and each is run here as a user would run it (its own process over
stdio or HTTP, its pytest file, or the output the page shows)."""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from mcpbind.client import Client

from ..http_support import free_port, serve_command
from ..redis_support import RedisServer

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SNIPPETS = DOCS / "snippets"
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>\S*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
INCLUDE = re.compile(r'^--8<-- "(?P<file>[^"]+)"$')
# Samples that are not Python programs: shell commands and configuration.
NOT_CODE = {"", "text", "console", "sh", "bash", "shell", "toml", "yaml", "json", "ini"}
SERVERS = [
    "first_server.py",
    "content_server.py",
    "lifespan_server.py",
    "middleware_server.py",
    "multi_round.py",
]
MODES = ["2025-11-25", "2026-07-28"]
PRINTING = ["first_client.py", "wire_rules.py"]
"""Scripts whose output a page shows (`name.out`)."""


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if SNIPPETS not in p.parents)


def included() -> set[str]:
    """The snippet files the pages paste in."""
    found: set[str] = set()
    for page in pages():
        for fence in FENCE.finditer(page.read_text()):
            for line in fence["body"].splitlines():
                if match := INCLUDE.match(line.strip()):
                    found.add(match["file"])
    return found


def snippet(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run docs/snippets/`name` as the page says (from its folder); its stdout."""
    done = subprocess.run(
        [sys.executable, name, *args],
        cwd=SNIPPETS,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_python_sample_is_a_snippet_file() -> None:
    """No page has Python written inline (it would run nowhere): each block pastes a file that exists."""
    for page in pages():
        for fence in FENCE.finditer(page.read_text()):
            lines = [line.strip() for line in fence["body"].splitlines() if line.strip()]
            if fence["lang"] in NOT_CODE:
                continue
            assert fence["lang"] == "python", f"{page}: a ```{fence['lang']} block"
            assert lines and all(INCLUDE.match(line) for line in lines), f"{page}: inline Python"
            for line in lines:
                file = INCLUDE.match(line)["file"]  # type: ignore[index]
                assert (SNIPPETS / file).is_file(), f"{page}: {file} does not exist"


def test_every_snippet_file_is_shown_or_tests_one_that_is() -> None:
    files = {p.name for p in SNIPPETS.iterdir() if p.is_file() and p.suffix in (".py", ".out")}
    shown = included()
    assert shown <= files
    for file in files - shown:  # not on a page: only the tests of samples that are
        assert file.startswith("test_") and file.removeprefix("test_") in shown, file
    for out in (f for f in files if f.endswith(".out")):  # a script's output is compared below
        assert out.replace(".out", ".py") in PRINTING, out


@pytest.mark.parametrize("name", PRINTING)
def test_a_script_prints_what_its_page_shows(name: str) -> None:
    assert snippet(name) == (SNIPPETS / name.replace(".py", ".out")).read_text()


def test_the_snippets_own_tests_pass() -> None:
    """The pytest files of the testing page (and those of the other samples), as a user runs them."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *sorted(p.name for p in SNIPPETS.glob("test_*.py")),
        ],
        cwd=SNIPPETS,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^\d+ passed", done.stdout.splitlines()[-1]), done.stdout


def test_the_first_server_pages_commands() -> None:
    """The `mcpbind` lines of the first-server page, run in the samples' folder."""
    page = (DOCS / "tutorial" / "first-server.md").read_text()
    blocks = [fence["body"] for fence in FENCE.finditer(page) if fence["lang"] == "text"]
    commands = [
        shlex.split(line) for body in blocks for line in body.splitlines() if line.startswith("mcpbind ")
    ]
    outputs = []
    for argv in commands:
        argv = [
            str(Path(sys.executable).with_name("mcpbind")),
            *(sys.executable if a == "python" else a for a in argv[1:]),
        ]
        done = subprocess.run(argv, cwd=SNIPPETS, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    inspect, call, read = outputs
    assert "add" in inspect and "greeting://{name}" in inspect and "review" in inspect
    assert '"result": 5' in call
    assert read.strip() == "Hello, Ada!"


@pytest.mark.parametrize("name", SERVERS)
@pytest.mark.parametrize("mode", MODES)
def test_a_server_sample_serves_stdio(name: str, mode: str) -> None:
    async def main() -> None:
        script = str(SNIPPETS / name)
        async with Client.stdio(
            sys.executable, [script], cwd=str(SNIPPETS), mode=mode, stderr="devnull"
        ) as client:
            assert client.revision == mode
            assert await client.list_tools()

    run(main())


def test_the_http_tutorial() -> None:
    """`python first_server.py --transport http --port N`, then http_client.py: a session, then stateless."""
    port = free_port()
    with serve_command(port, str(SNIPPETS / "first_server.py"), "--transport", "http", "--port", str(port)):
        out = snippet("http_client.py", f"http://127.0.0.1:{port}/mcp")
    assert out.splitlines() == ["2025-11-25 {'result': 5}", "2026-07-28 {'result': 5}"]


def uvicorn(port: int, app: str) -> Any:
    return serve_command(port, "-m", "uvicorn", app, "--app-dir", str(SNIPPETS), "--port", str(port))


def test_the_deployed_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """deploy_app.py under uvicorn: health check, the token, the Host check, tools that know the caller."""
    monkeypatch.setenv("MCP_TOKEN", "s3cret")
    monkeypatch.setenv("MCP_HOST", "mcp.example.com")
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"

    async def main() -> None:
        for mode in MODES:
            async with Client.http(url, mode=mode, headers={"Authorization": "Bearer s3cret"}) as client:
                whoami = await client.call_tool("whoami", {})
                assert whoami.content[0].text == "You are operator."
                assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}

    with uvicorn(port, "deploy_app:app"):
        assert httpx.get(f"http://127.0.0.1:{port}/health").text == "ok"
        ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        assert httpx.post(url, json=ping, headers={"Authorization": "Bearer wrong"}).status_code == 401
        elsewhere = httpx.post(
            url, json=ping, headers={"Authorization": "Bearer s3cret", "Host": "evil.example"}
        )
        assert elsewhere.status_code in (403, 421)
        run(main())


def test_the_oauth_resource_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauth_server.py under uvicorn: a request without a token is sent to the metadata, which names
    the authorization server and the scopes."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    monkeypatch.setenv("MCP_URL", url)
    with uvicorn(port, "oauth_server:app"):
        refused = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert refused.status_code == 401
        challenge = refused.headers["www-authenticate"]
        metadata_url = re.search(r'resource_metadata="([^"]+)"', challenge)[1]  # type: ignore[index]
        metadata = httpx.get(metadata_url).json()
        assert metadata["resource"] == url
        assert metadata["authorization_servers"] == ["https://auth.example.com"]
        assert set(metadata["scopes_supported"]) == {"files:read", "files:write"}


@pytest.mark.parametrize("how", ["deploy_workers.py", "deploy_redis.py"])
def test_the_scale_out_samples(how: str, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers on one port (run_http), or one app per process (redis_app), over a real Redis: a
    session and stateless calls are served."""
    port = free_port()
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("WORKERS", "2")
    command = (
        [str(SNIPPETS / how)]
        if how == "deploy_workers.py"
        else ["-m", "uvicorn", "deploy_redis:app", "--app-dir", str(SNIPPETS), "--port", str(port)]
    )

    async def main() -> None:
        for mode in MODES:
            async with Client.http(f"http://127.0.0.1:{port}/mcp", mode=mode) as client:
                for n in range(4):
                    assert (await client.call_tool("add", {"a": n, "b": 1})).structured_content == {
                        "result": n + 1
                    }

    with serve_command(port, *command):
        run(main())


def test_the_shared_state_sample(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers count as one and read the status either set (each client a new connection: the
    kernel spreads them over the workers)."""
    port = free_port()
    url = f"redis://127.0.0.1:{redis_server.port}/3"
    monkeypatch.setenv("REDIS_URL", url)
    monkeypatch.setenv("PORT", str(port))
    monkeypatch.setenv("WORKERS", "2")

    async def main() -> None:
        counts = []
        for n in range(6):
            async with Client.http(f"http://127.0.0.1:{port}/mcp", mode=MODES[n % 2]) as client:
                counts.append((await client.call_tool("hit", {})).structured_content["result"])
                if n == 2:
                    await client.call_tool("set_status", {"status": "busy"})
                read = await client.read_resource("app://status")
                assert read.contents[0].text == ("busy" if n >= 2 else "idle")
        assert counts == [1, 2, 3, 4, 5, 6]

    redis.Redis.from_url(url).flushdb()
    with serve_command(port, str(SNIPPETS / "shared_counter.py")):
        run(main())
