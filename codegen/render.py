"""Intermediate representation -> Python source, through the jinja2 templates beside this module."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, cast

import jinja2

from .dispatch import Plan, plan
from .model import (
    AliasDef,
    Definition,
    DictOf,
    DispatchDef,
    Field,
    ListOf,
    Lit,
    MemberRule,
    Method,
    Module,
    Prim,
    Ref,
    StructDef,
    TypeExpr,
    Union,
)
from .twin import render_twins

TEMPLATES = Path(__file__).resolve().parent / "templates"


def py_literal(value: Any) -> str:
    """A Python literal for a JSON value, stable across runs."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    return repr(value)


def type_str(expr: TypeExpr) -> str:
    if isinstance(expr, Prim):
        return expr.name
    if isinstance(expr, Ref):
        return expr.name
    if isinstance(expr, ListOf):
        return f"list[{type_str(expr.item)}]"
    if isinstance(expr, DictOf):
        return f"dict[str, {type_str(expr.value)}]"
    if isinstance(expr, Lit):
        return "Literal[" + ", ".join(py_literal(v) for v in expr.values) + "]"
    return " | ".join(type_str(m) for m in expr.members)


def docstring(text: str, indent: str = "    ") -> str:
    """A docstring literal for schema prose (escaped, indented), or nothing for no prose."""
    text = text.strip()
    if not text:
        return ""
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if text.endswith('"'):
        text = text[:-1] + '\\"'
    lines = text.split("\n")
    if len(lines) == 1:
        return f'"""{text}"""'
    body = "\n".join((indent + line) if line.strip() else "" for line in lines[1:])
    return f'"""{lines[0]}\n{body}\n{indent}"""'


def field_type(f: Field) -> str:
    base = type_str(f.type)
    if f.constraints:
        meta = "msgspec.Meta(" + ", ".join(f"{k}={py_literal(v)}" for k, v in f.constraints) + ")"
        members = f.type.members if isinstance(f.type, Union) else (f.type,)
        base = " | ".join(f"_Annotated[{type_str(m)}, {meta}]" for m in members)
    return base if f.required else f"{base} | UnsetType"


def field_default(f: Field) -> str:
    """The right-hand side of a Struct field, or "" when it has none."""
    default = py_literal(f.default) if f.has_default else ("" if f.required else "UNSET")
    if f.py_name == f.wire_name:
        return default
    if default:
        return f"msgspec.field(default={default}, name={py_literal(f.wire_name)})"
    return f"msgspec.field(name={py_literal(f.wire_name)})"


def runtime_deps(expr: TypeExpr) -> set[str]:
    if isinstance(expr, Ref):
        return {expr.name}
    if isinstance(expr, ListOf):
        return runtime_deps(expr.item)
    if isinstance(expr, DictOf):
        return runtime_deps(expr.value)
    if isinstance(expr, Union):
        return set().union(*(runtime_deps(m) for m in expr.members))
    return set()


def emission_order(definitions: list[Definition]) -> list[Definition]:
    """Classes first (their annotations are lazy), then aliases and dispatch tables, dependencies first."""
    classes = [d for d in definitions if isinstance(d, StructDef)]
    rest = [d for d in definitions if not isinstance(d, StructDef)]
    done = {d.name for d in classes}
    by_name = {d.name: d for d in rest}
    out: list[Definition] = list(classes)
    visiting: set[str] = set()

    def deps(d: Definition) -> set[str]:
        if isinstance(d, AliasDef):
            return set() if d.recursive else runtime_deps(d.type)
        assert isinstance(d, DispatchDef)
        return set().union(*(runtime_deps(m.type) for m in d.members))

    def visit(d: Definition) -> None:
        if d.name in done:
            return
        if d.name in visiting:
            raise ValueError(f"runtime reference cycle through {d.name}")
        visiting.add(d.name)
        for name in sorted(deps(d)):
            if name in by_name:
                visit(by_name[name])
        visiting.discard(d.name)
        done.add(d.name)
        out.append(d)

    for d in rest:
        visit(d)
    return out


_SIMPLE_TYPES: Final = {"str": "str", "int": "int", "float": "float", "bool": "bool", "None": "type(None)"}


