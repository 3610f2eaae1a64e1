"""Interval figures: a fan chart per fold and coverage by horizon step against nominal.

Like :mod:`forecast.plotting`, each function builds a ``matplotlib.figure.Figure`` directly
(never ``pyplot``: headless, no global state) and returns it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure

from forecast.data.columns import TICKER
from forecast.errors import DataError
from forecast.intervals.levels import level_label, lower_column, upper_column

__all__ = ["plot_coverage_by_step", "plot_fan"]

PANEL_SIZE = (10.0, 2.6)  # inches per fold panel; wide because the x axis is time


def _levels_in(frame: pd.DataFrame) -> list[float]:
    levels = sorted(
        float(c.removeprefix("lower_")) / 100 for c in frame.columns if c.startswith("lower_")
    )
    if not levels:
        raise DataError(
            "the forecasts have no lower_<L>/upper_<L> columns; run the backtest with "
            "intervals=(0.8, 0.95)."
        )
    return levels


def plot_fan(forecasts: pd.DataFrame, model: str) -> Figure:
    """Fan chart of ``model``'s intervals, one panel per fold: the actual price, the point
    forecasts, and each origin's bands over its H steps (darker = narrower level).

    ``forecasts`` is a backtest's tidy frame with ``lower_<L>``/``upper_<L>`` columns (one
    ticker; a panel's first ticker is drawn).
    """
    rows = forecasts[forecasts["model"] == model]
    if rows.empty:
        models = sorted(map(str, forecasts["model"].unique()))
        raise DataError(f"no forecasts for model {model!r}; the frame has models {models}.")
    if TICKER in rows.columns:
        rows = rows[rows[TICKER] == rows[TICKER].iloc[0]]
    levels = _levels_in(rows)
    folds = sorted(rows["fold"].unique()) if "fold" in rows.columns else [0]
    width, height = PANEL_SIZE
    figure = Figure(figsize=(width, height * len(folds)), layout="constrained")
    axes = figure.subplots(len(folds), 1, squeeze=False)[:, 0]
    shades = colormaps["Blues"](np.linspace(0.25, 0.55, len(levels)))
    for ax, fold in zip(axes, folds, strict=True):
        block = rows[rows["fold"] == fold] if "fold" in rows.columns else rows
        first_origin = block["origin"].min()
        for k, level in enumerate(reversed(levels)):
            for origin, path in block.groupby("origin", sort=True):
                path = path.sort_values("step")
                ax.fill_between(
                    pd.to_datetime(path["target_date"]), path[lower_column(level)],
                    path[upper_column(level)], color=shades[k], linewidth=0,
                    label=f"{level_label(level)}% interval" if origin == first_origin else None,
                )
        actual = block.drop_duplicates("target_date").sort_values("target_date")
        ax.plot(pd.to_datetime(actual["target_date"]), actual["actual"], color="black",
                linewidth=1.0, label="actual")
        ax.plot(pd.to_datetime(block["target_date"]), block["predicted"], ".", color="#d62728",
                markersize=2, label="forecast")
        ax.set_title(f"{model}: fold {fold}", fontsize="medium")
        ax.set_ylabel("price")
    axes[0].legend(loc="upper left", fontsize="small", ncols=len(levels) + 2)
    return figure


def plot_coverage_by_step(per_step: pd.DataFrame) -> Figure:
    """Empirical coverage by horizon step per model, one panel per level, nominal dashed.

    ``per_step`` is a backtest's ``interval_per_step`` table.
    """
    if per_step.empty:
        raise DataError("the interval table by step is empty; run the backtest with intervals.")
    levels = sorted(per_step["level"].unique())
    figure = Figure(figsize=(5.0 * len(levels), 3.6), layout="constrained")
    axes = figure.subplots(1, len(levels), squeeze=False)[0]
    for ax, level in zip(axes, levels, strict=True):
        rows = per_step[per_step["level"] == level]
        for model, line in rows.groupby("model", sort=True):
            ax.plot(line["step"], 100 * line["coverage"], marker="o", label=str(model))
        ax.axhline(100 * level, color="black", linestyle="--", linewidth=1, label="nominal")
        ax.set_title(f"{level_label(level)}% intervals", fontsize="medium")
        ax.set_xlabel("horizon step")
        ax.set_ylabel("coverage (%)")
        ax.set_xticks(sorted(rows["step"].unique()))
    axes[-1].legend(fontsize="small")
    return figure
