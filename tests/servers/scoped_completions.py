"""A stdio server whose prompt and resource template need scopes and offer completions (what the
suggestions disclose is as sensitive as the feature), for tests/e2e/test_hostile_completions.py.

`python tests/servers/scoped_completions.py`
"""

from __future__ import annotations

from typing import Any

from mcpbind.server import Server

server = Server("scoped-completions", "1.0.0")


@server.prompt(scopes=["hr"])
def salary(employee: str) -> str:
    return f"The salary of {employee}"


@server.resource("secret://files/{name}", scopes=["files:read"])
def secret_file(name: str) -> str:
    return f"file {name}"


@server.prompt()
def greet(name: str) -> str:
    return f"Hello {name}"


@server.completion("prompt", "salary")
def employees(argument: str, value: str, context: dict[str, Any]) -> list[str]:
    return ["alice (on notice)", "bob (under review)"]


@server.completion("resource", "secret://files/{name}")
def files(argument: str, value: str, context: dict[str, Any]) -> list[str]:
    return ["merger-plans.txt", "layoffs.xlsx"]


@server.completion("prompt", "greet")
def names(argument: str, value: str, context: dict[str, Any]) -> list[str]:
    return [n for n in ("ada", "alan") if n.startswith(value)]


@server.prompt()
def visit(city: str, days: str) -> str:
    return f"{days} days in {city}"


@server.completion("prompt", "visit")
def one_city(argument: str, value: str, context: dict[str, Any]) -> Any:
    # A handler's slips: one bare string for `city`, numbers for `days`.
    return "paris" if argument == "city" else [1, 2]


if __name__ == "__main__":
    server.run_stdio()
