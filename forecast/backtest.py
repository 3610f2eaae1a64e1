"""Walk-forward backtests: the model and its baselines on exactly the same origins and points.

The test region is the last ``test_size`` bars (or everything from ``test_start``), cut into
``folds`` equal blocks by scikit-learn's ``TimeSeriesSplit`` (which yields index ranges only:
splitting is not fitting). Before each fold whose turn it is to refit (every ``refit`` folds;
``refit=0`` fits once before the first), a fresh clone of the estimator is fitted on that fold's
training slice only — expanding from the first bar, or the last ``train_length`` bars with
``window="sliding"`` — ending ``gap`` bars before the fold. Scalers and every other fitted
statistic therefore never see a test bar.

Forecast origins are every ``step`` bars. The first origin is the last bar before the test
region, so with ``step == horizon`` every test bar is forecast exactly once (when the test
region is a multiple of ``step``; otherwise the last origin whose H bars still fit in the data
is the last one, and the few bars after its horizon are not forecast). An origin belongs
to the fold whose block holds its first forecast bar; all origins of a fold are forecast in one
call (fixed-size batches, so each forecast's bits do not depend on its neighbours), from a frame
cut at the fold's last origin, so no forecast can read a bar
after its own origin.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from forecast._atomic import atomic_directory
from forecast.baseline import Baseline
from forecast.data.columns import TICKER
from forecast.data.panels import calendar as shared_calendar
from forecast.data.panels import rows_between, series_parts
from forecast.errors import ConfigError, DataError, DataWarning
from forecast.folds import Fold, make_folds
from forecast.forecaster import Forecaster
from forecast.intervals.levels import check_levels
from forecast.metrics import per_step, summarize, verdict
from forecast.refits import fit_folds
from forecast.settings import BACKTEST_DEFAULTS, DEFAULT_BASELINES
from forecast.trading import trading_curves, trading_summary

if TYPE_CHECKING:
    from forecast.universe.run import UniverseResult

__all__ = ["DEFAULT_BASELINES", "BacktestResult", "backtest"]


@dataclass
class BacktestResult:
    """Everything a walk-forward run produced; ``save(dir)`` writes it, ``plot()`` draws it.

    Attributes
    ----------
    forecasts
        Tidy frame, one row per (model, origin, step): ``model, fold, origin, target_date,
        step, origin_price, actual, predicted`` (+ ``ticker`` for panels); prices in the data's
        units.
    metrics
        One row per model: MAE, RMSE, MAPE (%), R², MASE and Theil's U against the naive
        forecast on the same points, direction accuracy, Diebold–Mariano statistic/p-value.
    per_step
        Error by horizon step per model.
    trading
        Long/flat and long/short rules on the predicted sign, after costs, vs buy-and-hold.
    folds
        One row per fold: dates of its training slice and test block, whether it refitted,
        seconds spent fitting and forecasting.
    config
        Every setting needed to replay the run (estimator parameters included).
    timings
        Total, fitting and forecasting seconds.
    models
        With ``keep_models=True``: the model fitted for each refit fold, by fold number.
    interval_metrics, interval_per_step, interval_baselines
        With ``intervals=...``: the interval table (one row per model x level: coverage,
        width, interval score, pinball, CRPS, Kupiec and Christoffersen p, DM against the
        best interval baseline), the same per horizon step, and the interval baselines' rows
        (:mod:`forecast.intervals`). ``forecasts`` then holds ``lower_<L>``/``upper_<L>``
        (conformal; NaN during the calibration warm-up). Empty frames otherwise.
    interval_calibration
        With ``intervals=...``: the model's latest out-of-sample residuals per step, which
        :func:`forecast.intervals.calibrate` attaches to a fitted model for ``predict``.
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    per_step: pd.DataFrame
    trading: pd.DataFrame
    folds: pd.DataFrame
    config: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    models: dict[int, Any] = field(default_factory=dict)
    interval_metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    interval_per_step: pd.DataFrame = field(default_factory=pd.DataFrame)
    interval_baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    interval_calibration: Any = None

    @property
    def model_name(self) -> str:
        """The model's label in every table (e.g. ``"lstm"``)."""
        return str(self.config["model_name"])

    def verdict(self, alpha: float = 0.05) -> str:
        """One plain sentence: does the model beat the naive random walk?

        Parameters
        ----------
        alpha
            Significance level of the Diebold–Mariano test (default 5%).

        Returns
        -------
        str
            "<model> beats the naive forecast ...", "... does not beat the naive random walk
            ..." or "... is worse than the naive forecast ...", quoting MASE and the p-value;
            with intervals, one more clause on the first level's coverage (Kupiec p) and
            interval score against the best interval baseline (DM p).
        """
        sentence = verdict(self.metrics, self.model_name, alpha=alpha)
        if self.interval_metrics.empty:
            return sentence
        from forecast.intervals.tables import interval_clause

        clause = interval_clause(self.interval_metrics, self.model_name)
        return f"{sentence[:-1]}; {clause}." if clause else sentence

    def equity(self, cost_bps: float | None = None) -> pd.DataFrame:
        """Equity curves of the trading rules, growth of 1.0, indexed by date.

        One column per model x rule (``"lstm/long_flat"``, ``"lstm/long_short"``, ...) plus
        ``"buy_and_hold"``. ``cost_bps`` defaults to the run's ``config["cost_bps"]``.
        """
        cost = float(self.config["cost_bps"]) if cost_bps is None else cost_bps
        return trading_curves(self.forecasts, cost_bps=cost)

    def trading_view(self, cost_bps: float) -> pd.DataFrame:
        """The trading table recomputed at another cost (basis points per unit of turnover)."""
        return trading_summary(self.forecasts, cost_bps=cost_bps)

    def plot(self, kind: str = "forecasts") -> Any:
        """A matplotlib Figure: "forecasts", "error_by_step", "folds" or "equity"."""
        from forecast import plotting

        if kind == "forecasts":
            return plotting.plot_forecast_vs_actual(self.forecasts, model=self.model_name)
        if kind == "error_by_step":
            return plotting.plot_error_by_step(self.per_step)
        if kind == "folds":
            return plotting.plot_fold_timeline(self.folds)
        if kind == "equity":
            return plotting.plot_equity(self.equity())
        raise ConfigError(
            f"plot kind {kind!r} is not known; choose forecasts, error_by_step, folds or equity."
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write metrics.csv, forecasts.csv, per_step.csv, trading.csv, folds.csv,
        config.json, PNG figures and report.html into ``path`` (atomically: all or nothing)."""
        from forecast.report import write_report

        with atomic_directory(path) as tmp:
            write_report(self, tmp)
        return Path(path)


def backtest(
    forecaster: Forecaster | Baseline,
    data: pd.DataFrame,
    *,
    test_size: int = BACKTEST_DEFAULTS["test_size"],
    test_start: str | pd.Timestamp | None = BACKTEST_DEFAULTS["test_start"],
    folds: int = BACKTEST_DEFAULTS["folds"],
    step: int | None = BACKTEST_DEFAULTS["step"],
    refit: int = BACKTEST_DEFAULTS["refit"],
    window: Literal["expanding", "sliding"] = BACKTEST_DEFAULTS["window"],
    train_length: int | None = BACKTEST_DEFAULTS["train_length"],
    gap: int = BACKTEST_DEFAULTS["gap"],
    baselines: Sequence[str] = BACKTEST_DEFAULTS["baselines"],
    cost_bps: float = BACKTEST_DEFAULTS["cost_bps"],
    model_name: str | None = None,
    keep_models: bool = False,
    n_jobs: int | None = BACKTEST_DEFAULTS["n_jobs"],
    warm_start: bool = BACKTEST_DEFAULTS["warm_start"],
    warm_epochs: int | None = BACKTEST_DEFAULTS["warm_epochs"],
    intervals: float | Sequence[float] | None = None,
    adaptive_intervals: bool = False,
    mode: Literal["local", "global"] = "local",
    executor: Literal["local", "ray"] = "local",
    workers: int | None = None,
    address: str | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    progress: bool = False,
    verbose: bool = False,
    fdr: Literal["bh", "by"] = "bh",
) -> BacktestResult | UniverseResult:
    """Walk-forward backtest of ``forecaster`` against baselines on the same origins.

    On a panel (a ``(ticker, Date)`` index) ``mode`` chooses how: ``"local"`` (default) is a
    universe backtest, one model per ticker, each ticker this same backtest on its own bars
    (:mod:`forecast.universe`); ``"global"`` fits one model on every ticker's windows per fold.

    Parameters
    ----------
    forecaster
        An unfitted (or fitted: it is cloned, never modified) Forecaster or Baseline.
    data
        Bars, one series or a ``(ticker, Date)`` panel; validated once here.
    test_size
        Number of final bars in the test region, all of them tested: when it is not a
        multiple of ``folds`` the first fold's block takes the remainder (252 bars in 5 folds
        are blocks of 52, 50, 50, 50 and 50).
    test_start
        Alternatively, the first date of the test region (overrides ``test_size``).
    folds
        Number of walk-forward blocks the test region is cut into.
    step
        Bars between forecast origins (default: the horizon, so each test bar is forecast
        once).
    refit
        Refit every ``refit`` folds; 1 refits before every fold, 0 fits once.
    window, train_length
        ``"expanding"`` trains on everything before the fold; ``"sliding"`` on the last
        ``train_length`` bars.
    gap
        Bars left out between the end of training and the fold.
    baselines
        Baseline methods backtested on exactly the same points ("naive" is always added).
    cost_bps
        Transaction cost, in basis points of traded notional, for the trading view.
    model_name
        Label of the model in the tables (default: its cell, e.g. "lstm").
    keep_models
        Keep each fold's fitted model in ``result.models`` (for inspection; costs memory).
    n_jobs
        Most refits run side by side (threads of this process, or worker processes for fits
        that draw random numbers while training; see :mod:`forecast.refits`); 1 fits them one
        after another here; None (default) one lane per torch thread when the fits can share
        this process, else 1. Never more lanes than cores other processes leave free, and
        lanes x threads never exceed them. Results equal a sequential run.
    warm_start, warm_epochs
        Start each refit after the first from an earlier fold's weights and train only
        ``warm_epochs`` epochs (default: a third of ``epochs``). Faster; not the same work.
    mode
        For panels: ``"local"`` (one model per ticker) or ``"global"`` (one model for all).
        One series: ignored.
    executor, workers, address, out, resume, progress, verbose, fdr
        For ``mode="local"`` on a panel only (:func:`forecast.universe.backtest_universe`):
        ``"local"`` worker processes (default one per core) or ``"ray"`` tasks (at
        ``address``); a run folder ``out`` storing each ticker as it finishes, continued by
        ``resume=True``; a progress bar over tickers (a line per ticker with ``verbose``);
        the false-discovery control of per-ticker claims, ``"bh"`` or ``"by"``.
    intervals
        Interval levels, e.g. ``(0.8, 0.95)``: conformal intervals for the model and every
        baseline, calibrated on each one's own residuals from earlier origins of this
        walk-forward (known at the origin), scored with the interval baselines on the same
        points (:mod:`forecast.intervals`).
    adaptive_intervals
        Adaptive conformal inference (the level follows the recent misses).

    Returns
    -------
    BacktestResult or UniverseResult
        Forecasts, metrics (model vs baselines), per-step errors, trading view, folds,
        configuration and timings; ``.save(dir)``, ``.plot(kind)``, ``.verdict()``. A local
        panel run gives a :class:`forecast.universe.UniverseResult` (per-ticker table,
        refused tickers with reasons, pooled figures, FDR-controlled verdict).

    Raises
    ------
    ConfigError
        An invalid option (folds, step, refit, window, gap, cost_bps, n_jobs, test_start).
    DataError
        The data fails validation or cannot hold the folds and a training slice.
    TrainingError
        A refit diverged.

    Notes
    -----
    The calling process is left as it was: torch's and numpy's global random streams, torch's
    thread counts and the garbage collector's frozen objects are the same afterwards (see
    :class:`forecast.Forecaster`). Refits train faster when glibc keeps their freed buffers
    (about 1.4x on the benchmark backtest) at the price of the process holding on to its peak
    memory until it exits; that is a setting of the whole process, so it is yours to opt
    into with ``forecast.tune_process()``. The ``forecast backtest`` command and the worker
    processes started for refits set it for themselves.
    """
    started = time.perf_counter()
    horizon = int(forecaster.horizon)
    step = horizon if step is None else step
    _check_options(test_size, folds, step, refit, window, train_length, gap, cost_bps)
    levels = None if intervals is None else check_levels(intervals)
    target = _first_target(forecaster)
    name = model_name or _default_name(forecaster)
    if mode not in ("local", "global"):
        raise ConfigError(f"mode={mode!r} is not known; choose 'local' or 'global'.")
    if mode == "local" and isinstance(data, pd.DataFrame) and isinstance(data.index, pd.MultiIndex):
        if levels is not None:
            raise ConfigError(
                "intervals are not yet available for a universe backtest (mode='local' on a "
                "panel); backtest one ticker at a time, or use mode='global'."
            )
        from forecast.universe.run import backtest_universe

        settings = {
            "test_size": test_size, "test_start": test_start, "folds": folds, "step": step,
            "refit": refit, "window": window, "train_length": train_length, "gap": gap,
            "baselines": tuple(baselines), "cost_bps": cost_bps, "model_name": name,
            "warm_start": warm_start, "warm_epochs": warm_epochs,
        }
        return backtest_universe(
            forecaster, data, settings, engine=backtest, executor=executor, workers=workers,
            address=address, out=out, resume=resume, progress=progress, verbose=verbose, fdr=fdr,
        )
    columns = list(dict.fromkeys([*forecaster.required_columns(), target]))
    frame = _validate_once(forecaster, data, columns)
    calendar = shared_calendar(frame)
    if test_start is not None:
        test_size = _test_size_from(calendar, test_start)
    plan = make_folds(
        len(calendar),
        test_size=test_size,
        folds=folds,
        refit=refit,
        window=window,
        train_length=train_length,
        gap=gap,
    )
    methods = list(dict.fromkeys(["naive", *baselines]))
    baselines_by_label = {
        method: Baseline(method=method, horizon=horizon, target=target)
        for method in methods
        if method != name
    }
    train_frames = {
        fold.fold: rows_between(frame, calendar[fold.train_start], calendar[fold.train_stop - 1])
        for fold in plan
        if fold.refit
    }
    train_frames = _trainable_slices(
        [forecaster, *baselines_by_label.values()], train_frames, window, test_start is None
    )

    fit_started = time.perf_counter()
    model_fits = fit_folds(
        forecaster, train_frames, n_jobs=n_jobs, warm_start=warm_start, warm_epochs=warm_epochs
    )
    fits = {name: model_fits} | {
        label: fit_folds(estimator, train_frames) for label, estimator in baselines_by_label.items()
    }
    fit_wall = time.perf_counter() - fit_started

    # Every model forecasts the same points: origins with the history all of them need.
    history = max(e.rows_to_forecast() for e in (forecaster, *baselines_by_label.values()))
    forecasts, fold_table = _forecast_folds(frame, calendar, plan, fits, step, horizon, history)
    dense = None  # every origin of the test region: the conformal calibration set
    if levels is not None and step > 1:
        dense, _ = _forecast_folds(frame, calendar, plan, fits, 1, horizon, history)
    config = {
        "model_name": name,
        "estimator": type(forecaster).__name__,
        "params": _plain(forecaster.get_params()),
        "data": str(frame.attrs.get("name", "data")),
        "data_start": str(calendar[0].date()),
        "data_end": str(calendar[-1].date()),
        "target": target,
        "horizon": horizon,
        "test_size": (plan[-1].test_stop - plan[0].test_start),
        "test_start": str(calendar[plan[0].test_start].date()),
        "folds": folds,
        "step": step,
        "refit": refit,
        "window": window,
        "train_length": train_length,
        "gap": gap,
        "baselines": methods,
        "cost_bps": cost_bps,
        "n_jobs": n_jobs,
        "warm_start": warm_start,
        "warm_epochs": warm_epochs,
        "mode": mode,
        "intervals": None if levels is None else list(levels),
        "adaptive_intervals": adaptive_intervals,
    }
    metrics = summarize(forecasts)
    interval_tables: dict[str, pd.DataFrame] = {}
    if levels is not None:
        from forecast.intervals.walkforward import add_intervals, wide_interval_columns

        dense = forecasts if dense is None else dense
        added = add_intervals(
            forecasts, dense, frame, target, levels, model=name, adaptive=adaptive_intervals
        )
        forecasts = added.forecasts
        metrics = metrics.merge(wide_interval_columns(added.metrics), on="model", how="left")
        interval_tables = {
            "interval_metrics": added.metrics,
            "interval_per_step": added.per_step,
            "interval_baselines": added.baselines,
            "interval_calibration": added.calibration,
        }
    timings = {
        "total_seconds": time.perf_counter() - started,
        "fit_seconds": fit_wall,
        "forecast_seconds": float(fold_table["predict_seconds"].sum()),
    }
    return BacktestResult(
        forecasts=forecasts,
        metrics=metrics,
        per_step=per_step(forecasts),
        trading=trading_summary(forecasts, cost_bps=cost_bps),
        folds=fold_table,
        config=config,
        timings=timings,
        models={fold: fit.estimator for fold, fit in model_fits.items()} if keep_models else {},
        **interval_tables,
    )


def _trainable_slices(
    estimators: list[Forecaster | Baseline],
    train_frames: dict[int, pd.DataFrame],
    window: str,
    region_from_test_size: bool,
) -> dict[int, pd.DataFrame]:
    """Check, before any fit, that every fold's training slice is long enough.

    A series too short for the estimators stops the backtest with a message that names the
    fold and the backtest option that lengthens the slice, rather than letting ``fit`` blame
    the dataset for a slice the backtest cut. In a panel, a ticker too short for a fold (a
    recent listing) is left out of that fold's training, with a :class:`DataWarning`; the
    fold's model still forecasts it from the first origin with enough history.
    """
    needs = [(*estimator.rows_to_fit(), type(estimator).__name__) for estimator in estimators]
    needed, because, kind = max(needs, key=lambda need: need[0])
    out = {}
    for fold, train in train_frames.items():
        parts = series_parts(train)
        short = [(ticker, part) for ticker, part in parts if len(part) < needed]
        if short and len(short) < len(parts):
            tickers = [str(ticker) for ticker, _ in short]
            warnings.warn(
                f"fold {fold} trains without {', '.join(tickers)}: fewer than the {needed} "
                f"bars a {kind} with {because} needs; they are forecast where they have the "
                "history.",
                DataWarning,
                stacklevel=3,
            )
            keep = ~train.index.get_level_values(0).isin(tickers)
            train = train.loc[keep]
            train.attrs = dict(train_frames[fold].attrs)
        elif short:
            ticker, part = short[0]
            whose = f" of ticker {ticker!r}" if ticker is not None else ""
            if window == "sliding":
                fix = f"raise train_length to at least {needed}"
            elif region_from_test_size:
                fix = "pass a smaller test_size so the first fold starts later"
            else:
                fix = "pass a later test_start so the first fold starts later"
            raise DataError(
                f"fold {fold} trains on {len(part)} bars{whose} "
                f"({part.index[0]:%Y-%m-%d} to {part.index[-1]:%Y-%m-%d}), fewer than the "
                f"{needed} a {kind} with {because} needs; {fix}, or lower those settings."
            )
        out[fold] = train
    return out


def _forecast_folds(
    frame: pd.DataFrame,
    calendar: pd.DatetimeIndex,
    plan: list[Fold],
    fits: dict[str, dict[int, Any]],
    step: int,
    horizon: int,
    history: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Forecast every fold with the models fitted for it: (tidy forecasts, fold table)."""
    rows: list[pd.DataFrame] = []
    fold_rows: list[dict[str, Any]] = []
    fitted: dict[str, Forecaster | Baseline] = {}
    model_fits = next(iter(fits.values()))
    for fold in plan:
        if fold.refit:  # otherwise the models of the last refit fold carry on
            fitted = {label: by_fold[fold.fold].estimator for label, by_fold in fits.items()}
        tick = time.perf_counter()
        for label, estimator in fitted.items():
            rows.extend(
                _forecast_fold(
                    estimator,
                    label,
                    frame,
                    calendar,
                    fold,
                    step,
                    horizon,
                    plan[0].test_start,
                    history,
                )
            )
        fold_rows.append(
            {
                "fold": fold.fold,
                "train_start": calendar[fold.train_start],
                "train_end": calendar[fold.train_stop - 1],
                "test_start": calendar[fold.test_start],
                "test_end": calendar[fold.test_stop - 1],
                "refit": fold.refit,
                "train_bars": fold.train_stop - fold.train_start,
                "fit_seconds": model_fits[fold.fold].seconds if fold.refit else 0.0,
                "predict_seconds": time.perf_counter() - tick,
            }
        )
    if not rows:
        raise DataError(
            f"the backtest produced no forecasts: no origin in the test region has {horizon} "
            "bars after it; enlarge the test region or shorten the horizon."
        )
    return pd.concat(rows, ignore_index=True), pd.DataFrame(fold_rows)


