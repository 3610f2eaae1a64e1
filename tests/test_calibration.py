"""Null calibration of every significance claim a backtest prints (fixed seeds, CI-sized).

Each test runs the REAL backtest on worlds with no predictable signal against models that
cannot beat naive (``calibration_nulls.py``) and counts how often a printed test rejects at
5%. Tolerances are binomial bands around the nominal rate for the number of runs, not
guesses: 99% for the whole file at once (Bonferroni over its :data:`CHECKS` rates, so one
unlucky rate among eight does not fail CI by chance more than 1% of the time). With a few
dozen runs the band is wide, so these tests catch gross miscalibration (the bug they guard
against rejected 20% of random walks, with p down to 1e-31); ``benchmarks/calibration.py``
measures the rates on thousands of runs.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from calibration_nulls import NullRun, binomial_band, family_z, null_backtest

from forecast import Forecaster

ALPHA = 0.05
# (world, contender) pairs: every world, both null contenders, seeds fixed.
CASES = [("walk", "noisy_naive"), ("walk_drift", "drift_mirror"), ("garch", "drift_mirror"),
         ("fat_tails", "noisy_naive")]
RUNS_PER_CASE = {5: 10, 1: 4}  # origins every H bars (the default) and every bar (overlap)
N_BARS = 500  # 250 test bars after 250 of history: the benchmark's worlds, shorter (faster)
CHECKS = 8  # rates checked below: overall, 5 steps, drift "beats", direction accuracy
Z = family_z(CHECKS)  # ≈ 3.23


@pytest.fixture(scope="module")
def null_runs() -> list[NullRun]:
    """56 null backtests: 40 with the default step (= horizon), 16 with step 1."""
    return [null_backtest(world, contender, seed, step=step, n_bars=N_BARS)
            for step, runs in RUNS_PER_CASE.items()
            for world, contender in CASES
            for seed in range(runs)]


def rejection_share(p_values: list[float]) -> float:
    return float(np.mean(np.asarray(p_values) < ALPHA))


def test_null_runs_use_the_lags_their_overlap_needs(null_runs):
    for run in null_runs:
        if run.step == 5:
            assert (run.lags, run.origins) == (0, 50)
            assert "Diebold–Mariano on 50 non-overlapping origins" in run.verdict
        else:
            assert run.lags == 4 and run.origins == 246
            assert "246 overlapping origins, 4 lags, about 50 independent" in run.verdict


def test_overall_dm_rejects_at_most_the_nominal_rate(null_runs):
    _, high = binomial_band(ALPHA, len(null_runs), Z)
    assert rejection_share([run.overall_p for run in null_runs]) <= high


@pytest.mark.parametrize("step_index", range(5))
def test_every_per_step_dm_rejects_at_most_the_nominal_rate(null_runs, step_index):
    _, high = binomial_band(ALPHA, len(null_runs), Z)
    assert rejection_share([run.step_p[step_index] for run in null_runs]) <= high


def test_the_drift_baseline_never_claims_to_beat_a_driftless_walk_too_often(null_runs):
    # On a walk without drift the drift baseline is (slightly) worse than naive: one-sided,
    # "beats" claims (p < 5% with a lower loss) may occur at most 2.5% of the time.
    driftless = [run for run in null_runs if run.world == "walk"]
    _, high = binomial_band(ALPHA / 2, len(driftless), Z)
    beats = [run.drift_p < ALPHA and run.drift_stat < 0 for run in driftless]
    assert np.mean(beats) <= high


def test_direction_accuracy_of_a_coin_is_half_within_the_binomial_band(null_runs):
    # noisy_naive's predicted direction is the sign of its own independent noise, so each
    # point is an independent fair coin against the actual move: the pooled accuracy is a
    # binomial share with sd sqrt(0.25 / points).
    coins = [run for run in null_runs if run.contender == "noisy_naive"]
    points = sum(run.direction_points for run in coins)
    hits = sum(run.direction * run.direction_points for run in coins)
    low, high = binomial_band(0.5, points, Z)
    assert low <= hits / points <= high


def test_a_model_within_one_percent_of_naive_never_gets_p_below_one_in_a_thousand(null_runs):
    # The reported failure: MASE 1.006 and p = 1e-31. Among these runs (all with MASE within
    # 1% of naive) the chance of any p < 0.001 under a calibrated test is below 5%.
    close = [run for run in null_runs if abs(run.mase - 1) <= 0.01]
    assert len(close) >= 20
    assert min(min(run.overall_p, *run.step_p) for run in close) >= 0.001


@pytest.mark.slow
def test_a_trained_tiny_network_on_a_walk_is_not_declared_different():
    # The shape of the report: a trained network on a random walk with the default settings
    # (1,259 bars, test 250 in 5 folds), MASE near 1. Two walks, three epochs of a 4-unit GRU.
    runs = []
    for seed in (0, 1):
        network = Forecaster(cell="gru", hidden_size=4, lookback=10, epochs=3, patience=None,
                             seed=seed, progress=False)
        runs.append(null_backtest("walk", "gru", seed, estimator=network))
    for run in runs:
        assert abs(run.mase - 1) <= 0.1  # near naive: nothing to learn on a walk
        assert not (run.overall_p < ALPHA and run.overall_stat < 0)  # never "beats"
        assert "Diebold–Mariano on 50 non-overlapping origins" in run.verdict
    close = [run for run in runs if abs(run.mase - 1) <= 0.01]
    assert close  # seed 1: MASE 1.009
    assert all(min(run.overall_p, *run.step_p) >= 0.001 for run in close)


def test_no_table_makes_a_significance_claim_the_harness_does_not_measure():
    # Anything that says "significant" is calibrated here or says nothing: the only test
    # columns of every table a backtest writes are the DM ones measured above. (Direction
    # accuracy and the trading table's Sharpe and hit rate are estimates without a test.)
    from calibration_nulls import NullBaseline, walk

    from forecast import backtest

    result = backtest(NullBaseline(), walk(400, np.random.default_rng(0)), test_size=100,
                      folds=2, model_name="noisy_naive")
    claim = re.compile(r"p_?val|signif|stat|t_?test|z_?score|confidence", re.IGNORECASE)
    tables = {"metrics": result.metrics, "per_step": result.per_step,
              "trading": result.trading}
    tested = {name: sorted(c for c in table.columns if claim.search(c))
              for name, table in tables.items()}
    assert tested == {"metrics": ["dm_pvalue", "dm_stat"], "per_step": ["dm_pvalue", "dm_stat"],
                      "trading": []}
