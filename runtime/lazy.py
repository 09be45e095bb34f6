"""The schema types of a generated revision module, each created the first time it is used.

A revision defines about 170 types; a server answering `tools/call` uses some 30, and creating a class
costs far more than importing its code. So a generated module defines each type in a function of its
own (`global Name` inside, so the class is the module's, with its plain qualified name) and hands
`Definitions` a table of them: name -> (function, the names its definition refers to). Reading a type
the module does not have yet (the module's `__getattr__`) creates it together with every type it
reaches, in the module's order (a union after its members), so that whatever msgspec resolves from the
type's annotations is in the module by then, and a class is created once, whichever thread asks. The
functions of the types a server's first answers do not reach are in a module of their own, imported
the first time one of them is made (`more`), and run with the generated module's globals: importing a
module makes the code objects of all its functions, whether they run or not.

Each function's `global` puts its class in the module as it runs, one at a time; another thread must
not take one of them until the whole group is there (msgspec, building a decoder for it, would not
find the rest: NameError). So while a group is created the module is of a class whose attribute
reads wait for it (`_Creating`); once the group is whole, it is a plain module again, and reading
from it costs what it always did.

Once a group is whole, its classes' annotations (texts: the modules postpone them) are given their
values (`resolve_annotations`), each distinct text read once and most with no compiling. msgspec would
otherwise compile each field's text on its own, the first time it reads the class: most of the cost
of a server's first answers.
"""

from __future__ import annotations

import builtins
import os
import sys
from _thread import RLock
from collections.abc import Callable, Mapping
from importlib import import_module
from types import FunctionType, ModuleType
from typing import Any, TypeVar

__all__ = ["Definitions", "resolve_annotations"]

C = TypeVar("C", bound=type)

_LOCK = RLock()
"""Held while a group is created, in any generated module: one lock, so that no two threads each
wait for the other's module (creating a group is rare: at most once per type)."""


class _Creating(ModuleType):
    """A generated module while a group of its types is created: an attribute read (`module.Name`,
    `from module import Name`) waits until the group is whole (the creating thread's reads pass)."""

    __slots__ = ()

    def __getattribute__(self, name: str) -> Any:
        with _LOCK:
            return ModuleType.__getattribute__(self, name)


