"""Run mypy --strict on the `mcpbind` package as it is imported, whatever folders it lives in.

The package maps three folders (runtime/, generated/, codegen/) onto one import name, which an editable
install resolves at import time but a type checker cannot see. This builds a tree of symlinks laid out as
the installed package (`mcpbind/`, `mcpbind/generated/`, `mcpbind/codegen/`) and checks that, so errors are
reported for the real modules. Usage: `python tools/typecheck.py [FILE...]`; exits with mypy's status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = {"": ROOT / "runtime", "generated": ROOT / "generated", "codegen": ROOT / "codegen"}


def build_tree(dest: Path) -> Path:
    """Lay out `dest/mcpbind` as the installed package, with symlinks to the real files."""
    package = dest / "mcpbind"
    for sub, folder in LAYOUT.items():
        target = package / sub if sub else package
        for path in folder.rglob("*"):
            if "__pycache__" in path.parts or path.is_dir():
                continue
            link = target / path.relative_to(folder)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                os.symlink(path, link)
    return package


def run_mypy(targets: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """mypy --strict on `targets` (files, or by default the whole `mcpbind` package)."""
    with tempfile.TemporaryDirectory(prefix="mcpbind-typecheck-") as tmp:
        build_tree(Path(tmp))
        env = {**os.environ, "MYPYPATH": tmp}
        mypy = shutil.which("mypy", path=os.path.dirname(sys.executable)) or "mypy"
        cmd = [mypy, "--config-file", str(ROOT / "pyproject.toml"), *(targets or ["-p", "mcpbind"])]
        return subprocess.run(cmd, env=env, cwd=cwd or ROOT, capture_output=True, text=True, check=False)


def main() -> int:
    done = run_mypy(sys.argv[1:])
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
