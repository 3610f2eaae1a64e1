"""Our library on the protocol, engine sequential (see ours.py)."""

import runpy
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.argv[1:1] = ["--engine", "sequential"]
    runpy.run_path(str(Path(__file__).with_name("ours.py")), run_name="__main__")
