"""A universe backtest, end to end: screen, schedule, store, pool, and one verdict.

``backtest_universe`` is what :func:`forecast.backtest` runs for a panel in ``mode="local"``:

1. every ticker refused when the panel was loaded (``panel.attrs["refused"]``) is listed;
2. every other ticker is screened: too few bars for the folds refuses it, naming the count;
3. with ``out``, a run folder stores each ticker's result as it finishes
   (:mod:`forecast.universe.store`); ``resume=True`` reuses the stored ones;
4. the rest run as units (:mod:`forecast.universe.unit`) on an executor
   (:mod:`forecast.universe.executors`); a ticker that fails does so alone, with its reason;
5. the per-ticker table, pooled figures and FDR-controlled claims make the result
   (:mod:`forecast.universe.pooled`).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecast._atomic import atomic_directory, atomic_write_text
from forecast.data.columns import DATE, TICKER
from forecast.errors import ConfigError, DataError
from forecast.universe.executors import EXECUTORS, PanelArrays, available_cores, run_local
from forecast.universe.fdr import FDR_METHODS, FdrMethod
from forecast.universe.pooled import pooled_figures, ticker_table, verdict
from forecast.universe.progress import Progress
from forecast.universe.store import RunStore
from forecast.universe.unit import TickerOutcome, UnitSpec, data_hash, peak_memory_mb, screen

__all__ = ["UniverseResult", "backtest_universe"]

VALUE_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")


@dataclass
class UniverseResult:
    """What a universe backtest produced; ``save(dir)`` writes it, ``verdict()`` sums it up.

    Attributes
    ----------
    table
        One row per ticker that ran (``universe.csv``; columns in
        :func:`forecast.universe.pooled.ticker_table`), best MASE first.
    refused
        One row per ticker that did not run: ``ticker``, ``stage`` (``"load"``, ``"screen"``
        or ``"run"``) and ``reason``, one sentence naming the problem and the fix.
    pooled
        Median and mean MASE, share of tickers below naive, uncorrected and FDR-corrected
        claim counts, the pooled Diebold–Mariano test and its assumptions.
    forecasts
        Every ticker's tidy forecasts (``ticker`` column), prices in the data's units.
    config
        Settings, their hash, executor and workers.
    timings
        ``wall_seconds`` of this call, ``ticker_seconds`` summed over the tickers run now,
        ``resumed`` (tickers read back from the run folder).
    memory
        Peak resident MB of this process and of the largest worker.
    notes
        Ticker -> data repairs and warnings met while loading or running it.
    """

    table: pd.DataFrame
    refused: pd.DataFrame
    pooled: dict[str, Any]
    forecasts: pd.DataFrame
    config: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def model_name(self) -> str:
        """The model's label in every table (e.g. ``"lstm"``)."""
        return str(self.pooled["model"])

    @property
    def metrics(self) -> pd.DataFrame:
        """The per-ticker table indexed by ticker (what ``forecast backtest`` prints)."""
        return self.table.set_index("ticker")

    def verdict(self) -> str:
        """One sentence; its "beats naive" count is the FDR-controlled one."""
        return verdict(self.pooled)

    def summary(self) -> str:
        """``"ran 195 of 200 tickers; refused 5: APTV, ..."``."""
        ran, refused = len(self.table), len(self.refused)
        text = f"ran {ran} of {ran + refused} tickers; refused {refused}"
        if refused:
            names = ", ".join(self.refused["ticker"].head(8))
            text += f": {names}{', ...' if refused > 8 else ''} (reasons in refused.csv)"
        return text

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write universe.csv, refused.csv, pooled.json, config.json, forecasts.parquet and
        report.html into ``path`` (atomically: all or nothing; a run folder's ticker folders
        are kept, and each summary file is replaced atomically)."""
        folder = Path(path).expanduser()
        if (folder / "manifest.json").is_file():
            self._write_summary(folder)  # the run folder: add the summary files one by one
            return folder
        with atomic_directory(folder) as tmp:
            self._write_summary(tmp, atomic=False)
        return folder

    def _write_summary(self, folder: Path, *, atomic: bool = True) -> None:
        from forecast.universe.report import universe_html

        texts = {
            "universe.csv": self.table.to_csv(index=False),
            "refused.csv": self.refused.to_csv(index=False),
            "pooled.json": json.dumps(_plain(self.pooled | {"verdict": self.verdict()}),
                                      indent=2),
            "config.json": json.dumps(_plain(self.config | {"timings": self.timings,
                                                            "memory": self.memory}), indent=2),
            "report.html": universe_html(self),
        }
        for name, text in texts.items():
            if atomic:
                atomic_write_text(folder / name, text)
            else:
                (folder / name).write_text(text, encoding="utf-8")
        if atomic:
            from forecast._atomic import atomic_write_with

            atomic_write_with(folder / "forecasts.parquet",
                              lambda tmp: self.forecasts.to_parquet(tmp, index=False))
        else:
            self.forecasts.to_parquet(folder / "forecasts.parquet", index=False)


def backtest_universe(
    forecaster: Any,
    panel: pd.DataFrame,
    settings: dict[str, Any],
    *,
    engine: Callable[..., Any],
    executor: str = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = False,
    verbose: bool = False,
    alpha: float = 0.05,
    fdr: FdrMethod = "bh",
) -> UniverseResult:
    """Backtest ``forecaster`` on every ticker of ``panel``, one model per ticker.

    Parameters
    ----------
    forecaster
        An unfitted Forecaster or Baseline; each ticker gets a fresh one with its settings.
    panel
        Bars indexed by ``(ticker, Date)`` (:func:`forecast.load` of several sources or of a
        universe); ``panel.attrs["refused"]`` lists members refused while loading.
    settings
        :func:`forecast.backtest`'s settings (``test_size``, ``folds``, ``step``, ...,
        ``model_name`` always set).
    engine
        The one-series walk-forward function, :func:`forecast.backtest`, which calls this.
    executor, workers, address
        ``"local"``: ``workers`` processes (default one per core; 1 runs here). ``"ray"``:
        Ray tasks on a private local Ray of ``workers`` CPUs (``address=None``), or on the
        cluster at ``address`` (``"auto"``, ``"ray://host:10001"``); see
        :mod:`forecast.universe.ray_executor`.
    out, resume
        Run folder where each ticker's result is stored as it finishes; ``resume=True``
        continues a run there (same settings and data only).
    progress, verbose
        A progress bar over tickers with ETA on stderr; a line per ticker.
    alpha, fdr
        Level and step-up method (``"bh"``, ``"by"``) of the per-ticker "beats naive" claims.

    Returns
    -------
    UniverseResult

    Raises
    ------
    ConfigError
        Unknown executor or FDR method, bad workers/alpha, a run folder of other settings.
    DataError
        A panel without a ticker level; no ticker could run (every reason listed).
    """
    started = time.perf_counter()
    _check(panel, executor, workers, alpha, fdr)
    if executor == "ray":
        from forecast.universe.ray_executor import require_ray

        require_ray()  # before any work: say how to install it
    model = str(settings["model_name"])
    spec = UnitSpec.of(engine, forecaster, settings)
    tickers = [str(t) for t in pd.unique(panel.index.get_level_values(TICKER))]
    refused = [(t, "load", r) for t, r in dict(panel.attrs.get("refused", {})).items()]
    columns = [c for c in VALUE_COLUMNS if c in panel.columns]
    arrays = PanelArrays.of(panel[columns], tickers)
    runnable = []
    for ticker in tickers:
        reason = screen(arrays.frame(ticker), ticker, spec)
        if reason is None:
            runnable.append(ticker)
        else:
            refused.append((ticker, "screen", reason))

    store = RunStore(out, spec, resume=resume) if out is not None else None
    outcomes: dict[str, TickerOutcome] = {}
    if store is not None and resume:
        hashes = {t: data_hash(arrays.frame(t)) for t in runnable}
        outcomes = {t: o for t, o in store.finished(hashes).items() if t in hashes}
    todo = [t for t in runnable if t not in outcomes]
    bar = Progress(len(runnable), enabled=progress, verbose=verbose, done=len(outcomes))
    count = min(workers or available_cores(), max(1, len(todo)))
    run_started = time.perf_counter()
    if executor == "ray":
        from forecast.universe.ray_executor import run_ray

        units = run_ray(arrays, todo, spec, address=address, workers=workers)
    else:
        units = run_local(arrays, todo, spec, workers=count)
    try:
        for outcome in units:
            if store is not None:
                store.write(outcome)
            outcomes[outcome.ticker] = outcome
            bar.advance(outcome, model)
    finally:
        bar.close()
    ordered = [outcomes[t] for t in runnable]
    refused += [(o.ticker, "run", o.reason) for o in ordered if o.status != "ran"]
    refused_frame = pd.DataFrame(refused, columns=["ticker", "stage", "reason"])
    ran = [o for o in ordered if o.status == "ran"]
    forecasts = (pd.concat([o.forecasts for o in ran], ignore_index=True) if ran
                 else pd.DataFrame())
    table = ticker_table(ran, model, alpha=alpha, fdr=fdr)
    pooled = pooled_figures(table, forecasts, model, alpha=alpha, fdr=fdr,
                            n_refused=len(refused_frame))
    notes = {t: list(n) for t, n in dict(panel.attrs.get("notes", {})).items()}
    for outcome in ordered:
        if outcome.notes:
            notes.setdefault(outcome.ticker, []).extend(outcome.notes)
    worker_peaks = [o.peak_mb for o in ordered if not math.isnan(o.peak_mb)]
    result = UniverseResult(
        table=table,
        refused=refused_frame,
        pooled=pooled,
        forecasts=forecasts,
        config={
            "mode": "local",
            "model_name": model,
            **spec.describe(),
            "config_hash": spec.config_hash(),
            "data": str(panel.attrs.get("name", "panel")),
            "executor": executor,
            "workers": count if executor == "local" else workers,
            "address": address,
            "threads_per_fit": 1,
            "alpha": alpha,
            "fdr": fdr,
        },
        timings={
            "wall_seconds": time.perf_counter() - started,
            "run_seconds": time.perf_counter() - run_started,
            "ticker_seconds": float(sum(o.seconds for o in ordered if o.ticker in todo)),
            "tickers_run_now": len(todo),
            "tickers_resumed": len(runnable) - len(todo),
        },
        memory={
            "this_process_peak_mb": peak_memory_mb(),
            "largest_worker_peak_mb": max(worker_peaks) if worker_peaks else math.nan,
        },
        notes=notes,
    )
    if store is not None:
        result.save(store.folder)
    if not ran:
        listed = "; ".join(r.rstrip(".") for r in refused_frame["reason"].head(5))
        raise DataError(
            f"no ticker could run ({len(refused_frame)} refused): {listed}"
            + ("; ..." if len(refused_frame) > 5 else "")
        )
    return result


def _check(panel: pd.DataFrame, executor: str, workers: int | None, alpha: float,
           fdr: str) -> None:
    if not isinstance(panel, pd.DataFrame) or not isinstance(panel.index, pd.MultiIndex) or (
        list(panel.index.names) != [TICKER, DATE]
    ):
        raise DataError(
            "a universe backtest needs a panel indexed by (ticker, Date); load one with "
            "forecast.load(['AAPL', 'MSFT']) or forecast.load('folder/')."
        )
    if executor not in EXECUTORS:
        raise ConfigError(
            f"executor={executor!r} is not known; choose one of {', '.join(EXECUTORS)}."
        )
    if workers is not None and (not isinstance(workers, int | np.integer) or workers < 1):
        raise ConfigError(f"workers must be an integer >= 1 (or None: one per core), not "
                          f"{workers!r}.")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha!r}.")
    if fdr not in FDR_METHODS:
        raise ConfigError(f"fdr={fdr!r} is not known; choose one of {', '.join(FDR_METHODS)}.")


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars as Python numbers, NaN as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
