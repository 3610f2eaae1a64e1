"""Tests for forecast/plotting.py: every figure renders to a real PNG and holds what it claims."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure

from forecast.errors import ConfigError, DataError
from forecast.plotting import (
    DOWN_COLOUR,
    UP_COLOUR,
    plot_equity,
    plot_error_by_step,
    plot_fold_timeline,
    plot_forecast_vs_actual,
    plot_forecasts,
    plot_hidden_states,
    plot_ohlc,
    save_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MODELS = ["lstm", "naive"]
HORIZON = 3


@pytest.fixture
def bars() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2024-01-01", periods=40, name="Date")
    close = 100 + rng.normal(0, 1, len(dates)).cumsum()
    open_ = close + rng.normal(0, 0.5, len(dates))
    open_[5] = close[5]  # a doji: zero-height body
    high = np.maximum(open_, close) + 0.5
    low = np.minimum(open_, close) - 0.5
    return pd.DataFrame({"Open": open_, "High": high, "Low": low, "Close": close}, index=dates)


@pytest.fixture
def forecasts(bars: pd.DataFrame) -> pd.DataFrame:
    """Tidy forecasts: two models, origins at rows 20..35, two folds, horizon 3."""
    close = bars["Close"]
    rows = []
    for model, bias in zip(MODELS, (0.5, 0.0), strict=True):
        for i in range(20, 36):
            for step in range(1, HORIZON + 1):
                rows.append({
                    "model": model, "origin": close.index[i],
                    "target_date": close.index[i + step], "step": step,
                    "actual": close.iloc[i + step], "predicted": close.iloc[i] + bias * step,
                    "origin_price": close.iloc[i], "fold": int(i >= 28), "ticker": "SPY",
                })
    return pd.DataFrame(rows)


@pytest.fixture
def folds() -> pd.DataFrame:
    starts = pd.to_datetime(["2020-01-01", "2020-07-01", "2021-01-01"])
    return pd.DataFrame({
        "fold": [0, 1, 2],
        "train_start": starts - pd.DateOffset(years=2),
        "train_end": starts - pd.Timedelta(days=1),
        "test_start": starts,
        "test_end": starts + pd.Timedelta(days=180),
        "refit": [True, False, True],
    })


def assert_png(fig: Figure, tmp_path: Path, name: str) -> Path:
    path = save_figure(fig, tmp_path / "figures" / f"{name}.png")
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5_000
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]
    return path


def legend_labels(fig: Figure) -> list[str]:
    legend = fig.axes[0].get_legend()
    return [text.get_text() for text in legend.get_texts()]


def test_plot_ohlc_draws_one_candle_per_bar(bars: pd.DataFrame, tmp_path: Path) -> None:
    fig = plot_ohlc(bars, last=30)
    assert_png(fig, tmp_path, "ohlc")
    ax = fig.axes[0]
    bodies = ax.containers[0]
    (wicks,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bodies) == 30
    assert len(wicks.get_segments()) == 30
    shown = bars.iloc[-30:]
    up = (shown["Close"] >= shown["Open"]).to_numpy()
    expected = [matplotlib.colors.to_rgba(UP_COLOUR if u else DOWN_COLOUR) for u in up]
    assert [patch.get_facecolor() for patch in bodies] == expected
    assert legend_labels(fig) == ["up (Close ≥ Open)", "down (Close < Open)"]
    assert ax.get_ylabel() == "price"
    assert ax.get_title() == "Candlesticks (30 bars)"


def test_plot_ohlc_shows_all_bars_by_default_and_refuses_bad_input(bars: pd.DataFrame) -> None:
    assert len(plot_ohlc(bars).axes[0].containers[0]) == len(bars)
    with pytest.raises(DataError, match=r"^bars is missing column 'High'; load the data"):
        plot_ohlc(bars.drop(columns="High"))
    with pytest.raises(DataError, match="DatetimeIndex"):
        plot_ohlc(bars.reset_index(drop=True))
    with pytest.raises(ConfigError, match=r"plot_ohlc\(last=\) must be a positive integer"):
        plot_ohlc(bars, last=0)


def test_plot_forecasts_one_line_per_model(
    bars: pd.DataFrame, forecasts: pd.DataFrame, tmp_path: Path
) -> None:
    fig = plot_forecasts(bars["Close"], forecasts, max_origins=4)
    assert_png(fig, tmp_path, "forecasts")
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + len(MODELS)
    assert legend_labels(fig) == ["actual", *MODELS]
    lstm = ax.lines[1]
    # Each path is origin + H points followed by a NaN gap.
    assert np.isnan(np.asarray(lstm.get_ydata(), float)).sum() == 4
    assert len(lstm.get_ydata()) == 4 * (HORIZON + 2)
    dots = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(d.get_offsets()) for d in dots] == [4, 4]
    assert dots[0].get_facecolor()[0].tolist() == list(matplotlib.colors.to_rgba(lstm.get_color()))


def test_plot_forecasts_filters_models_and_origins(
    bars: pd.DataFrame, forecasts: pd.DataFrame
) -> None:
    origin = forecasts["origin"].iloc[0]
    fig = plot_forecasts(bars, forecasts, models=["naive"], origins=[origin])
    assert legend_labels(fig) == ["actual", "naive"]
    assert len(fig.axes[0].lines[1].get_ydata()) == HORIZON + 2
    with pytest.raises(DataError, match=r"no model named 'gru'; choose from \['lstm', 'naive'\]"):
        plot_forecasts(bars["Close"], forecasts, models=["gru"])
    with pytest.raises(DataError, match="none of the requested origins"):
        plot_forecasts(bars["Close"], forecasts, origins=[pd.Timestamp("1999-01-01")])


def test_plot_forecasts_into_existing_axes(bars: pd.DataFrame, forecasts: pd.DataFrame) -> None:
    fig = plot_ohlc(bars)
    ax = fig.axes[0]
    assert plot_forecasts(bars["Close"], forecasts, ax=ax) is fig
    assert len(fig.axes) == 1
    assert len(ax.lines) == 1 + len(MODELS)


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("origin_price", r"^forecasts is missing column 'origin_price'; pass the tidy frame"),
        ("model", r"^forecasts is missing column 'model'; "),
    ],
)
def test_forecast_frames_missing_column(
    bars: pd.DataFrame, forecasts: pd.DataFrame, drop: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        plot_forecasts(bars["Close"], forecasts.drop(columns=drop))
    with pytest.raises(DataError, match=message):
        plot_forecast_vs_actual(forecasts.drop(columns=drop), model="lstm")


def test_empty_and_multi_ticker_forecasts_are_refused(
    bars: pd.DataFrame, forecasts: pd.DataFrame
) -> None:
    with pytest.raises(DataError, match=r"^forecasts has no rows; run a backtest"):
        plot_forecasts(bars["Close"], forecasts.iloc[:0])
    with pytest.raises(DataError, match=r"^forecasts has no rows"):
        plot_error_by_step(forecasts.iloc[:0])
    with pytest.raises(DataError, match=r"^per_step has no rows"):
        plot_error_by_step(pd.DataFrame(columns=["model", "step", "mae"]))
    two = pd.concat([forecasts, forecasts.assign(ticker="QQQ")])
    with pytest.raises(DataError, match=r"several tickers \['QQQ', 'SPY'\]; select one first"):
        plot_forecast_vs_actual(two, model="lstm")


def test_plot_forecast_vs_actual(forecasts: pd.DataFrame, tmp_path: Path) -> None:
    fig = plot_forecast_vs_actual(forecasts, model="lstm")
    assert_png(fig, tmp_path, "vs_actual")
    ax = fig.axes[0]
    assert legend_labels(fig) == [
        "actual", "predicted, step 1", "predicted, step 2", "predicted, step 3", "fold start",
    ]
    assert len(ax.lines) == 1 + HORIZON
    # The actual line covers every origin and target date exactly once.
    dates = set(forecasts["origin"]) | set(forecasts["target_date"])
    assert len(ax.lines[0].get_xdata()) == len(dates)
    fig = plot_forecast_vs_actual(forecasts, model="naive", steps=[2])
    assert len(fig.axes[0].lines) == 2
    with pytest.raises(DataError, match=r"has no step 7; choose steps in 1\.\.3"):
        plot_forecast_vs_actual(forecasts, model="naive", steps=[7])


def test_plot_error_by_step_accepts_table_or_forecasts(
    forecasts: pd.DataFrame, tmp_path: Path
) -> None:
    from_forecasts = plot_error_by_step(forecasts, metric="rmse")
    assert_png(from_forecasts, tmp_path, "error_by_step")
    assert legend_labels(from_forecasts) == MODELS
    error = forecasts["predicted"] - forecasts["actual"]
    expected = error.pow(2).groupby([forecasts["model"], forecasts["step"]]).mean().pow(0.5)
    lstm = from_forecasts.axes[0].lines[0]
    np.testing.assert_allclose(lstm.get_ydata(), expected["lstm"].to_numpy())
    assert list(lstm.get_xdata()) == [1, 2, 3]
    assert from_forecasts.axes[0].get_ylabel() == "RMSE (price)"

    table = pd.DataFrame({"model": ["a", "a", "b", "b"], "step": [2, 1, 1, 2],
                          "mae": [2.0, 1.0, 1.5, 1.5], "rmse": [3.0, 2.0, 2.0, 2.0]})
    fig = plot_error_by_step(table)
    assert legend_labels(fig) == ["a", "b"]
    assert list(fig.axes[0].lines[0].get_ydata()) == [1.0, 2.0]  # sorted by step
    indexed = plot_error_by_step(table.set_index(["model", "step"]), metric="rmse")
    assert legend_labels(indexed) == ["a", "b"]
    assert list(indexed.axes[0].lines[0].get_ydata()) == [2.0, 3.0]
    with pytest.raises(DataError, match=r"missing column 'mape'; pass metric= one of"):
        plot_error_by_step(table, metric="mape")
    with pytest.raises(DataError, match=r"^per_step is missing column 'step'"):
        plot_error_by_step(table.drop(columns="step"))


def test_plot_fold_timeline(folds: pd.DataFrame, tmp_path: Path) -> None:
    fig = plot_fold_timeline(folds)
    assert_png(fig, tmp_path, "folds")
    ax = fig.axes[0]
    train, test = ax.containers
    assert len(train) == len(test) == 3
    assert legend_labels(fig) == ["train", "test", "refit (model retrained)"]
    (refits,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(refits.get_offsets()) == 2
    assert len(plot_fold_timeline(folds.drop(columns="refit")).axes[0].collections) == 0
    with pytest.raises(DataError, match=r"^folds is missing column 'test_end'; pass the folds"):
        plot_fold_timeline(folds.drop(columns="test_end"))


def test_plot_equity(tmp_path: Path) -> None:
    dates = pd.bdate_range("2024-01-01", periods=60)
    growth = np.linspace(0, 0.2, len(dates))
    curves = pd.DataFrame({"lstm": 1 + growth, "buy_and_hold": 1 + growth / 2}, index=dates)
    fig = plot_equity(curves, log=True)
    assert_png(fig, tmp_path, "equity")
    ax = fig.axes[0]
    assert legend_labels(fig) == ["lstm", "buy_and_hold"]
    assert [line.get_linestyle() for line in ax.lines] == ["-", "--"]
    assert ax.get_yscale() == "log"
    with pytest.raises(DataError, match="DatetimeIndex"):
        plot_equity(curves.reset_index(drop=True))


def test_plot_equity_leaves_out_rules_that_never_traded_and_says_so() -> None:
    dates = pd.bdate_range("2024-01-01", periods=60)
    growth = np.linspace(0, 0.2, len(dates))
    curves = pd.DataFrame({"lstm/long_flat": 1 + growth, "naive/long_flat": 1.0,
                           "naive/long_short": 1.0, "buy_and_hold": 1 + growth / 2}, index=dates)
    fig = plot_equity(curves)
    ax = fig.axes[0]
    drawn = [line for line in ax.lines if len(line.get_xdata())]
    assert [line.get_label() for line in drawn] == ["lstm/long_flat", "buy_and_hold"]
    assert legend_labels(fig) == [
        "lstm/long_flat", "buy_and_hold",
        "not drawn, never traded (flat at 1): naive/long_flat, naive/long_short",
    ]


def test_axes_in_a_subfigure_return_the_root_figure() -> None:
    root = Figure()
    ax = root.subfigures(1, 2)[1].add_subplot()
    curves = pd.DataFrame({"lstm": [1.0, 1.1]}, index=pd.bdate_range("2024-01-01", periods=2))
    assert plot_equity(curves, ax=ax) is root


def test_plot_hidden_states(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    scale = np.r_[np.full(16, 0.01), np.full(8, 0.3)]  # units 16..23 vary most
    states = np.tanh(rng.normal(size=(4, 30, 24)) * scale)  # [N, T, hidden]
    fig = plot_hidden_states(states, max_units=8, sample=2)
    assert_png(fig, tmp_path, "hidden")
    (image,) = fig.axes[0].images
    assert image.get_array().shape == (8, 30)  # [units, T]
    assert image.get_clim() == (-1.0, 1.0)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == [str(u) for u in range(16, 24)]
    assert len(fig.axes) == 2  # the heatmap and its colour bar
    assert plot_hidden_states(states[0]).axes[0].images[0].get_array().shape == (16, 30)
    with pytest.raises(DataError, match=r"\[T, hidden\] or \[N, T, hidden\].*shape \(30,\)"):
        plot_hidden_states(np.zeros(30))


def test_save_figure_leaves_nothing_when_rendering_fails(
    bars: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fig = plot_ohlc(bars)
    target = tmp_path / "deep" / "dir" / "chart.png"

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, target)
    assert list(target.parent.iterdir()) == []


def test_module_never_imports_pyplot() -> None:
    code = "import sys, forecast.plotting; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