class Definitions:
    """The lazily created definitions of one generated module (`namespace`: its globals)."""

    __slots__ = (
        "_hints",
        "_made",
        "_module",
        "_module_object",
        "_more",
        "_more_functions",
        "_namespace",
        "_order",
        "_table",
    )

    def __init__(
        self,
        namespace: dict[str, Any],
        table: Mapping[str, tuple[Callable[[], None] | None, tuple[str, ...]]],
        more: str | None = None,
    ) -> None:
        self._namespace = namespace
        self._more = more
        """The module (of our package) whose `_define_<Name>` functions make the definitions the table
        gives no function (None), imported on the first use of one: run with `namespace` as globals."""
        self._more_functions: dict[str, Callable[[], None]] | None = None
        self._module: str = namespace["__name__"]
        self._table = table
        self._order = {name: index for index, name in enumerate(table)}
        self._made: set[str] = set()
        self._hints: dict[str, tuple[tuple[str, ...], Any]] = {}
        """Each annotation's text read once: the names it uses and its value (`resolve_annotations`)."""
        # The module being executed (it is in sys.modules by then), if these are its globals.
        module = sys.modules.get(self._module)
        self._module_object = module if module is not None and vars(module) is namespace else None

    def get(self, name: str) -> Any:
        """The module's `__getattr__`: definition `name`, created now (with what it reaches) if need be."""
        if name not in self._table:
            raise AttributeError(f"module {self._module!r} has no attribute {name!r}")
        with _LOCK:
            if name not in self._made:
                self._create(name)
        return self._namespace[name]

    def _create(self, name: str) -> None:
        """Create `name` and what it reaches, visible to other threads only once all are there."""
        module = self._module_object
        if module is None or type(module) is not ModuleType:  # (no module to hide, or hidden already)
            self._make(name)
            return
        module.__class__ = _Creating
        try:
            self._make(name)
        finally:
            module.__class__ = ModuleType

    def _make(self, name: str) -> None:
        made = []
        for needed in sorted(self._reach(name), key=self._order.__getitem__):
            if needed not in self._made:
                self._function(needed)()
                self._made.add(needed)
                made.append(needed)
        for needed in made:  # (the group is whole: whatever an annotation names is there)
            value = self._namespace[needed]
            if isinstance(value, type):
                resolve_annotations(value, self._namespace, self._hints)

    def _function(self, name: str) -> Callable[[], None]:
        """The function that makes definition `name`: the table's, or `more`'s with our globals."""
        function = self._table[name][0]
        if function is not None:
            return function
        found = self._more_functions
        if found is None:
            if self._more is None:
                raise LookupError(f"{self._module}: no function makes {name!r}")
            namespace = self._namespace
            found = self._more_functions = {
                key[8:]: FunctionType(value.__code__, namespace, key)
                for key, value in vars(_sibling(namespace, self._more)).items()
                if key.startswith("_define_") and type(value) is FunctionType
            }
        return found[name]

    def _reach(self, name: str) -> set[str]:
        reached = {name}
        pending = [name]
        while pending:
            for ref in self._table[pending.pop()][1]:
                if ref not in reached and ref not in self._made:
                    reached.add(ref)
                    pending.append(ref)
        return reached

    def refers_to(self, name: str) -> tuple[str, ...]:
        """The names definition `name` refers to itself (not what those reach)."""
        return self._table[name][1]

    def variant(self, name: str, given: Mapping[str, Any]) -> Any:
        """Definition `name` made anew, apart from the module (whose own `name` is neither made nor
        replaced), with each name of `given` read as the value given and every other name it refers
        to the module's, created as need be: a reader's own version of a type, reading a member as
        something else (`msgspec.Raw`, say) without creating what that member's type would reach."""
        refs = self._table[name][1]
        with _LOCK:  # (no group half made in the module while it is copied)
            for ref in refs:
                if ref not in given:
                    self.get(ref)
            namespace = {**self._namespace, **given}
            code = self._function(name).__code__
        FunctionType(code, namespace)()  # (its `global` sets `name` in `namespace`)
        return resolve_annotations(namespace[name], namespace, {})  # (the texts' values here are its own)

    def names(self) -> list[str]:
        """The module's `__dir__`: what it has now and what it creates on use."""
        return sorted({*self._namespace, *self._table})

    def made(self) -> frozenset[str]:
        """The definitions created so far (what tests and the cold-start budget look at)."""
        return frozenset(self._made)

    def make_all(self) -> None:
        """Create every definition now (for tools that walk a whole revision)."""
        for name in self._table:
            self.get(name)


def _sibling(namespace: dict[str, Any], name: str) -> ModuleType:
    """Module `name` of the package of the module whose globals are `namespace`; of a module loaded
    from its file with no package, the file `name`.py beside it."""
    package = namespace.get("__package__")
    if package:
        return import_module(f"{package}.{name}")
    from importlib.util import module_from_spec, spec_from_file_location

    path = os.path.join(os.path.dirname(namespace["__file__"]), f"{name}.py")
    spec = spec_from_file_location(f"{namespace['__name__']}.{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module {name!r} beside {namespace['__name__']!r}", path=path)
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resolve_annotations(
    cls: C,
    namespace: dict[str, Any] | None = None,
    known: dict[str, tuple[tuple[str, ...], Any]] | None = None,
) -> C:
    """Give `cls` its annotations' values in place of their texts (postponed annotations), and
    return it: what msgspec would evaluate itself, the first time a decoder or a conversion reads the
    class, compiling each field's text anew (`typing.ForwardRef`, ~0.1% of a cold start per field).

    `namespace` is where the texts are read (the class's module by default); `known` the values of
    texts read already there (shared by the classes of one module). A text that names something of the
    class's own namespace (which msgspec reads first), a `ClassVar` (a constant's, which msgspec skips)
    or a text that does not evaluate is left as it is, for msgspec to read as before."""
    own = cls.__dict__
    notes = own.get("__annotations__")
    if not notes:
        return cls
    if namespace is None:
        namespace = vars(sys.modules[cls.__module__])
    if known is None:
        known = {}
    for field, text in notes.items():
        if type(text) is not str or text.startswith("ClassVar["):
            continue
        found = known.get(text)
        if found is None:
            try:
                found = known[text] = _evaluate(text, namespace)
            except Exception:
                continue
        names, value = found
        if own.keys().isdisjoint(names):
            notes[field] = type(None) if value is None else value
    return cls


