"""Property tests: every definition of every revision, against its errata-corrected schema.

Instances come from `strategies.SchemaGen`, which generates JSON valid against a definition of
`source(rev).schema` (checked with `jsonschema` before use, so a generator slip fails loudly).

Valid instances (`test_valid_instance_round_trips`): each decodes into the definition's generated type,
re-encodes to JSON that validates against the same definition under the revision's dialect (draft-07 up
to 2025-06-18, 2020-12 from 2025-11-25), and equals the input under the unknown-key policy:

* closed objects (generated `msgspec.Struct`s) keep only their declared members: undeclared members are
  dropped on decode (the schema admits them, the binding does not model them);
* open objects (generated `OpenObject` subclasses: every `_meta`, `Result`, and each object that states
  `additionalProperties`) keep every member, declared or not;
* free-form maps (`dict[str, ...]` members: `JSONObject`, `experimental`, `arguments`,
  `structuredContent`, `inputSchema` ...) and `Any`-typed values keep everything as sent;
* scalars come back exactly as sent, type included (`number` keeps 1 and 1.0 apart).

Required constants (`jsonrpc`, `method`, `type`) and 2026-07-28's `resultType` are always emitted on
re-encode; valid instances carry them anyway (the schema requires them), so they compare equal. The
expected output is computed by walking the input alongside the decoded value: a Struct there means
"closed, keep its fields' wire names (and its tag)", a dict means "keep everything". Each decoded Struct
or open object named after a definition must also be one the input is valid against, so a dispatched
union that picks the wrong member fails even when the loss would look like the policy.

Invalid instances (`test_invalid_*`): a valid instance of an object definition, broken in one place --
at the top level or inside any member that is itself a plain object (not a union) -- must be rejected with
`msgspec.ValidationError` naming the member and the path to it:

* `missing`: a required member removed. Members the binding defaults on decode are skipped: the Struct
  tag and required constants with a default (`jsonrpc`, `method`, `type`), `resultType` (2026-07-28),
  and the read-optional `ttlMs`/`cacheScope` (2026-07-28); these are read from the generated type
  (`msgspec.structs.fields` defaults), not listed here;
* `const`: a constant (or enum member) replaced by a value of the same JSON type outside it;
* `type`: a member's value replaced by each value of a JSON kind its schema does not admit
  (`WRONG_KIND_VALUES`).

`test_wrong_kind_is_rejected` gives every definition (scalar aliases included) each value of a kind it
does not admit. Two per-revision tests cover what the binding checks beyond types, at every member that
declares it: `test_out_of_range_is_rejected` (`minimum`, `maximum`, `maxItems`; bounds a receiver must
tolerate, 2026-07-28's `ttlMs`, are exempt by the revision's overrides) and
`test_integral_float_is_refused_where_an_integer_is_wanted` (the binding's policy: `integer` members take
JSON integers only, so that re-encoding never turns 1.0 into 1).

Hypothesis runs derandomized with no example database, so CI sees the same examples on every run
(`MCPBIND_EXAMPLES_SCALE=10` searches longer). Known bugs are strict xfails (`KNOWN_BUGS`,
`KNOWN_REVISION_BUGS`): fixing one turns its entry into a failure that asks for its removal. Per-revision
counts are printed at the end of the session (`conftest.pytest_terminal_summary`).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mcpbind import wire
from mcpbind.wire import OpenObject

from ..conftest import PROPERTY_COUNTS, REVISIONS, module, same_json, source
from ..strategies import SchemaGen, generator, kind_of

PROFILE = settings(
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
#: Examples per definition: objects and unions, then scalar aliases; invalid tests try every mutation
#: of each example, so they need fewer.
#: MCPBIND_EXAMPLES_SCALE=10 multiplies them for a longer local search (still derandomized).
SCALE = int(os.environ.get("MCPBIND_EXAMPLES_SCALE", "1"))
VALID_EXAMPLES = 20 * SCALE
SCALAR_EXAMPLES = 5 * SCALE
INVALID_EXAMPLES = 6 * SCALE

#: One value of each JSON kind: a member gets each one of a kind its schema does not admit.
WRONG_KIND_VALUES: tuple[Any, ...] = ("x", 12345, True, None, {"x": 1}, [1])

#: Known binding bugs, as (revision, definition) per test; each is a strict xfail, so a fixed generator
#: turns it into a failure that asks for the entry's removal. Repros are in the final report.
KNOWN_BUGS: dict[str, dict[tuple[str, str], str]] = {
    "valid": {},
    "missing": {},
    "const": {},
    "type": {},
    "kind": {},
}

#: Known bugs of the per-revision tests, as marks per revision (none open).
KNOWN_REVISION_BUGS: dict[str, dict[str, list[Any]]] = {"bound": {}}


def kind(rev: str, name: str) -> str:
    gen = generator(rev)
    node = gen.defs[name]
    if gen.options(node) is not None:
        return "union"
    return "object" if gen.is_object(node) else "scalar"


ALL = [(rev, name) for rev in REVISIONS for name in source(rev).defs]
OBJECTS = [(rev, name) for rev, name in ALL if kind(rev, name) == "object"]


def cases(pairs: list[tuple[str, str]], test: str) -> list[Any]:
    known = KNOWN_BUGS[test]
    out = []
    for rev, name in pairs:
        marks = [pytest.mark.xfail(strict=True, reason=known[rev, name])] if (rev, name) in known else []
        out.append(pytest.param(rev, name, id=f"{rev}:{name}", marks=marks))
    return out


@cache
def dialect(rev: str) -> type[jsonschema.protocols.Validator]:
    """The revision's validator class (draft-07 or 2020-12, from `$schema`); the schema must be valid."""
    schema = source(rev).schema
    cls: type[jsonschema.protocols.Validator] = jsonschema.validators.validator_for(schema, default=None)
    assert cls is not None, f"{rev}: unknown dialect {schema.get('$schema')!r}"
    cls.check_schema(schema)
    return cls


