"""Developer and CI sessions: `nox -s tests lint typecheck generate bench_codec`."""

from __future__ import annotations

import glob
import os
import shutil

import nox

nox.options.sessions = ["generate", "tests", "lint", "typecheck", "interop", "interop_ts"]
nox.options.reuse_existing_virtualenvs = True

MIRROR = os.environ.get("MCPBIND_SCHEMA_MIRROR")
"""A local mirror of the upstream schema files (CI: ../shared/mcp-spec); unset means upstream."""


def _fetch(session: nox.Session) -> None:
    args = ["--from", MIRROR] if MIRROR else []
    session.run("python", "-m", "mcpbind.codegen", "fetch", *args)


@nox.session(python="3.11")
def main(session: nox.Session) -> None:
    """The main job: fetch and verify the schemas, check the bindings, summarise each revision, and
    inspect the example server through the `mcpbind` command."""
    session.install("-e", ".[codegen]")
    _fetch(session)
    session.run("python", "-m", "mcpbind.codegen", "generate", "--check")
    session.run("python", "-m", "mcpbind.codegen", "summary")
    session.run("mcpbind", "inspect", "--", "python", "examples/everything_server.py", "--transport", "stdio")


@nox.session(python="3.11")
def generate(session: nox.Session) -> None:
    """Fetch the pinned schemas, regenerate, and fail if generated/ was stale (`-- write` rewrites it)."""
    session.install("-e", ".[codegen]")
    _fetch(session)
    if "write" in session.posargs:
        session.run("python", "-m", "mcpbind.codegen", "generate")
    session.run("python", "-m", "mcpbind.codegen", "generate", "--check")
    session.run("python", "-m", "mcpbind.codegen", "summary")


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole test suite (but tests/interop_ts, which has its own session and Node packages)."""
    session.install("-e", ".[dev]")
    _fetch(session)
    _redis_server(session)
    session.run("pytest", "--ignore=tests/interop_ts", *session.posargs)


def _redis_server(session: nox.Session) -> None:
    """The Redis tests need a real redis-server: Debian's package, installed when missing and root may."""
    if shutil.which("redis-server") or not shutil.which("apt-get") or os.geteuid() != 0:
        return  # found, or not ours to install: the Redis tests say so (skipped, or failed under CI)
    session.run("apt-get", "update", "-qq", external=True)
    session.run("apt-get", "install", "-y", "-qq", "redis-server", external=True)


@nox.session(python="3.11")
def interop(session: nox.Session) -> None:
    """Interop with the official Python SDK (`mcp`) over stdio and HTTP: both directions, both eras."""
    session.install("-e", ".[dev]", "mcp==2.3.0")
    _fetch(session)
    session.run("pytest", "tests/interop", *session.posargs)


INTEROP_TS = os.path.join("tests", "interop_ts")


def _npm_ci(session: nox.Session) -> None:
    """The Node packages of tests/interop_ts (also the benchmark's TypeScript SDK), when the lock changed."""
    installed = os.path.join(INTEROP_TS, "node_modules", ".package-lock.json")
    lock = os.path.join(INTEROP_TS, "package-lock.json")
    if not os.path.exists(installed) or os.path.getmtime(installed) < os.path.getmtime(lock):
        with session.chdir(INTEROP_TS):
            session.run("npm", "ci", "--no-audit", "--no-fund", external=True)


@nox.session(python="3.11")
def interop_ts(session: nox.Session) -> None:
    """Interop with the official TypeScript SDK: its 1.x and 2.x clients against our server (stdio,
    Streamable HTTP, both eras; and authorized against our protected server: bearer, client
    credentials, authorization code), our client against its server-everything (stdio, Streamable HTTP,
    legacy SSE), and the MCP Inspector CLI against our server. The npm packages and a Node 22 binary
    are pinned in tests/interop_ts/package-lock.json; `npm ci` installs them when the lock changed."""
    session.install("-e", ".[dev]")
    _fetch(session)
    _npm_ci(session)
    # Missing packages fail the session instead of skipping its tests.
    session.run("pytest", INTEROP_TS, *session.posargs, env={"MCPBIND_INTEROP_TS": "1"})


@nox.session(python="3.11")
def soak(session: nox.Session) -> None:
    """Many calls against one server per era (stdio and HTTP, in a session and stateless), sampling the
    server's RSS, fds and asyncio tasks: growth must be flat. CI's short run takes about a minute;
    `-- --calls N` makes N calls per HTTP era and 2N per stdio era (long: `-- --calls 100000`).
    Then the churn runs (a few minutes more): 10,000 cycles of messy clients against one HTTP server
    (tests/soak/churn.py), and one long-lived client making 10,000 calls per era through session
    ends and server restarts (tests/soak/client_churn.py); each must leave nothing behind."""
    session.install("-e", ".[dev]")
    _fetch(session)
    session.run("python", "-m", "tests.soak.driver", *session.posargs)
    session.run("python", "-m", "tests.soak.churn")
    session.run("python", "-m", "tests.soak.client_churn")


