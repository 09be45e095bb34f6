"""`python -m mcpbind`: the `mcpbind` command (`cli.main`)."""

from .cli import main

raise SystemExit(main())
