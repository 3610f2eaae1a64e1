"""``load``: one entry point for bundled samples, files and yfinance tickers.

How a string is resolved, in order:

1. an explicit prefix wins: ``"bundled:AAPL"``, ``"file:prices.csv"``, ``"yahoo:AAPL"``
   (``"yf:"`` works too);
2. a path that exists, or a name ending in ``.csv``/``.parquet``/``.pq``, is a file;
3. the name of a bundled dataset (case-insensitive) is that dataset;
4. anything else is a yfinance ticker (downloaded once, then read from the cache).

A *universe* (a folder of per-ticker files, ``"bundled"`` for every bundled dataset, or a
``.txt`` list of tickers) is read member by member by :mod:`forecast.universe.sources`, which
refuses bad members by name (``panel.attrs["refused"]``) instead of failing the whole load.

Several sources (a list, or one string with commas such as ``"AAPL,MSFT"``) give a *panel*:
one long frame indexed by ``(ticker, Date)``. That is the only multi-series shape the package
uses; windows never cross from one ticker into the next.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from forecast.data.bundled import bundled_path, datasets
from forecast.data.calendars import (
    AUTO,
    BUNDLED_CALENDAR,
    calendar_available,
    check_calendar,
    infer_calendar,
)
from forecast.data.columns import DATE, OHLC, TICKER
from forecast.data.files import FILE_SUFFIXES, read_table, to_panel
from forecast.data.validate import BadBarPolicy, NanPolicy, validate
from forecast.errors import DataError, DataSourceError, DataWarning

__all__ = ["load", "resolve_source"]

_PREFIXES = {"bundled": "bundled", "file": "file", "yahoo": "yahoo", "yf": "yahoo"}


def resolve_source(source: str | os.PathLike[str]) -> tuple[str, str]:
    """Return ``(kind, value)`` with kind in ``{"bundled", "file", "yahoo"}`` (see module doc)."""
    if isinstance(source, os.PathLike):
        return "file", os.fspath(source)
    text = str(source).strip()
    if not text:
        raise DataSourceError("the data source is empty; pass a dataset name, a file or a ticker.")
    prefix, sep, rest = text.partition(":")
    if sep and prefix.lower() in _PREFIXES and rest and not (len(prefix) == 1 and os.name == "nt"):
        return _PREFIXES[prefix.lower()], rest.strip()
    if Path(text).expanduser().exists() or text.lower().endswith(FILE_SUFFIXES):
        return "file", text
    if text.upper() in {name.upper() for name in datasets()}:
        return "bundled", text
    return "yahoo", text


def load(
    source: str | os.PathLike[str] | pd.DataFrame | Sequence[str | os.PathLike[str]],
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    interval: str = "1d",
    offline: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    nan_policy: NanPolicy = "drop",
    bad_bars: BadBarPolicy = "repair",
    encoding: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    ticker_column: str | None = None,
    calendar: str | None = AUTO,
) -> pd.DataFrame:
    """Load bars from a bundled dataset, a CSV/Parquet file, a DataFrame or yfinance, validated.

    Parameters
    ----------
    source
        A bundled name (``"AAPL"``), a path (``"prices.csv"``, ``"prices.csv.gz"``), a ticker
        (``"SPY"``), any of them with an explicit prefix (``"bundled:"``, ``"file:"``,
        ``"yahoo:"``), or several of them (a list, or a comma-separated string) for a panel;
        or a DataFrame (a ``Date`` column or ``DatetimeIndex``; a ticker column or a
        ``(ticker, Date)`` index makes a panel). A long file with a ticker column is a panel.
    start, end
        Optional date bounds (inclusive start, exclusive end, as in yfinance).
    interval
        Bar size for yfinance (``"1d"``, ``"1h"``, ...); files and bundled data keep theirs.
    offline
        For tickers: read only the on-disk cache (default: the ``FORECAST_OFFLINE``
        environment variable, else False).
    cache_dir
        For tickers: cache folder (default: ``FORECAST_CACHE_DIR``, else
        ``~/.cache/forecast/yahoo``).
    nan_policy, bad_bars
        Cleaning policies passed to :func:`forecast.validate`.
    encoding
        Text encoding of CSV files (default UTF-8).
    date_format, dayfirst
        How dates in files and frames are written: a ``strftime`` pattern
        (``"%d/%m/%Y"``), or ``True``/``False`` for day-first/month-first numeric dates.
        By default the order is decided from the data and ambiguous files are refused (see
        :mod:`forecast.data.timestamps`).
    tz
        An IANA time zone: aware stamps are converted to it, naive ones taken as its wall time.
        By default a file's UTC offsets are kept (one offset, or the zone whose daylight-saving
        rules explain them).
    ticker_column
        The column of a long file or frame that names each row's ticker (default: a column
        called ``ticker``, ``symbol`` or ``name``, any case).
    calendar
        The exchange whose sessions forecast dates follow (``"XNYS"``, ``"XLON"``, ...;
        needs the ``calendars`` extra), None for weekdays only, or ``"auto"`` (default):
        ``"XNYS"`` for the bundled US stocks, else inferred from the data's missing weekdays
        (see :mod:`forecast.data.calendars`). Kept in ``frame.attrs["calendar"]``.

    Returns
    -------
    DataFrame
        One series: ``DatetimeIndex`` named ``Date`` (aware when the source has a zone),
        columns ``Open, High, Low, Close`` (+ ``Volume``); prices in the source's currency
        units. Several series: the same columns under a ``(ticker, Date)`` index.
        ``frame.attrs["name"]`` names the source; ``frame.attrs["calendar"]`` holds the
        exchange code its dates follow, or None.

    Raises
    ------
    DataSourceError
        Unknown dataset, missing file, unresolvable ticker, offline without a cache entry.
    ConfigError
        An interval yfinance does not offer.
    DataError
        The data fails validation (see :func:`forecast.validate`), a file is not in the
        encoding given, or its dates cannot be read unambiguously.
    """
    calendar = check_calendar(calendar)
    reading = {
        "date_format": date_format,
        "dayfirst": dayfirst,
        "tz": tz,
        "ticker_column": ticker_column,
    }
    from forecast.universe.sources import is_universe_source, load_universe

    if is_universe_source(source):  # a folder, "bundled" or a ticker list: one panel
        universe = load_universe(
            source,  # type: ignore[arg-type]
            start=start, end=end, offline=offline, cache_dir=cache_dir, nan_policy=nan_policy,
        )
        return _with_calendar(universe.panel, calendar)
    frames: dict[str, pd.DataFrame] = {}
    if isinstance(source, pd.DataFrame):
        label = str(source.attrs.get("name") or "the frame")
        _add(frames, to_panel(source, label=label, **reading), label)  # type: ignore[arg-type]
        return _with_calendar(_validated(frames, start, end, nan_policy, bad_bars), calendar)
    sources = _split_sources(source)
    yahoo = [value for kind, value in map(resolve_source, sources) if kind == "yahoo"]
    fetched: dict[str, pd.DataFrame] = {}
    if yahoo:
        from forecast.data.yahoo import fetch  # imported lazily: yfinance is slow to import

        fetched = fetch(
            yahoo, start=start, end=end, interval=interval, offline=offline, cache_dir=cache_dir
        )
    bundled: list[str] = []
    for item in sources:  # in the order given
        kind, value = resolve_source(item)
        if kind == "yahoo":
            name = _name_of(item)
            frame = fetched[name]
            _add(frames, frame if tz is None else to_panel(frame, tz=tz, label=name), name)
        elif kind == "bundled":
            path = bundled_path(value)
            _add(frames, read_table(path, tz=tz), path.stem)
            bundled.append(path.stem)
        else:
            table = read_table(value, encoding=encoding, **reading)  # type: ignore[arg-type]
            _add(frames, table, _stem(value))
    if calendar == AUTO and len(bundled) == len(frames) and calendar_available():
        calendar = BUNDLED_CALENDAR
    return _with_calendar(_validated(frames, start, end, nan_policy, bad_bars), calendar)


def _with_calendar(frame: pd.DataFrame, calendar: str | None) -> pd.DataFrame:
    """Record the exchange calendar the dates follow: given, or inferred when ``"auto"``."""
    if calendar == AUTO:
        dates = frame.index.get_level_values(-1) if frame.index.nlevels > 1 else frame.index
        calendar = infer_calendar(pd.DatetimeIndex(dates.unique()).sort_values())
    frame.attrs["calendar"] = calendar
    return frame


def _validated(
    frames: dict[str, pd.DataFrame],
    start: object,
    end: object,
    nan_policy: NanPolicy,
    bad_bars: BadBarPolicy,
) -> pd.DataFrame:
    """Cut each series to ``[start, end)``, validate it, and stack several into a panel."""
    clean: dict[str, pd.DataFrame] = {}
    for name, raw in frames.items():
        frame = _close_from_adjusted(_between(raw, start, end, name), name)
        columns = [c for c in (*OHLC, "Volume") if c in frame.columns] or ["Close"]
        frame.attrs["name"] = name
        clean[name] = validate(
            frame,
            columns=columns,
            nan_policy=nan_policy,
            bad_bars=bad_bars,
            require_moves=True,
            name=name,
        )
    if len(clean) == 1:
        ((name, frame),) = clean.items()
        frame.attrs["name"] = name
        return frame
    zones = {str(frame.index.tz) for frame in clean.values()}
    if len(zones) > 1:
        raise DataError(
            f"the series are in different time zones ({', '.join(sorted(zones))}); pass tz= "
            "to put them all in one zone."
        )
    panel = pd.concat(clean, names=[TICKER, DATE])
    panel.attrs["name"] = ",".join(clean)
    return panel


def _add(frames: dict[str, pd.DataFrame], frame: pd.DataFrame, name: str) -> None:
    """Add one series, or each ticker of a long (panel) frame, refusing a name twice."""
    if isinstance(frame.index, pd.MultiIndex) and frame.index.nlevels == 2:
        parts = {
            str(ticker): frame.xs(ticker, level=0)
            for ticker in pd.unique(frame.index.get_level_values(0))
        }
    else:
        parts = {name: frame}
    if len(parts) == 1 and isinstance(frame.index, pd.MultiIndex):
        parts = {name: next(iter(parts.values()))}  # one ticker in a long file: the file's name
    for key, part in parts.items():
        if key in frames:
            raise DataError(
                f"{key!r} is loaded twice (from two sources or twice in one file); pass each "
                "series once."
            )
        frames[key] = part


def _stem(value: str) -> str:
    name = Path(value).name
    for suffix in sorted(FILE_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(value).stem


def _close_from_adjusted(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A file with ``Adj Close`` but no ``Close`` uses the adjusted close as its close."""
    if "Close" in frame.columns or "Adj Close" not in frame.columns:
        return frame
    warnings.warn(
        f"{name} has no 'Close' column; its 'Adj Close' is used as the close.",
        DataWarning,
        stacklevel=3,
    )
    return frame.rename(columns={"Adj Close": "Close"})


