"""Schema -> intermediate representation.

The rules are generic; what varies between revisions is data (`schema/errata`, `schema/overrides`):

* an object with properties is a Struct named after its definition, or after its parent and property
  when inline (`CallToolRequest.params` -> `CallToolRequestParams`); one that admits undeclared members
  (`additionalProperties`, or any `_meta`) is an open object;
* a required constant becomes a msgspec tag when it can discriminate (`method`, then `type`, then any
  other; never `jsonrpc`, which every message shares), so unions of such Structs are native tagged unions;
* any other union of objects is dispatched by the keys and constants of its members;
* a union the overrides name open (`[open_unions]`: by a tag, and a member that marks the unions it
  applies to) is selected by that tag, and a value of it no member takes is kept as `wire.Unknown`
  when read; content blocks stay a native msgspec union, marked open for the runtime;
* `number` is `int | float`, so 1 and 1.0 both survive a round trip as written.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Final

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
from .source import SchemaError, Source, union_members

ANY = Prim("Any")
NUMBER = Union((Prim("int"), Prim("float")))
_PRIMS = {"string": Prim("str"), "integer": Prim("int"), "boolean": Prim("bool"), "null": Prim("None")}

#: Tag preference: the member that selects a message, then the one that selects a content kind.
TAG_PRIORITY = ("method", "type")
#: Constants that never discriminate: every JSON-RPC message carries the same version.
NEVER_TAG = frozenset({"jsonrpc"})
#: JSON Schema bounds and the msgspec.Meta constraint each becomes.
CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
}
#: Names a declared member of an open object cannot take as a property (they are dict methods).
_DICT_ATTRS = frozenset(dir(dict))


def snake(name: str) -> str:
    """Python attribute name for a wire name: `inputSchema` -> `input_schema`, `_meta` -> `meta`,
    `io.modelcontextprotocol/protocolVersion` -> `protocol_version`, `$schema` -> `schema`."""
    name = name.rsplit("/", 1)[-1].lstrip("_$")
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    name = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    if keyword.iskeyword(name) or not name:
        name += "_"
    return name


def pascal(name: str) -> str:
    name = name.rsplit("/", 1)[-1].lstrip("_$")
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9a-zA-Z]", name) if part)


def stem(definition: str) -> str:
    """`CallToolRequest` -> `CallTool`; `CancelledNotification` -> `Cancelled`."""
    for suffix in ("Request", "Notification"):
        if definition.endswith(suffix) and definition != suffix:
            return definition[: -len(suffix)]
    return definition


def const_name(method: str) -> str:
    """`tools/call` -> `TOOLS_CALL`; `notifications/resources/list_changed` -> `..._LIST_CHANGED`."""
    return re.sub(r"[^0-9A-Za-z]+", "_", snake_words(method)).strip("_").upper()


def snake_words(text: str) -> str:
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)


class Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.defs = source.defs
        self.prefix = source.ref_prefix
        self.built: dict[str, Definition] = {}
        self.order: list[str] = []
        self.building: set[str] = set()
        self.dispatch_by_members: dict[frozenset[TypeExpr], str] = {}
        self.meta_defs = self.referenced_by_meta(source.defs)
        self.open_defs: frozenset[str] = frozenset(source.overrides.get("open", {}).get("objects", []))
        self.property_defaults: dict[str, Any] = dict(source.overrides.get("property_defaults", {}))
        self.unbounded: frozenset[str] = frozenset(source.overrides.get("read_lenient", {}).get("bounds", []))
        self.read_optional: frozenset[str] = frozenset(
            source.overrides.get("read_optional", {}).get("members", [])
        )
        self.open_unions: dict[str, str] = {}
        for tag, rule in source.overrides.get("open_unions", {}).items():
            if not isinstance(rule, dict) or not isinstance(rule.get("admitting"), str):
                raise SchemaError(f'{source.pin.name}: [open_unions.{tag}] needs `admitting = "<member>"`')
            self.open_unions[tag] = rule["admitting"]
        self.opened_tags: set[str] = set()
        self.open_by_members: dict[frozenset[TypeExpr], str] = {}
        self.dispatch_hints: dict[str, dict[str, list[Any]]] = {
            k: dict(v) for k, v in source.overrides.get("dispatch_consts", {}).items()
        }

    def referenced_by_meta(self, node: Any) -> set[str]:
        """Definitions some `_meta` member refers to: open objects, whatever they declare."""
        found: set[str] = set()
        if isinstance(node, dict):
            meta = (
                node.get("properties", {}).get("_meta") if isinstance(node.get("properties"), dict) else None
            )
            if isinstance(meta, dict) and "$ref" in meta:
                found.add(self.ref_name(meta["$ref"]))
            for value in node.values():
                found |= self.referenced_by_meta(value)
        elif isinstance(node, list):
            for value in node:
                found |= self.referenced_by_meta(value)
        return found

    # -- definitions -------------------------------------------------------------------------------

    def ref_name(self, ref: str) -> str:
        if not ref.startswith(self.prefix):
            raise SchemaError(f"unsupported reference {ref}")
        return ref[len(self.prefix) :]

    def register(self, definition: Definition) -> None:
        existing = self.built.get(definition.name)
        if existing is not None and existing is not definition:
            raise SchemaError(f"two different types would be named {definition.name}")
        self.built[definition.name] = definition
        if definition.name not in self.order:
            self.order.append(definition.name)

    def define(self, name: str) -> Definition | None:
        """Build definition `name` (once); None while it is being built (a reference cycle)."""
        if name in self.built:
            return self.built[name]
        if name in self.building:
            return None
        if name not in self.defs:
            raise SchemaError(f"reference to unknown definition {name}")
        self.building.add(name)
        node = self.defs[name]
        doc = node.get("description", "")
        if self.is_object(node):
            definition: Definition = self.struct(name, node, doc)
        elif "anyOf" in node or "oneOf" in node:
            expr = self.union(node.get("anyOf", node.get("oneOf", [])), name, doc)
            found = self.built.get(name)
            definition = found if found is not None else AliasDef(name, doc, expr)
        else:
            definition = AliasDef(name, doc, self.type_of(node, name))
        self.building.discard(name)
        if isinstance(definition, AliasDef) and self.refers_to(definition.type, name):
            definition.recursive = True
        self.register(definition)
        return definition

    def refers_to(self, expr: TypeExpr, name: str, seen: frozenset[str] = frozenset()) -> bool:
        if isinstance(expr, Ref):
            if expr.name == name:
                return True
            if expr.name in seen:
                return False
            target = self.built.get(expr.name)
            if isinstance(target, AliasDef):
                return self.refers_to(target.type, name, seen | {expr.name})
            return False
        if isinstance(expr, ListOf):
            return self.refers_to(expr.item, name, seen)
        if isinstance(expr, DictOf):
            return self.refers_to(expr.value, name, seen)
        if isinstance(expr, Union):
            return any(self.refers_to(m, name, seen) for m in expr.members)
        return False

    @staticmethod
    def is_object(node: dict[str, Any]) -> bool:
        if "allOf" in node:
            return True
        return bool(node.get("properties")) and node.get("type", "object") == "object"

    # -- objects -----------------------------------------------------------------------------------

    def merged(self, node: dict[str, Any]) -> tuple[dict[str, Any], list[str], Any]:
        """Properties, required and additionalProperties of an object, `allOf` parts merged."""
        props: dict[str, Any] = {}
        required: list[str] = []
        extra: Any = node.get("additionalProperties")
        for part in node.get("allOf", []):
            if "$ref" in part:
                part = self.defs[self.ref_name(part["$ref"])]
            p, r, e = self.merged(part)
            for key, value in p.items():
                props[key] = {**props[key], **value} if key in props else value
            required += [k for k in r if k not in required]
            extra = e if e is not None else extra
        for key, value in node.get("properties", {}).items():
            props[key] = {**props[key], **value} if key in props else value
        required += [k for k in node.get("required", []) if k not in required]
        return props, required, extra

    def struct(self, name: str, node: dict[str, Any], doc: str, meta: bool = False) -> StructDef:
        props, required, extra = self.merged(node)
        is_open = (
            meta
            or name in self.meta_defs
            or name in self.open_defs
            or (extra is not None and extra is not False)
        )
        fields: list[Field] = []
        consts: list[Field] = []
        for wire, prop in props.items():
            ctx = name + pascal(wire)
            is_required = wire in required and wire not in self.read_optional
            if "const" in prop:
                ftype: TypeExpr = Lit((prop["const"],))
            else:
                ftype = self.type_of(prop, ctx, meta=wire == "_meta")
            bounds = tuple(
                (CONSTRAINTS[k], prop[k])
                for k in CONSTRAINTS
                if k in prop and "$ref" not in prop and wire not in self.unbounded
            )
            fld = Field(
                snake(wire), wire, ftype, is_required, doc=prop.get("description", ""), constraints=bounds
            )
            if "const" in prop and is_required:
                fld.default, fld.has_default = prop["const"], True
                consts.append(fld)
            elif is_required and (
                f"{name}.{wire}" in self.property_defaults or wire in self.property_defaults
            ):
                fld.default = self.property_defaults.get(f"{name}.{wire}", self.property_defaults.get(wire))
                fld.has_default = True
            fields.append(fld)
        definition = StructDef(name, doc, fields, open=is_open)
        if not is_open:
            candidates = [
                f for f in consts if f.wire_name not in NEVER_TAG and isinstance(f.default, (str, int))
            ]
            candidates.sort(
                key=lambda f: (
                    TAG_PRIORITY.index(f.wire_name) if f.wire_name in TAG_PRIORITY else len(TAG_PRIORITY),
                    f.wire_name,
                )
            )
            if candidates:
                tag = candidates[0]
                definition.tag_field, definition.tag, definition.tag_doc = tag.wire_name, tag.default, tag.doc
                definition.fields = [f for f in fields if f is not tag]
        seen: dict[str, str] = {}
        for f in definition.fields:
            if is_open and f.py_name in _DICT_ATTRS:
                f.py_name += "_"
            if f.py_name in seen:
                raise SchemaError(f"{name}: members {seen[f.py_name]} and {f.wire_name} share a Python name")
            seen[f.py_name] = f.wire_name
        self.register(definition)
        return definition

    # -- types -------------------------------------------------------------------------------------

    def type_of(self, node: dict[str, Any], ctx: str, meta: bool = False) -> TypeExpr:
        if "$ref" in node:
            name = self.ref_name(node["$ref"])
            self.define(name)
            return Ref(name)
        if "const" in node:
            return Lit((node["const"],))
        if "enum" in node:
            return Lit(tuple(node["enum"]))
        if "anyOf" in node or "oneOf" in node:
            return self.union(node.get("anyOf", node.get("oneOf", [])), ctx, node.get("description", ""))
        if "allOf" in node or (node.get("properties") and node.get("type", "object") == "object"):
            return Ref(self.struct(ctx, node, node.get("description", ""), meta=meta).name)
        kind = node.get("type")
        if isinstance(kind, list):
            return self.simplify([self.type_of({**node, "type": k}, ctx) for k in kind])
        if kind == "object":
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return DictOf(self.type_of(extra, ctx + "Value"))
            return DictOf(ANY)
        if kind == "array":
            items = node.get("items")
            return ListOf(self.type_of(items, ctx + "Item") if isinstance(items, dict) and items else ANY)
        if kind == "number":
            return NUMBER
        if kind in _PRIMS:
            return _PRIMS[kind]
        return ANY

    # -- unions ------------------------------------------------------------------------------------

    def flatten(self, expr: TypeExpr) -> list[TypeExpr]:
        if isinstance(expr, Union):
            return [m for e in expr.members for m in self.flatten(e)]
        if isinstance(expr, Ref):
            target = self.built.get(expr.name)
            if isinstance(target, AliasDef) and not target.recursive and target.open_tag is None:
                if isinstance(target.type, (Union, Ref)):
                    return self.flatten(target.type)
            if isinstance(target, DispatchDef):
                return [m for rule in target.members for m in self.flatten(rule.type)]
        return [expr]

    def simplify(self, members: list[TypeExpr]) -> TypeExpr:
        flat: list[TypeExpr] = []
        for m in members:
            for e in self.flatten(m):
                if e not in flat:
                    flat.append(e)
        if ANY in flat:
            return ANY
        if Prim("str") in flat:
            flat = [m for m in flat if not (isinstance(m, Lit) and all(isinstance(v, str) for v in m.values))]
        lits = [m for m in flat if isinstance(m, Lit)]
        if len(lits) > 1:
            merged = Lit(tuple(v for lit in lits for v in lit.values))
            flat = [merged if m is lits[0] else m for m in flat if not isinstance(m, Lit) or m is lits[0]]
        return flat[0] if len(flat) == 1 else Union(tuple(flat))

    def union(self, nodes: list[dict[str, Any]], ctx: str, doc: str) -> TypeExpr:
        exprs = [self.type_of(n, f"{ctx}Option{i}" if len(nodes) > 1 else ctx) for i, n in enumerate(nodes)]
        expr = self.simplify(exprs)
        if not isinstance(expr, Union):
            return expr
        opened = self.opened(ctx, doc, expr.members)
        if opened is not None:
            return opened
        if self.native(expr.members):
            return expr
        return Ref(self.dispatch(ctx, doc, list(expr.members)))

    def opened(self, ctx: str, doc: str, members: tuple[TypeExpr, ...]) -> Ref | None:
        """An open union (`[open_unions]`) for these members, or None if no rule applies to them."""
        for tag, marker in self.open_unions.items():
            if Ref(marker) not in members:
                continue
            values = [self.selector(m, tag) for m in members]
            if None in values or len(set(values)) != len(values):
                continue  # members share a value (ServerResult: every kind "complete"): not selectable
            self.opened_tags.add(tag)
            if not self.native(members):
                return Ref(self.dispatch(ctx, doc, list(members), tag))
            name = self.open_by_members.get(frozenset(members))
            if name is None:
                self.register(AliasDef(ctx, doc, Union(members), open_tag=tag))
                name = self.open_by_members[frozenset(members)] = ctx
            return Ref(name)
        return None

    def selector(self, expr: TypeExpr, tag: str) -> Any:
        """The value of `tag` that selects member `expr`: its tag constant, or the default of its `tag`
        member (results: "complete", and "input_required" for InputRequiredResult); else None."""
        target = self.built.get(expr.name) if isinstance(expr, Ref) else None
        if not isinstance(target, StructDef):
            return None
        if target.tag_field == tag:
            return target.tag
        return next((f.default for f in target.fields if f.wire_name == tag and f.has_default), None)

    def native(self, members: tuple[TypeExpr, ...]) -> bool:
        """Whether msgspec can decode this union by itself."""
        objects: list[StructDef | None] = []
        kinds: list[str] = []
        for m in members:
            target = self.built.get(m.name) if isinstance(m, Ref) else None
            if isinstance(m, Ref):
                if target is None and not self.is_object(self.defs[m.name]):
                    # Still being built (a reference cycle): its raw schema tells its JSON kind.
                    raw = self.defs[m.name].get("type")
                    if not isinstance(raw, str) or raw == "number":
                        return False
                    kinds.append(raw)
                    continue
                if isinstance(target, AliasDef):
                    kinds.append(self.kind_of(target.type))
                    continue
                if not isinstance(target, StructDef) or target.open:
                    return False
                objects.append(target)
                continue
            kinds.append(self.kind_of(m))
        if "object" in kinds and objects:
            return False
        if len(objects) > 1:
            fields = {o.tag_field for o in objects if o is not None}
            tags = [o.tag for o in objects if o is not None]
            if len(fields) != 1 or None in fields or len(set(tags)) != len(tags):
                return False
        return len(kinds) == len(set(kinds))

    def kind_of(self, expr: TypeExpr) -> str:
        if isinstance(expr, Prim):
            return {"str": "string", "int": "integer", "float": "float", "bool": "boolean"}.get(
                expr.name, "null"
            )
        if isinstance(expr, Lit):
            return "string" if isinstance(expr.values[0], str) else "integer"
        if isinstance(expr, ListOf):
            return "array"
        if isinstance(expr, DictOf):
            return "object"
        if isinstance(expr, Ref):
            target = self.built.get(expr.name)
            if isinstance(target, AliasDef):
                return self.kind_of(target.type)
            return "object"
        return "union"

    def dispatch(self, name: str, doc: str, members: list[TypeExpr], tag: str | None = None) -> str:
        # One dispatch class per set of members: the first name the schema gives it (its own order
        # breaks ties), reused wherever the same alternatives recur (e.g. a method's results).
        key = frozenset(members)
        if key in self.dispatch_by_members:
            return self.dispatch_by_members[key]
        rules = [self.rule(m) for m in members]
        definition = DispatchDef(name, doc, rules)
        if tag is not None:
            definition.tag = tag
            for rule, member in zip(rules, members, strict=True):
                rule.tag_value = self.selector(member, tag)
            if tag in self.property_defaults:  # what an absent tag means (`resultType`: "complete")
                definition.absent, definition.has_absent = self.property_defaults[tag], True
        self.register(definition)
        self.dispatch_by_members[key] = name
        return name

    def rule(self, expr: TypeExpr) -> MemberRule:
        target = self.built.get(expr.name) if isinstance(expr, Ref) else None
        if isinstance(target, StructDef):
            consts = []
            if target.tag_field is not None:
                consts.append((target.tag_field, (target.tag,), True))
            for f in target.fields:
                if isinstance(f.type, Lit):
                    consts.append((f.wire_name, f.type.values, f.required and not f.has_default))
            for key, values in self.dispatch_hints.get(target.name, {}).items():
                # A hint names the value that selects this member: without the key, it is not this one
                # (an InputRequiredResult never lacks its resultType; a result that does is "complete").
                consts.append((key, tuple(values), True))
            required = [f.wire_name for f in target.fields if f.required and not f.has_default]
            if target.tag_field:
                required.append(target.tag_field)
            declared = [f.wire_name for f in target.fields] + ([target.tag_field] if target.tag_field else [])
            return MemberRule(expr, "object", tuple(sorted(required)), tuple(consts), tuple(sorted(declared)))
        kind = {"string": "string", "integer": "number", "float": "number", "boolean": "boolean"}.get(
            self.kind_of(expr), self.kind_of(expr)
        )
        return MemberRule(expr, kind)

    # -- methods -----------------------------------------------------------------------------------

    def methods(self) -> list[Method]:
        src = self.source
        results: dict[str, list[str]] = {k: list(v) for k, v in src.overrides.get("results", {}).items()}
        task_results: dict[str, str] = dict(src.overrides.get("task_results", {}))
        groups = [
            ("ClientRequest", "request", "client_to_server"),
            ("ServerRequest", "request", "server_to_client"),
            ("InputRequest", "request", "input"),
            ("ClientNotification", "notification", "client_to_server"),
            ("ServerNotification", "notification", "server_to_client"),
        ]
        methods: list[Method] = []
        seen: dict[str, Method] = {}
        for union, kind, direction in groups:
            for def_name in union_members(src, union):
                definition = self.define(def_name)
                if not isinstance(definition, StructDef) or definition.tag_field != "method":
                    raise SchemaError(f"{def_name} in {union} has no `method` constant")
                wire = str(definition.tag)
                if wire in seen:
                    if direction not in seen[wire].directions:
                        seen[wire].directions.append(direction)
                    continue
                params = next((f for f in definition.fields if f.wire_name == "params"), None)
                method = Method(
                    name=wire,
                    const=const_name(wire),
                    kind=kind,
                    directions=[direction],
                    message_type=def_name,
                    params_type=params.type if params else None,
                    params_required=bool(params and params.required),
                    py_name=snake(stem(def_name)),
                    doc=definition.doc,
                )
                seen[wire] = method
                if kind == "request":
                    if wire not in results:
                        raise SchemaError(
                            f"{src.pin.name}: step 'methods': schema/overrides/{src.pin.name}.toml "
                            f"[results] lacks {wire!r} ({def_name}): add the method's result type(s)"
                        )
                    names = results.pop(wire)
                    for n in names:
                        self.define(n)
                    method.result_types = tuple(names)
                    method.result_type = (
                        Ref(names[0])
                        if len(names) == 1
                        else self.union(
                            [{"$ref": self.prefix + n} for n in names], stem(def_name) + "Results", ""
                        )
                    )
                    if wire in task_results:
                        self.define(task_results[wire])
                        method.task_result_type = task_results.pop(wire)
                methods.append(method)
        if results:
            raise SchemaError(f"{src.pin.name}: overrides [results] names unknown methods {sorted(results)}")
        if task_results:
            raise SchemaError(
                f"{src.pin.name}: overrides [task_results] names unknown methods {sorted(task_results)}"
            )
        return methods


#: The `_meta` key prefix MCP reserves for itself; the keys under it that a schema declares are
#: emitted as constants, so that no runtime module spells them out again.
MCP_META_PREFIX: Final = "io.modelcontextprotocol/"


def meta_keys(defs: dict[str, Any]) -> list[tuple[str, str]]:
    """(constant, key) for every reserved `_meta` key declared anywhere in `defs`, sorted by key."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                found.update(k for k in properties if k.startswith(MCP_META_PREFIX))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(defs)
    return [("META_" + snake(key).upper(), key) for key in sorted(found)]


