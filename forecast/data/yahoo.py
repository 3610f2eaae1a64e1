"""Bars from Yahoo Finance through yfinance, kept in an on-disk cache, with an offline mode.

Prices
------
Every download calls ``yfinance.download(..., auto_adjust=True)``: Open, High, Low and Close
are **split- and dividend-adjusted** (yfinance scales the raw OHLC by ``Adj Close / Close``),
so returns across ex-dividend days and splits are real returns. There is therefore no
``Adj Close`` column, and prices before the latest dividend differ slightly from the printed
quotes of that day. Volume is as reported. Without ``start`` the whole history is fetched
(``period="max"``; Yahoo itself limits intraday history, e.g. about 730 days of ``1h`` bars).

Daily (and longer) bars are dated by the exchange's local date, tz-naive (``ignore_tz=True``,
and a tz-aware index at local midnight drops its zone), so a daily bar dated 2024-01-02 stays
2024-01-02. Intraday bars are instants and keep their zone (``ignore_tz=False``): a 09:30
New York bar is ``09:30-05:00`` in winter and ``09:30-04:00`` in summer, in
``America/New_York``.

Cache
-----
One Parquet file per ``(ticker, interval, start, end)``, in one flat folder::

    <cache dir>/<TICKER>_<interval>_<start>_<end>.parquet
    AAPL_1d_max_now.parquet                      no start, no end: the whole history
    ^GSPC_1d_2020-01-01_2024-01-01.parquet        start and end dates (end exclusive)
    EURUSD=X_1h_2024-03-01T093000_now.parquet     a start with a time of day (no colons)

``<TICKER>`` is upper-cased; ``<start>`` is ``max`` when not given and ``<end>`` is ``now``
when not given; a timezone-aware bound is written in UTC with a ``Z`` suffix. Tickers may
only hold letters, digits and ``. - ^ =`` and ``_`` separates the parts, so every name parses
back unambiguously (:func:`cached_entries`). The folder is ``cache_dir=`` if given, else the
``FORECAST_CACHE_DIR`` environment variable, else ``~/.cache/forecast/yahoo``.

Entries whose range is still open (no ``end``, or an ``end`` in the future) grow every
trading day: online they are reused for :data:`OPEN_END_MAX_AGE_S` seconds after being
written and then downloaded again; closed ranges are reused forever. ``refresh=True``
always downloads again. Files are written through :mod:`forecast._atomic`, so a killed
writer never leaves a partial entry and two processes filling one entry both leave a valid
file. An unreadable entry is downloaded again online, and refused with a clear error offline.

Offline mode (``offline=True``, or ``FORECAST_OFFLINE=1`` when ``offline`` is None) reads
only the cache, whatever the age of an entry, and never imports yfinance.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast._atomic import atomic_write_with
from forecast.data.columns import DATE, PRICE_COLUMNS, normalise_columns
from forecast.errors import ConfigError, DataError, DataSourceError

__all__ = [
    "INTERVALS",
    "OPEN_END_MAX_AGE_S",
    "CacheEntry",
    "cache_dir",
    "cache_path",
    "cached_entries",
    "fetch",
]

logger = logging.getLogger(__name__)

_INTRADAY: tuple[str, ...] = ("1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h")
INTERVALS: tuple[str, ...] = (*_INTRADAY, "1d", "5d", "1wk", "1mo", "3mo")
# An hour: fresh enough for intraday bars, and one request per ticker per hour is far below
# anything Yahoo rate-limits.
OPEN_END_MAX_AGE_S = 3600
CACHE_DIR_ENV = "FORECAST_CACHE_DIR"
OFFLINE_ENV = "FORECAST_OFFLINE"
SUFFIX = ".parquet"
MAX_TICKER_LENGTH = 20

# Yahoo symbols: AAPL, BRK-B, RDS.A, ^GSPC, EURUSD=X, 0700.HK, ES=F, BTC-USD, ISINs.
# No path separators, no '_' (it separates the parts of a cache file name), no leading dot.
_TICKER = re.compile(rf"[A-Z0-9^][A-Z0-9.^=-]{{0,{MAX_TICKER_LENGTH - 1}}}")
_ENTRY = re.compile(
    r"(?P<ticker>[A-Z0-9^][A-Z0-9.^=-]*)_(?P<interval>[0-9a-z]+)_(?P<start>[^_]+)_(?P<end>[^_]+)"
    + re.escape(SUFFIX)
)
_OHLCV: tuple[str, ...] = (*PRICE_COLUMNS, "Volume")
# Words in yfinance's logged causes that point at the network rather than the symbol.
_NETWORK_HINT = re.compile(  # case-sensitive so that upper-case tickers never match
    r"curl: \(\d+\)|Could not resolve|Connection(Error| refused| reset| aborted)|[Tt]imed out"
    r"|Timeout|SSLError|ProxyError|[Nn]etwork is unreachable|Name or service not known"
)
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CacheEntry:
    """One cached download, as parsed back from its file name.

    Attributes
    ----------
    ticker, interval
        Upper-cased ticker and yfinance interval (``"1d"``, ``"1h"``, ...).
    start, end
        The key's bounds as written in the name: a date, a date and time, ``"max"`` (no
        start) or ``"now"`` (no end).
    path
        The Parquet file.
    """

    ticker: str
    interval: str
    start: str
    end: str
    path: Path


def cache_dir() -> Path:
    """Return the default cache folder: ``FORECAST_CACHE_DIR``, else ``~/.cache/forecast/yahoo``.

    The folder is not created; the first download creates it.
    """
    return _cache_folder(None)


def cache_path(
    ticker: str,
    *,
    start: str | dt.date | pd.Timestamp | None = None,
    end: str | dt.date | pd.Timestamp | None = None,
    interval: str = "1d",
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Return the cache file that holds (or would hold) one download; touches nothing.

    Raises
    ------
    DataSourceError
        If the ticker is not a plausible Yahoo symbol or its file would leave the cache folder.
    ConfigError
        If the interval is not one yfinance knows.
    DataError
        If ``start``/``end`` are not dates or ``start`` is not before ``end``.
    """
    (name,) = _check_tickers([ticker])
    window = _Range.of(start, end)
    return _entry_path(_cache_folder(cache_dir), name, _check_interval(interval), window)


