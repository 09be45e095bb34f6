"""The written-out fast path of a dispatched union (`UnionDispatch._from_wire` per union class).

A union of objects that msgspec cannot tell apart is read by `UnionDispatch`: it picks the member by the
keys and constants of each one, then converts. Read for every union in every message, that general path
costs as much again as the conversion itself. Here the generator works out, from the same member rules,
the cases where the value of one constant key (the deciding key) and the presence of a few keys leave
exactly one candidate; the template writes those out as plain tests, and anything else (or any member
that does not convert) takes the general path, which then decides, or says what is wrong, as before.

A member written out is one the ranking (`UnionDispatch`'s candidates, then the schema's order) would
also try first: every key it requires is present, every constant it fixes holds, and every other member
that allows the same value either lacks a key it requires (it is no candidate), or has none of the
keys this member does not declare or fix as well (it matches no more constants and has no more declared
keys present) and either comes later in the schema's order (a tie goes to this member) or does not
declare a key this member requires, or one it declares that the tests require present (fewer declared
keys present: the legacy enum schema, with its `enumNames`). The enum-schema family's
`{"type": "string", "enum": [...]}`, which three members accept, is such a case. So a conversion that
succeeds gives the same value as the general path would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .model import DispatchDef, MemberRule


@dataclass(frozen=True)
class Arm:
    """One member read directly when the deciding key holds one of `values` (or is absent)."""

    values: tuple[Any, ...]
    """The deciding key's values that may select this member."""
    absent: bool
    """Whether this arm is for the deciding key's absence (then `values` is empty)."""
    type: str
    """The member's type, as the generated module names it."""
    hooked: bool
    """Whether converting into it reaches open objects or dispatched unions (needs the hook)."""
    tests: tuple[str, ...]
    """Python conditions over `obj` (beyond the deciding key) that make it the only candidate."""
    conds: tuple[Cond, ...] = ()
    """The same conditions as data (`Cond`), for a reader that tests something other than a dict."""


@dataclass(frozen=True)
class Group:
    """Consecutive arms for the same values of the deciding key, tested once for them all."""

    values: tuple[Any, ...]
    arms: tuple[Arm, ...]


@dataclass(frozen=True)
class Plan:
    key: str
    """The deciding key: a constant every member fixes."""
    arms: tuple[Arm, ...]

    @property
    def groups(self) -> tuple[Group, ...]:
        """The arms for values present, in order, grouped where consecutive arms take the same values."""
        out: list[Group] = []
        for arm in self.arms:
            if arm.absent:
                continue
            if out and out[-1].values == arm.values:
                out[-1] = Group(arm.values, (*out[-1].arms, arm))
            else:
                out.append(Group(arm.values, (arm,)))
        return tuple(out)

    @property
    def disjoint(self) -> bool:
        """Whether no value of the deciding key selects two groups: a value then needs testing against
        one group's values only (`elif`), and the groups after the one it selects are skipped."""
        seen: set[Any] = set()
        for group in self.groups:
            if seen.intersection(group.values):
                return False
            seen.update(group.values)
        return True


_ABSENT = object()

Cond = tuple[Any, ...]
"""One condition of an arm: ("in", key), ("out", key), ("any_in", keys) (one of them present),
("any_out", keys) (one of them absent), or
("const", key, allowed, required) (present and allowed, or with `required` False absent or allowed)."""


def cond_text(cond: Cond, lit: Callable[[Any], str]) -> str:
    """A condition over the dict `obj`, as Python source."""
    kind = cond[0]
    if kind == "in":
        return f"{lit(cond[1])} in obj"
    if kind == "out":
        return f"{lit(cond[1])} not in obj"
    if kind == "any_in":
        return "(" + " or ".join(f"{lit(k)} in obj" for k in cond[1]) + ")"
    if kind == "any_out":
        either = " or ".join(f"{lit(k)} not in obj" for k in cond[1])
        return either if len(cond[1]) == 1 else f"({either})"
    return _const_test(cond[1], cond[2], cond[3], lit)


def _takes(rule: MemberRule, key: str, value: Any) -> bool:
    for k, allowed, required in rule.consts:
        if k == key:
            return (not required) if value is _ABSENT else value in allowed
    return True


