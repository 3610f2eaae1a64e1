"""Interval forecasts: conformal bounds over any model, interval baselines, and their scores.

Modules, one job each:

``levels``       the level check, ``lower_<L>``/``upper_<L>`` column names, level -> quantiles
``conformal``    conformal (and adaptive conformal) bounds from earlier out-of-sample residuals
``baselines``    naive + empirical quantiles of past h-step returns; naive + EWMA volatility
``scores``       coverage, width, interval score, pinball, CRPS, Kupiec, Christoffersen
``tables``       the interval tables of a backtest and the verdict's interval clause
``walkforward``  how :func:`forecast.backtest` adds all of the above to a result
``calibration``  a model's saved out-of-sample residuals: ``predict(bars, intervals=...)``
``plots``        fan chart per fold, coverage by horizon step
"""

from __future__ import annotations

from forecast.intervals.baselines import (
    INTERVAL_BASELINES,
    empirical_quantile_bounds,
    ewma_vol_bounds,
)
from forecast.intervals.calibration import IntervalCalibration, calibrate
from forecast.intervals.conformal import conformal_intervals
from forecast.intervals.levels import check_levels, lower_column, upper_column
from forecast.intervals.scores import (
    christoffersen,
    coverage,
    crps_from_quantiles,
    interval_score,
    kupiec,
    pinball,
)
from forecast.intervals.tables import interval_clause, interval_metrics, interval_per_step

__all__ = [
    "INTERVAL_BASELINES",
    "IntervalCalibration",
    "calibrate",
    "check_levels",
    "christoffersen",
    "conformal_intervals",
    "coverage",
    "crps_from_quantiles",
    "empirical_quantile_bounds",
    "ewma_vol_bounds",
    "interval_clause",
    "interval_metrics",
    "interval_per_step",
    "interval_score",
    "kupiec",
    "lower_column",
    "pinball",
    "upper_column",
]