def _forecast_fold(
    estimator: Forecaster | Baseline,
    label: str,
    frame: pd.DataFrame,
    calendar: pd.DatetimeIndex,
    fold: Fold,
    step: int,
    horizon: int,
    region_start: int,
    history: int,
) -> list[pd.DataFrame]:
    """Forecast every origin of ``fold`` for each series, one batched call per series."""
    # One grid of origins for the whole test region: the last bar before it, then every
    # `step` bars, so blocks that are not a multiple of `step` never forecast a bar twice.
    all_origins = np.arange((region_start - 1) % step, len(calendar), step)
    in_fold = all_origins[(all_origins + 1 >= fold.test_start) & (all_origins + 1 < fold.test_stop)]
    origin_dates = calendar[in_fold]
    out = []
    for ticker, part in series_parts(frame):
        rows = part.index.get_indexer(origin_dates)
        # a recent listing: no origin before it has the ``history`` rows a forecast needs
        rows = rows[(rows >= history - 1) & (rows + horizon < len(part))]
        if rows.size == 0:
            continue
        # Cut the frame at the fold's last origin: nothing after it can reach the model.
        visible = part.iloc[: int(rows.max()) + 1]
        predicted = estimator.forecast_rows(visible, rows)[:, :, 0]  # [N, H]
        values = part[_first_target(estimator)].to_numpy(dtype=np.float64)
        steps = np.arange(1, horizon + 1)
        target_rows = rows[:, None] + steps[None, :]  # [N, H]
        block = pd.DataFrame(
            {
                "model": label,
                "fold": fold.fold,
                "origin": np.repeat(part.index[rows], horizon),
                "target_date": part.index[target_rows.ravel()],
                "step": np.tile(steps, rows.size),
                "origin_price": np.repeat(values[rows], horizon),
                "actual": values[target_rows.ravel()],
                "predicted": predicted.ravel(),
            }
        )
        if ticker is not None:
            block.insert(1, TICKER, ticker)
        out.append(block)
    return out