def _simple_types(expr: TypeExpr, aliases: dict[str, AliasDef]) -> list[str] | None:
    """Python types that make a value valid for `expr` with a shallow check, or None if a shallow
    check cannot decide (nested Structs, typed items); ["*"] accepts anything."""
    if isinstance(expr, Ref) and expr.name in aliases and not aliases[expr.name].recursive:
        return _simple_types(aliases[expr.name].type, aliases)
    if isinstance(expr, Prim):
        return ["*"] if expr.name == "Any" else [_SIMPLE_TYPES[expr.name]]
    if isinstance(expr, Lit):
        return sorted(
            {_SIMPLE_TYPES[type(v).__name__] if v is not None else "type(None)" for v in expr.values}
        )
    if isinstance(expr, DictOf) and expr.value == Prim("Any"):
        return ["dict"]
    if isinstance(expr, ListOf) and expr.item == Prim("Any"):
        return ["list"]
    if isinstance(expr, Union):
        parts = [_simple_types(m, aliases) for m in expr.members]
        if any(p is None for p in parts):
            return None
        flat = sorted({t for p in parts for t in (p or [])})
        return ["*"] if "*" in flat else flat
    return None


def runtime_type(alias: AliasDef, definitions: list[Definition]) -> str:
    """What a recursive alias is at runtime: its structure one level deep, recursion as `Any`
    (msgspec has no recursive aliases; JSON decoding already guarantees what lies deeper)."""
    aliases = {a.name: a for a in definitions if isinstance(a, AliasDef)}

    def expand(expr: TypeExpr, depth: int) -> TypeExpr:
        if isinstance(expr, Ref) and expr.name in aliases and aliases[expr.name].recursive:
            return expand(aliases[expr.name].type, depth + 1) if depth == 0 else Prim("Any")
        if isinstance(expr, ListOf):
            return ListOf(expand(expr.item, depth))
        if isinstance(expr, DictOf):
            return DictOf(expand(expr.value, depth))
        if isinstance(expr, Union):
            members = [expand(m, depth) for m in expr.members]
            return Prim("Any") if Prim("Any") in members else Union(tuple(members))
        return expr

    return type_str(expand(alias.type, 0))


def needs_hook(
    expr: TypeExpr, definitions: dict[str, Definition], seen: frozenset[str] = frozenset()
) -> bool:
    """Whether decoding `expr` reaches an open object or a dispatched union (msgspec then needs the
    dec_hook; without one, msgspec.convert takes a faster path)."""
    if isinstance(expr, Ref):
        if expr.name in seen:
            return False
        d = definitions.get(expr.name)
        if isinstance(d, DispatchDef) or (isinstance(d, StructDef) and d.open):
            return True
        if isinstance(d, StructDef):
            return any(needs_hook(f.type, definitions, seen | {expr.name}) for f in d.fields)
        if isinstance(d, AliasDef) and not d.recursive:
            return needs_hook(d.type, definitions, seen | {expr.name})
        return False
    if isinstance(expr, ListOf):
        return needs_hook(expr.item, definitions, seen)
    if isinstance(expr, DictOf):
        return needs_hook(expr.value, definitions, seen)
    if isinstance(expr, Union):
        return any(needs_hook(m, definitions, seen) for m in expr.members)
    return False


def _literal_values(expr: TypeExpr, aliases: dict[str, AliasDef]) -> tuple[Any, ...] | None:
    """The values a member is limited to (a constant or an enum, through aliases), else None."""
    if isinstance(expr, Ref) and expr.name in aliases and not aliases[expr.name].recursive:
        return _literal_values(aliases[expr.name].type, aliases)
    return expr.values if isinstance(expr, Lit) else None


