"""Read OHLCV tables from CSV or Parquet files into the canonical frame."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from forecast.data.columns import normalise_columns
from forecast.errors import DataError, DataSourceError

__all__ = ["FILE_SUFFIXES", "read_table"]

FILE_SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq")


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV or Parquet file of bars and normalise its column names and dates.

    Parameters
    ----------
    path
        A ``.csv`` file (a header row; a ``Date``/``Datetime`` column or an unnamed first
        column of dates) or a ``.parquet``/``.pq`` file (dates as a column or as the index).

    Returns
    -------
    DataFrame
        Canonical columns (``Open, High, Low, Close[, Adj Close, Volume]``), a
        ``DatetimeIndex`` named ``Date``; not yet validated (see :func:`forecast.validate`).

    Raises
    ------
    DataSourceError
        If the file does not exist or its type is not CSV or Parquet.
    DataError
        If the file cannot be parsed as a table.
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
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
            first = frame.columns[0] if len(frame.columns) else None
            if first is not None and str(first).startswith("Unnamed"):
                frame = frame.rename(columns={first: "Date"})
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            raise DataSourceError(
                f"file {path.name!r} is neither CSV nor Parquet; "
                "save it with a .csv or .parquet suffix."
            )
    except DataSourceError:
        raise
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"could not read {path.name!r} as a table ({first_line}); "
            "check that it is a valid CSV or Parquet file."
        ) from None
    if frame.empty and len(frame.columns) == 0:
        raise DataError(f"file {path.name!r} is empty; it needs a header row and data rows.")
    return normalise_columns(frame)
