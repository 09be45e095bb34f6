#!/usr/bin/env python3
"""A measured prototype, not a codec: the InputRequiredResult (elicitation) decoded through a native
twin, in CPU instructions (callgrind) against `wire.decoder(InputRequiredResult)` and raw msgspec.

The codec now decodes this message in one pass itself, by code the generator writes from the schema
(`codegen.twin`, named in the overrides' `[twin]`): the `mcpbind` column is that decode, the `twin`
column this hand-written prototype it was measured against; `--check`'s inputs are the corpus
`tests/generated/test_codec_twin.py` checks the generated decode on.

Why it is slow today: the elicitation's `params` (`ElicitRequestParams`: the form arm's `mode` is
optional) and each form property (`PrimitiveSchemaDefinition`: four members share `"type": "string"`)
are unions msgspec cannot tag, so msgspec decodes the params into plain JSON values, hands them to the
union's reader, which converts them again property by property (`bench/codec_parts.py`).

The twin decodes the whole message natively in one pass, then makes the public objects from it:

* `_meta` as a plain map, made into the `ResultMetaObject` as its own reader makes it (every member
  kept; its one declared member converted);
* `params` as one flat Struct of both arms' members (`message`, `mode`, `requestedSchema`, `url`):
  a form with or without `mode` is read natively, and which arm it is follows the union's rules;
* each property through a union msgspec can tag: one flat Struct per value of `type` holding every
  member's fields of that value (`string`, `array`; `integer` and `number` for `NumberSchema`), and
  `BooleanSchema` itself, the one member whose tag value is its own; the member each property is
  follows the union's written-out path (`PrimitiveSchemaDefinition._from_wire`), built from the flat
  Struct's values;
* the Structs on the way (the result, the `ElicitRequest`, the form's `requestedSchema`) are decoded
  as private subclasses with the same members (only the annotation of the one member that differs),
  then given their public class (`__class__`), not built again.

Anything it does not read so (a member the written-out path would not pick, a value of another type
for any flat member, nesting too deep) is decoded again by `wire.decoder`, whose value or error stands:
exact, paying twice only for unusual input. `--check` compares the two on the payload variants and on
hostile forms (wrong types in properties, unknown and missing `type`, a property that fits two members,
deep nesting, forms without `mode`, `_meta` with undeclared members, the official examples) and on the
codec golden test's one-change variants of each payload variant: same value (type and members), same
encoding, or the same error.

    python bench/codec_twin.py --check
    python bench/codec_twin.py                 # decode+encode per message, each payload variant

Prints instructions per message (decode then encode, as `codec_instructions.py`'s `both`) for
`wire.decoder`, the twin, and raw msgspec (`raw_msgspec.py`; n/a where its tagged form needs `mode`).
"""

import argparse
import gc
import json
import shutil
import sys
from collections.abc import Callable
from itertools import repeat
from pathlib import Path
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType, field

BENCH_DIR = Path(__file__).resolve().parent
MESSAGE = "input_required_result"
VARIANTS = ("bench", "no-mode", "meta-extra", "five-kinds", "legacy-enum")
"""The benchmark's payload; without `mode`; with an undeclared `_meta` member; with an integer and a
multi-select property added (five properties, four members); with a legacy enum property added
(`enumNames`)."""
IMPLS = ("mcpbind", "twin", "msgspec")