def open_tables(d: StructDef, definitions: list[Definition]) -> dict[str, Any]:
    """Class attributes of an open object: how `OpenObject._from_wire` checks and completes it; and
    for the template, whether the class gets `_from_wire` written out (`inline`) with the members it
    writes back (`inline_converted`) and the defaults it fills in (`inline_defaults`)."""
    aliases = {a.name: a for a in definitions if isinstance(a, AliasDef)}
    required = [f.wire_name for f in d.fields if f.required and not f.has_default]
    defaults = [(f.wire_name, f.default) for f in d.fields if f.has_default]
    converted = [(f.py_name, f.wire_name) for f in d.fields if _simple_types(f.type, aliases) is None]
    entries: list[str] = []
    checks: list[tuple[str, list[str] | None, str]] = []
    simple = True
    for f in d.fields:
        types = _simple_types(f.type, aliases)
        if types is None or f.constraints:  # bounds are checked by converting into the Struct
            simple = False
            break
        allowed = _literal_values(f.type, aliases)
        spec = "None" if types == ["*"] else "(" + ", ".join(types) + ",)"
        values = "None" if allowed is None else "(" + ", ".join(py_literal(v) for v in allowed) + ",)"
        entries.append(f"{py_literal(f.wire_name)}: ({spec}, {values})")
        checks.append((py_literal(f.wire_name), None if types == ["*"] else types, values))

    def tup(items: list[str]) -> str:
        return "(" + "".join(f"{i}, " for i in items) + ")"

    by_name = {x.name: x for x in definitions}
    hook = any(needs_hook(f.type, by_name) for f in d.fields)
    return {
        # Written out where the general path converts into `_fields_` without the hook: nothing
        # nested reads differently for a peer than for us, so the conversion is the whole check.
        "inline": not simple and not hook,
        # Where every member takes a shallow check: those checks written out (`simple_checks`: the
        # wire name, the accepted types or None for any, the allowed values or "None" for any).
        "inline_simple": simple and bool(d.fields),
        "simple_checks": checks if simple else [],
        "inline_required": [py_literal(r) for r in required],
        # Where every member is a Struct: each one converted on its own, no Struct of them all.
        "inline_structs": [
            (py_literal(f.wire_name), type_str(f.type), f.required)
            for f in d.fields
            if isinstance(f.type, Ref)
            and isinstance(by_name.get(f.type.name), StructDef)
            and not cast(StructDef, by_name[f.type.name]).open
            and not f.constraints
            and not f.has_default
        ]
        if d.fields and len(d.fields) == len(converted)
        else [],
        "inline_converted": [(p, py_literal(w)) for p, w in converted],
        "inline_defaults": [(py_literal(k), py_literal(v)) for k, v in defaults],
        "hook": str(hook),
        "simple": "{" + ", ".join(entries) + "}" if simple else "None",
        "required": tup([py_literal(r) for r in required]),
        "defaults": tup([f"({py_literal(k)}, {py_literal(v)})" for k, v in defaults]),
        "converted": tup([f"({py_literal(p)}, {py_literal(w)})" for p, w in converted]),
    }


def written_out_readers(definitions: list[Definition], plans: dict[str, Plan]) -> set[str]:
    """The open objects and dispatched unions whose `_from_wire` the generator writes out
    (`open_tables`: `inline` or `inline_simple`; a union's `plans`): each can also serve as a
    decoder's whole hook (`hook_reader`)."""
    found = set(plans)
    for d in definitions:
        if isinstance(d, StructDef) and d.open:
            tables = open_tables(d, definitions)
            if tables["inline"] or tables["inline_simple"]:
                found.add(d.name)
    return found


def hook_reader(d: StructDef, definitions: dict[str, Definition], readers: set[str]) -> str | None:
    """The open object or dispatched union whose written-out reader is the hook of every decoder of
    the Struct `d` (`_hook_reader_`, read by `wire.hook_for`; and of a written-out union's conversion
    into `d`), or None for `dec_hook`.

    msgspec calls a decoder's hook with the type it meets and the value. The reader reads a value of
    its own type with one Python call instead of two (`dec_hook`, then the reader); a value of another
    type it hands to that type's reader itself, at what `dec_hook` costs. So any one helps, and the
    one chosen is the one a message holds most surely and most often, among the values met through
    members that are Structs or arrays or maps of Structs (not arms of unions): through
    required members first; of those, one in every item of an array or map (each tool's
    `inputSchema`) before one met once (a request's `params._meta`, a result's `_meta`); then the
    shallowest, then the first in member order."""
    best: tuple[bool, bool, int, int, str] | None = None
    order = 0
    seen = {d.name}
    level: list[tuple[StructDef, bool, bool]] = [(d, False, False)]  # (Struct, optional, repeated)
    depth = 0
    while level:
        deeper: list[tuple[StructDef, bool, bool]] = []
        for struct, optional, repeated in level:
            for f in struct.fields:
                target, items = _struct_ref(f.type, definitions)
                if target is None or target.name in seen:
                    continue
                seen.add(target.name)
                order += 1
                via = (optional or not f.required, repeated or items)
                if isinstance(target, StructDef) and not target.open:
                    deeper.append((target, *via))
                elif target.name in readers:
                    found = (via[0], not via[1], depth, order, target.name)
                    best = found if best is None or found < best else best
        level = deeper
        depth += 1
    return None if best is None else best[4]


