"""Where a universe comes from: one panel out of a folder, a ticker list, a long file or a name.

A universe is a *panel*: the long frame indexed by ``(ticker, Date)`` that :func:`forecast.load`
makes from several sources. This module recognises the four shapes people keep universes in,
loads every member on its own, and never drops one silently: a member that cannot be read or
fails validation is *refused* with one sentence naming it, the problem and the fix.

How ``source`` is recognised (the same rules, in this order, as ``forecast backtest --data``):

1. a **folder** holding at least one ``*.csv``, ``*.parquet`` or ``*.pq`` file: each such file
   is one ticker, named by its file name without the suffix (``AAPL.csv`` is ``AAPL``);
2. a **bundled name**: ``"bundled"`` is the ten bundled tickers as one panel;
3. a **list file**: a ``.txt``/``.lst``/``.list``/``.tickers`` file, or a CSV with a single
   column headed ``ticker``, ``symbol`` or ``name``, holds ticker symbols (one per line, or
   separated by commas or spaces; ``#`` starts a comment), fetched with yfinance through the
   on-disk cache;
4. a **long file**: a CSV or Parquet file with a ticker column (``ticker``, ``symbol`` or
   ``name``) beside the dates and prices; each ticker's rows are one member.

Every member is validated on its own (:func:`forecast.validate`): its repairs are kept as notes,
and a member that fails is refused. Then its one-bar moves of the close are checked against
``max_jump`` (in log terms): a jump that the next bar takes back is a *bad print*, and that
one bar is dropped (noted); a jump that stays (an unadjusted split, a spin-off, a share
dividend) refuses the member, naming the date and size, unless ``max_jump=None``. Such a jump
makes every forecast error around it, naive's included, a statement about the data rather
than about the model.

The refused members travel with the panel in ``panel.attrs["refused"]`` (ticker -> reason) and
the notes in ``panel.attrs["notes"]`` (ticker -> list of sentences), so the universe backtest
lists them beside the tickers it ran.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.bundled import datasets, datasets_dir
from forecast.data.columns import DATE, OHLC, TICKER
from forecast.data.files import FILE_SUFFIXES, read_table
from forecast.data.validate import validate
from forecast.errors import DataSourceError, ForecastError

__all__ = [
    "BUNDLED_UNIVERSE",
    "DEFAULT_MAX_JUMP",
    "LIST_SUFFIXES",
    "Universe",
    "is_universe_source",
    "load_universe",
    "universe_kind",
]

BUNDLED_UNIVERSE = "bundled"
LIST_SUFFIXES: tuple[str, ...] = (".txt", ".lst", ".list", ".tickers")
# |log return| above this in one bar: a split, a spin-off or a bad print (0.3 is a 26% fall
# or a 35% rise in a day; the shared S&P 500 universe has exactly its 7 corporate actions
# and its one bad print above it, and no ordinary day).
DEFAULT_MAX_JUMP = 0.3
# A jump whose next bar's move cancels it to within this (in log terms) is a bad print.
REVERT_TOLERANCE = 0.1


@dataclass
class Universe:
    """A loaded universe: the panel of members that passed, and the ones refused, by name."""

    panel: pd.DataFrame  # (ticker, Date) index, OHLC[V] columns, validated per ticker
    refused: dict[str, str] = field(default_factory=dict)  # ticker -> one-sentence reason
    notes: dict[str, list[str]] = field(default_factory=dict)  # ticker -> repairs made
    kind: str = "folder"  # "folder", "bundled", "list" or "long"
    name: str = ""


def universe_kind(source: object) -> str | None:
    """``"folder"``, ``"bundled"``, ``"list"``, ``"long"``, or None when ``source`` is not a
    universe (a single file, a bundled ticker, a yfinance symbol, or several of them)."""
    if not isinstance(source, str | os.PathLike):
        return None
    text = os.fspath(source).strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if path.is_dir():
        # A folder without a single data file is not a universe: the single-file reader
        # then says that a folder is not a file.
        has_member = any(p.is_file() and p.suffix.lower() in FILE_SUFFIXES for p in path.iterdir())
        return "folder" if has_member else None
    if text.lower() == BUNDLED_UNIVERSE:
        return "bundled"
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix in LIST_SUFFIXES:
        return "list"
    if suffix in FILE_SUFFIXES:
        columns = _header(path)
        keys = {_key(column) for column in columns}
        if keys & _TICKER_KEYS and keys & _DATE_KEYS:
            return "long"
        if len(columns) == 1 and keys <= _TICKER_KEYS and suffix == ".csv":
            return "list"  # a one-column CSV headed ticker/symbol/name
    return None


def is_universe_source(source: object) -> bool:
    """Whether ``source`` is a universe :func:`forecast.load` hands to :func:`load_universe`:
    a folder, ``"bundled"`` or a ticker list. A long file is a universe too, but
    :func:`forecast.load` reads it itself, as one panel (:func:`load_universe` reads it member
    by member, refusing bad ones)."""
    return universe_kind(source) in ("folder", "bundled", "list")


def load_universe(
    source: str | os.PathLike[str],
    *,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    offline: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    nan_policy: str = "drop",
    max_jump: float | None = DEFAULT_MAX_JUMP,
) -> Universe:
    """Load every member of a universe, refusing (never dropping) the ones that cannot be used.

    Parameters
    ----------
    source
        A folder of per-ticker files, ``"bundled"``, a file listing tickers, or a long
        CSV/Parquet file with a ticker column (module docstring).
    start, end
        Optional date bounds (inclusive start, exclusive end) applied to every member.
    offline, cache_dir
        For ticker lists: read only the yfinance cache; the cache folder.
    nan_policy
        Passed to :func:`forecast.validate` for each member.
    max_jump
        Largest accepted one-bar |log return| of the close; larger refuses the member.
        None accepts any jump.

    Returns
    -------
    Universe
        ``panel`` indexed by ``(ticker, Date)`` with ``attrs["refused"]`` and
        ``attrs["notes"]`` set; ``refused``, ``notes``, ``kind``, ``name``.

    Raises
    ------
    DataSourceError
        ``source`` is not a universe, holds no member files or tickers, or no member at all
        could be loaded (the message lists each refusal).
    """
    kind = universe_kind(source)
    text = os.fspath(source).strip()
    if kind is None:
        raise DataSourceError(
            f"{text!r} is not a universe: pass a folder of CSV/Parquet files, 'bundled', a "
            "file listing tickers (.txt) or a long CSV/Parquet file with a ticker column."
        )
    readers: dict[str, Callable[[], pd.DataFrame]]
    refused: dict[str, str] = {}
    if kind == "folder":
        readers = _folder_readers(Path(text).expanduser())
    elif kind == "bundled":
        readers = {name: _file_reader(datasets_dir() / f"{name}.csv") for name in datasets()}
    elif kind == "long":
        readers = _long_readers(Path(text).expanduser())
    else:
        readers, refused = _list_readers(Path(text).expanduser(), offline, cache_dir, start, end)
    if not readers and not refused:
        raise DataSourceError(
            f"{text!r} holds no tickers; put one CSV or Parquet file per ticker in the folder, "
            "or one symbol per line in the list file."
        )
    members: dict[str, pd.DataFrame] = {}
    notes: dict[str, list[str]] = {}
    for ticker, read in readers.items():
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                frame = _bounded(read(), start, end)
                columns = [c for c in (*OHLC, "Volume") if c in frame.columns] or ["Close"]
                frame = validate(frame, columns=columns, nan_policy=nan_policy, name=ticker)
        except ForecastError as exc:
            refused[ticker] = f"{ticker}: {_sentence(exc)}"
            continue
        if caught:
            notes[ticker] = [str(warning.message) for warning in caught]
        if max_jump is not None:
            frame, dropped, reason = _screen_jumps(ticker, frame, max_jump)
            if dropped:
                notes.setdefault(ticker, []).extend(dropped)
            if reason is not None:
                refused[ticker] = reason
                continue
        members[ticker] = frame
    name = Path(text).name or text
    if not members:
        listed = "; ".join(refused.values())
        raise DataSourceError(f"no ticker of {name!r} could be loaded: {listed}")
    panel = pd.concat(members, names=[TICKER, DATE])
    panel.attrs = {"name": name, "refused": dict(refused), "notes": dict(notes)}
    return Universe(panel=panel, refused=refused, notes=notes, kind=kind, name=name)


# -- the four shapes ---------------------------------------------------------------------------

_TICKER_KEYS = {"ticker", "symbol", "name"}
_DATE_KEYS = {"date", "datetime", "timestamp", "time"}


def _key(name: object) -> str:
    return re.sub(r"[\s_\-.]+", "", str(name)).lower()


def _header(path: Path) -> list[str]:
    """Column names of a CSV (first line) or Parquet file (schema), without reading rows."""
    try:
        if path.suffix.lower() == ".csv":
            return [str(c) for c in pd.read_csv(path, nrows=0).columns]
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(path).names]
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError):
        return []


def _file_reader(path: Path) -> Callable[[], pd.DataFrame]:
    return lambda: read_table(path)


def _folder_readers(folder: Path) -> dict[str, Callable[[], pd.DataFrame]]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FILE_SUFFIXES)
    readers: dict[str, Callable[[], pd.DataFrame]] = {}
    for path in files:
        if path.stem in readers:
            raise DataSourceError(
                f"{folder.name!r} holds two files for ticker {path.stem!r} ({path.name} and "
                "another suffix); keep one file per ticker."
            )
        readers[path.stem] = _file_reader(path)
    return readers


def _long_readers(path: Path) -> dict[str, Callable[[], pd.DataFrame]]:
    """One reader per ticker of a long file; the file is read (and split) by
    :func:`forecast.data.files.read_table`, each member validated here on its own."""
    frame = read_table(path)
    if not isinstance(frame.index, pd.MultiIndex):
        raise DataSourceError(f"{path.name!r} has no ticker column; name it 'ticker'.")
    return {
        str(ticker): (lambda ticker=ticker: frame.xs(ticker, level=0))
        for ticker in pd.unique(frame.index.get_level_values(0))
    }


def _list_readers(
    path: Path,
    offline: bool | None,
    cache_dir: str | os.PathLike[str] | None,
    start: object,
    end: object,
) -> tuple[dict[str, Callable[[], pd.DataFrame]], dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataSourceError(
            f"{path.name!r} is not a text list of tickers; write one symbol per line in UTF-8."
        ) from None
    symbols: list[str] = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        symbols.extend(part.strip().upper() for part in re.split(r"[,\s;]+", line) if part.strip())
    if path.suffix.lower() == ".csv" and symbols and _key(symbols[0]) in _TICKER_KEYS:
        symbols = symbols[1:]  # a one-column CSV's header
    symbols = list(dict.fromkeys(symbols))
    from forecast.data.yahoo import fetch  # imported lazily: yfinance is slow to import

    options = {"start": start, "end": end, "offline": offline, "cache_dir": cache_dir}
    try:
        frames: dict[str, pd.DataFrame] = fetch(symbols, **options) if symbols else {}
        refused: dict[str, str] = {}
    except DataSourceError:
        # One bad symbol fails the whole download; the good ones are cached by then, so ask
        # again one by one to say which symbol failed and why.
        frames, refused = {}, {}
        for symbol in symbols:
            try:
                frames.update(fetch([symbol], **options))
            except ForecastError as exc:
                refused[symbol] = f"{symbol}: {_sentence(exc)}"
    readers = {name: (lambda frame=frame: frame) for name, frame in frames.items()}
    return readers, refused


# -- member checks -----------------------------------------------------------------------------


def _bounded(frame: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    if (start is None and end is None) or not isinstance(frame.index, pd.DatetimeIndex):
        return frame
    mask = np.ones(len(frame), dtype=bool)
    if start is not None:
        mask &= frame.index >= pd.Timestamp(start)  # type: ignore[arg-type]
    if end is not None:
        mask &= frame.index < pd.Timestamp(end)  # type: ignore[arg-type]
    return frame.loc[mask]


def _jumps(frame: pd.DataFrame) -> np.ndarray:
    """One-bar log returns of the close ``[L-1]`` (empty when a close is not positive)."""
    close = frame["Close"].to_numpy(dtype=np.float64)
    if close.size < 2 or not np.all(close > 0):
        return np.empty(0)
    return np.diff(np.log(close))


def _screen_jumps(
    ticker: str, frame: pd.DataFrame, limit: float
) -> tuple[pd.DataFrame, list[str], str | None]:
    """Drop bad prints (a jump that reverts the next bar); refuse any other jump > ``limit``.

    Returns the frame, the notes about dropped bars, and a refusal reason or None.
    """
    notes: list[str] = []
    while True:
        moves = _jumps(frame)
        over = np.flatnonzero(np.abs(moves) > limit)
        if over.size == 0:
            return frame, notes, None
        first = int(over[0])
        move = float(moves[first])
        day = frame.index[first + 1]
        if first + 1 < moves.size and abs(move + moves[first + 1]) < REVERT_TOLERANCE:
            close = float(frame["Close"].iloc[first + 1])
            notes.append(
                f"{ticker}: dropped the bar of {day:%Y-%m-%d}, a bad print (close {close:g}, "
                f"{math.expm1(move):+.0%} and back the next bar)."
            )
            frame = frame.drop(index=day)
            continue
        reason = (
            f"{ticker}: the close moves {math.expm1(move):+.0%} in one bar on {day:%Y-%m-%d} "
            f"(|log return| {abs(move):.3f} > {limit:g}) and stays there: unless it was a "
            "real crash, an unadjusted split, spin-off or share dividend; use split-adjusted "
            "prices (yfinance's are), or keep it with "
            "forecast.universe.load_universe(..., max_jump=None)."
        )
        return frame, notes, reason


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:1].lower() + text[1:] if text else type(exc).__name__
