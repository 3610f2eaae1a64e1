"""Read OHLCV tables from CSV or Parquet files (as people have them) into the canonical frame.

What a file may look like and still load:

- CSV, plain or compressed (``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``), or Parquet;
- any of ``,`` ``;`` tab ``|`` as the separator and ``.`` or ``,`` as the decimal mark
  (``1.234,56`` with ``;`` between fields, as European spreadsheets write it), sniffed from the
  first lines;
- a leading unnamed column of row numbers (what ``df.to_csv()`` writes) is dropped; an unnamed
  first column of dates is the ``Date`` column;
- long format, one row per (date, ticker), with a ticker column (``Ticker``, ``Symbol``,
  ``Name`` as in Kaggle's ``all_stocks_5yr.csv``, ... or any column named by
  ``ticker_column=``): read as a panel indexed by ``(ticker, Date)``;
- UTF-8 text by default; other encodings by ``encoding=`` (a file that is not UTF-8 is refused
  with that hint rather than read as mojibake).

Dates are parsed by :mod:`forecast.data.timestamps` (``date_format``, ``dayfirst``, ``tz``).
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import lzma
import os
import re
import zipfile
from pathlib import Path

import pandas as pd

from forecast.data.columns import DATE, TICKER, normalise_columns
from forecast.errors import DataError, DataSourceError

__all__ = ["COMPRESSIONS", "FILE_SUFFIXES", "read_table", "to_panel"]

COMPRESSIONS: tuple[str, ...] = (".gz", ".bz2", ".zip", ".xz")
FILE_SUFFIXES: tuple[str, ...] = (
    ".csv",
    *(f".csv{suffix}" for suffix in COMPRESSIONS),
    ".parquet",
    ".pq",
)
_SEPARATORS = (",", ";", "\t", "|")
_SNIFF_BYTES = 1 << 16
# A number written with a decimal comma: "12,5", "-0,25", "1.234,5" (points group thousands).
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_THOUSANDS_POINT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")


def read_table(
    path: str | os.PathLike[str],
    *,
    encoding: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    ticker_column: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or Parquet file of bars and normalise its column names and dates.

    Parameters
    ----------
    path
        A ``.csv`` file (optionally ``.gz``/``.bz2``/``.zip``/``.xz`` compressed; a header
        row; a ``Date``/``Datetime`` column or an unnamed first column of dates) or a
        ``.parquet``/``.pq`` file (dates as a column or as the index).
    encoding
        Text encoding of a CSV (default UTF-8, with or without a byte-order mark).
    date_format, dayfirst, tz
        How to read the dates (see :func:`forecast.data.timestamps.parse_dates`).
    ticker_column
        The column naming each row's ticker in a long file; by default a column called
        ``ticker``, ``symbol``, ``name`` (any case) is recognised.

    Returns
    -------
    DataFrame
        Canonical columns (``Open, High, Low, Close[, Adj Close, Volume]``), a
        ``DatetimeIndex`` named ``Date``, or a ``(ticker, Date)`` index for a long file;
        not yet validated (see :func:`forecast.validate`).

    Raises
    ------
    DataSourceError
        If the file does not exist or its type is not CSV or Parquet.
    DataError
        If the file cannot be parsed as a table, is not in the encoding given, or its dates
        cannot be read unambiguously.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise DataSourceError(
            f"{str(path)!r} is a folder, not a file; pass a CSV or Parquet file inside it."
        )
    if not path.is_file():
        raise DataSourceError(
            f"file {str(path)!r} does not exist; check the path "
            "(or pass a bundled dataset name such as 'AAPL')."
        )
    name = path.name.lower()
    is_csv = name.endswith(FILE_SUFFIXES[: 1 + len(COMPRESSIONS)])
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise DataError(
                f"encoding={encoding!r} is not a text encoding Python knows; use e.g. "
                "'utf-8', 'latin-1' or 'cp1252'."
            ) from None
    try:
        if is_csv:
            frame = _read_csv(path, encoding)
        elif name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
        else:
            raise DataSourceError(
                f"file {path.name!r} is neither CSV nor Parquet; save it with a .csv "
                "(.csv.gz, .csv.bz2, .csv.zip, .csv.xz) or .parquet suffix."
            )
    except (DataSourceError, DataError):
        raise
    except UnicodeDecodeError as exc:
        raise _not_encoded(path, encoding, exc) from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, pd.errors.ParserError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"could not read {path.name!r} as a table ({first_line}); "
            "check that it is a valid CSV or Parquet file."
        ) from None
    if frame.empty and len(frame.columns) == 0:
        raise DataError(f"file {path.name!r} is empty; it needs a header row and data rows.")
    if is_csv:
        frame = _first_column_as_date_or_row_number(frame)
    return to_panel(
        frame,
        date_format=date_format,
        dayfirst=dayfirst,
        tz=tz,
        ticker_column=ticker_column,
        label=path.name,
    )


def to_panel(
    frame: pd.DataFrame,
    *,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    tz: str | None = None,
    ticker_column: str | None = None,
    label: str = "the data",
) -> pd.DataFrame:
    """Normalise a frame's columns and dates; a long frame with a ticker column → panel.

    Returns one series (``Date`` index) or a panel (``(ticker, Date)`` index, tickers in order
    of first appearance, each ticker's rows in file order).
    """
    if ticker_column is not None:
        if ticker_column not in frame.columns:
            present = ", ".join(map(str, frame.columns))
            raise DataError(
                f"{label} has no column {ticker_column!r} to take tickers from (columns "
                f"present: {present}); pass ticker_column= with one of them."
            )
        frame = frame.rename(columns={ticker_column: TICKER})
    out = normalise_columns(frame, date_format=date_format, dayfirst=dayfirst, tz=tz, label=label)
    if TICKER not in out.columns or isinstance(out.index, pd.MultiIndex):
        return out
    if out[TICKER].isna().any():
        raise DataError(
            f"{label} has rows without a ticker in its {TICKER!r} column; fill or drop them."
        )
    out[TICKER] = out[TICKER].astype(str)
    if not isinstance(out.index, pd.DatetimeIndex):
        return out
    order = pd.unique(out[TICKER])
    parts = {
        ticker: out.loc[out[TICKER].to_numpy() == ticker].drop(columns=TICKER) for ticker in order
    }
    return pd.concat(parts, names=[TICKER, DATE])


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    sample = _head_text(path, encoding)
    separator, decimal, thousands = _sniff(sample)
    return pd.read_csv(
        path,
        sep=separator,
        decimal=decimal,
        thousands=thousands,
        encoding=encoding or "utf-8",  # pandas drops a UTF-8 byte-order mark itself
        compression="infer",
    )


def _head_text(path: Path, encoding: str | None) -> str:
    """The first bytes of the (decompressed) file, decoded; a cut character at the end is ok."""
    name = path.name.lower()
    if name.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    elif name.endswith(".bz2"):
        with bz2.open(path, "rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    elif name.endswith(".xz"):
        with lzma.open(path, "rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            if len(members) != 1:
                raise DataError(
                    f"{path.name!r} holds {len(members)} files; a zipped CSV must hold exactly "
                    "one (unzip it and pass the CSV you mean)."
                )
            with archive.open(members[0]) as handle:
                raw = handle.read(_SNIFF_BYTES)
    else:
        with open(path, "rb") as handle:
            raw = handle.read(_SNIFF_BYTES)
    if b"\x00" in raw and encoding is None:
        return ""  # binary, not text in another encoding: let the CSV reader say it is no table
    decoder = codecs.getincrementaldecoder(encoding or "utf-8-sig")()
    try:
        return decoder.decode(raw, final=False)
    except UnicodeDecodeError as exc:
        raise _not_encoded(path, encoding, exc) from None


def _sniff(sample: str) -> tuple[str, str, str | None]:
    """(separator, decimal mark, thousands mark) from the first lines of a CSV."""
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and not sample.endswith("\n"):
        lines = lines[:-1]  # the last line may be cut mid-way
    if not lines:
        return ",", ".", None
    header = lines[0]
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    consistent = [
        sep
        for sep in _SEPARATORS
        if counts[sep] > 0 and all(line.count(sep) >= counts[sep] for line in lines[1:])
    ]
    separator = max(consistent, key=lambda sep: counts[sep]) if consistent else ","
    if separator == ",":
        return separator, ".", None
    fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(separator)]
    if not any(_DECIMAL_COMMA.match(field) for field in fields):
        return separator, ".", None
    thousands = "." if any(_THOUSANDS_POINT.match(field) for field in fields) else None
    return separator, ",", thousands


def _first_column_as_date_or_row_number(frame: pd.DataFrame) -> pd.DataFrame:
    """An unnamed first column: row numbers (``df.to_csv()``) are dropped, dates become Date."""
    first = frame.columns[0] if len(frame.columns) else None
    if first is None or not str(first).startswith("Unnamed"):
        return frame
    if frame[first].dtype.kind in "iu":
        return frame.drop(columns=first)
    return frame.rename(columns={first: DATE})


def _not_encoded(path: Path, encoding: str | None, exc: UnicodeDecodeError) -> DataError:
    byte = exc.object[exc.start : exc.start + 1].hex() if exc.object else "??"
    if encoding is None:
        return DataError(
            f"{path.name!r} is not UTF-8 (byte 0x{byte} at position {exc.start}); pass "
            "encoding='latin-1' (--encoding latin-1) or the file's own encoding, or save it "
            "as UTF-8."
        )
    return DataError(
        f"{path.name!r} is not valid {encoding} (byte 0x{byte} at position {exc.start}); pass "
        "the file's own encoding (e.g. --encoding cp1252) or save it as UTF-8."
    )
