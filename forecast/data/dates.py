"""Future timestamps: the dates a forecast is for, following the data's own frequency.

Three rules, chosen from the data (and the exchange calendar, if the series has one):

- **daily bars** (weekday midnights, about a day apart) step by trading days: the sessions of
  the series' exchange calendar (``frame.attrs["calendar"]``, see
  :mod:`forecast.data.calendars`), so Christmas and Good Friday are skipped; without a
  calendar, by weekdays (``BDay``);
- **intraday bars within sessions** (hourly bars 09:30 ... 15:30 with nights and weekends
  between) step through the bar times of day the data uses, then on to the next trading day
  (same rule as daily), so no forecast lands after the close; times are wall-clock times in
  the data's zone, so a 09:30 bar stays 09:30 across a daylight-saving change;
- **anything else** (24/7 bars, weekly, monthly, ...) steps by the data's frequency
  (``pd.infer_freq`` on recent stamps, else the median gap).

Stamps keep the index's time zone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BDay

from forecast.data.calendars import sessions

__all__ = ["future_dates", "infer_step"]

# Days of bars looked at to learn the bar times of an intraday series.
_SLOT_DAYS = 20


def infer_step(index: pd.DatetimeIndex) -> pd.DateOffset | pd.Timedelta:
    """The spacing of ``index``: business days for weekday-only daily bars, else its frequency.

    Daily stock bars skip weekends (holidays need a calendar: see :func:`future_dates`), so an
    index whose stamps are all weekdays at midnight with a typical gap of one day steps by
    business days. Otherwise ``pd.infer_freq`` on the recent stamps, falling back to the
    median gap.
    """
    recent = index[-64:]
    if len(recent) < 2:
        return BDay(1)
    if _is_daily(recent):
        return BDay(1)
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; to_offset takes either.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        freq = pd.infer_freq(recent) if len(recent) >= 3 else None
    if freq is not None:
        return pd.tseries.frequencies.to_offset(freq)
    return pd.Timedelta(_gaps(recent).median())


def future_dates(
    index: pd.DatetimeIndex, horizon: int, *, calendar: str | None = None
) -> pd.DatetimeIndex:
    """The ``horizon`` timestamps after the last one in ``index`` (module doc for the rules).

    Parameters
    ----------
    index
        The series' dates, sorted, naive or aware.
    horizon
        How many future stamps (H).
    calendar
        An exchange code (``"XNYS"``) whose sessions daily and intraday bars step through;
        None steps by weekdays.

    Returns
    -------
    DatetimeIndex
        ``[H]`` stamps, in the index's zone, named like the index (default ``"Date"``).
    """
    recent = index[-64:]
    if len(recent) >= 2 and _is_daily(recent):
        days = _trading_days_after(_wall(index)[-1], horizon, calendar)
        stamps = _localised(days, index.tz)
    elif (slots := _bar_times(index)) is not None:
        stamps = _intraday(index, horizon, slots, calendar)
    else:
        step = infer_step(index)
        stamps = pd.DatetimeIndex([index[-1] + step * h for h in range(1, horizon + 1)])
    # No freq attribute: a calendar's sessions are not a regular frequency, whatever the range.
    return pd.DatetimeIndex(list(stamps), name=index.name or "Date").as_unit(index.unit)


def _is_daily(recent: pd.DatetimeIndex) -> bool:
    wall = _wall(recent)
    median = _gaps(recent).median()
    daily = pd.Timedelta(hours=23) <= median <= pd.Timedelta(days=1, hours=1)
    return daily and bool((wall.day_of_week < 5).all()) and bool((wall == wall.normalize()).all())


def _bar_times(index: pd.DatetimeIndex) -> np.ndarray | None:
    """Times of day (as timedeltas since midnight) of an intraday series that pauses overnight.

    None unless the recent bars are under a day apart, fall on weekdays only and leave part
    of each day without bars (a session with a close, not 24/7 trading).
    """
    wall = _wall(index)
    days = wall.normalize()
    recent_days = pd.unique(days)[-_SLOT_DAYS:]
    if len(recent_days) < 2:
        return None
    recent = wall[days >= recent_days[0]]
    step = _gaps(recent).median()
    if not step < pd.Timedelta(days=1) or (recent.day_of_week >= 5).any():
        return None
    slots = np.unique((recent - recent.normalize()).to_numpy())
    covered = slots[-1] - slots[0] + step.to_timedelta64()
    if covered >= np.timedelta64(24, "h"):
        return None
    return slots


def _intraday(
    index: pd.DatetimeIndex, horizon: int, slots: np.ndarray, calendar: str | None
) -> pd.DatetimeIndex:
    last = _wall(index)[-1]
    time_of_day = (last - last.normalize()).to_timedelta64()
    stamps = [last.normalize() + pd.Timedelta(slot) for slot in slots if slot > time_of_day]
    days_needed = max(1, -(-(horizon - len(stamps)) // len(slots)))
    for day in _trading_days_after(last.normalize(), days_needed, calendar):
        stamps.extend(day + pd.Timedelta(slot) for slot in slots)
    return _localised(pd.DatetimeIndex(stamps[:horizon]), index.tz)


def _trading_days_after(day: pd.Timestamp, count: int, calendar: str | None) -> pd.DatetimeIndex:
    """The ``count`` trading days after ``day``: the calendar's sessions, else weekdays."""
    start = day.normalize() + pd.Timedelta(days=1)
    if calendar is None:
        return pd.bdate_range(start, periods=count)
    # Sessions are at least 4 in 7 days on every exchange; over-ask, then cut.
    found = sessions(calendar, start, start + pd.Timedelta(days=2 * count + 14))
    return found[:count]


def _localised(stamps: pd.DatetimeIndex, tz: object) -> pd.DatetimeIndex:
    """Wall-clock stamps placed in ``tz`` (a time skipped by DST moves forward)."""
    if tz is None:
        return stamps
    return stamps.tz_localize(
        tz, ambiguous=np.zeros(len(stamps), dtype=bool), nonexistent="shift_forward"
    )


def _wall(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.tz_localize(None) if index.tz is not None else index


def _gaps(index: pd.DatetimeIndex) -> pd.Series:
    return index.to_series().diff().dropna()