def cached_entries(cache_dir: str | os.PathLike[str] | None = None) -> list[CacheEntry]:
    """List the cache's entries (sorted by file name); an absent folder gives ``[]``."""
    folder = _cache_folder(cache_dir)
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.iterdir()):
        match = _ENTRY.fullmatch(path.name)
        if match and path.is_file():
            entries.append(CacheEntry(**match.groupdict(), path=path))
    return entries


def fetch(
    tickers: str | Sequence[str],
    *,
    start: str | dt.date | pd.Timestamp | None = None,
    end: str | dt.date | pd.Timestamp | None = None,
    interval: str = "1d",
    offline: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    refresh: bool = False,
) -> dict[str, pd.DataFrame]:
    """Return bars per ticker from the cache, downloading (and caching) what is missing.

    Parameters
    ----------
    tickers
        Yahoo symbols (``"AAPL"``, ``"BRK-B"``, ``"^GSPC"``, ``"EURUSD=X"``); a single string
        is one ticker. Case and surrounding spaces are ignored; duplicates are fetched once.
    start, end
        Inclusive start and exclusive end (dates, or timestamps for intraday bars). No start
        means the whole history; no end means up to now.
    interval
        A yfinance bar size, one of :data:`INTERVALS`.
    offline
        Read only the cache and never touch the network (default: the ``FORECAST_OFFLINE``
        environment variable, else False).
    cache_dir
        Cache folder (default: :func:`cache_dir`).
    refresh
        Ignore cached entries, download again and overwrite them.

    Returns
    -------
    dict of str to DataFrame
        Keyed by upper-cased ticker, in the order given. Each frame is canonical
        (:mod:`forecast.data.columns`): adjusted ``Open, High, Low, Close`` and ``Volume`` as
        float64 under a tz-naive ``DatetimeIndex`` named ``Date`` in local wall time; not yet
        validated (:func:`forecast.data.sources.load` validates).

    Raises
    ------
    DataSourceError
        A ticker that is not a plausible symbol (checked before any disk or network access),
        a symbol yfinance returns no data for, a rate limit, a network failure, offline mode
        with nothing cached, or an unreadable cache file in offline mode.
    ConfigError
        An unknown interval, or ``refresh=True`` in offline mode.
    DataError
        ``start``/``end`` that are not dates, or ``start`` not before ``end``.

    Examples
    --------
    >>> frames = fetch(["AAPL", "MSFT"], start="2020-01-01")  # doctest: +SKIP
    >>> frames["AAPL"].columns.tolist()  # doctest: +SKIP
    ['Open', 'High', 'Low', 'Close', 'Volume']
    """
    names = _check_tickers(tickers)
    interval = _check_interval(interval)
    window = _Range.of(start, end)
    folder = _cache_folder(cache_dir)
    paths = {name: _entry_path(folder, name, interval, window) for name in names}
    offline = _offline_mode(offline)
    if offline and refresh:
        raise ConfigError(
            "refresh=True needs the network but offline mode is on; drop refresh or turn "
            f"offline mode off (offline=False, or unset {OFFLINE_ENV})."
        )

    frames: dict[str, pd.DataFrame] = {}
    for name, path in paths.items():
        cached = None if refresh else _read_entry(path, name, window, offline=offline)
        if cached is not None:
            frames[name] = cached
    missing = [name for name in names if name not in frames]
    if missing and offline:
        raise DataSourceError(
            f"{_tickers_phrase(missing)} ({interval}, {window.describe()}) "
            f"{'is' if len(missing) == 1 else 'are'} not in the cache at {folder} and offline "
            f"mode is on; run once online or 'forecast data fetch {' '.join(missing)}' to fill "
            f"the cache, or turn offline mode off (offline=False, or unset {OFFLINE_ENV})."
        )
    if missing:
        frames.update(_download_and_store(missing, interval, window, paths, folder))
    return {name: frames[name] for name in names}


