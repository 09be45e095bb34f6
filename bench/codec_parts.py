#!/usr/bin/env python3
"""Where the InputRequiredResult decode goes, in CPU instructions (callgrind): the parts mcpbind adds to
msgspec's own decode, each measured alone on the benchmark's payload (`bench/codec.py`).

    python bench/codec_parts.py                 # every part, 2000 calls each
    python bench/codec_parts.py --number 500

msgspec hands each value whose type it cannot decode natively (an open object, a dispatched union) to
the decode hook as plain JSON values, then checks the hook returned an instance of the type. Per
message that is one `_meta` (`ResultMetaObject`) and one elicitation's params (`ElicitRequestParams`).
Inside those params, each property of the form (`PrimitiveSchemaDefinition`) is read by the params'
reader in one loop (`codegen.render.mapped_read`), with no hook call or check; built to send, or where
that loop does not read, it goes through the hook, as the property rows measure it. The parts:

* `decode`: the whole message (`wire.decoder(InputRequiredResult).decode`), and raw msgspec's for scale;
* each hook on its decoded JSON (`dec_hook(T, value)`), as msgspec calls it;
* under the property hooks, the one `msgspec.convert` of each property into its member: what any reader
  of the same types has to do, and the check msgspec makes of each result (`isinstance`, through
  `DispatchMeta.__instancecheck__`).

The codec now decodes this message in one pass (`codegen.twin`: the overrides' `[twin]`), with no hook
for either: the `decode` row is that; the hook and conversion rows are what the general decoder pays,
which the one-pass decode falls back to for what it does not read (`wire.decoder(...).general`).

Each row is instructions per call less an empty call's (the loop's own cost); the property rows are the
sums over the payload's three properties. Needs valgrind on PATH.

`--message call_tool_request` or `call_tool_result` splits the one hook those messages pay, their
`_meta` (`RequestMetaObject`, `ResultMetaObject`), the same way: the whole decode and raw msgspec's,
and the decode with the `_meta` read natively into its declared members alone (`wire.members_only`:
no hook, no undeclared member kept, so what a native `_meta` would cost); the hook as msgspec calls
it (the decoder's own, `wire.hook_for`); under it, the conversion any reader of the declared members
pays (`msgspec.convert` into the members' Struct, `_fields_`, or into each nested Struct alone, as
the written-out reader converts it), and the open object made (`dict.__new__` and its in-place or,
the copy that keeps the undeclared members).

    python bench/codec_parts.py --message call_tool_request
"""

from __future__ import annotations

import argparse
import gc
import json
import shutil
import sys
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
MESSAGE = "input_required_result"
META_MESSAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "call_tool_request": ("CallToolRequest", ("params", "_meta")),
    "call_tool_result": ("CallToolResult", ("_meta",)),
}
"""The messages whose one hook is their `_meta`'s reader: the type decoded, and where the `_meta` is."""


def parts(message: str = MESSAGE) -> dict[str, Callable[[], Any]]:
    """Each measured part as a call with no arguments (its inputs made here, outside the count)."""
    if message in META_MESSAGES:
        return meta_parts(message)
    sys.path.insert(0, str(BENCH_DIR))
    import codec
    import msgspec
    import raw_msgspec

    from mcpbind import wire
    from mcpbind.generated import v2026_07_28 as g

    data = codec.build_payloads()[MESSAGE]
    payload = json.loads(data)
    meta = payload["_meta"]
    params = payload["inputRequests"]["confirm-delete"]["params"]
    props = tuple(params["requestedSchema"]["properties"].values())
    union = g.PrimitiveSchemaDefinition
    values = tuple(wire.dec_hook(union, p) for p in props)
    pairs = tuple((p, type(v)) for p, v in zip(props, values, strict=True))
    hook, convert = wire.dec_hook, msgspec.convert
    mine = wire.decoder(g.InputRequiredResult).decode
    raw = msgspec.json.Decoder(raw_msgspec.InputRequiredResult).decode
    return {
        "empty call": lambda: None,
        "decode: mcpbind": lambda: mine(data),
        "decode: raw msgspec": lambda: raw(data),
        "hook: ResultMetaObject": lambda: hook(g.ResultMetaObject, meta),
        "hook: ElicitRequestParams (with what it holds)": lambda: hook(g.ElicitRequestParams, params),
        "hooks: PrimitiveSchemaDefinition x3": lambda: [hook(union, p) for p in props],
        "  of which msgspec.convert into the member x3": lambda: [convert(p, m) for p, m in pairs],
        "checks: isinstance(member, union) x3": lambda: [isinstance(v, union) for v in values],
        "  a comprehension of 3 doing nothing": lambda: [None for _ in props],
    }


