"""Importing the client or the server loads no generated revision module (each costs milliseconds, paid
by every CLI run); the revision a connection speaks loads its own on first use, and creates only the
schema types the messages it handles reach."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.http_support import call, initialize, modern


@pytest.mark.parametrize("package", ["mcpbind.client", "mcpbind.server", "mcpbind.cli"])
def test_import_loads_no_generated_revision(package: str) -> None:
    probe = (
        f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.startswith('mcpbind.generated.')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_client_error_code_is_still_exported() -> None:
    from mcpbind.client import UNSUPPORTED_PROTOCOL_VERSION
    from mcpbind.protocol import revisions

    assert UNSUPPORTED_PROTOCOL_VERSION == revisions.UNSUPPORTED_PROTOCOL_VERSION == -32022


def test_a_stdio_server_loads_no_client() -> None:
    """The stdio module names the client's transport too (`stdio_client`, loaded on first read);
    it must not bring `mcpbind.client` into a server's cold start."""
    probe = (
        "import sys, mcpbind.server, mcpbind.transports.stdio\n"
        "print(sorted(m for m in sys.modules if m.startswith('mcpbind.client')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["mcpbind.client", "mcpbind.server", "mcpbind.transports.http"])
def test_import_loads_no_websocket_library(package: str) -> None:
    """The WebSocket transport (`mcpbind[ws]`) is loaded by its own entry points only."""
    probe = f"import sys, {package}\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'websockets'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_the_stdio_client_transport_is_read_from_the_stdio_module() -> None:
    """`mcpbind.transports.stdio.StdioClientTransport` is the client's transport, loaded on first
    read, and listed by `dir` (a stdio server imports neither it nor `plain`: `LAZY`)."""
    probe = (
        "import sys, mcpbind.transports.stdio as stdio\n"
        "before = sorted(m for m in sys.modules if m.startswith('mcpbind.transports.'))\n"
        "listed = 'StdioClientTransport' in dir(stdio)\n"
        "from mcpbind.transports.stdio import StdioClientTransport\n"
        "from mcpbind.transports.stdio_client import StdioClientTransport as own\n"
        "print(before, listed, StdioClientTransport is own)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "['mcpbind.transports.pipes', 'mcpbind.transports.stdio'] True True"


def test_plain_transports_meet_the_client_contract() -> None:
    """stdio and 2024-11-05 HTTP+SSE answer the contract's questions with its neutral values."""
    import asyncio

    from mcpbind.errors import McpError
    from mcpbind.transports.http.legacy_sse import LegacySseTransport
    from mcpbind.transports.stdio import StdioClientTransport

    for transport in (StdioClientTransport(sys.executable), LegacySseTransport("http://127.0.0.1:1/sse")):
        transport.use_revision("2024-11-05")
        transport.session_started()
        assert transport.param_headers is None and not transport.take_session_lost()
        assert asyncio.run(transport.fallback(McpError("gone"))) is None


# What a stdio server's start and first tools/call must not import: each loads on its own first use
# (a task tool, `@server.method`, a resource template, an elicitation's form check, HTTP's parameter
# headers, the client, middleware, salvaging an unreadable message's id), and the standard library's
# dataclasses (a few ms of generated code per class; the server's records are msgspec Structs) and
# `secrets` (with hashlib, hmac and random: 3% of a cold start's instructions).
LAZY = (
    "mcpbind.client",
    "mcpbind.protocol.tasks",
    "mcpbind.server.tasks",
    "mcpbind.server.task_requests",
    "mcpbind.server.custom",
    "mcpbind.server.uritemplate",
    "mcpbind.server.forms",
    "mcpbind.protocol.headers",
    "mcpbind.transports.http",
    "mcpbind.server.middleware",  # the first middleware loads it
    "mcpbind.protocol.salvage",  # an error path's (a message too large or unreadable)
    "mcpbind.protocol.numbers",  # a check that failed, tried again with `1.0` read as `1`
    "mcpbind.server.shared",  # `ctx.shared`'s first use
    "mcpbind.aio.deadlines",  # the first request of ours with a timeout
    "mcpbind.transports.server_output",  # the stdio client's (its start loads it)
    "mcpbind.transports.stdio_client",  # the stdio client's transport, and what it stands on
    "mcpbind.transports.plain",
    # The asyncio layer's contracts (`typing.Protocol` classes): annotations and casts on this path.
    "mcpbind.aio.contracts",
    "dataclasses",
    # The functions making a revision's types its first answers do not reach (`codegen.render`'s
    # `FIRST_ANSWERS`), read on the first use of one of them.
    "mcpbind.generated._v2025_11_25_more",
    "mcpbind.generated._v2026_07_28_more",
    # The first anonymous `client_key` (a task's owner) loads `secrets`, and with it these.
    "secrets",
    "hashlib",
    "hmac",
    "random",
)
# Loaded by the envelope era's revision (the tasks extension's listen request): a session-era server
# never loads it.
SESSION_LAZY = ("mcpbind.protocol.task_subscriptions",)
COLD = str(Path(__file__).resolve().parents[1] / "servers" / "cold.py")


def test_import_mcpbind_imports_nothing_else() -> None:
    probe = "import sys, mcpbind\nprint(sorted(m for m in sys.modules if m.startswith('mcpbind.')))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("era", ["session", "envelope"])
def test_stdio_first_call_leaves_the_lazy_modules_unloaded(era: str) -> None:
    """A real stdio server answers its first tools/call (after `initialize` in the session era, alone
    in the envelope era) with the modules loaded by then: none of `LAZY`."""
    if era == "session":
        lines = [
            initialize("2025-11-25"),
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            call(2, "loaded"),
        ]
    else:
        lines = [modern(2, "tools/call", {"name": "loaded", "arguments": {}})]
    stdin = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    done = subprocess.run([sys.executable, COLD], input=stdin, capture_output=True, timeout=120, check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    result = next(a for a in answers if a.get("id") == 2)["result"]
    modules = json.loads(result["content"][0]["text"])
    assert "mcpbind.server.registry" in modules  # the probe sees the server's own process
    assert [m for m in modules if m in LAZY or m.startswith(tuple(f"{n}." for n in LAZY))] == []
    assert [m for m in modules if m in SESSION_LAZY] == ([] if era == "session" else list(SESSION_LAZY))


def test_importing_a_revision_creates_no_schema_type() -> None:
    """A revision module's import leaves its ~170 classes to first use (`mcpbind.lazy`): the classes
    were most of its import's cost."""
    probe = (
        "import sys, mcpbind.generated.v2026_07_28 as m\n"
        "print(sum(isinstance(v, type) and v.__module__ == m.__name__ for v in vars(m).values()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "0"


# What a stdio server's first tools/call of a text tool may create of its revision's ~180 definitions
# (23 classes in the session era: the initialize and tools/call params and what they reach; 11 in the
# envelope era: no initialize; the params' `_meta` and the server's stamp, its `ResultMetaObject`, but
# not the input responses a retried call carries, which reach every content block). Neither the result
# (`CallToolResult` reaches every content block: a text answer is written as it encodes,
# `features.text_answer`), nor the result union (`InputRequiredResult`, reaching elicitation and
# sampling: a typed text result needs no validation), nor the tasks extension's listen request
# (extended on first use) is made.
MADE_AT_MOST = {"session": 25, "envelope": 13}


@pytest.mark.parametrize("era", ["session", "envelope"])
def test_stdio_first_call_creates_only_the_types_it_reaches(era: str) -> None:
    """A real stdio server's first tools/call, answered, then a second that reports what exists."""

    def ask(rid: int) -> dict[str, object]:
        if era == "session":
            return call(rid, "made")
        return modern(rid, "tools/call", {"name": "made", "arguments": {}})

    first = [ask(2)]
    if era == "session":
        first = [initialize("2025-11-25"), {"jsonrpc": "2.0", "method": "notifications/initialized"}, *first]
    with subprocess.Popen([sys.executable, COLD], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for rid, lines in ((2, first), (3, [ask(3)])):
            proc.stdin.write(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
            proc.stdin.flush()
            while (answer := json.loads(proc.stdout.readline())).get("id") != rid:
                pass
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    made = json.loads(answer["result"]["content"][0]["text"])  # type: ignore[index]
    module = "mcpbind.generated." + ("v2025_11_25" if era == "session" else "v2026_07_28")
    assert {name.rpartition(".")[0] for name in made} == {module}
    # The session era's params are its own type; the envelope era's lane reads a variant of it
    # (`plain._params_read`: input responses left as JSON, their types never made).
    assert (f"{module}.CallToolRequestParams" in made) == (era == "session")
    assert f"{module}.InputResponses" not in made
    # A text answer is written as its result type encodes it, without the type (`features.text_answer`).
    assert f"{module}.CallToolResult" not in made
    # Types of methods never asked are never created.
    never = {
        "ListResourcesResult",
        "GetPromptResult",
        "ClientStub",
        "InputRequiredResult",
        "SubscriptionFilter",
    }
    assert not {f"{module}.{name}" for name in never} & set(made)
    assert 8 < len(made) <= MADE_AT_MOST[era], len(made)


def test_the_contracts_are_read_from_the_interfaces_module() -> None:
    """`mcpbind.aio.interfaces` names each contract (`typing.Protocol`) of `mcpbind.aio.contracts`,
    loaded on its first read: the same class, runtime-checkable where it was."""
    probe = (
        "import sys, mcpbind.aio.interfaces as interfaces\n"
        "before = 'mcpbind.aio.contracts' in sys.modules\n"
        "from mcpbind.aio import contracts\n"
        "same = all(getattr(interfaces, name) is getattr(contracts, name) for name in contracts.__all__)\n"
        "listed = set(contracts.__all__) <= set(interfaces.__all__)\n"
        "print(before, same, listed, interfaces.BufferedTransport._is_runtime_protocol)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "False True True True"
    with pytest.raises(AttributeError):
        import mcpbind.aio.interfaces as interfaces

        interfaces.NoSuchContract  # noqa: B018


def test_a_stdio_server_start_makes_no_protocol_class() -> None:
    """The contracts of what a stdio server loads (`typing.Protocol` classes, ~0.15M instructions of
    typing's machinery each) are for the type checker or loaded on first use: none is made by its
    imports."""
    probe = (
        "import sys, mcpbind.server, mcpbind.transports.stdio\n"
        "print(sorted(f'{name}.{attr}' for name, module in list(sys.modules.items())\n"
        "    if name.startswith('mcpbind.') for attr, value in list(vars(module).items())\n"
        "    if isinstance(value, type) and value.__module__ == name\n"
        "    and getattr(value, '_is_protocol', False)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "['mcpbind.methods.Sender']"


@pytest.mark.parametrize("collecting", [True, False])
def test_importing_the_server_leaves_the_collector_as_it_was(collecting: bool) -> None:
    """The collector, paused while `mcpbind.server` is imported, is as it was before (enabled or not),
    and collects again once enabled."""
    probe = f"import gc\n{'' if collecting else 'gc.disable()'}\nimport mcpbind.server\nprint(gc.isenabled())"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == str(collecting)


def test_a_failed_server_import_resumes_the_collector() -> None:
    """An import that fails part way (a module of the server raising) resumes the collector too."""
    probe = (
        "import gc, sys\n"
        "sys.modules['mcpbind.server.registry'] = None  # importing it raises ImportError\n"
        "try:\n"
        "    import mcpbind.server\n"
        "except ImportError:\n"
        "    print(gc.isenabled())"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "True"
