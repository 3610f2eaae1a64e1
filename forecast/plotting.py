"""Figures for notebooks, HTML reports and the CLI: each function returns a matplotlib Figure.

Every function builds a ``matplotlib.figure.Figure`` directly (never ``pyplot``), so it runs
headless and leaves no global state behind; pass ``ax=`` to draw into an existing Axes
instead, and the figure holding that Axes is returned. Nothing is shown; write a figure with
:func:`save_figure`, which never leaves a half-written PNG.

Inputs are the project's tidy frames: ``bars`` (``DatetimeIndex`` and ``Open..Close`` prices)
and ``forecasts`` (one row per model, origin and step with columns ``model, origin,
target_date, step, actual, predicted, origin_price`` and optionally ``fold`` and ``ticker``).
Prices are in the series' own currency units and are labelled "price".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib import colormaps, rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from forecast._atomic import atomic_write_with
from forecast.data.columns import OHLC, TICKER
from forecast.errors import ConfigError, DataError
from forecast.forecasts_frame import FORECAST_COLUMNS

__all__ = [
    "plot_equity",
    "plot_error_by_step",
    "plot_fold_timeline",
    "plot_forecast_vs_actual",
    "plot_forecasts",
    "plot_hidden_states",
    "plot_ohlc",
    "save_figure",
]

FOLD_COLUMNS: tuple[str, ...] = ("fold", "train_start", "train_end", "test_start", "test_end")
UP_COLOUR, DOWN_COLOUR = "#26a69a", "#ef5350"
FIGSIZE = (10.0, 4.5)  # inches; wide because every x axis here is time
PNG_DPI = 150


def _axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """Return ``(root figure, axes)``: a fresh headless figure when ``ax`` is None."""
    if ax is None:
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        return fig, fig.add_subplot()
    fig = ax.figure
    # A SubFigure's .figure is the root Figure, which is what callers save.
    return (fig if isinstance(fig, Figure) else fig.figure), ax


def _require(frame: pd.DataFrame, columns: Iterable[str], *, name: str, fix: str) -> None:
    """Raise DataError naming the first column of ``columns`` that ``frame`` lacks."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}; {fix}.")
    for column in columns:
        if column not in frame.columns:
            raise DataError(f"{name} is missing column {column!r}; {fix}.")


