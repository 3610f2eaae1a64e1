"""The unit of work of a universe backtest: one ticker's walk-forward run, a pure function.

``run_ticker(bars, ticker, spec)`` takes one ticker's bars, its name and a frozen
:class:`UnitSpec` (the estimator's class and parameters and the backtest settings as JSON, and
the engine: :func:`forecast.backtest` itself, handed in by it, so this package never imports
the module that dispatches to it) and returns a :class:`TickerOutcome`. It reads nothing else
and writes nothing, so any executor (this process, a pool of worker processes, a Ray cluster)
can run it anywhere and get the same bits for the same spec, seeds and threads per fit.
Failures are results too: a ticker whose data is bad or whose training diverges comes back
with ``status="failed"`` and the reason, and the rest of the universe carries on.

``spec.config_hash()`` names the settings: a resumed run reuses a stored ticker only when the
hash (and the ticker's data hash) match.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import resource
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast._version import __version__
from forecast.errors import ConfigError, ForecastError

__all__ = ["TickerOutcome", "UnitSpec", "bars_needed", "data_hash", "run_ticker", "screen"]

# Settings of forecast.backtest that shape a ticker's result (n_jobs does not: a fit computes
# the same bits in any lane, so it is not part of the hash).
RESULT_SETTINGS: tuple[str, ...] = (
    "test_size",
    "test_start",
    "folds",
    "step",
    "refit",
    "window",
    "train_length",
    "gap",
    "baselines",
    "cost_bps",
    "model_name",
    "warm_start",
    "warm_epochs",
)


@dataclass(frozen=True)
class UnitSpec:
    """Everything a ticker's backtest needs besides its bars, frozen and JSON-serialisable.

    ``engine`` is the one-series walk-forward function (:func:`forecast.backtest`; a module
    function, so it pickles by name); ``estimator`` is ``"Forecaster"`` or ``"Baseline"``;
    ``params`` and ``settings`` are JSON texts of the estimator's ``get_params()`` and of the
    backtest settings (:data:`RESULT_SETTINGS`); ``n_jobs`` is the refit lanes inside one
    ticker's backtest.
    """

    engine: Callable[..., Any]
    estimator: str
    params: str
    settings: str
    n_jobs: int = 1

    @classmethod
    def of(cls, engine: Callable[..., Any], estimator: Any, settings: dict[str, Any], *,
           n_jobs: int = 1) -> UnitSpec:
        """Freeze ``estimator`` (unfitted settings only) and ``settings`` into a spec."""
        name = type(estimator).__name__
        if name not in ("Forecaster", "Baseline"):
            raise ConfigError(
                f"a universe backtest runs a Forecaster or a Baseline, not a {name}; wrap the "
                "model in forecast.Forecaster(...)."
            )
        params = _json(estimator.get_params())
        unknown = sorted(set(settings) - set(RESULT_SETTINGS))
        if unknown:
            raise ConfigError(f"unknown backtest settings {unknown}; use {RESULT_SETTINGS}.")
        full = engine_defaults(engine) | settings
        spec = cls(engine, name, params, _json({k: full[k] for k in RESULT_SETTINGS}), n_jobs)
        rebuilt = spec.make_estimator().get_params()
        if _json(rebuilt) != params:
            raise ConfigError(
                f"the {name}'s settings do not survive a trip through JSON ({params}); use "
                "plain numbers, strings and lists as settings."
            )
        return spec

    def make_estimator(self) -> Any:
        """A fresh, unfitted estimator with the frozen parameters."""
        from forecast.baseline import Baseline
        from forecast.forecaster import Forecaster

        kind = {"Forecaster": Forecaster, "Baseline": Baseline}[self.estimator]
        return kind(**json.loads(self.params))

    def backtest_settings(self) -> dict[str, Any]:
        """Keyword arguments for :func:`forecast.backtest` (lists back as tuples where needed)."""
        settings = json.loads(self.settings)
        settings["baselines"] = tuple(settings["baselines"])
        return settings

    def describe(self) -> dict[str, Any]:
        """The settings as one plain dict (what the run folder's manifest records)."""
        return {
            "estimator": self.estimator,
            "params": json.loads(self.params),
            "backtest": json.loads(self.settings),
            "version": __version__,
        }

    def config_hash(self) -> str:
        """SHA-256 of :meth:`describe` in canonical JSON: equal settings, equal hash."""
        return hashlib.sha256(_json(self.describe()).encode()).hexdigest()[:16]


@dataclass
class TickerOutcome:
    """One ticker's result: ``status`` ``"ran"`` (tables filled) or ``"failed"`` (``reason``).

    ``forecasts``, ``metrics`` and ``trading`` are the ticker's :class:`forecast.BacktestResult`
    tables (forecasts with a ``ticker`` column); ``seconds`` the wall time of its backtest;
    ``peak_mb`` the peak resident memory of the process that ran it; ``notes`` the warnings
    its backtest raised; ``data_hash`` identifies the bars it saw.
    """

    ticker: str
    status: str
    reason: str = ""
    forecasts: pd.DataFrame | None = None
    metrics: pd.DataFrame | None = None
    trading: pd.DataFrame | None = None
    seconds: float = 0.0
    peak_mb: float = math.nan
    notes: list[str] = field(default_factory=list)
    n_bars: int = 0
    data_hash: str = ""


def engine_defaults(engine: Callable[..., Any]) -> dict[str, Any]:
    """The defaults of the engine's settings, read from its signature (one source of truth)."""
    parameters = inspect.signature(engine).parameters
    return {name: parameters[name].default for name in RESULT_SETTINGS}


def data_hash(bars: pd.DataFrame) -> str:
    """A short digest of a ticker's dates and values (what a resumed run must see again)."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(bars.index.asi8).tobytes())
    digest.update(",".join(map(str, bars.columns)).encode())
    digest.update(np.ascontiguousarray(bars.to_numpy(dtype=np.float64)).tobytes())
    return digest.hexdigest()[:16]


def bars_needed(estimator: Any, settings: dict[str, Any], bars: pd.DataFrame) -> tuple[int, str]:
    """Bars a ticker needs for this backtest, and the sum spelled out for a refusal.

    The first fold trains on the bars before the test region, which must hold one training
    window with its horizon (``lookback + horizon``, plus one bar for return representations),
    plus the ``gap``; the test region is ``test_size`` bars (or, with ``test_start``, the
    ticker's bars from that date on).
    """
    first_fit = int(estimator._min_rows(for_fit=True))
    gap = int(settings.get("gap") or 0)
    test_start = settings.get("test_start")
    if test_start is not None:
        test_bars = int((bars.index >= pd.Timestamp(test_start)).sum())
        region = f"its {test_bars} bars from {pd.Timestamp(test_start):%Y-%m-%d}"
    else:
        test_bars = int(settings["test_size"])
        region = f"{test_bars} test bars"
    parts = [f"{first_fit} for the first fold's training window (lookback + horizon"]
    parts[0] += " + 1 for returns)" if getattr(estimator, "representation", "") != "levels" else ")"
    if gap:
        parts.append(f"a gap of {gap}")
    parts.append(region)
    return first_fit + gap + test_bars, " + ".join(parts)


def screen(bars: pd.DataFrame, ticker: str, spec: UnitSpec) -> str | None:
    """Why ``ticker`` cannot run with ``spec`` (one sentence), or None when it can."""
    estimator = spec.make_estimator()
    settings = json.loads(spec.settings)
    needed, spelled = bars_needed(estimator, settings, bars)
    have = len(bars)
    if settings.get("test_start") is not None:
        before = int((bars.index < pd.Timestamp(settings["test_start"])).sum())
        first_fit = needed - (have - before)
        if before < first_fit:
            return (
                f"{ticker}: {before} bars before test_start "
                f"{pd.Timestamp(settings['test_start']):%Y-%m-%d}, fewer than the {first_fit} "
                "the first fold's training needs (lookback + horizon); it was listed too late "
                "for this test region."
            )
        return None
    if have < needed:
        return (
            f"{ticker}: {have} bars, fewer than the {needed} a backtest needs ({spelled}); "
            "lower --test-size or --lookback to include it."
        )
    return None


def run_ticker(bars: pd.DataFrame, ticker: str, spec: UnitSpec) -> TickerOutcome:
    """One ticker's walk-forward backtest with the frozen settings (module docstring).

    Parameters
    ----------
    bars
        The ticker's bars: ``DatetimeIndex`` named ``Date``, OHLC[V] columns, price units.
    ticker
        Its name (the ``ticker`` column of the forecasts).
    spec
        Estimator and backtest settings.

    Returns
    -------
    TickerOutcome
        ``status="ran"`` with the tables, or ``status="failed"`` with a one-sentence reason.
    """
    started = time.perf_counter()
    outcome = TickerOutcome(ticker=ticker, status="failed", n_bars=len(bars),
                            data_hash=data_hash(bars))
    bars = bars.copy()
    bars.attrs = {"name": ticker}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = spec.engine(spec.make_estimator(), bars, n_jobs=spec.n_jobs,
                                 **spec.backtest_settings())
    except ConfigError:
        raise  # a setting wrong for one ticker is wrong for all: stop the run
    except ForecastError as exc:
        outcome.reason = f"{ticker}: {exc}"
    except (ArithmeticError, ValueError, RuntimeError, MemoryError) as exc:
        # An unexpected failure inside one ticker's run stays that ticker's failure.
        outcome.reason = f"{ticker}: {type(exc).__name__}: {exc}"
    else:
        forecasts = result.forecasts
        forecasts.insert(1, "ticker", ticker)
        outcome.status = "ran"
        outcome.forecasts = forecasts
        outcome.metrics = result.metrics
        outcome.trading = result.trading
        outcome.notes = list(dict.fromkeys(str(w.message) for w in caught))
    outcome.seconds = time.perf_counter() - started
    outcome.peak_mb = peak_memory_mb()
    return outcome


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _json(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, default=lambda v: v.item() if hasattr(v, "item") else str(v)
    )
