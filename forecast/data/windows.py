"""Sliding windows: ``[N, T, F]`` inputs as strided views and per-topology targets.

Legend for shapes: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets; ``L`` rows of the series. Batch-first.

Window ``j`` covers rows ``[j, j+T)``; its *origin* is its last row ``j+T-1``, the moment the
forecast is made. Only windows with H rows after their origin get targets:

============  ===============  ==========================================
topology      ``y`` shape      rows of window ``j``
============  ===============  ==========================================
``n_to_1``    ``[N, 1, K]``    ``j+T`` (the next step)
``n_to_n``    ``[N, T, K]``    ``[j+1, j+T+1)`` (the step after each input)
``n_to_m``    ``[N, H, K]``    ``[j+T, j+T+H)`` (the next H steps)
``1_to_n``    ``[N, H, K]``    ``[j+1, j+1+H)``; ``X`` is ``[N, 1, F]``, bar ``j``
============  ===============  ==========================================

with ``N = L - T - H + 1``. ``1_to_n`` reads the origin bar alone, so it ignores the lookback:
its windows are one row long (T = 1 in every formula, :func:`window_length`), window ``j``'s
origin is row ``j`` and ``N = L - H``. :func:`cut_windows` is the one cutting rule, used by
:func:`make_windows` and by :class:`forecast.Forecaster` alike.

Inputs and targets are views over one contiguous array (``Tensor.unfold``): cutting a
million windows costs no copy and no Python loop. Copies happen only where they must: padding
short windows, and joining the tickers of a panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from forecast.data.columns import OHLC
from forecast.errors import ConfigError, DataError
from forecast.topologies import canonical_topology

__all__ = [
    "Windows",
    "cut_windows",
    "input_windows",
    "make_windows",
    "target_windows",
    "window_length",
]


@dataclass(frozen=True, eq=False, repr=False)
class Windows:
    """Inputs, targets and bookkeeping of the windows cut from one series or a panel.

    Attributes
    ----------
    X : Tensor
        ``[N, T, F]`` float32 inputs (``1_to_n``: ``[N, 1, F]``, the bar at the origin; its
        windows ignore the lookback),
        right-padded with zeros to T when ``pad=True``. Raw column values, not scaled.
    y : Tensor
        float32 targets: ``n_to_1`` ``[N, 1, K]``, ``n_to_n`` ``[N, T, K]``, ``n_to_m`` and
        ``1_to_n`` ``[N, H, K]``.
    origins : DatetimeIndex
        ``[N]`` timestamp of each window's origin (its last input row).
    origin_rows : ndarray
        ``[N]`` int64 position of each origin in the frame (the long frame for a panel).
    lengths : Tensor or None
        ``[N]`` int64 true input lengths when ``pad=True`` (T for full windows, 1 for
        ``1_to_n``), ready for ``torch.nn.utils.rnn.pack_padded_sequence``; else None.
    tickers : ndarray or None
        ``[N]`` ticker of each window for a panel, else None.
    features, targets : tuple of str
        Column names behind the F inputs and the K targets.
    topology : str
        Canonical topology name.
    lookback, horizon : int
        T and H.
    """

    X: torch.Tensor
    y: torch.Tensor
    origins: pd.DatetimeIndex
    origin_rows: np.ndarray
    lengths: torch.Tensor | None
    tickers: np.ndarray | None
    features: tuple[str, ...]
    targets: tuple[str, ...]
    topology: str
    lookback: int
    horizon: int

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __repr__(self) -> str:
        return (
            f"Windows(n_windows={len(self)}, X={list(self.X.shape)}, y={list(self.y.shape)}, "
            f"topology={self.topology!r}, lookback={self.lookback}, horizon={self.horizon}, "
            f"padded={self.lengths is not None}, panel={self.tickers is not None})"
        )


def window_length(topology: str, lookback: int) -> int:
    """Rows in each input window: 1 for ``1_to_n`` (the origin bar alone), else ``lookback``."""
    return 1 if canonical_topology(topology) == "1_to_n" else int(lookback)


def input_windows(values: np.ndarray | torch.Tensor, lookback: int) -> torch.Tensor:
    """Every window of ``lookback`` consecutive rows, as a strided view (no copy).

    Parameters
    ----------
    values
        ``[L, F]`` array or tensor. A float32 tensor or a writable C-contiguous float32 array
        is used in place; anything else is converted to float32 once.
    lookback
        T, rows per window.

    Returns
    -------
    Tensor
        ``[L-T+1, T, F]`` float32 view: window ``j`` is rows ``[j, j+T)`` and its origin is
        row ``j+T-1``. It shares memory with ``values``; writing to one changes the other.

    Raises
    ------
    ConfigError
        If ``lookback`` is not a positive integer.
    DataError
        If ``values`` is not 2-D or has fewer than T rows.
    """
    _check_positive_int("lookback", lookback)
    base = _as_float32_tensor(values)
    if base.shape[0] < lookback:
        raise DataError(
            f"the values have {base.shape[0]} rows, fewer than lookback={lookback}; "
            "use a shorter lookback or a longer series."
        )
    return base.unfold(0, lookback, 1).permute(0, 2, 1)  # [L-T+1, T, F]


def target_windows(
    values: np.ndarray | torch.Tensor, lookback: int, horizon: int, topology: str
) -> torch.Tensor:
    """Targets of the ``N = L-T-H+1`` windows that have H rows after their origin (views).

    Parameters
    ----------
    values
        ``[L, K]`` target columns, aligned row for row with the inputs.
    lookback, horizon
        T and H.
    topology
        ``n_to_1``, ``n_to_n``, ``n_to_m``, ``1_to_n`` or an alias.

    Returns
    -------
    Tensor
        float32 view: ``n_to_1`` ``[N, 1, K]`` (row ``j+T``), ``n_to_n`` ``[N, T, K]`` (rows
        ``[j+1, j+T+1)``), ``n_to_m`` / ``1_to_n`` ``[N, H, K]`` (rows ``[j+T, j+T+H)``).
        Window ``j`` here is window ``j`` of :func:`input_windows`.

    Raises
    ------
    ConfigError
        If T or H is not a positive integer, or the topology is unknown.
    DataError
        If ``values`` has fewer than T + H rows.
    """
    topology = canonical_topology(topology)
    _check_positive_int("lookback", lookback)
    _check_positive_int("horizon", horizon)
    base = _as_float32_tensor(values)
    n_windows = base.shape[0] - lookback - horizon + 1
    if n_windows < 1:
        raise DataError(
            f"the values have {base.shape[0]} rows but lookback={lookback} + "
            f"horizon={horizon} needs at least {lookback + horizon}; use a shorter lookback "
            "or horizon, or a longer series."
        )
    if topology == "n_to_1":
        return base[lookback : lookback + n_windows].unsqueeze(1)  # [N, 1, K]
    if topology == "n_to_n":
        return base[1:].unfold(0, lookback, 1)[:n_windows].permute(0, 2, 1)  # [N, T, K]
    return base[lookback:].unfold(0, horizon, 1)[:n_windows].permute(0, 2, 1)  # [N, H, K]


def make_windows(
    frame: pd.DataFrame,
    *,
    lookback: int,
    horizon: int,
    topology: str = "n_to_m",
    features: Sequence[str] | None = None,
    target: str | Sequence[str] = "Close",
    pad: bool = False,
    min_lookback: int = 1,
) -> Windows:
    """Cut a series or a panel into input windows and per-topology targets.

    Values are windowed raw (float32 copies of the columns); nothing is transformed or
    scaled here. A panel is cut ticker by ticker and joined, so no window ever spans two
    tickers.

    Parameters
    ----------
    frame
        One series (``DatetimeIndex``) or a panel (index ``(ticker, Date)``, each ticker's
        rows contiguous), validated (see :func:`forecast.validate`).
    lookback
        T, input rows per window.
    horizon
        H, rows each window needs after its origin (and the target length for ``n_to_m``
        and ``1_to_n``).
    topology
        ``n_to_m`` (default), ``n_to_1``, ``n_to_n``, ``1_to_n`` or an alias.
    features
        The F input columns; default the OHLC columns present, else the target columns.
    target
        The K target column(s); default ``"Close"``.
    pad
        Also cut windows for origins with fewer than T rows before them (at least
        ``min_lookback``), right-padded with zeros to T; ``lengths`` holds their true
        lengths. Lets a series shorter than the lookback be used.
    min_lookback
        With ``pad=True``, the fewest input rows a window may have.

    Returns
    -------
    Windows
        ``X [N, T, F]``, ``y`` per topology, origins, origin rows, lengths, tickers. For one
        series with ``pad=False``, ``X`` and ``y`` are views over one array each.

    Raises
    ------
    ConfigError
        If lookback, horizon or min_lookback is not a positive integer, min_lookback exceeds
        the lookback, or the topology is unknown.
    DataError
        If a column is missing or holds NaN/inf, the index is not dates, or a series (a
        ticker) has too few rows; each message says how to fix it.

    Examples
    --------
    >>> import forecast as fc
    >>> windows = make_windows(fc.load("AAPL"), lookback=60, horizon=5)
    >>> windows.X.shape, windows.y.shape
    (torch.Size([1195, 60, 4]), torch.Size([1195, 5, 1]))
    """
    topology = canonical_topology(topology)
    _check_sizes(lookback, horizon, pad, min_lookback)
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"make_windows expects a pandas DataFrame, got {type(frame).__name__}; "
            "pass series.to_frame('Close') for a single column."
        )
    targets = _names(target)
    inputs = _names(features) if features is not None else _default_features(frame, targets)
    dates, segments = _segments(frame)
    x_values = _column_values(frame, inputs)  # [L, F]
    y_values = _column_values(frame, targets)  # [L, K]
    parts = []
    for label, start, stop in segments:
        X, y, rows, lengths = cut_windows(
            x_values[start:stop], y_values[start:stop],
            lookback=lookback, horizon=horizon, topology=topology,
            pad=pad, min_lookback=min_lookback, label=label,
        )
        parts.append((X, y, rows + start, lengths))
    X, y, origin_rows, lengths = _join(parts)
    tickers = None
    if isinstance(frame.index, pd.MultiIndex):
        tickers = np.asarray(frame.index.get_level_values(0))[origin_rows]
    return Windows(
        X=X,
        y=y,
        origins=pd.DatetimeIndex(dates[origin_rows]),
        origin_rows=origin_rows,
        lengths=lengths if pad else None,
        tickers=tickers,
        features=inputs,
        targets=targets,
        topology=topology,
        lookback=lookback,
        horizon=horizon,
    )


# -- cutting ---------------------------------------------------------------------------------

_Part = tuple[torch.Tensor, torch.Tensor, np.ndarray, torch.Tensor]


def cut_windows(
    x_values: torch.Tensor,
    y_values: torch.Tensor,
    *,
    lookback: int,
    horizon: int,
    topology: str,
    train_target: str | None = None,
    pad: bool = False,
    min_lookback: int = 1,
    label: str = "the series",
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, torch.Tensor]:
    """Every window of one series that has H rows after its origin: the one cutting rule.

    Parameters
    ----------
    x_values, y_values
        ``[L, F]`` inputs and ``[L, K]`` targets of one series (no ticker boundary inside),
        float32, row for row.
    lookback, horizon, topology
        T, H and the topology (``1_to_n`` windows are one row long: :func:`window_length`).
    train_target
        The topology whose target layout ``y`` takes (default ``topology``): a direct
        ``n_to_1`` model learns all H steps, the ``n_to_m`` layout.
    pad, min_lookback
        Also cut right-padded windows for origins with ``min_lookback``..T-1 rows of history.
    label
        How an error names the series (e.g. "ticker 'AAPL'").

    Returns
    -------
    X, y, origin_rows, lengths
        ``[N, T, F]`` inputs, ``y`` in ``train_target``'s layout, ``[N]`` origin rows (in
        ``0..L-1``, increasing) and ``[N]`` true input lengths (T for full windows).
        Without padding ``X`` and ``y`` are views of the inputs.

    Raises
    ------
    DataError
        The series has too few rows for one window.
    """
    topology = canonical_topology(topology)
    train_target = topology if train_target is None else canonical_topology(train_target)
    lookback = window_length(topology, lookback)
    min_lookback = min(min_lookback, lookback)
    n_rows = x_values.shape[0]
    if topology == "1_to_n":  # one-row windows: only the horizon can be too long
        _check_length(n_rows, label, 1, horizon, False, 1, window="the origin bar (1_to_n)")
    else:
        _check_length(n_rows, label, lookback, horizon, pad, min_lookback)
    n_full = max(0, n_rows - lookback - horizon + 1)
    pieces: list[_Part] = []
    if pad:
        last_short = min(lookback - 2, n_rows - horizon - 1)  # last origin with < T rows
        short_origins = np.arange(min_lookback - 1, last_short + 1, dtype=np.int64)
        if len(short_origins):
            pieces.append(
                _short_windows(x_values, y_values, short_origins, lookback, horizon, train_target)
            )
    if n_full:
        pieces.append(_full_windows(x_values, y_values, lookback, horizon, train_target))
    return _join(pieces)


def _full_windows(
    xs: torch.Tensor, ys: torch.Tensor, lookback: int, horizon: int, train_target: str
) -> _Part:
    y = target_windows(ys, lookback, horizon, train_target)
    n_windows = y.shape[0]
    X = input_windows(xs, lookback)[:n_windows]  # [N, T, F]; T = 1 for 1_to_n
    origins = np.arange(lookback - 1, lookback - 1 + n_windows, dtype=np.int64)
    lengths = torch.full((n_windows,), X.shape[1], dtype=torch.int64)
    return X, y, origins, lengths


def _short_windows(
    xs: torch.Tensor,
    ys: torch.Tensor,
    origins: np.ndarray,
    lookback: int,
    horizon: int,
    train_target: str,
) -> _Part:
    """Windows whose origin has fewer than T rows before it: rows ``[0, o]``, zero-padded."""
    index = torch.from_numpy(origins)
    lengths = index + 1
    X = _padded_prefixes(xs, lengths, lookback)  # [N, T, F]
    topology = train_target
    if topology == "n_to_1":
        y = ys[index + 1].unsqueeze(1)  # [N, 1, K]
    elif topology == "n_to_n":
        y = _padded_prefixes(ys[1:], index + 1, lookback)  # [N, T, K]
    else:
        y = ys.unfold(0, horizon, 1)[index + 1].permute(0, 2, 1)  # [N, H, K]
    return X, y, origins, lengths


def _padded_prefixes(values: torch.Tensor, lengths: torch.Tensor, width: int) -> torch.Tensor:
    """``[N, width, C]``: window n is ``values[:lengths[n]]`` followed by zeros."""
    head = torch.zeros((width, values.shape[1]), dtype=values.dtype)
    available = min(width, values.shape[0])
    head[:available] = values[:available]
    keep = torch.arange(width)[None, :] < lengths[:, None]  # [N, width]
    return torch.where(keep[..., None], head[None], torch.zeros((), dtype=values.dtype))


def _join(parts: list[_Part]) -> _Part:
    # One part is returned as is, so a single unpadded series keeps its views.
    if len(parts) == 1:
        return parts[0]
    X = torch.cat([part[0] for part in parts])
    y = torch.cat([part[1] for part in parts])
    origins = np.concatenate([part[2] for part in parts])
    lengths = torch.cat([part[3] for part in parts])
    return X, y, origins, lengths


# -- frame access and checks -----------------------------------------------------------------


def _segments(frame: pd.DataFrame) -> tuple[pd.DatetimeIndex, list[tuple[str, int, int]]]:
    """The frame's dates and ``(label, start, stop)`` row ranges, one per ticker."""
    index = frame.index
    if not isinstance(index, pd.MultiIndex):
        _check_dates(index)
        return index, [("the series", 0, len(frame))]
    if index.nlevels != 2:
        raise DataError(
            f"the panel has a {index.nlevels}-level index; make_windows needs exactly two "
            "levels (ticker, Date), as forecast.load returns."
        )
    dates = index.get_level_values(1)
    _check_dates(dates)
    codes, tickers = pd.factorize(index.get_level_values(0))
    bounds = [0, *(np.flatnonzero(np.diff(codes) != 0) + 1).tolist(), len(frame)]
    if len(bounds) - 1 != len(tickers):
        raise DataError(
            "the panel's rows of one ticker are not contiguous; sort it with "
            "frame.sort_index(level=[0, 1]) so each ticker's dates are together."
        )
    labels = [f"ticker {tickers[codes[lo]]!r}" for lo in bounds[:-1]]
    return dates, list(zip(labels, bounds[:-1], bounds[1:], strict=True))


