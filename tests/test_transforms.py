"""Tests for forecast.data.transforms: exact inverses, train-only fitting, state, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import forecast as fc
from forecast.data.transforms import (
    REPRESENTATIONS,
    SCALERS,
    SeriesTransform,
    from_representation,
    to_representation,
)
from forecast.data.windows import target_windows
from forecast.errors import ConfigError, DataError, NotFittedError

FAST = settings(max_examples=40, deadline=None)
COMBINATIONS = [(r, s) for r in REPRESENTATIONS for s in SCALERS]


def _random_walk(seed: int, n_rows: int, n_columns: int, start: float = 100.0) -> np.ndarray:
    """``[L, C]`` strictly positive prices: geometric random walk with 2 % daily moves."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, 0.02, size=(n_rows, n_columns))
    return start * np.exp(np.cumsum(steps, axis=0))


def _future(values: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """``[N, H, C]`` rows ``origin+1 .. origin+H`` of ``values`` for each origin."""
    return np.stack([values[o + 1 : o + 1 + horizon] for o in origins])


# -- the plain representation pair -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["simple_return", "log_return"])
def test_returns_compound_back_to_prices_in_float64(kind: str) -> None:
    prices = _random_walk(0, 300, 3)
    returns = to_representation(prices, kind)
    assert np.isnan(returns[0]).all() and np.isfinite(returns[1:]).all()
    rebuilt = from_representation(returns[1:], prices[0], kind)  # [H=299, C]
    np.testing.assert_allclose(rebuilt, prices[1:], rtol=1e-12)


def test_levels_and_known_return_values() -> None:
    prices = np.array([[100.0], [110.0], [99.0]])
    np.testing.assert_array_equal(to_representation(prices, "levels"), prices)
    np.testing.assert_allclose(to_representation(prices, "simple_return")[1:, 0], [0.1, -0.1])
    np.testing.assert_allclose(
        to_representation(prices, "log_return")[1:, 0], np.log([1.1, 0.9])
    )


# -- SeriesTransform round trips -------------------------------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**16),
    n_rows=st.integers(12, 120),
    n_columns=st.integers(1, 4),
    start=st.floats(0.5, 5e3),
    combination=st.sampled_from(COMBINATIONS),
)
def test_inverse_of_transform_recovers_prices(
    seed: int, n_rows: int, n_columns: int, start: float, combination: tuple[str, str]
) -> None:
    representation, scaler = combination
    prices = _random_walk(seed, n_rows, n_columns, start)
    n_train = n_rows // 2
    transform = SeriesTransform(representation=representation, scaler=scaler)
    scaled = transform.fit(prices[:n_train]).transform(prices)
    assert scaled.dtype == np.float32 and scaled.shape == prices.shape
    horizon = 3
    origins = np.arange(1, n_rows - horizon)
    rebuilt = transform.inverse(_future(scaled, origins, horizon), prices[origins])
    assert rebuilt.dtype == np.float64
    np.testing.assert_allclose(rebuilt, _future(prices, origins, horizon), rtol=2e-6)


@pytest.mark.parametrize(("representation", "scaler"), COMBINATIONS)
def test_true_future_returns_rebuild_true_future_prices(representation: str, scaler: str) -> None:
    frame = fc.load("AAPL")
    prices = frame[["Open", "High", "Low", "Close"]].to_numpy()
    lookback, horizon = 20, 5
    transform = SeriesTransform(representation=representation, scaler=scaler)
    scaled = transform.fit(prices[:800]).transform(prices)
    # The Close targets of each window, as a model would be asked to forecast them.
    scaled_targets = target_windows(scaled[:, [3]], lookback, horizon, "n_to_m")  # [N, H, 1]
    true_targets = target_windows(prices[:, [3]], lookback, horizon, "n_to_m").double()
    n_windows = scaled_targets.shape[0]
    last_close = prices[lookback - 1 : lookback - 1 + n_windows, [3]]  # [N, 1] at origins
    rebuilt = transform.inverse(scaled_targets, last_close, columns=[3])
    np.testing.assert_allclose(rebuilt, true_targets.numpy(), rtol=1e-5)


def test_column_subset_matches_full_inverse() -> None:
    prices = _random_walk(3, 100, 4)
    transform = SeriesTransform(scaler="minmax").fit(prices[:60])
    scaled = transform.transform(prices)
    future = _future(scaled, np.arange(10, 90), 4)  # [N, H, 4]
    last = prices[10:90]
    full = transform.inverse(future, last)
    subset = transform.inverse(future[..., [3, 1]], last[:, [3, 1]], columns=[3, 1])
    np.testing.assert_array_equal(subset, full[..., [3, 1]])


def test_inverse_accepts_tensors() -> None:
    prices = _random_walk(4, 50, 1)
    transform = SeriesTransform(representation="simple_return").fit(prices[:30])
    scaled = transform.transform(prices)
    steps = torch.from_numpy(scaled[1:])[None]  # [1, S=49, 1]
    compounded = transform.inverse(steps, prices[None, 0])
    np.testing.assert_allclose(compounded[0], prices[1:], rtol=1e-5)


# -- no look-ahead ---------------------------------------------------------------------------


