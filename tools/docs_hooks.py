"""mkdocs hook: lay the `mcpbind` package out as installed (build/docs-api) for mkdocstrings to read.

The package maps three folders (runtime/, generated/, codegen/) onto one import name; an editable
install resolves that with an import hook that griffe, like mypy, cannot see. tools/typecheck.py builds
the same tree of symlinks for mypy.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TREE = ROOT / "build" / "docs-api"


def on_startup(command: str, dirty: bool, **_: Any) -> None:
    spec = importlib.util.spec_from_file_location("mcpbind_typecheck", ROOT / "tools" / "typecheck.py")
    assert spec is not None and spec.loader is not None
    typecheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(typecheck)
    shutil.rmtree(TREE, ignore_errors=True)  # afresh: a module removed since must not be documented
    typecheck.build_tree(TREE)