def _tuple(values: tuple[Any, ...], lit: Callable[[Any], str]) -> str:
    # No trailing comma past one item: the formatter would spread the tuple over lines.
    return "(" + ", ".join(lit(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def _const_test(key: str, allowed: tuple[Any, ...], required: bool, lit: Callable[[Any], str]) -> str:
    values = _tuple(allowed, lit)
    if required:
        return f"{lit(key)} in obj and obj[{lit(key)}] in {values}"
    return f"({lit(key)} not in obj or obj[{lit(key)}] in {values})"


def _arm(
    rule: MemberRule,
    rivals: list[tuple[MemberRule, bool]],
    key: str,
    value: Any,
    lit: Callable[[Any], str],
) -> list[Cond] | None:
    """The tests that make `rule` the first candidate the ranking tries when `key` holds `value`, or
    None if the keys present cannot settle it (the general path's ranking decides those). `rivals`:
    the other members that allow `value`, each with whether it comes after `rule` in the schema."""
    tests: list[Cond] = [("in", k) for k in sorted(rule.required) if k != key]
    for k, allowed, required in rule.consts:
        if k != key:
            tests.append(("const", k, allowed, required))
    own = set(rule.required)
    for rival, later in rivals:
        lacking = sorted(set(rival.required) - own - {key})
        if lacking:  # the rival is no candidate while one of these is absent
            tests.append(("out", lacking[0]) if len(lacking) == 1 else ("any_out", tuple(lacking)))
            continue
        if not later and not own - set(rival.declared) - {key}:
            # A candidate as well, and first on a tie: `rule` is first only with more declared keys
            # present, one it declares and the rival does not (the legacy enum schema's `enumNames`).
            beyond = sorted(set(rule.declared) - set(rival.declared) - {key})
            if not beyond:
                return None  # only the ranking can tell
            tests.append(("in", beyond[0]) if len(beyond) == 1 else ("any_in", tuple(beyond)))
        # A candidate as well, ranked below `rule` while it has no key `rule` lacks: no more declared
        # keys present, no constant matched that `rule` does not match too. A tie goes to `rule` if it
        # comes first; a rival that comes first has fewer declared keys present (one `rule` requires
        # is not the rival's, or one it declares is present as tested above).
        mine = {k for k, _, _ in rule.consts}
        extra = (set(rival.declared) - set(rule.declared)) | ({k for k, _, _ in rival.consts} - mine)
        tests += [("out", k) for k in sorted(extra - {key})]
    return list(dict.fromkeys(tests))  # rivals lacking the same key: one test


def plan(
    d: DispatchDef,
    lit: Callable[[Any], str],
    type_name: Callable[[MemberRule], str],
    hooked: Callable[[MemberRule], bool],
) -> Plan | None:
    """The written-out path of a union dispatched by keys, or None where none helps (a union selected
    by a tag, which `UnionDispatch._from_tag` reads in one lookup; members of other JSON kinds; no
    constant key that all members fix)."""
    members = d.members
    if d.tag is not None or not members or any(m.kind != "object" for m in members):
        return None
    common = set.intersection(*({k for k, _, _ in m.consts} for m in members))
    best: Plan | None = None
    for key in sorted(common):
        values: list[Any] = []
        for m in members:
            for k, allowed, required in m.consts:
                if k == key:
                    values += [v for v in allowed if v not in values]
                    if not required and _ABSENT not in values:
                        values.append(_ABSENT)
        arms: list[Arm] = []
        for value in values:
            takers = [m for m in members if _takes(m, key, value)]
            for at, rule in enumerate(takers):
                rivals = [(r, i > at) for i, r in enumerate(takers) if r is not rule]
                conds = _arm(rule, rivals, key, value, lit)
                if conds is not None:
                    arms.append(
                        Arm(
                            () if value is _ABSENT else (value,),
                            value is _ABSENT,
                            type_name(rule),
                            hooked(rule),
                            tuple(dict.fromkeys(cond_text(c, lit) for c in conds)),
                            tuple(conds),
                        )
                    )
        merged = _merge(arms)
        if best is None or len(merged) > len(best.arms):
            best = Plan(key, tuple(merged))
    return best if best is not None and best.arms else None


def _merge(arms: list[Arm]) -> list[Arm]:
    """Arms for several values of the same member under the same tests, as one."""
    out: list[Arm] = []
    for arm in arms:
        for i, seen in enumerate(out):
            if (seen.type, seen.tests, seen.absent) == (arm.type, arm.tests, arm.absent) and not arm.absent:
                out[i] = Arm(seen.values + arm.values, False, seen.type, seen.hooked, seen.tests, seen.conds)
                break
        else:
            out.append(arm)
    return out