@FAST
@given(
    seed=st.integers(0, 2**16),
    n_rows=st.integers(20, 100),
    combination=st.sampled_from(COMBINATIONS),
    shock=st.floats(0.01, 100.0),
)
def test_later_rows_change_neither_statistics_nor_earlier_values(
    seed: int, n_rows: int, combination: tuple[str, str], shock: float
) -> None:
    representation, scaler = combination
    prices = _random_walk(seed, n_rows, 2)
    changed = prices.copy()
    n_train = n_rows // 2
    changed[n_train:] *= shock * np.random.default_rng(seed + 1).uniform(0.5, 2.0, (1, 2))
    original = SeriesTransform(representation=representation, scaler=scaler)
    original.fit(prices[:n_train])
    again = SeriesTransform(representation=representation, scaler=scaler)
    again.fit(changed[:n_train])
    assert json.dumps(again.to_dict()) == json.dumps(original.to_dict())
    np.testing.assert_array_equal(
        again.transform(changed)[:n_train], original.transform(prices)[:n_train]
    )


# -- persistence -----------------------------------------------------------------------------


@pytest.mark.parametrize(("representation", "scaler"), COMBINATIONS)
def test_to_dict_round_trip_is_bit_identical(representation: str, scaler: str) -> None:
    prices = _random_walk(7, 120, 3)
    fitted = SeriesTransform(representation=representation, scaler=scaler).fit(prices[:80])
    state = json.loads(json.dumps(fitted.to_dict()))  # through real JSON text
    rebuilt = SeriesTransform.from_dict(state)
    scaled = fitted.transform(prices)
    np.testing.assert_array_equal(rebuilt.transform(prices), scaled)
    future = _future(scaled, np.arange(1, 110), 5)
    np.testing.assert_array_equal(
        rebuilt.inverse(future, prices[1:110]), fitted.inverse(future, prices[1:110])
    )
    assert rebuilt.to_dict() == fitted.to_dict()


def test_unfitted_state_round_trips_unfitted() -> None:
    state = SeriesTransform(scaler="robust").to_dict()
    rebuilt = SeriesTransform.from_dict(state)
    assert repr(rebuilt) == "SeriesTransform(scaler='robust')"
    with pytest.raises(NotFittedError):
        rebuilt.transform(np.ones((3, 1)))


def test_from_dict_refuses_foreign_state() -> None:
    with pytest.raises(ConfigError, match="not a SeriesTransform state"):
        SeriesTransform.from_dict({"mean": [1.0]})


# -- errors ----------------------------------------------------------------------------------


def test_bad_names_are_refused_at_fit_with_the_valid_names() -> None:
    transform = SeriesTransform(representation="percent")  # stored as given, checked in fit
    assert transform.representation == "percent"
    with pytest.raises(ConfigError) as error:
        transform.fit(np.ones((5, 1)))
    assert str(error.value) == (
        "SeriesTransform(representation='percent') is not valid; choose one of "
        "'levels', 'simple_return', 'log_return'."
    )
    with pytest.raises(ConfigError, match="'standard', 'minmax', 'robust', 'none'"):
        SeriesTransform(scaler="zscore").fit(np.ones((5, 1)))


def test_not_fitted_message() -> None:
    with pytest.raises(NotFittedError) as error:
        SeriesTransform().inverse(np.zeros((1, 2, 1)), np.ones((1, 1)))
    assert str(error.value) == (
        "this SeriesTransform is not fitted yet, so inverse cannot run; "
        "call fit(prices) on the training rows first."
    )


@pytest.mark.parametrize("representation", ["simple_return", "log_return"])
def test_non_positive_prices_with_returns(representation: str) -> None:
    prices = np.array([[1.0, 2.0], [1.5, 0.0], [1.2, 3.0]])
    with pytest.raises(DataError) as error:
        SeriesTransform(representation=representation).fit(prices)
    assert str(error.value) == (
        "price column 1 holds a non-positive value (0 at row 1), which returns cannot use; "
        "choose representation='levels' or remove those rows."
    )
    levels = SeriesTransform(representation="levels").fit(prices - 5.0)
    assert np.isfinite(levels.transform(prices - 5.0)).all()


def test_shape_and_width_errors() -> None:
    transform = SeriesTransform().fit(_random_walk(1, 30, 2))
    with pytest.raises(DataError, match="got 3 column\\(s\\) but was fitted on 2"):
        transform.transform(_random_walk(1, 30, 3))
    with pytest.raises(DataError, match="expects prices shaped \\[L, C\\]"):
        transform.transform(np.ones(30))
    with pytest.raises(DataError, match="pass scaled as \\[N, H, C'\\]"):
        transform.inverse(np.zeros((4, 2)), np.ones((4, 2)))
    with pytest.raises(ConfigError, match="names column 5"):
        transform.inverse(np.zeros((4, 3, 1)), np.ones((4, 1)), columns=[5])
    with pytest.raises(DataError, match="needs at least 2"):
        SeriesTransform().fit(np.ones((1, 2)))
    with pytest.raises(DataError, match="NaN or inf"):
        SeriesTransform().fit(np.array([[1.0], [np.nan], [2.0]]))