@cache
def validator(rev: str, name: str) -> jsonschema.protocols.Validator:
    src = source(rev)
    return dialect(rev)({**src.schema, "$ref": src.ref_prefix + name})


def test_dialects() -> None:
    published = {
        "2024-11-05": "Draft7Validator",
        "2025-03-26": "Draft7Validator",
        "2025-06-18": "Draft7Validator",
        "2025-11-25": "Draft202012Validator",
        "2026-07-28": "Draft202012Validator",
    }
    assert {rev: dialect(rev).__name__ for rev in REVISIONS if rev in published} == published


def assert_valid(rev: str, name: str, instance: Any, what: str) -> None:
    errors = sorted(validator(rev, name).iter_errors(instance), key=lambda e: list(e.absolute_path))
    assert not errors, f"{what} is not a valid {name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def record(rev: str, name: str, key: str, count: int) -> None:
    counts = PROPERTY_COUNTS.setdefault(rev, {"definitions": set(), "valid": 0, "invalid": 0})
    if key == "valid":
        counts["definitions"].add(name)
    counts[key] += count


# -- the unknown-key policy ------------------------------------------------------------------------------


def struct_wire_names(value: msgspec.Struct) -> dict[str, str]:
    """Wire name -> attribute of a decoded Struct, its tag included (as itself)."""
    return wire_names(type(value))


@cache
def wire_names(tp: type[msgspec.Struct]) -> dict[str, str]:
    names = {f.encode_name: f.name for f in msgspec.structs.fields(tp)}
    tag = tp.__struct_config__.tag_field
    if tag is not None:
        names[tag] = tag
    return names


