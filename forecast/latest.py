"""The next forecast of every series at once: one batched forward pass for a whole universe.

``predict`` forecasts one series at a time, each through validation, its own transform and
its own fixed-size batch. After one new bar a universe needs only the last ``lookback`` bars
of each ticker: :func:`forecast_latest` stacks them into ``[N tickers, R, C]``, turns them into
the model's scaled representation in one vectorised step, runs one forward pass
``[N, T, F] -> [N, H, K]`` and converts back to prices.

The numbers equal ``predict``'s up to float32 rounding: the same arithmetic, but the matrix
kernels see a batch of N windows instead of ``predict``'s fixed 32-slot batch, and CPU kernels
may round a row differently by its place in a batch (see :mod:`forecast.numerics`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from forecast.data.columns import TICKER
from forecast.data.dates import infer_step
from forecast.data.transforms import to_representation
from forecast.errors import DataError, NotFittedError
from forecast.numerics import check_finite_forecast

__all__ = ["forecast_latest", "latest_frame"]


def forecast_latest(model: Any, data: pd.DataFrame | None = None) -> pd.DataFrame:
    """Forecast the H bars after the last bar of every series in one batched pass.

    Parameters
    ----------
    model
        A fitted :class:`~forecast.Forecaster`.
    data
        Bars with the fitted columns, one series or a ``(ticker, Date)`` panel, at least
        ``lookback`` (+1 for returns) finite rows per series; only those last rows are read.
        None (default): the last bars the model has seen (``model.seen_``, kept by ``fit`` and
        ``update``), so a model carried forward by ``update`` forecasts with no data at hand.

    Returns
    -------
    DataFrame
        One row per (series, step): ``ticker`` (panels only), ``origin`` (the last bar used),
        ``target_date``, ``step`` (1..H), then one column per target in price units.

    Raises
    ------
    NotFittedError
        ``model`` is not fitted, or ``data`` is None and the model keeps no seen bars.
    DataError
        A series is shorter than the lookback, lacks a fitted column, or holds NaN/inf in its
        last rows.
    """
    if not hasattr(model, "fit_columns_"):
        raise NotFittedError(
            f"this {type(model).__name__} is not fitted yet; call fit(data) before "
            "forecast_latest()."
        )
    columns = list(model.fit_columns_)
    if data is None:
        seen = getattr(model, "seen_", None)
        if seen is None:
            raise NotFittedError(
                "this model keeps no record of the bars it saw (it was saved by an older "
                "forecast); pass data=..., or fit it again."
            )
        series = [(tail.ticker, tail.dates, tail.values) for tail in seen.tails]
    else:
        model._check_columns(data)
        series = _series_arrays(data, columns)
    return latest_frame(model, series)


def _series_arrays(
    data: pd.DataFrame, columns: list[str]
) -> list[tuple[str | None, pd.DatetimeIndex, np.ndarray]]:
    """``(ticker, dates, prices [L_i, C])`` per series, split by positions (no per-ticker
    pandas indexing: that would cost more than the forward pass for a large universe)."""
    values = data[columns].to_numpy(dtype=np.float64)  # [rows, C]
    if not isinstance(data.index, pd.MultiIndex):
        series = [(None, pd.DatetimeIndex(data.index), values)]
    else:
        codes, tickers = pd.factorize(data.index.get_level_values(0))
        dates = pd.DatetimeIndex(data.index.get_level_values(-1))
        order = np.argsort(codes, kind="stable")  # each ticker's rows together, in file order
        ends = np.cumsum(np.bincount(codes, minlength=len(tickers)))
        starts = ends - np.bincount(codes, minlength=len(tickers))
        series = [
            (str(ticker), dates[order[a:b]], values[order[a:b]])
            for ticker, a, b in zip(tickers, starts, ends, strict=True)
        ]
    unsorted = [ticker for ticker, stamps, _ in series if not stamps.is_monotonic_increasing]
    if unsorted or any(not stamps.is_unique for _, stamps, _ in series):
        raise DataError(
            f"the dates of series {unsorted[:5] or '(some)'} are not sorted and unique; load the "
            "bars with forecast.load(...) or run forecast.validate(...) first."
        )
    return series


def latest_frame(
    model: Any, series: list[tuple[str | None, pd.DatetimeIndex, np.ndarray]]
) -> pd.DataFrame:
    """:func:`forecast_latest` on ``(ticker, dates [L_i], prices [L_i, C])`` triples."""
    window, offset, horizon = model._window_length(), model._offset(), int(model.horizon)
    rows = window + offset
    short = [ticker for ticker, dates, _ in series if len(dates) < rows]
    if short:
        raise DataError(
            f"series {short[:5]} have fewer than {rows} bars, the lookback the model needs "
            f"(lookback {window}{' + 1 for returns' if offset else ''}); pass more history."
        )
    prices = np.stack([values[-rows:] for _, _, values in series])  # [N, R, C]
    if not np.isfinite(prices).all():
        bad = [series[i][0] for i in np.flatnonzero(~np.isfinite(prices).all(axis=(1, 2)))]
        raise DataError(
            f"the last {rows} bars of series {bad[:5]} hold NaN or inf; clean them (e.g. "
            "nan_policy='ffill' when loading) before forecasting."
        )
    scaled = _scaled(model, prices)  # [N, T, C] float32
    columns = list(model.fit_columns_)
    feature_idx = [columns.index(c) for c in model.feature_names_in_]
    target_idx = [columns.index(c) for c in model.target_names_]
    x = torch.from_numpy(np.ascontiguousarray(scaled[:, :, feature_idx]))  # [N, T, F]
    module = model.module_
    with torch.no_grad():
        out = module.forecast(x)  # [N, H, K] scaled
    last_price = prices[:, -1, target_idx]  # [N, K]
    forecast = model.transform_.inverse(out, last_price, columns=target_idx)  # [N, H, K]
    origins = pd.DatetimeIndex([dates[-1] for _, dates, _ in series], name="Date")
    check_finite_forecast(forecast, origins, np.arange(len(series)))
    return _tidy(model, series, origins, forecast, horizon)


def _scaled(model: Any, prices: np.ndarray) -> np.ndarray:
    """``[N, R, C]`` prices -> ``[N, R - offset, C]`` float32, as ``transform`` per series."""
    transform = model.transform_
    # to_representation differences along the first axis: put time first, so every
    # (series, column) pair is differenced on its own and no return crosses two series.
    represented = to_representation(prices.transpose(1, 0, 2), transform.representation)
    represented = represented[model._offset() :].transpose(1, 0, 2)  # [N, T, C]
    if transform.scaler_ is not None:
        n, t, c = represented.shape
        represented = transform.scaler_.transform(represented.reshape(n * t, c)).reshape(n, t, c)
    scaled = represented.astype(np.float32)
    if not np.isfinite(scaled).all():
        raise DataError(
            "the last bars jump by an implausible factor between two rows, so their "
            f"{transform.representation} cannot be represented; clean that jump."
        )
    return scaled


def _tidy(
    model: Any,
    series: list[tuple[str | None, pd.DatetimeIndex, np.ndarray]],
    origins: pd.DatetimeIndex,
    forecast: np.ndarray,
    horizon: int,
) -> pd.DataFrame:
    """The tidy frame: ``[N, H, K]`` forecasts -> N*H rows, future dates per origin."""
    seen = getattr(model, "seen_", None)
    step = seen.spacing() if seen is not None else None
    dates_by_origin: dict[pd.Timestamp, list[pd.Timestamp]] = {}
    target_dates = []
    for (_, dates, _), origin in zip(series, origins, strict=True):
        if origin not in dates_by_origin:
            spacing = step if step is not None else infer_step(dates)
            dates_by_origin[origin] = [origin + spacing * h for h in range(1, horizon + 1)]
        target_dates.extend(dates_by_origin[origin])
    n = len(series)
    out = pd.DataFrame(
        {
            "origin": np.repeat(origins.to_numpy(), horizon),
            "target_date": pd.DatetimeIndex(target_dates).to_numpy(),
            "step": np.tile(np.arange(1, horizon + 1), n),
        }
    )
    if series[0][0] is not None:
        out.insert(0, TICKER, np.repeat(np.array([t for t, _, _ in series], dtype=object), horizon))
    for k, name in enumerate(model.target_names_):
        out[name] = forecast[:, :, k].reshape(-1)
    return out
