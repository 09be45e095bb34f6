"""The schema types of a generated revision module, each created the first time it is used.

A revision defines about 170 types; a server answering `tools/call` uses some 30, and creating a class
costs far more than importing its code. So a generated module defines each type in a function of its
own (`global Name` inside, so the class is the module's, with its plain qualified name) and hands
`Definitions` a table of them: name -> (function, the names its definition refers to). Reading a type
the module does not have yet (the module's `__getattr__`) creates it together with every type it
reaches, in the module's order (a union after its members), so that whatever msgspec resolves from the
type's annotations is in the module by then, and a class is created once, whichever thread asks.

Each function's `global` puts its class in the module as it runs, one at a time; another thread must
not take one of them until the whole group is there (msgspec, building a decoder for it, would not
find the rest: NameError). So while a group is created the module is of a class whose attribute
reads wait for it (`_Creating`); once the group is whole, it is a plain module again, and reading
from it costs what it always did.
"""

from __future__ import annotations

import builtins
import sys
from _thread import RLock
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["Definitions"]

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

    __slots__ = ("_hints", "_made", "_module", "_module_object", "_namespace", "_order", "_table")

    def __init__(
        self,
        namespace: dict[str, Any],
        table: Mapping[str, tuple[Callable[[], None], tuple[str, ...]]],
    ) -> None:
        self._namespace = namespace
        self._module: str = namespace["__name__"]
        self._table = table
        self._order = {name: index for index, name in enumerate(table)}
        self._made: set[str] = set()
        self._hints: dict[str, tuple[tuple[str, ...], Any]] = {}
        """Each annotation's text read once: the names it uses and its value (see `_resolve`)."""
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
                self._table[needed][0]()
                self._made.add(needed)
                made.append(needed)
        for needed in made:  # (the group is whole: whatever an annotation names is there)
            self._resolve(self._namespace[needed])

    def _resolve(self, made: Any) -> None:
        """Give class `made` its annotations' values in place of their texts (postponed annotations).

        msgspec would read each text itself, the first time a decoder or a conversion needs the
        class, compiling it anew for every field of every class (`typing.ForwardRef`): most of the
        cost of a server's first answers. Here each distinct text of the module is compiled and
        evaluated once, to the same value. A text naming something of the class's own namespace
        (which msgspec reads first), or that does not evaluate, is left for msgspec as before."""
        if not isinstance(made, type):
            return
        own = made.__dict__
        notes = own.get("__annotations__")
        if not notes:
            return
        hints = self._hints
        for field, text in notes.items():
            if type(text) is not str or text.startswith("ClassVar["):
                continue  # (a constant's: msgspec reads it only if it reads the class, and skips it)
            found = hints.get(text)
            if found is None:
                try:
                    found = hints[text] = self._evaluate(text)
                except Exception:
                    continue
            names, value = found
            if not any(n in own for n in names):
                notes[field] = type(None) if value is None else value

    def _reach(self, name: str) -> set[str]:
        reached = {name}
        pending = [name]
        while pending:
            for ref in self._table[pending.pop()][1]:
                if ref not in reached and ref not in self._made:
                    reached.add(ref)
                    pending.append(ref)
        return reached

    def _evaluate(self, text: str) -> tuple[tuple[str, ...], Any]:
        """The names annotation `text` uses, and its value in the module. Most texts are names joined
        by `|` (`Implementation | UnsetType`): those are looked up and joined as `eval` would, with no
        compiling; anything else is compiled."""
        namespace = self._namespace
        parts = text.split(" | ")
        if all(part.isidentifier() for part in parts):
            try:
                values = [namespace[p] if p in namespace else getattr(builtins, p) for p in parts]
            except AttributeError:
                pass  # (`None`, say: a keyword)
            else:
                value = values[0]
                for other in values[1:]:
                    value = value | other
                return tuple(parts), value
        code = compile(text, "<annotation>", "eval")
        return code.co_names, eval(code, namespace)

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