def expected(sent: Any, decoded: Any) -> Any:
    """What re-encoding `decoded` must give for input `sent`, under the unknown-key policy."""
    if isinstance(decoded, msgspec.Struct):
        assert isinstance(sent, dict), f"{type(decoded).__name__} decoded from {sent!r}"
        names = struct_wire_names(decoded)
        return {k: expected(v, getattr(decoded, names[k])) for k, v in sent.items() if k in names}
    if isinstance(decoded, dict):  # open object or free-form map: every member stays
        assert isinstance(sent, dict)
        return {k: expected(v, decoded[k]) if k in decoded else v for k, v in sent.items()}
    if isinstance(decoded, list) and isinstance(sent, list) and len(sent) == len(decoded):
        return [expected(s, d) for s, d in zip(sent, decoded, strict=True)]
    return sent


def named_parts(sent: Any, decoded: Any, mod: ModuleType) -> Iterator[tuple[str, Any]]:
    """(definition, input) for each decoded Struct or open object whose type is a named definition."""
    if isinstance(decoded, (msgspec.Struct, OpenObject)):
        name = type(decoded).__name__
        if getattr(mod, name, None) is type(decoded):
            yield name, sent
    if isinstance(decoded, msgspec.Struct) and isinstance(sent, dict):
        names = struct_wire_names(decoded)
        for k, v in sent.items():
            if k in names:
                yield from named_parts(v, getattr(decoded, names[k]), mod)
    elif isinstance(decoded, dict) and isinstance(sent, dict):
        for k, v in sent.items():
            if k in decoded:
                yield from named_parts(v, decoded[k], mod)
    elif isinstance(decoded, list) and isinstance(sent, list):
        for s, d in zip(sent, decoded, strict=False):
            yield from named_parts(s, d, mod)


def check_valid(rev: str, name: str, tp: Any, instance: Any) -> None:
    mod = module(rev)
    assert_valid(rev, name, instance, "generated instance")
    raw = json.dumps(instance).encode()
    value = wire.decode(raw, tp)
    assert wire.convert(instance, tp) == value, "decode and convert disagree"
    out = json.loads(wire.encode(value))
    assert_valid(rev, name, out, "re-encoded value")
    want = expected(instance, value)
    assert same_json(out, want), f"re-encoded {out!r}, expected {want!r}"
    assert wire.decode(wire.encode(value), tp) == value, "decoding the re-encoded value changed it"
    src = source(rev)
    for part, sent in named_parts(instance, value, mod):
        if part in src.defs:
            assert validator(rev, part).is_valid(sent), f"decoded as {part}, which {sent!r} is not"


@pytest.mark.parametrize(("rev", "name"), cases(ALL, "valid"))
def test_valid_instance_round_trips(rev: str, name: str) -> None:
    tp = getattr(module(rev), name)
    examples = SCALAR_EXAMPLES if kind(rev, name) == "scalar" else VALID_EXAMPLES
    seen = 0

    @settings(PROFILE, max_examples=examples)
    @given(generator(rev).instances(name))
    def check(instance: Any) -> None:
        nonlocal seen
        check_valid(rev, name, tp, instance)
        seen += 1

    check()
    record(rev, name, "valid", seen)


# -- invalid instances -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutation:
    kind: str
    """missing, const or type."""
    path: tuple[str | int, ...]
    """From the instance to the object that holds `member`."""
    member: str
    value: Any = None
    """The replacement (const and type)."""

    def apply(self, instance: Any) -> Any:
        bad = copy.deepcopy(instance)
        target = bad
        for step in self.path:
            target = target[step]
        if self.kind == "missing":
            del target[self.member]
        else:
            target[self.member] = self.value
        return bad

    def __str__(self) -> str:
        where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in self.path)
        return f"{self.kind} ${where}.{self.member} -> {self.value!r}"


def wrong_const(allowed: list[Any]) -> Any:
    first = allowed[0]
    if isinstance(first, str):
        return next(v for v in (first + "-wrong", "not-a-member") if v not in allowed)
    if isinstance(first, bool):
        return not first if len(allowed) == 1 else None
    return max(allowed) + 1000


