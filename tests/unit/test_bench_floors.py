"""The HTTP floors of bench/asgi_cost.py and bench/http_callgrind.py are each sent the requests of the
mcpbind leg of their era: the app's decode of the body and the header lines parsed (or the scope's
headers built) are then equal work. `floor` gets the 2026-07-28 call (its `_meta`, three routing
headers), `floor-2025` the 2025-11-25 one (a session, no `_meta`, that era's two headers)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory (it puts itself on sys.path). For each
# leg: the headers and body of its first call as its app receives them (the session id made neutral),
# and the status of the answer.
PROBE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import asgi_cost

async def first(leg):
    d, tool, era, headers = await asgi_cost.prepare(leg)
    app, seen = d.app, {}

    async def recording(scope, receive, send):
        async def received():
            message = await receive()
            seen.setdefault("body", message.get("body", b"").decode())
            return message

        seen["headers"] = [[k.decode(), v.decode()] for k, v in scope["headers"]]
        await app(scope, received, send)

    d.app = recording
    status, _, _ = await d.post(d.call(tool, era), headers)
    seen["headers"] = [[k, "SID" if k == "mcp-session-id" else v] for k, v in seen["headers"]]
    return {**seen, "status": status}

async def main():
    return {leg: await first(leg) for leg in sys.argv[2:]}

print(json.dumps(asyncio.run(main())))
"""


def test_each_asgi_cost_floor_is_sent_its_eras_requests() -> None:
    pytest.importorskip("msgspec")
    legs = ("floor", "2026-json", "floor-2025", "2025-json")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCH), *legs], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got: dict[str, dict[str, Any]] = json.loads(done.stdout)
    assert {leg: r["status"] for leg, r in got.items()} == dict.fromkeys(legs, 200)
    assert got["floor"]["headers"] == got["2026-json"]["headers"]
    assert got["floor"]["body"] == got["2026-json"]["body"]
    assert got["floor-2025"]["headers"] == got["2025-json"]["headers"]
    assert got["floor-2025"]["body"] == got["2025-json"]["body"]
    names = {leg: [name for name, _ in r["headers"]] for leg, r in got.items()}
    assert "mcp-session-id" in names["floor-2025"] and "mcp-method" not in names["floor-2025"]
    assert "mcp-method" in names["floor"] and "mcp-session-id" not in names["floor"]
    assert '"_meta"' in got["floor"]["body"] and '"_meta"' not in got["floor-2025"]["body"]


def _http_callgrind() -> Any:
    spec = importlib.util.spec_from_file_location("mcpbind_bench_http_callgrind", BENCH / "http_callgrind.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_http_callgrind_floor_is_driven_as_its_eras_leg() -> None:
    legs = _http_callgrind().LEGS
    # The same driver (servers.HttpDriver) for every HTTP leg: the era decides the requests.
    assert legs["floor"] == (["floor_asgi.py"], legs["2026-json"][1])
    assert legs["floor-2025"] == (["floor_asgi.py"], legs["2025-json"][1])
    assert legs["floor"][1] != legs["floor-2025"][1]
