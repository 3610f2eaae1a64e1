"""Validation of bar frames: every rule the rest of the package relies on, in one place.

``validate`` is called by ``load`` and again by every estimator before it fits or predicts,
so the rules below hold everywhere downstream:

- a strictly increasing ``DatetimeIndex`` (unsorted or duplicated dates are errors), naive
  or aware: a time zone is kept as it came;
- the requested columns exist and are numeric;
- NaN and +/-inf are handled by an explicit ``nan_policy``: ``"drop"`` (default) removes the
  rows, ``"ffill"`` carries the last valid value forward, ``"error"`` refuses; whatever was
  changed is reported in a :class:`~forecast.errors.DataWarning` naming the dates;
- bars obey High >= max(Open, Close) and Low <= min(Open, Close) when all four are present;
  ``bad_bars`` chooses ``"repair"`` (default: widen High/Low to cover the body, reported),
  ``"drop"``, ``"error"`` or ``"ignore"``;
- prices are strictly positive when a log or return transform needs them;
- with ``require_moves`` (``load``, ``fit`` and ``backtest`` ask for it; a short window to
  predict from may legitimately be flat), no price column is constant: a series that never
  moves cannot be scored, as every score is measured against the naive forecast's error,
  which is zero;
- a gap in the dates much longer than the usual step (over :data:`GAP_STEPS` typical steps
  and over a week) is reported in a :class:`~forecast.errors.DataWarning` naming its dates,
  since a forecast across it treats months as one step;
- the series is at least ``min_length`` rows long (lookback + horizon).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from forecast.data.columns import DATE, OHLC, PRICE_COLUMNS, TICKER, set_date_index
from forecast.errors import DataError, DataWarning
from forecast.settings import NAN_POLICIES

__all__ = ["BAD_BAR_POLICIES", "GAP_STEPS", "NAN_POLICIES", "validate"]

NanPolicy = Literal["drop", "ffill", "error"]
BadBarPolicy = Literal["repair", "drop", "error", "ignore"]
BAD_BAR_POLICIES: tuple[str, ...] = ("repair", "drop", "error", "ignore")
# float32 holds up to ~3.4e38; prices anywhere near that are corrupt data, not prices.
MAX_ABS_VALUE = 1e15
# A gap longer than this many typical steps (and than MIN_GAP) is reported: daily bars skip
# at most a long weekend plus a holiday or two (about 5 days), a disaster closure about a week.
GAP_STEPS = 10
MIN_GAP = pd.Timedelta(days=7)


def validate(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str] = ("Close",),
    nan_policy: NanPolicy = "drop",
    bad_bars: BadBarPolicy = "repair",
    require_positive: bool = False,
    require_moves: bool = False,
    min_length: int | None = None,
    name: str | None = None,
) -> pd.DataFrame:
    """Check and clean a bar frame (or a panel) so that windows can be cut from it.

    Parameters
    ----------
    frame
        One series (``DatetimeIndex``) or a panel (index ``(ticker, Date)``).
    columns
        Columns that must be present, numeric and finite (e.g. the features and target).
        When all of Open/High/Low/Close are present the bar rules are checked too.
    nan_policy
        ``"drop"``, ``"ffill"`` or ``"error"`` for NaN/inf in ``columns``.
    bad_bars
        ``"repair"``, ``"drop"``, ``"error"`` or ``"ignore"`` for bars whose High/Low do not
        cover Open and Close.
    require_positive
        Refuse zero or negative prices (needed for log and simple returns).
    require_moves
        Refuse a price column (Open/High/Low/Close/Adj Close) that is constant.
    min_length
        Minimum number of rows left after cleaning, per ticker (lookback + horizon).
    name
        What to call the data in messages (a dataset name, file or ticker).

    Returns
    -------
    DataFrame
        A cleaned copy; the input is never modified. ``result.attrs["validation"]`` lists
        what was changed, in the same words as the warnings.

    Raises
    ------
    DataError
        One sentence naming the problem and the fix.
    """
    _check_policy("nan_policy", nan_policy, NAN_POLICIES)
    _check_policy("bad_bars", bad_bars, BAD_BAR_POLICIES)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame of bars, got {type(frame).__name__}; "
            "load data with forecast.load(...) or build a DataFrame with a DatetimeIndex."
        )
    label = name or frame.attrs.get("name") or "the data"
    if isinstance(frame.index, pd.MultiIndex):
        return _validate_panel(
            frame,
            columns=columns,
            nan_policy=nan_policy,
            bad_bars=bad_bars,
            require_positive=require_positive,
            require_moves=require_moves,
            min_length=min_length,
            label=label,
        )
    notes: list[str] = []
    out = _validate_series(
        frame,
        columns=list(columns),
        nan_policy=nan_policy,
        bad_bars=bad_bars,
        require_positive=require_positive,
        require_moves=require_moves,
        min_length=min_length,
        label=label,
        notes=notes,
    )
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=2)
    out.attrs = {**frame.attrs, "validation": notes}
    return out


def _check_policy(option: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(
            f"{option}={value!r} is not a policy; use one of {', '.join(map(repr, allowed))}."
        )


def _validate_panel(frame: pd.DataFrame, *, label: str, **options: object) -> pd.DataFrame:
    if frame.index.nlevels != 2:
        raise DataError(
            f"{label} has a {frame.index.nlevels}-level index; a panel needs exactly two "
            f"levels ({TICKER!r}, {DATE!r})."
        )
    notes: list[str] = []
    parts: dict[str, pd.DataFrame] = {}
    tickers = frame.index.get_level_values(0)
    for ticker in pd.unique(tickers):
        part = frame.xs(ticker, level=0)
        parts[str(ticker)] = _validate_series(
            part,
            label=f"{label} [{ticker}]",
            notes=notes,
            **options,  # type: ignore[arg-type]
        )
    for note in notes:
        warnings.warn(note, DataWarning, stacklevel=3)
    out = pd.concat(parts, names=[TICKER, DATE])
    out.attrs = {**frame.attrs, "validation": notes}
    return out


def _validate_series(
    frame: pd.DataFrame,
    *,
    columns: list[str],
    nan_policy: str,
    bad_bars: str,
    require_positive: bool,
    require_moves: bool,
    min_length: int | None,
    label: str,
    notes: list[str],
) -> pd.DataFrame:
    if len(frame.index) == 0:
        raise DataError(f"{label} has no rows; load a non-empty series of bars.")
    out = _date_indexed(frame, label)
    if isinstance(out.columns, pd.MultiIndex):
        raise DataError(
            f"{label} has {out.columns.nlevels}-level column labels; flatten them to one "
            "level (Open, High, Low, Close, ...), e.g. frame.columns = "
            "frame.columns.get_level_values(0)."
        )
    missing = [column for column in columns if column not in out.columns]
    if missing and missing[0] in OHLC and "Close" in out.columns:
        present = ", ".join(map(str, out.columns))
        raise DataError(
            f"{label} has no column {missing[0]!r} (columns present: {present}), so the "
            "open/high/low features cannot be built; use the close-only features "
            "(features=['Close'], --features Close) or load a file with all of Open, High, "
            "Low and Close."
        )
    if missing:
        present = ", ".join(map(str, out.columns)) or "none"
        raise DataError(
            f"{label} has no column {missing[0]!r} (columns present: {present}); "
            f"rename a column to {missing[0]!r} or choose other features/target."
        )
    check_bars = all(column in out.columns for column in OHLC)
    used = list(dict.fromkeys([*columns, *(OHLC if check_bars else ())]))
    repeated = [column for column in used if int((out.columns == column).sum()) > 1]
    if repeated:
        raise DataError(
            f"{label} has {int((out.columns == repeated[0]).sum())} columns named "
            f"{repeated[0]!r}; keep one of them (e.g. frame.loc[:, ~frame.columns.duplicated()])."
        )
    out = out.copy()
    for column in used:
        out[column] = _numeric(out[column], column, label)
    _check_order(out.index, label)
    _check_magnitude(out, used, label)
    out = _apply_nan_policy(out, used, nan_policy, label, notes)
    if check_bars:
        out = _apply_bar_rules(out, bad_bars, label, notes)
    if len(out) == 0:
        raise DataError(
            f"{label} has no rows left after cleaning: every row had NaN/inf in "
            f"{', '.join(map(repr, used))} or a broken bar; clean the data or choose other "
            "columns."
        )
    if require_positive:
        _check_positive(out, used, label)
    if require_moves:
        _check_moves(out, used, label)
    _note_gaps(out.index, label, notes)
    if min_length is not None and len(out) < min_length:
        raise DataError(
            f"{label} has {len(out)} usable rows but at least {min_length} are needed "
            "(lookback + horizon); use a shorter lookback or horizon, or longer history."
        )
    return out


def _date_indexed(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    out = set_date_index(frame) if not isinstance(frame.index, pd.DatetimeIndex) else frame
    if not isinstance(out.index, pd.DatetimeIndex):
        raise DataError(
            f"{label} is not indexed by dates (index of {out.index.dtype} values); "
            f"set a DatetimeIndex or provide a {DATE!r} column."
        )
    if out.index.hasnans:
        raise DataError(f"{label} has missing dates in its index; remove those rows.")
    return out


def _numeric(series: pd.Series, column: str, label: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"column {column!r} of {label} holds booleans; it must hold numbers.")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        where = series.index[bad.to_numpy()][0]
        raise DataError(
            f"column {column!r} of {label} holds non-numeric values such as "
            f"{series[bad].iloc[0]!r} (at {_stamp(where)}); clean or remove those rows."
        )
    return converted.astype("float64")


def _check_order(index: pd.DatetimeIndex, label: str) -> None:
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        count = int(index.duplicated().sum())
        raise DataError(
            f"{label} has {count} duplicated timestamp(s), first {_stamp(first)}; "
            "keep one row per date (e.g. frame[~frame.index.duplicated()])."
        )
    if not index.is_monotonic_increasing:
        position = int(np.argmax(np.diff(index.asi8) < 0)) + 1
        raise DataError(
            f"{label} is not sorted by date ({_stamp(index[position])} comes after "
            f"{_stamp(index[position - 1])}); sort it with frame.sort_index()."
        )


def _check_magnitude(frame: pd.DataFrame, columns: list[str], label: str) -> None:
    values = frame[columns].to_numpy(dtype="float64")
    huge = np.isfinite(values) & (np.abs(values) > MAX_ABS_VALUE)
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise DataError(
            f"column {columns[col]!r} of {label} holds {values[row, col]:.3g} at "
            f"{_stamp(frame.index[row])}, beyond any real price (limit {MAX_ABS_VALUE:.0e}); "
            "fix or remove that row."
        )


def _apply_nan_policy(
    frame: pd.DataFrame, columns: list[str], policy: str, label: str, notes: list[str]
) -> pd.DataFrame:
    values = frame[columns]
    bad = ~np.isfinite(values.to_numpy(dtype="float64"))
    if not bad.any():
        return frame
    bad_rows = bad.any(axis=1)
    n_bad = int(bad_rows.sum())
    n_inf = int(np.isinf(values.to_numpy(dtype="float64")).sum())
    dates = _dates_list(frame.index[bad_rows])
    kind = "NaN/inf" if n_inf else "NaN"
    if policy == "error":
        raise DataError(
            f"{label} has {kind} values in {n_bad} row(s) ({dates}); "
            "pass nan_policy='drop' or 'ffill', or clean the data."
        )
    frame = frame.copy()
    frame[columns] = values.replace([np.inf, -np.inf], np.nan)
    if policy == "drop":
        notes.append(f"{label}: dropped {n_bad} row(s) with {kind} values ({dates}).")
        return frame.loc[~bad_rows]
    frame[columns] = frame[columns].ffill()
    leading = frame[columns].isna().any(axis=1).to_numpy()
    notes.append(
        f"{label}: forward-filled {kind} values in {n_bad} row(s) ({dates})"
        + (
            f" and dropped {int(leading.sum())} leading row(s) with nothing to fill from."
            if leading.any()
            else "."
        )
    )
    return frame.loc[~leading]


def _apply_bar_rules(
    frame: pd.DataFrame, policy: str, label: str, notes: list[str]
) -> pd.DataFrame:
    if policy == "ignore":
        return frame
    body_top = frame[["Open", "Close"]].max(axis=1)
    body_bottom = frame[["Open", "Close"]].min(axis=1)
    broken = (frame["High"] < body_top) | (frame["Low"] > body_bottom)
    if not broken.any():
        return frame
    dates = _dates_list(frame.index[broken.to_numpy()])
    count = int(broken.sum())
    if policy == "error":
        raise DataError(
            f"{label} has {count} bar(s) whose High/Low do not cover Open and Close ({dates}); "
            "pass bad_bars='repair' or 'drop', or fix those rows."
        )
    if policy == "drop":
        notes.append(
            f"{label}: dropped {count} bar(s) whose High/Low did not cover Open/Close ({dates})."
        )
        return frame.loc[~broken]
    frame = frame.copy()
    frame["High"] = np.maximum(frame["High"], body_top)
    frame["Low"] = np.minimum(frame["Low"], body_bottom)
    notes.append(f"{label}: widened High/Low of {count} bar(s) to cover Open/Close ({dates}).")
    return frame


def _check_positive(frame: pd.DataFrame, columns: list[str], label: str) -> None:
    values = frame[columns].to_numpy(dtype="float64")
    bad = values <= 0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"column {columns[col]!r} of {label} holds a non-positive price "
            f"({values[row, col]:g} at {_stamp(frame.index[row])}), which returns cannot use; "
            "choose representation='levels' or remove those rows."
        )


def _check_moves(frame: pd.DataFrame, columns: list[str], label: str) -> None:
    """Refuse a price column that never changes: no error of it can be scored."""
    if len(frame) < 2:
        return
    for column in columns:
        if column not in PRICE_COLUMNS:
            continue
        values = frame[column].to_numpy(dtype="float64")
        if np.all(values == values[0]):
            raise DataError(
                f"column {column!r} of {label} is constant ({values[0]:g} on all {len(values)} "
                "rows), so it cannot be scored: every score is measured against the naive "
                "forecast's error, which is zero; load a series whose prices move."
            )


def _note_gaps(index: pd.DatetimeIndex, label: str, notes: list[str]) -> None:
    """Report gaps over GAP_STEPS typical steps and over MIN_GAP, with their dates."""
    if len(index) < 3:
        return
    gaps = pd.Series(index[1:] - index[:-1])
    typical = gaps.median()
    long = np.flatnonzero((gaps > GAP_STEPS * typical).to_numpy() & (gaps > MIN_GAP).to_numpy())
    if len(long) == 0:
        return
    shown = ", ".join(
        f"{_stamp(index[i])} to {_stamp(index[i + 1])} ({_span(gaps[i])})" for i in long[:3]
    )
    more = f" and {len(long) - 3} more" if len(long) > 3 else ""
    notes.append(
        f"{label}: {len(long)} gap(s) in the dates over {GAP_STEPS} times the usual step "
        f"({_span(typical)}): {shown}{more}; models step across a gap as if it were one bar, "
        "so load the part after it (start=) or fill it if that is not what you want."
    )


def _span(delta: pd.Timedelta) -> str:
    days = delta / pd.Timedelta(days=1)
    if days >= 1:
        return f"{days:.0f} day" + ("s" if round(days) != 1 else "")
    hours = delta / pd.Timedelta(hours=1)
    return f"{hours:.0f} hour" + ("s" if round(hours) != 1 else "") if hours >= 1 else str(delta)


def _stamp(value: object) -> str:
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else str(stamp)


def _dates_list(index: pd.Index, limit: int = 3) -> str:
    shown = ", ".join(_stamp(value) for value in index[:limit])
    return shown + (f" and {len(index) - limit} more" if len(index) > limit else "")
