"""The universe report page: one self-contained ``report.html`` for a universe run.

It shows the verdict (its "beats naive" count FDR-controlled) and the pooled figures with the
pooled test's assumptions; the distribution of MASE over tickers (a histogram, the naive
forecast at 1.0); the best and the worst tickers by MASE, each with its own small
forecast-vs-actual plot; the tickers whose claims survive the correction; every refused ticker
with its reason; and each ticker's seconds. Figures are embedded as PNG, so the page opens
without a server.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["universe_html"]

SHOWN_EACH_END = 3  # best and worst tickers drawn
_TABLE_COLUMNS = ("ticker", "mase", "dm_pvalue", "p_better", "q_value", "beats_naive",
                  "direction_accuracy", "long_short_return", "buy_and_hold_return", "seconds")


def universe_html(result: Any) -> str:
    """The page for a :class:`forecast.universe.UniverseResult` (module docstring)."""
    pooled, table = result.pooled, result.table
    model = html.escape(result.model_name)
    title = f"{model} on {html.escape(str(result.config.get('data', 'a universe')))}"
    shown = [c for c in _TABLE_COLUMNS if c in table.columns]
    best = table.head(SHOWN_EACH_END)
    worst = table.tail(SHOWN_EACH_END).iloc[::-1]
    worst = worst[~worst["ticker"].isin(best["ticker"])]
    claims = table[table["beats_naive"].astype(bool)] if len(table) else table
    figures = "".join(
        _image(_ticker_figure(result.forecasts, ticker, result.model_name),
               f"{label}: {ticker}, MASE {mase:.3f}")
        for label, part in (("best", best), ("worst", worst))
        for ticker, mase in zip(part["ticker"], part["mase"], strict=True)
    )
    pooled_rows = pd.DataFrame(
        [
            ("tickers run / refused", f"{pooled['n_ran']} / {pooled['n_refused']}"),
            ("median MASE / mean MASE", f"{pooled['median_mase']:.4g} / {pooled['mean_mase']:.4g}"),
            ("share of tickers with MAE below naive's", f"{pooled['share_below_naive']:.1%}"),
            (f"beats naive at p < {pooled['alpha']:g}, uncorrected",
             str(pooled["beats_naive_uncorrected"])),
            (f"beats naive after {pooled['fdr_name']} (FDR {pooled['alpha']:g})",
             str(pooled["beats_naive"])),
            ("pooled DM statistic / p-value",
             f"{_number(pooled['pooled_dm_stat'])} / {_number(pooled['pooled_dm_pvalue'])}"),
        ],
        columns=["figure", "value"],
    )
    timings = result.timings
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Universe backtest: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table.t {{ border-collapse: collapse; font-size: 0.9em; margin: 1em 0; }}
table.t td, table.t th {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }}
figure {{ margin: 1em 0; display: inline-block; width: 48%; }} img {{ max-width: 100%; }}
figure.wide {{ width: 100%; }}
.verdict {{ font-size: 1.2em; padding: 0.6em; background: #f4f4f4;
  border-left: 4px solid #446; }}
</style></head><body>
<h1>Universe backtest: {title}</h1>
<p class="verdict">{html.escape(result.verdict())}</p>
<p>{html.escape(result.summary())}.</p>
<h2>Pooled figures</h2>
{_table(pooled_rows)}
<p><small>{html.escape(str(pooled["pooled_dm_assumptions"]))}</small></p>
<h2>MASE over tickers</h2>
{_image(_histogram(table), "MASE per ticker; 1.0 is the naive forecast", wide=True)}
<h2>Best and worst tickers</h2>
{figures}
<h2>Claims that survive the false-discovery control ({len(claims)})</h2>
{_table(claims[shown]) if len(claims) else "<p>None.</p>"}
<h2>Refused tickers ({len(result.refused)})</h2>
{_table(result.refused) if len(result.refused) else "<p>None.</p>"}
<h2>Every ticker (best MASE first; seconds of its backtest)</h2>
{_table(table[shown])}
<p>{timings.get("tickers_run_now", 0)} tickers run in {timings.get("run_seconds", math.nan):.1f} s
on {result.config.get("workers")} {html.escape(str(result.config.get("executor")))} worker(s),
{timings.get("tickers_resumed", 0)} resumed from the run folder; peak memory
{result.memory.get("this_process_peak_mb", math.nan):.0f} MB here,
{result.memory.get("largest_worker_peak_mb", math.nan):.0f} MB in the largest worker.</p>
</body></html>
"""


def _number(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        f"{value:.4g}")


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, float_format=lambda v: f"{v:.4g}", na_rep="-", border=0,
                         classes="t")


def _image(figure: Figure, caption: str, *, wide: bool = False) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    kind = ' class="wide"' if wide else ""
    return (
        f'<figure{kind}><img alt="{html.escape(caption)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _histogram(table: pd.DataFrame) -> Figure:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3), layout="constrained")
    ax = figure.subplots()
    mase = table["mase"].to_numpy(dtype=np.float64)
    mase = mase[np.isfinite(mase)]
    if mase.size:
        ax.hist(mase, bins=min(40, max(5, mase.size // 3)), color="#557")
    ax.axvline(1.0, color="#c33", linestyle="--", label="naive (1.0)")
    ax.set_xlabel("MASE (model MAE / naive MAE on the same points)")
    ax.set_ylabel("tickers")
    ax.legend()
    return figure


def _ticker_figure(forecasts: pd.DataFrame, ticker: str, model: str) -> Figure:
    from matplotlib.figure import Figure

    from forecast.plotting import plot_forecast_vs_actual

    figure = Figure(figsize=(5.5, 2.8), layout="constrained")
    ax = figure.subplots()
    part = forecasts[forecasts["ticker"] == ticker].drop(columns="ticker")
    plot_forecast_vs_actual(part, model=model, ax=ax)
    ax.set_title(f"{ticker}: {ax.get_title()}", fontsize=9)
    return figure
