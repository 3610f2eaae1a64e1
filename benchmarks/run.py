"""``make bench`` / ``make bench-peers``: every performance figure, appended to RESULTS.md.

1. ``benchmarks.training_loop``: our training loop against a bare PyTorch loop (same module),
   with achieved FLOP/s against the machine's ceiling.
2. ``benchmarks/harness.py``: the walk-forward protocol (see ``benchmarks/protocol.py``) for
   the bare PyTorch floor and our library's three engines (parallel from scratch, sequential
   from scratch, warm-started), interleaved in fresh processes; with ``--peers`` also Darts
   and neuralforecast from their own virtual environments (``make -C benchmarks/peers venvs``).

Usage: ``python -m benchmarks.run [--peers] [--repeats N] [--variants close,ohlc]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OURS = BENCH / "contenders"


def main(argv: list[str] | None = None) -> int:
    """Run the training-loop benchmark, then the protocol harness."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", action="store_true", help="add Darts and neuralforecast")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default="close,ohlc")
    parser.add_argument("--modes", default="fit,refit,single")
    parser.add_argument("--skip-loop", action="store_true", help="skip the training-loop part")
    args = parser.parse_args(argv)
    python = sys.executable
    if not args.skip_loop:
        subprocess.run([python, "-m", "benchmarks.training_loop"], check=True, cwd=BENCH.parent)
    names = ["bare", "ours", "ours-sequential", "ours-warm"]
    if args.peers:
        names += ["darts", "neuralforecast"]
    command = [
        python,
        str(BENCH / "harness.py"),
        "--only",
        ",".join(names),
        "--variants",
        args.variants,
        "--modes",
        args.modes,
        "--repeats",
        str(args.repeats),
        "--contender",
        f"ours-sequential={python}::{OURS / 'ours_sequential.py'}",
        "--contender",
        f"ours-warm={python}::{OURS / 'ours_warm.py'}",
    ]
    return subprocess.run(command, check=False, cwd=BENCH.parent).returncode


if __name__ == "__main__":
    sys.exit(main())
