"""Tests for forecast/forecaster.py: the scikit-learn contract, prices and dates out,
column checks, persistence, seeding and panels.

The per-model fit/predict/save/load checks over the whole zoo live in test_contract.py; this
file tests what the estimator classes promise beyond that.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from synthetic import random_walk_bars

import forecast as fc
from forecast.errors import ConfigError, DataError, ModelFileError, NotFittedError

Bars = Callable[..., pd.DataFrame]


def tiny(**params: object) -> fc.Forecaster:
    """A Forecaster that fits in a fraction of a second."""
    settings: dict[str, object] = {
        "lookback": 10,
        "horizon": 3,
        "hidden_size": 4,
        "epochs": 2,
        "progress": False,
    }
    return fc.Forecaster(**{**settings, **params})


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return random_walk_bars(200)  # business days; the last is Friday 2024-10-04


@pytest.fixture(scope="module")
def fitted(bars: pd.DataFrame) -> fc.Forecaster:
    return tiny().fit(bars)


# -- scikit-learn conventions -------------------------------------------------------------------


def test_init_stores_every_parameter_unchanged_and_checks_nothing() -> None:
    features = ("Open", "Close")
    estimator = fc.Forecaster(cell="bogus", lookback=-3, features=features)

    params = estimator.get_params()
    assert params["cell"] == "bogus"
    assert params["lookback"] == -3
    assert params["features"] is features
    assert set(params) == set(fc.Forecaster().get_params())


def test_invalid_parameters_are_refused_by_fit_with_the_fix(bars: pd.DataFrame) -> None:
    with pytest.raises(ConfigError) as cell:
        tiny(cell="bogus").fit(bars)
    with pytest.raises(ConfigError) as lookback:
        tiny(lookback=0).fit(bars)
    with pytest.raises(ConfigError) as topology:
        tiny(topology="n_to_x").fit(bars)

    assert str(cell.value) == "cell='bogus' is not known; choose one of rnn, lstm, gru."
    assert str(lookback.value) == "lookback of Forecaster must be a positive integer, got 0."
    assert str(topology.value).startswith(
        "topology='n_to_x' is not known; choose one of n_to_1, n_to_n, n_to_m, 1_to_n"
    )


def test_set_params_returns_self_and_changes_only_what_it_names() -> None:
    estimator = tiny()
    before = estimator.get_params()

    assert estimator.set_params(cell="gru", hidden_size=8) is estimator
    assert estimator.get_params() == {**before, "cell": "gru", "hidden_size": 8}
    with pytest.raises(ValueError, match="Invalid parameter 'hiden_size'"):
        estimator.set_params(hiden_size=8)


def test_repr_shows_only_non_default_settings() -> None:
    assert repr(fc.Forecaster(cell="gru", lookback=30)) == "Forecaster(cell='gru', lookback=30)"
    assert repr(fc.Baseline(method="drift", horizon=3)) == "Baseline(horizon=3, method='drift')"


def test_clone_of_a_fitted_model_is_unfitted_with_the_same_params(
    fitted: fc.Forecaster,
) -> None:
    copy = clone(fitted)

    assert copy is not fitted
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "module_")
    with pytest.raises(NotFittedError):
        copy.predict(pd.DataFrame())


def test_fit_returns_self_and_every_learned_attribute_ends_with_underscore(
    bars: pd.DataFrame,
) -> None:
    estimator = tiny()
    before = set(vars(estimator))

    assert estimator.fit(bars) is estimator

    learned = set(vars(estimator)) - before
    assert learned, "fit learned nothing"
    assert all(name.endswith("_") for name in learned), sorted(learned)
    assert {"module_", "transform_", "history_", "fit_columns_", "n_features_in_"} <= learned
    assert estimator.feature_names_in_ == ["Open", "High", "Low", "Close"]  # n_to_m default
    assert estimator.n_features_in_ == 4
    assert estimator.target_names_ == ["Close"]


@pytest.mark.parametrize(
    ("estimator", "name"),
    [(fc.Forecaster(), "Forecaster"), (fc.Baseline(method="naive"), "Baseline")],
)
def test_predict_and_save_before_fit_raise_not_fitted_naming_the_call(
    estimator: fc.Forecaster | fc.Baseline, name: str, bars: pd.DataFrame, tmp_path: Path
) -> None:
    with pytest.raises(NotFittedError) as predict:
        estimator.predict(bars)
    with pytest.raises(NotFittedError) as save:
        estimator.save(tmp_path / "model")

    assert str(predict.value) == (
        f"this {name} is not fitted yet; call {name}.fit(data) before predict()."
    )
    assert str(save.value) == f"this {name} is not fitted yet; call {name}.fit(data) before save()."
    assert isinstance(predict.value, AttributeError)  # what sklearn's check_is_fitted expects
    assert not (tmp_path / "model").exists()


# -- prices and dates out ------------------------------------------------------------------------


def test_predict_gives_prices_on_the_next_business_days(
    fitted: fc.Forecaster, bars: pd.DataFrame
) -> None:
    forecast = fitted.predict(bars)

    assert bars.index[-1] == pd.Timestamp("2024-10-04")  # a Friday
    expected = pd.DatetimeIndex(["2024-10-07", "2024-10-08", "2024-10-09"], name="Date")
    pd.testing.assert_index_equal(forecast.index, expected)
    assert list(forecast.columns) == ["Close"]
    # Prices, not scaled returns: within a few percent of the last close.
    last = bars["Close"].iloc[-1]
    assert np.all(np.abs(forecast["Close"].to_numpy() / last - 1) < 0.1)


def test_predict_uses_only_rows_up_to_the_end_of_the_data(
    fitted: fc.Forecaster, bars: pd.DataFrame
) -> None:
    earlier = fitted.predict(bars.iloc[:150])

    assert earlier.index[0] == bars.index[150]
    assert np.array_equal(earlier.to_numpy(), fitted.forecast_rows(bars, np.array([149]))[0])


def test_hourly_data_gives_hourly_steps(make_bars: Bars) -> None:
    hourly = make_bars(120, freq="h")  # 2024-01-01 00:00 .. 2024-01-05 23:00

    forecast = tiny().fit(hourly).predict(hourly)

    expected = pd.DatetimeIndex(
        ["2024-01-06 00:00", "2024-01-06 01:00", "2024-01-06 02:00"], name="Date"
    )
    pd.testing.assert_index_equal(forecast.index, expected)


def test_daily_data_with_weekends_steps_by_calendar_day(make_bars: Bars) -> None:
    crypto = make_bars(120, freq="D")  # every day: 2024-01-01 .. 2024-04-29 (a Monday)

    forecast = fc.Baseline(method="naive", horizon=3).fit(crypto).predict(crypto)

    expected = pd.DatetimeIndex(["2024-04-30", "2024-05-01", "2024-05-02"], name="Date")
    pd.testing.assert_index_equal(forecast.index, expected)


def test_several_targets_give_one_column_each(bars: pd.DataFrame) -> None:
    estimator = tiny(target=["Close", "Open"]).fit(bars)

    forecast = estimator.predict(bars)

    assert forecast.shape == (3, 2)
    assert list(forecast.columns) == ["Close", "Open"]
    assert estimator.forecast_rows(bars, np.array([50, 60])).shape == (2, 3, 2)  # [N, H, K]


# -- column and data checks ----------------------------------------------------------------------


def test_predict_on_data_missing_fitted_columns_is_a_data_error(
    fitted: fc.Forecaster, bars: pd.DataFrame
) -> None:
    renamed = bars.rename(columns={"Open": "open_price"})

    with pytest.raises(DataError) as error:
        fitted.predict(renamed)

    assert str(error.value) == (
        "Forecaster was fitted on columns ['Open', 'High', 'Low', 'Close'] but the data has "
        "['open_price', 'High', 'Low', 'Close', 'Volume'] (missing ['Open']); pass data with "
        "the same columns."
    )


def test_predict_ignores_extra_columns_and_column_order(
    fitted: fc.Forecaster, bars: pd.DataFrame
) -> None:
    shuffled = bars[["Volume", "Close", "Low", "High", "Open"]].assign(Extra=1.0)

    pd.testing.assert_frame_equal(fitted.predict(shuffled), fitted.predict(bars))


def test_predict_on_something_other_than_a_frame_is_a_data_error(
    fitted: fc.Forecaster, bars: pd.DataFrame
) -> None:
    with pytest.raises(DataError) as error:
        fitted.predict(bars.to_numpy())

    assert str(error.value) == (
        "Forecaster expects a pandas DataFrame of bars, got ndarray; load data with "
        "forecast.load(...)."
    )


def test_predict_on_too_few_rows_is_a_data_error(fitted: fc.Forecaster, bars: pd.DataFrame) -> None:
    with pytest.raises(DataError) as error:
        fitted.predict(bars.iloc[:5])

    # 11 = lookback 10 + the first row, which only serves as the previous price of a return.
    assert str(error.value).startswith("the data has 5 usable rows but at least 11 are needed")


def test_predict_emits_no_warnings_on_clean_data(fitted: fc.Forecaster, bars: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecast = fitted.predict(bars)

    assert forecast.shape == (3, 1)


# -- persistence ---------------------------------------------------------------------------------


def test_save_load_predict_is_identical(
    fitted: fc.Forecaster, bars: pd.DataFrame, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "model")

    loaded = fc.Forecaster.load(folder)

    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "weights.safetensors"]
    assert loaded.get_params() == fitted.get_params()
    pd.testing.assert_frame_equal(loaded.predict(bars), fitted.predict(bars), check_exact=True)
    saved, restored = fitted.module_.state_dict(), loaded.module_.state_dict()
    assert saved.keys() == restored.keys()
    assert all(torch.equal(saved[name], restored[name]) for name in saved)
    assert loaded.history_ == fitted.history_


def test_loading_a_forecaster_as_a_baseline_is_refused(
    fitted: fc.Forecaster, tmp_path: Path
) -> None:
    folder = fitted.save(tmp_path / "model")

    with pytest.raises(ModelFileError) as error:
        fc.Baseline.load(folder)

    assert str(error.value) == f"{str(folder)!r} holds a Forecaster, not a Baseline."


@pytest.fixture
def saved(fitted: fc.Forecaster, tmp_path: Path) -> Path:
    return fitted.save(tmp_path / "model")


def test_a_model_dir_holding_a_pickle_is_refused(saved: Path) -> None:
    (saved / "extra.pkl").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value) == (
        f"{str(saved)!r} contains 'extra.pkl', which may be a pickle; forecast never loads "
        "pickles because they can run code; remove it or re-save the model."
    )


def test_a_pickle_under_an_innocent_name_is_refused(saved: Path) -> None:
    (saved / "notes.txt").write_bytes(pickle.dumps("hello", protocol=4))

    with pytest.raises(ModelFileError, match=re.escape("contains 'notes.txt', which may be")):
        fc.load_model(saved)


def test_a_model_dir_of_another_format_version_is_refused(saved: Path) -> None:
    config = json.loads((saved / "config.json").read_text())
    config["format_version"] = 2
    (saved / "config.json").write_text(json.dumps(config))

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value) == (
        f"{str(saved)!r} has model format version 2 but this forecast reads version 1; "
        "re-save it with a matching forecast version."
    )


def test_a_model_dir_with_unknown_parameters_is_refused(saved: Path) -> None:
    config = json.loads((saved / "config.json").read_text())
    config["params"]["attention_heads"] = 4
    (saved / "config.json").write_text(json.dumps(config))

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value) == (
        f"config.json in {str(saved)!r} has unknown parameters ['attention_heads']; it was "
        "written by another version of forecast; save the model again with this version."
    )


def test_a_model_dir_without_weights_is_refused(saved: Path) -> None:
    (saved / "weights.safetensors").unlink()

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value) == (
        f"{str(saved)!r} has no weights.safetensors but its config.json records one; the "
        "directory is incomplete; save the model again."
    )


def test_a_model_dir_without_config_is_refused(saved: Path) -> None:
    (saved / "config.json").unlink()

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value) == (
        f"{str(saved)!r} has no config.json; it is not a forecast model directory."
    )


def test_a_missing_model_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as error:
        fc.load_model(tmp_path / "nowhere")

    assert str(error.value) == (
        f"no model directory at {str(tmp_path / 'nowhere')!r}; pass the folder written by "
        "Forecaster.save() or 'forecast fit --out'."
    )


def test_weights_of_another_model_are_refused(
    saved: Path, bars: pd.DataFrame, tmp_path: Path
) -> None:
    other = tiny(hidden_size=6).fit(bars).save(tmp_path / "other")
    shutil.copy(other / "weights.safetensors", saved / "weights.safetensors")

    with pytest.raises(ModelFileError) as error:
        fc.load_model(saved)

    assert str(error.value).startswith(f"weights.safetensors in {str(saved)!r} does not match")
    assert str(error.value).endswith("; save the model again.")


def test_save_overwrites_an_existing_model_dir_completely(
    fitted: fc.Forecaster, saved: Path, bars: pd.DataFrame
) -> None:
    (saved / "stale.json").write_text("{}")

    fitted.save(saved)

    assert sorted(p.name for p in saved.iterdir()) == ["config.json", "weights.safetensors"]


# -- seeding -------------------------------------------------------------------------------------


def test_two_fits_with_the_same_seed_give_identical_weights(bars: pd.DataFrame) -> None:
    first = tiny(seed=3).fit(bars).module_.state_dict()
    second = tiny(seed=3).fit(bars).module_.state_dict()
    other = tiny(seed=4).fit(bars).module_.state_dict()

    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    assert not all(torch.equal(first[name], other[name]) for name in first)


# -- panels --------------------------------------------------------------------------------------


def test_panel_fit_and_predict_give_ticker_date_rows() -> None:
    panel = fc.load(["AAPL", "MSFT"])

    forecast = tiny(epochs=1).fit(panel).predict(panel)

    assert forecast.index.names == ["ticker", "Date"]
    assert forecast.shape == (6, 1)
    assert list(forecast.index.get_level_values("ticker")) == ["AAPL"] * 3 + ["MSFT"] * 3
    dates = pd.DatetimeIndex(["2018-02-08", "2018-02-09", "2018-02-12"], name="Date")
    for ticker in ("AAPL", "MSFT"):
        assert panel.xs(ticker).index[-1] == pd.Timestamp("2018-02-07")
        pd.testing.assert_index_equal(forecast.xs(ticker).index, dates)
        last = panel.xs(ticker)["Close"].iloc[-1]
        assert np.all(np.abs(forecast.xs(ticker)["Close"].to_numpy() / last - 1) < 0.1)


def test_a_model_fitted_on_one_series_predicts_a_panel(
    fitted: fc.Forecaster, make_bars: Bars
) -> None:
    panel = pd.concat(
        {"A": make_bars(60, seed=1), "B": make_bars(80, seed=2)}, names=["ticker", "Date"]
    )

    forecast = fitted.predict(panel)

    pd.testing.assert_frame_equal(forecast.xs("B"), fitted.predict(panel.xs("B")))
    assert forecast.xs("A").index[0] > panel.xs("A").index[-1]


# -- Baseline ------------------------------------------------------------------------------------


def test_baseline_follows_the_same_conventions(bars: pd.DataFrame) -> None:
    baseline = fc.Baseline(method="seasonal_naive", horizon=3, season=5)
    copy = clone(baseline)

    assert (
        copy.get_params()
        == baseline.get_params()
        == {
            "method": "seasonal_naive",
            "horizon": 3,
            "target": "Close",
            "season": 5,
            "lags": 10,
            "alpha": 1.0,
            "nan_policy": "drop",
        }
    )
    assert baseline.fit(bars) is baseline
    # seasonal naive with season 5 repeats the last five closes
    expected = bars["Close"].to_numpy()[-5:-2]
    assert np.array_equal(baseline.predict(bars)["Close"].to_numpy(), expected)


def test_baseline_with_an_unknown_method_is_refused_by_fit(bars: pd.DataFrame) -> None:
    with pytest.raises(ConfigError) as error:
        fc.Baseline(method="arima").fit(bars)

    assert str(error.value) == (
        "method='arima' is not a baseline; choose one of naive, seasonal_naive, drift, mean, ridge."
    )