@nox.session(python="3.11")
def conformance(session: nox.Session) -> None:
    """The official MCP conformance suite (npm @modelcontextprotocol/conformance, pinned with its own
    Node 22 in tests/conformance/package-lock.json): server and client, revisions 2025-11-25 and
    2026-07-28, and the tasks-* extension scenarios (scored). `-- --all` also runs `--suite all`
    (reported only). Needs npm, for `npm ci`."""
    session.install("-e", ".[dev]")
    session.run("python", "tests/conformance/run.py", *session.posargs)


@nox.session(python="3.11")
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs.yml) into site/, warnings as errors; its code samples are run by
    tests/docs/test_snippets.py in the `tests` session."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python="3.11")
def wheel(session: nox.Session) -> None:
    """What a user installs: build the wheel and sdist, install the wheel with its `http` extra in a
    fresh virtualenv and serve an example from it; then an editable install (`editable_mode=strict`)
    under which a user's script passes mypy --strict (and a mistyped one fails)."""
    session.install("build")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    session.run("python", "tools/check_install.py", "dist")


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff==0.17.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.11")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package as installed (runtime, generated, codegen), and on the
    documentation's code samples as users' scripts."""
    session.install("-e", ".[dev]")
    session.run("python", "tools/typecheck.py")
    session.run("python", "tools/typecheck.py", *sorted(glob.glob("docs/snippets/*.py")))


BENCH_OPTIONS: dict[str, dict[str, bool]] = {
    "codec": {"--quick": False, "--rounds": True},
    "servers": {
        "--quick": False,
        "--rounds": True,
        "--seconds": True,
        "--no-pin": False,
        "--impls": True,
        "--measures": True,
        "--curve-rounds": True,
    },
    "clients": {
        "--quick": False,
        "--rounds": True,
        "--seconds": True,
        "--no-pin": False,
        "--impls": True,
        "--legs": True,
        "--uvloop": False,
    },
    "steady": {
        "--quick": False,
    },
}
"""The options `nox -s bench -- ...` passes on, and to which of its scripts (bench/<script>.py): each
script is given those it takes (option -> whether a value follows it), so that one script's option
is not another's error. The session chooses the rest (`--peer-python`, `--curves`, where results go)."""


