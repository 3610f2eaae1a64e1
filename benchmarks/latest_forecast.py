"""Per-bar latency of forecasting after one new bar: one batched pass vs ``predict`` per ticker.

Run from the repository root (timings under ``/work/bin/quiet`` on the shared machine)::

    python -m benchmarks.latest_forecast                 # 1 and 200 tickers; appends to RESULTS.md
    python -m benchmarks.latest_forecast --tickers 1,5 --rounds 3 --no-write   # a quick check

Data: the S&P 500 universe files (``../shared/data/sp500-universe``, one CSV per ticker, up to
1,259 daily bars); the first N tickers by file name with at least 81 complete bars (the
universe's 200 files hold 199 such tickers). Model: the default Forecaster
(LSTM 64, N-to-M seq2seq, lookback 60, horizon 5, OHLC in, Close out) fitted globally for one
epoch on the 80 bars before the last of every ticker (the weights do not matter for latency).

Contenders, each starting from the state after the last bar and producing the same
``[N, 5]`` Close forecasts:

* ``forecast_latest``: :func:`forecast.forecast_latest` on a panel of the last 61 bars of
  each ticker: one vectorised transform, one forward pass ``[N, 60, 4] -> [N, 5, 1]``;
* ``update``: :func:`forecast.update` with the new bar of every ticker (the cron path:
  extension checks, the model's kept bars moved forward, then the same one-pass forecast);
* ``predict per ticker``: ``model.predict`` on each ticker's last 61 bars in turn (the
  smallest frame predict accepts, so the loop is not charged for long histories).

Rounds are interleaved (A B C A B C ...); medians of each contender's seconds and medians of
the per-round ratios are reported. Both contenders use the same torch thread count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import forecast as fc
from benchmarks.harness import append_results, cpu_model, load_average

UNIVERSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500-universe"
FIT_BARS = 80
MIN_BARS = FIT_BARS + 1


def load_universe(n_tickers: int, folder: Path = UNIVERSE) -> pd.DataFrame:
    """The first ``n_tickers`` CSVs of ``folder`` with at least ``MIN_BARS`` complete bars, as
    one ``(ticker, Date)`` panel (a few recent listings are too short for a 60-bar lookback)."""
    frames = {}
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, index_col="Date", parse_dates=["Date"]).dropna()
        if len(frame) >= MIN_BARS:
            frames[path.stem] = frame
        if len(frames) == n_tickers:
            break
    return pd.concat(frames, names=["ticker", "Date"])


def last_rows(panel: pd.DataFrame, rows: int, drop_last: int = 0) -> pd.DataFrame:
    """The last ``rows`` bars of each ticker, leaving out the final ``drop_last``."""
    grouped = panel.groupby(level=0, sort=False)
    stop = grouped.cumcount(ascending=False) >= drop_last
    return panel[stop].groupby(level=0, sort=False).tail(rows)


def measure(n_tickers: int, rounds: int) -> dict[str, object]:
    panel = load_universe(n_tickers)
    model = fc.Forecaster(epochs=1, patience=None, progress=False, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fc.DataWarning)
        model.fit(last_rows(panel, FIT_BARS, drop_last=1))
    needed = model._window_length() + model._offset()
    window = last_rows(panel, needed)  # the last bars, new bar included
    new_bar = last_rows(panel, 1)
    per_ticker = [part for _, part in window.groupby(level=0, sort=False)]
    per_ticker = [part.droplevel(0) for part in per_ticker]

    def fast() -> np.ndarray:
        return fc.forecast_latest(model, window)["Close"].to_numpy()

    def carry() -> np.ndarray:
        return fc.update(model, new_bar).forecasts["Close"].to_numpy()

    def loop() -> np.ndarray:
        return np.concatenate([model.predict(part)["Close"].to_numpy() for part in per_ticker])

    contenders = {"forecast_latest": fast, "update": carry, "predict per ticker": loop}
    reference = loop()
    agreement = {
        name: float(np.max(np.abs(run() / reference - 1))) for name, run in contenders.items()
    }
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            started = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - started)
    ratios = {
        name: statistics.median(
            b / a for a, b in zip(seconds[name], seconds["predict per ticker"], strict=True)
        )
        for name in contenders
    }
    return {"tickers": n_tickers, "seconds": seconds, "ratios": ratios, "agreement": agreement}


def markdown(results: list[dict[str, object]], rounds: int, threads: int) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(
        f"{name} {module.__version__}"
        for name, module in (("torch", torch), ("numpy", np), ("pandas", pd))
    )
    lines = [
        f"## Forecast after one new bar: one batched pass vs predict per ticker, {now}",
        "",
        f"- Machine: {platform.platform()}; CPU {cpu_model()}; Python {platform.python_version()}, "
        f"{versions}, forecast {fc.__version__}; torch threads {threads} for every contender; "
        f"load average before the run {load_average()}.",
        "- Task (`python -m benchmarks.latest_forecast`): the default Forecaster (LSTM 64, "
        "n_to_m, lookback 60, horizon 5, OHLC in) forecasts the next 5 Closes of each ticker "
        "of the S&P 500 universe files after its last bar. `update` includes the extension "
        "checks and moving the kept bars forward. `predict per ticker` gets each ticker's last "
        "61 bars (the least it accepts).",
        f"- {rounds} interleaved rounds; medians; speed-up = median of per-round ratios "
        "(predict-per-ticker seconds / contender seconds). Max relative difference from "
        "predict's forecasts shown (float32 rounding: batch shape differs).",
        "",
        "| tickers | contender | median ms per bar | ms per ticker | speed-up vs predict per "
        "ticker | max rel. diff vs predict |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for result in results:
        n = int(result["tickers"])  # type: ignore[arg-type]
        for name, values in result["seconds"].items():  # type: ignore[union-attr]
            median = statistics.median(values) * 1e3
            lines.append(
                f"| {n} | {name} | {median:.2f} | {median / n:.3f} | "
                f"{result['ratios'][name]:.1f}x | {result['agreement'][name]:.1e} |"  # type: ignore[index]
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", default="1,199", help="Comma-separated universe sizes.")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="Print only; do not append.")
    args = parser.parse_args(argv)
    results = [measure(int(n), args.rounds) for n in args.tickers.split(",")]
    text = markdown(results, args.rounds, torch.get_num_threads())
    print(text)
    if not args.no_write:
        append_results(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