def _column_values(frame: pd.DataFrame, names: tuple[str, ...]) -> torch.Tensor:
    """``[L, len(names)]`` float32 tensor over one fresh C-contiguous array."""
    missing = [name for name in names if name not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns)) or "none"
        raise DataError(
            f"the frame has no column {missing[0]!r} (columns present: {present}); "
            f"rename a column to {missing[0]!r} or choose other features/target."
        )
    repeated = [name for name in names if int((frame.columns == name).sum()) > 1]
    if repeated:
        raise DataError(
            f"the frame has {int((frame.columns == repeated[0]).sum())} columns named "
            f"{repeated[0]!r}; keep one of them (e.g. frame.loc[:, ~frame.columns.duplicated()])."
        )
    try:
        values = frame.loc[:, list(names)].to_numpy(dtype=np.float32)
    except (TypeError, ValueError):
        raise DataError(
            f"the columns {', '.join(map(repr, names))} do not all hold numbers; "
            "run forecast.validate(frame) (or load the data with forecast.load) first."
        ) from None
    _check_finite(values, names, frame.index)
    return _as_float32_tensor(values)


def _check_finite(values: np.ndarray, names: tuple[str, ...], index: pd.Index) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = np.argwhere(bad)[0]
        n_rows = int(bad.any(axis=1).sum())
        raise DataError(
            f"column {names[column]!r} holds NaN or inf in {n_rows} row(s), first at "
            f"{index[row]}; run forecast.validate(frame) (or load the data with "
            "forecast.load) first."
        )


