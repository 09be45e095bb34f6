"""Strict typing: the package passes mypy --strict, typed use of the stubs passes, mistyped use fails."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from typecheck import run_mypy  # noqa: E402

TYPING = Path(__file__).resolve().parents[1] / "typing"


def test_package_passes_mypy_strict() -> None:
    done = run_mypy([])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("subject", ["usage", "client"])
def test_typed_usage_passes(subject: str) -> None:
    """usage: the generated bindings and stubs; client: `mcpbind.client.Client`."""
    done = run_mypy([str(TYPING / f"{subject}_ok.py")])
    assert done.returncode == 0, done.stdout + done.stderr


def test_example_servers_pass_mypy_strict() -> None:
    """What a user writes with the server API (lifespan state, typed elicitation, content) types."""
    examples = [
        str(ROOT / "examples" / f"{n}.py")
        for n in ("notes_server", "long_task_server", "mounted_http_server")
    ]
    done = run_mypy([*examples, str(ROOT / "tests" / "servers" / "user_api.py")])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("subject", ["usage", "client"])
def test_mistyped_usage_fails_exactly_where_marked(subject: str) -> None:
    bad = TYPING / f"{subject}_bad.py"
    expected = {
        (n, m.group(1))
        for n, line in enumerate(bad.read_text().splitlines(), 1)
        if (m := re.search(r"# E: ([a-z-]+)", line))
    }
    done = run_mypy([str(bad)])
    assert done.returncode == 1, done.stdout
    found = {
        (int(m.group(1)), m.group(2))
        for m in re.finditer(rf"{subject}_bad\.py:(\d+): error: .*\[([a-z-]+)\]", done.stdout)
    }
    assert expected, "the mistyped file must mark its errors"
    assert found == expected, done.stdout


@pytest.mark.parametrize("name", ["usage_ok.py", "usage_bad.py", "client_ok.py", "client_bad.py"])
def test_usage_files_are_importable_python(name: str) -> None:
    compile((TYPING / name).read_text(), name, "exec")
