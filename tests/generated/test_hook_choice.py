"""The decode hook each generated Struct's decoders take, chosen by the generator (`_hook_reader_`).

`codegen.render.hook_reader` picks, per Struct, the open object whose written-out reader serves as the
whole hook of its decoders (`wire.hook_for` reads the choice, with no walk of the type at run time).
Here: the rule on small models, and every choice of every revision against the types themselves (the
reader is written out, and decoding the Struct meets its type through Struct members).
"""

from __future__ import annotations

import importlib
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from mcpbind import wire
from mcpbind.codegen.model import DictOf, DispatchDef, Field, ListOf, MemberRule, Prim, Ref, StructDef, Union
from mcpbind.codegen.render import hook_reader
from mcpbind.generated import REVISIONS


def _field(name: str, tp: Any, required: bool = True) -> Field:
    return Field(py_name=name, wire_name=name, type=tp, required=required)


def _open(name: str) -> StructDef:
    return StructDef(name, "", [_field("k", Prim("str"), False)], open=True)


def _choose(root: StructDef, *others: Any, readers: tuple[str, ...] = ("Meta", "Schema", "Other")) -> Any:
    definitions = {d.name: d for d in (root, *others)}
    return hook_reader(root, definitions, set(readers))


META, SCHEMA, OTHER = _open("Meta"), _open("Schema"), _open("Other")


def test_a_structs_own_meta_or_its_params_meta() -> None:
    result = StructDef("Result", "", [_field("_meta", Ref("Meta"), False), _field("n", Prim("int"))])
    assert _choose(result, META) == "Meta"
    params = StructDef("Params", "", [_field("_meta", Ref("Meta"))])
    request = StructDef("Request", "", [_field("id", Prim("int")), _field("params", Ref("Params"))])
    assert _choose(request, params, META) == "Meta"
    # An open object without a written-out reader cannot serve.
    assert _choose(result, META, readers=()) is None


def test_required_before_optional_then_every_item_before_once() -> None:
    tool = StructDef("Tool", "", [_field("inputSchema", Ref("Schema"))])
    listed = StructDef(
        "Listed", "", [_field("_meta", Ref("Meta"), False), _field("tools", ListOf(Ref("Tool")))]
    )
    assert _choose(listed, tool, META, SCHEMA) == "Schema"  # in each item of a required array
    maybe = StructDef(
        "Maybe", "", [_field("_meta", Ref("Meta")), _field("tools", ListOf(Ref("Tool")), False)]
    )
    assert _choose(maybe, tool, META, SCHEMA) == "Meta"  # required, once, beats an optional array's
    mapped = StructDef("Mapped", "", [_field("other", Ref("Other")), _field("by", DictOf(Ref("Tool")))])
    assert _choose(mapped, tool, OTHER, SCHEMA) == "Schema"
    both = StructDef("Both", "", [_field("a", Ref("Other"), False), _field("b", Ref("Meta"), False)])
    assert _choose(both, META, OTHER) == "Other"  # the first in member order


def test_arms_of_unions_are_not_followed() -> None:
    union = DispatchDef("Either", "", [MemberRule(Ref("Meta"), "object"), MemberRule(Ref("Other"), "object")])
    holder = StructDef(
        "Holder", "", [_field("x", Ref("Either")), _field("y", Union((Ref("Meta"), Prim("None"))))]
    )
    assert _choose(holder, union, META, OTHER) is None


def test_a_written_out_union_in_every_value_of_a_map() -> None:
    # The elicitation form: each property of `requestedSchema` is a dispatched union.
    union = DispatchDef("Prop", "", [MemberRule(Ref("Meta"), "object"), MemberRule(Ref("Other"), "object")])
    schema = StructDef("Schema", "", [_field("properties", DictOf(Ref("Prop")))])
    form = StructDef(
        "Form", "", [_field("_meta", Ref("Meta"), False), _field("requestedSchema", Ref("Schema"))]
    )
    assert _choose(form, schema, union, META, OTHER, readers=("Meta", "Prop")) == "Prop"
    assert _choose(form, schema, union, META, OTHER, readers=("Meta",)) == "Meta"  # no written-out reader


def _generated_structs() -> list[tuple[str, type[msgspec.Struct]]]:
    found = []
    for revision, module_name in REVISIONS.items():
        if revision not in module_name.replace("_", "-"):
            continue  # an alias (`draft`)
        module = importlib.import_module(module_name)
        module._definitions.make_all()
        for name in sorted(module._DEFINITIONS):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                found.append((revision, value))
    return found


STRUCTS = _generated_structs()


def _met(node: Any, seen: set[Any]) -> set[type]:
    """The custom types (what msgspec hands the hook) decoding `node` meets, anywhere."""
    if isinstance(node, mi.CustomType):
        return {node.cls}
    if isinstance(node, mi.StructType):
        if node.cls in seen:
            return set()
        seen.add(node.cls)
        return set().union(*(_met(f.type, seen) for f in node.fields))
    children = [getattr(node, a) for a in ("item_type", "key_type", "value_type") if hasattr(node, a)]
    children += list(getattr(node, "types", ()))
    return set().union(*(_met(c, seen) for c in children))


def test_every_choice_is_a_written_out_reader_the_struct_meets() -> None:
    chosen = 0
    for revision, tp in STRUCTS:
        name = tp.__dict__.get("_hook_reader_")
        hook = wire.hook_for(tp)
        if name is None:
            assert hook is wire.dec_hook, (revision, tp)
            continue
        chosen += 1
        reader = getattr(importlib.import_module(tp.__module__), name)
        assert issubclass(reader, (wire.OpenObject, wire.UnionDispatch))
        assert hook is vars(reader)["_from_wire"].__func__, (revision, tp)
        assert reader in _met(mi.type_info(tp), set()), (revision, tp, name)
    assert chosen > 100  # (the requests, results and notifications of every revision)


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
def test_every_reader_chosen_hands_on_what_is_not_its_own(revision: str) -> None:
    # Called as a hook with another type, a chosen reader gives what `dec_hook` gives.
    module = importlib.import_module(REVISIONS[revision])
    readers = {
        tp.__dict__["_hook_reader_"] for r, tp in STRUCTS if r == revision and "_hook_reader_" in tp.__dict__
    }
    value = {"type": "object", "io.modelcontextprotocol/serverInfo": {"name": "s", "version": "1"}}
    for name in sorted(readers):
        hook = vars(getattr(module, name))["_from_wire"].__func__
        for other in sorted(readers - {name}):
            tp = getattr(module, other)
            try:
                expected: Any = wire.dec_hook(tp, dict(value))
            except (TypeError, ValueError) as exc:
                with pytest.raises(type(exc)):
                    hook(tp, dict(value))
            else:
                got = hook(tp, dict(value))
                assert type(got) is type(expected) and got == expected
