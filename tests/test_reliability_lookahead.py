"""No look-ahead, as properties: data after t never changes a forecast made at an origin <= t.

For every cell x topology and every baseline, hypothesis draws a cutoff row ``t`` and a change
to the data strictly after it (new random prices, NaN/inf cells that validation drops, a
truncation, new rows appended), and checks on CPU, bit for bit:

1. fit + forecast: a model fitted on rows up to a training end <= t forecasts every origin
   <= t identically from the original and from the changed frame, whether it is asked for
   all origins at once or for one (``predict`` on the frame cut at the origin);
2. backtest, same fold layout (new values, or NaN filled forward): every row of the tidy
   forecasts with origin <= t, model rows included, is identical in the two backtests, and
   each was made by a model whose training slice ended at or before its origin;
3. backtest, changed length (NaN rows dropped, truncation, appended rows): the walk-forward
   layout moves with the number of bars, so the two backtests are not row-aligned; instead
   every forecast with origin <= t is replayed from the ORIGINAL data alone, by fitting on
   the fold's training slice and predicting from the bars up to its origin, and must match;
4. backtest, one fold anchored by ``test_start`` (the layout that does not move), any change
   after t: the two backtests agree row by row on every origin <= t;
5. intervals: no calibration residual postdates its origin (each row's latest calibration
   target date is at or before its origin), conformal bounds (static and adaptive) at origins
   <= t ignore every outcome and forecast after t, and a backtest with intervals keeps every
   bound of the model, the point baselines and the interval baselines at origins <= t.

Models are tiny (hidden 5, one epoch, lookback 6) so a property runs in seconds; the default
profile draws a few examples per model, ``FORECAST_FUZZ=1`` many more.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _hypothesis_profiles import budget
from hypothesis import given
from hypothesis import strategies as st

import forecast as fc
from forecast.intervals.conformal import conformal_intervals

N_BARS = 90
LOOKBACK = 6
HORIZON = 3
TEST_SIZE = 30
TRAIN_ENDS = (40, 55)  # last training row (positional) for the fit + forecast property
CELLS = ("rnn", "lstm", "gru")
TOPOLOGIES = ("n_to_1", "n_to_n", "n_to_m", "1_to_n")
RECURRENT = [f"{cell}/{topology}" for cell in CELLS for topology in TOPOLOGIES]
BASELINES = ["naive", "seasonal_naive", "drift", "mean", "ridge"]
ALL_BASELINES = ("naive", "seasonal_naive", "drift", "mean", "ridge")
# Compared bit for bit; `actual` is compared only where its target date is <= t too.
SAME_COLUMNS = ["model", "fold", "origin", "target_date", "step", "origin_price", "predicted"]

pytestmark = pytest.mark.filterwarnings("ignore::forecast.DataWarning")


def make_bars(n: int = N_BARS, seed: int = 3) -> pd.DataFrame:
    """A positive random walk of consistent OHLCV bars on business days."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    opening = np.r_[close[0], close[:-1]]
    index = pd.bdate_range("2022-01-03", periods=n, name="Date")
    return pd.DataFrame(
        {
            "Open": opening,
            "High": np.maximum(opening, close) * 1.005,
            "Low": np.minimum(opening, close) * 0.995,
            "Close": close,
            "Volume": rng.integers(10**5, 10**6, n).astype(np.float64),
        },
        index=index,
    )


BARS = make_bars()


def make_estimator(spec: str, **overrides: Any) -> fc.Forecaster | fc.Baseline:
    """``"lstm/n_to_m"`` -> a tiny Forecaster; a baseline name -> that Baseline."""
    if "/" not in spec:
        # The options a backtest gives its own baselines, so replays match them.
        return fc.Baseline(method=spec, horizon=HORIZON, **overrides)
    cell, topology = spec.split("/")
    settings: dict[str, Any] = {
        "cell": cell,
        "topology": topology,
        "lookback": LOOKBACK,
        "horizon": HORIZON,
        "hidden_size": 5,
        "epochs": 1,
        "batch_size": 16,
        "patience": None,
        "val_fraction": 0.0,
        "seed": 0,
        "device": "cpu",
        "progress": False,
    }
    return fc.Forecaster(**{**settings, **overrides})


