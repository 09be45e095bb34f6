#!/usr/bin/env python3
"""Codec benchmark: decode+encode microseconds per MCP message, mcpbind vs mcp-types vs raw msgspec.

Run from the repository root with the mcpbind environment's interpreter:

    python bench/codec.py            # full run: 5 alternating rounds, ~3-4 minutes
    python bench/codec.py --quick    # smoke run: 1 round of a few hundred iterations, < 30 s

Three implementations decode the same JSON bytes into their types and encode them back:

* ``mcpbind``     - ``mcpbind.generated.v2026_07_28`` through the hot-path idiom: the cached
                    ``wire.decoder(T).decode`` and the shared ``wire.encoder().encode``. The
                    convenience call ``wire.encode(wire.decode(data, T))`` is measured as well.
* ``mcp-types``   - the official SDK's pydantic models (``mcp-types==2.3.0``, import name
                    ``mcp_types``): ``Model.model_validate_json(data)`` and
                    ``model.model_dump_json(by_alias=True, exclude_none=True)``. It runs in its own
                    virtual environment (``bench/.venvs/mcp-types`` unless ``--peer-python``), which
                    this script creates on first use; the mcpbind environment never gets mcp-types.
* ``msgspec``     - hand-written plain msgspec Structs of the same shapes (``bench/raw_msgspec.py``),
                    the floor.

Each implementation is measured in a subprocess of its own interpreter (``--worker``); the parent
alternates the implementations over several rounds and reports medians. It also measures import time
with ``-X importtime``. The same file runs as parent and as worker: at module level it imports only the
standard library, since the mcp-types environment has neither msgspec nor mcpbind.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DEFAULT_PEER_VENV = BENCH_DIR / ".venvs" / "mcp-types"
DEFAULT_JSON_OUT = BENCH_DIR / "results" / "codec.json"
MCP_TYPES_REQUIREMENT = "mcp-types==2.3.0"
MCP_TYPES_VERSION = MCP_TYPES_REQUIREMENT.split("==")[1]
PROTOCOL_VERSION = "2026-07-28"
MCPBIND_MODULE = "mcpbind.generated.v2026_07_28"

MESSAGES: dict[str, str] = {
    "call_tool_request": "CallToolRequest (JSON-RPC frame)",
    "call_tool_result": "CallToolResult (1 text block)",
    "list_tools_result": "ListToolsResult (50 tools)",
    "input_required_result": "InputRequiredResult (elicitation)",
}
"""Benchmarked messages, in table order, with their table labels."""

OPS = ("both", "decode", "encode")
"""`both` is decode then encode in one loop (the headline); `decode` and `encode` are split out."""

GROUPS = ("mcpbind", "mcp-types", "msgspec")
"""Worker processes, one per environment; the order rotates every round."""

PRIMARY = {"mcpbind": "mcpbind", "mcp-types": "mcp-types", "msgspec": "msgspec"}
"""The variant of each group that goes in the main table."""


# --------------------------------------------------------------------------------------------------------
# Payloads: built with the standard library only, identical bytes in every interpreter (the parent checks
# the workers' sha256 digests agree).
# --------------------------------------------------------------------------------------------------------

_WORDS = (
    "the quick brown fox jumps over lazy dogs while seven wizards quietly judge boxing matches "
    "across distant northern valleys and report every result to the central archive for review"
).split()


def _mcpbind_types(mod: Any) -> dict[str, Any]:
    """The generated type of each benchmarked message."""
    return {
        "call_tool_request": mod.CallToolRequest,
        "call_tool_result": mod.CallToolResult,
        "list_tools_result": mod.ListToolsResult,
        "input_required_result": mod.InputRequiredResult,
    }


def _text(n_words: int, start: int = 0) -> str:
    words = [_WORDS[(start + 7 * i) % len(_WORDS)] for i in range(n_words)]
    return (" ".join(words)).capitalize() + "."


def _server_meta() -> dict[str, Any]:
    # 2026-07-28 servers SHOULD stamp serverInfo on every result.
    return {"io.modelcontextprotocol/serverInfo": {"name": "bench-server", "version": "3.1.4"}}


def _call_tool_request() -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 42,
        "method": "tools/call",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": PROTOCOL_VERSION,
                "io.modelcontextprotocol/clientCapabilities": {
                    "elicitation": {"form": {}},
                    "roots": {},
                    "sampling": {"tools": {}},
                },
                "io.modelcontextprotocol/clientInfo": {"name": "bench-client", "version": "1.0.0"},
                "progressToken": "progress-7f3a",
                "com.example/traceId": "4bf92f3577b34da6a3ce929d0e0e4736",
            },
            "name": "summarize_document",
            "arguments": {"text": _text(60)},
        },
    }


def _call_tool_result() -> dict[str, Any]:
    return {
        "_meta": _server_meta(),
        "content": [{"type": "text", "text": _text(80, 3)}],
        "isError": False,
        "resultType": "complete",
    }


_VERBS = ("search", "create", "update", "delete", "list", "get", "archive", "export", "import", "sync")
_NOUNS = ("issue", "document", "invoice", "contact", "event")
_PROP_KINDS = (
    {"type": "string"},
    {"type": "integer", "minimum": 0, "maximum": 1000},
    {"type": "boolean", "default": False},
    {"type": "array", "items": {"type": "string"}},
    {"type": "string", "enum": ["asc", "desc"]},
)
_PROP_NAMES = ("query", "limit", "include_archived", "tags", "order")


def _tool(i: int) -> dict[str, Any]:
    verb, noun = _VERBS[i % len(_VERBS)], _NOUNS[i // len(_VERBS) % len(_NOUNS)]
    n_props = 3 + i % 3  # 3 to 5 properties
    properties = {
        _PROP_NAMES[j]: {**_PROP_KINDS[j], "description": _text(10 + j, i + j)} for j in range(n_props)
    }
    tool: dict[str, Any] = {
        "name": f"{verb}_{noun}",
        "title": f"{verb.capitalize()} {noun}",
        "description": _text(24, i),
        "inputSchema": {
            "type": "object",
            "properties": properties,
            "required": list(_PROP_NAMES[: 1 + i % 2]),
        },
    }
    if i % 2 == 0:
        tool["annotations"] = {"readOnlyHint": verb in ("search", "list", "get"), "openWorldHint": False}
    return tool


def _list_tools_result() -> dict[str, Any]:
    return {
        "_meta": _server_meta(),
        "tools": [_tool(i) for i in range(50)],
        "ttlMs": 60000,
        "cacheScope": "private",
        "resultType": "complete",
    }


def _input_required_result() -> dict[str, Any]:
    return {
        "_meta": _server_meta(),
        "resultType": "input_required",
        "inputRequests": {
            "confirm-delete": {
                "method": "elicitation/create",
                "params": {
                    "mode": "form",
                    "message": "Delete 12 archived invoices from the billing workspace?",
                    "requestedSchema": {
                        "type": "object",
                        "properties": {
                            "confirm": {
                                "type": "boolean",
                                "title": "Confirm deletion",
                                "description": "Tick to delete the invoices permanently.",
                                "default": False,
                            },
                            "reason": {
                                "type": "string",
                                "title": "Reason",
                                "description": "Why the invoices are being deleted.",
                                "maxLength": 200,
                            },
                            "notify": {
                                "type": "string",
                                "title": "Notify",
                                "enum": ["nobody", "owner", "team"],
                                "default": "owner",
                            },
                        },
                        "required": ["confirm"],
                    },
                },
            }
        },
        "requestState": "eyJ0b29sIjoiZGVsZXRlX2ludm9pY2UiLCJzdGVwIjoyLCJub25jZSI6IjlmMmMxYTdlIn0",
    }


def build_payloads() -> dict[str, bytes]:
    """The JSON bytes of each benchmarked message (compact separators, key order as written above)."""
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "call_tool_request": _call_tool_request,
        "call_tool_result": _call_tool_result,
        "list_tools_result": _list_tools_result,
        "input_required_result": _input_required_result,
    }
    return {
        name: json.dumps(build(), separators=(",", ":"), ensure_ascii=False).encode()
        for name, build in builders.items()
    }


# --------------------------------------------------------------------------------------------------------
# Implementations (imported lazily: each runs in the environment that has its library)
# --------------------------------------------------------------------------------------------------------


@dataclass
class Codec:
    """How one implementation decodes and encodes one message, as timeit statements over `ns`.

    `ns` must bind `dec` and `enc` (callables) unless custom statements say otherwise; the worker adds
    `data` (the payload bytes) and `obj` (a decoded value).
    """

    ns: dict[str, Any]
    decode_stmt: str = "dec(data)"
    encode_stmt: str = "enc(obj)"
    both_stmt: str = "enc(dec(data))"
    ops: tuple[str, ...] = OPS

    def decode(self, data: bytes) -> Any:
        return eval(self.decode_stmt, {}, {**self.ns, "data": data})

    def encode(self, obj: Any) -> Any:
        return eval(self.encode_stmt, {}, {**self.ns, "obj": obj})


def mcpbind_codecs() -> dict[str, dict[str, Codec]]:
    import importlib

    from mcpbind import wire

    mod = importlib.import_module(MCPBIND_MODULE)
    types = _mcpbind_types(mod)
    enc = wire.encoder().encode
    hot = {name: Codec({"dec": wire.decoder(tp).decode, "enc": enc}) for name, tp in types.items()}
    convenience = {
        name: Codec(
            {"decode": wire.decode, "encode": wire.encode, "T": tp},
            decode_stmt="decode(data, T)",
            encode_stmt="encode(obj)",
            both_stmt="encode(decode(data, T))",
            ops=("both",),
        )
        for name, tp in types.items()
    }
    return {"mcpbind": hot, "mcpbind (wire.decode/encode)": convenience}


def msgspec_codecs() -> dict[str, dict[str, Codec]]:
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))
    import msgspec
    import raw_msgspec

    enc = msgspec.json.Encoder().encode
    return {
        "msgspec": {
            name: Codec({"dec": msgspec.json.Decoder(tp).decode, "enc": enc})
            for name, tp in raw_msgspec.TYPES.items()
        }
    }


MODEL_NAMES = {
    "call_tool_result": "CallToolResult",
    "list_tools_result": "ListToolsResult",
    "input_required_result": "InputRequiredResult",
}
"""mcp-types' model for each result message (the request goes through its JSON-RPC envelope)."""


