"""Tuning with and without pruning (wall time, best tuning score) and the tuned model's
test-region MASE against the default model's.

Run from the repository root (timings under ``/work/bin/quiet`` on the shared machine)::

    python -m benchmarks.tuning                       # 30 trials per arm; appends to RESULTS.md
    python -m benchmarks.tuning --trials 4 --no-write # a quick check

Data: bundled AAPL (daily, 1,259 bars). Both arms run the same study (same sampler seed, same
search space, same folds) in memory, one with Optuna's median pruner on the pooled fold MASE
and one without; each then backtests its winner once on the test region. The base (default)
configuration is each study's first trial. The space is the default one with epochs capped at
``--max-epochs`` and hidden size at 64 so that a study fits the machine's time budget; the
table states it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time

import numpy as np
import pandas as pd
import torch

import forecast as fc
from benchmarks.harness import append_results, cpu_model, load_average
from forecast.search_space import DEFAULT_SPACE, Range


def run(trials: int, max_epochs: int, seed: int) -> list[dict[str, object]]:
    bars = fc.load("AAPL")
    space = {**DEFAULT_SPACE, "epochs": Range(2, max_epochs), "hidden_size": Range(8, 64, log=True)}
    base = fc.Forecaster(epochs=min(max_epochs, 30), progress=False)
    rows = []
    for pruning in (True, False):
        started = time.perf_counter()
        result = fc.tune(
            base,
            bars,
            trials=trials,
            space=space,
            pruning=pruning,
            seed=seed,
            tune_size=250,
            tune_folds=5,
            test_size=250,
            test_folds=5,
        )
        seconds = time.perf_counter() - started
        states = result.trials["state"].value_counts().to_dict()
        rows.append(
            {
                "arm": "median pruning" if pruning else "no pruning",
                "seconds": seconds,
                "pruned": int(states.get("pruned", 0)),
                "failed": int(states.get("fail", 0)),
                "tuning_mase": result.tuning_score,
                "test_mase": result.test_score,
                "default_tuning_mase": result.default_tuning_score,
                "default_test_mase": result.default_test_score,
                "best": result.best_params,
            }
        )
    return rows


def markdown(rows: list[dict[str, object]], trials: int, max_epochs: int) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    import optuna

    lines = [
        f"## Tuning: {trials} trials with and without pruning, tuned vs default, {now}",
        "",
        f"- Machine: {platform.platform()}; CPU {cpu_model()}; Python "
        f"{platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
        f"pandas {pd.__version__}, optuna {optuna.__version__}; torch threads "
        f"{torch.get_num_threads()}; load average before the run {load_average()}.",
        f"- Task (`python -m benchmarks.tuning`): bundled AAPL; tuning region 250 bars in 5 "
        f"folds before a 250-bar test region (5 folds); default space with epochs 2..{max_epochs}"
        " and hidden size 8..64; TPE seed 0; the default configuration is trial 0.",
        "",
        "| arm | wall s | pruned | failed | best tuning MASE | its test MASE | default tuning "
        "MASE | default test MASE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['arm']} | {row['seconds']:.0f} | {row['pruned']} | {row['failed']} | "
            f"{row['tuning_mase']:.4f} | {row['test_mase']:.4f} | "
            f"{row['default_tuning_mase']:.4f} | {row['default_test_mase']:.4f} |"
        )
    for row in rows:
        lines.append(f"\n- {row['arm']} best settings: {row['best']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--max-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    text = markdown(run(args.trials, args.max_epochs, args.seed), args.trials, args.max_epochs)
    print(text)
    if not args.no_write:
        append_results(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
