"""A one-pass decode of a message whose dispatched unions msgspec cannot tag (`[twin]` in the overrides).

A dispatched union is read by decoding the message into plain JSON values first, then converting each
value into the member its reader picks: every such value is read twice. For the messages the overrides
name, the generator writes a decode that msgspec runs in one pass, then makes the public objects:

* each union the overrides name becomes a Struct msgspec reads natively, built from its members: one
  flat Struct of every member's members where the union's deciding key may be absent in some member
  (then the key is one more member, its values those the members allow), else one Struct per value of
  the deciding key tagged by it (holding the members of every member that takes the value), or the
  member itself where it alone takes that value and is tagged by it;
* a member declared by several members with different types is read as any JSON value, converted when
  its member is chosen;
* which member a flat value is follows the union's written-out path (`codegen.dispatch`): its tests,
  made tests of which members are set, in the same order; the member is built from the values;
* an open object the message holds (`_meta`) is read as a map, then made into the open object as its
  own reader makes it (each member that is a Struct converted);
* the Structs on the way are decoded as private subclasses (only the annotations of members that
  differ), then given their public class (`__class__`).

Anything it does not read so (no arm of the written-out path holds, a value of another type for any
flat member, nesting too deep) raises, and the message is decoded again by the general decoder, whose
value or error stands: the same result, paying twice only for unusual input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .dispatch import Cond, Plan
from .model import AliasDef, Definition, DictOf, DispatchDef, Field, ListOf, Ref, StructDef, TypeExpr, Union


class TwinError(Exception):
    """A shape the one-pass decode does not cover: named in the overrides, refused at generation."""


@dataclass
class _Flat:
    """One native Struct standing for (part of) a dispatched union."""

    name: str
    tag: Any
    fields: dict[str, tuple[str, str, bool]]
    """wire name -> (Python name, annotation, read as any value)."""
    public: str | None = None
    """A member used as it is (tagged by the deciding key with this one value)."""


@dataclass
class _Out:
    classes: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    counter: int = 0

    def var(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}{self.counter}"


def _lit(value: Any) -> str:
    from .render import py_literal

    return py_literal(value)


class Twin:
    """The one-pass decode of the message `root` of a module, the unions `unions` read natively."""

    def __init__(
        self,
        root: str,
        unions: frozenset[str],
        definitions: dict[str, Definition],
        plans: dict[str, Plan],
    ) -> None:
        self.root = root
        self.unions = unions
        self.defs = definitions
        self.plans = plans
        self.out = _Out()
        self.annots: dict[str, str | None] = {}
        self.flats: dict[str, list[_Flat]] = {}
        self.used: set[str] = set()

    # -- which types differ -------------------------------------------------------------------------
    def _reaches(self, expr: TypeExpr, seen: frozenset[str] = frozenset()) -> bool:
        """Whether `expr` reaches a named union through Structs, aliases, lists and maps."""
        if isinstance(expr, Ref):
            name = expr.name
            if name in self.unions:
                return True
            if name in seen:
                return False
            d = self.defs.get(name)
            if isinstance(d, StructDef) and not d.open:
                return any(self._reaches(f.type, seen | {name}) for f in d.fields)
            if isinstance(d, AliasDef) and not d.recursive:
                return self._reaches(d.type, seen | {name})
            return False
        if isinstance(expr, (ListOf, DictOf)):
            return self._reaches(expr.item if isinstance(expr, ListOf) else expr.value, seen)
        if isinstance(expr, Union):
            return any(self._reaches(m, seen) for m in expr.members)
        return False

    def _open_ok(self, d: StructDef) -> bool:
        from .render import needs_hook

        return all(
            isinstance(f.type, Ref)
            and isinstance(self.defs.get(f.type.name), StructDef)
            and not f.required
            and not f.has_default
            and not f.constraints
            and not needs_hook(f.type, self.defs)
            for f in d.fields
        )

    def annot(self, expr: TypeExpr, top: bool = False) -> str | None:
        """The annotation `expr` is read with natively, or None where it is read as it is."""
        from .render import type_str

        if isinstance(expr, Ref):
            d = self.defs.get(expr.name)
            if isinstance(d, StructDef) and d.open:
                return "dict[str, Any]" if top and self._open_ok(d) else None
            if not self._reaches(expr):
                return None
            if isinstance(d, DispatchDef):
                flats = self._flats(d)
                return " | ".join(f.public or f.name for f in flats)
            if isinstance(d, StructDef):
                return self._struct(d)
            if isinstance(d, AliasDef):
                return self.annot(d.type)
            return None
        if isinstance(expr, ListOf):
            inner = self.annot(expr.item)
            return None if inner is None else f"list[{inner}]"
        if isinstance(expr, DictOf):
            inner = self.annot(expr.value)
            return None if inner is None else f"dict[str, {inner}]"
        if isinstance(expr, Union):
            parts = [self.annot(m) for m in expr.members]
            if all(p is None for p in parts):
                return None
            return " | ".join(
                p if p is not None else type_str(m) for p, m in zip(parts, expr.members, strict=True)
            )
        return None

    def _field_line(self, py: str, wire: str, annot: str, required: bool) -> str:
        if required:
            rhs = "" if py == wire else f" = msgspec.field(name={_lit(wire)})"
            return f"    {py}: {annot}{rhs}"
        rhs = "UNSET" if py == wire else f"msgspec.field(default=UNSET, name={_lit(wire)})"
        return f"    {py}: {annot} | UnsetType = {rhs}"

    def _struct(self, d: StructDef) -> str:
        name = f"_{self.root}_{d.name}"
        if name in self.annots:
            return name
        self.annots[name] = name
        lines = [f"class {name}({d.name}, kw_only=True):"]
        for f in d.fields:
            a = self.annot(f.type, top=True)
            if a is None:
                continue
            if f.has_default:
                raise TwinError(f"{d.name}.{f.wire_name}: a member with a default read natively")
            lines.append(self._field_line(f.py_name, f.wire_name, a, f.required))
        self.used.add(d.name)
        self.out.classes.append("\n".join(lines))
        self.out.names.append(name)
        return name

    def _flats(self, d: DispatchDef) -> list[_Flat]:
        from .render import field_type, type_str

        if d.name in self.flats:
            return self.flats[d.name]
        plan = self.plans.get(d.name)
        if plan is None:
            raise TwinError(f"{d.name}: no written-out path to follow")
        key = plan.key
        structs: list[StructDef] = []
        for m in d.members:
            sd = self.defs.get(type_str(m.type)) if isinstance(m.type, Ref) else None
            if not isinstance(sd, StructDef) or sd.open:
                raise TwinError(f"{d.name}: member {type_str(m.type)} is not a closed Struct")
            structs.append(sd)
        optional = any(not req for m in d.members for k, _, req in m.consts if k == key)
        values: list[Any] = []
        for m in d.members:
            for k, allowed, _ in m.consts:
                if k == key:
                    values += [v for v in allowed if v not in values]

        def takers(value: Any) -> list[StructDef]:
            return [
                s
                for s, m in zip(structs, d.members, strict=True)
                if any(k == key and value in allowed for k, allowed, _ in m.consts)
            ]

        def merged(members: list[StructDef], skip: str | None) -> dict[str, tuple[str, str, bool]]:
            seen: dict[str, list[Field]] = {}
            for s in members:
                for f in s.fields:
                    if f.wire_name != skip:
                        seen.setdefault(f.wire_name, []).append(f)
            fields: dict[str, tuple[str, str, bool]] = {}
            for wire, fs in seen.items():
                if any(f.has_default for f in fs):
                    raise TwinError(f"{d.name}: member {wire} has a default")
                kinds = {(repr(f.type), f.constraints) for f in fs}
                if len({f.py_name for f in fs}) != 1:
                    raise TwinError(f"{d.name}: member {wire} has two Python names")
                if len(kinds) == 1:
                    nested = self.annot(fs[0].type, top=True)
                    one = Field(fs[0].py_name, wire, fs[0].type, True, constraints=fs[0].constraints)
                    fields[wire] = (fs[0].py_name, nested or field_type(one), False)
                else:
                    fields[wire] = (fs[0].py_name, "Any", True)
            return fields

        flats: list[_Flat]
        if optional:
            fields = merged(structs, None)
            lit = "Literal[" + ", ".join(_lit(v) for v in values) + "]"
            py = key
            fields[key] = (py, lit, False)
            flats = [_Flat(f"_{self.root}_{d.name}", None, fields)]
        else:
            flats = []
            for value in values:
                group = takers(value)
                if (
                    len(group) == 1
                    and group[0].tag_field == key
                    and group[0].tag == value
                    and not self._reaches(Ref(group[0].name))
                ):
                    flats.append(_Flat("", value, {}, public=group[0].name))
                    self.used.add(group[0].name)
                    continue
                flats.append(_Flat(f"_{self.root}_{d.name}_{_ident(value)}", value, merged(group, key)))
        self.flats[d.name] = flats
        for flat in flats:
            if flat.public:
                continue
            head = f"class {flat.name}(Struct, kw_only=True"
            head += "):" if flat.tag is None else f", tag_field={_lit(key)}, tag={_lit(flat.tag)}):"
            lines = [head]
            for wire, (py, annot, _) in sorted(flat.fields.items(), key=lambda kv: kv[1][0]):
                lines.append(self._field_line(py, wire, annot, False))
            self.out.classes.append("\n".join(lines))
            self.out.names.append(flat.name)
        for s in structs:
            self.used.add(s.name)
        return flats

    # -- making the public objects ------------------------------------------------------------------
    def post(self, expr: TypeExpr, var: str, ind: str, top: bool = False) -> tuple[list[str], str]:
        """Lines that make the public value of `var` (read natively as `annot(expr)`), and the
        expression holding it."""
        if self.annot(expr, top) is None:
            return [], var
        if isinstance(expr, Ref):
            d = self.defs[expr.name]
            if isinstance(d, StructDef) and d.open:
                return self._post_open(d, var, ind)
            if isinstance(d, StructDef):
                return self._post_struct(d, var, ind), var
            if isinstance(d, AliasDef):
                return self.post(d.type, var, ind)
            if isinstance(d, DispatchDef):
                return self._post_union(d, var, ind)
        if isinstance(expr, DictOf):
            k, v = self.out.var("key"), self.out.var("value")
            body, made = self.post(expr.value, v, ind + "    ")
            if not body and made == v:
                return [], var
            if made == v:  # made public in place
                return [f"{ind}for {v} in {var}.values():", *body], var
            lines = [f"{ind}for {k}, {v} in {var}.items():", *body]
            if made != v:
                lines.append(f"{ind}    {var}[{k}] = {made}")
            return lines, var
        if isinstance(expr, ListOf):
            i, v = self.out.var("index"), self.out.var("item")
            body, made = self.post(expr.item, v, ind + "    ")
            lines = [f"{ind}for {i}, {v} in enumerate({var}):", *body]
            if made != v:
                lines.append(f"{ind}    {var}[{i}] = {made}")
            return lines, var
        if isinstance(expr, Union):
            kind = self.out.var("kind")
            lines = [f"{ind}{kind} = type({var})"]
            first = True
            made_var = self.out.var("made")
            in_place = all(
                isinstance(m, Ref) and isinstance(self.defs.get(m.name), StructDef) for m in expr.members
            )
            if not in_place:
                lines.append(f"{ind}{made_var} = {var}")
            for m in expr.members:
                a = self.annot(m)
                if a is None:
                    continue
                if not (isinstance(m, Ref) and isinstance(self.defs.get(m.name), StructDef)):
                    raise TwinError(f"a union member {m} read natively that is not a Struct")
                body, made = self.post(m, var, ind + "    ")
                lines.append(f"{ind}{'if' if first else 'elif'} {kind} is {a}:")
                lines += body or [f"{ind}    pass"]
                if made != var:
                    lines.append(f"{ind}    {made_var} = {made}")
                first = False
            return lines, var if in_place else made_var
        raise TwinError(f"{expr}: not read natively")

    def _post_open(self, d: StructDef, var: str, ind: str) -> tuple[list[str], str]:
        from .render import type_str

        made = self.out.var("made")
        lines = [f"{ind}{made} = _new_open({d.name})", f"{ind}{made} |= {var}"]
        for f in d.fields:
            w = _lit(f.wire_name)
            lines.append(f"{ind}if {w} in {var}:")
            lines.append(f"{ind}    {made}[{w}] = _convert({var}[{w}], {type_str(f.type)})")
        self.used.add(d.name)
        return lines, made

    def _post_struct(self, d: StructDef, var: str, ind: str) -> list[str]:
        lines: list[str] = []
        for f in d.fields:
            if self.annot(f.type, top=True) is None:
                continue
            v = self.out.var("member")
            body, made = self.post(f.type, v, ind + ("" if f.required else "    "), top=True)
            if f.required:
                lines.append(f"{ind}{v} = {var}.{f.py_name}")
                lines += body
            else:
                lines.append(f"{ind}{v} = {var}.{f.py_name}")
                lines.append(f"{ind}if {v} is not UNSET:")
                lines += body or [f"{ind}    pass"]
            if made != v:
                lines.append(f"{ind}{'' if f.required else '    '}{var}.{f.py_name} = {made}")
        lines.append(f"{ind}{var}.__class__ = {d.name}")
        return lines

    def _post_union(self, d: DispatchDef, var: str, ind: str) -> tuple[list[str], str]:
        plan = self.plans[d.name]
        flats = self._flats(d)
        made = self.out.var("made")
        lines: list[str] = []
        if flats[0].tag is None:
            lines += self._arms(d, plan, flats[0], var, made, ind, None)
            return lines, made
        kind = self.out.var("kind")
        lines.append(f"{ind}{kind} = type({var})")
        first = True
        for flat in flats:
            if flat.public:
                lines.append(f"{ind}{'if' if first else 'elif'} {kind} is {flat.public}:")
                lines.append(f"{ind}    {made} = {var}")
            else:
                lines.append(f"{ind}{'if' if first else 'elif'} {kind} is {flat.name}:")
                lines += self._arms(d, plan, flat, var, made, ind + "    ", flat.tag)
            first = False
        lines.append(f"{ind}else:")
        lines.append(f"{ind}    raise _Fallback")
        return lines, made

    def _arms(
        self, d: DispatchDef, plan: Plan, flat: _Flat, var: str, made: str, ind: str, value: Any
    ) -> list[str]:
        key = plan.key
        lines: list[str] = []
        first = True
        arms: list[tuple[Any, bool, tuple[Any, ...], str]] = []  # (values, absent too, conds, type)
        for arm in plan.arms:
            if value is not None and (arm.absent or value not in arm.values):
                continue
            # A member read under the same tests for a value and for the key's absence: one test.
            for i, (vals, absent, conds_, type_) in enumerate(arms):
                if (conds_, type_) == (arm.conds, arm.type) and value is None and arm.absent and not absent:
                    arms[i] = (vals + arm.values, absent or arm.absent, conds_, type_)
                    break
            else:
                arms.append((arm.values, arm.absent, arm.conds, arm.type))
        for values, absent, arm_conds, arm_type in arms:
            conds: list[str] = []
            if value is None:
                py = flat.fields[key][0]
                either = [f"{var}.{py} is UNSET"] if absent else []
                if len(values) == 1:
                    either.append(f"{var}.{py} == {_lit(values[0])}")
                elif values:
                    either.append(f"{var}.{py} in ({', '.join(_lit(v) for v in values)},)")
                conds.append(either[0] if len(either) == 1 else "(" + " or ".join(either) + ")")
            conds += [self._cond(c, flat, var) for c in arm_conds]
            if not conds:
                if first:  # every value of the group read as this member
                    lines += self._build(d, arm_type, flat, var, made, ind, value, True)
                    return lines
                conds = ["True"]
            lines.append(f"{ind}{'if' if first else 'elif'} {' and '.join(conds)}:")
            first = False
            lines += self._build(d, arm_type, flat, var, made, ind, value, False)
        lines.append(f"{ind}else:")
        lines.append(f"{ind}    raise _Fallback")
        return lines

    def _build(
        self,
        d: DispatchDef,
        arm_type: str,
        flat: _Flat,
        var: str,
        made: str,
        ind: str,
        value: Any,
        bare: bool,
    ) -> list[str]:
        """Lines that build the member `arm_type` from the flat value `var` into `made` (`bare`: at
        `ind` itself, not in an `if` block)."""
        from .render import type_str

        key = self.plans[d.name].key
        lines: list[str] = []
        if bare:
            ind = ind[:-4]
        sd = self.defs[arm_type]
        assert isinstance(sd, StructDef)
        args: list[str] = []
        for f in sd.fields:
            py, _, loose = flat.fields[f.wire_name] if f.wire_name in flat.fields else (None, "", False)
            if f.wire_name == key and value is not None:
                args.append(f"{f.py_name}={_lit(value)}")
                continue
            if py is None:
                raise TwinError(f"{d.name}: {arm_type}.{f.wire_name} not read")
            got = f"{var}.{py}"
            if loose:
                from .render import field_type

                one = Field(f.py_name, f.wire_name, f.type, True, constraints=f.constraints)
                t = field_type(one)
                if f.required:
                    got = f"_convert({got}, {t})"
                else:
                    got = f"({got} if {got} is UNSET else _convert({got}, {t}))"
            elif self.annot(f.type, top=True) is not None:
                v = self.out.var("member")
                if not f.required:
                    raise TwinError(f"{d.name}: optional {f.wire_name} read natively")
                lines.append(f"{ind}    {v} = {got}")
                body, m = self.post(f.type, v, ind + "    ", top=True)
                lines += body
                got = m
            args.append(f"{f.py_name}={got}")
        lines.append(f"{ind}    {made} = {type_str(Ref(arm_type))}({', '.join(args)})")
        return lines

    def _cond(self, c: Cond, flat: _Flat, var: str) -> str:
        def attr(k: str) -> str:
            if k not in flat.fields:
                raise TwinError(f"a test of {k}, which no member declares")
            return f"{var}.{flat.fields[k][0]}"

        if c[0] == "in":
            return f"{attr(c[1])} is not UNSET"
        if c[0] == "out":
            return f"{attr(c[1])} is UNSET"
        if c[0] == "any_in":
            return "(" + " or ".join(f"{attr(k)} is not UNSET" for k in c[1]) + ")"
        if c[0] == "any_out":
            return "(" + " or ".join(f"{attr(k)} is UNSET" for k in c[1]) + ")"
        _, k, allowed, required = c
        values = "(" + ", ".join(_lit(v) for v in allowed) + ",)"
        if required:
            return f"{attr(k)} is not UNSET and {attr(k)} in {values}"
        return f"({attr(k)} is UNSET or {attr(k)} in {values})"

    # -- the whole ---------------------------------------------------------------------------------
    def render(self) -> str:
        root = self.defs.get(self.root)
        if not isinstance(root, StructDef) or root.open:
            raise TwinError(f"{self.root}: not a closed Struct")
        top = self._struct(root)
        # The message itself is made public whether or not a named union is under it: its `_meta`
        # alone (read as a map) differs from the public class.
        body, made = self._post_struct(root, "value", "            "), "value"
        fn = f"_twin_{self.root}"
        names = sorted(self.used | {self.root})
        src = [
            f"def _define{fn}() -> None:",
            f'    """The Structs `{fn}` decodes with, made once (their annotations name them)."""',
            "    global " + ", ".join(self.out.names),
            "    for name in (" + "".join(f"{_lit(n)}, " for n in names) + "):",
            "        _definitions.get(name)",
        ]
        for c in self.out.classes:
            src += ["", *("    " + line for line in c.splitlines())]
        src += [
            "",
            "",
            f"def {fn}(general: Callable[[Any], Any]) -> Callable[[Any], Any]:",
            f'    """The one-pass decode of `{self.root}` (`codegen.twin`); `general` reads the rest."""',
            "    with _twin_lock:",
            f"        if {_lit(top)} not in globals():",
            f"            _define{fn}()",
            f"    native = msgspec.json.Decoder({top}, dec_hook=dec_hook).decode",
            "",
            "    def decode(data: Any) -> Any:",
            "        try:",
            "            value: Any = native(data)",
            *body,
            f"            return {made}",
            "        except (_Fallback, msgspec.ValidationError, RecursionError):",
            "            return general(data)",
            "",
            "    return decode",
        ]
        return "\n".join(src)


def _ident(value: Any) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(value))


def render_twins(
    roots: list[str], unions: list[str], definitions: list[Definition], plans: dict[str, Plan]
) -> str:
    by_name = {d.name: d for d in definitions}
    out = []
    for root in roots:
        out.append(Twin(root, frozenset(unions), by_name, plans).render())
    return "\n\n\n".join(out)
