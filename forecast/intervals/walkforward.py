"""Intervals inside a walk-forward backtest: conformal bounds for every model, the interval
baselines on the same points, and the tables that score them.

:func:`forecast.backtest` calls :func:`add_intervals` with two tidy frames of the same fitted
models: the reported forecasts (origins every ``step`` bars) and dense ones (an origin at every
bar of the test region). The dense frame is only a calibration set: the more origins, the more
out-of-sample residuals are known early in the test region. Its forecasts are the same
numbers the reported ones are (same model, same bars up to the origin, batch-invariant
forecasting), and each reported row takes the bounds computed for it in the dense run, where
calibration read only residuals whose target date is at or before the row's origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.data.columns import TICKER
from forecast.data.panels import series_parts
from forecast.forecasts_frame import point_keys
from forecast.intervals.baselines import INTERVAL_BASELINES, baseline_bounds
from forecast.intervals.calibration import IntervalCalibration, calibration_from
from forecast.intervals.conformal import conformal_intervals
from forecast.intervals.levels import level_label, lower_column, upper_column
from forecast.intervals.tables import interval_tables

__all__ = ["IntervalTables", "add_intervals", "bound_columns", "wide_interval_columns"]


@dataclass
class IntervalTables:
    """What intervals add to a backtest result (see :func:`add_intervals`)."""

    forecasts: pd.DataFrame  # the reported forecasts + lower_<L>/upper_<L> (conformal)
    baselines: pd.DataFrame  # the interval baselines' rows, same columns
    metrics: pd.DataFrame  # interval_metrics: one row per (model, level)
    per_step: pd.DataFrame  # interval_per_step: one row per (model, level, step)
    calibration: IntervalCalibration | None  # the model's latest out-of-sample residuals


def bound_columns(levels: Sequence[float]) -> list[str]:
    """``lower_<L>``, ``upper_<L>`` for each level, in order."""
    return [c for level in levels for c in (lower_column(level), upper_column(level))]


def add_intervals(
    forecasts: pd.DataFrame,
    dense: pd.DataFrame,
    frame: pd.DataFrame,
    target: str,
    levels: tuple[float, ...],
    *,
    model: str,
    adaptive: bool = False,
) -> IntervalTables:
    """Conformal bounds on ``forecasts`` (calibrated on ``dense``) and the interval baselines.

    Parameters
    ----------
    forecasts
        The backtest's tidy forecasts (every model, including "naive").
    dense
        The same models' forecasts at every origin of the test region (a superset of the
        reported origins; may be ``forecasts`` itself when ``step == 1``).
    frame
        The validated bars the backtest ran on (one series or a panel).
    target
        The forecast column.
    levels
        Checked levels (:func:`forecast.intervals.levels.check_levels`).
    model
        The backtested model's label: its dense residuals become ``calibration``.
    adaptive
        Adaptive conformal inference instead of the static rank.
    """
    keys = ["model", *point_keys(forecasts)]
    dense = dense.reset_index(drop=True)
    bounds = conformal_intervals(dense, levels, adaptive=adaptive)
    columns = bound_columns(levels)
    calibrated = pd.concat([dense[keys], bounds[columns]], axis=1)
    with_bounds = forecasts.merge(calibrated, on=keys, how="left", validate="one_to_one")
    naive = with_bounds[with_bounds["model"] == "naive"].drop(columns=columns)
    baselines = pd.concat(
        [_baseline_rows(naive, frame, target, method, levels) for method in INTERVAL_BASELINES],
        ignore_index=True,
    )
    scored = pd.concat([with_bounds, baselines], ignore_index=True)
    metrics, per_step = interval_tables(scored, levels)
    return IntervalTables(
        forecasts=with_bounds,
        baselines=baselines,
        metrics=metrics,
        per_step=per_step,
        calibration=calibration_from(dense, model),
    )


def _baseline_rows(
    naive: pd.DataFrame, frame: pd.DataFrame, target: str, method: str, levels: tuple[float, ...]
) -> pd.DataFrame:
    """The naive forecast's rows relabelled ``method``, with that baseline's bounds."""
    parts = []
    for ticker, part in series_parts(frame):
        rows = naive if ticker is None else naive[naive[TICKER] == ticker]
        if rows.empty:
            continue
        origins = pd.Index(rows["origin"].unique())
        origin_rows = part.index.get_indexer(origins)
        horizon = int(rows["step"].max())
        lower, upper = baseline_bounds(
            method, part[target].to_numpy(dtype=np.float64), origin_rows, horizon, levels
        )  # [N, H, n_levels]
        position = origins.get_indexer(rows["origin"])
        step = rows["step"].to_numpy() - 1
        block = rows.assign(model=method)
        for k, level in enumerate(levels):
            block[lower_column(level)] = lower[position, step, k]
            block[upper_column(level)] = upper[position, step, k]
        parts.append(block)
    return pd.concat(parts, ignore_index=True)


def wide_interval_columns(metrics: pd.DataFrame) -> pd.DataFrame:
    """The interval table as columns per level for ``result.metrics``: one row per model with
    ``coverage_<L>``, ``width_pct_<L>``, ``interval_score_<L>``, ``kupiec_p_<L>``,
    ``interval_dm_pvalue_<L>``."""
    if metrics.empty:
        return pd.DataFrame({"model": []})
    out = None
    for level, rows in metrics.groupby("level", sort=True):
        label = level_label(float(level))
        names = {
            "coverage": "coverage",
            "width_pct": "width_pct",
            "interval_score": "interval_score",
            "kupiec_p": "kupiec_p",
            "dm_pvalue": "interval_dm_pvalue",
        }
        block = rows.set_index("model")[list(names)]
        block.columns = [f"{names[c]}_{label}" for c in names]
        out = block if out is None else out.join(block, how="outer")
    return out.reset_index()
