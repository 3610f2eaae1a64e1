"""Tests for forecast/trading.py: hand-built periods with every expected number written out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast import forecasts_frame, metrics, trading
from forecast.errors import ConfigError, DataError
from forecast.trading import max_drawdown, sharpe_ratio, trading_curves, trading_summary

DATES = pd.bdate_range("2024-01-01", periods=600)


def naive(prices: np.ndarray, origin: int, step: int) -> float:
    return float(prices[origin])


def oracle(prices: np.ndarray, origin: int, step: int) -> float:
    return float(prices[origin + step])


def tidy(prices, models, *, horizon=1, stride=1, ticker=None) -> pd.DataFrame:
    """The tidy frame for ``prices`` (row i dated DATES[i]); models: name -> f(prices, i, s)."""
    prices = np.asarray(prices, dtype=float)
    rows = [
        {"model": name, "origin": DATES[i], "target_date": DATES[i + s], "step": s,
         "actual": prices[i + s], "predicted": predict(prices, i, s), "origin_price": prices[i]}
        for i in range(0, len(prices) - horizon, stride)
        for s in range(1, horizon + 1)
        for name, predict in models.items()
    ]
    frame = pd.DataFrame(rows)
    return frame.assign(ticker=ticker) if ticker is not None else frame


def random_walk(n: int, seed: int) -> np.ndarray:
    return 100.0 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0.0, 0.01, n)))


def by_strategy(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("strategy")


# ---------------------------------------------------------------- a hand example
# Realised returns 110/100 - 1 = +10%, 104.5/110 - 1 = -5%, 106.59/104.5 - 1 = +2%.
# "updown" predicts up, down, up: long/flat holds [1, 0, 1], long/short [1, -1, 1].
HAND_PRICES = [100.0, 110.0, 104.5, 106.59]


def updown(prices: np.ndarray, origin: int, step: int) -> float:
    return float(prices[origin]) * (0.99 if origin == 1 else 1.01)


def hand_frame() -> pd.DataFrame:
    return tidy(HAND_PRICES, {"naive": naive, "updown": updown})


def test_hand_example_with_costs():
    table = by_strategy(trading_summary(hand_frame(), cost_bps=10.0))  # 10 bp = 0.001
    # long/flat: |Δposition| = 1, 1, 1 -> net 0.1 - 0.001, 0 - 0.001, 0.02 - 0.001
    assert table.loc["updown/long_flat", "cumulative_return"] == pytest.approx(
        1.099 * 0.999 * 1.019 - 1)
    # long/short: |Δposition| = 1, 2, 2 -> net 0.1 - 0.001, 0.05 - 0.002, 0.02 - 0.002
    assert table.loc["updown/long_short", "cumulative_return"] == pytest.approx(
        1.099 * 1.048 * 1.018 - 1)
    # buy-and-hold pays only the entry: 0.1 - 0.001, -0.05, 0.02
    assert table.loc["buy_and_hold", "cumulative_return"] == pytest.approx(
        1.099 * 0.95 * 1.02 - 1)
    assert table["turnover"].to_dict() == pytest.approx({
        "naive/long_flat": 0.0, "naive/long_short": 0.0, "updown/long_flat": 1.0,
        "updown/long_short": 5 / 3, "buy_and_hold": 1 / 3})
    assert table.loc["updown/long_flat", "hit_rate"] == 1.0  # long only in the two up periods
    assert table.loc["updown/long_short", "hit_rate"] == 1.0
    assert table.loc["buy_and_hold", "hit_rate"] == pytest.approx(2 / 3)
    assert math.isnan(table.loc["naive/long_flat", "hit_rate"])  # never holds a position
    assert table.loc["buy_and_hold", "max_drawdown"] == pytest.approx(0.95 - 1)
    assert table.loc["updown/long_short", "max_drawdown"] == 0.0
    assert (table["n_periods"] == 3).all()
    assert list(table.columns) == ["model", "rule", "cumulative_return", "sharpe",
                                   "max_drawdown", "hit_rate", "turnover", "n_periods"]
    net = np.array([0.099, -0.001, 0.019])
    assert table.loc["updown/long_flat", "sharpe"] == pytest.approx(
        net.mean() / net.std(ddof=1) * math.sqrt(252))


def test_costs_reduce_cumulative_return_by_the_expected_amount():
    free = by_strategy(trading_summary(hand_frame(), cost_bps=0.0))
    costly = by_strategy(trading_summary(hand_frame(), cost_bps=10.0))
    assert free.loc["updown/long_flat", "cumulative_return"] == pytest.approx(1.1 * 1.02 - 1)
    drop = (free - costly.drop(columns=["model", "rule"])).loc["updown/long_flat",
                                                              "cumulative_return"]
    assert drop == pytest.approx((1.1 * 1.02 - 1) - (1.099 * 0.999 * 1.019 - 1))


def test_curves_start_at_one_and_mark_each_period_end():
    curves = trading_curves(hand_frame(), cost_bps=10.0)
    assert list(curves.index) == list(DATES[:4]) and curves.index.name == "date"
    assert list(curves.columns) == ["naive/long_flat", "naive/long_short", "updown/long_flat",
                                    "updown/long_short", "buy_and_hold"]
    np.testing.assert_allclose(curves["updown/long_flat"],
                               [1.0, 1.099, 1.099 * 0.999, 1.099 * 0.999 * 1.019])
    assert (curves["naive/long_short"] == 1.0).all()


def test_metrics_and_trading_check_the_frame_with_one_function():
    # One schema, one check: both modules use forecast.forecasts_frame's (no import cycle).
    assert metrics.check_forecasts is forecasts_frame.check_forecasts
    assert trading.check_forecasts is forecasts_frame.check_forecasts


# ---------------------------------------------------------------- building blocks


def test_max_drawdown_of_a_hand_built_curve():
    assert max_drawdown([1.0, 1.2, 0.9, 1.1, 0.6, 0.8]) == pytest.approx(0.6 / 1.2 - 1)
    assert max_drawdown([1.0, 1.1, 1.3]) == 0.0
    with pytest.raises(DataError, match="starts above 0"):
        max_drawdown([])


def test_sharpe_ratio_by_hand():
    # mean 0.02, std (ddof=1) 0.01·sqrt(2) -> sqrt(2) per period, · sqrt(252) per year
    assert sharpe_ratio([0.01, 0.03], 252) == pytest.approx(math.sqrt(2) * math.sqrt(252))
    assert math.isnan(sharpe_ratio([0.01, 0.01, 0.01], 252))
    assert math.isnan(sharpe_ratio([0.01], 252))


# ---------------------------------------------------------------- which forecast trades


def test_perfect_foresight_beats_buy_and_hold():
    frame = tidy(random_walk(250, 3), {"naive": naive, "oracle": oracle})
    table = by_strategy(trading_summary(frame, cost_bps=0.0))
    buy_and_hold = table.loc["buy_and_hold", "cumulative_return"]
    assert table.loc["oracle/long_flat", "cumulative_return"] > buy_and_hold
    assert (table.loc["oracle/long_short", "cumulative_return"]
            > table.loc["oracle/long_flat", "cumulative_return"])
    assert table.loc["oracle/long_flat", "hit_rate"] == 1.0
    assert table.loc["oracle/long_flat", "max_drawdown"] == 0.0  # it never holds a loser


def test_origins_two_bars_apart_trade_the_step_two_forecast():
    frame = tidy(random_walk(41, 1), {"naive": naive, "oracle": oracle}, horizon=3, stride=2)
    summary = trading_summary(frame)
    assert summary.attrs["periods_per_year"] == 126.0  # 252 / 2 bars
    assert (summary["n_periods"] == 19).all()  # origins 0, 2, ..., 36
    curves = trading_curves(frame)
    assert list(curves.index) == list(DATES[0:39:2])  # each period ends at the next origin


def test_fixed_step_skips_origins_inside_a_running_position():
    frame = tidy(random_walk(31, 2), {"naive": naive, "oracle": oracle}, horizon=3)
    summary = trading_summary(frame, step=3)
    assert (summary["n_periods"] == 10).all()  # origins 0, 3, ..., 27 of 0..27
    assert summary.attrs["periods_per_year"] == 84.0  # 252 / 3
    assert list(trading_curves(frame, step=3).index) == list(DATES[0:31:3])
    assert trading_summary(frame).attrs["periods_per_year"] == 252.0  # default: next origin


def test_origins_further_apart_than_the_horizon_use_calendar_days():
    # origins every 10 bars (two calendar weeks), H = 3: step 3 is traded, then cash until
    # the next origin; the frame lacks the bars in between, so spacing = 14 days · 252/365.25
    frame = tidy(random_walk(61, 4), {"naive": naive, "oracle": oracle}, horizon=3, stride=10)
    summary = trading_summary(frame)
    assert summary.attrs["periods_per_year"] == pytest.approx(365.25 / 14)
    assert list(trading_curves(frame).index) == [DATES[0], *DATES[3:54:10]]


def test_panel_weights_tickers_equally():
    panel = pd.concat([tidy([100.0, 110.0], {"naive": naive, "oracle": oracle}, ticker="A"),
                       tidy([50.0, 45.0], {"naive": naive, "oracle": oracle}, ticker="B")])
    table = by_strategy(trading_summary(panel, cost_bps=10.0))
    # long/flat: A long (+10% - 0.1%), B flat; long/short also shorts B (+10% - 0.1%)
    assert table.loc["oracle/long_flat", "cumulative_return"] == pytest.approx(0.099 / 2)
    assert table.loc["oracle/long_flat", "turnover"] == pytest.approx(0.5)
    assert table.loc["oracle/long_short", "cumulative_return"] == pytest.approx(0.099)
    assert table.loc["buy_and_hold", "cumulative_return"] == pytest.approx(-0.001)
    assert table.loc["buy_and_hold", "hit_rate"] == pytest.approx(0.5)


# ---------------------------------------------------------------- bad and degenerate input


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="cost_bps must be a finite number >= 0"):
        trading_summary(hand_frame(), cost_bps=-1.0)
    with pytest.raises(ConfigError, match="step must be None or an integer >= 1"):
        trading_curves(hand_frame(), step=0)
    with pytest.raises(ConfigError, match="No origin has a step-5 forecast"):
        trading_summary(hand_frame(), step=5)


def test_a_model_missing_a_traded_forecast_is_named():
    frame = hand_frame()
    frame = frame.drop(index=frame.index[frame["model"] == "updown"][:1])
    with pytest.raises(DataError, match="'updown' has no forecast for 1 traded period"):
        trading_summary(frame)


@pytest.mark.filterwarnings("error")
def test_single_origin_does_not_crash_or_warn():
    table = trading_summary(tidy([100.0, 101.0], {"naive": naive, "oracle": oracle}))
    assert (table["n_periods"] == 1).all()
    assert table["sharpe"].isna().all()
    assert len(trading_curves(tidy([100.0, 101.0], {"oracle": oracle}))) == 2


@settings(max_examples=25, deadline=None)
@given(prices=arrays(np.float64, st.integers(3, 25), elements=st.floats(1.0, 1000.0)),
       seed=st.integers(0, 2**16), cost=st.floats(0.1, 100.0))
def test_costs_never_raise_a_cumulative_return(prices, seed, cost):
    guess = np.random.default_rng(seed).normal(0.0, 1.0, len(prices))
    frame = tidy(prices, {"guess": lambda p, i, s: p[i] + guess[i]}, horizon=2)
    free = trading_summary(frame, cost_bps=0.0)["cumulative_return"].to_numpy()
    costly = trading_summary(frame, cost_bps=cost)["cumulative_return"].to_numpy()
    assert np.all(costly <= free + 1e-12)


def test_a_short_through_a_doubling_is_ruined_not_negative():
    def down(prices: np.ndarray, origin: int, step: int) -> float:
        return float(prices[origin]) * 0.9

    frame = tidy([2.0, 4.0, 5.0], {"down": down})  # short +100%, then +25%
    curves = trading_curves(frame, cost_bps=0.0)
    assert list(curves["down/long_short"]) == [1.0, 0.0, 0.0]
    table = by_strategy(trading_summary(frame, cost_bps=0.0))
    assert table.loc["down/long_short", "max_drawdown"] == -1.0
    assert table.loc["down/long_short", "cumulative_return"] == -1.0
