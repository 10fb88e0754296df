"""`python -m phoenix_compliance.cli`, as the console script runs it."""

from __future__ import annotations

from phoenix_compliance.cli import main

raise SystemExit(main())
