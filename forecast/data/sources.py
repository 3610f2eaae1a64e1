"""``load``: one entry point for bundled samples, files and yfinance tickers.

How a string is resolved, in order:

1. an explicit prefix wins: ``"bundled:AAPL"``, ``"file:prices.csv"``, ``"yahoo:AAPL"``
   (``"yf:"`` works too);
2. a path that exists, or a name ending in ``.csv``/``.parquet``/``.pq``, is a file;
3. the name of a bundled dataset (case-insensitive) is that dataset;
4. anything else is a yfinance ticker (downloaded once, then read from the cache).

Several sources (a list, or one string with commas such as ``"AAPL,MSFT"``) give a *panel*:
one long frame indexed by ``(ticker, Date)``. That is the only multi-series shape the package
uses; windows never cross from one ticker into the next.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from forecast.data.bundled import bundled_path, datasets
from forecast.data.columns import DATE, OHLC, TICKER
from forecast.data.files import FILE_SUFFIXES, read_table
from forecast.data.validate import BadBarPolicy, NanPolicy, validate
from forecast.errors import DataError, DataSourceError

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
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    interval: str = "1d",
    offline: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    nan_policy: NanPolicy = "drop",
    bad_bars: BadBarPolicy = "repair",
) -> pd.DataFrame:
    """Load bars from a bundled dataset, a CSV/Parquet file or yfinance, validated.

    Parameters
    ----------
    source
        A bundled name (``"AAPL"``), a path (``"prices.csv"``), a ticker (``"SPY"``), any of
        them with an explicit prefix (``"bundled:"``, ``"file:"``, ``"yahoo:"``), or several
        of them (a list, or a comma-separated string) for a panel.
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

    Returns
    -------
    DataFrame
        One series: ``DatetimeIndex`` named ``Date``, columns ``Open, High, Low, Close``
        (+ ``Volume``); prices in the source's currency units. Several sources: the same
        columns under a ``(ticker, Date)`` index. ``frame.attrs["name"]`` names the source.

    Raises
    ------
    DataSourceError
        Unknown dataset, missing file, unresolvable ticker, offline without a cache entry.
    ConfigError
        An interval yfinance does not offer.
    DataError
        The data fails validation (see :func:`forecast.validate`).
    """
    sources = _split_sources(source)
    frames: dict[str, pd.DataFrame] = {}
    yahoo: list[str] = []
    for item in sources:
        kind, value = resolve_source(item)
        if kind == "yahoo":
            yahoo.append(value)
        elif kind == "bundled":
            frame = read_table(bundled_path(value))
            frames[bundled_path(value).stem] = frame
        else:
            frames[Path(value).stem] = read_table(value)
    if yahoo:
        from forecast.data.yahoo import fetch  # imported lazily: yfinance is slow to import

        fetched = fetch(
            yahoo, start=start, end=end, interval=interval, offline=offline, cache_dir=cache_dir
        )
        frames.update(fetched)
    ordered = {_name_of(item, frames): None for item in sources}
    clean: dict[str, pd.DataFrame] = {}
    for name in ordered:
        frame = _between(frames[name], start, end, name)
        columns = [c for c in (*OHLC, "Volume") if c in frame.columns] or ["Close"]
        frame.attrs["name"] = name
        clean[name] = validate(
            frame, columns=columns, nan_policy=nan_policy, bad_bars=bad_bars, name=name
        )
    if len(clean) == 1:
        ((name, frame),) = clean.items()
        frame.attrs["name"] = name
        return frame
    panel = pd.concat(clean, names=[TICKER, DATE])
    panel.attrs["name"] = ",".join(clean)
    return panel


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


def _name_of(item: str | os.PathLike[str], frames: dict[str, pd.DataFrame]) -> str:
    kind, value = resolve_source(item)
    if kind == "bundled":
        return bundled_path(value).stem
    if kind == "file":
        return Path(value).stem
    return value.strip().upper()


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
