"""``backtest(..., intervals=...)``: bounds in the forecasts, the interval tables, every
contender on the same points, the verdict's clause, and nothing changed without intervals."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import forecast as fc

LEVELS = (0.8, 0.95)
BOUNDS = ["lower_80", "upper_80", "lower_95", "upper_95"]


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    from synthetic import random_walk_bars

    return random_walk_bars(420, seed=4)


@pytest.fixture(scope="module")
def result(bars: pd.DataFrame) -> fc.BacktestResult:
    return fc.backtest(fc.Baseline(method="drift", horizon=3), bars, test_size=240, folds=3,
                       intervals=LEVELS)


def test_forecasts_gain_ordered_bounds_after_the_warm_up(result: fc.BacktestResult) -> None:
    frame = result.forecasts
    assert set(BOUNDS) <= set(frame.columns)
    bounded = frame[BOUNDS].notna().all(axis=1)
    assert bounded.mean() > 0.85  # only the first origins of the test region lack them
    rows = frame[bounded]
    assert (rows["lower_95"] <= rows["lower_80"]).all()
    assert (rows["lower_80"] <= rows["predicted"]).all()
    assert (rows["predicted"] <= rows["upper_80"]).all()
    assert (rows["upper_80"] <= rows["upper_95"]).all()
    late = frame["origin"] >= frame["origin"].sort_values().iloc[len(frame) // 4]
    assert bounded[late].all()


def test_interval_table_scores_every_contender_on_the_same_points(
    result: fc.BacktestResult,
) -> None:
    table = result.interval_metrics
    models = {"drift", "naive", "seasonal_naive", "empirical_quantile", "ewma_vol"}
    for level in LEVELS:
        rows = table[np.isclose(table["level"], level)]
        assert set(rows["model"]) == models
        assert rows["n_points"].nunique() == 1
        assert ((rows["coverage"] > 0) & (rows["coverage"] <= 1)).all()
        assert rows["best_baseline"].isin(["empirical_quantile", "ewma_vol"]).all()
        model_rows = rows[~rows["model"].isin(["empirical_quantile", "ewma_vol"])]
        assert model_rows[["dm_stat", "dm_pvalue"]].notna().all().all()
        best = rows[rows["model"] == rows["best_baseline"].iloc[0]]
        assert best["relative_score"].iloc[0] == pytest.approx(1.0)
    steps = result.interval_per_step
    assert set(steps["step"]) == {1, 2, 3}
    per_model = steps.groupby(["model", "level"])["n_points"].sum()
    overall = table.set_index(["model", "level"])["n_points"]
    assert per_model.sort_index().equals(overall.sort_index())


def test_metrics_and_verdict_gain_the_interval_columns_and_clause(
    result: fc.BacktestResult,
) -> None:
    assert {"coverage_80", "interval_score_95", "kupiec_p_80"} <= set(result.metrics.columns)
    sentence = result.verdict()
    assert "its 80% intervals cover" in sentence and "(Kupiec p" in sentence
    assert "baseline (DM p" in sentence
    assert result.config["intervals"] == list(LEVELS)


def test_reported_bounds_are_those_of_the_dense_calibration_run(
    bars: pd.DataFrame, result: fc.BacktestResult
) -> None:
    # With step=1 every origin is reported: the rows of the step=3 run must be among them.
    dense = fc.backtest(fc.Baseline(method="drift", horizon=3), bars, test_size=240, folds=3,
                        step=1, intervals=LEVELS, baselines=("seasonal_naive",))
    keys = ["model", "origin", "step"]
    merged = result.forecasts.merge(dense.forecasts, on=keys, suffixes=("", "_dense"))
    assert len(merged) == len(result.forecasts)
    for column in ["predicted", *BOUNDS]:
        np.testing.assert_array_equal(merged[column], merged[f"{column}_dense"])


def test_without_intervals_nothing_changes(bars: pd.DataFrame, result: fc.BacktestResult) -> None:
    plain = fc.backtest(fc.Baseline(method="drift", horizon=3), bars, test_size=240, folds=3)
    assert plain.interval_metrics.empty and "lower_80" not in plain.forecasts
    pd.testing.assert_frame_equal(plain.forecasts, result.forecasts[plain.forecasts.columns])
    assert "intervals cover" not in plain.verdict()


def test_a_recurrent_model_gets_conformal_intervals(bars: pd.DataFrame) -> None:
    model = fc.Forecaster(cell="gru", lookback=8, horizon=2, hidden_size=4, epochs=1,
                          patience=None, val_fraction=0.0, seed=0, progress=False)
    out = fc.backtest(model, bars.iloc[:260], test_size=100, folds=2, intervals=0.9,
                      baselines=(), adaptive_intervals=True)
    rows = out.interval_metrics
    assert set(rows["model"]) == {"gru", "naive", "empirical_quantile", "ewma_vol"}
    assert out.forecasts.loc[out.forecasts["model"] == "gru", "upper_90"].notna().sum() > 70


def test_naive_intervals_cover_nominally_on_random_walks(
    make_bars: Callable[..., pd.DataFrame],
) -> None:
    hits = points = 0
    for seed in range(12):
        out = fc.backtest(fc.Baseline(method="naive", horizon=1), make_bars(560, seed=seed),
                          test_size=300, folds=1, baselines=(), intervals=0.8)
        rows = out.forecasts.dropna(subset=["lower_80"])
        inside = (rows["actual"] >= rows["lower_80"]) & (rows["actual"] <= rows["upper_80"])
        hits += int(inside.sum())
        points += len(rows)
    assert abs(hits / points - 0.8) <= 3 * math.sqrt(0.16 / points)


def test_a_bad_level_is_refused_before_any_fit(bars: pd.DataFrame) -> None:
    with pytest.raises(fc.ConfigError, match="outside"):
        fc.backtest(fc.Baseline(method="drift", horizon=3), bars, intervals=(0.8, 95))


def test_predict_with_intervals_uses_the_backtest_residuals_and_survives_save_load(
    bars: pd.DataFrame, result: fc.BacktestResult, tmp_path
) -> None:
    from forecast.intervals import calibrate
    from forecast.intervals.conformal import conformal_quantile

    model = fc.Baseline(method="drift", horizon=3).fit(bars)
    with pytest.raises(fc.ConfigError, match="no out-of-sample residuals"):
        model.predict(bars, intervals=0.9)
    calibrate(model, result)
    out = model.predict(bars, intervals=LEVELS)
    assert list(out.columns) == ["Close", *BOUNDS]
    scores = result.interval_calibration.scores
    for h in (1, 2, 3):
        half = conformal_quantile(np.asarray(scores[h]), 0.8)
        assert out["upper_80"].iloc[h - 1] == pytest.approx(out["Close"].iloc[h - 1] * np.exp(half))
    latest = result.forecasts.loc[result.forecasts["model"] == "drift", "target_date"].max()
    assert pd.Timestamp(result.interval_calibration.through) == latest
    model.save(tmp_path / "drift")
    again = fc.load_model(tmp_path / "drift")
    pd.testing.assert_frame_equal(again.predict(bars, intervals=LEVELS), out)
    assert "interval_calibration" in (tmp_path / "drift" / "config.json").read_text()
    with pytest.raises(fc.ConfigError, match="other parameters"):
        calibrate(fc.Baseline(method="naive", horizon=3).fit(bars), result)


def test_the_report_writes_interval_tables_and_figures(
    result: fc.BacktestResult, tmp_path
) -> None:
    folder = result.save(tmp_path / "run")
    for name in ("intervals.csv", "interval_per_step.csv", "interval_baselines.csv", "fan.png",
                 "coverage_by_step.png"):
        assert (folder / name).stat().st_size > 0, name
    header = (folder / "forecasts.csv").read_text().splitlines()[0].split(",")
    assert header[-4:] == BOUNDS
    table = pd.read_csv(folder / "intervals.csv")
    assert len(table) == len(result.interval_metrics)
    page = (folder / "report.html").read_text()
    assert "Coverage by horizon step" in page and "intervals cover" in page
