"""A transparent stdio relay that records every line both ways: `python relay.py LOG -- COMMAND ARGS...`.

It spawns COMMAND, copies its own stdin to the child's stdin and the child's stdout to its own stdout
line by line, and appends each line to LOG as a JSON object `{"from": "client"|"server", "frame": ...}`
(the first record is `{"relay": pid, "child": pid}`). End of its stdin closes the child's stdin; a
SIGTERM is passed on to the child; it exits when the child has exited and its output is drained.
Only the standard library, so that any Python runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from typing import IO, Any


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: relay.py LOG -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    log_path, command = argv[0], argv[2:]
    lock = threading.Lock()
    log = open(log_path, "a", encoding="utf-8")

    def record(entry: dict[str, Any]) -> None:
        with lock:
            log.write(json.dumps(entry) + "\n")
            log.flush()

    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    record({"relay": os.getpid(), "child": child.pid})
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())

    def pump(source: IO[bytes], sink: IO[bytes], sender: str, close_sink: bool) -> None:
        try:
            for line in iter(source.readline, b""):
                record({"from": sender, "frame": line.rstrip(b"\r\n").decode("utf-8", "replace")})
                try:
                    sink.write(line)
                    sink.flush()
                except (BrokenPipeError, ValueError, OSError):
                    break
        finally:
            if close_sink:
                try:
                    sink.close()
                except OSError:
                    pass

    assert child.stdin is not None and child.stdout is not None
    inbound = threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, "client", True), daemon=True)
    outbound = threading.Thread(target=pump, args=(child.stdout, sys.stdout.buffer, "server", False))
    inbound.start()
    outbound.start()
    code = child.wait()
    outbound.join(5.0)
    record({"exit": code})
    log.close()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
