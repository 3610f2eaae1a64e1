"""Training faults: a diverging run stops loudly, and Ctrl-C leaves nothing behind.

- A huge learning rate with clipping off, on raw price levels, either turns the loss NaN/inf
  or (LSTM and GRU, whose gates saturate) leaves it finite but a billion times worse than
  predicting zero with weights of 1e6. Both must raise :class:`forecast.TrainingError`, leave
  the estimator unfitted (``save`` raises :class:`forecast.NotFittedError`) and write nothing.
- ``SIGINT`` (Ctrl-C) while ``forecast fit --out DIR`` trains: the installed command exits
  non-zero with one line and no traceback, and neither ``DIR`` nor a temporary sibling of it
  is left on disk.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import forecast as fc
from forecast.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore::forecast.DataWarning")

DIVERGING = {
    "lr": 1e6,
    "clip_grad_norm": None,
    "representation": "levels",
    "scaler": "none",
    "lookback": 5,
    "horizon": 2,
    "hidden_size": 8,
    "epochs": 3,
    "progress": False,
    "device": "cpu",
}


def bars(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    index = pd.bdate_range("2023-01-02", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close}, index
    )


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("topology", ["n_to_1", "n_to_m"])
def test_a_diverging_run_raises_and_leaves_nothing_to_save(
    cell: str, topology: str, tmp_path: Path
) -> None:
    model = fc.Forecaster(cell=cell, topology=topology, nonlinearity="relu", **DIVERGING)

    with pytest.raises(fc.TrainingError, match=r"training diverged|loss became (nan|inf)"):
        model.fit(bars())

    with pytest.raises(fc.NotFittedError, match=r"not fitted yet; call Forecaster\.fit"):
        model.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_the_message_says_how_to_fix_it() -> None:
    model = fc.Forecaster(cell="lstm", **DIVERGING)

    with pytest.raises(fc.TrainingError) as info:
        model.fit(bars())

    message = str(info.value)
    assert message.startswith("training diverged: the loss ended at ")
    assert "lower lr (e.g. by 10x), keep clip_grad_norm on" in message
    assert "\n" not in message


def test_a_diverging_refit_forgets_the_previous_fit(tmp_path: Path) -> None:
    settings: dict[str, Any] = {**DIVERGING, "lr": 1e-3, "clip_grad_norm": 1.0}
    model = fc.Forecaster(cell="gru", **settings).fit(bars())
    assert model.predict(bars()).shape == (2, 1)

    model.set_params(lr=1e6, clip_grad_norm=None)
    with pytest.raises(fc.TrainingError):
        model.fit(bars(seed=1))

    with pytest.raises(fc.NotFittedError):
        model.save(tmp_path / "model")
    with pytest.raises(fc.NotFittedError):
        model.predict(bars())
    assert list(tmp_path.iterdir()) == []


def test_an_ordinary_run_is_not_mistaken_for_a_diverging_one() -> None:
    settings: dict[str, Any] = {**DIVERGING, "lr": 1e-2, "clip_grad_norm": None}
    for cell in ("rnn", "lstm", "gru"):
        model = fc.Forecaster(cell=cell, **settings).fit(bars())
        assert np.isfinite(model.predict(bars()).to_numpy()).all()


def test_the_cli_reports_divergence_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bars().to_csv("bars.csv")
    args = ["fit", "--data", "bars.csv", "--out", "model", "--cell", "gru", "--lr", "1e6"]
    args += ["--clip-grad-norm", "0", "--representation", "levels", "--scaler", "none"]
    args += ["--lookback", "5", "--horizon", "2", "--hidden-size", "8", "--epochs", "3", "-q"]

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: training diverged: the loss ended at ")
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bars.csv"]


# -- Ctrl-C ------------------------------------------------------------------------------------

# Runs the installed `forecast` script exactly as the shell would, after saying "ready" once
# the heavy imports are done (a SIGINT during `import torch` would test Python, not us).
_LAUNCH = (
    "import runpy, sys, forecast.cli; "
    "print('ready', file=sys.stderr, flush=True); "
    "sys.argv = [sys.argv[1], *sys.argv[2:]]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


@pytest.fixture(scope="module")
def interrupted_fit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Start `forecast fit --out DIR` with many epochs, send SIGINT while it trains."""
    script = shutil.which("forecast", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the forecast console script is not installed next to this Python")
    folder = tmp_path_factory.mktemp("sigint")
    out = folder / "model"
    command = [sys.executable, "-c", _LAUNCH, script, "fit", "--out", str(out)]
    command += ["--epochs", "5000", "--patience", "0", "--lookback", "30", "--hidden-size", "32"]
    environment = {**os.environ, "FORECAST_OFFLINE": "1", "PYTHONWARNINGS": "ignore"}
    process = subprocess.Popen(
        command,
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stderr is not None
    assert process.stderr.readline().strip() == "ready"
    time.sleep(2.0)  # loading the bundled data takes well under a second; then it trains
    still_running = process.poll() is None
    process.send_signal(signal.SIGINT)
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return {
        "running": still_running,
        "code": process.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "out": out,
        "left": sorted(p.name for p in folder.iterdir()),
    }


def test_ctrl_c_during_fit_exits_non_zero_with_one_line_and_writes_nothing(
    interrupted_fit: dict[str, Any],
) -> None:
    assert interrupted_fit["running"], "the fit ended before it could be interrupted"
    assert interrupted_fit["code"] not in (0, None)
    assert "Traceback" not in interrupted_fit["stderr"]
    lines = [line for line in interrupted_fit["stderr"].splitlines() if line.strip()]
    assert len(lines) == 1, interrupted_fit["stderr"]
    assert interrupted_fit["stdout"] == ""
    assert not interrupted_fit["out"].exists()
    assert interrupted_fit["left"] == []  # no `.tmp-model.*` either


def test_ctrl_c_during_fit_exits_130_with_the_documented_message(
    interrupted_fit: dict[str, Any],
) -> None:
    assert interrupted_fit["code"] == 130
    assert interrupted_fit["stderr"] == "Interrupted; nothing was written.\n"
