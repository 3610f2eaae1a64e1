"""Tests for forecast/backtest.py and forecast/report.py: folds, origins, leakage, metrics on
series with known answers, the saved report, replay from config.json, figures and panels.

Positions below are rows of the test frames: with 300 bars and test_size=60 the test region
is rows 240..299 and the first origin is row 239.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from synthetic import random_walk_bars

import forecast as fc
from forecast.data.transforms import SeriesTransform
from forecast.errors import ConfigError, DataError

H = 5
BARS = random_walk_bars(300, seed=11)
NAIVE = fc.Baseline(method="naive", horizon=H)  # backtest clones it: safe to share


def tiny(**params: object) -> fc.Forecaster:
    settings: dict[str, object] = {
        "lookback": 10,
        "horizon": H,
        "hidden_size": 4,
        "epochs": 1,
        "progress": False,
    }
    return fc.Forecaster(**{**settings, **params})


def line_bars(n: int = 120) -> pd.DataFrame:
    """Close = 100 + t: the naive forecast misses step h by exactly h; drift is exact."""
    close = 100.0 + np.arange(n)
    index = pd.bdate_range("2021-01-01", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close - 0.5, "High": close + 1.0, "Low": close - 1.0, "Close": close},
        index=index,
    )


def rows_of(dates: pd.Series | pd.Index, frame: pd.DataFrame = BARS) -> np.ndarray:
    return frame.index.get_indexer(pd.DatetimeIndex(dates))


@pytest.fixture(scope="module")
def result() -> fc.BacktestResult:
    """One small Forecaster backtest, shared: 3 folds of 20 bars, a refit before each."""
    return fc.backtest(tiny(), BARS, test_size=60, folds=3, keep_models=True)


@pytest.fixture(scope="module")
def report(result: fc.BacktestResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return result.save(tmp_path_factory.mktemp("report") / "run")


# -- metrics on known answers --------------------------------------------------------------------


def test_on_a_straight_line_naive_misses_by_the_step_and_drift_is_exact() -> None:
    result = fc.backtest(NAIVE, line_bars(), test_size=40, folds=2)

    metrics = result.metrics.set_index("model")
    assert metrics.loc["naive", "mae"] == 3.0  # mean of 1, 2, 3, 4, 5
    assert metrics.loc["naive", "rmse"] == pytest.approx(np.sqrt(11.0), rel=1e-12)
    assert metrics.loc["drift", "mae"] == pytest.approx(0.0, abs=1e-9)
    assert metrics.loc["drift", "mase"] == pytest.approx(0.0, abs=1e-9)


def test_naive_mae_equals_the_hand_computed_one(result: fc.BacktestResult) -> None:
    close = BARS["Close"].to_numpy()
    origins = np.arange(239, 300 - H, H)  # the last bar before the test region, every H bars
    errors = close[origins[:, None] + np.arange(1, H + 1)] - close[origins, None]  # [N, H]

    metrics = result.metrics.set_index("model")

    assert metrics.loc["naive", "mae"] == pytest.approx(np.abs(errors).mean(), rel=1e-12)
    assert metrics.loc["naive", "n_points"] == errors.size == 60


def test_mase_of_the_naive_forecast_is_exactly_one(result: fc.BacktestResult) -> None:
    metrics = result.metrics.set_index("model")

    assert metrics.loc["naive", "mase"] == 1.0
    assert metrics.loc["naive", "theil_u"] == 1.0


def test_verdict_of_naive_against_itself() -> None:
    result = fc.backtest(NAIVE, BARS, test_size=60, folds=3)

    assert result.verdict() == (
        "naive is the naive random walk itself (MASE 1.00); there is nothing to test."
    )


# -- folds, refits and origins -------------------------------------------------------------------


@pytest.mark.parametrize(("refit", "refit_folds"), [(1, [0, 1, 2, 3, 4]), (2, [0, 2, 4]), (0, [0])])
def test_refit_every_k_folds(
    refit: int, refit_folds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted_until: list[pd.Timestamp] = []
    fit = fc.Forecaster.fit

    def counting_fit(self: fc.Forecaster, data: pd.DataFrame) -> fc.Forecaster:
        fitted_until.append(data.index[-1])
        return fit(self, data)

    monkeypatch.setattr(fc.Forecaster, "fit", counting_fit)
    bars = BARS.iloc[:150]

    result = fc.backtest(
        tiny(hidden_size=2), bars, test_size=50, folds=5, refit=refit, keep_models=True
    )

    folds = result.folds
    assert len(fitted_until) == len(refit_folds)
    assert sorted(result.models) == refit_folds
    assert folds["refit"].tolist() == [fold in refit_folds for fold in range(5)]
    assert sorted(fitted_until) == folds.loc[refit_folds, "train_end"].tolist()
    assert (folds.loc[~folds["refit"], "fit_seconds"] == 0.0).all()


@pytest.mark.parametrize("gap", [0, 3])
def test_expanding_folds_train_on_everything_before_the_gap(gap: int) -> None:
    result = fc.backtest(
        fc.Baseline(method="naive", horizon=H), BARS, test_size=60, folds=3, gap=gap
    )

    folds = result.folds
    test_starts = rows_of(folds["test_start"])
    assert test_starts.tolist() == [240, 260, 280]
    assert rows_of(folds["test_end"]).tolist() == [259, 279, 299]
    assert (folds["train_start"] == BARS.index[0]).all()
    assert (rows_of(folds["train_end"]) == test_starts - 1 - gap).all()
    assert folds["train_bars"].tolist() == (test_starts - gap).tolist()


def test_sliding_folds_train_on_the_last_train_length_bars() -> None:
    result = fc.backtest(
        fc.Baseline(method="naive", horizon=H),
        BARS,
        test_size=60,
        folds=3,
        window="sliding",
        train_length=100,
        gap=2,
    )

    folds = result.folds
    train_ends = rows_of(folds["train_end"])
    assert train_ends.tolist() == [237, 257, 277]
    assert rows_of(folds["train_start"]).tolist() == (train_ends - 99).tolist()
    assert (folds["train_bars"] == 100).all()


def test_test_start_opens_the_test_region_on_that_date() -> None:
    result = fc.backtest(
        fc.Baseline(method="naive", horizon=H), BARS, test_start=BARS.index[240], folds=3
    )

    assert result.folds["test_start"].iloc[0] == BARS.index[240]
    assert result.config["test_start"] == str(BARS.index[240].date())
    assert result.config["test_size"] == 60


def test_test_start_is_honoured_when_the_region_does_not_split_evenly() -> None:
    result = fc.backtest(
        fc.Baseline(method="naive", horizon=H), BARS, test_start=BARS.index[200], folds=3
    )

    assert result.folds["test_start"].iloc[0] == BARS.index[200]


def _check_each_test_bar_forecast_once(result: fc.BacktestResult, first: int, step: int) -> None:
    for _, forecasts in result.forecasts.groupby("model"):
        origins = rows_of(forecasts["origin"].drop_duplicates())
        assert origins[0] == first - 1
        assert (np.diff(origins) == step).all()
        targets = rows_of(forecasts["target_date"])
        assert sorted(targets) == list(range(first, len(BARS)))


def test_with_step_equal_to_horizon_every_test_bar_is_forecast_exactly_once(
    result: fc.BacktestResult,
) -> None:
    _check_each_test_bar_forecast_once(result, first=240, step=H)
    assert result.config["step"] == H


def test_origins_keep_one_grid_across_folds_of_any_size() -> None:
    result = fc.backtest(NAIVE, BARS, test_size=60, folds=5)

    assert rows_of(result.folds["test_start"]).tolist() == [240, 252, 264, 276, 288]
    _check_each_test_bar_forecast_once(result, first=240, step=H)


def test_origins_come_every_step_rows() -> None:
    result = fc.backtest(
        fc.Baseline(method="naive", horizon=H), BARS, test_size=60, folds=3, step=2
    )

    origins = rows_of(result.forecasts["origin"].drop_duplicates())
    assert origins[0] == 239
    assert (np.diff(origins) == 2).all()
    assert origins[-1] == 293  # the last origin on the grid with H bars after it
    assert (result.forecasts.groupby("origin").size() == H * 3).all()  # 3 models


# -- leakage and fairness -------------------------------------------------------------------------


def test_no_fold_scaler_saw_a_row_of_its_test_block(result: fc.BacktestResult) -> None:
    assert sorted(result.models) == [0, 1, 2]
    folds = result.folds.set_index("fold")
    for fold, model in result.models.items():
        columns = model.fit_columns_
        train = BARS.loc[folds.loc[fold, "train_start"] : folds.loc[fold, "train_end"], columns]
        with_test = BARS.loc[folds.loc[fold, "train_start"] : folds.loc[fold, "test_end"], columns]
        clean = SeriesTransform(representation="log_return", scaler="standard").fit(
            train.to_numpy()
        )
        leaky = SeriesTransform(representation="log_return", scaler="standard").fit(
            with_test.to_numpy()
        )

        scaler = model.transform_.scaler_
        assert np.array_equal(scaler.mean_, clean.scaler_.mean_)
        assert np.array_equal(scaler.var_, clean.scaler_.var_)
        assert scaler.n_samples_seen_ == len(train) - 1  # returns: the first row has none
        assert not np.allclose(scaler.mean_, leaky.scaler_.mean_)


def test_changing_bars_after_an_origin_leaves_its_forecast_unchanged() -> None:
    changed = BARS.copy()
    changed.iloc[270:, :4] *= 1.2  # consistent bars stay consistent

    before = fc.backtest(tiny(), BARS, test_size=60, folds=3, refit=0).forecasts
    after = fc.backtest(tiny(), changed, test_size=60, folds=3, refit=0).forecasts

    earlier = before["origin"] < BARS.index[270]
    assert earlier.sum() == 7 * H * 4  # origins 239..269, 4 models
    assert before.loc[earlier, "predicted"].equals(after.loc[earlier, "predicted"])
    assert not before.loc[~earlier, "predicted"].equals(after.loc[~earlier, "predicted"])


def test_baselines_are_scored_on_exactly_the_model_points(result: fc.BacktestResult) -> None:
    forecasts = result.forecasts
    points = {
        model: set(zip(part["origin"], part["step"], strict=True))
        for model, part in forecasts.groupby("model")
    }

    assert set(points) == {"lstm", "naive", "drift", "seasonal_naive"}
    assert all(found == points["lstm"] for found in points.values())
    actual = forecasts.pivot_table(index=["origin", "step"], columns="model", values="actual")
    assert actual.nunique(axis=1).eq(1).all()


def test_backtest_never_fits_the_estimator_it_was_given() -> None:
    estimator = tiny()

    fc.backtest(estimator, BARS, test_size=60, folds=3, refit=0)

    assert not hasattr(estimator, "module_")


# -- the saved report ----------------------------------------------------------------------------


def test_save_writes_tables_config_figures_and_one_html_page(report: Path) -> None:
    assert sorted(path.name for path in report.iterdir()) == [
        "config.json",
        "equity.png",
        "error_by_step.png",
        "folds.csv",
        "folds.png",
        "forecasts.csv",
        "forecasts.png",
        "metrics.csv",
        "per_step.csv",
        "report.html",
        "trading.csv",
    ]
    for figure in ("equity", "error_by_step", "folds", "forecasts"):
        assert (report / f"{figure}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_naive_direction_accuracy_is_not_applicable_not_zero(
    result: fc.BacktestResult, report: Path
) -> None:
    # The naive forecast predicts no change, so it never calls a direction: its accuracy is
    # undefined, and was printed as 0 (worse than a coin flip) before.
    from forecast.report import format_metrics

    rows = {line.split()[0]: line.split() for line in format_metrics(result.metrics).splitlines()}
    column = rows["mae"].index("direction_accuracy") + 1  # +1: the model name leads each row
    assert rows["naive"][column] == "n/a"
    assert float(rows["drift"][column]) == pytest.approx(
        result.metrics.set_index("model").loc["drift", "direction_accuracy"], abs=1e-3
    )
    with_forecasts = format_metrics(result.metrics, result.forecasts)
    assert with_forecasts == format_metrics(result.metrics)
    page = (report / "report.html").read_text(encoding="utf-8")
    naive_row = page[page.index("<td>naive</td>") :].split("</tr>")[0]
    assert "<td>n/a</td>" in naive_row


def test_saved_tables_match_the_result(result: fc.BacktestResult, report: Path) -> None:
    metrics = pd.read_csv(report / "metrics.csv")
    forecasts = pd.read_csv(report / "forecasts.csv", parse_dates=["origin", "target_date"])

    assert metrics["model"].tolist() == result.metrics["model"].tolist()
    np.testing.assert_allclose(metrics["mae"], result.metrics["mae"], rtol=1e-5)
    assert len(forecasts) == len(result.forecasts) == 4 * 60
    assert (forecasts["origin"] == result.forecasts["origin"]).all()


def test_report_html_embeds_every_figure_and_links_no_file(report: Path) -> None:
    html = (report / "report.html").read_text(encoding="utf-8")

    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 4
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert "href=" not in html
    assert "<link" not in html and "<script" not in html
    assert result_verdict_in(html)


def result_verdict_in(html: str) -> bool:
    return re.search(r'<p class="verdict">lstm .*naive random walk', html) is not None


def test_config_json_replays_the_run_to_identical_metrics(
    result: fc.BacktestResult, report: Path
) -> None:
    document = json.loads((report / "config.json").read_text(encoding="utf-8"))
    config = document["config"]
    assert set(document) == {"config", "timings", "versions", "verdict"}
    assert config["estimator"] == "Forecaster"
    assert config["params"] == json.loads(json.dumps(tiny().get_params()))

    # Every backtest option is in the config under its own name ("data" there names the data).
    options = set(inspect.signature(fc.backtest).parameters) - {"forecaster", "data"}
    # Options of a universe run (a panel in local mode) shape where and how it runs, not this.
    universe_run = {"executor", "workers", "address", "out", "resume", "progress", "verbose",
                    "fdr"}
    assert options - {"keep_models"} - universe_run <= set(config)
    replay = fc.backtest(
        fc.Forecaster(**config["params"]),
        BARS,
        **{key: value for key, value in config.items() if key in options},
    )

    pd.testing.assert_frame_equal(replay.metrics, result.metrics)
    pd.testing.assert_frame_equal(replay.forecasts, result.forecasts)


@pytest.mark.parametrize("kind", ["forecasts", "error_by_step", "folds", "equity"])
def test_every_plot_kind_is_a_figure(result: fc.BacktestResult, kind: str) -> None:
    figure = result.plot(kind)

    assert isinstance(figure, Figure)
    assert figure.axes


def test_an_unknown_plot_kind_is_refused(result: fc.BacktestResult) -> None:
    with pytest.raises(ConfigError) as error:
        result.plot("candles")

    assert str(error.value) == (
        "plot kind 'candles' is not known; choose forecasts, error_by_step, folds or equity."
    )


# -- panels --------------------------------------------------------------------------------------


def test_panel_backtest_scores_every_ticker_on_the_same_points_and_saves(tmp_path: Path) -> None:
    panel = fc.load(["AAPL", "MSFT"])

    result = fc.backtest(tiny(), panel, test_size=50, folds=2, refit=0, mode="global")
    folder = result.save(tmp_path / "panel")

    forecasts = result.forecasts
    assert sorted(forecasts["ticker"].unique()) == ["AAPL", "MSFT"]
    keys = {
        model: set(zip(part["ticker"], part["origin"], part["step"], strict=True))
        for model, part in forecasts.groupby("model")
    }
    assert all(found == keys["lstm"] for found in keys.values())
    assert len(keys["lstm"]) == 2 * 50
    assert result.metrics.set_index("model").loc["naive", "mase"] == 1.0
    assert (folder / "forecasts.png").read_bytes()[:4] == b"\x89PNG"
    assert (
        len(re.findall(r'src="data:image/png;base64,', (folder / "report.html").read_text())) == 4
    )


# -- option checks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"test_size": 0}, "test_size must be an integer >= 1, got 0."),
        ({"folds": 0}, "folds must be an integer >= 1, got 0."),
        ({"step": 0}, "step must be an integer >= 1, got 0."),
        ({"refit": -1}, "refit must be an integer >= 0, got -1."),
        ({"gap": -1}, "gap must be an integer >= 0, got -1."),
        ({"test_size": True}, "test_size must be an integer >= 1, got True."),
        ({"window": "rolling"}, "window='rolling' is not known; choose 'expanding' or 'sliding'."),
        (
            {"window": "sliding"},
            "window='sliding' needs train_length (bars per training slice), e.g. train_length=500.",
        ),
        ({"cost_bps": -1.0}, "cost_bps must be a non-negative number, got -1.0."),
        (
            {"test_size": 3, "folds": 5},
            "test_size=3 cannot be cut into folds=5; use fewer folds or a larger test region.",
        ),
    ],
)
def test_invalid_options_are_config_errors(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        fc.backtest(NAIVE, BARS, **{"test_size": 60, **options})

    assert str(error.value) == message


def test_too_little_data_for_the_folds_is_a_data_error() -> None:
    with pytest.raises(DataError) as error:
        fc.backtest(NAIVE, BARS.iloc[:50], test_size=50, folds=2)

    assert str(error.value) == (
        "50 bars cannot hold 2 folds of 25 test bars plus a gap of 0 and a training slice; "
        "shorten test_size or use more data."
    )


def test_a_test_start_that_is_not_a_date_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="test_start"):
        fc.backtest(NAIVE, BARS, test_start="notadate")


# ---------------------------------------------------------------- the fold splitter
def test_folds_are_public_and_keep_every_test_bar() -> None:
    # The docstring used to say test_size is rounded down to a multiple of folds; it is not:
    # the first block takes the remainder, and the backtest tests all 252 bars.
    plan = fc.make_folds(600, test_size=252, folds=5)

    assert all(isinstance(fold, fc.Fold) for fold in plan)
    assert [fold.test_stop - fold.test_start for fold in plan] == [52, 50, 50, 50, 50]
    assert plan[0].test_start == 600 - 252 and plan[-1].test_stop == 600
    assert "rounded down" not in (fc.backtest.__doc__ or "")
    bars = random_walk_bars(600, seed=3)
    result = fc.backtest(NAIVE, bars, test_size=252, folds=5)
    assert result.config["test_size"] == 252
    assert result.forecasts["target_date"].min() == bars.index[600 - 252]


def test_a_first_fold_too_short_for_the_lookback_names_the_fold_and_the_option() -> None:
    model = fc.Forecaster(lookback=60, horizon=H, epochs=1)
    with pytest.raises(DataError) as error:
        fc.backtest(model, BARS.iloc[:300], test_size=252, folds=4)

    message = str(error.value)
    assert message.startswith("fold 0 trains on 48 bars (")
    assert "fewer than the 66 a Forecaster with lookback=60 + horizon=5 + 1" in message
    assert "pass a smaller test_size" in message
    sliding = fc.Baseline(method="ridge", horizon=H, lags=60)
    with pytest.raises(DataError, match=r"fold 0 trains on 40 bars .* raise train_length to at"):
        fc.backtest(sliding, BARS, test_size=100, folds=4, window="sliding", train_length=40)
