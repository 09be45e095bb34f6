"""The protected test server (tests/auth_support.py) over stdio, where no token can reach it: its scoped
tools, resources and prompts must be refused with a JSON-RPC error, never run.

`python tests/servers/protected_stdio.py`
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.auth_support import protected_server

if __name__ == "__main__":
    protected_server().run_stdio()
