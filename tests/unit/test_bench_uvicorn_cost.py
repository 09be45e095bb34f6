"""bench/uvicorn_cost.py gives each floor leg the requests of the mcpbind legs it is the floor of, byte
for byte but for the session id: uvicorn's Python work per header line and the app's decode of the body
are then equal work (the floor had three headers against the 2025 leg's two, and a body with `_meta`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

# Run in a fresh interpreter: the benchmark is a script directory (it puts itself on sys.path). For each
# leg: the bytes of its first call, with the session id made neutral, and the status of its answer.
PROBE = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
import uvicorn_cost

async def first(leg):
    protocol, transport, d, era, headers = await uvicorn_cost.connected(leg)
    tool = "echo_progress" if leg.endswith("sse") else "echo"
    sent = uvicorn_cost.request_bytes(uvicorn_cost.encode(d.call(tool, era)), headers)
    protocol.data_received(sent)
    answer = await asyncio.wait_for(uvicorn_cost.answered(transport), 30)
    for name, value in headers:
        if name == b"mcp-session-id":
            sent = sent.replace(value, b"SID")
    return {"sent": sent.decode(), "status": answer.split(b" ", 2)[1].decode()}

async def main():
    return {leg: await first(leg) for leg in sys.argv[2:]}

print(json.dumps(asyncio.run(main())))
"""


def first_calls(*legs: str) -> dict[str, dict[str, str]]:
    pytest.importorskip("uvicorn")
    pytest.importorskip("httptools")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCH), *legs], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, dict[str, str]] = json.loads(done.stdout)
    return result


def test_each_floor_is_sent_its_eras_requests() -> None:
    got = first_calls("floor", "2026-json", "floor-2025", "2025-json")
    assert {leg: r["status"] for leg, r in got.items()} == dict.fromkeys(got, "200")
    assert got["floor"]["sent"] == got["2026-json"]["sent"]
    assert got["floor-2025"]["sent"] == got["2025-json"]["sent"]
    heads = {leg: r["sent"].split("\r\n\r\n")[0].lower() for leg, r in got.items()}
    assert "mcp-session-id: sid" in heads["floor-2025"] and "mcp-method" not in heads["floor-2025"]
    assert "mcp-method: tools/call" in heads["floor"] and "mcp-session-id" not in heads["floor"]
    assert '"_meta"' in got["floor"]["sent"] and '"_meta"' not in got["floor-2025"]["sent"]
