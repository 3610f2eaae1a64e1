"""Size of every printed significance claim under the null, from thousands of real backtests.

Each run simulates a world with no predictable signal and backtests a model that cannot beat
naive on it, through the real ``forecast.backtest`` with its defaults (1,259 daily bars, the
last 250 in 5 folds, horizon 5), and records what the tables print: the overall DM p-value,
the five per-step ones, the drift baseline's, direction accuracy. The worlds and models are
the tests' own (``tests/calibration_nulls.py``), so CI and this benchmark measure the same
thing. Cells (world x model x origin step) are visited round robin; results go to a JSON-lines
file as they come, so an interrupted run resumes where it stopped.

For comparison, the same backtests' overall test is also scored two other ways from their
forecasts: the estimator before issue 11 (``h - 1`` rectangular lags on the per-origin means
whatever the step, fallback to γ₀ only below zero, t with ``n - 1`` df) and a Bartlett
kernel with the overlap's lags.

Usage::

    python -m benchmarks.calibration --runs 1200            # simulate (resumes), then report
    python -m benchmarks.calibration --report-only          # the tables from the saved runs

Rates are proportions, not timings: run it under ``heavy``, not ``quiet``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the null worlds are the tests' own

from calibration_nulls import (  # noqa: E402
    binomial_band,
    null_result,
    read_run,
    wilson_interval,
)

from forecast.significance import dm_test, overlap_lags  # noqa: E402

ALPHA = 0.05
HORIZON = 5
# (world, contender, step): the default step (= horizon, no overlap) in every world; step 1
# (origins overlap 4 neighbours), with the overlap of real errors (drift_mirror) and with
# lags where the differentials are not correlated (noisy_naive: the reported failure's
# shape); step 2 (2 lags); step 7 (> horizon: bars between forecasts).
CELLS: tuple[tuple[str, str, int], ...] = (
    ("walk", "noisy_naive", 5),
    ("walk_drift", "drift_mirror", 5),
    ("garch", "drift_mirror", 5),
    ("fat_tails", "noisy_naive", 5),
    ("walk_drift", "drift_mirror", 1),
    ("garch", "drift_mirror", 1),
    ("walk", "noisy_naive", 1),
    ("fat_tails", "noisy_naive", 1),
    ("garch", "drift_mirror", 2),
    ("walk", "noisy_naive", 7),
)
DEFAULT_OUT = ROOT / "benchmarks" / "out" / "calibration.jsonl"


def _old_p(d: np.ndarray) -> float:
    """The overall test before issue 11: H-1 rectangular lags, γ₀ only if V <= 0, t(n-1)."""
    from scipy import stats

    n, h = d.size, HORIZON
    deviation = d - d.mean()
    gamma = [float(deviation[k:] @ deviation[: n - k]) / n for k in range(h)]
    variance = gamma[0] + 2.0 * sum(gamma[1:])
    if variance <= 0:
        variance = gamma[0]
    hln = math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = float(d.mean()) / math.sqrt(variance / n) * hln
    return 2.0 * float(stats.t.sf(abs(statistic), n - 1))


def one_run(index: int) -> dict[str, object]:
    """Backtest number ``index``: its cell is ``CELLS[index % len(CELLS)]``, its seed ``index``."""
    world, contender, step = CELLS[index % len(CELLS)]
    result = null_result(world, contender, index, step=step, horizon=HORIZON)
    run, forecasts = read_run(result, world, contender, step), result.forecasts
    model = forecasts[forecasts["model"] == contender].sort_values(["origin", "step"])
    naive = forecasts[forecasts["model"] == "naive"].sort_values(["origin", "step"])
    d = (((model["actual"] - model["predicted"]) ** 2).to_numpy()
         - ((naive["actual"] - naive["predicted"]) ** 2).to_numpy())
    per_origin = pd.Series(d).groupby(model["origin"].to_numpy()).mean().to_numpy()
    bartlett = dm_test(per_origin, lags=overlap_lags(HORIZON, step), kernel="bartlett")
    return {"index": index, **asdict(run), "old_p": _old_p(per_origin),
            "bartlett_p": bartlett.p_value}


def simulate(runs: int, out: Path) -> None:
    """Run backtests 0..runs-1 that ``out`` does not hold yet, appending one line each."""
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = _read(out) if out.exists() else []
    stale = [row["index"] for row in saved
             if (row["world"], row["contender"], row["step"]) != CELLS[row["index"] % len(CELLS)]]
    if stale:
        sys.exit(f"{out} holds runs of another cell layout (e.g. run {stale[0]}); move it away "
                 "or pass --out to start a new file.")
    done = {row["index"] for row in saved}
    todo = [i for i in range(runs) if i not in done]
    started = time.perf_counter()
    with out.open("a") as sink:
        for count, index in enumerate(todo, 1):
            sink.write(json.dumps(one_run(index)) + "\n")
            sink.flush()
            if count % 50 == 0:
                rate = (time.perf_counter() - started) / count
                print(f"{count}/{len(todo)} runs, {rate:.2f} s each", file=sys.stderr)


def _read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _rate(p_values: Iterable[float], trials: int | None = None) -> str:
    """``"5.1% [3.9, 6.6] ✓"``: share below ALPHA, Wilson 95% CI, inside the 99% band?"""
    p = np.asarray(list(p_values), dtype=float)
    hits, n = int(np.sum(p < ALPHA)), p.size
    low, high = wilson_interval(hits, n)
    band_low, band_high = binomial_band(ALPHA, n)
    mark = "✓" if band_low <= hits / n <= band_high else "✗"
    return f"{100 * hits / n:.1f}% [{100 * low:.1f}, {100 * high:.1f}] {mark}"


def report(rows: list[dict[str, object]]) -> str:
    """The markdown tables of RESULTS.md from the saved runs."""
    frame = pd.DataFrame(rows)
    groups = [("all null backtests", frame)]
    groups += [(f"step {step} (lags {overlap_lags(HORIZON, step)})", part)
               for step, part in frame.groupby("step", sort=False)]
    groups += [(f"{world} / {contender} / step {step}", part)
               for (world, contender, step), part
               in frame.groupby(["world", "contender", "step"], sort=False)]
    lines = [
        "| backtests | n | 99% band | overall DM | step 1 | step 2 | step 3 | step 4 | step 5 |",
        "|---|---:|---|---|---|---|---|---|---|",
    ]
    for name, part in groups:
        low, high = binomial_band(ALPHA, len(part))
        steps = np.array(part["step_p"].tolist(), dtype=float)  # [runs, H]
        cells = [_rate(part["overall_p"])] + [_rate(steps[:, k]) for k in range(HORIZON)]
        lines.append(f"| {name} | {len(part)} | {100 * low:.1f}–{100 * high:.1f}% | "
                     + " | ".join(cells) + " |")
    lines += ["", "The same backtests' overall test scored other ways (same forecasts):", "",
              "| backtests | n | this test | before issue 11 | Bartlett, overlap lags |",
              "|---|---:|---|---|---|"]
    for name, part in groups[:3]:
        lines.append(f"| {name} | {len(part)} | {_rate(part['overall_p'])} | "
                     f"{_rate(part['old_p'])} | {_rate(part['bartlett_p'])} |")
    close = frame[(frame["mase"] - 1).abs() <= 0.01]
    smallest = np.minimum(close["overall_p"], np.array(close["step_p"].tolist()).min(axis=1))
    driftless = frame[frame["world"] == "walk"]
    beats = (driftless["drift_p"] < ALPHA) & (driftless["drift_stat"] < 0)
    _, b_high = binomial_band(ALPHA / 2, len(driftless))
    coins = frame[frame["contender"] == "noisy_naive"]
    points = int(coins["direction_points"].sum())
    accuracy = float((coins["direction"] * coins["direction_points"]).sum() / points)
    d_low, d_high = binomial_band(0.5, points)
    lines += [
        "",
        f"- Runs with MASE within 1% of naive: {len(close)}; with any printed DM p < 0.001: "
        f"{int((smallest < 0.001).sum())} (six tests per run; a calibrated test gives "
        f"p < 0.001 to about 0.1% of tests); overall p < 0.001 with the estimator before "
        f"issue 11: {int((close['old_p'] < 0.001).sum())}.",
        f"- Drift baseline on the driftless walk (slightly worse than naive, so a calibrated "
        f"test says \"beats\" at most 2.5% of the time; 99% upper band {100 * b_high:.1f}%): "
        f"{100 * beats.mean():.1f}% of {len(driftless)}.",
        f"- Direction accuracy of noisy_naive (a fair coin against every move): "
        f"{accuracy:.4f} over {points:,} points (99% binomial band {d_low:.4f}–{d_high:.4f}).",
    ]
    return "\n".join(lines)


def machine() -> str:
    import scipy
    import torch

    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (f"{platform.platform()}; CPU {cpu}, {os.cpu_count()} logical cores; Python "
            f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
            f"scipy {scipy.__version__}, torch {torch.__version__}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1200, help="backtests in all")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON-lines results")
    parser.add_argument("--report-only", action="store_true", help="only print the tables")
    args = parser.parse_args()
    if not args.report_only:
        simulate(args.runs, args.out)
    rows = [row for row in _read(args.out) if row["index"] < args.runs]
    print(f"Machine: {machine()}\n")
    print(report(rows))


if __name__ == "__main__":
    main()