def meta_parts(message: str) -> dict[str, Callable[[], Any]]:
    """The parts of a message whose one hook is its `_meta`'s reader (`META_MESSAGES`)."""
    sys.path.insert(0, str(BENCH_DIR))
    import codec
    import msgspec
    import raw_msgspec

    from mcpbind import wire
    from mcpbind.generated import v2026_07_28 as g

    type_name, path = META_MESSAGES[message]
    tp = getattr(g, type_name)
    data = codec.build_payloads()[message]
    meta = json.loads(data)
    for key in path:
        meta = meta[key]
    mine = wire.decoder(tp).decode
    raw = msgspec.json.Decoder(raw_msgspec.TYPES[message]).decode
    hook = wire.hook_for(tp)
    holder = tp if path == ("_meta",) else g.CallToolRequestParams  # the Struct with the `_meta`
    annotated = next(f.type for f in msgspec.structs.fields(holder) if f.encode_name == "_meta")
    open_type = next(a for a in (annotated, *getattr(annotated, "__args__", ())) if hasattr(a, "_fields_"))
    members = open_type._fields_
    convert, new = msgspec.convert, dict.__new__

    def made() -> Any:
        inst = new(open_type)
        inst |= meta
        return inst

    # The message with its `_meta` decoded natively into the declared members alone (no hook, no
    # undeclared member kept): what the decode would cost if msgspec could keep the rest itself.
    lean = msgspec.json.Decoder(lean_type(tp, path)).decode
    rows: dict[str, Callable[[], Any]] = {
        "empty call": lambda: None,
        f"decode: mcpbind {type_name}": lambda: mine(data),
        "decode: raw msgspec": lambda: raw(data),
        f"decode: `_meta` as its declared members, natively (wire.members_only({type_name}))": lambda: lean(
            data
        ),
        f"hook: {open_type.__name__} (the decoder's own)": lambda: hook(open_type, meta),
        f"  msgspec.convert into its members ({members.__name__})": lambda: convert(meta, members),
    }
    for f in msgspec.structs.fields(members):
        nested = next(
            (a for a in (f.type, *getattr(f.type, "__args__", ())) if hasattr(a, "__struct_fields__")), None
        )
        if nested is not None and f.encode_name in meta:
            value = meta[f.encode_name]
            rows[f"  msgspec.convert of `{f.encode_name}` alone ({nested.__name__})"] = (
                lambda value=value, nested=nested: convert(value, nested)
            )
    rows["  the open object made (dict.__new__ and in-place or)"] = made
    return rows


def lean_type(tp: Any, path: tuple[str, ...]) -> Any:
    """`tp` with the Struct that holds the `_meta` at `path` as `wire.members_only` makes it: the
    open object decoded natively into its declared members. The Structs on the way are made again
    with the same members and tag (`members_only` keeps no tag: a request's `method`)."""
    import msgspec

    from mcpbind import wire

    if len(path) == 1:
        return wire.members_only(tp)
    config = tp.__struct_config__
    fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(tp):
        kind = lean_type(f.type, path[1:]) if f.encode_name == path[0] else f.type
        fields.append((f.name, kind) if f.required else (f.name, kind, f.default))
    return msgspec.defstruct(
        tp.__name__,
        fields,
        kw_only=True,
        rename={f.name: f.encode_name for f in msgspec.structs.fields(tp)},
        tag_field=config.tag_field,
        tag=config.tag,
    )


def worker(message: str, name: str, number: int) -> None:
    call = parts(message)[name]
    for _ in range(50):  # warm caches (decoders, memos) before counting
        call()
    gc.disable()
    sum(map(id, map(lambda _: call(), repeat(None, number))))


def count(message: str, name: str, number: int) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    from codec_instructions import callgrind_count

    return callgrind_count(__file__, [message, name, str(number)], number)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--number", type=int, default=2000, help="calls counted per part (default 2000)")
    ap.add_argument(
        "--message",
        default=MESSAGE,
        choices=(MESSAGE, *META_MESSAGES),
        help=f"the message whose decode is split (default {MESSAGE})",
    )
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not on PATH")
    names = list(parts(args.message))
    empty = count(args.message, names[0], args.number)
    comprehension = 0
    print("| part | instructions per call |")
    print("|---|--:|")
    for name in names[1:]:
        net = count(args.message, name, args.number) - empty
        if name.startswith("  a comprehension"):
            comprehension = net
        print(f"| {name} | {net:,} |", flush=True)
    if args.message == MESSAGE:
        print(
            f"\n_rows ending x3 include a 3-item comprehension ({comprehension:,}); an empty call: {empty:,}_"
        )
    else:
        print(f"\n_an empty call: {empty:,}_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