# -- names and paths ---------------------------------------------------------------------------


def _check_tickers(tickers: str | Sequence[str]) -> list[str]:
    items = [tickers] if isinstance(tickers, str) else list(tickers)
    if not items:
        raise DataSourceError("no ticker given; pass at least one symbol such as 'AAPL'.")
    names: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise DataSourceError(
                f"ticker {item!r} is a {type(item).__name__}, not a string; pass symbols "
                "such as 'AAPL'."
            )
        name = item.strip().upper()
        if not _TICKER.fullmatch(name):
            shown = item if len(item) <= 40 else item[:40] + "..."
            raise DataSourceError(
                f"ticker {shown!r} is not a valid Yahoo symbol; use 1 to {MAX_TICKER_LENGTH} "
                "letters, digits, '.', '-', '^' or '=' (e.g. 'AAPL', 'BRK-B', '^GSPC', "
                "'EURUSD=X')."
            )
        if name not in names:
            names.append(name)
    return names


def _check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise ConfigError(
            f"interval {interval!r} is not a yfinance bar size; use one of {', '.join(INTERVALS)}."
        )
    return interval


def _cache_folder(override: str | os.PathLike[str] | None) -> Path:
    if override is not None and os.fspath(override) != "":
        chosen = os.fspath(override)
    else:
        chosen = os.environ.get(CACHE_DIR_ENV) or str(Path("~/.cache/forecast/yahoo"))
    return Path(chosen).expanduser().resolve()


def _entry_path(folder: Path, name: str, interval: str, window: _Range) -> Path:
    file_name = f"{name}_{interval}_{window.key()}{SUFFIX}"
    path = Path(os.path.normpath(folder / file_name))
    # The ticker pattern already rules out separators; this lexical check (no symlinks
    # followed) catches anything it might miss.
    if path.parent != folder or path.name != file_name:
        raise DataSourceError(
            f"ticker {name!r} would be cached outside {folder}; pass a plain Yahoo symbol."
        )
    return path