def _struct_ref(
    expr: TypeExpr, definitions: dict[str, Definition]
) -> tuple[StructDef | DispatchDef | None, bool]:
    """The Struct, open object or dispatched union `expr` names (through plain aliases), or that each
    item of the array or map `expr` is (then True); (None, False) for anything else."""
    items = False
    if isinstance(expr, (ListOf, DictOf)):
        expr, items = expr.item if isinstance(expr, ListOf) else expr.value, True
    while isinstance(expr, Ref):
        d = definitions.get(expr.name)
        if isinstance(d, (StructDef, DispatchDef)):
            return d, items
        if not isinstance(d, AliasDef) or d.recursive or d.open_tag:
            break
        expr = d.type
        if not items and isinstance(expr, (ListOf, DictOf)):
            expr, items = expr.item if isinstance(expr, ListOf) else expr.value, True
    return None, False


def member_rule(rule: MemberRule, definitions: dict[str, Definition]) -> str:
    args = [type_str(rule.type), py_literal(rule.kind)]
    if rule.kind == "object":
        args.append("frozenset({" + ", ".join(py_literal(k) for k in rule.required) + "})")
        consts = ", ".join(
            f"({py_literal(k)}, ({', '.join(py_literal(v) for v in vals)},), {req})"
            for k, vals, req in rule.consts
        )
        args.append(f"({consts},)" if rule.consts else "()")
        args.append("frozenset({" + ", ".join(py_literal(k) for k in rule.declared) + "})")
    if needs_hook(rule.type, definitions):
        args.append("hooked=True")
    if rule.tag_value is not None:
        args.append(f"tag_value={py_literal(rule.tag_value)}")
    return "Member(" + ", ".join(args) + ")"


def params_str(m: Method) -> str:
    if m.params_type is None:
        return "None"
    base = type_str(m.params_type)
    return base if m.params_required else f"{base} | None"


def result_str(m: Method) -> str:
    return " | ".join(m.result_types)


def received_str(m: Method, definitions: dict[str, Definition]) -> str:
    """What a request's result decodes into: its result types, and `Unknown` where they are an open
    union (a result of a kind the revision lacks is kept, not refused)."""
    d = definitions.get(m.result_type.name) if isinstance(m.result_type, Ref) else None
    is_open = isinstance(d, DispatchDef) and d.tag is not None
    return result_str(m) + (" | Unknown" if is_open else "")


def uses_unknown(module: Module) -> bool:
    return any(
        (isinstance(d, AliasDef) and d.open_tag) or (isinstance(d, DispatchDef) and d.tag)
        for d in module.definitions
    )


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(
        type=type_str,
        doc=docstring,
        lit=py_literal,
        field_type=field_type,
        field_default=field_default,
        params=params_str,
        result=result_str,
        tick=lambda text: f"`{text}`",
    )
    env.tests.update(
        struct=lambda d: isinstance(d, StructDef) and not d.open,
        open=lambda d: isinstance(d, StructDef) and d.open,
        alias=lambda d: isinstance(d, AliasDef),
        dispatch=lambda d: isinstance(d, DispatchDef),
    )
    return env


def for_direction(methods: Iterable[Method], kind: str, *directions: str) -> list[Method]:
    return [m for m in methods if m.kind == kind and any(d in m.directions for d in directions)]


def refs(d: Definition, names: set[str]) -> list[str]:
    """The definitions `d` refers to (annotations, members, aliased types): what must be made with it
    for msgspec to resolve its annotations, and before it where it uses them when made."""
    if isinstance(d, StructDef):
        found = set().union(*(runtime_deps(f.type) for f in d.fields))
    elif isinstance(d, AliasDef):
        found = runtime_deps(d.type)
    else:
        found = set().union(*(runtime_deps(m.type) for m in d.members))
    return sorted((found & names) - {d.name})


def _arm_hook(name: str, definitions: dict[str, Definition], readers: set[str]) -> str | None:
    """The reader a written-out union's conversion into its member `name` takes as its hook, read
    liberally (`hook_reader`), or None for `dec_hook`."""
    d = definitions.get(name)
    if isinstance(d, StructDef) and not d.open:
        return hook_reader(d, definitions, readers)
    return None


