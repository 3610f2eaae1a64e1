"""``tune``: real Optuna studies, tiny models — nested scoring, pruning on fold scores,
resuming after an interruption, the best-config TOML, and the search space rules."""

from __future__ import annotations

import sys
import tomllib

import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

import forecast as fc  # noqa: E402
from forecast import tuning  # noqa: E402
from forecast.search_space import DEFAULT_SPACE, Choice, Range, parse_space, read_space  # noqa: E402
from forecast.tuning import best_config_toml, tune  # noqa: E402

BASE = dict(
    lookback=5, horizon=2, hidden_size=3, epochs=1, patience=None, progress=False, batch_size=64
)
# Small and fixed except for two settings, so each trial is a few tiny fits.
SPACE = {
    "cell": Choice(("lstm", "gru")),
    "hidden_size": Range(2, 6),
    "lookback": 5,
    "epochs": 1,
    "num_layers": 1,
    "lr": 1e-3,
    "batch_size": 64,
    "representation": "log_return",
    "teacher_forcing": 1.0,
}
REGIONS = dict(test_size=20, test_folds=1, tune_size=20, tune_folds=2, n_jobs=1)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    frame = fc.load("AAPL").iloc[-160:]
    frame.attrs["name"] = "AAPL"
    return frame


def _study(path, name="forecast-tune"):
    return optuna.load_study(study_name=name, storage=f"sqlite:///{path}")


def test_trials_never_see_the_test_region_and_the_winner_is_tested_once(
    bars, tmp_path, monkeypatch
):
    fits: list[tuple[int, pd.Timestamp]] = []
    finished: list[int] = []
    fit = fc.Forecaster.fit

    def recording_fit(self, data):
        fits.append((len(finished), data.index[-1]))
        return fit(self, data)

    monkeypatch.setattr(fc.Forecaster, "fit", recording_fit)
    result = tune(
        fc.Forecaster(**BASE),
        bars,
        trials=3,
        space=SPACE,
        storage=tmp_path / "s.db",
        on_trial=lambda trial: finished.append(trial.number),
        **REGIONS,
    )
    test_start = bars.index[-20]
    assert result.settings["test_start"] == str(test_start.date())
    trial_fits = [last for done, last in fits if done < 3]
    final_fits = [last for done, last in fits if done == 3]
    assert len(trial_fits) == 3 * 2  # two tuning folds per trial, none pruned before 4 trials
    assert max(trial_fits) < test_start  # nested: no trial fit reached the test region
    # The winner once on the test region, and the default once more unless it won.
    assert len(final_fits) == (1 if result.best_params == {} else 2)
    assert min(final_fits) == bars.index[-21]  # the test backtest's single fold
    # The winner's tuning score is the lowest, and its test score is the test backtest's MASE.
    table = result.trials
    assert list(table["trial"]) == [0, 1, 2]
    assert table.loc[0, "default"] and not table.loc[1:, "default"].any()
    assert result.tuning_score == pytest.approx(table["tuning_mase"].min())
    row = result.test.metrics.set_index("model").loc["model"]
    assert result.test_score == pytest.approx(row["mase"], rel=1e-9)
    assert result.default_tuning_score == pytest.approx(table.loc[0, "tuning_mase"])
    assert result.test.forecasts["origin"].min() == bars.index[-21]
    # Every fold's pooled score went to Optuna as an intermediate value.
    for trial in _study(tmp_path / "s.db").trials:
        folds = trial.user_attrs["fold_mase"]
        assert sorted(trial.intermediate_values) == [0, 1]
        assert trial.intermediate_values[1] == pytest.approx(trial.value)
        assert len(folds) == 2 and min(folds) <= trial.value <= max(folds)
    assert "best config: tuning MASE" in result.summary()
    assert "test MASE" in result.summary()


