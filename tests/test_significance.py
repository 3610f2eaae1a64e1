"""Tests for forecast/significance.py: the overlap rule, the variance floor, pooled tests."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecast.errors import ConfigError, DataError
from forecast.significance import (
    DMResult,
    dm_test,
    overlap_lags,
    overlap_lags_from_dates,
    pooled_dm_test,
)


def binomial_band(rate: float, trials: int, z: float = 2.576) -> tuple[float, float]:
    """The 99% band of an observed rejection share when the true rate is ``rate``."""
    half = z * math.sqrt(rate * (1 - rate) / trials)
    return rate - half, rate + half


# ---------------------------------------------------------------- the overlap rule


@pytest.mark.parametrize(("horizon", "step", "lags"), [
    (1, 1, 0), (5, 1, 4), (5, 2, 2), (5, 4, 1), (5, 5, 0), (5, 6, 0), (20, 5, 3), (3, 10, 0),
])
def test_overlap_lags_closed_form(horizon, step, lags):
    assert overlap_lags(horizon, step) == lags


def test_overlap_lags_refuses_bad_values():
    with pytest.raises(ConfigError, match="horizon must be an integer >= 1"):
        overlap_lags(0, 1)
    with pytest.raises(ConfigError, match="step must be an integer >= 1"):
        overlap_lags(5, 1.5)


@settings(max_examples=80, deadline=None)
@given(horizon=st.integers(1, 30), step=st.integers(1, 30), n=st.integers(1, 40))
def test_dates_give_the_closed_form_on_a_regular_grid(horizon, step, n):
    # origin i at bar i·step; its step-`horizon` forecast ends at bar i·step + horizon
    calendar = pd.bdate_range("2020-01-01", periods=n * step + horizon + 1)
    bars = np.arange(n) * step
    lags = overlap_lags_from_dates(calendar[bars], calendar[bars + horizon])
    assert lags == (min(overlap_lags(horizon, step), n - 1))


def test_dates_see_holes_and_unsorted_input():
    days = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-10", "2024-01-11"])
    ends = pd.to_datetime(["2024-01-03", "2024-01-03", "2024-01-12", "2024-01-12"])
    assert overlap_lags_from_dates(days, ends) == 1  # only the 01-02 origin is inside a span
    assert overlap_lags_from_dates(days[::-1], ends[::-1]) == 1
    # an origin exactly on the last forecast date shares no shock with it
    assert overlap_lags_from_dates(days[:2], pd.to_datetime(["2024-01-02", "2024-01-03"])) == 0
    with pytest.raises(DataError, match="one date each"):
        overlap_lags_from_dates(days, ends[:2])


# ---------------------------------------------------------------- the statistic


def test_no_lags_is_the_one_sample_t_test():
    d = np.random.default_rng(4).normal(0.1, 1.0, 30)
    expected = stats.ttest_1samp(d, 0.0)
    result = dm_test(d)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert (result.n, result.lags, result.n_independent, result.h) == (30, 0, 30, 1)


def test_reference_distribution_counts_independent_points():
    d = np.random.default_rng(5).normal(0.0, 1.0, 23)
    result = dm_test(d, lags=4, alternative="greater")
    assert result.n_independent == 5  # ceil(23 / 5)
    assert result.p_value == pytest.approx(float(stats.t.sf(result.statistic, 4)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(6, 60), lags=st.integers(0, 4),
       kernel=st.sampled_from(["rectangular", "bartlett"]))
def test_the_statistic_is_never_larger_than_with_independent_points(seed, n, lags, kernel):
    # V >= γ0: whatever the sample autocovariances, |DM*| <= |d̄| / sqrt(γ0 / n) · HLN factor
    d = np.random.default_rng(seed).standard_t(3, n)
    h = lags + 1
    bound = (abs(d.mean()) / math.sqrt(np.var(d) / n)
             * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n))
    assert abs(dm_test(d, lags=lags, kernel=kernel).statistic) <= bound * (1 + 1e-12)


def test_bartlett_weights_by_hand():
    # d = [-3, -1, 0, 0]: γ0 = 1.5, γ1 = 0.25; Bartlett L=1 weight 1/2: V = 1.5 + 0.25 = 1.75
    d = np.array([-3.0, -1.0, 0.0, 0.0])
    statistic = -1 / math.sqrt(1.75 / 4) * math.sqrt(0.375)
    assert dm_test(d, lags=1, kernel="bartlett").statistic == pytest.approx(statistic)


def test_rules_for_degenerate_input():
    assert dm_test(np.zeros(5), lags=1) == DMResult(0.0, 1.0, 5, 1)
    assert dm_test(np.full(4, 2.0)).statistic == math.inf
    assert dm_test(np.full(4, 2.0)).p_value == 0.0
    short = dm_test([1.0, 2.0, 3.0], lags=2)  # one independent point: nothing to test
    assert math.isnan(short.statistic) and math.isnan(short.p_value)
    with pytest.raises(DataError, match="empty"):
        dm_test([])
    with pytest.raises(DataError, match="finite"):
        dm_test([1.0, math.nan])
    with pytest.raises(ConfigError, match="lags must be an integer >= 0"):
        dm_test([1.0, 2.0], lags=-1)
    with pytest.raises(ConfigError, match="kernel must be one of"):
        dm_test([1.0, 2.0], kernel="parzen")
    with pytest.raises(ConfigError, match="alternative must be one of"):
        dm_test([1.0, 2.0], alternative="better")


# ---------------------------------------------------------------- size under the null


def overlapping_null(n_origins: int, step: int, horizon: int, rng: np.random.Generator,
                     shocks: str) -> np.ndarray:
    """Step-``horizon`` loss differentials of two forecasts with equal expected loss.

    Forecasts ``f* ± b`` around the optimum of a random walk with drift b per bar: the
    differential ``-4·b·horizon·u`` (u = the step-``horizon`` innovation) has mean 0 and the
    overlap of real forecast errors (shared shocks between origins closer than the horizon).
    """
    bars = n_origins * step + horizon + 1
    if shocks == "normal":
        z = rng.standard_normal(bars)
    elif shocks == "t3":
        z = rng.standard_t(3, bars)
    else:  # GARCH(1,1)-style volatility clustering
        z, var = np.empty(bars), 1.0
        for t, e in enumerate(rng.standard_normal(bars)):
            z[t] = math.sqrt(var) * e
            var = 0.05 + 0.10 * z[t] ** 2 + 0.85 * var
    path = np.concatenate([[0.0], np.cumsum(z)])
    origins = np.arange(n_origins) * step
    return -4 * 0.01 * horizon * (path[origins + horizon] - path[origins])


@pytest.mark.parametrize("shocks", ["normal", "t3", "garch"])
@pytest.mark.parametrize(("n_origins", "step"), [(246, 1), (46, 1), (123, 2), (50, 5)])
def test_size_is_inside_the_binomial_band_with_overlap(n_origins, step, shocks):
    # 600 simulated series per case, fixed seed: the share of p < 0.05 must lie in the 99%
    # binomial band around 5% (±2.3 points). The old estimator (n-1 df, rectangular without
    # floor) rejected 9% at 46 origins and step 1; Bartlett with these lags 8-11%.
    rng = np.random.default_rng(1000 * n_origins + step)
    lags = overlap_lags(5, step)
    rejected = [dm_test(overlapping_null(n_origins, step, 5, rng, shocks), lags=lags).p_value
                < 0.05 for _ in range(600)]
    low, high = binomial_band(0.05, 600)
    assert low <= np.mean(rejected) <= high


# ---------------------------------------------------------------- pooled over tickers


def test_pooled_test_is_the_test_of_cross_sectional_means():
    rng = np.random.default_rng(6)
    matrix = rng.normal(0.0, 1.0, (40, 3))
    matrix[5, 1] = math.nan  # a ticker without a forecast that day
    matrix[7, :] = math.nan  # a day without any forecast
    means = np.nanmean(np.delete(matrix, 7, axis=0), axis=1)
    pooled = pooled_dm_test(pd.DataFrame(matrix), lags=1)
    assert pooled == dm_test(means, lags=1)
    assert pooled.n == 39


def test_pooled_test_keeps_common_shocks_in_the_variance():
    # 50 tickers hit by the same daily shock: counting 2,500 points as independent would
    # make p tiny; averaging per day first leaves 50 points and a calibrated p.
    rng = np.random.default_rng(8)
    common = rng.normal(0.0, 1.0, (50, 1))
    matrix = common + rng.normal(0.0, 0.1, (50, 50))
    pooled = pooled_dm_test(matrix)
    assert pooled.n == 50
    assert pooled.p_value == pytest.approx(dm_test(matrix.mean(axis=1)).p_value)


@pytest.mark.parametrize("step", [5, 1])
def test_pooled_test_has_the_nominal_size_with_a_market_factor(step):
    # 20 tickers whose price moves share a market shock (half their variance), forecast by
    # the drift mirror (equal expected loss to naive, module docstring of calibration_nulls):
    # the pooled test's rejection share over 600 universes must sit in the 99% band.
    rng = np.random.default_rng(77 + step)
    n_origins, tickers, horizon = (50 if step == 5 else 246), 20, 5
    lags = overlap_lags(horizon, step)
    rejected = []
    for _ in range(600):
        bars = n_origins * step + horizon + 1
        shocks = (rng.standard_normal((bars, 1)) + rng.standard_normal((bars, tickers))) / 2**0.5
        paths = np.vstack([np.zeros((1, tickers)), np.cumsum(shocks, axis=0)])
        origins = np.arange(n_origins) * step
        u = paths[origins + horizon] - paths[origins]  # [origins, tickers]
        rejected.append(pooled_dm_test(-4 * 0.05 * horizon * u, lags=lags).p_value < 0.05)
    low, high = binomial_band(0.05, 600)
    assert low <= np.mean(rejected) <= high


def test_pooled_test_refuses_bad_input():
    with pytest.raises(DataError, match="2-D"):
        pooled_dm_test(np.zeros(5))
    with pytest.raises(DataError, match="no value"):
        pooled_dm_test(np.full((3, 2), math.nan))
    with pytest.raises(DataError, match="found inf"):
        pooled_dm_test(np.array([[1.0, math.inf], [0.0, 1.0]]))
