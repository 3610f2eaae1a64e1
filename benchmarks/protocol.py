"""The benchmark protocol, shared by every contender (bare PyTorch, the peers, our library).

Contender scripts run in their own virtual environments (the peers' venvs hold neither
``forecast`` nor its dev tools), so this module needs only the standard library, numpy,
pandas and scikit-learn, and is imported by path::

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # .../benchmarks
    import protocol

The protocol
------------
* Data: the bundled daily ``datasets/AAPL.csv`` (1259 rows), target ``Close``.
* Variants: ``close`` (past Close is the only input) and ``ohlc`` (past Open, High, Low and
  Close are the inputs; the target is still Close only).
* Model: LSTM, hidden 64, 2 layers, dropout 0, lookback 60, horizon 5 (one direct 5-step
  output), Adam lr 1e-3, batch 64, MSE on standard-scaled values, 10 epochs, seed 0,
  ``torch.set_num_threads(2)``, no early stopping, no validation split.
* Test region: the last 250 rows.  A forecast *origin* is the row position of the last
  observed row; step ``k`` (1..5) forecasts row ``origin + k``.  Origins are every 5 rows
  (50 origins x 5 steps), so each test row is forecast exactly once.
* Modes:
    - ``fit``: one fit on the rows before the test region (time only, no forecasts).
    - ``refit``: walk-forward backtest; refit from scratch every 50 rows (5 fits, expanding
      window, scaler refitted on the training rows each time), 10 origins per fit.
    - ``single``: fit once on the rows before the test region, then forecast all 50 origins.
* Training windows of a fit on rows ``[0, n_train)``: every window whose 60 input rows and
  5 target rows all lie inside the training rows, i.e. ``n_train - 64`` windows.
* Metrics in price units: MAE, RMSE, MAPE (sklearn, a fraction, not percent), and MASE
  against the naive forecast on the same points: ``MAE_model / MAE_naive`` where the naive
  forecast of every step is the Close of the origin row.
* Resources: ``seconds`` is the wall time of the protocol's work (fits and forecasts,
  including the library's own data preparation, excluding interpreter start, imports and
  reading the CSV); ``peak_rss_mb`` is ``ru_maxrss`` of the whole process in MB (10^6
  bytes), so every measurement runs in a fresh process.

Result JSON (one file per run, written by :func:`write_result`)::

    {
      "schema": 1,
      "library": "darts", "version": "0.48.1",
      "variant": "close", "mode": "refit",
      "seconds": 31.2, "import_seconds": 4.1, "peak_rss_mb": 612.3,
      "mae": 2.9, "rmse": 3.8, "mape": 0.017, "mase": 1.05,
      "naive_mae": 2.8, "n_points": 250, "n_fits": 5, "threads": 2,
      "epoch_seconds": [...] | null,
      "cpu_user_s": 40.1, "cpu_sys_s": 8.4, "minor_faults": 3100000, "steal_s": 0.0,
      "env": {"python": ..., "torch": ..., "numpy": ..., "pandas": ..., ...},
      "notes": "...",
      "forecasts": [{"origin": 1008, "step": 1, "predicted": 171.2}, ...]
    }

``fit`` results carry ``null`` metrics, ``n_points`` 0 and an empty ``forecasts`` list.
``cpu_*``, ``minor_faults`` and ``steal_s`` cover the timed block (see :class:`Stopwatch`).
A contender (e.g. ``benchmarks/contenders/ours.py``) implements the same CLI with
:func:`parse_args`, times its work with :class:`Stopwatch` and writes
``build_result(..., extra=sw.diagnostics())`` with :func:`write_result`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import resource
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# --- constants -----------------------------------------------------------------------------

SCHEMA_VERSION = 1
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
DATA_PATH = REPO_ROOT / "datasets" / "AAPL.csv"

TARGET = "Close"
VARIANTS: dict[str, tuple[str, ...]] = {
    "close": ("Close",),
    "ohlc": ("Open", "High", "Low", "Close"),
}
MODES = ("fit", "refit", "single")

LOOKBACK = 60
HORIZON = 5
HIDDEN = 64
LAYERS = 2
DROPOUT = 0.0
LR = 1e-3
BATCH = 64
EPOCHS = 10
SEED = 0
THREADS = 2

TEST_ROWS = 250
STRIDE = 5  # rows between forecast origins
REFIT_EVERY = 50  # rows between refits
ORIGINS_PER_FIT = REFIT_EVERY // STRIDE  # 10 forecast iterations per fit

_T0 = time.perf_counter()  # as close to interpreter start as an import of this module gets


# --- data ----------------------------------------------------------------------------------


def load_frame(path: str | Path = DATA_PATH) -> pd.DataFrame:
    """Read the OHLCV CSV, sorted by date, with a 0..n-1 RangeIndex (row positions)."""
    frame = pd.read_csv(path, parse_dates=["Date"])
    frame = frame.sort_values("Date").reset_index(drop=True)
    missing = {"Open", "High", "Low", "Close"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return frame


def input_columns(variant: str) -> tuple[str, ...]:
    """The input columns of a variant; the target (Close) is always the last one."""
    try:
        return VARIANTS[variant]
    except KeyError:
        raise ValueError(f"unknown variant {variant!r}; expected one of {list(VARIANTS)}") from None


def test_start(n_rows: int) -> int:
    """Row position of the first test row (first row that is forecast)."""
    return n_rows - TEST_ROWS


def origins(n_rows: int) -> list[int]:
    """All forecast origins: the last observed row before each block of 5 test rows."""
    start = test_start(n_rows)
    return list(range(start - 1, n_rows - 1, STRIDE))


@dataclass(frozen=True)
class Fold:
    """One fit of a backtest: train on rows ``[0, train_end)``, forecast ``origins``."""

    train_end: int
    origins: tuple[int, ...]

    @property
    def n_windows(self) -> int:
        """Number of training windows (60 inputs + 5 targets inside the training rows)."""
        return self.train_end - LOOKBACK - HORIZON + 1


def folds(n_rows: int, mode: str) -> list[Fold]:
    """The fits of a mode: 5 expanding folds for ``refit``, one fold otherwise.

    ``fit`` has one fold with no origins (the fit alone is timed).
    """
    start = test_start(n_rows)
    all_origins = origins(n_rows)
    if mode == "refit":
        return [
            Fold(
                start + i * REFIT_EVERY,
                tuple(all_origins[i * ORIGINS_PER_FIT : (i + 1) * ORIGINS_PER_FIT]),
            )
            for i in range(math.ceil(len(all_origins) / ORIGINS_PER_FIT))
        ]
    if mode == "single":
        return [Fold(start, tuple(all_origins))]
    if mode == "fit":
        return [Fold(start, ())]
    raise ValueError(f"unknown mode {mode!r}; expected one of {list(MODES)}")


def steps_for_epochs(n_windows: int, epochs: int = EPOCHS, batch: int = BATCH) -> int:
    """Optimizer steps of ``epochs`` passes over ``n_windows`` in batches (last one partial)."""
    return epochs * math.ceil(n_windows / batch)


# --- metrics -------------------------------------------------------------------------------


def forecast_frame(
    forecasts: Iterable[tuple[int, int, float]], frame: pd.DataFrame
) -> pd.DataFrame:
    """Forecast triples ``(origin, step, predicted)`` joined with actual and naive values."""
    out = pd.DataFrame(list(forecasts), columns=["origin", "step", "predicted"])
    out["origin"] = out["origin"].astype(int)
    out["step"] = out["step"].astype(int)
    out["predicted"] = out["predicted"].astype(float)
    out["row"] = out["origin"] + out["step"]
    close = frame[TARGET].to_numpy(dtype=float)
    out["actual"] = close[out["row"].to_numpy()]
    out["naive"] = close[out["origin"].to_numpy()]
    return out.sort_values(["origin", "step"]).reset_index(drop=True)


def check_coverage(table: pd.DataFrame, n_rows: int) -> None:
    """Raise unless the forecasts cover every test row exactly once from the protocol origins."""
    expected_rows = set(range(test_start(n_rows), n_rows))
    rows = table["row"].tolist()
    if len(rows) != len(expected_rows) or set(rows) != expected_rows:
        raise AssertionError(
            f"forecasts cover {len(set(rows))} distinct rows in {len(rows)} points; "
            f"expected each of the {len(expected_rows)} test rows exactly once"
        )
    if set(table["origin"]) != set(origins(n_rows)):
        raise AssertionError("forecast origins differ from the protocol's origins")
    if not set(table["step"]) <= set(range(1, HORIZON + 1)):
        raise AssertionError("forecast steps outside 1..5")
    if not np.isfinite(table["predicted"].to_numpy()).all():
        raise AssertionError("non-finite forecasts")


def metrics(table: pd.DataFrame) -> dict[str, float]:
    """MAE, RMSE, MAPE (sklearn, a fraction) and MASE vs the naive last-Close forecast."""
    from sklearn.metrics import (
        mean_absolute_error,
        mean_absolute_percentage_error,
        mean_squared_error,
    )

    actual = table["actual"].to_numpy()
    predicted = table["predicted"].to_numpy()
    mae = float(mean_absolute_error(actual, predicted))
    naive_mae = float(mean_absolute_error(actual, table["naive"].to_numpy()))
    return {
        "mae": mae,
        "rmse": float(math.sqrt(mean_squared_error(actual, predicted))),
        "mape": float(mean_absolute_percentage_error(actual, predicted)),
        "mase": mae / naive_mae,
        "naive_mae": naive_mae,
    }


# --- resources and environment --------------------------------------------------------------


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB of 10^6 bytes (``ru_maxrss``).

    Linux reports ``ru_maxrss`` in KiB, macOS in bytes.
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def seconds_since_start() -> float:
    """Seconds since this module was first imported (imports of the contender included)."""
    return time.perf_counter() - _T0


def package_versions(names: Sequence[str]) -> dict[str, str | None]:
    """Installed versions of the named distributions (``None`` where not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def torch_threads() -> int:
    """``torch.get_num_threads()`` when torch is already imported, else the protocol value."""
    torch = sys.modules.get("torch")
    return int(torch.get_num_threads()) if torch is not None else THREADS


def set_threads(n: int = THREADS) -> None:
    """Cap torch and the BLAS pools at ``n`` threads (call before heavy imports)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    torch = importlib.import_module("torch")
    torch.set_num_threads(n)


# --- results -------------------------------------------------------------------------------


def build_result(
    *,
    library: str,
    version: str,
    variant: str,
    mode: str,
    seconds: float,
    n_fits: int,
    forecasts: Iterable[tuple[int, int, float]],
    frame: pd.DataFrame,
    epoch_seconds: Sequence[float] | None = None,
    import_seconds: float | None = None,
    env_packages: Sequence[str] = ("torch", "numpy", "pandas", "scikit-learn"),
    notes: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble the result dict; checks coverage and computes metrics unless mode is ``fit``."""
    table = forecast_frame(forecasts, frame)
    if mode == "fit":
        scores: dict[str, float | None] = dict.fromkeys(
            ("mae", "rmse", "mape", "mase", "naive_mae")
        )
    else:
        check_coverage(table, len(frame))
        scores = dict(metrics(table))
    result: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "library": library,
        "version": version,
        "variant": variant,
        "mode": mode,
        "seconds": float(seconds),
        "import_seconds": import_seconds,
        "peak_rss_mb": peak_rss_mb(),
        **scores,
        "n_points": len(table),
        "n_fits": int(n_fits),
        "threads": torch_threads(),
        "epoch_seconds": [float(s) for s in epoch_seconds] if epoch_seconds is not None else None,
        "env": package_versions(env_packages),
        "notes": notes,
        "forecasts": [
            {"origin": int(o), "step": int(s), "predicted": float(p)}
            for o, s, p in table[["origin", "step", "predicted"]].itertuples(index=False)
        ],
    }
    if extra:
        result.update(extra)
    return result