def test_an_interrupted_study_resumes_and_the_trial_count_continues(bars, tmp_path, monkeypatch):
    storage = tmp_path / "study.db"
    fit = fc.Forecaster.fit
    calls = {"n": 0}

    def interrupted_fit(self, data):
        calls["n"] += 1
        if calls["n"] == 5:  # the first fit of trial 2 (two folds per trial): Ctrl-C
            raise KeyboardInterrupt
        return fit(self, data)

    monkeypatch.setattr(fc.Forecaster, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        tune(fc.Forecaster(**BASE), bars, trials=4, space=SPACE, storage=storage, **REGIONS)
    states = [t.state for t in _study(storage).trials]
    assert states[:2] == [optuna.trial.TrialState.COMPLETE] * 2
    assert states[2] == optuna.trial.TrialState.FAIL and len(states) == 3

    monkeypatch.setattr(fc.Forecaster, "fit", fit)
    result = tune(fc.Forecaster(**BASE), bars, trials=4, space=SPACE, storage=storage, **REGIONS)
    assert list(result.trials["trial"]) == [0, 1, 2, 3, 4]
    assert list(result.trials["state"]) == ["complete", "complete", "fail", "complete", "complete"]
    # Run again: the study already holds 4 finished trials, so nothing new runs.
    again = tune(fc.Forecaster(**BASE), bars, trials=4, space=SPACE, storage=storage, **REGIONS)
    assert len(again.trials) == 5


def test_a_trial_clearly_worse_after_its_first_fold_is_pruned(bars, tmp_path, monkeypatch):
    monkeypatch.setattr(tuning, "PRUNER_STARTUP_TRIALS", 1)
    storage = tmp_path / "p.db"
    space = {**SPACE, "representation": Choice(("log_return", "levels")), "scaler": "none"}
    base = fc.Forecaster(**BASE, scaler="none")
    tune(base, bars, trials=1, space=space, storage=storage, **REGIONS)
    # Prices learned unscaled by a one-epoch network: forecasts near zero, MASE in the tens.
    _study(storage).enqueue_trial({"representation": "levels", "cell": "lstm", "hidden_size": 3})
    result = tune(base, bars, trials=2, space=space, storage=storage, **REGIONS)
    pruned = result.trials.set_index("trial").loc[1]
    assert pruned["state"] == "pruned" and pruned["representation"] == "levels"
    assert len(pruned["fold_mase"]) == 1  # stopped after its first fold
    assert pruned["tuning_mase"] > 5 * result.trials.loc[0, "tuning_mase"]
    assert result.best_params.get("representation", "log_return") == "log_return"


def test_resuming_with_other_settings_is_refused(bars, tmp_path):
    storage = tmp_path / "s.db"
    tune(fc.Forecaster(**BASE), bars, trials=1, space=SPACE, storage=storage, **REGIONS)
    with pytest.raises(
        fc.ConfigError, match=r"was run with other settings \(tune_size, tune_start differ\)"
    ):
        tune(
            fc.Forecaster(**BASE),
            bars,
            trials=2,
            space=SPACE,
            storage=storage,
            **{**REGIONS, "tune_size": 30},
        )


def test_failed_trials_keep_their_reason_and_the_study_goes_on(bars, tmp_path):
    storage = tmp_path / "f.db"
    space = {**SPACE, "lookback": Choice((5, 500))}
    tune(fc.Forecaster(**BASE), bars, trials=1, space=space, storage=storage, **REGIONS)
    _study(storage).enqueue_trial({"lookback": 500, "cell": "lstm", "hidden_size": 3})
    result = tune(fc.Forecaster(**BASE), bars, trials=2, space=space, storage=storage, **REGIONS)
    table = result.trials.set_index("trial")
    assert table.loc[1, "state"] == "fail" and table.loc[1, "lookback"] == 500
    assert table.loc[1, "error"].startswith("DataError: ")
    assert table.loc[2, "state"] == "complete"  # the study went on to its second finished trial


def test_the_best_config_toml_runs_with_fit_and_backtest(bars, tmp_path):
    from click.testing import CliRunner

    from forecast.cli import cli

    model = fc.Forecaster(**{**BASE, "cell": "gru", "hidden_size": 4, "patience": None})
    path = tmp_path / "best.toml"
    path.write_text(best_config_toml(model, data="AAPL"))
    table = tomllib.loads(path.read_text())
    assert table["cell"] == "gru" and table["hidden-size"] == 4 and table["patience"] == 0
    assert table["data"] == "AAPL" and "progress" not in table
    runner = CliRunner()
    fitted = runner.invoke(cli, ["fit", "--config", str(path), "--out", str(tmp_path / "m"), "-q"])
    assert fitted.exit_code == 0, fitted.output
    loaded = fc.load_model(tmp_path / "m")
    assert (loaded.cell, loaded.hidden_size, loaded.patience) == ("gru", 4, None)
    tested = runner.invoke(
        cli, ["backtest", "--config", str(path), "--test-size", "20", "--folds", "1", "-q"]
    )
    assert tested.exit_code == 0, tested.output
    assert "gru" in tested.output


def test_without_optuna_tune_says_how_to_install_it(bars, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(fc.ConfigError) as caught:
        tune(fc.Forecaster(**BASE), bars, trials=1)
    assert str(caught.value) == (
        "tuning needs Optuna, an optional extra; install it with pip install "
        "'forecast-rnn[tune]' (or pip install optuna)."
    )


# -- the search space ----------------------------------------------------------------------


KNOWN = set(fc.Forecaster().get_params())


def test_a_toml_space_overrides_ranges_choices_and_fixed_values(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        "[space]\n"
        'cell = ["lstm", "gru"]\n'
        "hidden_size = {low = 8, high = 64, log = true}\n"
        "lr = {low = 1e-4, high = 1e-2, log = true}\n"
        "epochs = 10\n"
    )
    space = read_space(path, KNOWN)
    assert space == {
        "cell": Choice(("lstm", "gru")),
        "hidden_size": Range(8, 64, log=True),
        "lr": Range(1e-4, 1e-2, log=True),
        "epochs": 10,
    }
    assert space["hidden_size"].is_int and not space["lr"].is_int


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"hiden_size": 4}, r"names \['hiden_size'\], which are not Forecaster settings"),
        ({"lr": {"low": 1e-2, "high": 1e-4}}, "needs numbers low <= high"),
        ({"lr": {"low": 0.0, "high": 1.0, "log": True}}, "is log-scaled, so low must be > 0"),
        ({"lr": {"min": 0.1}}, r"is not a range; write lr = \{low = ..., high = ...\}"),
        ({"cell": []}, "gives cell an empty list of choices"),
    ],
)
def test_a_bad_space_is_refused(table, message):
    with pytest.raises(fc.ConfigError, match=message):
        parse_space(table, KNOWN)


