"""The schema types of a generated revision module, each created the first time it is used.

A revision defines about 170 types; a server answering `tools/call` uses some 30, and creating a class
costs far more than importing its code. So a generated module defines each type in a function of its
own (`global Name` inside, so the class is the module's, with its plain qualified name) and hands
`Definitions` a table of them: name -> (function, the names its definition refers to). Reading a type
the module does not have yet (the module's `__getattr__`) creates it together with every type it
reaches, in the module's order (a union after its members), so that whatever msgspec resolves from the
type's annotations is in the module by then, and a class is created once, whichever thread asks.
"""

from __future__ import annotations

from _thread import RLock
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Definitions"]


class Definitions:
    """The lazily created definitions of one generated module (`namespace`: its globals)."""

    __slots__ = ("_lock", "_made", "_module", "_namespace", "_order", "_table")

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
        self._lock = RLock()

    def get(self, name: str) -> Any:
        """The module's `__getattr__`: definition `name`, created now (with what it reaches) if need be."""
        if name not in self._table:
            raise AttributeError(f"module {self._module!r} has no attribute {name!r}")
        with self._lock:
            if name not in self._made:
                for needed in sorted(self._reach(name), key=self._order.__getitem__):
                    if needed not in self._made:
                        self._table[needed][0]()
                        self._made.add(needed)
        return self._namespace[name]

    def _reach(self, name: str) -> set[str]:
        reached = {name}
        pending = [name]
        while pending:
            for ref in self._table[pending.pop()][1]:
                if ref not in reached and ref not in self._made:
                    reached.add(ref)
                    pending.append(ref)
        return reached

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
