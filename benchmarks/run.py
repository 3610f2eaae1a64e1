"""``make bench`` / ``make bench-peers``: every performance figure, appended to RESULTS.md.

1. ``benchmarks.training_loop``: our training loop against a bare PyTorch loop (same module),
   with achieved FLOP/s against the machine's ceiling; ``benchmarks.levers``: the levers the
   engine does not use (oneDNN off, ``torch.compile``, larger batches), on one fit.
2. ``benchmarks/harness.py``: the walk-forward protocol (see ``benchmarks/protocol.py``),
   interleaved in fresh processes. The ``refit`` mode runs the bare PyTorch floor (as written,
   and with glibc's malloc tuned as our library tunes it), every engine of ours
   (``benchmarks/contenders/ours.py``: from scratch in thread lanes, sequential, in worker
   processes, without the malloc tuning, in bfloat16; warm-started chains and waves; and the
   default ``forecast backtest`` model for accuracy). The ``fit`` and ``single`` modes, where
   the engines do not differ, run the floor and ours in float32 and bfloat16. With
   ``--peers`` Darts and neuralforecast join both, from their own virtual environments
   (``make -C benchmarks/peers venvs``).

Usage: ``python -m benchmarks.run [--peers] [--repeats N] [--variants close,ohlc]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent

REFIT_CONTENDERS = [
    "bare",
    "bare-malloc-tuned",
    "ours",
    "ours-sequential",
    "ours-processes",
    "ours-no-malloc-tuning",
    "ours-bf16",
    "ours-warm",
    "ours-warm-bf16",
    "ours-warm-waves",
    "ours-warm-waves-bf16",
    "ours-default-model",
]
ONE_FIT_CONTENDERS = ["bare", "ours", "ours-bf16"]
PEERS = ["darts", "neuralforecast"]


def main(argv: list[str] | None = None) -> int:
    """Run the training-loop benchmark, then the protocol harness (refit, then fit/single)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", action="store_true", help="add Darts and neuralforecast")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", default="close,ohlc")
    parser.add_argument("--skip-loop", action="store_true", help="skip the training-loop part")
    parser.add_argument("--skip-levers", action="store_true", help="skip benchmarks.levers")
    parser.add_argument("--skip-one-fit", action="store_true", help="skip the fit/single modes")
    args = parser.parse_args(argv)
    python = sys.executable
    if not args.skip_loop:
        subprocess.run([python, "-m", "benchmarks.training_loop"], check=True, cwd=BENCH.parent)
    if not args.skip_levers:
        subprocess.run([python, "-m", "benchmarks.levers"], check=True, cwd=BENCH.parent)
    peers = PEERS if args.peers else []
    plans = [("refit", REFIT_CONTENDERS + peers)]
    if not args.skip_one_fit:
        plans.append(("fit,single", ONE_FIT_CONTENDERS + peers))
    status = 0
    for modes, names in plans:
        command = [
            python,
            str(BENCH / "harness.py"),
            "--only",
            ",".join(names),
            "--variants",
            args.variants,
            "--modes",
            modes,
            "--repeats",
            str(args.repeats),
        ]
        status |= subprocess.run(command, check=False, cwd=BENCH.parent).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
