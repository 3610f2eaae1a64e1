"""Same seed, same numbers (on CPU): byte-identical tables from the CLI, run after run.

The installed ``forecast backtest`` runs twice, each time in a fresh process, with the same
options and ``--out``; its ``metrics.csv`` and ``forecasts.csv`` must be byte-identical.
In-process, fitting twice, stochastic parts included (dropout, scheduled sampling), gives the
same weights and the same forecasts, another seed gives another model (so the comparisons can
fail), and a backtest run twice saves byte-identical tables.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

import forecast as fc

pytestmark = pytest.mark.filterwarnings("ignore::forecast.DataWarning")

TINY = ["--epochs", "1", "--hidden-size", "4", "--lookback", "5", "--horizon", "3"]
RUN = ["backtest", "--data", "AAPL", *TINY, "--test-size", "60", "--folds", "3", "-q"]
TABLES = ("metrics.csv", "forecasts.csv")


def run_cli(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("forecast", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the forecast console script is not installed next to this Python")
    # One torch thread, as in the test session: on a busy 2-core machine a two-thread pool
    # triples the run time. (Same thread count, same numbers: that is what is compared.)
    environment = {
        **os.environ,
        "FORECAST_OFFLINE": "1",
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.run(
        [script, *arguments],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("determinism")
    for name in ("first", "second"):
        result = run_cli([*RUN, "--seed", "7", "--out", name], folder)
        assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("table", TABLES)
def test_the_same_command_twice_writes_byte_identical_tables(runs: Path, table: str) -> None:
    first = (runs / "first" / table).read_bytes()
    second = (runs / "second" / table).read_bytes()

    assert first == second
    assert len(first) > 200


def test_the_tables_hold_the_model_and_its_baselines(runs: Path) -> None:
    forecasts = pd.read_csv(runs / "first" / "forecasts.csv")

    assert set(forecasts["model"]) == {"lstm", "naive", "drift", "seasonal_naive"}
    assert np.isfinite(forecasts["predicted"]).all()


def bars(n: int = 160, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    index = pd.bdate_range("2023-01-02", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close}, index
    )


STOCHASTIC: dict[str, Any] = {
    "cell": "lstm",
    "topology": "n_to_m",
    "num_layers": 2,
    "dropout": 0.3,  # random masks in training
    "teacher_forcing": 0.5,  # scheduled sampling draws from torch's RNG
    "lookback": 6,
    "horizon": 3,
    "hidden_size": 6,
    "epochs": 2,
    "seed": 11,
    "progress": False,
    "device": "cpu",
}


def test_fitting_twice_gives_identical_weights_and_forecasts() -> None:
    torch.manual_seed(123)  # whatever the global RNG holds, fit reseeds it
    first = fc.Forecaster(**STOCHASTIC).fit(bars())
    torch.rand(1000)
    second = fc.Forecaster(**STOCHASTIC).fit(bars())

    one, two = first.module_.state_dict(), second.module_.state_dict()
    assert all(torch.equal(one[name], two[name]) for name in one)
    assert first.history_.train_loss == second.history_.train_loss
    pd.testing.assert_frame_equal(first.predict(bars()), second.predict(bars()), check_exact=True)


def test_another_seed_gives_another_model() -> None:
    first = fc.Forecaster(**STOCHASTIC).fit(bars())
    other = fc.Forecaster(**{**STOCHASTIC, "seed": 12}).fit(bars())

    assert not np.array_equal(first.predict(bars()), other.predict(bars()))


def test_a_backtest_twice_in_one_process_saves_byte_identical_tables(tmp_path: Path) -> None:
    options = {"test_size": 30, "folds": 3, "baselines": ("naive", "drift", "ridge")}
    first = fc.backtest(fc.Forecaster(**STOCHASTIC), bars(), **options).save(tmp_path / "a")
    second = fc.backtest(fc.Forecaster(**STOCHASTIC), bars(), **options).save(tmp_path / "b")

    for table in (*TABLES, "per_step.csv", "trading.csv"):
        assert (first / table).read_bytes() == (second / table).read_bytes(), table
