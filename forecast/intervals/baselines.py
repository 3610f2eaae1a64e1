"""Interval baselines: the naive forecast with a spread read from past returns only.

Both centre on the last price (the random walk) and use nothing after the origin:

``empirical_quantile``
    The ``(1-L)/2`` and ``(1+L)/2`` empirical quantiles of the past ``window`` h-step log
    returns ``log(p_t / p_{t-h})``, ``t <= origin``: ``p_o · exp(q)``. Drift and skew in the
    window carry over; volatility changes reach it only as the window rolls.
``ewma_vol``
    RiskMetrics: daily log returns ``r_t``, variance ``σ²_o = Σ_k (1-λ) λ^k r²_{o-k}``
    normalised by ``1 - λ^n`` (so the first origins are not biased towards zero), λ = 0.94,
    zero mean; the h-step return is taken as normal with variance ``h σ²_o``:
    ``p_o · exp(± z_{(1+L)/2} σ_o √h)``. Follows volatility clusters within days.

Each needs ``min_returns`` past returns at the origin; before that its bounds are NaN.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from scipy import stats

from forecast.errors import ConfigError
from forecast.intervals.levels import check_levels, quantiles_of

__all__ = [
    "EWMA_LAMBDA",
    "INTERVAL_BASELINES",
    "baseline_bounds",
    "empirical_quantile_bounds",
    "ewma_vol_bounds",
]

EWMA_LAMBDA = 0.94  # RiskMetrics' decay for daily data
QUANTILE_WINDOW = 250  # a trading year of h-step returns
MIN_RETURNS = 20
IntervalBaseline = Literal["empirical_quantile", "ewma_vol"]
INTERVAL_BASELINES: tuple[str, ...] = ("empirical_quantile", "ewma_vol")


def _inputs(prices: np.ndarray, origin_rows: np.ndarray, horizon: int) -> tuple[np.ndarray, ...]:
    prices = np.asarray(prices, dtype=float)
    rows = np.asarray(origin_rows, dtype=int)
    if not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ConfigError(f"horizon must be an integer >= 1, got {horizon!r}.")
    if rows.size and (rows.min() < 0 or rows.max() >= prices.size):
        raise ConfigError(f"origin rows must lie in 0..{prices.size - 1}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.where(prices > 0, prices, np.nan))
    return prices, rows, logs


def empirical_quantile_bounds(
    prices: np.ndarray,
    origin_rows: np.ndarray,
    horizon: int,
    levels: float | Iterable[float],
    *,
    window: int = QUANTILE_WINDOW,
    min_returns: int = MIN_RETURNS,
) -> tuple[np.ndarray, np.ndarray]:
    """Naive forecast ± empirical quantiles of past h-step log returns.

    Parameters
    ----------
    prices
        ``[L]`` one series in time order (price units, > 0).
    origin_rows
        ``[N]`` positions of the origins.
    horizon
        H steps.
    levels
        Nominal coverages.

    Returns
    -------
    (lower, upper)
        Each ``[N, H, n_levels]`` in price units; NaN where fewer than ``min_returns`` past
        h-step returns exist at the origin.
    """
    chosen = check_levels(levels)
    prices, rows, logs = _inputs(prices, origin_rows, horizon)
    lower = np.full((rows.size, horizon, len(chosen)), np.nan)
    upper = np.full_like(lower, np.nan)
    probabilities = np.array([q for level in chosen for q in quantiles_of(level)])
    for h in range(1, horizon + 1):
        changes = logs[h:] - logs[:-h]  # changes[t - h] = log(p_t / p_{t-h})
        for n, row in enumerate(rows):
            past = changes[max(0, row - h + 1 - window) : max(0, row - h + 1)]
            past = past[np.isfinite(past)]
            if past.size < min_returns:
                continue
            q = np.quantile(past, probabilities).reshape(len(chosen), 2)
            lower[n, h - 1] = prices[row] * np.exp(q[:, 0])
            upper[n, h - 1] = prices[row] * np.exp(q[:, 1])
    return lower, upper


def ewma_vol_bounds(
    prices: np.ndarray,
    origin_rows: np.ndarray,
    horizon: int,
    levels: float | Iterable[float],
    *,
    lam: float = EWMA_LAMBDA,
    min_returns: int = MIN_RETURNS,
) -> tuple[np.ndarray, np.ndarray]:
    """Naive forecast ± normal quantile × RiskMetrics EWMA volatility × √h.

    Shapes and units as :func:`empirical_quantile_bounds`.
    """
    chosen = check_levels(levels)
    if not 0 < lam < 1:
        raise ConfigError(f"lam must be a decay in (0, 1), e.g. 0.94; got {lam!r}.")
    prices, rows, logs = _inputs(prices, origin_rows, horizon)
    returns = np.diff(logs)  # returns[t - 1] = log(p_t / p_{t-1})
    squared = np.where(np.isfinite(returns), returns**2, 0.0)
    weight_in = np.isfinite(returns).astype(float)
    # Causal recursions: numerator and total weight of the normalised EWMA at every bar.
    numerator = np.zeros(returns.size)
    weights = np.zeros(returns.size)
    count = np.cumsum(weight_in)
    running_num = running_weight = 0.0
    for t in range(returns.size):
        running_num = lam * running_num + (1 - lam) * squared[t]
        running_weight = lam * running_weight + (1 - lam) * weight_in[t]
        numerator[t], weights[t] = running_num, running_weight
    z = stats.norm.ppf([quantiles_of(level)[1] for level in chosen])  # [n_levels]
    steps = np.sqrt(np.arange(1, horizon + 1))  # [H]
    lower = np.full((rows.size, horizon, len(chosen)), np.nan)
    upper = np.full_like(lower, np.nan)
    for n, row in enumerate(rows):
        if row < 1 or count[row - 1] < min_returns:
            continue
        sigma = np.sqrt(numerator[row - 1] / weights[row - 1])
        spread = sigma * steps[:, None] * z[None, :]  # [H, n_levels]
        lower[n] = prices[row] * np.exp(-spread)
        upper[n] = prices[row] * np.exp(spread)
    return lower, upper


def baseline_bounds(
    method: str,
    prices: np.ndarray,
    origin_rows: np.ndarray,
    horizon: int,
    levels: float | Iterable[float],
) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the interval baseline named ``method`` (one of :data:`INTERVAL_BASELINES`)."""
    if method == "empirical_quantile":
        return empirical_quantile_bounds(prices, origin_rows, horizon, levels)
    if method == "ewma_vol":
        return ewma_vol_bounds(prices, origin_rows, horizon, levels)
    raise ConfigError(
        f"interval baseline {method!r} is not known; choose one of {list(INTERVAL_BASELINES)}."
    )
