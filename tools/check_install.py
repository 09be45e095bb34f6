"""Install mcpbind as a user does and use it: `python tools/check_install.py DIST` (nox -s wheel).

1. DIST holds one wheel and one sdist; the sdist carries the generated bindings.
2. The wheel, with its `http` extra, goes into a fresh virtualenv; from a folder outside the checkout,
   that environment's `mcpbind` command drives an example server over stdio and over Streamable HTTP.
3. An editable install (`editable_mode=strict`, as the install page says) in another fresh virtualenv:
   a user's script passes `mypy --strict`, and a mistyped one is reported.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MYPY = "mypy==2.4.1"  # as in the dev extra


def sh(*cmd: str | Path, cwd: Path | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(map(str, cmd)), flush=True)
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=600)
    if ok and done.returncode != 0:
        sys.exit(f"failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def fresh_env(where: Path) -> Path:
    venv.create(where, with_pip=True, clear=True)
    return where / "bin"


def check_dists(dist: Path) -> Path:
    (wheel,) = dist.glob("mcpbind-*.whl")
    (sdist,) = dist.glob("mcpbind-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
    for needed in ("generated/latest.py", "runtime/py.typed", "codegen/templates"):
        if not any(needed in name for name in names):
            sys.exit(f"{sdist.name} lacks {needed}")
    return wheel


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_wheel(wheel: Path, tmp: Path) -> None:
    bin_ = fresh_env(tmp / "wheel-env")
    sh(bin_ / "pip", "install", "-q", f"{wheel}[http]")
    work = tmp / "project"  # a user's folder: the checkout is not on the path
    work.mkdir()
    shutil.copy(ROOT / "examples" / "notes_server.py", work)
    where = sh(bin_ / "python", "-c", "import mcpbind.generated.latest as m; print(m.__file__)", cwd=work)
    if not where.stdout.startswith(str(tmp / "wheel-env")):
        sys.exit(f"mcpbind was imported from {where.stdout.strip()}, not from the installed wheel")
    server = [bin_ / "python", "notes_server.py"]
    added = sh(
        bin_ / "mcpbind", "call", "add_note", '{"title": "milk", "text": "buy some"}', "--", *server, cwd=work
    )
    assert json.loads(added.stdout)["content"][0]["text"] == "Saved 'milk'.", added.stdout
    port = free_port()
    process = subprocess.Popen([*map(str, server), "--transport", "http", "--port", str(port)], cwd=work)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    sys.exit("the example did not serve HTTP from the installed wheel")
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/mcp"
        for mode in ("2025-11-25", "2026-07-28"):
            found = sh(
                bin_ / "mcpbind", "call", "--mode", mode, "find_notes", '{"query": "x"}', url, cwd=work
            )
            assert json.loads(found.stdout)["structuredContent"] == {"result": []}, found.stdout
    finally:
        process.terminate()
        process.wait(10)


GOOD = (ROOT / "docs" / "snippets" / "first_server.py").read_text()
BAD = "from mcpbind.server import Server\n\nserver: int = Server('bad')\n"


def check_editable(tmp: Path) -> None:
    bin_ = fresh_env(tmp / "editable-env")
    sh(bin_ / "pip", "install", "-q", MYPY)
    sh(bin_ / "pip", "install", "-q", "-e", ROOT, "--config-settings", "editable_mode=strict")
    (tmp / "good.py").write_text(GOOD)
    (tmp / "bad.py").write_text(BAD)
    sh(bin_ / "mypy", "--strict", "--no-incremental", "good.py", cwd=tmp)
    bad = sh(bin_ / "mypy", "--strict", "--no-incremental", "bad.py", cwd=tmp, ok=False)
    if bad.returncode != 1 or 'has type "Server", variable has type "int"' not in bad.stdout:
        sys.exit(f"mypy did not see the package's types:\n{bad.stdout}")


def main() -> None:
    wheel = check_dists(Path(sys.argv[1]).resolve())
    with tempfile.TemporaryDirectory(prefix="mcpbind-install-") as name:
        tmp = Path(name)
        check_wheel(wheel, tmp)
        check_editable(tmp)
    print("the wheel installs and serves; an editable install type-checks under mypy --strict")


if __name__ == "__main__":
    main()
