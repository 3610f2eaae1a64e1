"""Backtest reports: CSV tables, config.json, PNG figures and one self-contained report.html.

``write_report(result, folder)`` writes::

    metrics.csv      one row per model (the table the CLI prints)
    forecasts.csv    the tidy forecasts (model, origin, target_date, step, actual, predicted)
    per_step.csv     error by horizon step per model
    trading.csv      trading rules after costs vs buy-and-hold
    folds.csv        fold boundaries, refits and timings
    config.json      every setting needed to replay the run, plus timings and versions
    forecasts.png  error_by_step.png  equity.png  folds.png
    with intervals: intervals.csv, interval_per_step.csv, interval_baselines.csv,
    fan.png (fan chart per fold), coverage_by_step.png
    report.html      tables and figures together; figures embedded, so it opens without a server

The caller (``BacktestResult.save``) points ``folder`` at a temporary directory that is renamed
into place when complete, so a report is never half-written.
"""

from __future__ import annotations

import base64
import html
import json
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from forecast._version import __version__
from forecast.data.columns import TICKER

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FIGURES",
    "NOT_APPLICABLE",
    "format_metrics",
    "models_without_calls",
    "shown_metrics",
    "versions",
    "write_report",
]

FIGURES: tuple[str, ...] = ("forecasts", "error_by_step", "equity", "folds")
_FLOAT_FORMAT = "%.6g"
NOT_APPLICABLE = "n/a"