def bench_options(script: str, posargs: list[str]) -> list[str]:
    """The part of `posargs` that bench/`script`.py takes (`BENCH_OPTIONS`). ValueError for an
    option no script of the session takes, or one that lacks its value."""
    known: dict[str, bool] = {}
    for options in BENCH_OPTIONS.values():
        known.update(options)
    mine = BENCH_OPTIONS[script]
    taken: list[str] = []
    args = iter(posargs)
    for arg in args:
        name, eq, _ = arg.partition("=")
        if name not in known:
            raise ValueError(f"nox -s bench: {arg!r} is no option of the bench ({', '.join(sorted(known))})")
        given = [arg]
        if known[name] and not eq:
            following = next(args, None)
            if following is None:
                raise ValueError(f"nox -s bench: {name} needs a value")
            given.append(following)
        if name in mine:
            taken += given
    return taken


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Codec, server and client benchmarks beside the official SDKs (Python, and TypeScript on Node), each
    peer in its own environment, and the curves drawn into bench/charts/ (`-- --quick` is CI's smoke run:
    no curves, and Node only if tests/interop_ts has its packages)."""
    session.install("-e", ".[http,bench,auth,ws,redis]")
    quick = "--quick" in session.posargs
    if not quick:
        _npm_ci(session)
    base = os.path.join(session.virtualenv.location, "..")
    peers = {
        "types": ("bench-peer-mcp-types", ["mcp-types==2.3.0"]),
        "mcp": ("bench-peer-mcp", ["mcp==2.3.0", "uvicorn", "uvloop", "httptools"]),
    }
    python: dict[str, str] = {}
    for key, (name, requirements) in peers.items():
        venv = os.path.join(base, name)
        python[key] = os.path.join(venv, "bin", "python")
        if not os.path.exists(python[key]):
            session.run("python", "-m", "venv", venv)
        session.run(python[key], "-m", "pip", "install", "-q", *requirements, external=True)
    try:
        taken = {script: bench_options(script, session.posargs) for script in BENCH_OPTIONS}
    except ValueError as exc:
        session.error(str(exc))
    codec = session.run(
        "python", "bench/codec.py", "--peer-python", python["types"], *taken["codec"], silent=True
    )
    curves = [] if quick else ["--curves"]
    servers = session.run(
        "python", "bench/servers.py", "--peer-python", python["mcp"], *curves, *taken["servers"], silent=True
    )
    clients = session.run(
        "python", "bench/clients.py", "--peer-python", python["mcp"], *taken["clients"], silent=True
    )
    scaleout = _scaleout(session, quick)
    # Instruction counts (callgrind), which the load does not move; skipped, with a reason, without valgrind.
    steady = session.run("python", "bench/steady.py", *taken["steady"], silent=True)
    print(codec, servers, clients, scaleout, steady, sep="\n")
    # (`nox --install-only` runs no command: each `session.run` gave None, nothing to write)
    if not quick and codec is not None:
        _write_benchmarks(str(codec), str(servers), str(clients), session.posargs, scaleout, str(steady))


def _scaleout(session: nox.Session, quick: bool) -> str:
    """bench/scaleout.py's table (1 and 2 workers, Redis), driven by wrk (Debian's, installed when missing
    and root may; the quick run does without: the Python driver, with a warning)."""
    if not quick:
        _redis_server(session)
        if not shutil.which("wrk") and shutil.which("apt-get") and os.geteuid() == 0:
            session.run("apt-get", "update", "-qq", external=True)
            session.run("apt-get", "install", "-y", "-qq", "wrk", external=True)
    if not shutil.which("redis-server"):
        return "Not measured: redis-server is not installed (`apt-get install redis-server`)."
    return str(session.run("python", "bench/scaleout.py", *(["--quick"] if quick else []), silent=True))


def _write_benchmarks(
    codec: str, servers: str, clients: str, posargs: list[str], scaleout: str, steady: str = ""
) -> None:
    """BENCHMARKS.md: the machine, the date, the command and the four tables of one run, then the
    steady figures (bench/steady.py's section, its own heading)."""
    import datetime
    import platform

    command = " ".join(["nox -s bench", *(["--", *posargs] if posargs else [])])
    head = [
        "# Benchmarks",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC with `{command}` on "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs. Only ratios within one run count: absolute figures "
        "drift between runs on a shared machine.",
        "",
        "## Codec (decode + encode per message)",
        "",
    ]
    keep = lambda text: "\n".join(line for line in text.splitlines() if not line.startswith(("#", "nox >")))  # noqa: E731
    body = (
        "\n".join(head)
        + keep(codec)
        + "\n\n## Servers\n\n"
        + keep(servers)
        + _charts()
        + "\n\n## Clients (the client ceiling)\n\n"
        + keep(clients)
        + "\n\n## Scale-out (1 and 2 workers, Redis; bench/scaleout.py)\n\n"
        + keep(scaleout)
        + "\n"
        + steady_section(steady)
    )
    with open("BENCHMARKS.md", "w") as fh:
        fh.write(body)


STEADY_HEADING = "## Steady figures (instructions under callgrind)"


def steady_section(output: str) -> str:
    """bench/steady.py's section out of its output (what nox captured: stderr too), from its heading on;
    empty when there is none."""
    start = output.find(STEADY_HEADING)
    if start < 0:
        return ""
    section = "\n".join(line for line in output[start:].splitlines() if not line.startswith("nox >"))
    return "\n" + section.strip() + "\n"


def _charts() -> str:
    """The charts bench/servers.py --curves drew, as images in BENCHMARKS.md."""
    folder = os.path.join("bench", "charts")
    names = sorted(n for n in os.listdir(folder) if n.endswith(".svg")) if os.path.isdir(folder) else []
    return "".join(f"\n\n![{n[:-4].replace('_', ' ')}]({folder}/{n})" for n in names)


@nox.session(python="3.11")
def bench_codec(session: nox.Session) -> None:
    """Codec µs per message beside mcp-types (in its own environment) and raw msgspec."""
    session.install("-e", ".")
    peer = os.path.join(session.virtualenv.location, "..", "bench-peer-mcp-types")
    if not os.path.exists(os.path.join(peer, "bin", "python")):
        session.run("python", "-m", "venv", peer)
    session.run(
        os.path.join(peer, "bin", "python"), "-m", "pip", "install", "-q", "mcp-types==2.3.0", external=True
    )
    session.run(
        "python", "bench/codec.py", "--peer-python", os.path.join(peer, "bin", "python"), *session.posargs
    )
