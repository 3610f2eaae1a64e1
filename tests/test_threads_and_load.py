"""Threads per fit and lanes follow the cores other processes leave free (issue 12).

The load is measured for real in the tests marked ``real_load`` (a busy process started by
the test); elsewhere ``busy_elsewhere`` is set to a known load so that the decisions can be
checked exactly.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

import forecast as fc
from forecast import _process, refits
from forecast.training import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
BUSY_LOOP = "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n"


def _load(monkeypatch: pytest.MonkeyPatch, cores_busy: float) -> None:
    monkeypatch.setattr(_process, "busy_elsewhere", lambda seconds=0.05: cores_busy)
    monkeypatch.setattr(_process, "usable_cores", lambda: 2)


@pytest.mark.real_load
def test_a_busy_process_is_seen_as_busy_and_our_own_work_is_not() -> None:
    competitor = subprocess.Popen([sys.executable, "-c", BUSY_LOOP])
    try:
        time.sleep(0.3)
        assert _process.busy_elsewhere(0.3) >= 0.5
    finally:
        competitor.kill()
        competitor.wait()
    # Our own CPU time is not "elsewhere": a busy thread of this process is subtracted.
    stop = threading.Event()
    spinner = threading.Thread(target=lambda: [None for _ in iter(stop.is_set, True)])
    spinner.start()
    try:
        own_busy = _process.busy_elsewhere(0.3)
    finally:
        stop.set()
        spinner.join()
    assert own_busy < _process.usable_cores()  # never the whole machine for our own thread


@pytest.mark.parametrize(
    ("cores_busy", "free"), [(0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1), (2.0, 1), (5.0, 1)]
)
def test_free_cores_are_usable_cores_minus_other_load_rounded(
    monkeypatch: pytest.MonkeyPatch, cores_busy: float, free: int
) -> None:
    _load(monkeypatch, cores_busy)
    assert _process.free_cores() == free


def test_usable_cores_follow_affinity() -> None:
    assert 1 <= _process.usable_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("work", "limit", "cores_busy", "threads"),
    [
        (10_000 * 64, 2, 0.0, 1),  # a tiny model: one thread even on an idle machine
        (35_000 * 64, 2, 0.0, 2),  # the default LSTM, idle: both cores
        (35_000 * 64, 2, 1.0, 1),  # ... beside a busy process: the free core only
        (35_000 * 64, 1, 0.0, 1),  # never more than torch was given
        (500_000 * 64, 2, 2.0, 1),
    ],
)
def test_threads_for_fit_from_model_size_free_cores_and_the_callers_limit(
    monkeypatch: pytest.MonkeyPatch, work: int, limit: int, cores_busy: float, threads: int
) -> None:
    _load(monkeypatch, cores_busy)
    assert _process.threads_for_fit(work, limit) == threads


def test_a_fit_beside_a_busy_process_trains_on_the_free_core_and_gives_threads_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _load(monkeypatch, 1.0)
    seen: list[int] = []

    class Spy(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = torch.nn.LSTM(4, 64, batch_first=True)
            self.head = torch.nn.Linear(64, 1)

        def forward(self, x, lengths, target):  # type: ignore[no-untyped-def]
            seen.append(torch.get_num_threads())
            return self.head(self.rnn(x)[0][:, -1:])

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        X, y = torch.randn(64, 5, 4), torch.randn(64, 1, 1)
        train(Spy(), X, y, TrainConfig(epochs=1, patience=None, device="cpu", progress=False))
        assert seen and set(seen) == {1}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def _frames(n_folds: int) -> dict[int, pd.DataFrame]:
    from synthetic import random_walk_bars

    bars = random_walk_bars(120 + 10 * n_folds, seed=1)
    return {fold: bars.iloc[: 120 + 10 * fold] for fold in range(n_folds)}


def _lanes_used(monkeypatch: pytest.MonkeyPatch, n_jobs: int | None) -> set[str]:
    seen: set[str] = set()
    fit_one = refits._fit_one

    def spy(estimator, frame):  # type: ignore[no-untyped-def]
        seen.add(threading.current_thread().name)
        return fit_one(estimator, frame)

    monkeypatch.setattr(refits, "_fit_one", spy)
    template = fc.Forecaster(lookback=5, horizon=2, hidden_size=4, epochs=1, progress=False)
    refits.fit_folds(template, _frames(4), n_jobs=n_jobs)
    return seen


@pytest.mark.parametrize("n_jobs", [None, 2, 3])
def test_lanes_never_outnumber_the_free_cores(
    monkeypatch: pytest.MonkeyPatch, n_jobs: int | None
) -> None:
    torch.set_num_threads(2)
    try:
        _load(monkeypatch, 1.0)  # one of two cores busy elsewhere: one lane
        assert _lanes_used(monkeypatch, n_jobs) == {threading.current_thread().name}
        _load(monkeypatch, 0.0)  # idle: two lanes (never three on two cores)
        assert len(_lanes_used(monkeypatch, n_jobs)) == 2
    finally:
        torch.set_num_threads(1)


def test_tune_process_sets_passive_waits_only_before_torch_and_keeps_user_values() -> None:
    probe = (
        "import os, sys\n"
        "from forecast._process import tune_process\n"
        "loaded = 'torch' in sys.modules\n"
        "tuning = tune_process()\n"
        "print(loaded, tuning.passive_wait, os.environ.get('OMP_WAIT_POLICY'),"
        " os.environ.get('GOMP_SPINCOUNT'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "KMP_"))}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    if out[0] == "True":  # the package imported torch first: too late, nothing set
        assert out[1:] == ["False", "None", "None"]
    else:
        assert out[1:] == ["True", "PASSIVE", "0"]
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    assert out[1:3] == ["False", "ACTIVE"]  # the user's own setting wins


def test_the_command_line_tunes_its_own_process() -> None:
    """The CLI owns its process: main() opts it in (glibc keeps freed memory)."""
    probe = (
        "import sys\n"
        "import forecast._malloc as malloc\n"
        "from forecast.cli import main\n"
        "sys.argv = ['forecast', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(malloc._applied)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "FORECAST_KEEP_FREED_MEMORY"}
    env["PYTHONPATH"] = str(ROOT)
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    ).stdout.split()
    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert out[-1] == str(expected)
