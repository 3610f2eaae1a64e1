"""The run folder of a universe backtest: each ticker's result on disk the moment it finishes.

Layout of ``out/``::

    manifest.json            the settings (UnitSpec.describe()) and their hash
    tickers/<TICKER>/        one folder per finished ticker, written atomically:
        result.json          status, reason, seconds, peak memory, notes, data hash
        forecasts.parquet    its forecasts, metrics and trading tables (tickers that ran;
        metrics.parquet      Parquet keeps every float's bits)
        trading.parquet

A ticker folder appears whole or not at all (:func:`forecast._atomic.atomic_directory`), so a
run killed at any instant (Ctrl-C, SIGKILL, a dead machine) leaves only complete tickers, and
``resume=True`` continues with the others. Resuming refuses a folder whose manifest hash
differs from the new settings', and a stored ticker whose bars have changed since: results of
different settings or data are never mixed.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from forecast._atomic import TMP_PREFIX, atomic_directory, atomic_write_text
from forecast.errors import ConfigError, DataError
from forecast.universe.unit import TickerOutcome, UnitSpec

__all__ = ["RunStore"]

MANIFEST = "manifest.json"
TICKERS = "tickers"
TABLES: tuple[str, ...] = ("forecasts", "metrics", "trading")


class RunStore:
    """Reads and writes one universe run folder (module docstring)."""

    def __init__(self, folder: str | os.PathLike[str], spec: UnitSpec, *, resume: bool) -> None:
        self.folder = Path(folder).expanduser()
        self.spec = spec
        self.config_hash = spec.config_hash()
        manifest_path = self.folder / MANIFEST
        if manifest_path.is_file():
            stored = json.loads(manifest_path.read_text(encoding="utf-8"))
            if not resume:
                raise ConfigError(
                    f"{str(self.folder)!r} already holds a universe run; pass --resume "
                    "(resume=True) to continue it, or choose a new --out folder."
                )
            if stored.get("config_hash") != self.config_hash:
                raise ConfigError(
                    f"cannot resume {str(self.folder)!r}: it was run with other settings "
                    f"({_differences(stored.get('settings', {}), spec.describe())}); rerun "
                    "with the same settings, or start a new --out folder."
                )
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise ConfigError(
                f"{str(self.folder)!r} exists and is not a universe run folder; choose a new "
                "or empty --out folder."
            )
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(
                manifest_path,
                json.dumps({"config_hash": self.config_hash, "settings": spec.describe()},
                           indent=2, sort_keys=True),
            )
        (self.folder / TICKERS).mkdir(exist_ok=True)
        for stale in (self.folder / TICKERS).glob(f"{TMP_PREFIX}*"):
            # A ticker folder half-written when an earlier run was killed: never read, and
            # the ticker is run again.
            shutil.rmtree(stale, ignore_errors=True)

    def finished(self, data_hashes: dict[str, str]) -> dict[str, TickerOutcome]:
        """The stored outcomes, by ticker; refuses one whose data hash differs from now."""
        out: dict[str, TickerOutcome] = {}
        for path in sorted((self.folder / TICKERS).iterdir()):
            if path.name.startswith(TMP_PREFIX) or not (path / "result.json").is_file():
                continue
            outcome = _read(path)
            current = data_hashes.get(outcome.ticker)
            if current is not None and current != outcome.data_hash:
                raise DataError(
                    f"cannot resume {str(self.folder)!r}: {outcome.ticker}'s bars have changed "
                    "since its result was stored; rerun on the same data, or start a new --out "
                    "folder."
                )
            out[outcome.ticker] = outcome
        return out

    def write(self, outcome: TickerOutcome) -> None:
        """Store one ticker's outcome atomically (whole folder or nothing)."""
        if "/" in outcome.ticker or outcome.ticker in (".", ".."):
            raise DataError(f"ticker {outcome.ticker!r} cannot name a folder; rename it.")
        with atomic_directory(self.folder / TICKERS / outcome.ticker) as tmp:
            record: dict[str, Any] = {
                "ticker": outcome.ticker,
                "status": outcome.status,
                "reason": outcome.reason,
                "seconds": outcome.seconds,
                "peak_mb": None if math.isnan(outcome.peak_mb) else outcome.peak_mb,
                "notes": outcome.notes,
                "n_bars": outcome.n_bars,
                "data_hash": outcome.data_hash,
                "config_hash": self.config_hash,
            }
            for name in TABLES:
                table = getattr(outcome, name)
                if table is not None:
                    table.to_parquet(tmp / f"{name}.parquet", index=False)
            (tmp / "result.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


def _table(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.is_file() else None


def _read(path: Path) -> TickerOutcome:
    record = json.loads((path / "result.json").read_text(encoding="utf-8"))
    return TickerOutcome(
        ticker=record["ticker"],
        status=record["status"],
        reason=record["reason"],
        forecasts=_table(path / "forecasts.parquet"),
        metrics=_table(path / "metrics.parquet"),
        trading=_table(path / "trading.parquet"),
        seconds=float(record["seconds"]),
        peak_mb=math.nan if record["peak_mb"] is None else float(record["peak_mb"]),
        notes=list(record["notes"]),
        n_bars=int(record["n_bars"]),
        data_hash=record["data_hash"],
    )


def _differences(stored: dict[str, Any], current: dict[str, Any], prefix: str = "") -> str:
    changed = []
    for key in sorted(set(stored) | set(current)):
        old, new = stored.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            inner = _differences(old, new, f"{prefix}{key}.")
            if inner:
                changed.append(inner)
        elif old != new:
            changed.append(f"{prefix}{key} {old!r} then, {new!r} now")
    return "; ".join(changed)