def mapped_read(name: str, definitions: dict[str, Definition], readers: set[str]) -> dict[str, Any] | None:
    """How a written-out union reads its member `name` from a peer where every value of one map in it
    is a dispatched union with a written-out reader (the elicitation form's `properties`), or None.

    The member is converted into a copy of it (`<Name>Rest`, and one per Struct on the way) whose map
    holds its values as decoded, by a function of its own (`_read_<Name>`, called from each arm that
    converts into the member); each value is read with the union's reader in one Python loop; the
    member is built from those: no decode hook call and no instance check (msgspec's, through
    `DispatchMeta`, a Python call) per value. The map is reached through required members that are
    closed Structs. Anything that does not read takes the member's general conversion, whose value or
    error stands (so both are as before)."""
    d = definitions.get(name)
    if not isinstance(d, StructDef) or d.open:
        return None
    union = hook_reader(d, definitions, readers)
    if union is None or not isinstance(definitions.get(union), DispatchDef):
        return None
    path: list[tuple[StructDef, Field]] = []
    struct: StructDef = d
    while True:
        for f in struct.fields:
            if f.required and isinstance(f.type, DictOf) and f.type.value == Ref(union):
                path.append((struct, f))
                break
        else:
            for f in struct.fields:
                target = definitions.get(f.type.name) if isinstance(f.type, Ref) else None
                if (
                    f.required
                    and isinstance(target, StructDef)
                    and not target.open
                    and target not in [s for s, _ in path]
                ):
                    path.append((struct, f))
                    struct = target
                    break
            else:
                return None
            continue
        break
    rest = {s.name: f"_{s.name}Rest" for s, _ in path}
    classes = []
    for s, via in path:
        tag = f", tag_field={py_literal(s.tag_field)}, tag={py_literal(s.tag)}" if s.tag_field else ""
        lines = [f"class {rest[s.name]}(Struct, kw_only=True{tag}):"]
        for f in s.fields:
            if f is via:
                next_struct = definitions[f.type.name] if isinstance(f.type, Ref) else None
                # The map itself as decoded (`Any`: msgspec hands the dict over as it is, with no
                # copy of it checked key by key); the reader checks it is an object.
                annotation = rest[next_struct.name] if next_struct is not None else "Any"
            else:
                annotation = field_type(f)
            default = field_default(f)
            lines.append(f"    {f.py_name}: {annotation}" + (f" = {default}" if default else ""))
        classes.append("\n".join(lines))

    def build(level: int, value: str) -> str:
        s, via = path[level]
        args = []
        for f in s.fields:
            if f is not via:
                args.append(f"{f.py_name}={value}.{f.py_name}")
            elif level + 1 < len(path):
                args.append(f"{f.py_name}={build(level + 1, f'{value}.{f.py_name}')}")
            else:
                args.append(f"{f.py_name}=values")
        return f"{s.name}({', '.join(args)})"

    return {
        "classes": classes,
        "rest": rest[d.name],
        "member": d.name,
        "reader": f"_read_{d.name}",
        "names": [*rest.values(), f"_read_{d.name}"],
        "map": ".".join(["rest", *(f.py_name for _, f in path)]),
        "union": union,
        "build": build(0, "rest"),
    }


def _mapped_members(
    p: Plan | None, definitions: dict[str, Definition], readers: set[str]
) -> list[dict[str, Any]]:
    """`mapped_read` of each member a union's written-out path converts into that has one, once."""
    found: dict[str, dict[str, Any]] = {}
    for arm in p.arms if p is not None else ():
        read = mapped_read(arm.type, definitions, readers) if arm.hooked else None
        if read is not None:
            found.setdefault(read["rest"], read)
    return list(found.values())


def dispatch_plans(definitions: list[Definition]) -> dict[str, Plan]:
    """The written-out fast path of each union of `definitions` that has one (`codegen.dispatch`)."""
    by_name = {d.name: d for d in definitions}
    found = (
        (d.name, plan(d, py_literal, lambda r: type_str(r.type), lambda r: needs_hook(r.type, by_name)))
        for d in definitions
        if isinstance(d, DispatchDef)
    )
    return {name: p for name, p in found if p is not None}


FIRST_ANSWERS: Final[tuple[str, ...]] = (
    "InitializeRequestParams",
    "InitializeResult",
    "CallToolRequestParams",
    "RequestMetaObject",
    "NotificationMetaObject",
    "ResultMetaObject",
    "LoggingLevel",
)
"""What a server's first answers read and write (`initialize`, then `tools/call`; the envelope era's
`_meta`): the definitions these reach are written in the revision's module, every other one in the
module its first use reads (`more_module`). A Python module's code is read whole as it is imported,
each function's code objects made whether it runs or not: ~70% of a revision module's import."""

READ_AS_JSON: Final = {"CallToolRequestParams": "InputResponses"}
"""A definition's reference that a server's first answers read as JSON, made apart from the module
(`server.plain`'s params of a call, `Definitions.variant`): the input responses of a retried call
(2026-07-28), whose types reach every content block."""