def binding_fields(decoded: Any) -> dict[str, msgspec.structs.FieldInfo] | None:
    """Declared members (wire name -> field) of a decoded Struct or open object; None for anything else."""
    if isinstance(decoded, msgspec.Struct):
        return fields_by_wire_name(type(decoded))
    if isinstance(decoded, OpenObject):
        return fields_by_wire_name(type(decoded)._fields_)
    return None


@cache
def fields_by_wire_name(tp: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.encode_name: f for f in msgspec.structs.fields(tp)}


def member_value(decoded: Any, wire_name: str) -> Any:
    if isinstance(decoded, msgspec.Struct):
        return getattr(decoded, struct_wire_names(decoded)[wire_name])
    return decoded[wire_name]


def mutations(
    gen: SchemaGen, rev: str, node: dict[str, Any], sent: dict[str, Any], decoded: Any, path: tuple[Any, ...]
) -> Iterator[Mutation]:
    fields = binding_fields(decoded)
    if fields is None:
        return
    shape = gen.shape(node)
    tag = type(decoded).__struct_config__.tag_field if isinstance(decoded, msgspec.Struct) else None
    read_optional = source(rev).overrides.get("read_optional", {}).get("members", [])
    where = f"{type(decoded).__name__} at ${path}"
    for member in shape.required:
        assert member in sent
        if member == tag:
            continue
        assert member in fields, f"{where}: the binding does not declare required member {member!r}"
        f = fields[member]
        if not f.required:
            # Defaulted on decode: a constant, a documented property default, or read-optional.
            assert f.default is not msgspec.UNSET or member in read_optional, (
                f"{where}: required member {member!r} is optional in the binding"
            )
            continue
        yield Mutation("missing", path, member)
    for member, prop in shape.properties.items():
        if member not in sent:
            continue
        resolved = gen.resolve(prop)
        if "const" in resolved:
            yield Mutation("const", path, member, wrong_const([resolved["const"]]))
        elif "enum" in resolved:
            yield Mutation("const", path, member, wrong_const(resolved["enum"]))
        admitted = gen.kinds(prop)
        for wrong in WRONG_KIND_VALUES:
            if kind_of(wrong) not in admitted:
                yield Mutation("type", path, member, wrong)
        if member == tag or member not in fields:
            continue
        inner = member_value(decoded, member)
        if gen.is_object(prop):
            yield from mutations(gen, rev, prop, sent[member], inner, (*path, member))
        elif resolved.get("type") == "array" and sent[member] and gen.is_object(resolved.get("items", {})):
            yield from mutations(gen, rev, resolved["items"], sent[member][0], inner[0], (*path, member, 0))


def check_rejected(tp: Any, bad: Any, mutation: Mutation, top_open: bool) -> None:
    try:
        wire.decode(json.dumps(bad), tp)
    except msgspec.ValidationError as exc:
        message = str(exc)
    else:
        raise AssertionError(f"accepted ({mutation}): {json.dumps(bad)}")
    assert mutation.member in message, f"{mutation}: {message!r} does not name the member"
    for step in mutation.path:
        assert str(step) in message, f"{mutation}: {message!r} does not name the path"
    if not top_open and (mutation.path or mutation.kind != "missing"):
        assert "`$" in message, f"{mutation}: {message!r} has no path"


@dataclass
class Outcome:
    rejected: int = 0
    failures: list[str] = field(default_factory=list)


@cache
def invalid_outcomes(rev: str, name: str) -> dict[str, Outcome]:
    """Every mutation of a few valid instances of `name`, by kind. The three invalid tests share one
    run (generating instances is most of the cost) and each asserts on its own kind."""
    tp = getattr(module(rev), name)
    gen = generator(rev)
    node = {"$ref": gen.prefix + name}
    outcomes = {kind: Outcome() for kind in ("missing", "const", "type")}

    @settings(PROFILE, max_examples=INVALID_EXAMPLES)
    @given(gen.instances(name))
    def check(instance: Any) -> None:
        decoded = wire.decode(json.dumps(instance), tp)
        top_open = isinstance(decoded, OpenObject)
        for mutation in mutations(gen, rev, node, instance, decoded, ()):
            outcome = outcomes[mutation.kind]
            bad = mutation.apply(instance)
            try:
                assert not validator(rev, name).is_valid(bad), f"{mutation} left a valid {name}"
                check_rejected(tp, bad, mutation, top_open)
            except AssertionError as exc:
                outcome.failures.append(str(exc).splitlines()[0])
            else:
                outcome.rejected += 1

    check()
    return outcomes


