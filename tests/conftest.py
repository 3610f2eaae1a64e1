"""Shared test settings and fixtures.

Fixtures
--------
one_torch_thread (autouse, session)
    torch runs on one thread for the whole session (measured below).
idle_machine (autouse)
    forecast sees no other process's load, so lanes run as planned on a shared test machine
    (tests marked ``real_load`` see the real load).
make_bars
    ``make_bars(n, seed=..., freq=...)``: :func:`synthetic.random_walk_bars`.
make_sine_bars
    ``make_sine_bars(n, seed=...)``: :func:`synthetic.sine_bars`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pandas as pd
import pytest
import torch
from synthetic import random_walk_bars, sine_bars


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread.

    Measured on the shared 2-core test machine under load: fitting a small LSTM took 17 s
    with torch's default two threads and 0.3 s with one, because the thread pool
    oversubscribes cores that other processes are already using. The models in the tests are
    tiny, so one thread costs nothing on an idle machine either.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def idle_machine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Free cores as on an idle machine: lanes and thread counts do not depend on what the
    other jobs on the test machine are doing (see forecast._process.free_cores)."""
    if request.node.get_closest_marker("real_load") is None:
        monkeypatch.setattr("forecast._process.busy_elsewhere", lambda seconds=0.05: 0.0)


@pytest.fixture
def make_bars() -> Callable[..., pd.DataFrame]:
    return random_walk_bars


@pytest.fixture
def make_sine_bars() -> Callable[..., pd.DataFrame]:
    return sine_bars
