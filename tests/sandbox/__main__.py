"""python3 tests/sandbox [options]  (or python3 -m sandbox from tests/)."""

import os
import sys

if __package__ in (None, ""):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [path for path in sys.path if os.path.abspath(path or ".") != here]
    sys.path.insert(0, os.path.dirname(here))

from sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