def validated(estimator: fc.Forecaster | fc.Baseline, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the estimator itself sees it (same columns and policies as ``predict``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fc.validate(
            frame,
            columns=estimator.fit_columns_,
            nan_policy=estimator.nan_policy,
            require_positive=getattr(estimator, "representation", "levels") != "levels",
        )


_FITTED: dict[tuple[str, int], fc.Forecaster | fc.Baseline] = {}


def fitted_on_prefix(spec: str, train_end: int) -> fc.Forecaster | fc.Baseline:
    """The estimator fitted on rows ``0..train_end`` (cached: those rows never change)."""
    key = (spec, train_end)
    if key not in _FITTED:
        _FITTED[key] = make_estimator(spec).fit(BARS.iloc[: train_end + 1])
    return _FITTED[key]


# -- perturbations after t ---------------------------------------------------------------------

KINDS = ("values", "nan", "truncate", "append")


@st.composite
def changes_after(draw: st.DrawFn, t: int, kinds: tuple[str, ...] = KINDS) -> pd.DataFrame:
    """A copy of BARS whose rows strictly after position ``t`` were changed (one or more ways)."""
    frame = BARS.copy()
    rows_after = list(range(t + 1, len(frame)))
    columns = list(frame.columns)
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3, unique=True))
    for kind in sorted(chosen, key=KINDS.index):  # cells first, then the length changes
        if kind == "values":
            rows = draw(st.lists(st.sampled_from(rows_after), min_size=1, unique=True))
            cols = draw(st.lists(st.sampled_from(columns), min_size=1, unique=True))
            prices = draw(st.lists(st.floats(1.0, 1000.0), min_size=len(rows) * len(cols)))
            values = np.resize(np.asarray(prices), (len(rows), len(cols)))
            frame.iloc[rows, [columns.index(c) for c in cols]] = values
        elif kind == "nan":
            cells = draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(rows_after),
                        st.sampled_from(columns),
                        st.sampled_from([np.nan, np.inf, -np.inf]),
                    ),
                    min_size=1,
                    max_size=6,
                )
            )
            for row, column, value in cells:
                frame.iloc[row, columns.index(column)] = value
        elif kind == "truncate":
            frame = frame.iloc[: draw(st.integers(t + 1, max(t + 1, len(frame) - 1)))]
        else:
            extra = draw(st.integers(1, 8))
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            close = frame["Close"].iloc[-1] * np.exp(np.cumsum(rng.normal(0.0, 0.05, extra)))
            index = pd.bdate_range(frame.index[-1] + pd.offsets.BDay(1), periods=extra)
            more = pd.DataFrame(
                {"Open": close, "High": close, "Low": close, "Close": close, "Volume": 1.0},
                index=index.rename("Date"),
            )
            frame = pd.concat([frame, more])
    assert frame.iloc[: t + 1].equals(BARS.iloc[: t + 1])  # nothing at or before t changed
    return frame


def origins_of(estimator: fc.Forecaster | fc.Baseline, frame: pd.DataFrame) -> np.ndarray:
    """Every row of ``frame`` that can serve as a forecast origin."""
    first = 0
    if isinstance(estimator, fc.Forecaster):
        window = 1 if estimator.topology == "1_to_n" else estimator.lookback
        first = window - 1 + (0 if estimator.representation == "levels" else 1)
    return np.arange(first, len(frame))


# -- 1. fit + forecast -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", RECURRENT + BASELINES)
@budget(ci=4, fuzz=150)
@given(data=st.data())
def test_fitted_model_forecasts_up_to_t_ignore_any_change_after_t(
    spec: str, data: st.DataObject
) -> None:
    train_end = data.draw(st.sampled_from(TRAIN_ENDS), label="train_end")
    t = data.draw(st.integers(train_end, N_BARS - 2), label="t")
    changed = data.draw(changes_after(t), label="changed")
    model = fitted_on_prefix(spec, train_end)

    original, perturbed = validated(model, BARS), validated(model, changed)
    rows_a, rows_b = origins_of(model, original), origins_of(model, perturbed)
    batch_a = model.forecast_rows(original, rows_a)  # [N, H, K], every origin at once
    batch_b = model.forecast_rows(perturbed, rows_b)

    assert original.index[: t + 1].equals(perturbed.index[: t + 1])
    up_to_t_a, up_to_t_b = rows_a <= t, rows_b <= t
    np.testing.assert_array_equal(rows_a[up_to_t_a], rows_b[up_to_t_b])
    assert np.array_equal(batch_a[up_to_t_a], batch_b[up_to_t_b])
    assert np.isfinite(batch_a).all()

    # One origin alone, from the changed frame cut at it, is the same number again.
    origin = data.draw(st.sampled_from(rows_b[up_to_t_b].tolist()), label="origin")
    alone = model.predict(perturbed.iloc[: origin + 1])
    assert np.array_equal(alone.to_numpy(), batch_a[rows_a == origin][0])


