"""Interval scores against hand-computed values, and the coverage tests calibrated under
their nulls by simulation (fixed seeds, tolerances from the binomial standard error)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecast.errors import ConfigError, DataError
from forecast.intervals.scores import (
    christoffersen,
    coverage,
    crps_from_quantiles,
    interval_score,
    kupiec,
    mean_width,
    pinball,
    width_percent,
)
from forecast.intervals.tables import interval_dm

ALPHA = 0.05


def binomial_se(p: float, reps: int) -> float:
    return math.sqrt(p * (1 - p) / reps)


# -- plain scores --------------------------------------------------------------------------------


def test_interval_score_is_width_plus_two_over_alpha_times_the_miss() -> None:
    # level 0.8: alpha 0.2, penalty 2 / 0.2 = 10 per unit outside.
    actual = np.array([105.0, 95.0, 112.0])
    lower, upper = np.full(3, 100.0), np.full(3, 110.0)
    np.testing.assert_allclose(interval_score(actual, lower, upper, 0.8), [10.0, 60.0, 30.0])


def test_coverage_and_widths_by_hand() -> None:
    actual = np.array([1.0, 2.0, 3.0, 10.0])
    lower, upper = np.array([0.0, 2.0, 3.5, 9.0]), np.array([2.0, 4.0, 4.0, 10.0])
    assert coverage(actual, lower, upper) == 0.75  # bounds count as inside
    assert mean_width(lower, upper) == pytest.approx((2 + 2 + 0.5 + 1) / 4)
    assert width_percent(lower, upper, np.full(4, 50.0)) == pytest.approx(100 * 5.5 / 4 / 50)


def test_pinball_loss_by_hand_with_its_sign() -> None:
    # Under-forecasting the 0.9 quantile costs tau per unit; over-forecasting 1 - tau.
    assert pinball(np.array([10.0]), np.array([8.0]), 0.9) == pytest.approx(0.9 * 2)
    assert pinball(np.array([10.0]), np.array([12.0]), 0.9) == pytest.approx(0.1 * 2)
    assert pinball(np.array([10.0, 10.0]), np.array([8.0, 12.0]), 0.1) == pytest.approx(
        (0.1 * 2 + 0.9 * 2) / 2
    )


def test_crps_from_a_point_mass_is_the_absolute_error() -> None:
    taus = np.array([0.1, 0.5, 0.9])  # symmetric cells: the midpoint rule integrates tau exactly
    grid = np.full((2, 3), 100.0)
    assert crps_from_quantiles(np.array([103.0, 98.0]), grid, taus) == pytest.approx(2.5)


def test_crps_from_many_quantiles_matches_the_normal_closed_form() -> None:
    rng = np.random.default_rng(1)
    mu, sigma = 100.0, 2.0
    actual = mu + sigma * rng.standard_normal(200)
    taus = (np.arange(1, 400) - 0.5) / 399
    grid = np.tile(stats.norm.ppf(taus, mu, sigma), (actual.size, 1))
    z = (actual - mu) / sigma
    exact = sigma * (
        z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi)
    )
    assert crps_from_quantiles(actual, grid, taus) == pytest.approx(exact.mean(), rel=0.01)


def test_scores_refuse_bad_input_in_one_sentence() -> None:
    with pytest.raises(DataError, match="one length"):
        coverage(np.ones(3), np.ones(2), np.ones(3))
    with pytest.raises(DataError, match="finite"):
        mean_width(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(ConfigError, match="level must be a coverage in"):
        interval_score(np.ones(1), np.ones(1), np.ones(1), 90)
    with pytest.raises(ConfigError, match="strictly increasing"):
        crps_from_quantiles(np.ones(2), np.ones((2, 2)), np.array([0.9, 0.1]))


# -- Kupiec ----------------------------------------------------------------------------------------


def test_kupiec_statistic_by_hand() -> None:
    misses = np.r_[np.ones(20), np.zeros(80)].astype(bool)
    expected = -2 * (
        20 * math.log(0.1) + 80 * math.log(0.9) - 20 * math.log(0.2) - 80 * math.log(0.8)
    )
    test = kupiec(misses, 0.9)
    assert test.statistic == pytest.approx(expected)
    assert (test.misses, test.n) == (20, 100)
    assert test.p_value < 0.01  # twice the nominal miss rate in 100 intervals
    assert kupiec(np.r_[np.ones(10), np.zeros(90)], 0.9).p_value == pytest.approx(1.0)


@pytest.mark.parametrize(("n", "miss_rate"), [(60, 0.1), (250, 0.05), (250, 0.1), (250, 0.2)])
def test_kupiec_exact_size_never_exceeds_the_level(n: int, miss_rate: float) -> None:
    # The exact size: the binomial probability of the miss counts the test rejects.
    rejected = [
        x for x in range(n + 1) if kupiec(np.arange(n) < x, 1 - miss_rate).p_value < ALPHA
    ]
    size = stats.binom.pmf(rejected, n, miss_rate).sum()
    assert 0.025 < size <= ALPHA


def test_kupiec_rejection_rate_on_iid_bernoulli_misses_is_the_level() -> None:
    rng = np.random.default_rng(2026)
    reps, n, miss_rate = 2000, 250, 0.1
    rate = np.mean([kupiec(rng.random(n) < miss_rate, 0.9).p_value < ALPHA for _ in range(reps)])
    # Exact test: at most the level (plus simulation noise), and not far below it.
    assert rate <= ALPHA + 3 * binomial_se(ALPHA, reps)
    assert rate >= 0.035 - 3 * binomial_se(0.035, reps)
    power = np.mean([kupiec(rng.random(n) < 0.2, 0.9).p_value < ALPHA for _ in range(200)])
    assert power > 0.95  # twice the miss rate is caught


# -- Christoffersen --------------------------------------------------------------------------------


def test_christoffersen_statistic_by_hand() -> None:
    sequence = np.array([0, 1, 1, 0, 0, 0, 1, 0], dtype=bool)
    # transitions: n00 = 2, n01 = 2, n10 = 2, n11 = 1
    pooled, p01, p11 = 3 / 7, 2 / 4, 1 / 3
    restricted = 4 * math.log(1 - pooled) + 3 * math.log(pooled)
    free = 2 * math.log(1 - p01) + 2 * math.log(p01) + 2 * math.log(1 - p11) + math.log(p11)
    assert christoffersen(sequence).statistic == pytest.approx(-2 * (restricted - free))
    assert christoffersen(np.zeros(50, dtype=bool)).p_value == 1.0


def test_christoffersen_is_deterministic_and_leaves_global_random_state_alone() -> None:
    rng = np.random.default_rng(5)
    misses = rng.random(200) < 0.1
    state = np.random.get_state()[1].copy()
    assert christoffersen(misses).p_value == christoffersen(misses).p_value
    assert np.array_equal(np.random.get_state()[1], state)


def test_christoffersen_rejection_rate_on_iid_misses_is_at_most_the_level() -> None:
    rng = np.random.default_rng(7)
    reps, n = 800, 250
    rate = np.mean(
        [christoffersen(rng.random(n) < 0.1, permutations=199).p_value < ALPHA for _ in range(reps)]
    )
    assert rate <= ALPHA + 3 * binomial_se(ALPHA, reps)


def test_christoffersen_catches_clustered_misses() -> None:
    rng = np.random.default_rng(8)

    def clustered(n: int) -> np.ndarray:  # a miss makes the next one ten times likelier
        out = np.zeros(n, dtype=bool)
        for t in range(1, n):
            out[t] = rng.random() < (0.5 if out[t - 1] else 0.05)
        return out

    power = np.mean([christoffersen(clustered(250), permutations=199).p_value < ALPHA
                     for _ in range(100)])
    assert power > 0.8


# -- DM on interval scores -------------------------------------------------------------------------


def _two_interval_models(rng: np.random.Generator, n_origins: int, horizon: int) -> pd.DataFrame:
    """Two interval forecasters of equal skill (independent width noise) on one random walk."""
    dates = pd.bdate_range("2020-01-01", periods=n_origins + horizon)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, dates.size)))
    origin = np.repeat(np.arange(n_origins), horizon)  # [n * H]
    step = np.tile(np.arange(1, horizon + 1), n_origins)
    blocks = []
    for model in ("model", "ewma_vol"):
        half = 1.28 * 0.01 * np.sqrt(step) * (1 + 0.3 * rng.random(origin.size))
        center = prices[origin]
        blocks.append(pd.DataFrame({
            "model": model, "origin": dates[origin], "target_date": dates[origin + step],
            "step": step, "actual": prices[origin + step], "predicted": center,
            "origin_price": center, "lower_80": center * np.exp(-half),
            "upper_80": center * np.exp(half),
        }))
    return pd.concat(blocks, ignore_index=True)


def test_interval_dm_rejection_rate_under_equal_skill_is_the_level() -> None:
    rng = np.random.default_rng(11)
    reps = 300
    rejections = [
        interval_dm(_two_interval_models(rng, 120, 2), "model", "ewma_vol", 0.8)[1] < ALPHA
        for _ in range(reps)
    ]
    rate = float(np.mean(rejections))
    assert abs(rate - ALPHA) <= 3 * binomial_se(ALPHA, reps)
