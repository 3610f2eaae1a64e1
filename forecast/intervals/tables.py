"""Interval tables on the tidy forecasts frame: every contender scored on the same points.

The frame is the tidy forecasts frame (:mod:`forecast.forecasts_frame`) plus ``lower_<L>`` /
``upper_<L>`` columns (price units) for each level ``L``; its ``model`` column holds every
interval contender: the conformal intervals of the model and of the point baselines, and the
interval baselines (``empirical_quantile``, ``ewma_vol``). For each level, only the points where
EVERY contender has both bounds are scored (conformal intervals start after a warm-up), so
all rows of a level are comparable.

Coverage tests need misses of intervals that do not overlap in time: per step, the sequence
of a model's origins is thinned to origins at or after the previous kept target date (with
``step >= horizon``, the backtest default, nothing is dropped). Overall test p-values combine
the per-step tests by Bonferroni (the steps of one origin share a price path, so pooling them
would overstate the evidence). A panel's tickers are concatenated into one sequence per step.

The Diebold–Mariano test compares the model's interval score with the best interval
baseline's (the lower mean score on these points), one differential per origin (the mean over
steps and tickers), with :mod:`forecast.significance`'s calibrated test (lags from the
origins' overlap), two-sided.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from forecast.forecasts_frame import point_keys
from forecast.intervals.baselines import INTERVAL_BASELINES
from forecast.intervals.levels import check_levels, lower_column, quantiles_of, upper_column
from forecast.intervals.scores import (
    bonferroni,
    christoffersen,
    coverage,
    crps_from_quantiles,
    interval_score,
    kupiec,
    mean_width,
    pinball,
    width_percent,
)
from forecast.significance import dm_test, overlap_lags_from_dates

__all__ = [
    "BASELINE_NAMES",
    "interval_clause",
    "interval_dm",
    "interval_metrics",
    "interval_per_step",
    "interval_tables",
]

BASELINE_NAMES = {
    "empirical_quantile": "empirical-quantile baseline",
    "ewma_vol": "EWMA-volatility baseline",
}


def _common_points(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    """Rows at points where every model has both bounds for ``level``."""
    keys = point_keys(frame)
    bounded = frame[[lower_column(level), upper_column(level)]].notna().all(axis=1)
    n_models = frame["model"].nunique()
    counts = frame[bounded].groupby(keys)["model"].nunique()
    full = counts[counts == n_models].index
    points = pd.MultiIndex.from_frame(frame[keys])
    return frame[bounded.to_numpy() & points.isin(full)]


def _thinned(rows: pd.DataFrame) -> pd.DataFrame:
    """Per ticker, origins in time order, each starting at or after the last kept target."""
    kept = []
    for _, series in rows.groupby("ticker", sort=True) if "ticker" in rows else [(None, rows)]:
        series = series.sort_values("origin")
        last_target = None
        for index, origin, target in zip(
            series.index, series["origin"], series["target_date"], strict=True
        ):
            if last_target is None or origin >= last_target:
                kept.append(index)
                last_target = target
    return rows.loc[kept]


def _misses(rows: pd.DataFrame, level: float) -> np.ndarray:
    lo, up = rows[lower_column(level)].to_numpy(), rows[upper_column(level)].to_numpy()
    actual = rows["actual"].to_numpy()
    return (actual < lo) | (actual > up)


def _step_tests(rows: pd.DataFrame, level: float) -> tuple[float, float]:
    """(Kupiec p, Christoffersen p) on the thinned misses of one step's rows."""
    thinned = _thinned(rows)
    misses = _misses(thinned, level)
    return kupiec(misses, level).p_value, christoffersen(misses).p_value


def _scores(rows: pd.DataFrame, level: float) -> dict[str, float]:
    y = rows["actual"].to_numpy()
    lo, up = rows[lower_column(level)].to_numpy(), rows[upper_column(level)].to_numpy()
    return {
        "coverage": coverage(y, lo, up),
        "width": mean_width(lo, up),
        "width_pct": width_percent(lo, up, rows["origin_price"].to_numpy()),
        "interval_score": float(np.mean(interval_score(y, lo, up, level))),
    }


