"""Conformal intervals: the rank by hand, the warm-up, the window, nominal coverage on
simulated random walks (fixed seed, tolerance from the binomial standard error) and the
adaptive version following a volatility shift."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ConfigError
from forecast.intervals.conformal import conformal_intervals, conformal_quantile, log_scores


def naive_forecasts(prices: np.ndarray, horizon: int, model: str = "naive") -> pd.DataFrame:
    """Tidy naive forecasts from every origin of one price path ``[L]`` (dense origins)."""
    dates = pd.bdate_range("2010-01-01", periods=prices.size)
    n_origins = prices.size - horizon
    origin = np.repeat(np.arange(n_origins), horizon)
    step = np.tile(np.arange(1, horizon + 1), n_origins)
    return pd.DataFrame({
        "model": model, "origin": dates[origin], "target_date": dates[origin + step],
        "step": step, "actual": prices[origin + step], "predicted": prices[origin],
        "origin_price": prices[origin],
    })


def random_walk(rng: np.random.Generator, n: int, sigma: float | np.ndarray = 0.01) -> np.ndarray:
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 1.0, n) * sigma))


def test_conformal_quantile_is_the_finite_sample_rank() -> None:
    scores = np.array([0.04, 0.01, 0.03, 0.02])
    assert conformal_quantile(scores, 0.5) == 0.03  # ceil(5 * 0.5) = 3rd smallest
    assert conformal_quantile(scores, 0.6) == 0.03  # ceil(3.0) = 3
    assert conformal_quantile(scores, 0.61) == 0.04
    assert conformal_quantile(scores, 0.9) == 0.04  # rank 5 > n: clipped to the largest
    assert conformal_quantile(scores, 0.0) == 0.0


def test_intervals_by_hand_on_a_tiny_frame() -> None:
    prices = np.array([100.0, 101.0, 99.0, 102.0, 102.0, 100.0])
    frame = naive_forecasts(prices, 1)
    out = conformal_intervals(frame, 0.5, min_calibration=2, window=None)
    scores = log_scores(frame["actual"], frame["predicted"])
    # Origin 3 knows the outcomes of origins 0, 1, 2 (targets 1, 2, 3 <= 3).
    half = np.sort(scores[:3])[math.ceil(4 * 0.5) - 1]
    assert out.loc[3, "lower_50"] == pytest.approx(102.0 * math.exp(-half))
    assert out.loc[3, "upper_50"] == pytest.approx(102.0 * math.exp(half))
    assert out.loc[3, "n_calibration"] == 3
    assert out.loc[3, "calibration_end"] == frame.loc[2, "target_date"]
    assert out.loc[:1, "lower_50"].isna().all()  # fewer than two known scores


def test_a_level_waits_for_the_scores_it_needs_and_the_window_caps_them() -> None:
    rng = np.random.default_rng(0)
    frame = naive_forecasts(random_walk(rng, 80), 2)
    out = conformal_intervals(frame, (0.8, 0.95), min_calibration=5, window=30)
    n = out["n_calibration"]
    assert out.loc[n < 5, "lower_80"].isna().all() and out.loc[n >= 5, "lower_80"].notna().all()
    assert out.loc[n < 19, "lower_95"].isna().all() and out.loc[n >= 19, "upper_95"].notna().all()
    assert n.max() == 30
    known = out["calibration_end"].notna()
    assert (out.loc[known, "calibration_end"] <= frame.loc[known, "origin"]).all()
    bounded = out["lower_95"].notna()
    assert (out.loc[bounded, "lower_95"] <= out.loc[bounded, "lower_80"]).all()
    assert (frame.loc[bounded, "predicted"] <= out.loc[bounded, "upper_80"]).all()


def test_intervals_are_calibrated_per_model_and_step() -> None:
    rng = np.random.default_rng(1)
    prices = random_walk(rng, 120)
    calm = naive_forecasts(prices, 2, model="calm")
    wild = calm.assign(model="wild", predicted=calm["predicted"] * 1.05)  # a biased model
    out = conformal_intervals(pd.concat([calm, wild], ignore_index=True), 0.8)
    widths = (out["upper_80"] - out["lower_80"]).groupby([
        pd.concat([calm, wild], ignore_index=True)["model"],
    ]).mean()
    assert widths["wild"] > 3 * widths["calm"]  # its own residuals, not the other model's


@pytest.mark.parametrize("level", [0.8, 0.95])
def test_conformal_coverage_on_constant_volatility_random_walks_is_nominal(level: float) -> None:
    rng = np.random.default_rng(2026)
    frames = [naive_forecasts(random_walk(rng, 330), 1).assign(ticker=f"s{i}") for i in range(40)]
    frame = pd.concat(frames, ignore_index=True)
    out = conformal_intervals(frame, level)
    bounded = out[f"lower_{level * 100:g}"].notna()
    actual = frame.loc[bounded, "actual"]
    inside = (actual >= out.loc[bounded, f"lower_{level * 100:g}"]) & (
        actual <= out.loc[bounded, f"upper_{level * 100:g}"]
    )
    n = int(bounded.sum())
    tolerance = 3 * math.sqrt(level * (1 - level) / n)
    assert tolerance <= 0.02  # the test is sharp enough for "within 2 points"
    assert abs(inside.mean() - level) <= tolerance


def test_adaptive_intervals_follow_a_volatility_shift_that_static_ones_miss() -> None:
    rng = np.random.default_rng(3)
    sigma = np.r_[np.full(300, 0.005), np.full(300, 0.02)]
    frame = pd.concat(
        [
            naive_forecasts(random_walk(rng, 600, sigma), 1).assign(ticker=f"s{i}")
            for i in range(10)
        ],
        ignore_index=True,
    )
    after_shift = frame["origin"] >= pd.bdate_range("2010-01-01", periods=600)[300]

    def coverage(out: pd.DataFrame) -> float:
        rows = after_shift & out["lower_80"].notna()
        actual = frame.loc[rows, "actual"]
        inside = (actual >= out.loc[rows, "lower_80"]) & (actual <= out.loc[rows, "upper_80"])
        return float(inside.mean())

    static = coverage(conformal_intervals(frame, 0.8, window=None))
    adaptive = coverage(conformal_intervals(frame, 0.8, window=None, adaptive=True, gamma=0.05))
    assert static < 0.6  # the old calm residuals dominate the calibration set
    assert abs(adaptive - 0.8) <= 0.05


def test_bad_options_are_refused_in_one_sentence() -> None:
    frame = naive_forecasts(np.linspace(100, 110, 30), 1)
    with pytest.raises(ConfigError, match=r"0\.9 for a 90% interval"):
        conformal_intervals(frame, 90)
    with pytest.raises(ConfigError, match="window must be None or an integer"):
        conformal_intervals(frame, 0.9, window=0)
    with pytest.raises(ConfigError, match="gamma must be a step size"):
        conformal_intervals(frame, 0.9, adaptive=True, gamma=2.0)
