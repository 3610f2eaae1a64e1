"""Universe throughput: seconds per ticker and peak memory as the universe grows.

Runs the local-mode universe backtest (``fc.backtest(model, panel)``, local process pool, one
torch thread per fit) on the first 10, 50 and 200 usable tickers (alphabetical) of the shared
S&P 500 universe, each size in a fresh process, and reports wall seconds, seconds per ticker
and the peak resident memory of the driver and of the largest worker::

    python -m benchmarks.universe                      # sizes 10 50 200, the reduced model
    python -m benchmarks.universe --sizes 10 50 --repeats 2 --epochs 30 --hidden 64

The reduced model (LSTM 16 units, 2 epochs, 2 folds over the last 250 bars, lookback 60,
horizon 5) keeps the 200-ticker run within minutes on two cores; the flatness of seconds per
ticker and the growth of memory are what the benchmark measures, not the model's cost.
Repeats are interleaved (10, 50, 200, 10, 50, 200, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

UNIVERSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500-universe"


def one(size: int, epochs: int, hidden: int, workers: int | None) -> dict[str, float]:
    import forecast as fc
    from forecast.universe import load_universe

    universe = load_universe(os.environ.get("FORECAST_UNIVERSE", str(UNIVERSE)))
    tickers = sorted(set(universe.panel.index.get_level_values("ticker")))
    usable = [t for t in tickers if len(universe.panel.xs(t)) >= 400][:size]
    panel = universe.panel.loc[usable]
    panel.attrs = {"name": f"sp500-universe[{size}]"}
    model = fc.Forecaster(lookback=60, horizon=5, hidden_size=hidden, epochs=epochs,
                          progress=False)
    started = time.perf_counter()
    result = fc.backtest(model, panel, test_size=250, folds=2, workers=workers)
    wall = time.perf_counter() - started
    return {
        "size": size,
        "ran": len(result.table),
        "workers": result.config["workers"],
        "wall_s": wall,
        "s_per_ticker": wall / max(1, len(result.table)),
        "driver_peak_mb": result.memory["this_process_peak_mb"],
        "worker_peak_mb": result.memory["largest_worker_peak_mb"],
        "median_mase": result.pooled["median_mase"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.epochs, args.hidden, args.workers)))
        return
    rows = []
    for _ in range(args.repeats):
        for size in args.sizes:
            command = [sys.executable, "-m", "benchmarks.universe", "--one", str(size),
                       "--epochs", str(args.epochs), "--hidden", str(args.hidden)]
            if args.workers:
                command += ["--workers", str(args.workers)]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"Machine: {platform.platform()}, {os.cpu_count()} logical cores; "
          f"model LSTM {args.hidden} units, {args.epochs} epochs, 2 folds, test 250 bars")
    print("| tickers | workers | wall s | s per ticker | driver peak MB | largest worker MB |"
          " median MASE |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['ran']} | {row['workers']} | {row['wall_s']:.1f} | "
              f"{row['s_per_ticker']:.2f} | {row['driver_peak_mb']:.0f} | "
              f"{row['worker_peak_mb']:.0f} | {row['median_mase']:.3f} |")


if __name__ == "__main__":
    main()
