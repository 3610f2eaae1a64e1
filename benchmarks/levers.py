"""Levers that did not make it into the engine, measured on one protocol fit.

``benchmarks/harness.py`` measures the levers the engine uses (thread lanes, the malloc
tuning, bfloat16, warm starts) on the whole walk-forward protocol. This script measures the
others the performance issue lists, on the protocol's ``single`` fit (the zoo's LSTM 2 x 64 +
direct 5-step head, trained 10 epochs on the 945 pre-test windows of AAPL Close, then all 50
test origins forecast) with ``forecast.training.train``:

- ``float32``: the engine's fit, the reference (torch's oneDNN RNN kernels, batch 64);
- ``no-onednn``: the same with ``torch.backends.mkldnn`` off (torch's native LSTM kernels);
- ``compile``: ``torch.compile(model)`` (inductor on CPU); the fit time includes compiling;
- ``batch128``, ``batch256``: larger batches with the learning rate scaled linearly
  (2e-3, 4e-3), the same number of epochs (so the same FLOPs);
- ``bfloat16``: ``precision="bfloat16"`` in one fit with both threads.

Rounds are interleaved (every lever once per round), 2 torch threads; times are medians and
ratios the medians of per-round ratios against ``float32``. MAE is in price units on the 50
test origins x 5 steps (deterministic per lever: same seed).

Run: ``python -m benchmarks.levers [--rounds 3]`` (appends to ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.metrics import mean_absolute_error
from sklearn.preprocessing import StandardScaler

import forecast as fc
from benchmarks.training_loop import new_model, protocol_config
from forecast.training import bfloat16_supported, train

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
LOOKBACK, HORIZON, EPOCHS, TEST_ROWS, STRIDE = 60, 5, 10, 250, 5


def data() -> tuple[np.ndarray, int]:
    """AAPL Close as a float64 column, and the row where the test region starts."""
    close = fc.load("AAPL")[["Close"]].to_numpy(dtype=np.float64)
    return close, len(close) - TEST_ROWS


def fit_and_score(
    close: np.ndarray,
    start: int,
    *,
    batch: int = 64,
    lr: float = 1e-3,
    precision: str = "float32",
    compiled: bool = False,
    onednn: bool = True,
) -> tuple[float, float]:
    """Train on rows ``[0, start)`` and forecast every test origin; (fit seconds, MAE)."""
    scaler = StandardScaler().fit(close[:start])
    scaled = scaler.transform(close).astype(np.float32)
    span = sliding_window_view(scaled[:start], LOOKBACK + HORIZON, axis=0).transpose(0, 2, 1)
    X = torch.from_numpy(np.ascontiguousarray(span[:, :LOOKBACK]))  # [N, T, 1]
    y = torch.from_numpy(np.ascontiguousarray(span[:, LOOKBACK:]))  # [N, H, 1]
    model = new_model()  # the training-loop benchmark's network, seeded
    network = torch.compile(model) if compiled else model
    config = protocol_config(EPOCHS, precision=precision, batch=batch, lr=lr)
    with torch.backends.mkldnn.flags(enabled=onednn):
        tick = time.perf_counter()
        train(network, X, y, config, horizon=HORIZON)
        seconds = time.perf_counter() - tick
        origins = np.arange(start - 1, len(close) - 1, STRIDE)
        inputs = np.stack([scaled[o - LOOKBACK + 1 : o + 1] for o in origins])
        with torch.no_grad():
            out = model.forecast(torch.from_numpy(inputs)).numpy()[..., 0]  # [50, H]
    predicted = out * scaler.scale_[0] + scaler.mean_[0]
    actual = np.stack([close[o + 1 : o + 1 + HORIZON, 0] for o in origins])
    return seconds, float(mean_absolute_error(actual.ravel(), predicted.ravel()))


def levers() -> dict[str, Callable[[np.ndarray, int], tuple[float, float]]]:
    """Name -> one measured fit."""
    chosen: dict[str, Callable[[np.ndarray, int], tuple[float, float]]] = {
        "float32": lambda c, s: fit_and_score(c, s),
        "no-onednn": lambda c, s: fit_and_score(c, s, onednn=False),
        "compile": lambda c, s: fit_and_score(c, s, compiled=True),
        "batch128": lambda c, s: fit_and_score(c, s, batch=128, lr=2e-3),
        "batch256": lambda c, s: fit_and_score(c, s, batch=256, lr=4e-3),
    }
    if bfloat16_supported(torch.device("cpu")):
        chosen["bfloat16"] = lambda c, s: fit_and_score(c, s, precision="bfloat16")
    return chosen


@contextlib.contextmanager
def _noted(failures: dict[str, str], name: str) -> Iterator[None]:
    try:
        yield
    except Exception as error:  # a lever that cannot run here is a result too
        failures[name] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"


def main(argv: list[str] | None = None) -> int:
    """Interleave the levers, print and append the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-append", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    close, start = data()
    fit_and_score(close, start)  # warm-up: kernel selection, malloc tuning
    chosen = levers()
    seconds: dict[str, list[float]] = {name: [] for name in chosen}
    maes: dict[str, float] = {}
    failures: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, run in chosen.items():
            if name in failures:
                continue
            with _noted(failures, name):
                took, mae = run(close, start)
                seconds[name].append(took)
                maes[name] = mae
    text = report(args.rounds, seconds, maes, failures)
    print(text)
    if not args.no_append:
        RESULTS.write_text(RESULTS.read_text().rstrip("\n") + "\n\n" + text)
    return 0


def report(
    rounds: int, seconds: dict[str, list[float]], maes: dict[str, float], failures: dict[str, str]
) -> str:
    """The markdown section."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    reference = seconds["float32"]
    lines = [
        f"## Levers measured on one protocol fit, {stamp}",
        "",
        f"- Machine: {platform.platform()}; 2 torch threads; Python "
        f"{platform.python_version()}, torch {torch.__version__}, forecast {fc.__version__}.",
        f"- `python -m benchmarks.levers`: {rounds} interleaved rounds; one fit of the protocol "
        "model (945 windows, 10 epochs) and its 50 test origins; speed-up = median of "
        "per-round float32 time / lever time; MAE in dollars over the 250 forecast points.",
        "",
        "| lever | fit s per round | median fit s | speed-up vs float32 | MAE | MAE vs float32 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, values in seconds.items():
        if not values:
            lines.append(f"| {name} | failed: {failures.get(name, '?')} | – | – | – | – |")
            continue
        ratios = [r / v for r, v in zip(reference, values, strict=False)]
        lines.append(
            f"| {name} | {', '.join(f'{v:.2f}' for v in values)} | "
            f"{statistics.median(values):.2f} | {statistics.median(ratios):.2f}x | "
            f"{maes[name]:.3f} | {100 * (maes[name] / maes['float32'] - 1):+.1f}% |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
