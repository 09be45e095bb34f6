"""Each server of examples/ is no longer than the same server written with the official SDK's high-level
API (tests/sdk_examples/): lines of code, not counting blank lines, comments and docstrings."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ["notes_server.py", "long_task_server.py", "mounted_http_server.py"]


def code_lines(path: Path) -> int:
    source = path.read_text(encoding="utf-8")
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str) and first.end_lineno is not None:
                    docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines: set[int] = set()
    skipped = {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skipped:
            lines.update(n for n in range(token.start[0], token.end[0] + 1) if n not in docstrings)
    return len(lines)


def test_counting_leaves_out_docstrings_comments_and_blank_lines(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc.\n\nMore."""\n\n# note\nx = 1  # one\n\n\ndef f() -> None:\n    """Doc."""\n    return None\n'
    )
    assert code_lines(sample) == 3


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_no_longer_than_the_sdk_version(name: str) -> None:
    ours = code_lines(ROOT / "examples" / name)
    theirs = code_lines(ROOT / "tests" / "sdk_examples" / name)
    assert ours <= theirs, f"examples/{name}: {ours} lines of code, the SDK's version {theirs}"