# -- 2. backtest, same layout -------------------------------------------------------------------


def rows_up_to(forecasts: pd.DataFrame, t_date: pd.Timestamp) -> pd.DataFrame:
    keep = forecasts[forecasts["origin"] <= t_date]
    return keep.sort_values(["model", "origin", "step"]).reset_index(drop=True)


def assert_same_rows_up_to(
    first: fc.BacktestResult, second: fc.BacktestResult, t_date: pd.Timestamp
) -> int:
    """Rows with origin <= t are identical (``actual`` too where its date is <= t)."""
    a, b = rows_up_to(first.forecasts, t_date), rows_up_to(second.forecasts, t_date)
    pd.testing.assert_frame_equal(a[SAME_COLUMNS], b[SAME_COLUMNS], check_exact=True)
    known = a["target_date"] <= t_date
    assert np.array_equal(a.loc[known, "actual"], b.loc[known, "actual"])
    return len(a)


def assert_common_rows_up_to(
    first: fc.BacktestResult, second: fc.BacktestResult, t_date: pd.Timestamp
) -> int:
    """Like :func:`assert_same_rows_up_to` when the two runs hold different numbers of bars.

    A backtest only reports an origin that has ``horizon`` bars after it, so dropping or
    cutting bars after t can remove (and appending can add) rows whose origin is <= t but
    whose forecast reaches past t. Only those may be missing on one side; every row present
    on both sides must carry the same forecast (and the same target and actual where the
    target date is <= t).
    """
    keys = ["model", "origin", "step"]
    a, b = rows_up_to(first.forecasts, t_date), rows_up_to(second.forecasts, t_date)
    both = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    one_sided = both[both["_merge"] != "both"]
    last_target = pd.concat([a, b]).groupby(["model", "origin"])["target_date"].max()
    reach = last_target.loc[list(zip(one_sided["model"], one_sided["origin"], strict=True))]
    assert (reach > t_date).all(), one_sided[keys]
    common = both[both["_merge"] == "both"]
    for column in ("fold", "origin_price", "predicted"):
        assert np.array_equal(common[f"{column}_a"], common[f"{column}_b"]), column
    # Which bar is "h steps later" depends on the bars after t (dropped, cut, appended),
    # so target dates and actuals must agree only where the target is at or before t.
    known = common["target_date_a"] <= t_date
    for column in ("target_date", "actual"):
        assert np.array_equal(common.loc[known, f"{column}_a"], common.loc[known, f"{column}_b"])
    return len(common)


def assert_trained_before_origin(result: fc.BacktestResult) -> None:
    """Each forecast's model was fitted on bars ending at or before its origin.

    (The first origin of a fold is the last bar before the fold's test block, which is also
    the last bar of its training slice: a forecast may use the bar it is made at.)
    """
    folds = result.folds.set_index("fold")
    fit_fold = _fit_fold_of(folds)
    train_end = result.forecasts["fold"].map(lambda fold: folds.loc[fit_fold[fold], "train_end"])
    assert (train_end <= result.forecasts["origin"]).all()
    assert (result.forecasts["target_date"] > result.forecasts["origin"]).all()


def _fit_fold_of(folds: pd.DataFrame) -> dict[int, int]:
    """Fold -> the fold whose refit produced the model used in it."""
    latest, out = 0, {}
    for fold, refit in folds["refit"].items():
        latest = fold if refit else latest
        out[int(fold)] = int(latest)
    return out


@pytest.mark.parametrize("spec", RECURRENT)
@budget(ci=2, fuzz=40)
@given(data=st.data())
def test_backtest_rows_up_to_t_ignore_new_values_after_t(spec: str, data: st.DataObject) -> None:
    t = data.draw(st.integers(N_BARS - TEST_SIZE - 1, N_BARS - 2), label="t")
    kind = data.draw(st.sampled_from(["values", "nan"]), label="kind")
    # New values keep every row; NaN/inf cells filled forward keep every row too.
    changed = data.draw(changes_after(t, kinds=(kind,)), label="changed")
    options = {
        "test_size": TEST_SIZE,
        "folds": data.draw(st.sampled_from([2, 3]), label="folds"),
        "step": data.draw(st.sampled_from([1, 2, 3]), label="step"),
        "refit": data.draw(st.sampled_from([0, 1]), label="refit"),
        "baselines": ALL_BASELINES,
    }
    estimator = make_estimator(spec, nan_policy="ffill")

    first = fc.backtest(estimator, BARS, **options)
    second = fc.backtest(estimator, changed, **options)

    compared = assert_same_rows_up_to(first, second, BARS.index[t])
    assert compared > 0 or BARS.index[t] < first.forecasts["origin"].min()
    assert set(first.forecasts["model"]) == {spec.split("/")[0], *ALL_BASELINES}
    assert_trained_before_origin(first)
    assert_trained_before_origin(second)