def _offline_mode(offline: bool | None) -> bool:
    if offline is not None:
        return bool(offline)
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE


def _tickers_phrase(names: Sequence[str]) -> str:
    quoted = ", ".join(repr(name) for name in names)
    return f"ticker {quoted}" if len(names) == 1 else f"tickers {quoted}"


# -- date range --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    """The requested ``[start, end)``; ``None`` is an open side."""

    start: pd.Timestamp | None
    end: pd.Timestamp | None

    @classmethod
    def of(cls, start: object, end: object) -> _Range:
        lo, hi = _timestamp(start, "start"), _timestamp(end, "end")
        if lo is not None and hi is not None and _utc(lo) >= _utc(hi):
            raise DataError(
                f"start {start!s} is not before end {end!s}; pass an earlier start or a later end."
            )
        return cls(lo, hi)

    def key(self) -> str:
        return f"{_token(self.start, 'max')}_{_token(self.end, 'now')}"

    def describe(self) -> str:
        lo, hi = _token(self.start, ""), _token(self.end, "")
        if lo and hi:
            return f"{lo} to {hi}"
        if lo:
            return f"from {lo}"
        return f"until {hi}" if hi else "all history"

    def is_open(self) -> bool:
        """True while the range can still gain bars (no end, or an end in the future)."""
        return self.end is None or _utc(self.end) > pd.Timestamp.now(tz="UTC")

    def download_arguments(self) -> dict[str, object]:
        arguments: dict[str, object] = {}
        if self.start is None:
            arguments["period"] = "max"  # yfinance's own default is only one month
        else:
            arguments["start"] = _for_yfinance(self.start)
        if self.end is not None:
            arguments["end"] = _for_yfinance(self.end)
        return arguments