class BacktestResult(Protocol):
    """What a report reads from a run: :class:`forecast.backtest.BacktestResult` has it.

    Written here as a protocol so this module does not import the backtest, which imports
    this module to save its results (that would be an import cycle).
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    per_step: pd.DataFrame
    trading: pd.DataFrame
    folds: pd.DataFrame
    config: dict[str, Any]
    timings: dict[str, float]

    @property
    def model_name(self) -> str: ...

    def verdict(self, alpha: float = 0.05) -> str: ...

    def plot(self, kind: str = "forecasts") -> Any: ...


def versions() -> dict[str, str]:
    """Versions of the pieces that decide the numbers (for config.json and benchmarks)."""
    import sklearn
    import torch

    return {
        "forecast": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scikit-learn": sklearn.__version__,
    }


def models_without_calls(metrics: pd.DataFrame, forecasts: pd.DataFrame | None) -> list[str]:
    """Models whose direction accuracy is undefined: they never forecast a move.

    With the forecasts, those whose every prediction equals the origin price; without them,
    the no-change forecast by the forecasts frame's convention, the model named "naive".
    """
    if "model" not in metrics.columns:
        return []
    if forecasts is None:
        return [str(m) for m in metrics["model"] if m == "naive"]
    moved = (forecasts["predicted"] != forecasts["origin_price"]).groupby(forecasts["model"]).any()
    return [str(m) for m in metrics["model"] if m in moved.index and not moved[m]]


def shown_metrics(metrics: pd.DataFrame, forecasts: pd.DataFrame | None = None) -> pd.DataFrame:
    """``metrics`` for reading: direction accuracy as text, "n/a" where it is undefined.

    The naive forecast predicts no change, so it never calls a direction; its accuracy is not
    0 but not applicable.
    """
    shown = metrics.copy()
    if "direction_accuracy" in shown.columns:
        silent = set(models_without_calls(metrics, forecasts))
        shown["direction_accuracy"] = [
            NOT_APPLICABLE if model in silent else ("-" if pd.isna(value) else f"{value:.4g}")
            for model, value in zip(
                shown.get("model", pd.Series([None] * len(shown))),
                shown["direction_accuracy"],
                strict=True,
            )
        ]
    return shown


def format_metrics(metrics: pd.DataFrame, forecasts: pd.DataFrame | None = None) -> str:
    """The metrics table as fixed-width text (what ``forecast backtest`` prints).

    ``forecasts`` (the run's tidy frame) lets it find every model that never forecast a move,
    whose direction accuracy is printed "n/a"; without it, only "naive" is.
    """
    shown = shown_metrics(metrics, forecasts)
    columns = [
        c
        for c in ("mae", "rmse", "mape", "mase", "theil_u", "direction_accuracy", "dm_pvalue")
        if c in shown.columns
    ]
    shown = shown.set_index("model")[columns] if "model" in shown.columns else shown[columns]
    return shown.to_string(float_format=lambda v: f"{v:.4g}", na_rep="-")


def write_report(result: BacktestResult, folder: Path) -> None:
    """Write every table, figure and the HTML page of ``result`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    result.metrics.to_csv(folder / "metrics.csv", index=False, float_format=_FLOAT_FORMAT)
    result.forecasts.to_csv(folder / "forecasts.csv", index=False, float_format=_FLOAT_FORMAT)
    result.per_step.to_csv(folder / "per_step.csv", index=False, float_format=_FLOAT_FORMAT)
    result.trading.to_csv(folder / "trading.csv", index=False, float_format=_FLOAT_FORMAT)
    result.folds.to_csv(folder / "folds.csv", index=False, float_format=_FLOAT_FORMAT)
    document = {
        "config": result.config,
        "timings": result.timings,
        "versions": versions(),
        "verdict": result.verdict(),
    }
    (folder / "config.json").write_text(
        json.dumps(document, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    images = {}
    for kind in FIGURES:
        figure = _figure(result, kind)
        path = folder / f"{kind}.png"
        figure.savefig(path, format="png", dpi=110, bbox_inches="tight")
        images[kind] = path
    intervals = _write_intervals(result, folder, images)
    (folder / "report.html").write_text(_html(result, images, intervals), encoding="utf-8")


def _write_intervals(result: BacktestResult, folder: Path, images: dict[str, Path]) -> str:
    """Interval tables and figures (when the run has intervals); their HTML section."""
    metrics = getattr(result, "interval_metrics", None)
    if metrics is None or metrics.empty:
        return ""
    from forecast.intervals.plots import plot_coverage_by_step, plot_fan

    per_step = result.interval_per_step  # type: ignore[attr-defined]
    metrics.to_csv(folder / "intervals.csv", index=False, float_format=_FLOAT_FORMAT)
    per_step.to_csv(folder / "interval_per_step.csv", index=False, float_format=_FLOAT_FORMAT)
    result.interval_baselines.to_csv(  # type: ignore[attr-defined]
        folder / "interval_baselines.csv", index=False, float_format=_FLOAT_FORMAT
    )
    for kind, figure in (
        ("fan", plot_fan(result.forecasts, result.model_name)),
        ("coverage_by_step", plot_coverage_by_step(per_step)),
    ):
        images[kind] = folder / f"{kind}.png"
        figure.savefig(images[kind], format="png", dpi=110, bbox_inches="tight")
    shown = metrics.drop(columns=["dm_stat", "pinball_lower", "pinball_upper"])
    return (
        "<h2>Intervals (conformal; the same points for every model and interval baseline)</h2>"
        + shown.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-", border=0,
                        classes="t")
        + _image_tag(images["coverage_by_step"], "Coverage by horizon step against nominal")
        + _image_tag(images["fan"], "Fan chart per fold: the model's intervals by level")
    )


def _image_tag(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _figure(result: BacktestResult, kind: str) -> Figure:
    """``result.plot(kind)``, except that a panel's forecasts get one panel per ticker.

    The forecast-vs-actual figure draws one price line, so it takes one ticker at a time;
    a report of a panel backtest stacks them, one row per ticker.
    """
    forecasts = result.forecasts
    if kind != "forecasts" or TICKER not in forecasts.columns or forecasts[TICKER].nunique() < 2:
        return result.plot(kind)
    from matplotlib.figure import Figure

    from forecast.plotting import FIGSIZE, plot_forecast_vs_actual

    tickers = [str(ticker) for ticker in pd.unique(forecasts[TICKER])]
    width, height = FIGSIZE
    figure = Figure(figsize=(width, height * len(tickers)), layout="constrained")
    for ax, ticker in zip(
        figure.subplots(len(tickers), 1, squeeze=False)[:, 0], tickers, strict=True
    ):
        plot_forecast_vs_actual(
            forecasts[forecasts[TICKER].astype(str) == ticker], model=result.model_name, ax=ax
        )
        ax.set_title(f"{ticker}: {ax.get_title()}")
    return figure


def _html(result: BacktestResult, images: dict[str, Path], intervals: str = "") -> str:
    config = result.config

    def table(frame: pd.DataFrame) -> str:
        return frame.to_html(
            index=False, float_format=lambda v: f"{v:.4g}", na_rep="-", border=0, classes="t"
        )

    def image(kind: str, caption: str) -> str:
        data = base64.b64encode(images[kind].read_bytes()).decode("ascii")
        return (
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    settings = ", ".join(
        f"{key}={value}" for key, value in config.items() if key not in ("params", "baselines")
    )
    title = f"{html.escape(str(config['model_name']))} on {html.escape(str(config['data']))}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Backtest: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table.t {{ border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }}
table.t td, table.t th {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd;
  text-align: right; }}
figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; }}
.verdict {{ font-size: 1.2em; padding: 0.6em; background: #f4f4f4;
  border-left: 4px solid #446; }}
code {{ font-size: 0.85em; }}
</style></head><body>
<h1>Walk-forward backtest: {title}</h1>
<p class="verdict">{html.escape(result.verdict())}</p>
<h2>Metrics (prices; MASE and DM against the naive forecast on the same points)</h2>
{table(shown_metrics(result.metrics, result.forecasts))}
<h2>Error by horizon step</h2>
{table(result.per_step)}
{image("error_by_step", "Error by horizon step per model")}
<h2>Forecasts against actual prices</h2>
{image("forecasts", "Forecast vs actual over the test region")}
{intervals}
<h2>Trading view (after {config["cost_bps"]} bp costs)</h2>
{table(result.trading)}
{image("equity", "Equity curves of the trading rules vs buy-and-hold")}
<h2>Folds</h2>
{table(result.folds)}
{image("folds", "Walk-forward folds")}
<h2>Configuration</h2>
<p><code>{html.escape(settings)}</code></p>
<p>Total {result.timings.get("total_seconds", float("nan")):.1f} s
(fitting {result.timings.get("fit_seconds", float("nan")):.1f} s). forecast {__version__}.</p>
</body></html>
"""
