"""Verdicts over a universe: the per-ticker table, pooled figures, and FDR-controlled claims.

Per ticker (one row of ``universe.csv``): the model's MAE, RMSE, MAPE, MASE and Theil's U
against the naive forecast on the same points, direction accuracy, the Diebold–Mariano test
vs naive (two-sided, as :func:`forecast.metrics.summarize` computes it) and its one-sided
p-value for "lower loss than naive", the trading rules' returns and Sharpe ratios after costs
beside buy-and-hold, and the ticker's seconds.

Claims: a ticker "beats naive" only when its one-sided p-value survives the false-discovery
step (:mod:`forecast.universe.fdr`, Benjamini–Hochberg at ``alpha`` by default); the
uncorrected count (p < alpha) is reported beside it, and the verdict sentence uses the
corrected one.

Pooled figures: median and mean MASE; the share of tickers whose MAE is below naive's; and a
pooled Diebold–Mariano test (:data:`POOLED_DM_ASSUMPTIONS` states what it assumes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import DataError
from forecast.significance import overlap_lags_from_dates, pooled_dm_test
from forecast.universe.fdr import FDR_NAMES, FdrMethod, adjust, reject
from forecast.universe.unit import TickerOutcome

__all__ = ["POOLED_DM_ASSUMPTIONS", "pooled_dm", "pooled_figures", "ticker_table", "verdict"]

POOLED_DM_ASSUMPTIONS = (
    "At every origin date, each ticker's loss differential (model minus naive squared "
    "percentage error, averaged over the horizon's steps) is averaged across the tickers "
    "forecast from that date, and the calibrated Diebold–Mariano test "
    "(forecast.significance.pooled_dm_test: autocovariance lags from the overlap of the "
    "origins' forecast spans, Harvey–Leybourne–Newbold correction, Student t on the "
    "non-overlapping points, two-sided) runs on that one series. Averaging first means no "
    "independence across tickers is assumed: their correlation is inside the averaged "
    "series. It assumes the averaged differential is covariance-stationary and independent "
    "beyond the overlap; dates with fewer tickers weigh the same as full ones; percentage "
    "errors keep high-priced tickers from dominating."
)


def ticker_table(outcomes: Sequence[TickerOutcome], model: str, *, alpha: float = 0.05,
                 fdr: FdrMethod = "bh") -> pd.DataFrame:
    """One row per ticker that ran (``universe.csv``), with uncorrected and FDR claims.

    Columns: ``ticker, n_bars, n_points, mae, naive_mae, rmse, mape, mase, theil_u,
    direction_accuracy, dm_stat, dm_pvalue`` (two-sided), ``p_better`` (one-sided, H1: lower
    loss than naive), ``beats_naive_uncorrected`` (``p_better < alpha``), ``q_value``
    (step-up adjusted ``p_better``), ``beats_naive`` (``q_value <= alpha``),
    ``long_flat_return, long_short_return, long_flat_sharpe, long_short_sharpe,
    buy_and_hold_return`` (fractions after costs; Sharpe annualised) and ``seconds``.
    Sorted by MASE, best first.
    """
    rows = []
    for outcome in outcomes:
        if outcome.status != "ran" or outcome.metrics is None:
            continue
        table = outcome.metrics.set_index("model")
        if model not in table.index or "naive" not in table.index:
            raise DataError(f"{outcome.ticker}'s metrics lack {model!r} or 'naive'.")
        row = table.loc[model]
        rows.append({
            "ticker": outcome.ticker, "n_bars": outcome.n_bars,
            "n_points": int(row["n_points"]), "mae": row["mae"],
            "naive_mae": table.loc["naive", "mae"], "rmse": row["rmse"], "mape": row["mape"],
            "mase": row["mase"], "theil_u": row["theil_u"],
            "direction_accuracy": row["direction_accuracy"], "dm_stat": row["dm_stat"],
            "dm_pvalue": row["dm_pvalue"],
            "p_better": one_sided(float(row["dm_stat"]), float(row["dm_pvalue"])),
            **_trading_columns(outcome.trading, model), "seconds": outcome.seconds,
        })
    columns = ["ticker", "n_bars", "n_points", "mae", "naive_mae", "rmse", "mape", "mase",
               "theil_u", "direction_accuracy", "dm_stat", "dm_pvalue", "p_better",
               "beats_naive_uncorrected", "q_value", "beats_naive", "long_flat_return",
               "long_short_return", "long_flat_sharpe", "long_short_sharpe",
               "buy_and_hold_return", "seconds"]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=columns)
    p = frame["p_better"].to_numpy(dtype=np.float64)
    frame["beats_naive_uncorrected"] = np.nan_to_num(p, nan=2.0) < alpha
    frame["q_value"] = adjust(p, fdr)
    frame["beats_naive"] = reject(p, alpha, fdr)
    frame = frame[columns]
    return frame.sort_values(["mase", "ticker"], kind="stable", na_position="last",
                             ignore_index=True)


def one_sided(statistic: float, p_two_sided: float) -> float:
    """P-value of H1 "model loss below naive's" from the two-sided DM test (t is symmetric)."""
    if math.isnan(statistic) or math.isnan(p_two_sided):
        return math.nan
    return p_two_sided / 2 if statistic < 0 else 1 - p_two_sided / 2


def pooled_dm(forecasts: pd.DataFrame, model: str) -> dict[str, float]:
    """The pooled DM test across the universe (:data:`POOLED_DM_ASSUMPTIONS`).

    ``forecasts`` is the tidy frame of every ticker (``ticker`` column) with the model's and
    the naive forecast's rows. Returns ``statistic`` (negative: the model's loss is lower),
    ``p_value`` (two-sided), ``n_dates`` and ``horizon``.
    """
    keys = ["ticker", "origin", "step"]
    mine = forecasts[forecasts["model"] == model]
    naive = forecasts[forecasts["model"] == "naive"][[*keys, "predicted"]]
    paired = mine.merge(naive, on=keys, suffixes=("", "_naive")).set_index(keys)
    if paired.empty:
        return {"statistic": math.nan, "p_value": math.nan, "n_dates": 0, "horizon": 0}
    scale = paired["origin_price"].to_numpy()
    actual = paired["actual"].to_numpy()
    d = (((actual - paired["predicted"].to_numpy()) / scale) ** 2
         - ((actual - paired["predicted_naive"].to_numpy()) / scale) ** 2)
    frame = pd.DataFrame({"d": d, "target_date": paired["target_date"].to_numpy()},
                         index=paired.index).reset_index()
    per_ticker = frame.groupby(["origin", "ticker"], sort=True)["d"].mean()
    matrix = per_ticker.unstack("ticker")  # [origin dates, tickers], NaN: not forecast then
    last_target = frame.groupby("origin", sort=True)["target_date"].max()
    lags = overlap_lags_from_dates(last_target.index, last_target.to_numpy())
    horizon = int(frame["step"].max())
    result = pooled_dm_test(matrix.to_numpy(dtype=np.float64), lags=lags)
    return {"statistic": result.statistic, "p_value": result.p_value,
            "n_dates": int(result.n), "horizon": horizon, "lags": lags}


def pooled_figures(table: pd.DataFrame, forecasts: pd.DataFrame | None, model: str, *,
                   alpha: float, fdr: FdrMethod, n_refused: int) -> dict[str, Any]:
    """Median/mean MASE, share below naive, claim counts and the pooled DM test, as a dict."""
    mase = table["mase"].to_numpy(dtype=np.float64) if len(table) else np.array([])
    dm = (pooled_dm(forecasts, model) if forecasts is not None and len(forecasts)
          else {"statistic": math.nan, "p_value": math.nan, "n_dates": 0, "horizon": 0})
    return {
        "model": model,
        "n_ran": len(table),
        "n_refused": n_refused,
        "median_mase": float(np.nanmedian(mase)) if mase.size else math.nan,
        "mean_mase": float(np.nanmean(mase)) if mase.size else math.nan,
        "share_below_naive": float(np.mean(mase < 1.0)) if mase.size else math.nan,
        "beats_naive_uncorrected": int(table["beats_naive_uncorrected"].sum()) if len(table) else 0,
        "beats_naive": int(table["beats_naive"].sum()) if len(table) else 0,
        "alpha": alpha,
        "fdr": fdr,
        "fdr_name": FDR_NAMES[fdr],
        "pooled_dm_stat": dm["statistic"],
        "pooled_dm_pvalue": dm["p_value"],
        "pooled_dm_dates": dm["n_dates"],
        "pooled_dm_assumptions": POOLED_DM_ASSUMPTIONS,
    }


def verdict(pooled: dict[str, Any]) -> str:
    """One sentence over the universe, its "beats naive" count FDR-controlled."""
    model, ran, level = pooled["model"], pooled["n_ran"], f"{pooled['alpha'] * 100:g}%"
    if ran == 0:
        return f"{model} ran on no ticker; see the refused tickers and their reasons."
    corrected, raw = pooled["beats_naive"], pooled["beats_naive_uncorrected"]
    count = f"{corrected} of {ran} tickers" if corrected else f"none of the {ran} tickers"
    p = pooled["pooled_dm_pvalue"]
    if math.isnan(p):
        pooled_text = "pooled DM p undefined"
    else:
        direction = ("better" if pooled["pooled_dm_stat"] < 0 else "worse") if p < pooled[
            "alpha"] else "no different"
        pooled_text = f"pooled DM p = {p:.3g} ({direction} across the universe at {level})"
    return (
        f"{model} beats the naive random walk on {count} after {pooled['fdr_name']} control "
        f"of the false-discovery rate at {level} ({raw} at p < {pooled['alpha']:g} "
        f"uncorrected); median MASE {pooled['median_mase']:.3f}, "
        f"{pooled['share_below_naive']:.0%} of tickers below naive's error; {pooled_text}."
    )


def _trading_columns(trading: pd.DataFrame | None, model: str) -> dict[str, float]:
    out = {"long_flat_return": math.nan, "long_short_return": math.nan,
           "long_flat_sharpe": math.nan, "long_short_sharpe": math.nan,
           "buy_and_hold_return": math.nan}
    if trading is None or trading.empty:
        return out
    for _, row in trading.iterrows():
        if row["model"] == model and row["rule"] in ("long_flat", "long_short"):
            out[f"{row['rule']}_return"] = float(row["cumulative_return"])
            out[f"{row['rule']}_sharpe"] = float(row["sharpe"])
        elif row["strategy"] == "buy_and_hold":
            out["buy_and_hold_return"] = float(row["cumulative_return"])
    return out
