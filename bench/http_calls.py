"""Python calls per HTTP request of the server, by function: where a request's frames go.

Wall clock follows the Python frames a request makes more than its instructions. This feeds each
request's bytes to uvicorn's own httptools protocol in process, as `uvicorn_cost.py` does (one
connection, one request at a time, no socket), warms up, then counts ``--n`` requests under
``sys.setprofile``: each Python frame entered or resumed (``call``) and each C function called, by
function. It prints the totals per request, mcpbind's own frames apart, and the functions above 0.05
per request. The counts do not depend on the machine's load.

    python bench/http_calls.py [2026-json | 2025-json | floor] [--n 500] [--all] [--bytecodes]

With ``--bytecodes``, ``sys.settrace`` counts the bytecodes each function executes instead.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent / "apps"))

from asgi_cost import encode
from client_calls import profiler, tracer
from uvicorn_cost import answered, connected, request_bytes

Key = tuple[str, str]


def _where(frame: FrameType) -> Key:
    code = frame.f_code
    name = code.co_filename
    if "/mcpbind/" in name or "/runtime/" in name:
        name = "mcpbind:" + name.rsplit("/", 1)[-1]
    else:
        name = name.rsplit("/", 1)[-1]
    return name, code.co_qualname


async def run(leg: str, n: int, counts: Counter[Key], bytecodes: bool) -> None:
    protocol, transport, d, era, headers = await connected(leg)
    requests = [request_bytes(encode(d.call("echo", era)), headers) for _ in range(n + 50)]

    async def one(data: bytes) -> None:
        protocol.data_received(data)
        answer = await answered(transport)
        if not answer.startswith(b"HTTP/1.1 200") or answer.find(b"hello from the benchmark driver") < 0:
            raise RuntimeError(answer[:300])

    for data in requests[:50]:
        await one(data)
    if bytecodes:
        sys.settrace(tracer(counts, _where))
    else:
        sys.setprofile(profiler(counts, _where))
    try:
        for data in requests[50:]:
            await one(data)
    finally:
        sys.settrace(None)
        sys.setprofile(None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("leg", nargs="?", default="2026-json", choices=["2026-json", "2025-json", "floor"])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--all", action="store_true", help="list every function, not only those above 0.05")
    ap.add_argument("--bytecodes", action="store_true", help="bytecodes executed by function (sys.settrace)")
    args = ap.parse_args()
    counts: Counter[Key] = Counter()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(run(args.leg, args.n, counts, args.bytecodes))
    n = args.n
    python = sum(c for k, c in counts.items() if k[0] != "C")
    own = sum(c for k, c in counts.items() if k[0].startswith("mcpbind:"))
    c_calls = sum(c for k, c in counts.items() if k[0] == "C")
    what = "bytecodes" if args.bytecodes else "Python frames"
    print(f"{args.leg}: per request {python / n:.2f} {what} ({own / n:.2f} mcpbind's),", end=" ")
    print(f"{c_calls / n:.2f} C calls")
    for (where, name), count in counts.most_common():
        if args.all or count / n > 0.05:
            print(f"  {count / n:7.2f}  {where}  {name}")


if __name__ == "__main__":
    main()
