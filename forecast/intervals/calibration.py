"""Conformal intervals for ``predict``: a model's saved out-of-sample residuals.

A fitted model alone knows only its training residuals, which are too small to calibrate an
interval (the model has seen those rows). The residuals that count come from a walk-forward:
``backtest(model, data, intervals=...)`` keeps the model's out-of-sample log residuals per
step (``result.interval_calibration``, the most recent ``DEFAULT_WINDOW`` per step), and
:func:`calibrate` attaches them to a fitted model, whose ``save`` stores them in
``config.json`` as plain JSON numbers (never a pickle). ``model.predict(bars,
intervals=(0.8, 0.95))`` then adds ``lower_<L>``/``upper_<L>`` for the first target:
``forecast · exp(± q)`` with ``q`` the conformal rank of those residuals at step h.

The residuals were made by the backtest's fold models, not by the model being calibrated (a
final refit on all the data, typically): the usual cross-validation conformal assumption is
that the refit errs like its predecessors did out of sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ConfigError
from forecast.intervals.conformal import DEFAULT_WINDOW, conformal_quantile, log_scores
from forecast.intervals.levels import check_levels, lower_column, upper_column

__all__ = ["IntervalCalibration", "add_bounds", "calibrate", "calibration_from"]


@dataclass(frozen=True)
class IntervalCalibration:
    """Out-of-sample scores ``|log(actual / predicted)|`` per horizon step, oldest first."""

    scores: dict[int, tuple[float, ...]]
    through: str  # the latest target date among them (ISO date)

    def half_widths(self, horizon: int, levels: tuple[float, ...]) -> np.ndarray:
        """``[H, n_levels]`` conformal half-widths (log scale); NaN where too few scores."""
        out = np.full((horizon, len(levels)), np.nan)
        for h in range(1, horizon + 1):
            scores = np.asarray(self.scores.get(h, ()), dtype=float)
            for k, level in enumerate(levels):
                if math.ceil((scores.size + 1) * level) <= scores.size:
                    out[h - 1, k] = conformal_quantile(scores, level)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON state: ``{"scores": {"1": [...], ...}, "through": "YYYY-MM-DD"}``."""
        return {"scores": {str(h): list(v) for h, v in self.scores.items()},
                "through": self.through}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> IntervalCalibration:
        """Rebuild from :meth:`to_dict`; ConfigError on anything else."""
        try:
            scores = {int(h): tuple(float(x) for x in v) for h, v in state["scores"].items()}
            through = str(state["through"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise ConfigError(
                "the interval calibration must hold scores per step and a date"
            ) from None
        if any(not np.isfinite(v).all() or min(v, default=0.0) < 0 for v in scores.values()):
            raise ConfigError("the interval calibration holds negative or non-finite scores")
        return cls(scores, through)


def calibration_from(forecasts: pd.DataFrame, model: str,
                     window: int = DEFAULT_WINDOW) -> IntervalCalibration | None:
    """The ``window`` latest out-of-sample scores of ``model`` per step (tidy forecasts)."""
    rows = forecasts[forecasts["model"] == model].sort_values("target_date", kind="stable")
    if rows.empty:
        return None
    scores = {}
    for step, block in rows.groupby("step", sort=True):
        values = log_scores(block["actual"].to_numpy(), block["predicted"].to_numpy())
        scores[int(step)] = tuple(float(v) for v in values[np.isfinite(values)][-window:])
    through = pd.Timestamp(rows["target_date"].max()).date().isoformat()
    return IntervalCalibration(scores, through)


def calibrate(model: Any, result: Any) -> Any:
    """Attach a backtest's out-of-sample residuals to ``model`` (fitted); returns ``model``.

    ``result`` is a :class:`~forecast.BacktestResult` run with ``intervals=...`` on an
    estimator with the same parameters as ``model``.

    Raises
    ------
    ConfigError
        The result has no intervals, or was made with other parameters.
    """
    calibration = getattr(result, "interval_calibration", None)
    if calibration is None:
        raise ConfigError(
            "this backtest has no interval calibration; run it with intervals=(0.8, 0.95)."
        )
    theirs = result.config.get("params")
    mine = json_params(model.get_params())
    if theirs != mine:
        different = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        raise ConfigError(
            f"the backtest ran a model with other parameters ({', '.join(different)} differ); "
            "calibrate a model with the backtest's own settings."
        )
    model.interval_calibration_ = calibration
    return model


def json_params(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a backtest's config records them (JSON round trip)."""
    import json

    return json.loads(
        json.dumps(params, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    )


def add_bounds(
    predictions: pd.DataFrame, model: Any, levels: float | Iterable[float]
) -> pd.DataFrame:
    """``predictions`` (``[H, K]`` per series) plus ``lower_<L>``/``upper_<L>`` of the first
    target, from ``model.interval_calibration_``.

    Raises
    ------
    ConfigError
        The model carries no calibration (see :func:`calibrate`), or too few residuals for
        a level.
    """
    chosen = check_levels(levels)
    calibration = getattr(model, "interval_calibration_", None)
    if calibration is None:
        name = type(model).__name__
        raise ConfigError(
            f"this {name} has no out-of-sample residuals to calibrate intervals; run "
            f"result = forecast.backtest({name.lower()}, data, intervals=(0.8, 0.95)) and "
            "forecast.intervals.calibrate(model, result) first (its own training residuals "
            "would make the intervals too narrow)."
        )
    horizon = int(model.horizon)
    half = calibration.half_widths(horizon, chosen)  # [H, n_levels]
    if np.isnan(half).any():
        raise ConfigError(
            f"the calibration holds too few residuals for level(s) {list(chosen)}; "
            "backtest on a longer test region."
        )
    target = predictions.columns[0]
    out = predictions.copy()
    steps = np.tile(np.arange(horizon), len(out) // horizon)  # rows are H per series
    for k, level in enumerate(chosen):
        out[lower_column(level)] = out[target].to_numpy() * np.exp(-half[steps, k])
        out[upper_column(level)] = out[target].to_numpy() * np.exp(half[steps, k])
    return out
