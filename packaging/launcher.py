"""PyInstaller entry point: runs the app's ``main`` (``desktop_app/__main__.py``), e.g. ``--selftest IMAGE``."""

from __future__ import annotations

import sys

from desktop_app.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
