"""A synthetic next revision for the tests of `add-revision`: the newest published schema plus one new
request method, one new optional `Tool` member and one new content block type, laid out as a mirror."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcpbind.codegen.pins import SCHEMA_DIR, generated_pins

NEXT = "2099-01-01"
"""The synthetic revision's name: later than any published one."""
NEW_METHOD = "widgets/list"
NEW_TOOL_MEMBER = "costHint"
NEW_CONTENT = "VideoContent"


def latest_schema() -> tuple[str, dict[str, Any]]:
    pin = generated_pins(SCHEMA_DIR)[-1]
    return pin.name, json.loads(pin.cache_path(SCHEMA_DIR).read_bytes())


def next_schema() -> dict[str, Any]:
    """The newest schema with the three additions, as upstream would write them."""
    _, schema = latest_schema()
    schema = copy.deepcopy(schema)
    defs: dict[str, Any] = schema["$defs"]
    ref = "#/$defs/"
    list_tools = defs["ListToolsRequest"]
    request = copy.deepcopy(list_tools)
    request["description"] = "Sent from the client to list the server's widgets."
    request["properties"]["method"] = {"const": NEW_METHOD, "type": "string"}
    defs["ListWidgetsRequest"] = request
    defs["Widget"] = {
        "description": "A widget the server offers.",
        "properties": {"name": {"type": "string"}, "size": {"type": "number"}},
        "required": ["name"],
        "type": "object",
    }
    result = copy.deepcopy(defs["ListToolsResult"])
    result["description"] = "The server's response to a widgets/list request."
    result["properties"].pop("tools")
    result["properties"]["widgets"] = {"items": {"$ref": ref + "Widget"}, "type": "array"}
    result["required"] = [r if r != "tools" else "widgets" for r in result.get("required", [])]
    defs["ListWidgetsResult"] = result
    response = copy.deepcopy(defs["ListToolsResultResponse"])
    response["properties"]["result"] = {"$ref": ref + "ListWidgetsResult"}
    defs["ListWidgetsResultResponse"] = response
    defs["ClientRequest"]["anyOf"].append({"$ref": ref + "ListWidgetsRequest"})
    defs["Tool"]["properties"][NEW_TOOL_MEMBER] = {
        "description": "How costly a call is, from 0 (free) to 1.",
        "type": "number",
    }
    video = copy.deepcopy(defs["ImageContent"])
    video["description"] = "A video provided to or from an LLM."
    video["properties"]["type"] = {"const": "video", "type": "string"}
    defs[NEW_CONTENT] = video
    for union in ("ContentBlock",):
        defs[union]["anyOf"].append({"$ref": ref + NEW_CONTENT})
    return schema


def write_mirror(root: Path, schema: dict[str, Any] | None = None) -> Path:
    """A mirror folder holding the synthetic revision (schema.json, PINNED.json), as ../shared/mcp-spec is."""
    raw = json.dumps(schema if schema is not None else next_schema(), indent=2).encode()
    (root / NEXT).mkdir(parents=True, exist_ok=True)
    (root / NEXT / "schema.json").write_bytes(raw)
    pinned = [
        {
            "protocol_version": NEXT,
            "spec_repo": "https://github.com/modelcontextprotocol/modelcontextprotocol",
            "path_in_spec_repo": f"schema/{NEXT}/schema.json",
            "spec_commit": "0" * 40,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "bytes": len(raw),
        }
    ]
    (root / "PINNED.json").write_text(json.dumps(pinned, indent=2))
    return root


ROOT = Path(__file__).resolve().parents[1]
DRAFT_VERSION = "DRAFT-2099-v1"
"""The protocol version the synthetic draft's schema.ts names."""


def package_with(tmp_path: Path, draft: bool = False) -> Path:
    """A folder holding the mcpbind package laid out as installed (runtime/ as mcpbind, codegen,
    generated), with the synthetic revision added (as the next revision, or as the upstream draft) by
    `add-revision` and generated: the only place it exists. Put it first on PYTHONPATH."""
    from mcpbind.codegen.cli import generate
    from mcpbind.codegen.revision import add_revision

    schema_dir = tmp_path / "schema"
    shutil.copytree(SCHEMA_DIR, schema_dir, ignore=shutil.ignore_patterns("examples"))
    if draft:
        mirror = tmp_path / "mirror"
        (mirror / "draft").mkdir(parents=True)
        (mirror / "draft" / "schema.json").write_text(json.dumps(next_schema()))
        (mirror / "draft" / "schema.ts").write_text(
            f'export const LATEST_PROTOCOL_VERSION = "{DRAFT_VERSION}";\n'
        )
        add_revision("draft", source_dir=mirror, commit="1" * 40, schema_dir=schema_dir)
    else:
        add_revision(NEXT, source_dir=write_mirror(tmp_path / "mirror"), schema_dir=schema_dir)
    site = tmp_path / "site"
    package = site / "mcpbind"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "runtime", package, ignore=ignore)
    shutil.copytree(ROOT / "codegen", package / "codegen", ignore=ignore)
    shutil.copytree(ROOT / "generated", package / "generated", ignore=ignore)
    assert generate(check=False, out_dir=package / "generated", schema_dir=schema_dir) == 0
    return site


def codegen(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m mcpbind.codegen ARGS` from the repository root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "mcpbind.codegen", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=300,
    )
