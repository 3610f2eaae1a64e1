"""Interval baselines against direct computations, their warm-up, and coverage on a random walk."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.errors import ConfigError
from forecast.intervals.baselines import (
    baseline_bounds,
    empirical_quantile_bounds,
    ewma_vol_bounds,
)


def prices_of(n: int, seed: int = 0, sigma: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))


def test_empirical_bounds_are_quantiles_of_the_past_window_of_h_step_returns() -> None:
    prices = prices_of(120)
    origin, horizon, window = 90, 3, 40
    lower, upper = empirical_quantile_bounds(prices, np.array([origin]), horizon, 0.8,
                                             window=window)
    for h in range(1, horizon + 1):
        ends = np.arange(origin - window + 1, origin + 1)  # the last `window` returns up to t
        returns = np.log(prices[ends] / prices[ends - h])
        low, high = np.quantile(returns, [0.1, 0.9])
        assert lower[0, h - 1, 0] == pytest.approx(prices[origin] * math.exp(low))
        assert upper[0, h - 1, 0] == pytest.approx(prices[origin] * math.exp(high))


def test_ewma_bounds_use_the_normalised_riskmetrics_variance() -> None:
    prices = prices_of(200, seed=1)
    origin = 150
    lower, upper = ewma_vol_bounds(prices, np.array([origin]), 2, (0.8, 0.95))
    returns = pd.Series(np.diff(np.log(prices[: origin + 1])))
    variance = (returns**2).ewm(alpha=1 - 0.94, adjust=True).mean().iloc[-1]
    for k, level in enumerate((0.8, 0.95)):
        z = stats.norm.ppf((1 + level) / 2)
        for h in (1, 2):
            spread = z * math.sqrt(variance * h)
            assert upper[0, h - 1, k] == pytest.approx(prices[origin] * math.exp(spread))
            assert lower[0, h - 1, k] == pytest.approx(prices[origin] * math.exp(-spread))


@pytest.mark.parametrize("method", ["empirical_quantile", "ewma_vol"])
def test_bounds_ignore_every_price_after_the_origin(method: str) -> None:
    prices = prices_of(150, seed=2)
    changed = prices.copy()
    changed[101:] *= np.exp(np.random.default_rng(3).normal(0, 0.2, 49))
    origins = np.arange(20, 101)
    first = baseline_bounds(method, prices, origins, 4, (0.8, 0.95))
    second = baseline_bounds(method, changed, origins, 4, (0.8, 0.95))
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("method", ["empirical_quantile", "ewma_vol"])
def test_bounds_wait_for_twenty_past_returns(method: str) -> None:
    prices = prices_of(60)
    lower, upper = baseline_bounds(method, prices, np.arange(60), 1, 0.9)
    assert np.isnan(lower[:20]).all() and np.isfinite(lower[21:]).all()
    assert (upper[21:] > prices[21:, None, None]).all()


@pytest.mark.parametrize("method", ["empirical_quantile", "ewma_vol"])
def test_baselines_cover_about_nominal_on_a_constant_volatility_walk(method: str) -> None:
    coverages = []
    for seed in range(20):
        prices = prices_of(400, seed=seed)
        origins = np.arange(260, 399)
        lower, upper = baseline_bounds(method, prices, origins, 1, 0.8)
        actual = prices[origins + 1]
        coverages.append(np.mean((actual >= lower[:, 0, 0]) & (actual <= upper[:, 0, 0])))
    n = 20 * 139
    # Estimated spreads add noise, so allow the binomial error plus two points.
    assert abs(np.mean(coverages) - 0.8) <= 3 * math.sqrt(0.16 / n) + 0.02


def test_an_unknown_baseline_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="empirical_quantile"):
        baseline_bounds("garch", prices_of(30), np.arange(3), 1, 0.9)