def payload(variant: str) -> bytes:
    sys.path.insert(0, str(BENCH_DIR))
    import codec

    data = codec.build_payloads()[MESSAGE]
    if variant == "bench":
        return data
    obj = json.loads(data)
    params = obj["inputRequests"]["confirm-delete"]["params"]
    if variant == "no-mode":
        del params["mode"]
    elif variant == "meta-extra":
        obj["_meta"]["com.example/trace"] = "4bf92f3577b34da6"
    elif variant == "five-kinds":
        properties = params["requestedSchema"]["properties"]
        properties["count"] = {"type": "integer", "title": "Count", "minimum": 1, "maximum": 10}
        properties["tags"] = {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
    elif variant == "legacy-enum":
        properties = params["requestedSchema"]["properties"]
        properties["size"] = {"type": "string", "enum": ["s", "m"], "enumNames": ["Small", "Medium"]}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def twin_decoder() -> Callable[[bytes], Any]:
    """The prototype's decode function (see the module's docstring)."""
    from mcpbind import wire
    from mcpbind.generated import v2026_07_28 as g

    class _String(wire.Struct, kw_only=True, tag_field="type", tag="string"):
        default: str | UnsetType = UNSET
        description: str | UnsetType = UNSET
        format: Literal["date", "date-time", "email", "uri"] | UnsetType = UNSET
        max_length: int | UnsetType = field(default=UNSET, name="maxLength")
        min_length: int | UnsetType = field(default=UNSET, name="minLength")
        title: str | UnsetType = UNSET
        enum: list[str] | UnsetType = UNSET
        one_of: list[g.TitledSingleSelectEnumSchemaOneOfItem] | UnsetType = field(default=UNSET, name="oneOf")
        enum_names: list[str] | UnsetType = field(default=UNSET, name="enumNames")

    class _Integer(wire.Struct, kw_only=True, tag_field="type", tag="integer"):
        default: int | float | UnsetType = UNSET
        description: str | UnsetType = UNSET
        maximum: int | float | UnsetType = UNSET
        minimum: int | float | UnsetType = UNSET
        title: str | UnsetType = UNSET

    class _Number(_Integer, tag="number"):
        pass

    class _Array(wire.Struct, kw_only=True, tag_field="type", tag="array"):
        default: list[str] | UnsetType = UNSET
        description: str | UnsetType = UNSET
        items: Any = UNSET  # (the two multi-select members' `items` differ: converted when chosen)
        max_items: int | UnsetType = field(default=UNSET, name="maxItems")
        min_items: int | UnsetType = field(default=UNSET, name="minItems")
        title: str | UnsetType = UNSET

    class _RequestedSchema(g.ElicitRequestFormParamsRequestedSchema, kw_only=True):
        properties: dict[str, _String | _Integer | _Number | _Array | g.BooleanSchema]  # type: ignore[assignment]

    class _Params(wire.Struct, kw_only=True):
        message: str
        mode: Literal["form", "url"] | UnsetType = UNSET
        requested_schema: _RequestedSchema | UnsetType = field(default=UNSET, name="requestedSchema")
        url: str | UnsetType = UNSET

    class _Elicit(g.ElicitRequest, kw_only=True):
        params: _Params  # type: ignore[assignment]

    class _Result(g.InputRequiredResult, kw_only=True):
        meta: dict[str, Any] | UnsetType = field(default=UNSET, name="_meta")  # type: ignore[assignment]
        input_requests: dict[str, g.CreateMessageRequest | g.ListRootsRequest | _Elicit] | UnsetType = field(  # type: ignore[assignment]
            default=UNSET, name="inputRequests"
        )

    class Other(Exception):
        """Not read by the twin: the general decoder reads it."""

    native = msgspec.json.Decoder(_Result, dec_hook=wire.dec_hook).decode
    general = wire.decoder(g.InputRequiredResult).decode
    convert, new_dict = msgspec.convert, dict.__new__
    Meta, Implementation, server_info = (
        g.ResultMetaObject,
        g.Implementation,
        "io.modelcontextprotocol/serverInfo",
    )
    Result, Elicit, RequestedSchema = (
        g.InputRequiredResult,
        g.ElicitRequest,
        g.ElicitRequestFormParamsRequestedSchema,
    )
    Form, Url = g.ElicitRequestFormParams, g.ElicitRequestURLParams
    String, Number, Boolean = g.StringSchema, g.NumberSchema, g.BooleanSchema
    Untitled, Titled, Multi = (
        g.UntitledSingleSelectEnumSchema,
        g.TitledSingleSelectEnumSchema,
        g.UntitledMultiSelectEnumSchema,
    )
    MultiItems = g.UntitledMultiSelectEnumSchemaItems

    def decode(data: bytes) -> Any:
        try:
            result = native(data)
            meta = result.meta
            if meta is not UNSET:
                made = new_dict(Meta)
                made |= meta
                if server_info in meta:
                    made[server_info] = convert(meta[server_info], Implementation)
                result.meta = made
            requests = result.input_requests
            if requests is not UNSET:
                for request in requests.values():
                    if type(request) is not _Elicit:
                        continue
                    params = request.params
                    schema = params.requested_schema
                    mode = params.mode
                    if mode != "url" and schema is not UNSET:
                        properties = schema.properties
                        for name, p in properties.items():
                            kind = type(p)
                            if kind is _String:
                                if p.enum is UNSET and p.one_of is UNSET:
                                    properties[name] = String(
                                        default=p.default,
                                        description=p.description,
                                        format=p.format,
                                        max_length=p.max_length,
                                        min_length=p.min_length,
                                        title=p.title,
                                    )
                                elif (
                                    p.one_of is UNSET
                                    and p.format is UNSET
                                    and p.max_length is UNSET
                                    and p.min_length is UNSET
                                    and p.enum_names is UNSET
                                ):
                                    properties[name] = Untitled(
                                        default=p.default,
                                        description=p.description,
                                        enum=p.enum,
                                        title=p.title,
                                    )
                                elif (
                                    p.enum is UNSET
                                    and p.format is UNSET
                                    and p.max_length is UNSET
                                    and p.min_length is UNSET
                                ):
                                    properties[name] = Titled(
                                        default=p.default,
                                        description=p.description,
                                        one_of=p.one_of,
                                        title=p.title,
                                    )
                                else:
                                    raise Other
                            elif kind is _Integer or kind is _Number:
                                properties[name] = Number(
                                    default=p.default,
                                    description=p.description,
                                    maximum=p.maximum,
                                    minimum=p.minimum,
                                    title=p.title,
                                    type="integer" if kind is _Integer else "number",
                                )
                            elif kind is _Array:
                                if p.items is UNSET:
                                    raise Other
                                properties[name] = Multi(
                                    default=p.default,
                                    description=p.description,
                                    items=convert(p.items, MultiItems),
                                    max_items=p.max_items,
                                    min_items=p.min_items,
                                    title=p.title,
                                )
                            elif kind is not Boolean:
                                raise Other
                        schema.__class__ = RequestedSchema
                        request.params = Form(message=params.message, mode=mode, requested_schema=schema)
                    elif mode == "url" and params.url is not UNSET:
                        request.params = Url(message=params.message, url=params.url)
                    else:
                        raise Other
                    request.__class__ = Elicit
            result.__class__ = Result
            return result
        except (Other, msgspec.ValidationError, RecursionError):
            return general(data)

    return decode


def codecs(impl: str) -> tuple[Callable[[bytes], Any], Callable[[Any], bytes]]:
    sys.path.insert(0, str(BENCH_DIR))
    from mcpbind import wire
    from mcpbind.generated import v2026_07_28 as g

    if impl == "mcpbind":
        return wire.decoder(g.InputRequiredResult).decode, wire.encoder().encode
    if impl == "twin":
        return twin_decoder(), wire.encoder().encode
    import raw_msgspec

    return msgspec.json.Decoder(raw_msgspec.InputRequiredResult).decode, msgspec.json.Encoder().encode


def worker(impl: str, variant: str, number: int) -> None:
    dec, enc = codecs(impl)
    data = payload(variant)
    for _ in range(50):
        enc(dec(data))
    gc.disable()
    sum(map(len, map(enc, map(dec, repeat(data, number)))))


def hostile() -> list[tuple[str, bytes]]:
    """The inputs `--check` compares the twin and the general decoder on."""
    base = json.loads(payload("bench"))
    cases: list[tuple[str, bytes]] = [(v, payload(v)) for v in VARIANTS]

    def put(label: str, edit: Callable[[dict[str, Any]], None]) -> None:
        obj = json.loads(json.dumps(base))
        edit(obj)
        cases.append((label, json.dumps(obj).encode()))

    def params_of(obj: dict[str, Any]) -> dict[str, Any]:
        return obj["inputRequests"]["confirm-delete"]["params"]  # type: ignore[no-any-return]

    properties: list[Any] = [
        {"type": "string"},
        {"type": "string", "format": "date"},
        {"type": "string", "format": "bogus"},
        {"type": "string", "enum": ["a"]},
        {"type": "string", "enum": "a"},
        {"type": "string", "enum": ["a"], "format": "date"},  # fits two members
        {"type": "string", "enum": ["a"], "enumNames": ["A"]},
        {"type": "string", "oneOf": [{"const": "a", "title": "A"}]},
        {"type": "string", "oneOf": [{"const": "a"}]},
        {"type": "string", "oneOf": [], "enum": []},
        {"type": "string", "maxLength": 1.0},
        {"type": "string", "maxLength": 3, "enum": ["x"]},
        {"type": "string", "default": 3},
        {"type": "string", "enumNames": 3},
        {"type": "string", "x-extra": {"deep": [1, 2]}},
        {"type": "number"},
        {"type": "integer", "minimum": 1, "maximum": 2.5, "default": 2},
        {"type": "number", "default": "x"},
        {"type": "integer", "default": 10**30},
        {"type": "number", "default": 1e308},
        {"type": "boolean"},
        {"type": "boolean", "default": 1},
        {"type": "boolean", "default": True, "enum": [1]},
        {"type": "array", "items": {"type": "string", "enum": ["a"]}},
        {"type": "array", "items": {"anyOf": [{"const": "a", "title": "A"}]}},
        {"type": "array"},
        {"type": "array", "items": {"enum": ["a"]}},
        {"type": "array", "items": 3},
        {"type": "array", "items": {"type": "string", "enum": ["a"]}, "default": ["a"], "minItems": 1},
        {"type": "object"},
        {"type": 3},
        {"type": None},
        {"type": "String"},
        {},
        {"title": "no type"},
        "string",
        5,
        None,
        [1],
    ]
    for prop in properties:
        for with_mode in (True, False):

            def edit(obj: dict[str, Any], prop: Any = prop, with_mode: bool = with_mode) -> None:
                params_of(obj)["requestedSchema"]["properties"]["x"] = prop
                if not with_mode:
                    del params_of(obj)["mode"]

            put(f"property {prop!r}" + ("" if with_mode else ", no mode"), edit)
    schema = base["inputRequests"]["confirm-delete"]["params"]["requestedSchema"]
    params: list[Any] = []
    for mode in (None, "form", "url", "other", 3):
        for keys in range(8):
            p: dict[str, Any] = {} if mode is None else {"mode": mode}
            if keys & 1:
                p["message"] = "m"
            if keys & 2:
                p["requestedSchema"] = schema
            if keys & 4:
                p["url"] = "https://example.com/form"
            params.append(p)
    params += [
        {"mode": "form", "message": "m", "requestedSchema": schema, "url": 3},
        {"mode": "url", "message": "m", "url": "u", "requestedSchema": 3},
        {"message": "m", "requestedSchema": {"properties": {}}},
        {"message": "m", "requestedSchema": {"type": "x", "properties": {}}},
        {"message": "m", "requestedSchema": {"type": "object", "properties": []}},
        {"message": 3, "requestedSchema": schema},
        {"message": "m", "requestedSchema": {"type": "object", "properties": {}, "required": "x"}},
        "x",
        None,
    ]
    for p in params:

        def edit_params(obj: dict[str, Any], p: Any = p) -> None:
            obj["inputRequests"]["confirm-delete"]["params"] = p

        put(f"params {p!r}", edit_params)
    metas: list[Any] = [
        {},
        {"a": 1},
        {"io.modelcontextprotocol/serverInfo": {"name": "n"}},
        {"io.modelcontextprotocol/serverInfo": 3},
        {"io.modelcontextprotocol/serverInfo": {"name": "n", "version": "1", "x": 1}, "k": [1]},
        "x",
        None,
    ]
    for meta in metas:

        def edit_meta(obj: dict[str, Any], meta: Any = meta) -> None:
            obj["_meta"] = meta

        put(f"_meta {meta!r}", edit_meta)
    requests: list[Any] = [
        {"method": "roots/list"},
        {"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 5}},
        {"method": "elicitation/create"},
        {"method": "x"},
        3,
    ]
    for request in requests:

        def edit_request(obj: dict[str, Any], request: Any = request) -> None:
            obj["inputRequests"]["other"] = request

        put(f"request {request!r}", edit_request)
    for top in (
        {},
        {"requestState": "s"},
        {"inputRequests": {}},
        {"inputRequests": 3},
        {"resultType": "x"},
        [],
        3,
    ):
        cases.append((f"result {top!r}", json.dumps(top).encode()))
    for depth in (100, 3000, 100_000):
        hole = json.loads(json.dumps(base))
        params_of(hole)["requestedSchema"]["properties"]["x"] = {"type": "string", "x": "HOLE"}
        text = json.dumps(hole)
        cases.append((f"nested {depth}", text.replace('"HOLE"', "[" * depth + "1" + "]" * depth).encode()))
        cases.append((f"nested {depth}, truncated", text.replace('"HOLE"', "[" * depth).encode()))
    cases += golden_variants()
    examples = Path(__file__).resolve().parent.parent / "schema" / "cache"
    import os

    mirror = Path(os.environ.get("MCPBIND_SCHEMA_MIRROR", examples)) / "2026-07-28" / "examples"
    for name in ("InputRequiredResult",):
        for path in sorted((mirror / name).glob("*.json")):
            cases.append((path.name, path.read_bytes()))
    for name in ("ElicitRequestFormParams", "ElicitRequestURLParams"):
        for path in sorted((mirror / name).glob("*.json")):
            wrapped = {
                "inputRequests": {
                    "a": {"method": "elicitation/create", "params": json.loads(path.read_bytes())}
                }
            }
            cases.append((path.name, json.dumps(wrapped).encode()))
    return cases


def golden_variants() -> list[tuple[str, bytes]]:
    """The codec's golden test's one-change variants of each payload variant (each member removed, each
    value replaced by a value of every JSON kind, an undeclared member added to each object)."""
    root = str(BENCH_DIR.parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.generated.test_codec_golden import variants

    found: list[tuple[str, bytes]] = []
    for variant in VARIANTS:
        for name, doc in variants(json.loads(payload(variant))):
            found.append((f"{variant} | {name}", json.dumps(doc, separators=(",", ":")).encode()))
    return found


def check() -> int:
    from mcpbind import wire
    from mcpbind.generated import v2026_07_28 as g

    general = wire.decoder(g.InputRequiredResult).decode
    twin = twin_decoder()

    def outcome(dec: Callable[[bytes], Any], data: bytes) -> tuple[Any, ...]:
        try:
            value = dec(data)
        except Exception as exc:
            return ("error", type(exc), str(exc))
        return ("value", value, wire.encode(value), repr(value))  # (Structs are equal only of one type)

    cases = hostile()
    differ = 0
    for label, data in cases:
        want, got = outcome(general, data), outcome(twin, data)
        if want != got:
            differ += 1
            print(f"differs: {label}\n  general: {want[-1]}\n  twin:    {got[-1]}")
    print(f"{len(cases)} inputs, {differ} differ")
    return 1 if differ else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare the twin with the general decoder")
    ap.add_argument("--number", type=int, default=1000, help="messages counted per run (default 1000)")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker[0], args.worker[1], int(args.worker[2]))
        return 0
    if args.check:
        return check()
    if shutil.which("valgrind") is None:
        sys.exit("error: valgrind is not on PATH")
    sys.path.insert(0, str(BENCH_DIR))
    from codec_instructions import callgrind_count

    print("| payload | mcpbind | twin | raw msgspec | mcpbind / raw | twin / raw |")
    print("|---|--:|--:|--:|--:|--:|")
    for variant in VARIANTS:
        counts: dict[str, int | None] = {}
        for impl in IMPLS:
            if impl == "msgspec" and variant == "no-mode":
                counts[impl] = None  # (its form is tagged by `mode`)
                continue
            counts[impl] = callgrind_count(__file__, [impl, variant, str(args.number)], args.number)
        raw = counts["msgspec"] or counts_of_bench_raw(args.number)
        mine, twin = counts["mcpbind"] or 0, counts["twin"] or 0
        shown = f"{counts['msgspec']:,}" if counts["msgspec"] else f"n/a ({raw:,} with `mode`)"
        print(
            f"| {variant} | {mine:,} | {twin:,} | {shown} | {mine / raw:.2f}x | {twin / raw:.2f}x |",
            flush=True,
        )
    return 0


def counts_of_bench_raw(number: int) -> int:
    from codec_instructions import callgrind_count

    return callgrind_count(__file__, ["msgspec", "bench", str(number)], number)


if __name__ == "__main__":
    sys.exit(main())