def _evaluate(text: str, namespace: dict[str, Any]) -> tuple[tuple[str, ...], Any]:
    """The names annotation `text` uses, and its value in `namespace`, as `eval` gives it. Names
    joined by `|` (`Implementation | UnsetType`, most texts) are looked up and joined; subscripts of
    names and string constants (`dict[str, Any] | UnsetType`, `Literal['a', 'b']`) are read by
    `_Reader`; anything else is compiled."""
    parts = text.split(" | ")
    try:  # (a part that is no name is in neither namespace: then it is not this case)
        values = [_name(part, namespace) for part in parts]
    except AttributeError:
        pass
    else:
        value = values[0]
        for other in values[1:]:
            value = value | other
        return tuple(parts), value
    tokens = text.replace("[", " [ ").replace("]", " ] ").replace(",", " , ").split()
    try:
        return _Reader(tokens, namespace).read()
    except (AttributeError, KeyError, IndexError, _Unread):
        pass
    code = compile(text, "<annotation>", "eval")
    return code.co_names, eval(code, namespace)


def _name(name: str, namespace: dict[str, Any]) -> Any:
    if name in namespace:
        return namespace[name]
    if name == "None":
        return None
    return getattr(builtins, name)


class _Unread(Exception):
    """A text `_Reader` does not read (it is compiled instead)."""


class _Reader:
    """Reads the tokens of `union := term ("|" term)*`, `term := name ["[" union ("," union)* "]"]
    | 'string'` (a name may be dotted; a string has no space or quote in it), as `eval` would: names
    looked up (globals, then builtins), subscripts and `|` applied in order."""

    __slots__ = ("names", "namespace", "position", "tokens")

    def __init__(self, tokens: list[str], namespace: dict[str, Any]) -> None:
        self.tokens = tokens
        self.namespace = namespace
        self.position = 0
        self.names: list[str] = []

    def read(self) -> tuple[tuple[str, ...], Any]:
        value = self._union()
        if self.position != len(self.tokens):
            raise _Unread
        return tuple(self.names), value

    def _union(self) -> Any:
        value = self._term()
        while self.position < len(self.tokens) and self.tokens[self.position] == "|":
            self.position += 1
            value = value | self._term()
        return value

    def _term(self) -> Any:
        token = self.tokens[self.position]
        self.position += 1
        if token[0] == "'":
            if len(token) < 2 or token[-1] != "'" or "'" in token[1:-1] or "\\" in token:
                raise _Unread
            return token[1:-1]
        first, *rest = parts = token.split(".")
        if not all(part.isidentifier() for part in parts):
            raise _Unread
        self.names.append(first)
        value = _name(first, self.namespace)
        for attribute in rest:
            value = getattr(value, attribute)
        if self.position < len(self.tokens) and self.tokens[self.position] == "[":
            self.position += 1
            items = [self._union()]
            while self.tokens[self.position] == ",":
                self.position += 1
                items.append(self._union())
            if self.tokens[self.position] != "]":
                raise _Unread
            self.position += 1
            value = value[items[0] if len(items) == 1 else tuple(items)]
        return value
