"""Trading view of the forecasts: trade the predicted sign, net of costs, against buy-and-hold.

Everything here reads the tidy forecasts frame described in :mod:`forecast.metrics`.

Periods (which forecast trades, for how long)
    Periods belong to the backtest, not to a model: every strategy and buy-and-hold trade
    the same ones. Per ticker, origins are taken in time order.

    - ``step=None`` (default): the position opened at an origin is held until the NEXT
      origin, using the forecast whose ``target_date`` is that next origin (origins k bars
      apart trade the step-k forecast). Precisely: the largest step whose target_date is not
      after the next origin; when the next origin lies beyond step H, step H is traded and
      the gap is spent flat (in cash) by every strategy, buy-and-hold included. The last
      origin trades the most common step of the others (step 1 if it is the only origin).
    - ``step=h``: every position uses the step-h forecast and is held h bars; origins that
      fall inside a running holding period are skipped, so positions never overlap.

Positions, from the predicted return ``r̂ = predicted / origin_price - 1``
    ``long_flat``: 1 if r̂ > 0 else 0.  ``long_short``: sign(r̂), i.e. +1 / -1 (0 only for an
    exactly flat forecast, so the naive model never trades). Buy-and-hold: always 1.

Returns and costs
    Realised return of a period: ``r = actual / origin_price - 1`` at the traded step.
    Cost: ``cost_bps / 10_000 · |position - previous position|``; the first position is
    entered from flat (and charged), the final exit is not. Net: ``position · r - cost``.
    Equity: ``Π (1 + net)``, 1.0 at the first origin, marked at each period's end; a period
    that loses everything (net <= -100%, e.g. a short through a doubling) ruins the strategy:
    its equity stays at 0 from then on instead of compounding a negative balance.

Panels (a ``ticker`` column)
    Each period (origin date) weights the tickers trading at it equally: net return and
    turnover are means over those tickers; drift between rebalances is ignored.

Metrics (:func:`trading_summary`)
    ``cumulative_return`` = final equity - 1; ``sharpe`` = mean(net) / std(net, ddof=1) ·
    sqrt(252 / spacing) (no risk-free rate; NaN when the net returns are constant or fewer
    than 2), spacing = median bars between consecutive traded origins, counted on the
    frame's own calendar (its origins and target dates); when origins lie more than H bars
    apart that calendar has holes, so the spacing is then calendar days · 252 / 365.25;
    ``max_drawdown`` = min_t (E_t / max_{u<=t} E_u - 1), a NEGATIVE fraction (-0.25 = a 25%
    fall, 0.0 = none); ``hit_rate`` = share of (ticker, period) positions != 0 whose
    realised return had the position's sign (a zero return is a miss); ``turnover`` = mean
    |Δposition| per period, entry included.
"""

from __future__ import annotations

import math
from collections import Counter
from itertools import pairwise

import numpy as np
import pandas as pd

from forecast.errors import ConfigError, DataError
from forecast.forecasts_frame import check_forecasts

__all__ = ["RULES", "max_drawdown", "sharpe_ratio", "trading_curves", "trading_summary"]

RULES: tuple[str, ...] = ("long_flat", "long_short")
TRADING_DAYS = 252
BUY_AND_HOLD = "buy_and_hold"


def max_drawdown(equity: np.ndarray) -> float:
    """Largest peak-to-trough fall of an equity curve: ``min_t (E_t / max_{u<=t} E_u - 1)``.

    Returns a negative fraction (-0.5 for a halving, -1.0 for ruin) or 0.0 when the curve
    never falls.
    """
    curve = np.asarray(equity, dtype=float)
    if curve.size == 0 or not np.isfinite(curve).all() or curve[0] <= 0:
        raise DataError("equity must be a non-empty, finite curve that starts above 0.")
    return float(np.min(curve / np.maximum.accumulate(curve) - 1.0))


def sharpe_ratio(returns: np.ndarray, periods_per_year: float) -> float:
    """Annualised Sharpe ratio ``mean(r) / std(r, ddof=1) · sqrt(periods_per_year)``.

    Per-period returns as fractions; no risk-free rate. NaN for fewer than 2 returns or
    constant returns (zero volatility), by rule rather than by a division warning.
    """
    r = np.asarray(returns, dtype=float)
    if r.size < 2 or np.all(r == r[0]):
        return math.nan
    return float(r.mean() / r.std(ddof=1) * math.sqrt(periods_per_year))


def _steps_to_next_origin(targets: dict) -> list[tuple[object, int]]:
    """``step=None``: per origin, the largest step whose target is not after the next origin."""
    origins = list(targets)
    chosen: dict[object, int] = {}
    for origin, next_origin in pairwise(origins):
        fits = [s for s, end in targets[origin].items() if end <= next_origin]
        chosen[origin] = max(fits) if fits else min(targets[origin])
    usual = Counter(chosen.values()).most_common(1)[0][0] if chosen else 1
    last = targets[origins[-1]]
    chosen[origins[-1]] = max((s for s in last if s <= usual), default=min(last))
    return list(chosen.items())


def _non_overlapping(targets: dict, step: int) -> list[tuple[object, int]]:
    """``step=h``: the step-h forecast at each origin not inside the previous holding period."""
    chosen, held_until = [], None
    for origin, available in targets.items():
        if step in available and (held_until is None or origin >= held_until):
            chosen.append((origin, step))
            held_until = available[step]
    return chosen


def _periods(frame: pd.DataFrame, step: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Traded periods, one row per (ticker, origin) with step, target_date and realised
    return; and the predicted return of every model (one column each) on the same rows."""
    points = frame.drop_duplicates(["ticker", "origin", "step"])
    chosen = []
    for ticker, group in points.groupby("ticker", sort=True):
        targets = {origin: dict(zip(rows["step"], rows["target_date"], strict=True))
                   for origin, rows in group.groupby("origin", sort=True)}
        picks = _steps_to_next_origin(targets) if step is None else _non_overlapping(targets, step)
        chosen += [(ticker, origin, s) for origin, s in picks]
    if not chosen:
        raise ConfigError(f"No origin has a step-{step} forecast; choose step in 1.."
                          f"{int(frame['step'].max())} or None.")
    keys = ["ticker", "origin", "step"]
    periods = pd.DataFrame(chosen, columns=keys).merge(
        points[[*keys, "target_date", "actual", "origin_price"]], on=keys)
    periods["realised"] = periods["actual"] / periods["origin_price"] - 1.0
    predicted = frame.merge(periods[keys], on=keys).pivot(
        index=keys, columns="model", values="predicted")
    predicted = predicted.reindex(pd.MultiIndex.from_frame(periods[keys]))
    for model in predicted.columns:
        missing = int(predicted[model].isna().sum())
        if missing:
            raise DataError(f"Model {model!r} has no forecast for {missing} traded period(s); "
                            "every model must forecast every origin and step that is traded.")
    returns = predicted.to_numpy() / periods["origin_price"].to_numpy()[:, None] - 1.0
    return periods, pd.DataFrame(returns, columns=list(predicted.columns))


def _positions(predicted: pd.DataFrame) -> dict[str, tuple[str, str, np.ndarray]]:
    """Strategy name -> (model, rule, position per period row)."""
    out = {}
    for model in predicted.columns:
        r_hat = predicted[model].to_numpy()
        out[f"{model}/long_flat"] = (model, "long_flat", (r_hat > 0).astype(float))
        out[f"{model}/long_short"] = (model, "long_short", np.sign(r_hat))
    out[BUY_AND_HOLD] = (BUY_AND_HOLD, "long", np.ones(len(predicted)))
    return out


def _spacing(frame: pd.DataFrame, periods: pd.DataFrame) -> float:
    """Median bars between consecutive traded origins (see the module docstring)."""
    bars, days, complete = [], [], True
    for ticker, group in frame.groupby("ticker", sort=True):
        last_target = group.groupby("origin", sort=True)["target_date"].max()
        complete &= bool((last_target.index[1:] <= last_target.to_numpy()[:-1]).all())
        calendar = pd.DatetimeIndex(pd.concat([group["origin"], group["target_date"]]).unique())
        traded = pd.DatetimeIndex(periods.loc[periods["ticker"] == ticker, "origin"])
        bars.append(np.diff(calendar.sort_values().searchsorted(traded)))
        # Nanoseconds, not seconds: sub-second bars would otherwise be 0 days apart.
        days.append(np.diff(traded).astype("timedelta64[ns]").astype(float) / 86_400e9)
    if not np.concatenate(bars).size:  # one origin per ticker: the held step is all we know
        return float(np.median(periods["step"]))
    if complete:
        return float(np.median(np.concatenate(bars)))
    spacing = float(np.median(np.concatenate(days))) * TRADING_DAYS / 365.25
    return spacing if spacing > 0 else float(np.median(periods["step"]))


def _per_period(periods: pd.DataFrame, position: np.ndarray, cost_bps: float) -> pd.DataFrame:
    """Equal-weighted net return and turnover per origin date, with the period's end."""
    previous = pd.Series(position).groupby(periods["ticker"].to_numpy()).shift(1, fill_value=0.0)
    turnover = np.abs(position - previous.to_numpy())
    net = position * periods["realised"].to_numpy() - cost_bps / 10_000 * turnover
    rows = pd.DataFrame({"origin": periods["origin"], "end": periods["target_date"],
                         "net": net, "turnover": turnover})
    return rows.groupby("origin", sort=True).agg(
        end=("end", "max"), net=("net", "mean"), turnover=("turnover", "mean"))


def _equity(net: np.ndarray) -> np.ndarray:
    """``[1, Π(1 + net)...]``, held at 0 from the first period that loses everything."""
    factors = np.maximum(1.0 + net, 0.0)
    return np.concatenate([[1.0], np.cumprod(factors)])


def _prepare(forecasts: pd.DataFrame, cost_bps: float, step: int | None) -> pd.DataFrame:
    frame = check_forecasts(forecasts)
    if not (isinstance(cost_bps, int | float) and math.isfinite(cost_bps) and cost_bps >= 0):
        raise ConfigError(f"cost_bps must be a finite number >= 0 (basis points), "
                          f"not {cost_bps!r}.")
    if step is not None and (not isinstance(step, int | np.integer) or step < 1):
        raise ConfigError(f"step must be None or an integer >= 1, not {step!r}.")
    if "ticker" not in frame.columns:
        frame = frame.assign(ticker="")
    return frame.sort_values(["ticker", "origin", "step", "model"], kind="stable")


def trading_curves(forecasts: pd.DataFrame, *, cost_bps: float = 1.0,
                   step: int | None = None) -> pd.DataFrame:
    """Equity curves of every model x rule and of buy-and-hold, net of costs.

    Returns a frame indexed by ``date`` (the first origin, then each period's end), one
    column per strategy: ``"<model>/long_flat"``, ``"<model>/long_short"`` and
    ``"buy_and_hold"``; every curve starts at 1.0. See the module docstring for the
    holding rule (``step``), positions, costs and panels.

    Raises
    ------
    DataError
        A bad forecasts frame, or a model missing a forecast at a traded period.
    ConfigError
        ``cost_bps`` negative or not finite, or ``step`` not None / an integer >= 1.
    """
    frame = _prepare(forecasts, cost_bps, step)
    periods, predicted = _periods(frame, step)
    curves, ends = {}, None
    for name, (_, _, position) in _positions(predicted).items():
        by_origin = _per_period(periods, position, cost_bps)
        curves[name] = _equity(by_origin["net"].to_numpy())
        ends = by_origin["end"]
    index = pd.DatetimeIndex([periods["origin"].min(), *ends], name="date")
    return pd.DataFrame(curves, index=index)


def trading_summary(forecasts: pd.DataFrame, *, cost_bps: float = 1.0,
                    step: int | None = None) -> pd.DataFrame:
    """One row per model x rule, plus buy-and-hold on the same periods.

    Columns ``strategy`` (the :func:`trading_curves` column names), ``model``, ``rule``,
    ``cumulative_return`` (fraction), ``sharpe`` (annualised), ``max_drawdown`` (negative
    fraction), ``hit_rate``, ``turnover`` and ``n_periods``.
    ``table.attrs["periods_per_year"]`` holds the 252 / spacing used for the Sharpe ratio.
    """
    frame = _prepare(forecasts, cost_bps, step)
    periods, predicted = _periods(frame, step)
    periods_per_year = TRADING_DAYS / _spacing(frame, periods)
    realised = np.sign(periods["realised"].to_numpy())
    rows = {}
    for name, (model, rule, position) in _positions(predicted).items():
        by_origin = _per_period(periods, position, cost_bps)
        equity = _equity(by_origin["net"].to_numpy())
        held = position != 0
        rows[name] = {
            "model": model, "rule": rule, "cumulative_return": float(equity[-1] - 1.0),
            "sharpe": sharpe_ratio(by_origin["net"].to_numpy(), periods_per_year),
            "max_drawdown": max_drawdown(equity),
            "hit_rate": (float(np.mean(realised[held] == np.sign(position[held])))
                         if held.any() else math.nan),
            "turnover": float(by_origin["turnover"].mean()), "n_periods": len(by_origin),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("strategy").reset_index()
    table.attrs["periods_per_year"] = periods_per_year
    return table