def _split_sources(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
) -> list[str | os.PathLike[str]]:
    if isinstance(source, os.PathLike):
        return [source]
    if isinstance(source, str):
        if "," not in source or Path(source).expanduser().exists():
            return [source]
        # A prefix before the first name applies to every name: "yahoo:AAPL,MSFT".
        prefix, sep, rest = source.partition(":")
        lead = f"{prefix}:" if sep and prefix.lower() in _PREFIXES else ""
        names = rest if lead else source
        return [lead + part.strip() for part in names.split(",") if part.strip()]
    if isinstance(source, Sequence):
        items = list(source)
        if not items:
            raise DataSourceError("no data source given; pass at least one name, file or ticker.")
        return items
    raise DataSourceError(
        f"cannot load data from a {type(source).__name__}; pass a dataset name, a file path "
        "or a ticker (or a list of them)."
    )


def _name_of(item: str | os.PathLike[str]) -> str:
    """The key a yfinance ticker is fetched under."""
    return resolve_source(item)[1].strip().upper()


def _between(frame: pd.DataFrame, start: object, end: object, name: str) -> pd.DataFrame:
    if start is None and end is None:
        return frame
    if not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    try:
        lo = pd.Timestamp(start) if start is not None else None  # type: ignore[arg-type]
        hi = pd.Timestamp(end) if end is not None else None  # type: ignore[arg-type]
    except (ValueError, TypeError):
        raise DataError(f"start/end {start!r}/{end!r} are not dates; use YYYY-MM-DD.") from None
    if frame.index.tz is not None:  # naive bounds are wall-clock times in the data's zone
        lo = lo.tz_localize(frame.index.tz) if lo is not None and lo.tzinfo is None else lo
        hi = hi.tz_localize(frame.index.tz) if hi is not None and hi.tzinfo is None else hi
    mask = pd.Series(True, index=frame.index)
    if lo is not None:
        mask &= frame.index >= lo
    if hi is not None:
        mask &= frame.index < hi
    out = frame.loc[mask.to_numpy()]
    if out.empty:
        raise DataError(
            f"{name} has no rows between {start} and {end} "
            f"(it covers {frame.index.min():%Y-%m-%d} to {frame.index.max():%Y-%m-%d}); "
            "widen the date range."
        )
    return out
