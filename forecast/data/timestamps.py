"""Date text → ``DatetimeIndex``: which way round a date is written, and which time zone.

Two things go silently wrong when dates are parsed without care, and both are decided here:

**Day-first or month-first.** ``03/01/2024`` is 3 January in London and 1 March in New York.
Numeric dates (``d/m/y`` or ``m/d/y`` with ``/``, ``.`` or ``-``) are read both ways and the
reading is chosen by evidence, never by habit:

1. an explicit ``date_format=`` (a ``strftime`` pattern) or ``dayfirst=True|False`` wins;
2. a reading that makes some row impossible (``13/01/2024`` has no 13th month) is out;
3. when both readings are possible for every row, the one under which the rows are in date
   order (ascending or descending) wins; if both are ordered, the one that puts every bar on a
   weekday wins (stock bars are not dated on weekends);
4. anything still undecided is refused with a sentence naming ``dayfirst=`` / ``date_format=``.

ISO dates (``2024-03-01``) are unambiguous and parsed as they are.

**Time zones.** Stamps that carry a UTC offset (``2024-03-08 09:30:00-05:00``) keep their
zone from load to forecast to report:

- one offset throughout: that fixed offset (``UTC-05:00``);
- offsets that change (daylight-saving time): the stamps are parsed in UTC and converted to
  the IANA zone whose rules give exactly those offsets at exactly those instants, looked for
  among the main exchanges' zones first (``America/New_York`` before ``America/Toronto``,
  which has the same rules), then among every zone the system knows; when none fits, the
  stamps stay in UTC and a :class:`~forecast.errors.DataWarning` says so;
- ``tz="Europe/London"`` (any IANA name) overrides the guess: aware stamps are converted to
  it, naive stamps are taken as wall-clock time there.

Stamps without an offset stay naive (wall-clock time of wherever the data came from).
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
import zoneinfo
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.errors import DataError, DataWarning

__all__ = ["MARKET_ZONES", "parse_dates", "zone_name", "zone_of_offsets"]

# Zones of the main exchanges, tried first when offsets change; the first whose rules fit wins,
# so the usual name comes before another with identical rules (New York before Toronto).
MARKET_ZONES: tuple[str, ...] = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/Santiago",
)

# d/m/y or m/d/y: two small numbers, a separator used twice, a 2- or 4-digit year, then
# optionally a time (and offset) after a space or a 'T'.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})((?:[ T].*)?)$")
# A UTC offset after a time of day: "09:30-05:00", "09:30:00+0100", "09:30Z".
_TIMED_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT)$")
_OFFSET = re.compile(r"\s*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT)$")


def parse_dates(
    values: pd.Index,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    label: str = "the data",
) -> pd.DatetimeIndex:
    """Parse date text (or stamps) into a ``DatetimeIndex``, deciding order and zone.

    Parameters
    ----------
    values
        The date column or index: strings, ``datetime`` objects or stamps.
    date_format
        A ``strftime`` pattern such as ``"%d/%m/%Y"``; every value must match it.
    dayfirst
        ``True`` reads ``01/03/2024`` as 1 March, ``False`` as 3 January; ``None`` decides from
        the data (see the module docstring) and refuses when it cannot.
    tz
        An IANA zone name: aware stamps are converted to it, naive ones localised in it.
    label
        What to call the data in messages.

    Returns
    -------
    DatetimeIndex
        Naive when the text had no offsets and no ``tz`` was given, else aware.

    Raises
    ------
    DataError
        Values that are not dates, that contradict ``date_format``/``dayfirst``, or whose
        day/month order cannot be decided.
    """
    if date_format is not None and dayfirst is not None:
        raise DataError(
            "pass either date_format= or dayfirst=, not both; date_format already says the order."
        )
    zone = _zone(tz) if tz is not None else None
    if isinstance(values, pd.DatetimeIndex):
        parsed = values
    elif values.dtype.kind == "M":
        parsed = pd.DatetimeIndex(values)
    else:
        text = pd.Series(values, dtype=object).map(
            lambda value: value.strip() if isinstance(value, str) else value
        )
        parsed = _parse(text, date_format=date_format, dayfirst=dayfirst, label=label)
    if zone is not None:
        parsed = parsed.tz_convert(zone) if parsed.tz is not None else _localise(parsed, zone)
    return pd.DatetimeIndex(parsed)


def zone_name(index: pd.DatetimeIndex) -> str | None:
    """The zone of ``index`` as text (``"America/New_York"``, ``"UTC-05:00"``), None if naive."""
    tz = index.tz
    if tz is None:
        return None
    return str(getattr(tz, "key", None) or getattr(tz, "zone", None) or tz)


def zone_of_offsets(utc: pd.DatetimeIndex, offsets: np.ndarray) -> dt.tzinfo | None:
    """The IANA zone that gives ``offsets`` (int64 ns) at the instants ``utc``, or None.

    Zones in :data:`MARKET_ZONES` are tried first, then every zone the system knows, in name
    order. Candidates are screened on the instants around each change of offset (where zones
    differ), then the one chosen is checked on every instant.
    """
    changes = np.flatnonzero(np.diff(offsets) != 0)
    probe = np.unique(
        np.clip(np.concatenate([[0, len(offsets) - 1], changes, changes + 1]), 0, len(offsets) - 1)
    )
    for name in _candidate_zones():
        zone = zoneinfo.ZoneInfo(name)
        if np.array_equal(_offsets_in(utc[probe], zone), offsets[probe]) and np.array_equal(
            _offsets_in(utc, zone), offsets
        ):
            return zone
    return None


def _parse(
    text: pd.Series, *, date_format: str | None, dayfirst: bool | None, label: str
) -> pd.DatetimeIndex:
    strings = text.astype(str)
    if date_format is not None:
        return _to_datetime(text, label, format=date_format, hint=f"date_format={date_format!r}")
    parts = strings.str.extract(_NUMERIC_DATE)
    if len(strings) and parts[0].notna().all():
        text = _iso_from_numeric(strings, parts, dayfirst=dayfirst, label=label)
    return _to_datetime(text, label, format="mixed", hint=None)


def _to_datetime(text: pd.Series, label: str, *, format: str, hint: str | None) -> pd.DatetimeIndex:
    """``pd.to_datetime`` with offsets handled: one offset kept, changing offsets zoned."""
    strings = text.astype(str)
    has_offset = strings.str.contains(_TIMED_OFFSET) & text.map(lambda v: isinstance(v, str))
    try:
        if has_offset.any():
            if not has_offset.all():
                first = strings[~has_offset].iloc[0]
                raise DataError(
                    f"some dates of {label} carry a UTC offset and some (such as {first!r}) do "
                    "not; write every date with its offset, or pass tz= to say which zone the "
                    "others are in."
                )
            utc = pd.DatetimeIndex(pd.to_datetime(text, format=format, utc=True))
            wall = pd.DatetimeIndex(
                pd.to_datetime(
                    strings.str.replace(_OFFSET, "", regex=True).str.strip(),
                    format=format if format == "mixed" else None,
                )
            )
            return _zoned(utc, _nanoseconds(wall - utc.tz_localize(None)), label)
        parsed = pd.to_datetime(text, format=format)
    except DataError:
        raise
    except (ValueError, TypeError) as exc:
        if "timezone" in str(exc).lower() or "tz-aware" in str(exc).lower():
            # datetime objects from several zones (or aware mixed with naive).
            utc = pd.DatetimeIndex(pd.to_datetime(text, utc=True, format=format))
            return _zoned(utc, None, label)
        if hint is not None:
            raise DataError(
                f"the dates of {label} do not match {hint} ({str(exc).splitlines()[0]}); "
                "fix the pattern or the rows."
            ) from None
        raise DataError(
            f"the 'Date' column holds values that are not dates ({str(exc).splitlines()[0]}); "
            f"fix or remove those rows of {label}."
        ) from None
    return pd.DatetimeIndex(parsed)


def _zoned(utc: pd.DatetimeIndex, offsets: np.ndarray | None, label: str) -> pd.DatetimeIndex:
    if offsets is None:
        return utc
    unique = np.unique(offsets)
    if len(unique) == 1:
        return utc.tz_convert(dt.timezone(dt.timedelta(microseconds=int(unique[0]) // 1000)))
    zone = zone_of_offsets(utc, offsets)
    if zone is None:
        warnings.warn(
            f"{label}: the UTC offsets of its dates change in a way no known time zone "
            "explains; the dates are kept in UTC (pass tz='Area/City' to choose the zone).",
            DataWarning,
            stacklevel=4,
        )
        return utc
    return utc.tz_convert(zone)


def _iso_from_numeric(
    strings: pd.Series, parts: pd.DataFrame, *, dayfirst: bool | None, label: str
) -> pd.Series:
    """Rewrite ``d/m/y`` or ``m/d/y`` text as ISO text, choosing the reading (module doc)."""
    first, second = parts[0].astype(int), parts[2].astype(int)
    year = parts[3].astype(int)
    year = year.where(parts[3].str.len() == 4, np.where(year < 69, 2000 + year, 1900 + year))
    month_first = _dates(year, month=first, day=second)
    day_first = _dates(year, month=second, day=first)
    if dayfirst is None:
        dayfirst = _choose_order(month_first, day_first, strings.iloc[0], label)
    chosen = day_first if dayfirst else month_first
    if chosen.isna().any():
        row = int(np.flatnonzero(chosen.isna().to_numpy())[0])
        bad = strings.iloc[row]
        order = "day-first" if dayfirst else "month-first"
        raise DataError(
            f"{bad!r} in {label} is not a date when read {order}; check dayfirst= "
            "(--dayfirst/--monthfirst) or pass the pattern the file uses, e.g. "
            "date_format='%d/%m/%Y' (--date-format)."
        )
    return chosen.dt.strftime("%Y-%m-%d") + parts[4]


def _dates(year: pd.Series, *, month: pd.Series, day: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")


def _choose_order(month_first: pd.Series, day_first: pd.Series, sample: str, label: str) -> bool:
    """True for day-first; refuses when the data cannot tell (see the module docstring)."""
    mf_valid, df_valid = month_first.notna().all(), day_first.notna().all()
    if mf_valid and not df_valid:
        return False
    if df_valid and not mf_valid:
        return True
    how = (
        "dayfirst=True or dayfirst=False (--dayfirst, --monthfirst), or the pattern, e.g. "
        "date_format='%d/%m/%Y' (--date-format)"
    )
    if not (mf_valid or df_valid):
        raise DataError(
            f"the dates of {label} are neither all day-first nor all month-first (such as "
            f"{sample!r}); write them one way, or pass {how}."
        )
    if month_first.equals(day_first):
        return False  # day == month on every row: both readings agree
    mf_ordered, df_ordered = _ordered(month_first), _ordered(day_first)
    if mf_ordered != df_ordered:
        return df_ordered
    if mf_ordered:
        mf_weekdays = bool((month_first.dt.day_of_week < 5).all())
        df_weekdays = bool((day_first.dt.day_of_week < 5).all())
        if mf_weekdays != df_weekdays and len(month_first) >= 5:
            return df_weekdays
    first_mf = f"{month_first.iloc[0]:%Y-%m-%d}"
    first_df = f"{day_first.iloc[0]:%Y-%m-%d}"
    raise DataError(
        f"the dates of {label} read equally well day-first and month-first ({sample!r} is "
        f"{first_df} or {first_mf}); pass {how}."
    )


def _ordered(stamps: pd.Series) -> bool:
    return bool(stamps.is_monotonic_increasing or stamps.is_monotonic_decreasing) and (
        stamps.nunique() == len(stamps)
    )


def _localise(index: pd.DatetimeIndex, zone: dt.tzinfo) -> pd.DatetimeIndex:
    try:
        return index.tz_localize(zone)
    except (ValueError, TypeError) as exc:  # a wall time that does not exist or repeats
        raise DataError(
            f"the naive dates cannot be placed in zone {zone} ({str(exc).splitlines()[0]}); "
            "write the dates with their UTC offsets."
        ) from None


def _zone(name: str) -> dt.tzinfo:
    if name.upper() == "UTC":
        return dt.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DataError(
            f"tz={name!r} is not a time zone; use an IANA name such as 'America/New_York' or "
            "'Europe/London', or 'UTC'."
        ) from None


@lru_cache(maxsize=1)
def _candidate_zones() -> tuple[str, ...]:
    others = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
    )
    return MARKET_ZONES + tuple(name for name in others if name not in MARKET_ZONES)


def _offsets_in(utc: pd.DatetimeIndex, zone: dt.tzinfo) -> np.ndarray:
    return _nanoseconds(utc.tz_convert(zone).tz_localize(None) - utc.tz_localize(None))


def _nanoseconds(deltas: pd.TimedeltaIndex) -> np.ndarray:
    """int64 nanoseconds, whatever unit pandas stores the deltas in."""
    return deltas.to_numpy().astype("timedelta64[ns]").astype(np.int64)
