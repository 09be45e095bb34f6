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

Each row is instructions per call less an empty call's (the loop's own cost); the property rows are the
sums over the payload's three properties. Needs valgrind on PATH.
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


def parts() -> dict[str, Callable[[], Any]]:
    """Each measured part as a call with no arguments (its inputs made here, outside the count)."""
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


def worker(name: str, number: int) -> None:
    call = parts()[name]
    for _ in range(50):  # warm caches (decoders, memos) before counting
        call()
    gc.disable()
    sum(map(id, map(lambda _: call(), repeat(None, number))))


def count(name: str, number: int) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    from codec_instructions import callgrind_count

    return callgrind_count(__file__, [name, str(number)], number)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--number", type=int, default=2000, help="calls counted per part (default 2000)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], int(args.worker[1]))
        return 0
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not on PATH")
    names = list(parts())
    empty = count(names[0], args.number)
    comprehension = 0
    print("| part | instructions per call |")
    print("|---|--:|")
    for name in names[1:]:
        net = count(name, args.number) - empty
        if name.startswith("  a comprehension"):
            comprehension = net
        print(f"| {name} | {net:,} |", flush=True)
    print(f"\n_rows ending x3 include a 3-item comprehension ({comprehension:,}); an empty call: {empty:,}_")
    return 0


if __name__ == "__main__":
    sys.exit(main())