# -- 3. backtest, changed length: replay from the original data ----------------------------------


def replayed(
    forecasts: pd.DataFrame, folds: pd.DataFrame, label: str, spec: str
) -> Iterator[tuple[pd.Timestamp, np.ndarray, np.ndarray]]:
    """(origin, backtest forecast [H], replay [H]) for every origin of model ``label``.

    The replay sees only the ORIGINAL bars: a fresh ``spec`` fitted on the training slice of
    the fold that produced the model, then ``predict`` on the bars up to the origin.
    """
    by_fold = folds.set_index("fold")
    fit_fold = _fit_fold_of(by_fold)
    rows = forecasts[forecasts["model"] == label]
    for fold, block in rows.groupby("fold"):
        source = by_fold.loc[fit_fold[int(fold)]]
        model = make_estimator(spec).fit(BARS.loc[source["train_start"] : source["train_end"]])
        for origin, steps in block.groupby("origin"):
            alone = model.predict(BARS.loc[:origin])["Close"].to_numpy()
            yield origin, steps.sort_values("step")["predicted"].to_numpy(), alone


@pytest.mark.parametrize("spec", RECURRENT)
@budget(ci=1, fuzz=30)
@given(data=st.data())
def test_backtest_rows_up_to_t_replay_from_the_original_data_when_the_length_changes(
    spec: str, data: st.DataObject
) -> None:
    t = data.draw(st.integers(N_BARS - TEST_SIZE - 1, N_BARS - 2), label="t")
    changed = data.draw(changes_after(t, kinds=("nan", "truncate", "append")), label="changed")
    options = {
        "test_size": TEST_SIZE,
        "folds": data.draw(st.sampled_from([2, 3]), label="folds"),
        "step": data.draw(st.sampled_from([1, 3]), label="step"),
        "refit": data.draw(st.sampled_from([0, 1]), label="refit"),
        "baselines": ALL_BASELINES,
    }

    result = fc.backtest(make_estimator(spec), changed, **options)

    assert_trained_before_origin(result)
    early = result.forecasts[result.forecasts["origin"] <= BARS.index[t]]
    checked = 0
    for label in sorted(set(early["model"])):
        replay_spec = label if label in BASELINES else spec
        for origin, in_backtest, alone in replayed(early, result.folds, label, replay_spec):
            assert np.array_equal(in_backtest, alone), (label, origin, in_backtest, alone)
            checked += 1
    assert checked > 0 or early.empty


# -- 4. backtest, changed length, one anchored fold: direct comparison ---------------------------


@pytest.mark.parametrize("spec", RECURRENT)
@budget(ci=1, fuzz=30)
@given(data=st.data())
def test_single_fold_backtest_rows_up_to_t_ignore_any_change_after_t(
    spec: str, data: st.DataObject
) -> None:
    # One fold starting at a fixed date is the layout that does not move when bars after t
    # are dropped or appended, so here the two backtests can be compared row by row.
    # t late enough that the first origin's whole forecast lies at or before t: however the
    # bars after t change, the test region then still holds a reportable origin.
    t = data.draw(st.integers(N_BARS - TEST_SIZE - 1 + HORIZON, N_BARS - 2), label="t")
    changed = data.draw(changes_after(t), label="changed")
    options = {
        "test_start": BARS.index[N_BARS - TEST_SIZE],
        "folds": 1,
        "step": data.draw(st.sampled_from([1, 2, 3]), label="step"),
        "baselines": ALL_BASELINES,
    }
    estimator = make_estimator(spec)

    first = fc.backtest(estimator, BARS, **options)
    second = fc.backtest(estimator, changed, **options)

    assert assert_common_rows_up_to(first, second, BARS.index[t]) > 0
    assert_trained_before_origin(second)


# -- 5. intervals: calibration sees only residuals known at the origin ----------------------------

INTERVAL_LEVELS = (0.5, 0.8)
BOUND_COLUMNS = ["lower_50", "upper_50", "lower_80", "upper_80"]