def _crps(frame: pd.DataFrame, levels: tuple[float, ...]) -> dict[str, float]:
    """CRPS per model from every level's two quantiles and the point forecast as the median."""
    keys = point_keys(frame)
    columns = [c for level in levels for c in (lower_column(level), upper_column(level))]
    bounded = frame[frame[columns].notna().all(axis=1)]
    counts = bounded.groupby(keys)["model"].nunique()
    full = counts[counts == frame["model"].nunique()].index
    bounded = bounded[pd.MultiIndex.from_frame(bounded[keys]).isin(full)]
    taus, sources = [0.5], ["predicted"]
    for level in levels:
        low, high = quantiles_of(level)
        taus += [low, high]
        sources += [lower_column(level), upper_column(level)]
    order = np.argsort(taus)
    out = {}
    for model, rows in bounded.groupby("model", sort=False):
        grid = rows[[sources[k] for k in order]].to_numpy(dtype=float)
        out[str(model)] = crps_from_quantiles(
            rows["actual"].to_numpy(), grid, np.asarray(taus)[order]
        )
    return out


def interval_dm(
    rows: pd.DataFrame, model: str, baseline: str, level: float
) -> tuple[float, float]:
    """(DM statistic, p) of ``model``'s interval score against ``baseline``'s at ``level``.

    ``rows`` holds both models' rows on the same points. One differential per origin (the
    mean over its steps and tickers), tested by :func:`forecast.significance.dm_test` with
    the lags the origins' overlap needs (read from the dates), two-sided; a negative
    statistic means ``model`` scores better (lower).
    """
    keys = point_keys(rows)
    scored = rows.assign(
        _score=interval_score(
            rows["actual"], rows[lower_column(level)], rows[upper_column(level)], level
        )
    )
    mine = scored[scored["model"] == model].set_index(keys)
    theirs = scored[scored["model"] == baseline].set_index(keys)["_score"]
    paired = pd.DataFrame({
        "d": mine["_score"] - theirs.reindex(mine.index),
        "target_date": mine["target_date"],
    }).reset_index()
    by_origin = paired.groupby("origin", sort=True)
    differentials = by_origin["d"].mean()
    last_target = by_origin["target_date"].max()
    lags = overlap_lags_from_dates(last_target.index, last_target.to_numpy())
    test = dm_test(differentials.to_numpy(), lags=lags, loss="interval score")
    return test.statistic, test.p_value