def first_answers(definitions: list[Definition]) -> set[str]:
    """The names of `definitions` that `FIRST_ANSWERS` reach (those of them the revision has)."""
    names = {d.name for d in definitions}
    by_name = {d.name: d for d in definitions}
    pending = [name for name in FIRST_ANSWERS if name in names]
    reached = set(pending)
    while pending:
        name = pending.pop()
        for ref in refs(by_name[name], names):
            if ref not in reached and READ_AS_JSON.get(name) != ref:
                reached.add(ref)
                pending.append(ref)
    return reached


def more_module(module: Module) -> str:
    """The module holding the definitions of `module` that its first answers do not reach."""
    return f"_{module.module}_more"


def render_module(module: Module, stub: bool = False, more: bool = False) -> str:
    """The runtime module of a revision (its types made on first use), or with `stub` its `.pyi`, or
    with `more` the definitions it reads on first use of one of them (`more_module`)."""
    if more and stub:
        return render_template("more.pyi.jinja", m=module)
    name = "revision.pyi.jinja" if stub else "more.py.jinja" if more else "revision.py.jinja"
    template = _env().get_template(name)
    methods = module.methods
    names = {d.name for d in module.definitions}
    by_name = {d.name: d for d in module.definitions}
    plans = dispatch_plans(module.definitions)
    readers = written_out_readers(module.definitions, plans)
    twins = (
        render_twins(module.twin_messages, module.twin_unions, module.definitions, plans)
        if module.twin_messages and not stub
        else ""
    )
    text = template.render(
        twins=twins,
        twin_messages=module.twin_messages,
        hook_reader=lambda d: hook_reader(d, by_name, readers),
        arm_hook=lambda name: _arm_hook(name, by_name, readers),
        mapped=lambda name: mapped_read(name, by_name, readers),
        mapped_members=lambda d: _mapped_members(plans.get(d.name), by_name, readers),
        open_tables=lambda d: open_tables(d, module.definitions),
        runtime_type=lambda d: runtime_type(d, module.definitions),
        member=lambda rule: member_rule(rule, {x.name: x for x in module.definitions}),
        received=lambda x: received_str(x, {d.name: d for d in module.definitions}),
        uses_unknown=uses_unknown(module),
        plans=plans,
        hooked_plans=any(arm.hooked for p in plans.values() for arm in p.arms),
        readers=bool(readers),
        refs=lambda d: refs(d, names),
        open_unions=any(isinstance(d, AliasDef) and d.open_tag for d in module.definitions),
        unknown_received=any(
            received_str(x, by_name).endswith("| Unknown") for x in methods if x.kind == "request"
        ),
        m=module,
        more_module=more_module(module),
        first=first_answers(module.definitions),
        definitions=emission_order(module.definitions),
        requests=[x for x in methods if x.kind == "request"],
        notifications=[x for x in methods if x.kind == "notification"],
        client_requests=for_direction(methods, "request", "client_to_server"),
        client_notifications=for_direction(methods, "notification", "client_to_server"),
        server_requests=for_direction(methods, "request", "server_to_client"),
        server_notifications=for_direction(methods, "notification", "server_to_client"),
        input_requests=for_direction(methods, "request", "input"),
    )
    return format_source(text, stub=stub)


def render_template(name: str, **context: Any) -> str:
    return format_source(_env().get_template(name).render(**context), stub=name.endswith(".pyi.jinja"))


def format_source(text: str, stub: bool = False) -> str:
    """Format with ruff (pinned in the codegen extra) so that output is stable and readable (`stub`: as
    a `.pyi`, which ruff lays out in its own style)."""
    if importlib.util.find_spec("ruff") is None:
        raise RuntimeError("ruff is needed to format generated code: pip install -e '.[codegen]'")
    done = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "format", "--isolated", "--quiet", "--line-length", "110"),
            *("--stdin-filename", "generated.pyi" if stub else "generated.py", "-"),
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        try:
            compile(text, "<generated>", "exec")
        except SyntaxError as exc:
            lines = text.splitlines()[max(0, (exc.lineno or 1) - 6) : (exc.lineno or 1) + 3]
            raise RuntimeError(f"generated code does not parse: {exc}\n" + "\n".join(lines)) from None
        raise RuntimeError(f"ruff could not format generated code:\n{done.stderr}{done.stdout}")
    return done.stdout