def run_invalid(rev: str, name: str, which: str) -> None:
    outcome = invalid_outcomes(rev, name)[which]
    failures = list(dict.fromkeys(outcome.failures))  # the same mutation recurs across examples
    assert not failures, f"{len(failures)} {which} mutations of {name} not rejected:\n" + "\n".join(
        failures[:10]
    )
    record(rev, name, "invalid", outcome.rejected)


@pytest.mark.parametrize(("rev", "name"), cases(OBJECTS, "missing"))
def test_invalid_missing_member_is_rejected(rev: str, name: str) -> None:
    run_invalid(rev, name, "missing")


@pytest.mark.parametrize(("rev", "name"), cases(OBJECTS, "const"))
def test_invalid_constant_is_rejected(rev: str, name: str) -> None:
    run_invalid(rev, name, "const")


@pytest.mark.parametrize(("rev", "name"), cases(OBJECTS, "type"))
def test_invalid_member_type_is_rejected(rev: str, name: str) -> None:
    run_invalid(rev, name, "type")


def wrong_kinds(rev: str, name: str) -> list[Any]:
    gen = generator(rev)
    admitted = gen.kinds(gen.defs[name])
    return [v for v in WRONG_KIND_VALUES if kind_of(v) not in admitted]


#: Every definition but those that admit any JSON value (`JSONValue`).
KINDED = [(rev, name) for rev, name in ALL if wrong_kinds(rev, name)]


@pytest.mark.parametrize(("rev", "name"), cases(KINDED, "kind"))
def test_wrong_kind_is_rejected(rev: str, name: str) -> None:
    wrong = wrong_kinds(rev, name)
    tp = getattr(module(rev), name)
    for value in wrong:
        assert not validator(rev, name).is_valid(value)
        with pytest.raises(msgspec.ValidationError):
            wire.decode(json.dumps(value), tp)
    record(rev, name, "invalid", len(wrong))


# -- numeric bounds and integral floats --------------------------------------------------------------------


#: (definition, path through inline objects, member, member schema).
Location = tuple[str, tuple[str, ...], str, dict[str, Any]]
Check = Callable[[st.DataObject, Any, Any, dict[str, Any], str, dict[str, Any], str], None]


def inline_locations(rev: str, wanted: Callable[[dict[str, Any]], bool]) -> list[Location]:
    """(definition, path, member, member schema) for each member whose own schema satisfies `wanted`,
    declared by an object definition or by an inline object inside one (`path` leads to it)."""
    gen = generator(rev)
    out: list[Location] = []

    def walk(name: str, node: dict[str, Any], path: tuple[str, ...]) -> None:
        for member, prop in gen.shape(node).properties.items():
            if "$ref" in prop:
                continue  # a definition of its own: found there
            if wanted(prop):
                out.append((name, path, member, prop))
            if gen.is_object(prop):
                walk(name, prop, (*path, member))

    for rev_name, name in OBJECTS:
        if rev_name == rev:
            walk(name, gen.defs[name], ())
    return out


def at_path(data: Any, gen: SchemaGen, name: str, path: tuple[str, ...]) -> tuple[Any, dict[str, Any]]:
    """A valid instance of `name`, and the object at `path` in it (made present where it was not)."""
    instance = data.draw(gen.instances(name))
    target, node = instance, gen.defs[name]
    for step in path:
        prop = gen.shape(node).properties[step]
        if step not in target:
            target[step] = data.draw(gen.node_instances(prop))
        target, node = target[step], prop
    return instance, target


