"""Tests for forecast/refits.py: lane plans, thread and process lanes, warm chains and waves.

The contract under test: scheduling never changes what a fit computes. A refit fitted in a
lane (a thread of this process, or a worker process for fits that draw random numbers while
training) has the same weights as the same refit fitted alone with the same thread count.
The suite runs torch on one thread (conftest.py), so every lane here has one thread too.
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, clone
from synthetic import random_walk_bars

import forecast as fc
from forecast import refits
from forecast.errors import ConfigError, DataError

BARS = random_walk_bars(160, seed=5)
FRAMES = {fold: BARS.iloc[: 100 + 10 * fold] for fold in range(3)}  # 100, 110, 120 rows


def tiny(**params: Any) -> fc.Forecaster:
    settings: dict[str, Any] = {
        "topology": "n_to_1",
        "lookback": 8,
        "horizon": 2,
        "hidden_size": 4,
        "epochs": 2,
        "patience": None,
        "val_fraction": 0.0,
        "device": "cpu",
        "progress": False,
    }
    return fc.Forecaster(**{**settings, **params})


def weights(estimator: fc.Forecaster) -> dict[str, torch.Tensor]:
    return estimator.module_.state_dict()


def same_weights(a: fc.Forecaster, b: fc.Forecaster) -> bool:
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def alone(template: fc.Forecaster, frame: pd.DataFrame) -> fc.Forecaster:
    return clone(template).fit(frame)


# -- plan_lanes --------------------------------------------------------------------------------


def test_plan_of_the_benchmark_folds() -> None:
    sizes = {0: 945, 1: 995, 2: 1045, 3: 1095, 4: 1145}
    assert refits.plan_lanes(sizes, 2) == [[[4, 1], [3, 2]], [[0]]]
    assert refits.plan_lanes(sizes, 5) == [[[4], [3], [2], [1], [0]]]
    assert refits.plan_lanes({0: 10, 1: 20}, 4) == [[[1], [0]]]


@given(
    sizes=st.lists(st.integers(1, 10_000), min_size=1, max_size=12),
    n_jobs=st.integers(1, 6),
)
def test_plan_places_every_fold_once_in_at_most_n_jobs_lanes(sizes: list[int], n_jobs: int) -> None:
    by_fold = dict(enumerate(sizes))
    phases = refits.plan_lanes(by_fold, n_jobs)
    placed = [fold for phase in phases for lane in phase for fold in lane]
    assert sorted(placed) == sorted(by_fold)
    assert all(1 <= len(phase) <= n_jobs for phase in phases)
    if len(sizes) > n_jobs:
        body = phases[0]
        loads = [sum(by_fold[f] for f in lane) for lane in body]
        # greedy longest-first packing: lanes differ by at most one fold's size
        assert max(loads) - min(loads) <= max(sizes)
        if len(phases) == 2:  # the leftover folds are the smallest ones, one per lane
            tail = [lane[0] for lane in phases[1]]
            assert len(tail) == len(sizes) % n_jobs
            assert max(by_fold[f] for f in tail) <= min(by_fold[f] for lane in body for f in lane)


# -- lanes compute what a fit alone computes ---------------------------------------------------


def test_thread_lanes_equal_fits_alone_and_run_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    template = tiny()
    seen: list[str] = []
    fit_one = refits._fit_one

    def spy(estimator: Any, frame: pd.DataFrame) -> refits.FitOutcome:
        seen.append(threading.current_thread().name)
        return fit_one(estimator, frame)

    monkeypatch.setattr(refits, "_fit_one", spy)
    outcomes = refits.fit_folds(template, FRAMES, n_jobs=2)
    assert list(outcomes) == [0, 1, 2]
    assert any(name.startswith("forecast-lane-") for name in seen)
    assert threading.current_thread().name in seen  # lane 0 runs in the caller's thread
    for fold, frame in FRAMES.items():
        assert same_weights(outcomes[fold].estimator, alone(template, frame))
        assert outcomes[fold].seconds > 0
    assert template.__dict__.get("module_") is None  # the template is never fitted


def test_thread_lanes_are_deterministic() -> None:
    first = refits.fit_folds(tiny(seed=3), FRAMES, n_jobs=3)
    second = refits.fit_folds(tiny(seed=3), FRAMES, n_jobs=3)
    assert all(same_weights(first[f].estimator, second[f].estimator) for f in FRAMES)
    other_seed = refits.fit_folds(tiny(seed=4), FRAMES, n_jobs=3)
    assert not same_weights(first[0].estimator, other_seed[0].estimator)


@pytest.mark.parametrize(
    ("params", "in_threads"),
    [
        ({}, True),
        ({"num_layers": 2, "dropout": 0.0}, True),
        ({"num_layers": 1, "dropout": 0.3}, True),  # torch ignores dropout with one layer
        ({"num_layers": 2, "dropout": 0.3}, False),
        ({"topology": "n_to_m", "teacher_forcing": 0.5}, False),
        ({"dropout": "lots"}, False),  # a bad value: the fit names it, wherever it runs
    ],
)
def test_which_fits_may_share_a_process(params: dict[str, Any], in_threads: bool) -> None:
    assert refits._fits_in_threads(tiny(**params)) is in_threads
    assert refits._fits_in_threads(fc.Baseline(method="naive")) is True
    assert refits._fits_in_threads(object()) is False  # unknown estimators: processes


def test_fits_that_draw_random_numbers_run_in_processes_and_equal_fits_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template = tiny(num_layers=2, dropout=0.3)
    used: list[str] = []
    for name in ("_run_in_threads", "_run_in_processes"):
        original = getattr(refits, name)

        def record(*args: Any, _name: str = name, _original: Any = original) -> Any:
            used.append(_name)
            return _original(*args)

        monkeypatch.setattr(refits, name, record)
    outcomes = refits.fit_folds(template, FRAMES, n_jobs=2)
    assert used == ["_run_in_processes"]
    for fold, frame in FRAMES.items():
        assert same_weights(outcomes[fold].estimator, alone(template, frame))


class Exploding(BaseEstimator):
    """Fits instantly, except on frames of ``bad_rows`` rows, where it raises DataError."""

    def __init__(self, bad_rows: int = 0) -> None:
        self.bad_rows = bad_rows

    def _fits_in_threads(self) -> bool:
        return True

    def fit(self, frame: pd.DataFrame) -> Exploding:
        if len(frame) == self.bad_rows:
            raise DataError(f"refusing {len(frame)} rows")
        self.rows_ = len(frame)
        return self


@pytest.mark.parametrize("bad_rows", [100, 110, 120])
def test_an_error_in_any_lane_reaches_the_caller(bad_rows: int) -> None:
    with pytest.raises(DataError, match=f"refusing {bad_rows} rows"):
        refits.fit_folds(Exploding(bad_rows), FRAMES, n_jobs=2)
    outcomes = refits.fit_folds(Exploding(), FRAMES, n_jobs=2)
    assert [outcomes[f].estimator.rows_ for f in FRAMES] == [100, 110, 120]


# -- warm starts -------------------------------------------------------------------------------


def continued(previous: fc.Forecaster, frame: pd.DataFrame, epochs: int) -> fc.Forecaster:
    """What a warm refit must compute: the previous model trained ``epochs`` more epochs."""
    start = refits._starting_point(tiny(), previous, epochs)
    assert start.warm_start is True and start.epochs == epochs
    return start.fit(frame)


def test_warm_chain_continues_each_refit_from_the_one_before() -> None:
    template = tiny(epochs=3)
    outcomes = refits.fit_folds(template, FRAMES, warm_start=True, warm_epochs=1)
    first = alone(template, FRAMES[0])
    assert same_weights(outcomes[0].estimator, first)
    second = continued(first, FRAMES[1], 1)
    assert same_weights(outcomes[1].estimator, second)
    assert same_weights(outcomes[2].estimator, continued(second, FRAMES[2], 1))
    assert not same_weights(outcomes[1].estimator, alone(template, FRAMES[1]))


def test_warm_waves_start_each_wave_from_the_last_model_of_the_wave_before() -> None:
    frames = {fold: BARS.iloc[: 100 + 10 * fold] for fold in range(4)}
    outcomes = refits.fit_folds(tiny(), frames, n_jobs=2, warm_start=True, warm_epochs=1)
    first = outcomes[0].estimator
    assert same_weights(first, alone(tiny(), frames[0]))
    assert same_weights(outcomes[1].estimator, continued(first, frames[1], 1))
    assert same_weights(outcomes[2].estimator, continued(first, frames[2], 1))
    assert same_weights(outcomes[3].estimator, continued(outcomes[2].estimator, frames[3], 1))


def test_default_warm_epochs_are_a_third_of_the_epochs(monkeypatch: pytest.MonkeyPatch) -> None:
    epochs_seen: list[int] = []
    fit_one = refits._fit_one

    def spy(estimator: Any, frame: pd.DataFrame) -> refits.FitOutcome:
        epochs_seen.append(estimator.epochs)
        return fit_one(estimator, frame)

    monkeypatch.setattr(refits, "_fit_one", spy)
    refits.fit_folds(tiny(epochs=7), FRAMES, warm_start=True)
    assert epochs_seen == [7, 2, 2]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"n_jobs": 0}, "n_jobs must be a positive integer or None, got 0"),
        ({"n_jobs": True}, "n_jobs must be a positive integer or None, got True"),
        ({"warm_start": True, "warm_epochs": 0}, "warm_epochs must be a positive integer, got 0"),
    ],
)
def test_bad_scheduling_options_are_one_clear_sentence(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        refits.fit_folds(tiny(), FRAMES, **options)