def interval_tables(
    frame: pd.DataFrame,
    levels: float | Iterable[float],
    *,
    baselines: Iterable[str] = INTERVAL_BASELINES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables at once: (:func:`interval_metrics`, :func:`interval_per_step`).

    The coverage tests run once per (model, level, step) and serve both tables.
    """
    chosen = check_levels(levels)
    baselines = list(baselines)
    crps = _crps(frame, chosen)
    rows, step_rows = [], []
    for level in chosen:
        common = _common_points(frame, level)
        if common.empty:
            continue
        means = {
            str(model): float(
                np.mean(
                    interval_score(
                        group["actual"],
                        group[lower_column(level)],
                        group[upper_column(level)],
                        level,
                    )
                )
            )
            for model, group in common.groupby("model", sort=False)
        }
        present = [b for b in baselines if b in means]
        best = min(present, key=means.__getitem__) if present else None
        low, high = quantiles_of(level)
        for model, group in common.groupby("model", sort=False):
            name = str(model)
            tests = []
            for step, block in group.groupby("step", sort=True):
                kupiec_p, christoffersen_p = _step_tests(block, level)
                tests.append((kupiec_p, christoffersen_p))
                step_rows.append(
                    {
                        "model": name,
                        "level": level,
                        "step": int(step),
                        **_scores(block, level),
                        "kupiec_p": kupiec_p,
                        "christoffersen_p": christoffersen_p,
                        "n_points": len(block),
                    }
                )
            row = {"model": name, "level": level, **_scores(group, level)}
            row |= {
                "pinball_lower": pinball(group["actual"], group[lower_column(level)], low),
                "pinball_upper": pinball(group["actual"], group[upper_column(level)], high),
                "crps": crps.get(name, math.nan),
                "kupiec_p": bonferroni([t[0] for t in tests]),
                "christoffersen_p": bonferroni([t[1] for t in tests]),
                "best_baseline": best,
                "relative_score": means[name] / means[best] if best else math.nan,
                "dm_stat": math.nan,
                "dm_pvalue": math.nan,
                "n_points": len(group),
            }
            if best is not None and name not in present:
                row["dm_stat"], row["dm_pvalue"] = interval_dm(common, name, best, level)
            rows.append(row)
    per_step = pd.DataFrame(step_rows)
    if not per_step.empty:
        per_step = per_step.sort_values(["model", "level", "step"], ignore_index=True)
    return pd.DataFrame(rows), per_step


def interval_metrics(
    frame: pd.DataFrame,
    levels: float | Iterable[float],
    *,
    baselines: Iterable[str] = INTERVAL_BASELINES,
) -> pd.DataFrame:
    """One row per (model, level): coverage, width, interval score, pinball, CRPS, tests.

    Columns: ``model``, ``level`` (nominal), ``coverage`` (fraction), ``width`` (price),
    ``width_pct`` (% of the origin price), ``interval_score`` (mean, price), ``pinball_lower``
    and ``pinball_upper`` (the level's two quantiles, price), ``crps`` (per model, from all
    levels' quantiles and the median), ``kupiec_p`` and ``christoffersen_p`` (Bonferroni over
    steps), ``best_baseline``, ``relative_score`` (interval score / the best baseline's),
    ``dm_stat`` and ``dm_pvalue`` (negative statistic: the model scores better), ``n_points``.
    The interval baselines' own rows carry no DM columns.
    """
    return interval_tables(frame, levels, baselines=baselines)[0]


def interval_per_step(frame: pd.DataFrame, levels: float | Iterable[float]) -> pd.DataFrame:
    """One row per (model, level, step): coverage, widths, interval score and both tests.

    Columns ``model``, ``level``, ``step``, ``coverage``, ``width``, ``width_pct``,
    ``interval_score``, ``kupiec_p``, ``christoffersen_p``, ``n_points`` (same common points
    as :func:`interval_metrics`).
    """
    return interval_tables(frame, levels)[1]


def _p_text(p: float) -> str:
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if p < 0.01 else f"= {p:.2f}"


def interval_clause(table: pd.DataFrame, model: str, level: float | None = None) -> str:
    """The verdict's interval clause for ``model`` at ``level`` (default: the first level).

    E.g. "its 80% intervals cover 79.2% of points (Kupiec p = 0.71) and score 4% better than
    the EWMA-volatility baseline (DM p = 0.03)". Empty when the table has no such row.
    """
    rows = table[table["model"] == model] if not table.empty else table
    if level is not None and not rows.empty:
        rows = rows[np.isclose(rows["level"], level)]
    if rows.empty:
        return ""
    row = rows.iloc[0]
    text = (
        f"its {row['level'] * 100:g}% intervals cover {row['coverage'] * 100:.1f}% of points "
        f"(Kupiec p {_p_text(row['kupiec_p'])})"
    )
    if row["best_baseline"] is None or pd.isna(row["relative_score"]):
        return text
    name = BASELINE_NAMES.get(row["best_baseline"], f"{row['best_baseline']} baseline")
    change = (1.0 - row["relative_score"]) * 100.0
    direction = "better" if change >= 0 else "worse"
    p = row["dm_pvalue"]
    test = "DM p undefined" if pd.isna(p) else f"DM p {_p_text(p)}"
    return f"{text} and score {abs(change):.0f}% {direction} than the {name} ({test})"