def location_test(rev: str, location: Location, check: Check) -> Callable[[], None]:
    name, path, member, prop = location
    tp = getattr(module(rev), name)
    gen = generator(rev)

    # Whether a location fails does not depend on the rest of the instance: no shrinking.
    @settings(PROFILE, max_examples=3, phases=[Phase.generate])
    @given(st.data())
    def one(data: st.DataObject) -> None:
        instance, target = at_path(data, gen, name, path)
        check(data, tp, instance, target, member, prop, name)

    return one


def run_locations(rev: str, wanted: Callable[[dict[str, Any]], bool], check: Check) -> list[str]:
    """Run `check(data, type, instance, target, member, schema, definition)` at every location, where
    `target` is the object of `instance` that holds `member`; failures as text."""
    failures: list[str] = []
    locations = inline_locations(rev, wanted)
    assert locations, f"{rev}: no location to check"
    for location in locations:
        name, path, member, _ = location
        try:
            location_test(rev, location, check)()
        except AssertionError as exc:
            failures.append(f"{name}.{'.'.join((*path, member))}: {str(exc).splitlines()[0]}")
    return failures


def bounded(node: dict[str, Any]) -> bool:
    return any(k in node for k in ("minimum", "maximum", "maxItems"))


def out_of_range(data: Any, gen: SchemaGen, prop: dict[str, Any]) -> list[Any]:
    step = 1 if prop.get("type") == "integer" else 0.5
    values: list[Any] = []
    if "minimum" in prop:
        values.append(prop["minimum"] - step)
    if "maximum" in prop:
        values.append(prop["maximum"] + step)
    if "maxItems" in prop:
        item = data.draw(gen.node_instances(prop.get("items", {})))
        values.append([item] * (prop["maxItems"] + 1))
    return values


@pytest.mark.parametrize(
    "rev", [pytest.param(r, marks=KNOWN_REVISION_BUGS["bound"].get(r, [])) for r in REVISIONS]
)
def test_out_of_range_is_rejected(rev: str) -> None:
    """`minimum`, `maximum` and `maxItems` hold on decode, like every other rule of the schema."""
    gen = generator(rev)

    # Bounds a receiver must tolerate (2026-07-28 ttlMs: "clients SHOULD ignore it") are not enforced.
    lenient = set(source(rev).overrides.get("read_lenient", {}).get("bounds", []))

    def check(data: Any, tp: Any, instance: Any, target: Any, member: str, prop: Any, name: str) -> None:
        if member in lenient:
            return
        for value in out_of_range(data, gen, prop):
            target[member] = value
            assert not validator(rev, name).is_valid(instance)
            try:
                wire.decode(json.dumps(instance), tp)
            except msgspec.ValidationError as exc:
                assert member in str(exc), f"{exc} does not name {member}"
            else:
                raise AssertionError(f"accepted {json.dumps(value)[:40]} in {json.dumps(instance)[:300]}")

    failures = run_locations(rev, bounded, check)
    assert not failures, "\n".join(failures)


def integer(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return "const" not in node and (kind == "integer" or (isinstance(kind, list) and "integer" in kind))


@pytest.mark.parametrize("rev", REVISIONS)
def test_integral_float_is_refused_where_an_integer_is_wanted(rev: str) -> None:
    """The binding's policy: an `integer` member takes JSON integers, and 1.0 is refused with an error
    naming it (JSON Schema would admit it, but re-encoding it as 1 would change what was sent)."""

    def check(data: Any, tp: Any, instance: Any, target: Any, member: str, prop: Any, name: str) -> None:
        target[member] = float(max(prop.get("minimum", 1), 1))
        try:
            wire.decode(json.dumps(instance), tp)
        except msgspec.ValidationError as exc:
            assert member in str(exc), f"{exc} does not name {member}"
        else:
            raise AssertionError(f"accepted 1.0 for {member} in {json.dumps(instance)[:300]}")

    failures = run_locations(rev, integer, check)
    assert not failures, "\n".join(failures)
