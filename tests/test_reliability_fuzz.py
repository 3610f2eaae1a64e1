"""Fuzzing the inputs: every hostile frame either works, with finite numbers, or is refused.

Hypothesis builds bar frames with NaN, +/-inf, 1e300, zero and negative prices (fed to log
returns), constant series, unsorted and duplicated timestamps, NaT, tz-aware, naive and mixed
indexes, strings, booleans and None in numeric columns, missing or lower-case columns, and
zero, one or a few rows. Each frame goes through ``load`` (written to CSV or Parquet first),
``make_windows``, ``fit`` + ``predict`` and ``backtest``. The only acceptable outcomes:

- success, and every number handed back is finite (no silent NaN/inf forecast);
- a :class:`forecast.ForecastError` whose message is one non-empty line.

Anything else (a ``KeyError``, ``ValueError`` or ``AttributeError`` from pandas, numpy,
scikit-learn or torch) fails the test. The default profile draws a small sample; set
``FORECAST_FUZZ=1`` for thousands of examples per test (see ``tests/_hypothesis_profiles.py``
and ``docs/RELIABILITY.md`` for counts and times).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import pytest
from _hypothesis_profiles import budget
from hypothesis import event, example, given
from hypothesis import strategies as st

import forecast as fc

T = TypeVar("T")

OHLCV = ("Open", "High", "Low", "Close", "Volume")
SPECIAL_VALUES = (
    np.nan,
    np.inf,
    -np.inf,
    0.0,
    -1.0,
    -1e300,
    1e300,
    1e-300,
    5e-324,
    1e15,
    1e14,
    None,
    "abc",
    "",
    "1e3",
    True,
)
# Clean cases are repeated so that a good share of frames gets through validation and
# exercises the success path (finite numbers) as well as the refusals.
INDEX_KINDS = (
    "naive",
    "naive",
    "naive",
    "naive",
    "utc",
    "tz",
    "mixed_tz",
    "unsorted",
    "duplicated",
    "nat",
    "strings",
    "integers",
    "intraday",
)
PATHS = (
    "walk",
    "walk",
    "walk",
    "walk",
    "constant",
    "zero",
    "negative",
    "huge",
    "tiny",
    "jumps",
    "alternating",
)

pytestmark = pytest.mark.filterwarnings("ignore::forecast.DataWarning")


# -- strategies ------------------------------------------------------------------------------


def _index(kind: str, n: int, rng: np.random.Generator) -> pd.Index:
    dates = pd.bdate_range("2021-01-04", periods=max(n, 1))[:n]
    if kind == "utc":
        return dates.tz_localize("UTC")
    if kind == "tz":
        return dates.tz_localize("America/New_York")
    if kind == "mixed_tz":
        stamps = [d.tz_localize("Asia/Tokyo") if i % 2 else d for i, d in enumerate(dates)]
        return pd.Index(stamps, dtype=object)
    if kind == "unsorted":
        return dates[rng.permutation(n)] if n else dates
    if kind == "duplicated":
        return dates[np.sort(rng.integers(0, max(n // 2, 1), n))] if n else dates
    if kind == "nat":
        values = dates.to_numpy().copy()
        if n:
            values[rng.integers(0, n)] = np.datetime64("NaT")
        return pd.DatetimeIndex(values)
    if kind == "strings":
        return pd.Index([d.strftime("%Y-%m-%d") for d in dates], dtype=object)
    if kind == "integers":
        return pd.RangeIndex(n)
    return pd.date_range("2021-01-04 09:30", periods=n, freq="h") if kind == "intraday" else dates


def _path(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    steps = rng.normal(0.0, 0.02, n)
    close = {
        "walk": lambda: 100.0 * np.exp(np.cumsum(steps)),
        "constant": lambda: np.full(n, 42.0),
        "zero": lambda: np.zeros(n),
        "negative": lambda: -100.0 * np.exp(np.cumsum(steps)),
        "huge": lambda: 1e14 * np.exp(np.cumsum(steps)),
        "tiny": lambda: 1e-12 * np.exp(np.cumsum(steps)),
        "jumps": lambda: 100.0 * np.exp(np.cumsum(rng.normal(0.0, 5.0, n))),
        "alternating": lambda: np.where(np.arange(n) % 2 == 0, 1e-300, 1e14),
    }[kind]()
    return np.asarray(close, dtype=np.float64)


@st.composite
def bar_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A bar frame with a hostile index, price path, special cells and column set."""
    n = draw(st.sampled_from([0, 1, 2, 3, 5, 8, 12, 20, 30, 40, 60, 60, 60]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    close = _path(draw(st.sampled_from(PATHS)), n, rng)
    spread = np.abs(close) * 0.01
    data: dict[str, Any] = {
        "Open": close + rng.normal(0.0, 1.0, n) * spread,
        "High": close + spread,
        "Low": close - spread,
        "Close": close,
        "Volume": rng.integers(0, 10**6, n).astype(np.float64),
    }
    frame = pd.DataFrame(data, index=_index(draw(st.sampled_from(INDEX_KINDS)), n, rng))
    frame.index.name = "Date"
    specials = draw(
        st.lists(
            st.tuples(
                st.floats(0.0, 1.0, exclude_max=True),
                st.sampled_from(OHLCV),
                st.sampled_from(SPECIAL_VALUES),
            ),
            max_size=3,
        )
    )
    for where, column, value in specials:
        if not n:
            break
        if not isinstance(value, float):
            frame[column] = frame[column].astype(object)
        frame.iloc[int(where * n), frame.columns.get_loc(column)] = value
    dropped = draw(st.sampled_from([*[None] * 9, "Open", "Close", "Volume"]))
    if dropped is not None:
        frame = frame.drop(columns=dropped)
    if draw(st.booleans()) and draw(st.booleans()):
        frame.columns = [str(column).lower() for column in frame.columns]
    return frame


def clean_bars(n: int = 60) -> pd.DataFrame:
    """Ordinary bars: the explicit examples that pin the success path in every run."""
    rng = np.random.default_rng(7)
    close = _path("walk", n, rng)
    index = pd.bdate_range("2021-01-04", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close}, index
    )


def tiny_forecaster(**overrides: Any) -> fc.Forecaster:
    settings: dict[str, Any] = {"lookback": 3, "horizon": 2, "hidden_size": 4, "epochs": 1}
    return fc.Forecaster(**{**settings, "progress": False, "device": "cpu", **overrides})


@st.composite
def estimators(draw: st.DrawFn) -> fc.Forecaster | fc.Baseline:
    """A tiny Forecaster (any cell, topology, representation, scaler) or any Baseline."""
    horizon = draw(st.integers(1, 3))
    if draw(st.booleans()):
        method = draw(st.sampled_from(["naive", "seasonal_naive", "drift", "mean", "ridge"]))
        return fc.Baseline(method=method, horizon=horizon, season=2, lags=2)
    return fc.Forecaster(
        cell=draw(st.sampled_from(["lstm", "gru", "rnn"])),
        topology=draw(st.sampled_from(["n_to_1", "n_to_n", "n_to_m", "1_to_n"])),
        lookback=draw(st.integers(1, 4)),
        horizon=horizon,
        hidden_size=4,
        epochs=1,
        batch_size=16,
        representation=draw(st.sampled_from(["log_return", "simple_return", "levels"])),
        scaler=draw(st.sampled_from(["standard", "minmax", "robust", "none"])),
        nan_policy=draw(st.sampled_from(["drop", "ffill", "error"])),
        patience=draw(st.sampled_from([None, 2])),
        progress=False,
        device="cpu",
    )


# -- the contract ----------------------------------------------------------------------------


def refused_or(call: Callable[[], T]) -> T | None:
    """Run ``call``; a ForecastError must carry one clear line, anything else propagates."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = call()
    except fc.ForecastError as exc:
        event(f"refused with {type(exc).__name__}")
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        assert "\n" not in message, f"multi-line message: {message!r}"
        assert len(message) >= 20, f"message too terse to act on: {message!r}"
        return None
    event("accepted")
    return outcome


def assert_finite(values: Any, what: str) -> None:
    array = np.asarray(values, dtype=np.float64)
    assert np.isfinite(array).all(), f"{what} holds NaN/inf: {array.ravel()[:8]}"


def assert_clean_frame(frame: pd.DataFrame) -> None:
    assert isinstance(frame.index, pd.DatetimeIndex)  # naive, or aware in one zone (kept)
    assert frame.index.is_monotonic_increasing and frame.index.is_unique
    assert len(frame) > 0
    assert_finite(frame[[c for c in OHLCV if c in frame.columns]], "the loaded frame")


# -- tests -----------------------------------------------------------------------------------


@budget(ci=40, fuzz=3000)
@given(frame=bar_frames(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_load_from_a_file_gives_clean_bars_or_a_clear_error(
    frame: pd.DataFrame, suffix: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("load") / f"bars{suffix}"
    try:
        if suffix == ".parquet":
            frame.to_parquet(path)
        else:
            frame.to_csv(path)
    except (ValueError, TypeError):  # pyarrow cannot store mixed-type columns: test the CSV
        path = path.with_suffix(".csv")
        frame.to_csv(path)
    loaded = refused_or(lambda: fc.load(path))
    if loaded is not None:
        assert_clean_frame(loaded)


@budget(ci=40, fuzz=3000)
@given(
    frame=bar_frames(),
    lookback=st.integers(1, 6),
    horizon=st.integers(1, 3),
    topology=st.sampled_from(["n_to_1", "n_to_n", "n_to_m", "1_to_n"]),
    pad=st.booleans(),
)
def test_make_windows_gives_finite_windows_or_a_clear_error(
    frame: pd.DataFrame, lookback: int, horizon: int, topology: str, pad: bool
) -> None:
    windows = refused_or(
        lambda: fc.make_windows(
            frame, lookback=lookback, horizon=horizon, topology=topology, pad=pad
        )
    )
    if windows is None:
        return
    assert windows.X.shape[0] == windows.y.shape[0] == len(windows.origins) > 0
    assert_finite(windows.X, "X")
    assert_finite(windows.y, "y")


@budget(ci=25, fuzz=2500)
@given(frame=bar_frames(), estimator=estimators())
@example(frame=clean_bars(), estimator=tiny_forecaster(topology="n_to_1"))
@example(frame=clean_bars(), estimator=fc.Baseline(method="ridge", horizon=2, lags=3))
def test_fit_and_predict_give_finite_prices_or_a_clear_error(
    frame: pd.DataFrame, estimator: fc.Forecaster | fc.Baseline
) -> None:
    fitted = refused_or(lambda: estimator.fit(frame))
    if fitted is None:
        return
    forecast = refused_or(lambda: fitted.predict(frame))
    if forecast is None:
        return
    assert forecast.shape == (int(estimator.horizon), 1)
    assert isinstance(forecast.index, pd.DatetimeIndex)
    assert_finite(forecast, "the forecast")


@budget(ci=20, fuzz=2000)
@given(
    frame=bar_frames(),
    estimator=estimators(),
    test_size=st.integers(1, 12),
    folds=st.integers(1, 3),
    step=st.sampled_from([None, 1, 2]),
)
@example(
    frame=clean_bars(), estimator=tiny_forecaster(cell="rnn"), test_size=10, folds=2, step=None
)
@example(frame=clean_bars(), estimator=fc.Baseline(method="mean"), test_size=12, folds=3, step=1)
def test_backtest_gives_finite_forecasts_or_a_clear_error(
    frame: pd.DataFrame,
    estimator: fc.Forecaster | fc.Baseline,
    test_size: int,
    folds: int,
    step: int | None,
) -> None:
    result = refused_or(
        lambda: fc.backtest(
            estimator,
            frame,
            test_size=test_size,
            folds=folds,
            step=step,
            baselines=("naive", "drift", "mean", "seasonal_naive"),
        )
    )
    if result is None:
        return
    assert len(result.forecasts) > 0
    assert_finite(result.forecasts["predicted"], "the backtest forecasts")
    assert_finite(result.forecasts[["actual", "origin_price"]], "the backtest actuals")
    assert_finite(result.metrics[["mae", "rmse"]], "MAE/RMSE")


def test_a_test_region_with_no_origin_that_has_h_bars_after_it_is_a_data_error() -> None:
    index = pd.bdate_range("2021-01-04", periods=8, name="Date")
    close = np.linspace(100.0, 107.0, 8)
    frame = pd.DataFrame({"Open": close, "High": close, "Low": close, "Close": close}, index)

    # Was ValueError('No objects to concatenate') from pd.concat([]) in forecast/backtest.py.
    with pytest.raises(fc.DataError, match="produced no forecasts"):
        fc.backtest(fc.Baseline(method="naive", horizon=3), frame, test_size=2, folds=2)
