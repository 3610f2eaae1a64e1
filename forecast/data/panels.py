"""One series or a panel: a validated frame indexed by ``Date``, or by ``(ticker, Date)``.

Everything here takes a frame that already passed :func:`forecast.validate` (sorted, unique,
tz-naive dates per ticker) and never looks at values, only at the index: split a panel into
its series, stack per-series windows in time order, the calendar of dates the tickers share,
and the rows between two dates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from forecast.data.columns import DATE

__all__ = ["calendar", "rows_between", "series_parts", "stack_in_time_order"]


def series_parts(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """Split a panel into ``(ticker, frame)`` pairs; a single series is ``[(None, frame)]``."""
    if not isinstance(frame.index, pd.MultiIndex):
        return [(None, frame)]
    return [
        (str(ticker), frame.xs(ticker, level=0))
        for ticker in pd.unique(frame.index.get_level_values(0))
    ]


def stack_in_time_order(
    origins: list[pd.Index], *parts: list[torch.Tensor]
) -> tuple[torch.Tensor, ...]:
    """Concatenate per-ticker windows sorted by origin, so the validation tail is the latest.

    Each of ``parts`` (e.g. inputs ``[N_i, T, F]``, targets, lengths ``[N_i]``) holds one
    tensor per ticker, whose rows belong to the ``N_i`` dates ``origins[i]``; the sort is
    stable, so tickers keep their order on a date. Returns one tensor per entry of ``parts``.
    """
    if len(origins) == 1:
        return tuple(part[0] for part in parts)
    stamps = np.concatenate([np.asarray(index.asi8) for index in origins])
    order = torch.from_numpy(np.argsort(stamps, kind="stable"))
    return tuple(torch.cat(part)[order] for part in parts)


def calendar(frame: pd.DataFrame) -> pd.DatetimeIndex:
    """The sorted union of the dates of every series in ``frame``."""
    if isinstance(frame.index, pd.MultiIndex):
        dates = frame.index.get_level_values(DATE)
        return pd.DatetimeIndex(np.unique(dates.to_numpy()), name=DATE)
    return frame.index


def rows_between(frame: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """The rows of every series dated ``first`` to ``last`` (both included); attrs kept."""
    if isinstance(frame.index, pd.MultiIndex):
        dates = frame.index.get_level_values(DATE)
        out = frame.loc[(dates >= first) & (dates <= last)]
    else:
        out = frame.loc[first:last]
    out.attrs = dict(frame.attrs)
    return out