def write_result(result: dict[str, Any], out: str | Path) -> None:
    """Write the result JSON (parent folders created; written whole, then renamed)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The common CLI: ``--variant close|ohlc --mode fit|refit|single --out result.json``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--variant", choices=list(VARIANTS), default="close")
    parser.add_argument("--mode", choices=list(MODES), default="refit")
    parser.add_argument("--out", type=Path, required=True, help="where to write the result JSON")
    parser.add_argument("--data", type=Path, default=DATA_PATH, help="OHLCV CSV (default: AAPL)")
    return parser.parse_args(argv)


def steal_seconds() -> float | None:
    """Machine-wide CPU time stolen by the hypervisor so far (``/proc/stat``), or ``None``."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Stopwatch:
    """Wall time of a block plus the process's CPU time, page faults and the VM's steal.

    ``with Stopwatch() as sw: ...`` then ``sw.seconds`` and ``sw.diagnostics()``.  The CPU
    figures tell a slow run caused by the machine (steal, page-fault storms) from a slow
    library: with 2 threads, ``cpu_user_s`` should stay near or below ``2 * seconds``.
    """

    def __enter__(self) -> Stopwatch:
        self._usage = resource.getrusage(resource.RUSAGE_SELF)
        self._steal = steal_seconds()
        self._start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        steal = steal_seconds()
        self._delta = {
            "cpu_user_s": usage.ru_utime - self._usage.ru_utime,
            "cpu_sys_s": usage.ru_stime - self._usage.ru_stime,
            "minor_faults": usage.ru_minflt - self._usage.ru_minflt,
            "steal_s": None if steal is None or self._steal is None else steal - self._steal,
        }

    def diagnostics(self) -> dict[str, float | int | None]:
        """CPU user/system seconds, minor page faults and machine-wide steal of the block."""
        return dict(self._delta)
