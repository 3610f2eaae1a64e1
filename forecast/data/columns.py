"""Column and index names: every source is normalised to one spelling here.

The canonical frame has a ``DatetimeIndex`` named ``"Date"`` (naive wall-clock time, or aware
when the source carries a zone: see :mod:`forecast.data.timestamps`) and the columns
``Open, High, Low, Close`` plus, when present, ``Adj Close`` and ``Volume``. A panel of
several tickers is the same frame with a two-level index ``(ticker, Date)``.
"""

from __future__ import annotations

import re

import pandas as pd

from forecast.data.timestamps import parse_dates
from forecast.errors import DataError

__all__ = [
    "DATE",
    "OHLC",
    "PRICE_COLUMNS",
    "TICKER",
    "normalise_columns",
    "set_date_index",
]

OHLC: tuple[str, ...] = ("Open", "High", "Low", "Close")
PRICE_COLUMNS: tuple[str, ...] = (*OHLC, "Adj Close")
DATE = "Date"
TICKER = "ticker"

# Lower-cased, separator-free spelling -> canonical name.
_ALIASES: dict[str, str] = {
    "open": "Open",
    "o": "Open",
    "high": "High",
    "h": "High",
    "low": "Low",
    "l": "Low",
    "close": "Close",
    "c": "Close",
    "price": "Close",
    "adjclose": "Adj Close",
    "adjustedclose": "Adj Close",
    "volume": "Volume",
    "vol": "Volume",
    "v": "Volume",
    "date": DATE,
    "datetime": DATE,
    "timestamp": DATE,
    "time": DATE,
    "ticker": TICKER,
    "tickersymbol": TICKER,
    "symbol": TICKER,
    "name": TICKER,
}


def _key(name: object) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name)).lower()


def normalise_columns(
    frame: pd.DataFrame,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    label: str = "the data",
) -> pd.DataFrame:
    """Return ``frame`` with OHLCV columns renamed to their canonical spelling.

    ``open``, ``OPEN``, ``Adj Close``, ``adj_close``, ``Datetime`` and the like are all
    recognised; unknown columns keep their names. A ``Date``/``Datetime`` column or index
    becomes the ``DatetimeIndex`` (see :func:`set_date_index`, which takes ``date_format``,
    ``dayfirst``, ``tz`` and ``label``).

    Raises
    ------
    DataError
        If two columns normalise to the same name (``Close`` and ``close``).
    """
    renamed: dict[object, str] = {}
    seen: dict[str, object] = {}
    for column in frame.columns:
        canonical = _ALIASES.get(_key(column), str(column))
        if canonical in seen:
            raise DataError(
                f"columns {seen[canonical]!r} and {column!r} both mean {canonical!r}; "
                "drop one of them before loading."
            )
        seen[canonical] = column
        renamed[column] = canonical
    out = frame.rename(columns=renamed)
    if out.index.name is not None and _ALIASES.get(_key(out.index.name)) == DATE:
        out.index.name = DATE
    return set_date_index(out, date_format=date_format, dayfirst=dayfirst, tz=tz, label=label)


def set_date_index(
    frame: pd.DataFrame,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    label: str = "the data",
) -> pd.DataFrame:
    """Move a ``Date`` column into the index and parse it, keeping any time zone.

    Day-first/month-first order and UTC offsets are decided by
    :func:`forecast.data.timestamps.parse_dates` (``date_format``, ``dayfirst`` and ``tz`` are
    passed to it); an index that already holds stamps is only converted when ``tz`` is given.
    """
    out = frame
    if DATE in out.columns:
        out = out.set_index(DATE)
    if isinstance(out.index, pd.MultiIndex):
        return out
    if not isinstance(out.index, pd.DatetimeIndex):
        if out.index.name != DATE and not _looks_like_dates(out.index):
            return out
        if len(out.index) and out.index.dtype.kind in "iufb":
            # pandas would read 1577836800 as nanoseconds after 1970: a silent wrong date.
            raise DataError(
                f"the {DATE!r} column holds numbers (such as {out.index[0]!r}), not dates; "
                f"convert them first, e.g. pd.to_datetime(frame[{DATE!r}], unit='s') for Unix "
                "seconds."
            )
    if not isinstance(out.index, pd.DatetimeIndex) or tz is not None:
        parsed = parse_dates(
            out.index, date_format=date_format, dayfirst=dayfirst, tz=tz, label=label
        )
        out = out.set_axis(parsed, axis=0)
    out.index.name = DATE
    return out


def _looks_like_dates(index: pd.Index) -> bool:
    if len(index) == 0 or index.dtype.kind in "iufb":
        return False
    try:
        pd.to_datetime(index[:5], format="mixed", utc=True)
    except (ValueError, TypeError):
        return False
    return True
