"""The `mcpbind` command against a server that answers garbage or dies mid-call
(tests/servers/garbage_peer.py, a real subprocess): one clear line on stderr, exit code 1, no traceback,
and no waiting out the timeout for an answer that has come but cannot be read; no terminal escape of
the server's reaches the user's terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

PEER = [sys.executable, str(Path(__file__).resolve().parents[1] / "servers" / "garbage_peer.py")]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("exit_at_once", "the connection closed before initialize was answered"),
        ("init_die", "the connection closed before initialize was answered"),
        ("init_not_json", "the server's answer could not be read"),
        ("init_bad_error", "the server's answer could not be read: error response with an invalid `error`"),
        ("init_wrong_types", "invalid result for initialize"),
        ("init_unknown_version", "'1999-01-01', which this client does not speak"),
        ("call_die", "the connection closed before tools/call was answered"),
        ("call_bad_error", "the server's answer could not be read: error response with an invalid `error`"),
        ("call_wrong_types", "invalid result for tools/call"),
        ("call_invalid_utf8", "could not be read"),
    ],
)
def test_a_garbage_answer_or_a_dead_server_is_a_clear_error(mode: str, expected: str) -> None:
    # The per-answer timeout is long: a message that says "no answer within" fails the test.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mcpbind",
            "call",
            "t",
            "--timeout",
            "90",
            "--mode",
            "2025-11-25",
            "--",
            *PEER,
            mode,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("mcpbind: ") and expected in last, done.stderr
    assert done.stdout == ""


def test_an_honest_peer_still_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mcpbind", "call", "t", "--mode", "2025-11-25", "--", *PEER, "honest"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"text": "ok"' in done.stdout


def test_terminal_escapes_of_the_server_are_spelled_out() -> None:
    """Log and progress messages and the error's message are printed on stderr, the user's terminal:
    a server's escape sequences there (clipboard, clear screen, C1 CSI, a carriage return) are shown
    as text, not obeyed."""
    done = subprocess.run(
        [sys.executable, "-m", "mcpbind", "call", "t", "--mode", "2025-11-25", "--", *PEER, "call_escapes"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    stderr = done.stderr.decode()  # (not read as text: that would make a lone CR a line end)
    assert done.returncode == 1, stderr
    for control in ("\x1b", "\x07", "\x9b", "\r"):
        assert control not in stderr, stderr
    lines = stderr.split("\n")
    assert any(line.startswith("progress: 1/2 ") and "\\x1b]52;c;" in line for line in lines), lines
    assert any(line.startswith("[error \\x1b]52") and "\\x9b31m" in line for line in lines), lines
    assert lines[-2].startswith("mcpbind: error -32000: \\x1b]52;c;"), lines