def mcp_types_codecs() -> dict[str, dict[str, Codec]]:
    from functools import partial

    import mcp_types as t

    def model_codec(model: Any) -> Codec:
        dump = partial(model.model_dump_json, by_alias=True, exclude_none=True)
        return Codec({"dec": model.model_validate_json, "enc": dump})

    # A full JSON-RPC frame: the SDK's typed CallToolRequest carries method and params but no envelope
    # (`jsonrpc`, `id` are the session layer's), so a frame goes through `JSONRPCRequest` and the typed
    # request is validated from its method and params, as the SDK's session does; encoding reverses it.
    # (This is the SDK's idiom, slimmed: no round trip of the envelope through model_dump on decode.)
    envelope, request = t.JSONRPCRequest, t.CallToolRequest
    validate_envelope, validate_request = envelope.model_validate_json, request.model_validate

    def decode_frame(data: bytes) -> tuple[Any, Any]:
        frame = validate_envelope(data)
        return frame.id, validate_request({"method": frame.method, "params": frame.params})

    def encode_frame(value: tuple[Any, Any]) -> str:
        request_id, typed = value
        body = typed.model_dump(by_alias=True, mode="json", exclude_none=True)
        return envelope(jsonrpc="2.0", id=request_id, **body).model_dump_json(
            by_alias=True, exclude_none=True
        )

    codecs = {"call_tool_request": Codec({"dec": decode_frame, "enc": encode_frame})}
    # InputRequiredResult is a 2026-07-28 result; a message whose model is absent is reported n/a.
    for msg, name in MODEL_NAMES.items():
        model = getattr(t, name, None)
        if model is not None:
            codecs[msg] = model_codec(model)
    # The cheapest thing the SDK offers for a frame: its CallToolRequest straight off the bytes. It ignores
    # `jsonrpc` and `id` (dropped on encode), so it does less than the others: a lower bound for mcp-types.
    body_only = {"call_tool_request": model_codec(request)}
    body_only["call_tool_request"].ops = ("both",)
    return {
        "mcp-types": codecs,
        "mcp-types (CallToolRequest body only)": body_only,
    }


