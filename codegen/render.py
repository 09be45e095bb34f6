"""Intermediate representation -> Python source, through the jinja2 templates beside this module."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2

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


def member_rule(rule: MemberRule) -> str:
    args = [type_str(rule.type), py_literal(rule.kind)]
    if rule.kind == "object":
        args.append("frozenset({" + ", ".join(py_literal(k) for k in rule.required) + "})")
        consts = ", ".join(
            f"({py_literal(k)}, ({', '.join(py_literal(v) for v in vals)},), {req})"
            for k, vals, req in rule.consts
        )
        args.append(f"({consts},)" if rule.consts else "()")
        args.append("frozenset({" + ", ".join(py_literal(k) for k in rule.declared) + "})")
    return "Member(" + ", ".join(args) + ")"


def params_str(m: Method) -> str:
    if m.params_type is None:
        return "None"
    base = type_str(m.params_type)
    return base if m.params_required else f"{base} | None"


def result_str(m: Method) -> str:
    return " | ".join(m.result_types)


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
        member=member_rule,
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


def render_module(module: Module) -> str:
    template = _env().get_template("revision.py.jinja")
    methods = module.methods
    text = template.render(
        m=module,
        definitions=emission_order(module.definitions),
        requests=[x for x in methods if x.kind == "request"],
        notifications=[x for x in methods if x.kind == "notification"],
        client_requests=for_direction(methods, "request", "client_to_server"),
        client_notifications=for_direction(methods, "notification", "client_to_server"),
        server_requests=for_direction(methods, "request", "server_to_client"),
        server_notifications=for_direction(methods, "notification", "server_to_client"),
        input_requests=for_direction(methods, "request", "input"),
    )
    return format_source(text)


def render_template(name: str, **context: Any) -> str:
    return format_source(_env().get_template(name).render(**context))


def format_source(text: str) -> str:
    """Format with ruff (pinned in the codegen extra) so that output is stable and readable."""
    if importlib.util.find_spec("ruff") is None:
        raise RuntimeError("ruff is needed to format generated code: pip install -e '.[codegen]'")
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--quiet", "--line-length", "110", "-"],
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
