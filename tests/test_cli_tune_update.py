"""``forecast update`` and ``forecast tune`` through Click's runner: files written, refusals as
one line with exit code 1, and the best-config TOML accepted by ``forecast backtest``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import forecast as fc
from forecast.cli import cli

TINY = ["--lookback", "5", "--horizon", "2", "--hidden-size", "3", "--epochs", "1", "-q"]


@pytest.fixture(scope="module")
def csvs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bars")
    bars = fc.load("AAPL").iloc[-160:]
    paths = {
        "old": folder / "old.csv",
        "new": folder / "new.csv",
        "gap": folder / "gap.csv",
    }
    bars.iloc[:-5].to_csv(paths["old"])
    bars.to_csv(paths["new"])
    bars.drop(bars.index[-5:-2]).to_csv(paths["gap"])
    return paths


def test_update_writes_a_version_and_forecasts_then_changes_nothing(tmp_path, csvs):
    runner = CliRunner()
    model = tmp_path / "m"
    fitted = runner.invoke(cli, ["fit", "--data", str(csvs["old"]), "--out", str(model), *TINY])
    assert fitted.exit_code == 0, fitted.output
    out = tmp_path / "next.csv"
    command = ["update", "--model", str(model), "--data", str(csvs["new"]), "--output", str(out)]
    first = runner.invoke(cli, command)
    assert first.exit_code == 0, first.output
    last = pd.read_csv(csvs["new"], index_col=0, parse_dates=True).index[-1]
    version = tmp_path / f"m@{last.date()}"
    assert f"5 new bar(s); wrote {version}" in first.output
    forecasts = pd.read_csv(out, parse_dates=["origin", "target_date"])
    assert list(forecasts.columns) == ["origin", "target_date", "step", "Close"]
    assert (forecasts["origin"] == last).all() and len(forecasts) == 2
    stamp = out.stat().st_mtime_ns
    second = runner.invoke(cli, command)
    assert second.exit_code == 0, second.output
    assert f"{version} has already seen every bar given; nothing changed" in second.output
    assert out.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", version.name, "next.csv"]


def test_update_refuses_bars_with_a_gap_in_one_line(tmp_path, csvs):
    runner = CliRunner()
    model = tmp_path / "m"
    runner.invoke(cli, ["fit", "--data", str(csvs["old"]), "--out", str(model), *TINY])
    refused = runner.invoke(cli, ["update", "--model", str(model), "--data", str(csvs["gap"])])
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the new bar on ")
    assert lines[0].endswith(
        "add the missing bars, or pass force=True (--force) to accept the gap."
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    forced = runner.invoke(
        cli, ["update", "--model", str(model), "--data", str(csvs["gap"]), "--force", "-q"]
    )
    assert forced.exit_code == 0, forced.output


def test_update_needs_an_explicit_scaler_policy_to_fine_tune(tmp_path, csvs):
    runner = CliRunner()
    model = tmp_path / "m"
    runner.invoke(cli, ["fit", "--data", str(csvs["old"]), "--out", str(model), *TINY])
    refused = runner.invoke(
        cli, ["update", "--model", str(model), "--data", str(csvs["new"]), "--epochs", "2"]
    )
    assert refused.exit_code == 1
    assert "needs an explicit scaler policy" in refused.output
    tuned = runner.invoke(
        cli,
        [
            "update",
            "--model",
            str(model),
            "--data",
            str(csvs["new"]),
            "--epochs",
            "2",
            "--scaler",
            "frozen",
            "--json",
        ],
    )
    assert tuned.exit_code == 0, tuned.output
    assert '"windows": 5' in tuned.output


def test_tune_writes_the_study_the_trials_and_a_best_config_backtest_runs(tmp_path, csvs):
    pytest.importorskip("optuna")
    runner = CliRunner()
    space = tmp_path / "space.toml"
    space.write_text(
        '[space]\ncell = ["lstm", "gru"]\nnum-layers = 1\nbatch_size = 64\n'
        'lr = 0.001\nrepresentation = "log_return"\nteacher_forcing = 1.0\n'
    )
    out = tmp_path / "tune"
    command = [
        "tune",
        "--data",
        str(csvs["new"]),
        "--trials",
        "2",
        "--space",
        str(space),
        "--test-size",
        "20",
        "--test-folds",
        "1",
        "--tune-size",
        "20",
        "--tune-folds",
        "2",
        "--out",
        str(out),
        "--n-jobs",
        "1",
        *TINY,
    ]
    result = runner.invoke(cli, command)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["best.toml", "study.db", "trials.csv"]
    assert "best config: tuning MASE" in result.output
    trials = pd.read_csv(out / "trials.csv")
    assert list(trials["trial"]) == [0, 1]
    best = tomllib.loads((out / "best.toml").read_text())
    # Options given on the command line stayed fixed; the cell was searched.
    assert (best["lookback"], best["hidden-size"], best["epochs"]) == (5, 3, 1)
    assert best["cell"] in ("lstm", "gru") and best["data"] == str(csvs["new"])
    tested = runner.invoke(
        cli,
        ["backtest", "--config", str(out / "best.toml"), "--test-size", "20", "--folds", "1", "-q"],
    )
    assert tested.exit_code == 0, tested.output
    # Running it again resumes the study: two more trials reach --trials 4.
    more = runner.invoke(cli, [*command[:3], "--trials", "4", *command[5:]])
    assert more.exit_code == 0, more.output
    assert list(pd.read_csv(out / "trials.csv")["trial"]) == [0, 1, 2, 3]


def test_tune_without_optuna_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "optuna", None)
    result = CliRunner().invoke(cli, ["tune", "--trials", "1"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: tuning needs Optuna, an optional extra; install it with pip install "
        "'forecast-rnn[tune]' (or pip install optuna)."
    )
