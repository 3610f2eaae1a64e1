"""Baselines: hand-computed values, fallbacks, no look-ahead, and RidgeLags persistence."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.errors import ConfigError, DataError, NotFittedError
from forecast.models import (
    RidgeLags,
    drift,
    mean,
    naive,
    seasonal_naive,
)

# rows 0..6 of one price series, K = 1
SERIES = np.array([10.0, 11.0, 13.0, 12.0, 14.0, 15.0, 17.0])[:, None]


def test_naive_repeats_the_last_price():
    forecast = naive(SERIES, [3, 6], 2)
    assert forecast.shape == (2, 2, 1)
    np.testing.assert_array_equal(forecast[..., 0], [[12.0, 12.0], [17.0, 17.0]])


def test_seasonal_naive_repeats_the_last_season():
    # o = 4, season 3: h = 1, 2, 3, 4 read rows 2, 3, 4, 2
    forecast = seasonal_naive(SERIES, [4], 4, season=3)
    np.testing.assert_array_equal(forecast[0, :, 0], [13.0, 12.0, 14.0, 13.0])
    # o = 1 has less than a season of history: naive
    np.testing.assert_array_equal(seasonal_naive(SERIES, [1], 2, season=3)[0, :, 0], [11, 11])
    # season 1 is naive
    np.testing.assert_array_equal(seasonal_naive(SERIES, [5], 3, season=1), naive(SERIES, [5], 3))


def test_drift_extends_the_line_from_the_first_price():
    # o = 4: slope (14 - 10) / 4 = 1
    np.testing.assert_allclose(drift(SERIES, [4], 3)[0, :, 0], [15.0, 16.0, 17.0])
    np.testing.assert_array_equal(drift(SERIES, [0], 2)[0, :, 0], [10.0, 10.0])  # no slope yet


def test_mean_is_the_expanding_mean():
    np.testing.assert_allclose(mean(SERIES, [2, 3], 2)[..., 0], [[34 / 3, 34 / 3], [11.5, 11.5]])


def test_several_targets_and_a_1d_series():
    two = np.hstack([SERIES, 2 * SERIES])  # [L, 2]
    assert drift(two, [4, 5], 3).shape == (2, 3, 2)
    np.testing.assert_allclose(drift(two, [4], 3)[..., 1], 2 * drift(SERIES, [4], 3)[..., 0])
    np.testing.assert_array_equal(naive(SERIES[:, 0], [3], 1), naive(SERIES, [3], 1))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: naive(SERIES, [7], 1), DataError, "origin_rows must lie in 0..6"),
        (lambda: naive(SERIES, [1.5], 1), DataError, "integer rows"),
        (lambda: naive(SERIES, [1], 0), ConfigError, "horizon must be an integer >= 1"),
        (lambda: seasonal_naive(SERIES, [1], 1, season=0), ConfigError, "season must be"),
        (lambda: naive(np.ones((2, 2, 2)), [0], 1), DataError, "shaped \\[L, K\\]"),
    ],
)
def test_bad_arguments_are_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ------------------------------------------------------------------------------ ridge
def _random_walk(n_rows: int, n_targets: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    returns = 0.001 + 0.01 * rng.standard_normal((n_rows, n_targets))
    return 100.0 * np.exp(np.cumsum(returns, axis=0))  # [L, K]


def test_ridge_learns_a_steady_trend():
    prices = 100.0 * np.exp(0.01 * np.arange(120))[:, None]  # +1% log return every row
    model = RidgeLags(lags=3, horizon=2, alpha=1e-6).fit(prices[:80])
    forecast = model.forecast(prices, [90, 100], 2)
    np.testing.assert_allclose(forecast[..., 0], prices[[91, 92, 101, 102], 0].reshape(2, 2))


def test_ridge_falls_back_to_naive_without_enough_lags():
    model = RidgeLags(lags=5, horizon=2).fit(_random_walk(60))
    series = _random_walk(60, seed=1)
    forecast = model.forecast(series, [2, 4, 5], 2)
    np.testing.assert_array_equal(forecast[:2], naive(series, [2, 4], 2))
    assert not np.array_equal(forecast[2], naive(series, [5], 2)[0])


def test_ridge_round_trips_through_json():
    model = RidgeLags(lags=4, horizon=3, alpha=0.5).fit(_random_walk(80, n_targets=2))
    loaded = RidgeLags.from_dict(json.loads(json.dumps(model.to_dict())))
    series = _random_walk(100, n_targets=2, seed=2)
    origins = np.arange(0, 100, 7)
    np.testing.assert_array_equal(
        loaded.forecast(series, origins, 3), model.forecast(series, origins, 3)
    )
    np.testing.assert_array_equal(
        loaded.forecast(series, origins, 2), model.forecast(series, origins, 2)
    )
    assert repr(loaded) == "RidgeLags(lags=4, horizon=3, alpha=0.5)"


def test_ridge_fits_a_panel_without_crossing_series():
    one, two = _random_walk(50, seed=3), 1e6 * _random_walk(40, seed=4)
    panel = RidgeLags(lags=3, horizon=2).fit([one, two])
    # a jump between the two series would be a huge fake return; the fit must not see it
    assert np.abs(panel.intercept_).max() < 0.05


def test_ridge_refusals():
    with pytest.raises(NotFittedError, match="call fit"):
        RidgeLags().forecast(SERIES, [3], 1)
    with pytest.raises(DataError, match="longer than lags \\+ horizon = 15"):
        RidgeLags().fit(SERIES)
    with pytest.raises(DataError, match="finite prices > 0"):
        RidgeLags(lags=1, horizon=1).fit(-SERIES)
    model = RidgeLags(lags=2, horizon=2).fit(SERIES)
    with pytest.raises(ConfigError, match="longer than the fitted horizon=2"):
        model.forecast(SERIES, [3], 3)
    with pytest.raises(DataError, match="fitted on 1"):
        model.forecast(np.hstack([SERIES, SERIES]), [3], 1)


# ------------------------------------------------------------------------------ contract
def test_ridge_fit_leaves_its_hyperparameters_as_constructed():
    # scikit-learn's contract: fit reads the parameters and never rewrites them, so a clone
    # or a refit fits the same model. fit used to accept lags/horizon/alpha and store them.
    model = RidgeLags(lags=3, horizon=2, alpha=0.5)
    before = (model.lags, model.horizon, model.alpha)
    model.fit(_random_walk(60))
    assert (model.lags, model.horizon, model.alpha) == before
    with pytest.raises(TypeError):
        model.fit(_random_walk(60), lags=5)


# ------------------------------------------------------------------------------ no look-ahead
FITTED_RIDGE = RidgeLags(lags=3, horizon=4).fit(_random_walk(60, n_targets=2))
FORECASTERS = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "mean": mean,
    "ridge": FITTED_RIDGE.forecast,
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    series=arrays(np.float64, (30, 2), elements=st.floats(1.0, 1000.0)),
    origin=st.integers(0, 29),
    noise=arrays(np.float64, (30, 2), elements=st.floats(-0.9, 10.0)),
    name=st.sampled_from(sorted(FORECASTERS)),
)
def test_a_forecast_never_reads_rows_after_its_origin(series, origin, noise, name):
    changed = series.copy()
    changed[origin + 1 :] *= 1.0 + noise[origin + 1 :]  # still positive prices
    forecaster = FORECASTERS[name]
    before = forecaster(series, [origin], 4)
    after = forecaster(changed, [origin], 4)
    np.testing.assert_array_equal(before, after)