GROUP_CODECS: dict[str, Callable[[], dict[str, dict[str, Codec]]]] = {
    "mcpbind": mcpbind_codecs,
    "mcp-types": mcp_types_codecs,
    "msgspec": msgspec_codecs,
}


def library_versions(group: str) -> dict[str, str]:
    from importlib import metadata

    names = {
        "mcpbind": ("mcpbind", "msgspec"),
        "msgspec": ("msgspec",),
        "mcp-types": ("mcp-types", "pydantic", "pydantic-core"),
    }
    out = {}
    for name in names[group]:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "?"
    return out


# --------------------------------------------------------------------------------------------------------
# Timing (runs in the worker)
# --------------------------------------------------------------------------------------------------------


def _timer(stmt: str, ns: dict[str, Any]) -> timeit.Timer:
    # Bind every name as a local of timeit's inner function, as `timeit -s` setup does.
    setup = "; ".join(f"{k} = _ns[{k!r}]" for k in ns) or "pass"
    return timeit.Timer(stmt, setup=setup, globals={"_ns": ns})


def autorange(timer: timeit.Timer, target: float) -> int:
    """The smallest 1-2-5 loop count whose run takes at least `target` seconds."""
    number = 1
    while True:
        for step in (1, 2, 5):
            n = number * step
            if timer.timeit(n) >= target:
                return n
        number *= 10