@pytest.mark.parametrize(
    ("fixed", "sampled", "skipped"),
    [
        ({"cell": "rnn", "topology": "n_to_m"}, {"nonlinearity", "teacher_forcing"}, {"dropout"}),
        ({"cell": "lstm", "topology": "n_to_1"}, {"lookback"}, {"nonlinearity", "teacher_forcing"}),
        ({"cell": "gru", "topology": "1_to_n"}, set(), {"lookback", "teacher_forcing"}),
    ],
)
def test_settings_a_model_ignores_are_not_sampled(fixed, sampled, skipped):
    space = {**DEFAULT_SPACE, **{k: v for k, v in fixed.items() if k != "topology"}}
    space["num_layers"] = 1
    base = {**fc.Forecaster().get_params(), "topology": fixed["topology"]}
    draws = {
        "nonlinearity": "relu",
        "teacher_forcing": 0.7,
        "lookback": 20,
        "hidden_size": 16,
        "lr": 1e-3,
        "epochs": 5,
        "batch_size": 32,
        "representation": "log_return",
        "dropout": 0.1,
    }
    params = tuning._sample(optuna.trial.FixedTrial(draws), space, base)
    assert sampled <= set(params)
    assert not (skipped & set(params))


def test_the_default_space_holds_the_base_forecaster(bars):
    base = fc.Forecaster().get_params()
    for name, dim in DEFAULT_SPACE.items():
        if isinstance(dim, Choice):
            assert base[name] in dim.options, name
        else:
            assert dim.low <= base[name] <= dim.high, name
