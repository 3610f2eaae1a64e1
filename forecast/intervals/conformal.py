"""Conformal prediction intervals over any model's forecasts, inside the walk-forward.

The interval of a forecast made at origin ``o`` for step ``h`` is calibrated on the SAME
model's out-of-sample residuals at step ``h`` from earlier origins of the walk-forward, and
only those whose target date is at or before ``o`` (an origin's h-step residual is known only
once its target bar has been observed). Residuals of the rows a model was fitted on never
enter: every residual here is a forecast error on a bar the model had not seen when it made
that forecast. This mirrors the scaler rule: calibration, like scaling, sees only the past.

Residual scale: the score is the absolute LOG ratio ``|log(actual / predicted)|``, and the
interval is ``predicted · exp(±q)``. Over a backtest of hundreds of bars a price can double;
errors in price units calibrated while the price was 50 are half as large as they should be at
100, whereas errors as log returns are roughly stationary (daily volatility is a percentage),
so a log-scale quantile transfers across price levels and the interval scales with the price.
It also keeps the lower bound positive. The interval is symmetric on the log scale around the
point forecast (which is therefore its median).

Static (split) conformal, per (model[, ticker], step): with ``n`` calibration scores (the
``window`` most recent known ones), the half-width for level ``L`` is the
``ceil((n + 1) · L)``-th smallest score (the finite-sample rank that gives coverage >= L under
exchangeability). A level needs ``n >= max(min_calibration, ceil(L / (1 - L)))`` scores;
before that its bounds are NaN (the warm-up at the start of the test region).

Adaptive conformal inference (Gibbs & Candès, 2021), ``adaptive=True``: the working miss rate
``α_i`` of the next interval is ``α + γ · Σ_j (α - err_j)`` over the intervals ``j`` already
issued whose outcome is known at origin ``i`` (``err_j = 1`` when the actual fell outside), and
the half-width is the score quantile at ``1 - α_i`` (``α_i >= 1`` gives a zero-width
interval). Gibbs & Candès show that the long-run miss rate is then within
``(max(α, 1 - α) + γ) / (γ T)`` of ``α`` on any sequence, exchangeable or not, when
``α_i <= 0`` issues an unbounded interval. Here such an interval is clipped to the largest
calibration score instead (an infinite width would make every width and score infinite), so
the bound holds up to the misses of those clipped intervals; outcomes arrive ``h`` bars late
for step ``h``, which the update respects (only outcomes known at the origin enter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError
from forecast.forecasts_frame import check_forecasts
from forecast.intervals.levels import check_levels, lower_column, upper_column

__all__ = [
    "DEFAULT_GAMMA",
    "DEFAULT_MIN_CALIBRATION",
    "DEFAULT_WINDOW",
    "conformal_intervals",
    "conformal_quantile",
    "log_scores",
]

DEFAULT_WINDOW = 250  # about a trading year of residuals: recent enough to follow volatility
DEFAULT_MIN_CALIBRATION = 20  # 20 scores: the least that bounds a 95% interval (needs 19)
DEFAULT_GAMMA = 0.005  # Gibbs & Candès's step size for daily data


def log_scores(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Nonconformity scores ``|log(actual / predicted)|``; NaN where either is not positive."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.abs(np.log(actual / predicted))
    scores[~((actual > 0) & (predicted > 0))] = np.nan
    return scores


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) · level)``-th smallest of ``n`` scores (finite-sample conformal rank).

    ``level <= 0`` gives 0.0; a rank beyond ``n`` gives the largest score (callers that need
    the guarantee ask for enough scores; the adaptive update relies on this clip).
    """
    n = scores.size
    if n == 0:
        return math.nan
    if level <= 0:
        return 0.0
    rank = math.ceil((n + 1) * level)
    if rank > n:
        return float(scores.max())
    return float(np.partition(scores, rank - 1)[rank - 1])


def _least_scores(level: float, min_calibration: int) -> int:
    """Scores a static ``level`` interval needs to be bounded (``ceil((n+1)L) <= n``)."""
    return max(min_calibration, math.ceil(level / (1.0 - level) - 1e-9))