def _check_options(
    test_size: int,
    folds: int,
    step: int,
    refit: int,
    window: str,
    train_length: int | None,
    gap: int,
    cost_bps: float,
) -> None:
    for option, value, low in (
        ("test_size", test_size, 1),
        ("folds", folds, 1),
        ("step", step, 1),
        ("refit", refit, 0),
        ("gap", gap, 0),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{option} must be an integer >= {low}, got {value!r}.")
    if window not in ("expanding", "sliding"):
        raise ConfigError(f"window={window!r} is not known; choose 'expanding' or 'sliding'.")
    if window == "sliding" and (train_length is None or train_length < 1):
        raise ConfigError(
            "window='sliding' needs train_length (bars per training slice), e.g. train_length=500."
        )
    if not np.isfinite(cost_bps) or cost_bps < 0:
        raise ConfigError(f"cost_bps must be a non-negative number, got {cost_bps!r}.")


def _test_size_from(calendar: pd.DatetimeIndex, test_start: object) -> int:
    """Number of bars from ``test_start`` (inclusive) to the end of the calendar."""
    try:
        first_date = pd.Timestamp(test_start)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise ConfigError(f"test_start={test_start!r} is not a date; use YYYY-MM-DD.") from None
    if calendar.tz is not None and first_date.tzinfo is None:
        first_date = first_date.tz_localize(calendar.tz)  # wall-clock time in the data's zone
    first = int(calendar.searchsorted(first_date))
    if first >= len(calendar) or first == 0:
        raise DataError(
            f"test_start={test_start} leaves no {'test' if first else 'training'} bars: the "
            f"data runs from {calendar[0]:%Y-%m-%d} to {calendar[-1]:%Y-%m-%d}; pick a date "
            "inside that range."
        )
    return len(calendar) - first


def _first_target(estimator: Forecaster | Baseline) -> str:
    target = estimator.target
    return target if isinstance(target, str) else next(iter(target))


def _validate_once(
    estimator: Forecaster | Baseline, data: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    from forecast.data.validate import validate

    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"backtest expects a pandas DataFrame of bars, got {type(data).__name__}; "
            "load data with forecast.load(...)."
        )
    representation = getattr(estimator, "representation", "levels")
    frame = validate(
        data,
        columns=columns,
        nan_policy=estimator.nan_policy,
        require_positive=representation != "levels",
        require_moves=True,
    )
    frame.attrs["name"] = data.attrs.get("name", "data")
    return frame


def _default_name(estimator: Forecaster | Baseline) -> str:
    if isinstance(estimator, Baseline):
        return estimator.method
    return str(estimator.cell)


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return json.loads(
        json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )
