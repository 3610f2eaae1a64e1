"""Forecast metrics on the tidy forecasts frame: errors, MASE, Theil's U, direction, DM test.

The tidy forecasts frame (shared by the backtest, this module, ``trading`` and ``report``) has
one row per (model, origin, step[, ticker]), every value in PRICE units; its columns and their
check are defined once, in :mod:`forecast.forecasts_frame`.

Conventions: the error is ``e = actual - predicted``; a *point* is one (ticker, origin, step).
With a ``ticker`` column the point metrics pool every row of every ticker, so the price-unit
ones (MAE, RMSE, and MASE and DM, which are ratios and differences of them) weigh
high-priced tickers more; MAPE, Theil's U and direction accuracy are scale-free.

Tables come back with ``model`` (and ``step``) as ordinary columns, so ``to_csv(index=False)``
and ``to_json(orient="records")`` keep them. The trading view lives in
:mod:`forecast.trading`; the frame's schema and its check in :mod:`forecast.forecasts_frame`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)

from forecast.errors import ConfigError, DataError
from forecast.forecasts_frame import FORECAST_COLUMNS, check_forecasts, point_keys
from forecast.significance import (
    DMResult,
    dm_test,
    overlap_lags,
    overlap_lags_from_dates,
)

__all__ = [
    "FORECAST_COLUMNS",
    "DMResult",
    "check_forecasts",
    "diebold_mariano",
    "direction_accuracy",
    "mae",
    "mape",
    "mase",
    "mase_insample",
    "per_step",
    "point_keys",
    "r2",
    "rmse",
    "summarize",
    "theil_u",
    "verdict",
]

Loss = Literal["squared", "absolute"]
Alternative = Literal["two-sided", "less", "greater"]
_LOSSES = ("squared", "absolute")


# ---------------------------------------------------------------- input checks


def _arrays(*arrays: object, names: tuple[str, ...]) -> list[np.ndarray]:
    """Return the inputs as 1-D float arrays of one non-zero length, all finite."""
    out = [np.asarray(a, dtype=float).ravel() for a in arrays]
    lengths = {a.size for a in out}
    if len(lengths) != 1:
        raise DataError(f"{', '.join(names)} must have the same length; got "
                        f"{[a.size for a in out]}.")
    if 0 in lengths:
        raise DataError(f"{', '.join(names)} are empty; there is nothing to score.")
    if not all(np.isfinite(a).all() for a in out):
        raise DataError(f"{', '.join(names)} must be finite; drop NaN or infinite values first.")
    return out


def _check_option(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {list(allowed)}, not {value!r}.")


# ---------------------------------------------------------------- point metrics on arrays


def mae(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute error ``mean(|y - ŷ|)``, in price units."""
    y, y_hat = _arrays(actual, predicted, names=("actual", "predicted"))
    return float(mean_absolute_error(y, y_hat))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean squared error ``sqrt(mean((y - ŷ)²))``, in price units."""
    y, y_hat = _arrays(actual, predicted, names=("actual", "predicted"))
    return float(root_mean_squared_error(y, y_hat))


def mape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Mean absolute percentage error ``100 · mean(|y - ŷ| / |y|)``, in PERCENT.

    sklearn floors ``|y|`` at machine epsilon, so a zero price gives a huge value, not inf.
    """
    y, y_hat = _arrays(actual, predicted, names=("actual", "predicted"))
    return float(100.0 * mean_absolute_percentage_error(y, y_hat))


def r2(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` on prices; NaN for one point.

    On price levels R² is near 1 for any forecast that stays near the last price, the naive
    one included: read it next to MASE, never alone.
    """
    y, y_hat = _arrays(actual, predicted, names=("actual", "predicted"))
    return float(r2_score(y, y_hat)) if y.size >= 2 else math.nan  # sklearn warns on one point


def mase(actual: np.ndarray, predicted: np.ndarray, naive_predicted: np.ndarray) -> float:
    """MASE scaled by the naive forecast on the SAME points: ``MAE(ŷ) / MAE(ŷ_naive)``.

    This is the relative-MAE variant of MASE: the scale is the out-of-sample error of the
    no-change forecast on exactly the points being scored, so the naive model's MASE is
    exactly 1.0 and below 1 means "beats the random walk on these points". Hyndman &
    Koehler's in-sample scaling is :func:`mase_insample`. NaN when ``MAE(ŷ_naive) == 0``.
    """
    y, y_hat, y_naive = _arrays(actual, predicted, naive_predicted,
                                names=("actual", "predicted", "naive_predicted"))
    scale = float(mean_absolute_error(y, y_naive))
    return float(mean_absolute_error(y, y_hat)) / scale if scale > 0 else math.nan


def mase_insample(actual: np.ndarray, predicted: np.ndarray, train_series: np.ndarray,
                  season: int = 1) -> float:
    """Hyndman & Koehler's MASE: ``MAE(ŷ) / mean_t |x_t - x_{t-m}|`` over the training series.

    ``m = season``; the denominator is the in-sample MAE of the seasonal naive forecast on
    ``train_series`` (prices, in time order). NaN when that denominator is 0.
    """
    y, y_hat = _arrays(actual, predicted, names=("actual", "predicted"))
    (train,) = _arrays(train_series, names=("train_series",))
    if not isinstance(season, int) or season < 1:
        raise ConfigError(f"season must be an integer >= 1, not {season!r}.")
    if train.size <= season:
        raise DataError(f"train_series has {train.size} value(s); the in-sample scale needs more "
                        f"than season={season}.")
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    return float(mean_absolute_error(y, y_hat)) / scale if scale > 0 else math.nan


def theil_u(actual: np.ndarray, predicted: np.ndarray, origin_price: np.ndarray) -> float:
    """Theil's U2 on relative changes from the origin price.

    ``U2 = sqrt(Σ ((ŷ - y) / y0)²) / sqrt(Σ ((y - y0) / y0)²)`` with ``y0`` the origin price:
    the RMSE of the model's forecast relative change over the RMSE of the no-change
    forecast's (which predicts a change of 0). U2 = 1 for the naive model, < 1 better.
    NaN when no price moved (a zero denominator).
    """
    y, y_hat, y0 = _arrays(actual, predicted, origin_price,
                           names=("actual", "predicted", "origin_price"))
    denominator = float(np.sum(((y - y0) / y0) ** 2))
    if denominator == 0:
        return math.nan
    return math.sqrt(float(np.sum(((y_hat - y) / y0) ** 2)) / denominator)


def direction_accuracy(actual: np.ndarray, predicted: np.ndarray,
                       origin_price: np.ndarray) -> float:
    """Share of points where ``sign(ŷ - y0) == sign(y - y0)``, over points where the price moved.

    Points with ``y == y0`` (no move to call) are left out. A flat forecast ``ŷ == y0``
    makes no call and counts as a miss, so the naive model scores 0.0: compare models with
    0.5 (a coin flip), not with naive. NaN when no price moved.
    """
    y, y_hat, y0 = _arrays(actual, predicted, origin_price,
                           names=("actual", "predicted", "origin_price"))
    moved = y != y0
    if not moved.any():
        return math.nan
    return float(np.mean(np.sign(y_hat[moved] - y0[moved]) == np.sign(y[moved] - y0[moved])))


# ---------------------------------------------------------------- Diebold–Mariano


def diebold_mariano(model_errors: np.ndarray, baseline_errors: np.ndarray, *, h: int = 1,
                    step: int = 1, loss: Loss = "squared",
                    alternative: Alternative = "two-sided") -> DMResult:
    """Diebold–Mariano test of two forecasts' errors, sized for their overlap.

    ``d_t = L(e_model,t) - L(e_base,t)`` (``L(e) = e²`` or ``|e|``) in time order, tested by
    :func:`forecast.significance.dm_test` with ``lags = ceil(h / step) - 1``
    (:func:`forecast.significance.overlap_lags`): errors ``h`` bars ahead from origins
    ``step`` bars apart overlap that many origins. The classic DM setting (consecutive
    origins) is ``step=1``, i.e. ``h - 1`` lags; ``step >= h`` means no overlap and the test
    is the one-sample t test of the ``d_t``. See :mod:`forecast.significance` for the
    variance (rectangular kernel floored at γ₀), the Harvey–Leybourne–Newbold correction and
    the Student-t reference.

    Parameters
    ----------
    model_errors, baseline_errors
        ``actual - predicted`` on the same points, in time order, shape ``[n]``, price units.
    h
        Forecast horizon of these errors, in bars.
    step
        Bars between consecutive origins (default 1).
    loss
        ``"squared"`` (default) or ``"absolute"``.
    alternative
        ``"two-sided"`` (default), ``"less"`` (model better) or ``"greater"`` (model worse).

    Returns
    -------
    DMResult
        ``statistic`` (DM*, negative = model better), ``p_value``, ``n``, ``lags``
        (``n_independent``, ``h``), ``alternative``, ``loss``.

    Raises
    ------
    DataError
        Arrays of different or zero length, or non-finite values.
    ConfigError
        Unknown ``loss`` or ``alternative``, or ``h``/``step`` not integers >= 1.
    """
    e_model, e_base = _arrays(model_errors, baseline_errors,
                              names=("model_errors", "baseline_errors"))
    _check_option(loss, _LOSSES, "loss")
    if not isinstance(h, int | np.integer) or isinstance(h, bool) or h < 1:
        raise ConfigError(f"h must be an integer horizon >= 1, not {h!r}.")
    return dm_test(_loss(e_model, loss) - _loss(e_base, loss), lags=overlap_lags(h, step),
                   alternative=alternative, loss=loss)


def _loss(errors: np.ndarray, loss: str) -> np.ndarray:
    return errors**2 if loss == "squared" else np.abs(errors)


def _differentials(paired: pd.DataFrame, loss: str) -> pd.Series:
    """Loss differential per point: ``L(actual - predicted) - L(actual - baseline)``."""
    model = _loss((paired["actual"] - paired["predicted"]).to_numpy(), loss)
    base = _loss((paired["actual"] - paired["baseline"]).to_numpy(), loss)
    return pd.Series(model - base, index=paired.index)


def _dm_by_origin(paired: pd.DataFrame, loss: str) -> DMResult:
    """DM on one differential per origin date: the mean over that origin's steps and tickers.

    Lags come from the dates (:func:`forecast.significance.overlap_lags_from_dates`): an
    origin overlaps the later origins that fall before the last date it forecasts.
    """
    by_origin = paired["origin"]
    d = _differentials(paired, loss).groupby(by_origin, sort=True).mean()
    last_target = paired.groupby(by_origin, sort=True)["target_date"].max()
    lags = overlap_lags_from_dates(last_target.index, last_target.to_numpy())
    return dm_test(d.to_numpy(), lags=lags, alternative="two-sided", loss=loss)


def _untested(loss: str) -> DMResult:
    return DMResult(math.nan, math.nan, 0, 0, "two-sided", loss)


# ---------------------------------------------------------------- tables


def _paired(frame: pd.DataFrame, model: str, baseline: str) -> pd.DataFrame:
    """The model's rows with the baseline's prediction at the same point in ``baseline``."""
    points = point_keys(frame)
    base = frame.loc[frame["model"] == baseline, [*points, "predicted"]]
    paired = frame[frame["model"] == model].merge(
        base.rename(columns={"predicted": "baseline"}), on=points, how="left")
    unmatched = int(paired["baseline"].isna().sum())
    if unmatched:
        raise DataError(f"Model {model!r} has {unmatched} point(s) with no {baseline!r} forecast "
                        f"at the same {tuple(points)}; run the baseline on every origin.")
    return paired


def _require_baseline(frame: pd.DataFrame, baseline: str) -> None:
    if not (frame["model"] == baseline).any():
        raise DataError(f"The forecasts frame has no rows for baseline model {baseline!r} "
                        f"(models: {sorted(frame['model'].unique())}); MASE and the DM test "
                        "compare every model with it on the same points, so include it.")


def summarize(forecasts: pd.DataFrame, *, baseline: str = "naive",
              loss: Loss = "squared") -> pd.DataFrame:
    """One row per model: point metrics, and MASE, Theil's U and DM against ``baseline``.

    Columns: ``model``, ``mae``, ``rmse`` (price units), ``mape`` (percent), ``r2``, ``mase``,
    ``theil_u``, ``direction_accuracy`` (fraction), ``dm_stat``, ``dm_pvalue`` (NaN for the
    baseline itself), ``dm_origins`` (differentials the test used), ``dm_lags``
    (autocovariance lags their overlap needs), ``n_points``. Sorted by MASE (best first), so
    the baseline's row (MASE 1.0) splits the models that beat it from the ones that do not.

    The DM test here is the OVERALL one: rows at different steps of one origin share shocks,
    so the differentials are averaged per origin (over steps and tickers, which also pools a
    panel's same-day errors) and tested two-sided by
    :func:`forecast.significance.dm_test` with the lags the origins' overlap needs, read
    from the dates: ``ceil(H / step) - 1`` on a regular grid, so 0 (non-overlapping origins)
    with the backtest's default ``step = H``. :func:`per_step` gives the per-step tests.

    Parameters
    ----------
    forecasts
        The tidy forecasts frame (module docstring); every model's points must also have a
        ``baseline`` forecast.
    baseline
        Model name of the no-change forecast MASE and DM compare against.
    loss
        DM loss: ``"squared"`` (default) or ``"absolute"``.

    Returns
    -------
    DataFrame
        One row per model, the columns above.

    Raises
    ------
    DataError
        A bad frame (see :func:`check_forecasts`), no ``baseline`` rows, or a model point
        without a baseline forecast.

    Examples
    --------
    >>> table = summarize(forecasts)                                  # doctest: +SKIP
    >>> verdict(table, "lstm")                                        # doctest: +SKIP
    'lstm does not beat the naive random walk: MASE 1.04, DM p = 0.62.'
    """
    frame = check_forecasts(forecasts)
    _check_option(loss, _LOSSES, "loss")
    _require_baseline(frame, baseline)
    rows = {}
    for model in frame["model"].unique():
        paired = _paired(frame, model, baseline)
        y, y_hat = paired["actual"].to_numpy(), paired["predicted"].to_numpy()
        y0 = paired["origin_price"].to_numpy()
        dm = _untested(loss) if model == baseline else _dm_by_origin(paired, loss)
        rows[model] = {
            "mae": mae(y, y_hat), "rmse": rmse(y, y_hat), "mape": mape(y, y_hat),
            "r2": r2(y, y_hat), "mase": mase(y, y_hat, paired["baseline"].to_numpy()),
            "theil_u": theil_u(y, y_hat, y0),
            "direction_accuracy": direction_accuracy(y, y_hat, y0),
            "dm_stat": dm.statistic, "dm_pvalue": dm.p_value, "dm_origins": dm.n,
            "dm_lags": dm.lags, "n_points": len(paired),
        }
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("model").reset_index()
    return table.sort_values("mase", kind="stable", na_position="last", ignore_index=True)


def per_step(forecasts: pd.DataFrame, *, baseline: str | None = "naive",
             loss: Loss = "squared") -> pd.DataFrame:
    """Error by horizon step: one row per (model, step).

    Columns ``model``, ``step``, ``mae``, ``rmse`` (price units) and ``n_points``; unless
    ``baseline`` is None, also ``mase`` and the per-step DM test ``dm_stat``/``dm_pvalue``/
    ``dm_lags`` (two-sided; one differential per origin, averaged over tickers; step-k errors
    of origins ``step`` bars apart overlap ``ceil(k / step) - 1`` origins, read from the
    dates as in :func:`summarize`).
    ``table.pivot(index="model", columns="step", values="mae")`` is the model x step grid.
    """
    frame = check_forecasts(forecasts)
    _check_option(loss, _LOSSES, "loss")
    if baseline is not None:
        _require_baseline(frame, baseline)
    rows = []
    for model in frame["model"].unique():
        paired = (frame[frame["model"] == model] if baseline is None
                  else _paired(frame, model, baseline))
        for step, group in paired.groupby("step", sort=True):
            y, y_hat = group["actual"].to_numpy(), group["predicted"].to_numpy()
            row = {"model": model, "step": int(step), "mae": mae(y, y_hat),
                   "rmse": rmse(y, y_hat), "n_points": len(group)}
            if baseline is not None:
                dm = _untested(loss) if model == baseline else _dm_by_origin(group, loss)
                row |= {"mase": mase(y, y_hat, group["baseline"].to_numpy()),
                        "dm_stat": dm.statistic, "dm_pvalue": dm.p_value, "dm_lags": dm.lags}
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["model", "step"], ignore_index=True)


def _format_p(p: float) -> str:
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if p < 0.01 else f"= {p:.2f}"


def verdict(metrics: pd.DataFrame | pd.Series, model: str, alpha: float = 0.05, *,
            baseline: str = "naive") -> str:
    """One plain sentence: does ``model`` beat the baseline, by MASE and the DM test?

    ``metrics`` is a :func:`summarize` table (``model`` as a column or as the index) or one
    of its rows. "Beats" needs a DM p-value below ``alpha`` with a negative statistic (lower
    loss); a p-value below ``alpha`` with a positive statistic is "significantly worse";
    anything else "does not beat". The DM loss is the one ``summarize`` used (squared by
    default) while MASE is absolute, so on rare data the two can point different ways: the
    sentence reports both. When the row has ``dm_origins``/``dm_lags`` the sentence also
    names the test, how it handled the horizon and how many independent points it rests on,
    e.g. "(Diebold–Mariano on 50 non-overlapping origins)", so a reader can judge it.
    """
    if isinstance(metrics, pd.DataFrame):
        names = metrics["model"] if "model" in metrics.columns else metrics.index.to_series()
        if not (names == model).any():
            raise DataError(f"Model {model!r} is not in the metrics table; it has "
                            f"{list(names)}.")
        metrics = metrics[(names == model).to_numpy()].iloc[0]
    missing = [c for c in ("mase", "dm_stat", "dm_pvalue") if c not in metrics.index]
    if missing:
        raise DataError(f"The metrics row lacks {missing}; pass a row of summarize().")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha!r}.")
    name = "the naive random walk" if baseline == "naive" else f"the {baseline} baseline"
    score = "MASE n/a" if pd.isna(metrics["mase"]) else f"MASE {metrics['mase']:.2f}"
    p, statistic = float(metrics["dm_pvalue"]), float(metrics["dm_stat"])
    if model == baseline:
        return f"{model} is {name} itself ({score}); there is nothing to test."
    if math.isnan(p):
        return (f"{model} cannot be tested against {name}: {score}, DM p undefined "
                "(fewer than two non-overlapping origins).")
    level = f"{alpha * 100:g}%"
    basis = _test_basis(metrics)
    if p < alpha and statistic < 0:
        return (f"{model} beats {name}: {score}, DM p {_format_p(p)} "
                f"(better at the {level} level{basis}).")
    if p < alpha and statistic > 0:
        return (f"{model} is significantly worse than {name}: {score}, DM p {_format_p(p)} "
                f"(worse at the {level} level{basis}).")
    if basis:
        return f"{model} does not beat {name}: {score}, DM p {_format_p(p)} ({basis[2:]})."
    return f"{model} does not beat {name}: {score}, DM p {_format_p(p)}."


def _test_basis(row: pd.Series) -> str:
    """``"; Diebold–Mariano on 50 non-overlapping origins"``, or "" for rows without it."""
    if not {"dm_origins", "dm_lags"} <= set(row.index) or pd.isna(row["dm_origins"]):
        return ""
    result = DMResult(math.nan, math.nan, int(row["dm_origins"]), int(row["dm_lags"]))
    if result.lags == 0:
        return f"; Diebold–Mariano on {result.n} non-overlapping origins"
    return (f"; Diebold–Mariano on {result.n} overlapping origins, {result.lags} lags, "
            f"about {result.n_independent} independent")