def conformal_intervals(
    forecasts: pd.DataFrame,
    levels: float | Iterable[float],
    *,
    window: int | None = DEFAULT_WINDOW,
    min_calibration: int = DEFAULT_MIN_CALIBRATION,
    adaptive: bool = False,
    gamma: float = DEFAULT_GAMMA,
) -> pd.DataFrame:
    """Conformal bounds for every row of a tidy forecasts frame, from earlier rows only.

    Parameters
    ----------
    forecasts
        The tidy forecasts frame (:mod:`forecast.forecasts_frame`), every model's own rows;
        prices in the data's units. Calibration uses rows of the same model, ticker and step.
    levels
        Nominal coverages, e.g. ``(0.8, 0.95)``.
    window
        Most recent known scores used (None: all known so far).
    min_calibration
        Fewest known scores before a row gets an interval (NaN bounds before that).
    adaptive, gamma
        Adaptive conformal inference with step size ``gamma`` (module docstring).

    Returns
    -------
    DataFrame
        Indexed like ``forecasts``: ``lower_<L>``/``upper_<L>`` per level (prices),
        ``n_calibration`` (scores used) and ``calibration_end`` (latest target date among
        them, NaT when none): never after the row's origin.

    Raises
    ------
    DataError
        A bad forecasts frame.
    ConfigError
        Bad levels, ``window``, ``min_calibration`` or ``gamma``.
    """
    chosen = check_levels(levels)
    if window is not None and (not isinstance(window, int) or window < 1):
        raise ConfigError(f"window must be None or an integer >= 1, got {window!r}.")
    if not isinstance(min_calibration, int) or min_calibration < 1:
        raise ConfigError(f"min_calibration must be an integer >= 1, got {min_calibration!r}.")
    if adaptive and not (isinstance(gamma, int | float) and 0 < gamma < 1):
        raise ConfigError(f"gamma must be a step size in (0, 1), e.g. 0.005; got {gamma!r}.")
    if not isinstance(forecasts, pd.DataFrame) or forecasts.index.has_duplicates:
        raise DataError("forecasts must be a DataFrame with a unique index (reset_index() it).")
    frame = check_forecasts(forecasts.rename_axis(None).assign(_row=forecasts.index))
    out = pd.DataFrame(index=forecasts.index)
    for level in chosen:
        out[lower_column(level)] = np.nan
        out[upper_column(level)] = np.nan
    out["n_calibration"] = 0
    out["calibration_end"] = pd.NaT
    keys = ["model", "step"] + (["ticker"] if "ticker" in frame.columns else [])
    for _, group in frame.groupby(keys, sort=False):
        _calibrate_group(group, chosen, out, window, min_calibration, adaptive, gamma)
    return out


def _calibrate_group(
    group: pd.DataFrame,
    levels: tuple[float, ...],
    out: pd.DataFrame,
    window: int | None,
    min_calibration: int,
    adaptive: bool,
    gamma: float,
) -> None:
    """Intervals for one (model, step[, ticker]) sequence, origin by origin, into ``out``."""
    group = group.sort_values("origin", kind="stable")
    origins = group["origin"].to_numpy()
    targets = group["target_date"].to_numpy()
    actual = group["actual"].to_numpy(dtype=float)
    predicted = group["predicted"].to_numpy(dtype=float)
    scores = log_scores(actual, predicted)
    # Rows in the order their outcomes become known; row i may use the prefix known at o_i.
    by_target = np.argsort(targets, kind="stable")
    known_through = np.searchsorted(targets[by_target], origins, side="right")
    n_levels = len(levels)
    lower = np.full((len(group), n_levels), np.nan)
    upper = np.full((len(group), n_levels), np.nan)
    used = np.zeros(len(group), dtype=int)
    last_target = np.full(len(group), np.datetime64("NaT"), dtype="datetime64[ns]")
    nominal_miss = np.array([1.0 - level for level in levels])
    feedback = np.zeros(n_levels)  # Σ (α - err) over issued intervals known so far
    issued = np.zeros((len(group), n_levels), dtype=bool)
    counted = 0  # rows of `by_target` whose outcome has entered `feedback`
    for i in range(len(group)):
        known = by_target[: known_through[i]]
        if adaptive:
            while counted < known_through[i]:
                j = by_target[counted]
                hit = (actual[j] >= lower[j]) & (actual[j] <= upper[j])
                feedback += np.where(issued[j], nominal_miss - (~hit), 0.0)
                counted += 1
        known = known[np.isfinite(scores[known])]
        if window is not None:
            known = known[-window:]
        used[i] = known.size
        if known.size:
            last_target[i] = targets[known].max()
        if not np.isfinite(predicted[i]) or predicted[i] <= 0:
            continue
        calibration = scores[known]
        for k, level in enumerate(levels):
            if known.size < _least_scores(level, min_calibration):
                continue
            working = 1.0 - (nominal_miss[k] + gamma * feedback[k]) if adaptive else level
            half_width = conformal_quantile(calibration, working)
            lower[i, k] = predicted[i] * math.exp(-half_width)
            upper[i, k] = predicted[i] * math.exp(half_width)
            issued[i, k] = True
    rows = group["_row"].to_numpy()
    for k, level in enumerate(levels):
        out.loc[rows, lower_column(level)] = lower[:, k]
        out.loc[rows, upper_column(level)] = upper[:, k]
    out.loc[rows, "n_calibration"] = used
    out.loc[rows, "calibration_end"] = last_target
