"""The tidy forecasts frame: its columns and the one check every consumer runs on it.

A backtest writes this frame (and ``forecasts.csv``); :mod:`forecast.metrics`,
:mod:`forecast.trading` and :mod:`forecast.plotting` read it. One row per (model, origin,
step[, ticker]), every value in PRICE units:

================  ==========  ==========================================================
column            type        meaning
================  ==========  ==========================================================
``model``         str         model name; the random walk (no-change forecast) is "naive"
``origin``        Timestamp   last observed bar, where the forecast is made
``target_date``   Timestamp   the bar being forecast
``step``          int         1..H, bars ahead of the origin
``actual``        float       price at ``target_date``
``predicted``     float       forecast price for ``target_date``
``origin_price``  float       actual price at ``origin`` (> 0)
``fold``          int         optional: walk-forward fold
``ticker``        str         optional: panels; a point is then (ticker, origin, step)
================  ==========  ==========================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.errors import DataError

__all__ = ["FORECAST_COLUMNS", "check_forecasts", "point_keys"]

FORECAST_COLUMNS: tuple[str, ...] = (
    "model",
    "origin",
    "target_date",
    "step",
    "actual",
    "predicted",
    "origin_price",
)


def check_forecasts(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Check a tidy forecasts frame and return a copy sorted by (model[, ticker], origin, step).

    Sorting makes every result independent of row order (the DM test reads losses in time).

    Raises
    ------
    DataError
        Not a frame, missing columns, no rows, non-finite values, ``origin_price <= 0``,
        steps that are not integers >= 1, dates that cannot be parsed, duplicated points, or
        ``actual``/``origin_price``/
        ``target_date`` that differ between models at the same point.
    """
    if not isinstance(forecasts, pd.DataFrame):
        raise DataError(
            f"forecasts must be a pandas DataFrame in the tidy forecasts format, "
            f"not {type(forecasts).__name__}."
        )
    missing = [c for c in FORECAST_COLUMNS if c not in forecasts.columns]
    if missing:
        raise DataError(
            f"The forecasts frame is missing column(s) {missing}; the tidy forecasts "
            f"frame needs {list(FORECAST_COLUMNS)} (plus optional fold and ticker)."
        )
    if forecasts.empty:
        raise DataError("The forecasts frame has no rows; score a backtest that made forecasts.")
    try:
        values = forecasts[["actual", "predicted", "origin_price"]].to_numpy(dtype=float)
        steps = forecasts["step"].to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "Columns actual, predicted, origin_price and step of the forecasts frame "
            "must be numeric."
        ) from exc
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise DataError(
            f"The forecasts frame has {int(bad.sum())} row(s) with NaN or infinite "
            "actual, predicted or origin_price; drop or repair them before scoring."
        )
    if (values[:, 2] <= 0).any():
        raise DataError(
            "The forecasts frame has origin_price <= 0; prices must be positive, "
            "because returns and Theil's U divide by the origin price."
        )
    if not (np.isfinite(steps) & (steps >= 1) & (steps == np.round(steps))).all():
        raise DataError("Column step of the forecasts frame must hold whole numbers 1..H.")
    try:  # a frame read back from forecasts.csv holds dates as text
        frame = forecasts.assign(
            origin=pd.to_datetime(forecasts["origin"]),
            target_date=pd.to_datetime(forecasts["target_date"]),
        )
    except (TypeError, ValueError) as exc:
        raise DataError(
            "Columns origin and target_date of the forecasts frame must hold dates."
        ) from exc
    points = point_keys(frame)
    if frame.duplicated(["model", *points]).any():
        raise DataError(
            f"The forecasts frame has duplicated {('model', *points)} rows; keep one "
            "forecast per model and point."
        )
    shared = frame.groupby(points)[["actual", "origin_price", "target_date"]].nunique()
    if (shared > 1).any().any():
        raise DataError(
            "Models disagree on actual, origin_price or target_date at the same "
            f"{tuple(points)}; every model must be scored against the same data."
        )
    frame = frame.astype({"step": int})
    return frame.sort_values(["model", *points], kind="stable").reset_index(drop=True)


def point_keys(forecasts: pd.DataFrame) -> list[str]:
    """The columns that name one forecast point: ``[ticker,] origin, step``."""
    return ["ticker", "origin", "step"] if "ticker" in forecasts.columns else ["origin", "step"]
