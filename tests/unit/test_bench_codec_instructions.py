"""bench/codec_instructions.py runs its counted child with the hash seed fixed: with a random one, a
count per message moved by 0.05-0.3% between two runs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _codec_instructions() -> Any:
    spec = importlib.util.spec_from_file_location(
        "mcpbind_bench_codec_instructions", BENCH / "codec_instructions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_counted_child_has_one_hash_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    ci = _codec_instructions()
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    monkeypatch.setenv("MCPBIND_BENCH_PROBE", "kept")
    seen: list[dict[str, str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen.append(kwargs["env"])
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(ci.subprocess, "run", run)
    monkeypatch.setattr(ci.callgrind, "file_totals", lambda path: {"Ir": 5000})
    assert ci.callgrind_count("worker.py", ["mcpbind", "m", "both", "10"], 10) == 500
    assert [env["PYTHONHASHSEED"] for env in seen] == ["0"]
    assert seen[0]["MCPBIND_BENCH_PROBE"] == "kept" and "PATH" in seen[0]
    assert "PYTHONHASHSEED" not in os.environ