@st.composite
def dense_forecasts(draw: st.DrawFn) -> pd.DataFrame:
    """Tidy forecasts of two models from every origin of one random path (any horizon)."""
    n = draw(st.integers(12, 60), label="bars")
    horizon = draw(st.integers(1, 4), label="horizon")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    prices = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    dates = pd.bdate_range("2021-01-04", periods=n)
    origin = np.repeat(np.arange(n - horizon), horizon)
    step = np.tile(np.arange(1, horizon + 1), n - horizon)
    blocks = []
    for model, noise in (("a", 0.0), ("b", 0.03)):
        predicted = prices[origin] * np.exp(rng.normal(0.0, noise, origin.size))
        blocks.append(pd.DataFrame({
            "model": model, "origin": dates[origin], "target_date": dates[origin + step],
            "step": step, "actual": prices[origin + step], "predicted": predicted,
            "origin_price": prices[origin],
        }))
    return pd.concat(blocks, ignore_index=True)


@budget(ci=60, fuzz=2000)
@given(frame=dense_forecasts(), data=st.data())
def test_no_calibration_residual_postdates_its_origin(
    frame: pd.DataFrame, data: st.DataObject
) -> None:
    adaptive = data.draw(st.booleans(), label="adaptive")
    window = data.draw(st.sampled_from([None, 3, 10]), label="window")
    options = {"window": window, "min_calibration": 2, "adaptive": adaptive, "gamma": 0.1}
    out = conformal_intervals(frame, INTERVAL_LEVELS, **options)
    known = out["calibration_end"].notna()
    assert (out.loc[known, "calibration_end"] <= frame.loc[known, "origin"]).all()
    assert (out.loc[~known, "n_calibration"] == 0).all()

    # Change every outcome after t and every forecast made after t: bounds up to t stay.
    dates = np.sort(frame["origin"].unique())
    t = data.draw(st.sampled_from(list(dates)), label="t")
    changed = frame.copy()
    later_outcome = changed["target_date"] > t
    later_origin = changed["origin"] > t
    shocks = data.draw(st.floats(0.2, 5.0), label="shock")
    changed.loc[later_outcome, "actual"] *= shocks
    changed.loc[later_origin, "predicted"] *= 1.0 / shocks
    # Every model sees the same data: actual is shared per point.
    again = conformal_intervals(changed, INTERVAL_LEVELS, **options)
    up_to_t = ~later_origin
    pd.testing.assert_frame_equal(out.loc[up_to_t], again.loc[up_to_t], check_exact=True)
    assert (out["n_calibration"] > 0).any()  # the property is not vacuous


INTERVAL_SPECS = ["naive", "drift", "lstm/n_to_m"]


@pytest.mark.parametrize("spec", INTERVAL_SPECS)
@budget(ci=2, fuzz=40)
@given(data=st.data())
def test_backtest_intervals_up_to_t_ignore_new_values_after_t(
    spec: str, data: st.DataObject
) -> None:
    # Late cutoffs: conformal bounds need 20 known residuals, about 20 bars into the region.
    t = data.draw(st.integers(N_BARS - 8, N_BARS - 2), label="t")
    kind = data.draw(st.sampled_from(["values", "nan"]), label="kind")
    changed = data.draw(changes_after(t, kinds=(kind,)), label="changed")
    options = {
        "test_size": TEST_SIZE,
        "folds": data.draw(st.sampled_from([2, 3]), label="folds"),
        "step": data.draw(st.sampled_from([1, 2, 3]), label="step"),
        "baselines": ("seasonal_naive",),
        "intervals": INTERVAL_LEVELS,
        "adaptive_intervals": data.draw(st.booleans(), label="adaptive"),
    }
    estimator = make_estimator(spec, nan_policy="ffill")

    first = fc.backtest(estimator, BARS, **options)
    second = fc.backtest(estimator, changed, **options)

    t_date = BARS.index[t]
    a, b = rows_up_to(first.forecasts, t_date), rows_up_to(second.forecasts, t_date)
    pd.testing.assert_frame_equal(a[SAME_COLUMNS + BOUND_COLUMNS], b[SAME_COLUMNS + BOUND_COLUMNS])
    assert a[BOUND_COLUMNS].notna().any().any()  # the property is not vacuous
    a = rows_up_to(first.interval_baselines, t_date)
    b = rows_up_to(second.interval_baselines, t_date)
    pd.testing.assert_frame_equal(a[SAME_COLUMNS + BOUND_COLUMNS], b[SAME_COLUMNS + BOUND_COLUMNS])
