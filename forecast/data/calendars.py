"""Exchange calendars: the weekdays an exchange is closed, from ``exchange_calendars``.

``exchange_calendars`` (a maintained library of 50+ exchanges' sessions, holidays included) is
an optional extra: ``pip install 'forecast-rnn[calendars]'``. Without it every calendar-free
rule still works (forecast dates step over weekends only), and asking for a calendar by name
says how to install it.

Which calendar a series follows is decided once, by :func:`forecast.load`, and kept in
``frame.attrs["calendar"]`` (an exchange code such as ``"XNYS"``, or None for calendar-free):

- ``calendar="XNYS"`` (any exchange code) or ``calendar=None`` says it outright;
- ``calendar="auto"`` (the default): the bundled samples (US stocks) follow ``"XNYS"``; other
  daily data follows the first exchange in :data:`INFERRED_CALENDARS` whose closed weekdays
  inside the data's span are all missing from the data while every date of the data is one
  of its sessions (so a file of US stocks is recognised by its missing Thanksgivings and
  Good Fridays); anything else, and everything when the library is not installed, is
  calendar-free.
"""

from __future__ import annotations

import importlib.util
import warnings
from functools import lru_cache
from typing import Any

import pandas as pd

from forecast.errors import ConfigError

__all__ = [
    "AUTO",
    "BUNDLED_CALENDAR",
    "INFERRED_CALENDARS",
    "INSTALL_HINT",
    "calendar_available",
    "check_calendar",
    "describe_calendar",
    "infer_calendar",
    "sessions",
]

AUTO = "auto"
BUNDLED_CALENDAR = "XNYS"  # the bundled samples are S&P 500 stocks (NYSE and Nasdaq)
# Tried in this order when inferring; NYSE first (Nasdaq closes on the same days).
INFERRED_CALENDARS: tuple[str, ...] = (
    "XNYS",
    "XTSE",
    "XLON",
    "XETR",
    "XPAR",
    "XTKS",
    "XHKG",
    "XASX",
)
INSTALL_HINT = "pip install 'forecast-rnn[calendars]' (or pip install exchange_calendars)"
# Fewer dates than this cannot show which weekdays an exchange closes.
_MIN_DATES_TO_INFER = 20


def calendar_available() -> bool:
    """Whether ``exchange_calendars`` can be imported (without importing it)."""
    return importlib.util.find_spec("exchange_calendars") is not None


def check_calendar(calendar: str | None) -> str | None:
    """Validate a ``calendar=`` option: ``"auto"``, None, or an exchange code (upper-cased).

    Raises
    ------
    ConfigError
        An exchange code when ``exchange_calendars`` is not installed (with the install
        command), or a code it does not know (with examples).
    """
    if calendar is None or calendar == AUTO:
        return calendar
    if not isinstance(calendar, str) or not calendar.strip():
        raise ConfigError(
            f"calendar={calendar!r} is not an exchange code; pass one such as 'XNYS', "
            "'auto' (infer it) or None (weekdays only)."
        )
    code = calendar.strip().upper()
    if code in ("NONE", "WEEKDAYS", "BUSINESS"):
        return None
    names = _calendar_names()
    if code not in names:
        raise ConfigError(
            f"calendar={calendar!r} is not an exchange calendar; use an exchange code such as "
            "'XNYS' (New York), 'XLON' (London), 'XETR' (Xetra) or 'XTKS' (Tokyo), 'auto', or "
            "None."
        )
    return code


def describe_calendar(calendar: str | None) -> str:
    """How forecast dates are stepped, in words, for reports and command output."""
    if calendar is None:
        hint = "" if calendar_available() else f"; for exchange holidays: {INSTALL_HINT}"
        return f"weekdays (no exchange holiday calendar{hint})"
    return f"{calendar} exchange calendar (holidays skipped)"


def sessions(calendar: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The naive session dates of ``calendar`` from ``start`` to ``end`` (dates, inclusive)."""
    first, last = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    exchange = _exchange(calendar, first.year, last.year)
    days = exchange.sessions
    days = days.tz_localize(None) if days.tz is not None else days
    return pd.DatetimeIndex(days[(days >= first) & (days <= last)])


def infer_calendar(index: pd.DatetimeIndex) -> str | None:
    """The exchange whose closed weekdays match the data's missing ones (module doc), or None.

    ``index`` is a series' (or a panel's union of) dates; aware stamps count by local date.
    Returns None for intraday or weekend-trading data, short data, or without the library.
    """
    if not calendar_available() or len(index) < _MIN_DATES_TO_INFER:
        return None
    local = index.tz_localize(None) if index.tz is not None else index
    if not (local == local.normalize()).all() or (local.day_of_week >= 5).any():
        return None
    dates = pd.DatetimeIndex(local.unique()).sort_values()
    weekdays = pd.bdate_range(dates[0], dates[-1])
    missing = weekdays.difference(dates)
    for code in INFERRED_CALENDARS:
        if code not in _calendar_names():
            continue
        open_days = sessions(code, dates[0], dates[-1])
        closed = weekdays.difference(open_days)
        if len(closed) and dates.difference(open_days).empty and closed.isin(missing).all():
            return code
    return None


@lru_cache(maxsize=1)
def _calendar_names() -> frozenset[str]:
    return frozenset(_library().get_calendar_names(include_aliases=True))


@lru_cache(maxsize=32)
def _exchange(calendar: str, first_year: int, last_year: int) -> Any:
    """One calendar covering ``first_year - 1`` to ``last_year + 2`` (built once per span)."""
    with warnings.catch_warnings():
        # exchange_calendars trips pandas deprecations; they are not the user's to fix.
        warnings.filterwarnings("ignore", module=r"exchange_calendars")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        return _build(calendar, first_year, last_year)


def _build(calendar: str, first_year: int, last_year: int) -> Any:
    library = _library()
    exchange = library.get_calendar(calendar)
    earliest = pd.Timestamp(f"{first_year - 1}-01-01")
    latest = pd.Timestamp(f"{last_year + 2}-12-31")
    if exchange.first_session <= earliest and exchange.last_session >= latest:
        return exchange
    bound_min, bound_max = type(exchange).bound_min(), type(exchange).bound_max()
    floor = earliest if bound_min is None else max(earliest, pd.Timestamp(bound_min))
    ceiling = latest if bound_max is None else min(latest, pd.Timestamp(bound_max))
    return library.get_calendar(calendar, start=floor.date(), end=ceiling.date())


def _library() -> Any:
    try:
        import exchange_calendars
    except ImportError:
        raise ConfigError(
            f"exchange calendars need the exchange_calendars package; install it with "
            f"{INSTALL_HINT}, or pass calendar=None for weekdays only."
        ) from None
    return exchange_calendars
