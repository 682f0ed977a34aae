"""``python -m siting``: the same command as ``siting`` (see :mod:`siting.cli`)."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess in tests
    sys.exit(main())
