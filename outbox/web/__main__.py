"""``python -m outbox.web``."""

from __future__ import annotations

import sys

from outbox.web import main

if __name__ == "__main__":
    sys.exit(main())