def measure(timer: timeit.Timer, number: int, repeats: int) -> list[float]:
    """Microseconds per loop, one sample per repeat (timeit disables the GC while timing)."""
    samples = []
    for _ in range(repeats):
        gc.collect()
        samples.append(timer.timeit(number) / number * 1e6)
    return samples


def _roundtrip(codec: Codec, data: bytes) -> dict[str, Any]:
    encoded = codec.encode(codec.decode(data))
    again, original = json.loads(encoded), json.loads(data)
    out: dict[str, Any] = {"exact": again == original, "out_type": type(encoded).__name__}
    if not out["exact"]:
        out["diff"] = _json_diff(original, again)[:5]
    return out


def _json_diff(a: Any, b: Any, path: str = "$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        diffs = [f"{path}.{k}: dropped" for k in a if k not in b]
        diffs += [f"{path}.{k}: added {b[k]!r}"[:120] for k in b if k not in a]
        for k in a.keys() & b.keys():
            diffs += _json_diff(a[k], b[k], f"{path}.{k}")
        return diffs
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _json_diff(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"[:120]]


def mcpbind_hook_diagnostics(payloads: dict[str, bytes], loops: int) -> dict[str, Any]:
    """Per message: dec_hook calls per decode (by type) and microseconds spent under the outermost hooks.

    Patches `mcpbind.shapes.dec_hook` (which `_from_wire` looks up at call time for nested converts) with a
    counting, timing wrapper, and decodes with a fresh Decoder that uses it. Per-type times are inclusive
    (a dispatched union's time includes the hooks nested in it); the per-decode total counts outermost
    hooks only. Timing adds two `perf_counter_ns` calls per hook, so both slightly overestimate.
    """
    import importlib

    import msgspec

    from mcpbind import shapes

    original = getattr(shapes, "dec_hook", None)
    if original is None:
        return {"error": "mcpbind.shapes.dec_hook not found"}
    mod = importlib.import_module(MCPBIND_MODULE)
    types = _mcpbind_types(mod)
    clock = time.perf_counter_ns
    state = {"depth": 0, "ns": 0}
    counts: dict[str, int] = {}
    inclusive_ns: dict[str, int] = {}

    def hook(tp: Any, obj: Any) -> Any:
        name = getattr(tp, "__name__", repr(tp))
        counts[name] = counts.get(name, 0) + 1
        state["depth"] += 1
        t0 = clock()
        try:
            return original(tp, obj)
        finally:
            dt = clock() - t0
            state["depth"] -= 1
            inclusive_ns[name] = inclusive_ns.get(name, 0) + dt
            if not state["depth"]:
                state["ns"] += dt

    out: dict[str, Any] = {}
    shapes.dec_hook = hook
    try:
        for name, tp in types.items():
            dec = msgspec.json.Decoder(tp, dec_hook=hook).decode
            counts.clear()
            dec(payloads[name])
            per_decode = dict(sorted(counts.items(), key=lambda kv: -kv[1]))
            state["ns"] = 0
            inclusive_ns.clear()
            gc.disable()
            t0 = clock()
            for _ in range(loops):
                dec(payloads[name])
            total_ns = clock() - t0
            gc.enable()
            out[name] = {
                "hook_calls_per_decode": per_decode,
                "hook_calls_total": sum(per_decode.values()),
                "hook_us_per_decode": state["ns"] / loops / 1e3,
                "hook_us_per_call_inclusive": {
                    k: inclusive_ns[k] / loops / per_decode[k] / 1e3 for k in per_decode
                },
                "instrumented_decode_us": total_ns / loops / 1e3,
            }
    finally:
        shapes.dec_hook = original
    return out


def run_worker(group: str, args: argparse.Namespace) -> dict[str, Any]:
    payloads = build_payloads()
    variants = GROUP_CODECS[group]()
    numbers: dict[str, int] = json.loads(args.numbers) if args.numbers else {}
    out: dict[str, Any] = {
        "group": group,
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "versions": library_versions(group),
        "payload_sha256": {k: hashlib.sha256(v).hexdigest() for k, v in payloads.items()},
        "variants": {},
    }
    for variant, codecs in variants.items():
        vres: dict[str, Any] = {}
        for msg, codec in codecs.items():
            data = payloads[msg]
            mres: dict[str, Any] = {"roundtrip": _roundtrip(codec, data)}
            ns = {**codec.ns, "data": data, "obj": codec.decode(data)}
            for op in codec.ops:
                stmt = {"both": codec.both_stmt, "decode": codec.decode_stmt, "encode": codec.encode_stmt}[op]
                timer = _timer(stmt, ns)
                timer.timeit(max(1, min(50, args.number or 50)))  # warm up
                key = f"{variant}|{msg}|{op}"
                number = args.number or numbers.get(key) or autorange(timer, args.target_time)
                numbers[key] = number
                mres[op] = {"number": number, "samples_us": measure(timer, number, args.repeats)}
            vres[msg] = mres
        out["variants"][variant] = vres
    out["numbers"] = numbers
    if group == "mcpbind" and args.diagnose:
        out["diagnostics"] = mcpbind_hook_diagnostics(payloads, loops=args.number or 2000)
    return out


# --------------------------------------------------------------------------------------------------------
# Parent: environments, rounds, import time, report
# --------------------------------------------------------------------------------------------------------


def _clean_env(write_bytecode: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if write_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def peer_python(args: argparse.Namespace) -> str | None:
    """The interpreter of the mcp-types environment, creating it if needed; None (with a warning) if
    it cannot be had and the run tolerates that."""
    if args.peer_python:
        return str(args.peer_python)
    venv_dir: Path = args.peer_venv
    python = venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    check = [str(python), "-c", "from importlib.metadata import version; print(version('mcp-types'))"]
    if python.exists():
        got = subprocess.run(check, capture_output=True, text=True, env=_clean_env())
        if got.returncode == 0 and got.stdout.strip() == MCP_TYPES_VERSION:
            return str(python)
    if args.no_peer_setup:
        return _peer_missing(args, f"{python} has no {MCP_TYPES_REQUIREMENT} (and --no-peer-setup)")
    print(f"# creating {venv_dir} with {MCP_TYPES_REQUIREMENT} ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv_dir)],
        [str(python), "-m", "pip", "install", "--quiet", MCP_TYPES_REQUIREMENT],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=_clean_env(write_bytecode=True))
        if done.returncode != 0:
            return _peer_missing(args, f"`{' '.join(step)}` failed:\n{done.stderr.strip()[-2000:]}")
    return str(python)


def _peer_missing(args: argparse.Namespace, why: str) -> None:
    if not args.quick:
        sys.exit(f"error: the mcp-types environment is unavailable: {why}")
    print(f"# warning: mcp-types skipped: {why}", file=sys.stderr)
    return None


def spawn_worker(
    python: str, group: str, args: argparse.Namespace, numbers: dict[str, int], diagnose: bool
) -> dict[str, Any]:
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--worker",
        group,
        "--repeats",
        str(args.repeats),
        "--target-time",
        str(args.target_time),
    ]
    if args.number:
        cmd += ["--number", str(args.number)]
    if numbers:
        cmd += ["--numbers", json.dumps(numbers)]
    if diagnose:
        cmd.append("--diagnose")
    done = subprocess.run(cmd, capture_output=True, text=True, env=_clean_env(), cwd=REPO_ROOT)
    if done.returncode != 0:
        sys.exit(f"error: worker {group} ({python}) failed:\n{done.stderr}")
    return json.loads(done.stdout)


# --- import time -----------------------------------------------------------------------------------------

_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S.*)$")


@dataclass
class _Node:
    name: str
    self_us: int
    cum_us: int
    children: list[_Node] = field(default_factory=list)


def parse_importtime(stderr: str) -> list[_Node]:
    """The top-level import tree printed by `-X importtime` (children print before their parent)."""
    pending: list[tuple[int, _Node]] = []
    for line in stderr.splitlines():
        m = _IMPORTTIME.match(line)
        if not m:
            continue
        level = len(m.group(3)) // 2
        node = _Node(m.group(4), int(m.group(1)), int(m.group(2)))
        while pending and pending[-1][0] > level:
            node.children.insert(0, pending.pop()[1])
        pending.append((level, node))
    return [n for _, n in pending]


def _dependency_us(node: _Node, roots: frozenset[str]) -> int:
    if node.name.split(".")[0] in roots:
        return node.cum_us
    return sum(_dependency_us(c, roots) for c in node.children)


def import_time(python: str, module: str, deps: Iterable[str], runs: int) -> dict[str, Any]:
    """Median `-X importtime` cumulative time of `import module` in fresh interpreters, in ms, with and
    without the subtrees of `deps` (the dependency's own import, wherever the module first pulls it)."""
    roots = frozenset(deps)
    # Warm-up with bytecode writing on, so every run below loads cached bytecode.
    subprocess.run(
        [python, "-c", f"import {module}"], check=True, env=_clean_env(write_bytecode=True), cwd=REPO_ROOT
    )
    totals, excl, selfs = [], [], []
    children: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run(
            [python, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            env=_clean_env(),
            cwd=REPO_ROOT,
        )
        top = [n for n in parse_importtime(done.stderr) if n.name == module]
        if not top:
            raise RuntimeError(f"no importtime line for {module}")
        node = top[-1]
        totals.append(node.cum_us / 1e3)
        excl.append((node.cum_us - _dependency_us(node, roots)) / 1e3)
        selfs.append(node.self_us / 1e3)
        for child in node.children:
            children.setdefault(child.name, []).append(child.cum_us / 1e3)
    return {
        "module": module,
        "excluded": sorted(roots),
        "runs": runs,
        "total_ms": statistics.median(totals),
        "total_min_ms": min(totals),
        "excl_deps_ms": statistics.median(excl),
        "self_ms": statistics.median(selfs),
        "children_ms": {k: statistics.median(v) for k, v in children.items()},
        "total_samples_ms": totals,
        "excl_samples_ms": excl,
    }


# --- aggregation and report ---------------------------------------------------------------------------


def aggregate(rounds: list[dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """variant -> message -> op -> {median_us, min_us, round_medians_us, number}: the median over every
    sample of every round (each round contributes `repeats` samples)."""
    out: dict[str, Any] = {}
    for rnd in rounds:
        for worker in rnd.values():
            for variant, msgs in worker["variants"].items():
                for msg, res in msgs.items():
                    slot = out.setdefault(variant, {}).setdefault(msg, {"roundtrip": res["roundtrip"]})
                    for op in OPS:
                        if op not in res:
                            continue
                        agg = slot.setdefault(
                            op, {"samples_us": [], "round_medians_us": [], "number": res[op]["number"]}
                        )
                        agg["samples_us"] += res[op]["samples_us"]
                        agg["round_medians_us"].append(statistics.median(res[op]["samples_us"]))
    for msgs in out.values():
        for slot in msgs.values():
            for op in OPS:
                if op in slot:
                    s = slot[op]["samples_us"]
                    slot[op]["median_us"] = statistics.median(s)
                    slot[op]["min_us"] = min(s)
    return out


def _us(variant: dict[str, Any] | None, msg: str, op: str = "both") -> float | None:
    if not variant or msg not in variant or op not in variant[msg]:
        return None
    return variant[msg][op]["median_us"]


def _fmt(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


TARGET_VS_PEER = 5.0
TARGET_VS_RAW = 1.5
TARGET_IMPORT_MS = 15.0


def _peer_cell(ratio: float | None) -> str:
    if ratio is None:
        return "n/a"
    if ratio < 1:
        return f"{1 / ratio:.1f}x slower ✗"
    return f"{ratio:.1f}x faster {'✓' if ratio >= TARGET_VS_PEER else '✗'}"


def _raw_cell(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{ratio:.2f}x {'✓' if ratio <= TARGET_VS_RAW else '✗'}"


def render(results: dict[str, Any]) -> str:
    """The markdown report; also stores the ratios in `results`."""
    codec = results["codec"]
    mb, mt, ms = codec.get("mcpbind"), codec.get("mcp-types"), codec.get("msgspec")
    cfg = results["config"]
    lines = [
        f"## Codec benchmark: decode+encode, µs per message (MCP {PROTOCOL_VERSION})",
        "",
        f"Median of {cfg['rounds']} alternating round(s) x {cfg['repeats']} repeat(s); lower is better. "
        f"Targets: >= {TARGET_VS_PEER:g}x faster than mcp-types, <= {TARGET_VS_RAW:g}x raw msgspec.",
        "",
        "| message | bytes | mcpbind µs | mcp-types µs | raw msgspec µs "
        "| mcp-types / mcpbind | mcpbind / raw msgspec |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    ratios: dict[str, Any] = {}
    for msg, label in MESSAGES.items():
        b, p, r = _us(mb, msg), _us(mt, msg), _us(ms, msg)
        vs_peer, vs_raw = _ratio(p, b), _ratio(b, r)
        ratios[msg] = {"mcp_types_over_mcpbind": vs_peer, "mcpbind_over_msgspec": vs_raw}
        size = results["payloads"][msg]["bytes"]
        cells = [label, str(size), _fmt(b), _fmt(p), _fmt(r), _peer_cell(vs_peer), _raw_cell(vs_raw)]
        lines.append("| " + " | ".join(cells) + " |")
    results["ratios"] = ratios

    lines += [
        "",
        "Decode / encode split (µs):",
        "",
        "| message | mcpbind dec / enc | mcp-types dec / enc | raw msgspec dec / enc |",
        "|---|---:|---:|---:|",
    ]
    for msg, label in MESSAGES.items():
        cells = [f"{_fmt(_us(v, msg, 'decode'))} / {_fmt(_us(v, msg, 'encode'))}" for v in (mb, mt, ms)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    lines.append("")
    conv = codec.get("mcpbind (wire.decode/encode)")
    if conv:
        per_msg = ", ".join(f"{m} {_fmt(_us(conv, m))}" for m in MESSAGES)
        lines.append(f"- mcpbind via `wire.encode(wire.decode(data, T))`, µs: {per_msg}")
    body = codec.get("mcp-types (CallToolRequest body only)")
    if body and mb:
        b, p = _us(mb, "call_tool_request"), _us(body, "call_tool_request")
        lines.append(
            "- mcp-types `CallToolRequest.model_validate_json` straight off the frame (drops jsonrpc/id; "
            f"a lower bound): {_fmt(p)} µs, {_fmt(_ratio(p, b))}x mcpbind"
        )
    for variant, msgs in codec.items():
        for msg, slot in msgs.items():
            rt = slot["roundtrip"]
            if not rt["exact"] and variant != "mcp-types (CallToolRequest body only)":
                lines.append(
                    f"- {variant}/{msg} does not round-trip exactly: {'; '.join(rt.get('diff', []))}"
                )
    if mt:
        lines.append(
            "- mcp-types encodes to `str` (model_dump_json): the `.encode()` to bytes is not counted"
        )

    imp = results.get("import_time", {})
    if imp:
        lines += [
            "",
            "Import time (median of fresh `python -X importtime` runs, cached bytecode):",
            "",
            "| import | total ms | ms without its dependency's own import |",
            "|---|---:|---:|",
        ]
        for entry in imp.values():
            total = f"{entry['total_ms']:.1f}"
            if entry["module"] == MCPBIND_MODULE:
                total += f" {'✓' if entry['total_ms'] < TARGET_IMPORT_MS else '✗'} (< {TARGET_IMPORT_MS:g})"
                codec = imp.get("mcpbind", {}).get("children_ms", {}).get("msgspec", 0.0)
                if entry["total_ms"] >= TARGET_IMPORT_MS and codec >= TARGET_IMPORT_MS:
                    total += f"; out of reach: msgspec's own import is {codec:.1f}"
            excl = f"{entry['excl_deps_ms']:.1f} (minus {', '.join(entry['excluded'])})"
            lines.append(f"| `import {entry['module']}` | {total} | {excl} |")
        mcpbind = imp.get("mcpbind")
        if mcpbind and "children_ms" in mcpbind:
            parts = sorted(mcpbind["children_ms"].items(), key=lambda kv: -kv[1])
            split = ", ".join(f"{k} {v:.1f}" for k, v in parts[:5])
            lines.append(f"\nmcpbind import split, ms: module body {mcpbind['self_ms']:.1f}, {split}")

    diag = results.get("diagnostics")
    if diag and mb and "error" not in diag:
        lines += ["", "mcpbind decode, dec_hook calls per message (inclusive µs per call):", ""]
        for msg, d in diag.items():
            per_call = d.get("hook_us_per_call_inclusive", {})
            calls = ", ".join(
                f"{k} x{n} ({per_call.get(k, 0):.2f})" for k, n in d["hook_calls_per_decode"].items()
            )
            decode, floor = _fmt(_us(mb, msg, "decode")), _fmt(_us(ms, msg, "decode"))
            lines.append(
                f"- {MESSAGES[msg]}: {calls or 'none'}; {d['hook_us_per_decode']:.2f} µs under hooks of "
                f"{decode} µs decode (raw msgspec decode {floor})"
            )
    env = results["environment"]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    lines += ["", f"_{env['python']} on {env['platform']}, {env['cpus']} CPUs; {versions}_"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 1 round, 1 repeat, 300 loops, 3 import runs"
    )
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per round and op (default 5)")
    ap.add_argument(
        "--target-time", type=float, default=0.1, help="seconds per repeat when auto-ranging (default 0.1)"
    )
    ap.add_argument("--number", type=int, default=0, help="fixed loops per repeat instead of auto-ranging")
    ap.add_argument(
        "--import-runs", type=int, default=7, help="fresh interpreters per import measurement (default 7)"
    )
    ap.add_argument("--impls", default=",".join(GROUPS), help=f"comma-separated subset of {','.join(GROUPS)}")
    ap.add_argument("--no-import-time", action="store_true", help="skip the import-time measurement")
    ap.add_argument("--peer-python", type=Path, help="interpreter that has mcp-types (skips venv creation)")
    ap.add_argument(
        "--peer-venv", type=Path, default=DEFAULT_PEER_VENV, help="where to create the mcp-types venv"
    )
    ap.add_argument("--no-peer-setup", action="store_true", help="never create the mcp-types venv")
    ap.add_argument(
        "--json-out",
        type=Path,
        default=DEFAULT_JSON_OUT,
        help="raw numbers (default bench/results/codec.json)",
    )
    ap.add_argument("--worker", choices=GROUPS, help=argparse.SUPPRESS)
    ap.add_argument("--numbers", help=argparse.SUPPRESS)
    ap.add_argument("--diagnose", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        json.dump(run_worker(args.worker, args), sys.stdout)
        return 0

    if args.quick:
        args.rounds, args.repeats, args.import_runs = 1, 1, 3
        args.number = args.number or 300
    if args.rounds < 1 or args.repeats < 1:
        ap.error("--rounds and --repeats must be at least 1")
    groups = [g.strip() for g in args.impls.split(",") if g.strip()]
    unknown = set(groups) - set(GROUPS)
    if unknown:
        ap.error(f"unknown --impls {sorted(unknown)}")

    started = time.perf_counter()
    pythons: dict[str, str] = {g: sys.executable for g in groups}
    if "mcp-types" in groups:
        peer = peer_python(args)
        if peer is None:
            groups.remove("mcp-types")
        else:
            pythons["mcp-types"] = peer

    rounds: list[dict[str, dict[str, Any]]] = []
    numbers: dict[str, dict[str, int]] = {g: {} for g in groups}
    for i in range(args.rounds):
        order = groups[i % len(groups) :] + groups[: i % len(groups)]
        rnd = {}
        for g in order:
            print(f"# round {i + 1}/{args.rounds}: {g}", file=sys.stderr)
            rnd[g] = spawn_worker(pythons[g], g, args, numbers[g], diagnose=(i == 0 and g == "mcpbind"))
            numbers[g] = rnd[g]["numbers"]
        rounds.append(rnd)

    first = rounds[0]
    digests = {g: w["payload_sha256"] for g, w in first.items()}
    if len({json.dumps(d, sort_keys=True) for d in digests.values()}) > 1:
        sys.exit(f"error: payloads differ between interpreters: {digests}")
    payloads = build_payloads()

    import_times: dict[str, Any] = {}
    if not args.no_import_time:
        print("# import time", file=sys.stderr)
        if "mcpbind" in groups:
            import_times["mcpbind"] = import_time(
                sys.executable, MCPBIND_MODULE, ["msgspec"], args.import_runs
            )
        if "mcp-types" in groups:
            import_times["mcp-types"] = import_time(
                pythons["mcp-types"],
                "mcp_types",
                ["pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"],
                args.import_runs,
            )

    versions: dict[str, str] = {}
    for w in first.values():
        versions.update(w["versions"])
    results: dict[str, Any] = {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 (peer may be 3.10)
        "config": {
            "rounds": args.rounds,
            "repeats": args.repeats,
            "target_time_s": args.target_time,
            "fixed_number": args.number or None,
            "quick": args.quick,
            "groups": groups,
        },
        "environment": {
            "python": f"CPython {platform.python_version()}",
            "platform": f"{platform.system()} {platform.machine()}",
            "cpus": os.cpu_count(),
            "interpreters": pythons,
            "versions": versions,
        },
        "payloads": {
            m: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for m, b in payloads.items()
        },
        "codec": aggregate(rounds),
        "import_time": import_times,
        "diagnostics": first.get("mcpbind", {}).get("diagnostics"),
    }
    report = render(results)
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(report)

    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=args.json_out.parent, delete=False, suffix=".tmp") as fh:
        json.dump(results, fh, indent=1)
    os.replace(fh.name, args.json_out)
    shown = os.path.relpath(args.json_out, REPO_ROOT) if args.json_out.is_absolute() else args.json_out
    print(f"\n_raw numbers: {shown} ({results['elapsed_s']} s)_")  # (the repository's path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