def _timestamp(value: object, which: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        if isinstance(value, bool | int | float):
            raise TypeError(value)
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
        if pd.isna(stamp):
            raise ValueError(value)
    except (ValueError, TypeError):
        raise DataError(f"{which} {value!r} is not a date; use YYYY-MM-DD.") from None
    return stamp


def _utc(stamp: pd.Timestamp) -> pd.Timestamp:
    # Naive bounds are compared as if UTC: close enough to order two bounds or check "future".
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _token(stamp: pd.Timestamp | None, default: str) -> str:
    if stamp is None:
        return default
    suffix = ""
    if stamp.tzinfo is not None:
        stamp, suffix = stamp.tz_convert("UTC").tz_localize(None), "Z"
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d") + suffix
    return stamp.strftime("%Y-%m-%dT%H%M%S") + suffix


def _for_yfinance(stamp: pd.Timestamp) -> str | dt.datetime:
    # yfinance parses strings only as YYYY-MM-DD; anything finer goes as a datetime.
    if stamp.tzinfo is None and stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return stamp.to_pydatetime()


# -- cache -------------------------------------------------------------------------------------


def _read_entry(path: Path, name: str, window: _Range, *, offline: bool) -> pd.DataFrame | None:
    """Return the cached frame, or None when it must be downloaded (absent, stale, unreadable)."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
    if not offline and window.is_open() and age > OPEN_END_MAX_AGE_S:
        return None
    try:
        frame = pd.read_parquet(path)
        if not isinstance(frame.index, pd.DatetimeIndex) or "Close" not in frame or frame.empty:
            raise ValueError("not a frame of bars")
    except Exception as exc:  # a damaged file can fail inside pyarrow in many ways
        if offline:
            raise DataSourceError(
                f"the cache file {path} for ticker {name!r} cannot be read "
                f"({type(exc).__name__}); delete it and run once online (or "
                f"'forecast data fetch {name}') to fetch it again."
            ) from None
        logger.warning("cache file %s is unreadable (%s); downloading it again", path, exc)
        return None
    return frame


def _write_entry(path: Path, frame: pd.DataFrame) -> None:
    try:
        atomic_write_with(path, lambda tmp: frame.to_parquet(tmp))
    except OSError as exc:  # a read-only or full disk must not lose a good download
        logger.warning("could not write cache file %s (%s); continuing without it", path, exc)


# -- download ----------------------------------------------------------------------------------


def _download_and_store(
    names: list[str], interval: str, window: _Range, paths: dict[str, Path], folder: Path
) -> dict[str, pd.DataFrame]:
    raw, causes = _download(names, interval, window, folder)
    frames: dict[str, pd.DataFrame] = {}
    for name, frame in _split_by_ticker(raw, names).items():
        if frame is not None:
            _write_entry(paths[name], frame)
            frames[name] = frame
    empty = [name for name in names if name not in frames]
    if not empty:
        return frames
    found = [causes[name] for name in empty if name in causes]
    if any("YFRateLimitError" in cause or "Rate limited" in cause for cause in found):
        raise _rate_limited(folder)
    network = next((cause for cause in found if _NETWORK_HINT.search(cause)), None)
    if network is not None:
        raise _network_failed(empty, interval, window, folder, network)
    said = f" (yfinance said: {_first_line(found[0])})" if found else ""
    raise DataSourceError(
        f"yfinance returned no data for {_tickers_phrase(empty)} ({interval}, "
        f"{window.describe()}){said}; check the symbol on finance.yahoo.com, the date range "
        "and the interval (intraday bars only reach back 60 to 730 days)."
    )


def _download(
    names: list[str], interval: str, window: _Range, folder: Path
) -> tuple[pd.DataFrame | None, dict[str, str]]:
    """Call ``yfinance.download`` once for all names; return its frame and logged causes."""
    try:
        import yfinance  # imported lazily: it is slow to import and offline mode never needs it
    except ImportError:
        raise DataSourceError(
            "yfinance is not installed; install it with 'pip install yfinance', or use "
            f"offline mode ({OFFLINE_ENV}=1) to read the cache at {folder}."
        ) from None
    rate_limit_error: type[BaseException] | None = getattr(
        getattr(yfinance, "exceptions", None), "YFRateLimitError", None
    )
    with _yfinance_errors() as logged, warnings.catch_warnings():
        # yfinance 1.x trips pandas deprecations on every call; they are not the user's to fix.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"yfinance")
        try:
            raw = yfinance.download(
                names,
                interval=interval,
                auto_adjust=True,  # split- and dividend-adjusted OHLC (see module docstring)
                actions=False,
                group_by="column",
                multi_level_index=True,
                # Daily bars are dates in each exchange's own calendar (naive); intraday bars
                # are instants and keep their zone (several tickers share the most common one).
                ignore_tz=interval not in _INTRADAY,
                progress=False,
                threads=len(names) > 1,
                **window.download_arguments(),
            )
        except Exception as exc:  # anything from yfinance or its HTTP stack is a fetch failure
            if _is_rate_limit(exc, rate_limit_error):
                raise _rate_limited(folder) from None
            raise _network_failed(
                names, interval, window, folder, f"{type(exc).__name__}: {exc}"
            ) from None
    return raw, _causes_by_ticker(logged, names)


@contextlib.contextmanager
def _yfinance_errors() -> Iterator[list[str]]:
    """Collect what yfinance logs at ERROR level: it reports failures there, not by raising."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            with contextlib.suppress(Exception):
                messages.append(record.getMessage())

    handler = _Collect(level=logging.ERROR)
    yf_logger = logging.getLogger("yfinance")
    yf_logger.addHandler(handler)
    try:
        yield messages
    finally:
        yf_logger.removeHandler(handler)


def _causes_by_ticker(messages: list[str], names: list[str]) -> dict[str, str]:
    """Map each ticker to the first logged error that names it (usually the root cause)."""
    causes: dict[str, str] = {}
    for name in names:
        mention = re.compile(r"(?<![A-Z0-9.^=-])" + re.escape(name) + r"(?![A-Z0-9.^=-])")
        for message in messages:
            if mention.search(message):
                causes[name] = message.strip()
                break
    return causes


def _is_rate_limit(exc: BaseException, rate_limit_error: type[BaseException] | None) -> bool:
    if rate_limit_error is not None and isinstance(exc, rate_limit_error):
        return True
    return any(kind.__name__ == "YFRateLimitError" for kind in type(exc).__mro__)


def _rate_limited(folder: Path) -> DataSourceError:
    return DataSourceError(
        "Yahoo Finance is rate-limiting this machine (YFRateLimitError); wait a few minutes "
        f"and retry, or use offline mode (offline=True or {OFFLINE_ENV}=1) to read what is "
        f"already cached at {folder}."
    )


def _network_failed(
    names: list[str], interval: str, window: _Range, folder: Path, cause: str
) -> DataSourceError:
    return DataSourceError(
        f"downloading {_tickers_phrase(names)} ({interval}, {window.describe()}) from Yahoo "
        f"Finance failed ({_first_line(cause)}); check the internet connection and retry, or "
        f"use offline mode (offline=True or {OFFLINE_ENV}=1) to read the cache at {folder}."
    )


def _first_line(text: str, limit: int = 200) -> str:
    line = next((part.strip() for part in str(text).splitlines() if part.strip()), "")
    return line if len(line) <= limit else line[: limit - 3] + "..."


# -- frame shape -------------------------------------------------------------------------------


def _split_by_ticker(raw: object, names: list[str]) -> dict[str, pd.DataFrame | None]:
    """Cut yfinance's ``(Price, Ticker)`` columns into one canonical frame per ticker.

    A ticker absent from the columns, or whose rows are all NaN, maps to None.
    """
    if not isinstance(raw, pd.DataFrame) or raw.empty:
        return dict.fromkeys(names)
    columns = raw.columns
    if not isinstance(columns, pd.MultiIndex) or columns.nlevels != 2:
        if len(names) == 1:  # multi_level_index=False, or an older yfinance
            return {names[0]: _canonical(raw)}
        raise DataSourceError(
            f"yfinance returned single-level columns for {len(names)} tickers; upgrade "
            "yfinance (pip install -U yfinance) and retry."
        )
    level = _ticker_level(columns)
    labels = [str(label).upper() for label in columns.get_level_values(level)]
    out: dict[str, pd.DataFrame | None] = {}
    for name in names:
        mask = [label == name for label in labels]
        if not any(mask):
            out[name] = None
            continue
        part = raw.loc[:, mask]
        part.columns = part.columns.droplevel(level)
        out[name] = _canonical(part)
    return out


def _ticker_level(columns: pd.MultiIndex) -> int:
    """Which of two column levels holds tickers: 'Ticker' by name, else the one without prices."""
    names = [str(name).lower() for name in columns.names]
    if "ticker" in names:
        return names.index("ticker")
    prices = {column.lower() for column in _OHLCV}
    holds_prices = any(str(label).lower() in prices for label in columns.levels[0])
    return 1 if holds_prices else 0  # group_by="column" puts prices first


def _canonical(part: pd.DataFrame) -> pd.DataFrame | None:
    if not isinstance(part.index, pd.DatetimeIndex):
        return None
    # yfinance names the index 'Date' (daily) or 'Datetime' (intraday).
    frame = part.set_axis(pd.Index([str(column) for column in part.columns]), axis=1)
    frame = normalise_columns(frame.rename_axis(DATE))
    index = frame.index
    if (
        isinstance(index, pd.DatetimeIndex)
        and index.tz is not None
        and (index == index.normalize()).all()
    ):
        # A daily bar is a date in its exchange's calendar, not an instant: keep the local date.
        frame = frame.set_axis(index.tz_localize(None).rename(DATE), axis=0)
    prices = [column for column in PRICE_COLUMNS if column in frame.columns]
    if not prices:
        return None
    keep = [column for column in _OHLCV if column in frame.columns]
    frame = frame[keep].astype("float64")
    # In a multi-ticker frame, a ticker has all-NaN rows on the days only the others traded.
    frame = frame.dropna(how="all", subset=prices)
    if "Adj Close" in frame.columns and frame["Adj Close"].isna().all():
        frame = frame.drop(columns="Adj Close")
    return None if frame.empty else frame
