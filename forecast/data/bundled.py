"""The real OHLCV samples shipped with the package (see ``datasets/PROVENANCE.md``).

In a wheel they live in ``forecast/_datasets``; in a source checkout they are read from the
top-level ``datasets/`` folder.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecast.errors import DataSourceError
from forecast.settings import DEFAULT_DATASET

__all__ = ["DEFAULT_DATASET", "bundled_path", "datasets", "datasets_dir"]


def datasets_dir() -> Path:
    """Folder holding the bundled CSV files (wheel install or source checkout)."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_datasets", package.parent / "datasets"):
        if candidate.is_dir() and any(candidate.glob("*.csv")):
            return candidate
    raise DataSourceError(
        "the bundled datasets are missing from this installation; reinstall the package "
        "with 'pip install .' from a full checkout."
    )


def datasets() -> list[str]:
    """Names of the bundled datasets, sorted (``["AAPL", "AMZN", ...]``)."""
    return sorted(path.stem for path in datasets_dir().glob("*.csv"))


def bundled_path(name: str) -> Path:
    """Path of bundled dataset ``name`` (case-insensitive).

    Raises
    ------
    DataSourceError
        If no bundled dataset has that name; the message lists the names there are.
    """
    wanted = name.strip().upper()
    for stem in datasets():
        if stem.upper() == wanted:
            return datasets_dir() / f"{stem}.csv"
    raise DataSourceError(
        f"no bundled dataset named {name!r}; choose one of {', '.join(datasets())} "
        "(see 'forecast data list')."
    )


def describe_datasets() -> pd.DataFrame:
    """One row per bundled dataset: name, first and last date, rows."""
    rows = []
    for name in datasets():
        frame = pd.read_csv(datasets_dir() / f"{name}.csv", usecols=["Date"])
        rows.append(
            {
                "name": name,
                "start": frame["Date"].iloc[0],
                "end": frame["Date"].iloc[-1],
                "rows": len(frame),
            }
        )
    return pd.DataFrame(rows)