def build(source: Source) -> Module:
    builder = Builder(source)
    for name in source.defs:
        builder.define(name)
    methods = builder.methods()
    unused = sorted(set(builder.open_unions) - builder.opened_tags)
    if unused:
        raise SchemaError(f"{source.pin.name}: [open_unions] rules {unused} apply to no union")
    ov = source.overrides
    stateless = "ServerRequest" not in source.defs and "InputRequest" in source.defs
    keys = meta_keys(source.defs)
    constants = [name for name, _ in keys] + list(ov.get("error_codes", {})) + [m.const for m in methods]
    clashes = sorted({name for name in constants if constants.count(name) > 1})
    if clashes:
        raise SchemaError(f"{source.pin.name}: module constants {clashes} are defined twice")
    return Module(
        revision=source.pin.name,
        module=source.pin.module,
        schema_sha256=source.pin.sha256,
        errata_sha256=source.errata_sha256,
        errata_count=source.errata_count,
        dialect=source.schema.get("$schema", ""),
        protocol_version=ov.get("protocol_version", source.pin.name),
        jsonrpc_version=ov.get("jsonrpc_version", "2.0"),
        error_codes=list(ov.get("error_codes", {}).items()),
        definitions=[builder.built[n] for n in builder.order],
        methods=methods,
        stateless=stateless,
        batches="JSONRPCBatchRequest" in source.defs,
        url_elicitation="ElicitRequestURLParams" in source.defs,
        meta_keys=keys,
        twin_messages=list(ov.get("twin", {}).get("messages", [])),
        twin_unions=list(ov.get("twin", {}).get("unions", [])),
    )
