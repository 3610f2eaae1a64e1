"""Future timestamps: the dates a forecast is for, following the data's own frequency."""

from __future__ import annotations

import warnings

import pandas as pd
from pandas.tseries.offsets import BDay

__all__ = ["future_dates", "infer_step"]


def infer_step(index: pd.DatetimeIndex) -> pd.DateOffset | pd.Timedelta:
    """The spacing of ``index``: business days for weekday-only daily bars, else its frequency.

    Daily stock bars skip weekends (and holidays, which no calendar-free rule can know), so an
    index whose stamps are all weekdays at midnight with a typical gap of one day steps by
    business days. Otherwise ``pd.infer_freq`` on the recent stamps, falling back to the
    median gap.
    """
    recent = index[-64:]
    if len(recent) < 2:
        return BDay(1)
    gaps = recent.to_series().diff().dropna()
    median = gaps.median()
    daily = median <= pd.Timedelta(days=1) and median >= pd.Timedelta(hours=23)
    weekdays_only = bool((recent.day_of_week < 5).all())
    at_midnight = bool((recent == recent.normalize()).all())
    if daily and weekdays_only and at_midnight:
        return BDay(1)
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; to_offset takes either.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        freq = pd.infer_freq(recent) if len(recent) >= 3 else None
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    return pd.Timedelta(median)


def future_dates(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps after the last one in ``index``, at the data's frequency."""
    step = infer_step(index)
    last = index[-1]
    stamps = [last + step * h for h in range(1, horizon + 1)]
    return pd.DatetimeIndex(stamps, name=index.name or "Date")