def _check_dates(dates: pd.Index) -> None:
    if not isinstance(dates, pd.DatetimeIndex):
        raise DataError(
            f"the frame is indexed by {dates.dtype} values, not dates; set a DatetimeIndex "
            "(forecast.load and forecast.validate do)."
        )


def _check_length(
    n_rows: int,
    label: str,
    lookback: int,
    horizon: int,
    pad: bool,
    min_lookback: int,
    window: str | None = None,
) -> None:
    if pad and n_rows < min_lookback + horizon:
        raise DataError(
            f"{label} has {n_rows} rows but min_lookback={min_lookback} + horizon={horizon} "
            f"needs at least {min_lookback + horizon}; use a shorter horizon or longer "
            "history."
        )
    if not pad and n_rows < lookback + horizon:
        if window is not None:
            raise DataError(
                f"{label} has {n_rows} rows but {window} + horizon={horizon} needs at least "
                f"{lookback + horizon}; use a shorter horizon or longer history."
            )
        raise DataError(
            f"{label} has {n_rows} rows but lookback={lookback} + horizon={horizon} needs at "
            f"least {lookback + horizon}; use a shorter lookback, or pad=True."
        )


def _check_sizes(lookback: int, horizon: int, pad: bool, min_lookback: int) -> None:
    _check_positive_int("lookback", lookback)
    _check_positive_int("horizon", horizon)
    _check_positive_int("min_lookback", min_lookback)
    if pad and min_lookback > lookback:
        raise ConfigError(
            f"min_lookback={min_lookback} is larger than lookback={lookback}; "
            "choose min_lookback <= lookback."
        )


def _check_positive_int(option: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{option}={value!r} is not valid; pass a positive integer.")


def _names(columns: str | Sequence[str]) -> tuple[str, ...]:
    names = (columns,) if isinstance(columns, str) else tuple(columns)
    if not names:
        raise ConfigError("no columns were given; name at least one feature and one target.")
    return names


def _default_features(frame: pd.DataFrame, targets: tuple[str, ...]) -> tuple[str, ...]:
    present = tuple(column for column in OHLC if column in frame.columns)
    return present or targets


def _as_float32_tensor(values: np.ndarray | torch.Tensor) -> torch.Tensor:
    """``[L, C]`` float32 tensor, sharing memory with ``values`` whenever it can."""
    if isinstance(values, torch.Tensor):
        tensor = values if values.dtype == torch.float32 else values.to(torch.float32)
    else:
        array = np.ascontiguousarray(values, dtype=np.float32)
        if not array.flags.writeable:  # torch.from_numpy needs a writable base
            array = array.copy()
        tensor = torch.from_numpy(array)
    if tensor.ndim != 2:
        raise DataError(
            f"expected values shaped [L, C], got shape {tuple(tensor.shape)}; "
            "pass a 2-D array (one column as values.reshape(-1, 1))."
        )
    return tensor