def _check_forecasts(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Validate the tidy forecasts frame; return a copy with parsed dates for one ticker."""
    fix = ("pass the tidy frame from a backtest, one row per (model, origin, step) with "
           "columns " + ", ".join(FORECAST_COLUMNS))
    _require(forecasts, FORECAST_COLUMNS, name="forecasts", fix=fix)
    if forecasts.empty:
        raise DataError("forecasts has no rows; run a backtest that produces forecasts first.")
    if TICKER in forecasts.columns and forecasts[TICKER].nunique() > 1:
        tickers = sorted(map(str, forecasts[TICKER].unique()))
        raise DataError(f"forecasts hold several tickers {tickers}; select one first, e.g. "
                        f"forecasts[forecasts['ticker'] == {tickers[0]!r}].")
    return forecasts.assign(model=forecasts["model"].astype(str),
                            origin=pd.to_datetime(forecasts["origin"]),
                            target_date=pd.to_datetime(forecasts["target_date"]))


def _pick_models(frame: pd.DataFrame, models: Sequence[str] | None) -> list[str]:
    known = [str(m) for m in pd.unique(frame["model"])]
    if models is None:
        return known
    unknown = [m for m in models if m not in known]
    if unknown:
        raise DataError(f"forecasts hold no model named {unknown[0]!r}; choose from {known}.")
    return list(models)


def _colours(n: int) -> list[str]:
    cycle = rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    return [cycle[i % len(cycle)] for i in range(n)]


def _finish(
    ax: Axes, *, title: str, xlabel: str, ylabel: str, legend: bool = True, grid: bool = True,
) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_axisbelow(True)  # grid behind candle bodies and fold spans
    if grid:
        ax.grid(True, alpha=0.3)
    if legend:
        ax.legend(loc="best", fontsize="small")


def plot_ohlc(
    bars: pd.DataFrame, *, last: int | None = None, ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Draw ``bars`` as candlesticks: a body from Open to Close and a wick from Low to High.

    Parameters
    ----------
    bars : pd.DataFrame
        ``DatetimeIndex`` and ``Open, High, Low, Close`` columns, in price units.
    last : int, optional
        Show only the most recent ``last`` bars (all when None).
    ax : Axes, optional
        Draw into this Axes instead of a new figure.
    title : str, optional
        Defaults to "Candlesticks (N bars)".

    Returns
    -------
    Figure
        Bodies are one bar container (green up, red down), wicks one line collection; dates
        keep their real spacing, so weekends show as gaps.

    Raises
    ------
    DataError
        On a missing price column, a non-date index or no bars (ConfigError on a bad ``last``).
    """
    _require(bars, OHLC, name="bars", fix="load the data with forecast.load() or rename the "
             "price columns to Open, High, Low, Close")
    if not isinstance(bars.index, pd.DatetimeIndex):
        raise DataError(f"bars must have a DatetimeIndex, got {type(bars.index).__name__}; for "
                        "a panel select one ticker first, e.g. bars.xs('AAPL', level='ticker').")
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
        raise ConfigError(f"plot_ohlc(last=) must be a positive integer or None, got {last!r}.")
    shown = bars.iloc[-last:] if last is not None else bars
    if shown.empty:
        raise DataError("bars has no rows; load a non-empty price series first.")
    fig, ax = _axes(ax)
    # Date numbers (days) so the body width is in days whatever the bar frequency.
    x = mdates.date2num(shown.index.to_pydatetime())
    spacing = float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    opens, closes = shown["Open"].to_numpy(float), shown["Close"].to_numpy(float)
    colours = np.where(closes >= opens, UP_COLOUR, DOWN_COLOUR)
    ax.vlines(x, shown["Low"].to_numpy(float), shown["High"].to_numpy(float),
              colors=colours, linewidth=0.8)
    # The edge keeps a doji (Open == Close, zero-height body) visible as a line.
    ax.bar(x, np.abs(closes - opens), bottom=np.minimum(opens, closes), width=0.7 * spacing,
           color=colours, edgecolor=colours, linewidth=0.8)
    ax.xaxis_date()
    ax.legend(handles=[Patch(color=UP_COLOUR, label="up (Close ≥ Open)"),
                       Patch(color=DOWN_COLOUR, label="down (Close < Open)")],
              loc="best", fontsize="small")
    _finish(ax, title=title or f"Candlesticks ({len(shown)} bars)", xlabel="date",
            ylabel="price", legend=False)
    return fig


def plot_forecasts(
    history: pd.Series, forecasts: pd.DataFrame, *, models: Sequence[str] | None = None,
    origins: Sequence[pd.Timestamp] | None = None, max_origins: int = 10,
    ax: Axes | None = None,
) -> Figure:
    """Draw the actual prices and, from each origin, every model's H-step forecast path.

    Parameters
    ----------
    history : pd.Series
        Actual prices on a ``DatetimeIndex`` (a bars frame is accepted; its Close is used).
        Clipped to the shown forecasts plus an equal span before them, so the y axis fits.
    forecasts : pd.DataFrame
        The tidy forecasts frame (see the module docstring), for one ticker.
    models : sequence of str, optional
        Models to draw, in this order; all by default.
    origins : sequence of Timestamp, optional
        Origins to draw; by default ``max_origins`` spread evenly over all origins.
    max_origins : int
        Most origins drawn when ``origins`` is None (more paths become unreadable).
    ax : Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    Figure
        One line for the history and one line per model (its paths joined with gaps), plus a
        dot per path at the origin price in the model's colour.

    Raises
    ------
    DataError
        On a missing column, no rows, several tickers, an unknown model, or unknown origins.
    """
    if isinstance(history, pd.DataFrame):
        _require(history, ["Close"], name="history", fix="pass a price Series or bars frame")
        history = history["Close"]
    if not isinstance(history, pd.Series) or not isinstance(history.index, pd.DatetimeIndex):
        raise DataError("history must be a price Series with a DatetimeIndex; pass e.g. "
                        "bars['Close'].")
    if max_origins < 1:
        raise ConfigError(f"plot_forecasts(max_origins=) must be >= 1, got {max_origins!r}.")
    frame = _check_forecasts(forecasts)
    chosen = _pick_models(frame, models)
    frame = frame[frame["model"].isin(chosen)]
    all_origins = pd.DatetimeIndex(sorted(frame["origin"].unique()))
    if origins is None:
        keep = np.unique(np.linspace(0, len(all_origins) - 1, max_origins).round().astype(int))
        shown = all_origins[keep]
    else:
        shown = all_origins.intersection(pd.DatetimeIndex(pd.to_datetime(list(origins))))
        if shown.empty:
            raise DataError("none of the requested origins appear in forecasts; pick from "
                            "forecasts['origin'].unique().")
    frame = frame[frame["origin"].isin(shown)]
    start, end = shown.min(), frame["target_date"].max()
    context = history.loc[:end]
    context = context.loc[start - (end - start):] if end > start else context.iloc[-20:]
    fig, ax = _axes(ax)
    ax.plot(context.index, context.to_numpy(float), color="0.2", linewidth=1.2, label="actual")
    for model, colour in zip(chosen, _colours(len(chosen)), strict=True):
        xs: list[pd.Timestamp] = []
        ys: list[float] = []
        dots = frame[frame["model"] == model].groupby("origin", sort=True)
        for origin, path in dots:
            path = path.sort_values("step")
            # NaN after each path breaks the line, so a model stays one Line2D.
            xs += [origin, *path["target_date"], path["target_date"].iloc[-1]]
            ys += [float(path["origin_price"].iloc[0]), *path["predicted"].astype(float), np.nan]
        first = dots["origin_price"].first()
        ax.plot(xs, ys, color=colour, linewidth=1.4, label=model)
        ax.scatter(first.index, first.to_numpy(float), color=colour, s=18, zorder=3)
    _finish(ax, title=f"Forecast paths from {len(shown)} origins", xlabel="date",
            ylabel="price")
    return fig


def plot_forecast_vs_actual(
    forecasts: pd.DataFrame, *, model: str, steps: Sequence[int] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw, over the test region, the actual price and one model's step-h predictions.

    Parameters
    ----------
    forecasts : pd.DataFrame
        The tidy forecasts frame, for one ticker; the actual line is rebuilt from its
        ``actual`` and ``origin_price`` columns.
    model : str
        The model to draw.
    steps : sequence of int, optional
        Horizon steps to draw, one line each; default first, middle and last step.
    ax : Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    Figure
        One line for the actual price and one per step (step h at its target dates); fold
        starts, when a ``fold`` column exists, are dotted vertical lines.

    Raises
    ------
    DataError
        On a missing column, no rows, several tickers, or an unknown model or step.
    """
    frame = _check_forecasts(forecasts)
    _pick_models(frame, [model])
    frame = frame[frame["model"] == model]
    horizon = int(frame["step"].max())
    wanted = list(steps) if steps is not None else sorted({1, (horizon + 1) // 2, horizon})
    missing = sorted(set(wanted) - set(frame["step"].astype(int)))
    if missing:
        raise DataError(f"model {model!r} has no step {missing[0]}; choose steps in "
                        f"1..{horizon}.")
    actual = pd.concat([
        pd.Series(frame["actual"].to_numpy(float), index=frame["target_date"]),
        pd.Series(frame["origin_price"].to_numpy(float), index=frame["origin"]),
    ])
    actual = actual[~actual.index.duplicated()].sort_index()
    fig, ax = _axes(ax)
    ax.plot(actual.index, actual.to_numpy(), color="0.2", linewidth=1.4, label="actual")
    shades = _step_colours(len(wanted))
    for step, colour in zip(wanted, shades, strict=True):
        rows = frame[frame["step"] == step].sort_values("target_date")
        ax.plot(rows["target_date"], rows["predicted"].astype(float), color=colour,
                linewidth=1.0, label=f"predicted, step {step}")
    if "fold" in frame.columns:
        # On this target-date axis a fold starts at its first test bar, the first target date
        # of its first origin (the origin itself is the last bar of the fold before).
        starts = frame.groupby("fold")["target_date"].min().sort_values().iloc[1:]
        if not starts.empty:
            ax.vlines(starts.to_numpy(), 0, 1, transform=ax.get_xaxis_transform(),
                      colors="0.5", linestyles=":", linewidth=0.8, label="fold start")
    _finish(ax, title=f"{model}: actual vs predicted by horizon step", xlabel="target date",
            ylabel="price")
    return fig


def _step_colours(n: int) -> list[tuple[float, float, float, float]]:
    """``n`` colours from light to dark blue: later steps are darker (and usually worse)."""
    return [colormaps["Blues"](v) for v in np.linspace(0.45, 0.95, n)]


def _per_step_from_forecasts(forecasts: pd.DataFrame) -> pd.DataFrame:
    """MAE and RMSE per (model, step), in price units, pooled over origins and folds."""
    frame = _check_forecasts(forecasts)
    error = frame["predicted"].astype(float) - frame["actual"].astype(float)
    keys = [frame["model"], frame["step"]]
    return pd.DataFrame({"mae": error.abs().groupby(keys, sort=False).mean(),
                         "rmse": np.sqrt((error**2).groupby(keys, sort=False).mean())}
                        ).reset_index()


def plot_error_by_step(
    per_step: pd.DataFrame, *, metric: str = "mae", ax: Axes | None = None,
) -> Figure:
    """Draw a forecast error metric against the horizon step, one line per model.

    Parameters
    ----------
    per_step : pd.DataFrame
        Either a per-step table with ``model, step`` (columns or index levels, as from
        ``forecast.metrics.per_step``) and a ``metric`` column (``mae``, ``rmse``, ``mase``),
        or the tidy forecasts frame, from which MAE and RMSE (price units) are computed per
        (model, step), pooled over origins and folds.
    metric : str
        Column to draw.
    ax : Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    Figure
        One line with markers per model, steps on integer ticks.

    Raises
    ------
    DataError
        When ``model``, ``step`` or ``metric`` is missing, or the frame has no rows.
    """
    if isinstance(per_step, pd.DataFrame) and {"model", "step"} <= set(per_step.index.names):
        per_step = per_step.reset_index()  # metrics.per_step indexes by (model, step)
    if isinstance(per_step, pd.DataFrame) and {"actual", "predicted"} <= set(per_step.columns):
        per_step = _per_step_from_forecasts(per_step)
    fix = "pass a per-step table (model, step, mae, rmse) or the tidy forecasts frame"
    _require(per_step, ["model", "step"], name="per_step", fix=fix)
    if per_step.empty:
        raise DataError("per_step has no rows; run a backtest that produces forecasts first.")
    if metric not in per_step.columns:
        choices = [c for c in per_step.columns if c not in ("model", "step")]
        raise DataError(f"per_step is missing column {metric!r}; pass metric= one of "
                        f"{choices} or add that column.")
    fig, ax = _axes(ax)
    models = [str(m) for m in pd.unique(per_step["model"])]
    for model, colour in zip(models, _colours(len(models)), strict=True):
        rows = per_step[per_step["model"] == model].sort_values("step")
        ax.plot(rows["step"].astype(int), rows[metric].astype(float), marker="o",
                color=colour, label=model)
    ax.xaxis.get_major_locator().set_params(integer=True)
    unit = " (price)" if metric.lower() in ("mae", "rmse") else ""
    _finish(ax, title=f"{metric.upper()} by horizon step", xlabel="horizon step (bars ahead)",
            ylabel=f"{metric.upper()}{unit}")
    return fig


def plot_fold_timeline(folds: pd.DataFrame, *, ax: Axes | None = None) -> Figure:
    """Draw walk-forward folds as train and test spans on a date axis, one row per fold.

    Parameters
    ----------
    folds : pd.DataFrame
        Columns ``fold, train_start, train_end, test_start, test_end`` (dates, ends
        inclusive) and optionally ``refit`` (bool: the model was retrained for this fold).
    ax : Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    Figure
        Two horizontal bar containers (train, test) with one bar per fold, and a diamond at
        the end of the training span of every refit fold; fold 0 is at the top.

    Raises
    ------
    DataError
        When a column is missing or there are no folds.
    """
    _require(folds, FOLD_COLUMNS, name="folds", fix="pass the folds table of a backtest with "
             "columns " + ", ".join(FOLD_COLUMNS))
    if folds.empty:
        raise DataError("folds has no rows; run a backtest with at least one fold first.")
    fig, ax = _axes(ax)
    span = {c: mdates.date2num(pd.to_datetime(folds[c]).dt.to_pydatetime())
            for c in FOLD_COLUMNS[1:]}
    y = folds["fold"].to_numpy()
    # Edges keep a one-day span visible on a multi-year axis.
    handles = [
        ax.barh(y, span["train_end"] - span["train_start"], left=span["train_start"],
                height=0.6, color="#4c72b0", edgecolor="#4c72b0", label="train"),
        ax.barh(y, span["test_end"] - span["test_start"], left=span["test_start"],
                height=0.6, color="#dd8452", edgecolor="#dd8452", label="test"),
    ]
    if "refit" in folds.columns:
        refit = folds["refit"].astype(bool).to_numpy()
        handles.append(ax.scatter(span["train_end"][refit], y[refit], marker="D", s=28,
                                  color="black", zorder=3, label="refit (model retrained)"))
    ax.xaxis_date()
    ax.set_yticks(y)
    ax.invert_yaxis()
    ax.legend(handles=handles, loc="best", fontsize="small")
    _finish(ax, title=f"Walk-forward folds ({len(folds)})", xlabel="date", ylabel="fold",
            legend=False)
    return fig


def plot_equity(curves: pd.DataFrame, *, ax: Axes | None = None, log: bool = False) -> Figure:
    """Draw equity curves, one line per strategy; ``buy_and_hold`` is dashed.

    A curve that never moves from its first value (a rule that never traded, such as the
    naive forecast's, which predicts no change and so never takes a position) carries no
    information and is not drawn; the legend names what was left out.

    Parameters
    ----------
    curves : pd.DataFrame
        ``DatetimeIndex`` and one numeric column per strategy: the value of 1.0 invested at
        the first date (dimensionless growth factor, not price).
    ax : Axes, optional
        Draw into this Axes instead of a new figure.
    log : bool
        Log-scale y axis, so equal percentage moves look equal.

    Returns
    -------
    Figure

    Raises
    ------
    DataError
        When the index is not dates or there are no rows or columns.
    """
    if not isinstance(curves, pd.DataFrame) or not isinstance(curves.index, pd.DatetimeIndex):
        raise DataError("curves must be a DataFrame with a DatetimeIndex and one column per "
                        "strategy; pass the equity table of a backtest.")
    if curves.empty:
        raise DataError("curves has no rows or columns; run a backtest with a strategy first.")
    fig, ax = _axes(ax)
    names = [str(c) for c in curves.columns]
    values = {name: curves[column].to_numpy(float) for name, column in zip(names, curves.columns,
                                                                             strict=True)}
    flat = [name for name in names if name != "buy_and_hold"
            and bool((values[name] == values[name][0]).all())]
    for name, colour in zip(names, _colours(len(names)), strict=True):
        if name in flat:
            continue
        benchmark = name == "buy_and_hold"
        ax.plot(curves.index, values[name], label=name,
                color="0.3" if benchmark else colour, linestyle="--" if benchmark else "-")
    if flat:
        # An empty handle: the legend says what is missing and why, without drawing it.
        ax.plot([], [], linestyle="none",
                label=f"not drawn, never traded (flat at {values[flat[0]][0]:g}): "
                      + ", ".join(flat))
    if log:
        ax.set_yscale("log")
    _finish(ax, title="Equity curves", xlabel="date",
            ylabel="equity (growth of 1.0" + (", log scale)" if log else ")"))
    return fig


def plot_hidden_states(
    states: np.ndarray, *, max_units: int = 16, sample: int = 0, ax: Axes | None = None,
) -> Figure:
    """Draw an RNN's hidden state over time as a heatmap, one row per hidden unit.

    Parameters
    ----------
    states : np.ndarray
        ``[T, hidden]`` or ``[N, T, hidden]`` (detach a tensor first:
        ``h.detach().cpu().numpy()``); dimensionless activations.
    max_units : int
        Most units drawn; the most variable ones over time are kept, in index order.
    sample : int
        Which window to draw when ``states`` is ``[N, T, hidden]``.
    ax : Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    Figure
        One image ``[units, T]`` with a colour bar; the scale is -1..1 (tanh range, so
        saturation shows) unless a value falls outside it.

    Raises
    ------
    DataError
        When ``states`` is not 2- or 3-dimensional, or is empty.
    """
    values = np.asarray(states, dtype=float)
    if values.ndim == 3:
        if not -values.shape[0] <= sample < values.shape[0]:
            raise ConfigError(f"plot_hidden_states(sample=) must index {values.shape[0]} "
                              f"windows, got {sample}.")
        values = values[sample]  # [T, hidden]
    if values.ndim != 2 or values.size == 0:
        raise DataError(f"states must be a non-empty [T, hidden] or [N, T, hidden] array, got "
                        f"shape {tuple(np.shape(states))}.")
    if max_units < 1:
        raise ConfigError(f"plot_hidden_states(max_units=) must be >= 1, got {max_units}.")
    units = np.sort(np.argsort(-values.std(axis=0), kind="stable")[:max_units])
    shown = values[:, units].T  # [units, T]
    limit = max(1.0, float(np.nanmax(np.abs(shown))))
    fig, ax = _axes(ax)
    image = ax.imshow(shown, aspect="auto", cmap="RdBu_r", vmin=-limit, vmax=limit,
                      interpolation="nearest")
    ax.set_yticks(range(len(units)), [str(u) for u in units])
    fig.colorbar(image, ax=ax, label="activation")
    _finish(ax, title=f"Hidden state over time ({len(units)} of {values.shape[1]} units)",
            xlabel="time step t (lookback position)", ylabel="hidden unit", legend=False,
            grid=False)
    return fig


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = PNG_DPI) -> Path:
    """Write ``fig`` to ``path`` as PNG atomically, creating parent folders.

    The PNG is rendered into a temporary sibling and renamed into place only when complete,
    so a crash never leaves a half-written file. Returns the path written.
    """
    return atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))
