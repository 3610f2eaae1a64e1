"""Frames shaped exactly like yfinance 1.x output, and a stand-in for ``yfinance.download``.

``history`` builds what ``Ticker.history(auto_adjust=True, actions=False)`` returns for one
ticker; ``download_frame`` combines several the way ``yfinance/multi.py`` does (the same
concat, reindex, swaplevel and sort), so the tests feed ``fetch`` the real shapes:
``(Price, Ticker)`` column levels sorted by price name, a union index with all-NaN rows for
a ticker on days only the others traded, Volume turned float by those NaN, and for an
unknown ticker yfinance's ``empty_df`` (with its stray ``Adj Close``) and a logged error.
``test_builders_match_real_yfinance`` checks these builders against yfinance's own code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

NEW_YORK = "America/New_York"
RATE_LIMITED = "YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
DELISTED = "possibly delisted; no timezone found"


def history(
    dates: Iterable[str] | pd.DatetimeIndex,
    *,
    tz: str = NEW_YORK,
    intraday: bool = False,
    start_price: float = 100.0,
    seed: int = 0,
) -> pd.DataFrame:
    """One ticker's ``Ticker.history(auto_adjust=True)``: tz-aware index, OHLC float, int Volume.

    Daily bars are stamped at local midnight in ``tz`` (index ``Date``); intraday bars keep
    their time of day (index ``Datetime``). Bars are consistent (High >= Open, Close >= Low).
    """
    stamps = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    stamps = stamps.tz_localize(tz) if stamps.tz is None else stamps.tz_convert(tz)
    rng = np.random.default_rng(seed)
    n = len(stamps)
    close = start_price * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[start_price], close[:-1]]) * (1 + rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.01, n))
    frame = pd.DataFrame(
        {
            "Open": open_,
            "High": high,
            "Low": low,
            "Close": close,
            "Volume": rng.integers(1_000_000, 5_000_000, n).astype(np.int64),
        },
        index=stamps.rename("Datetime" if intraday else "Date"),
    )
    return frame


def empty_history() -> pd.DataFrame:
    """``yfinance.utils.empty_df()``: what ``history`` gives for a symbol Yahoo does not know."""
    empty = pd.DataFrame(
        index=[],
        data={
            "Open": np.nan,
            "High": np.nan,
            "Low": np.nan,
            "Close": np.nan,
            "Adj Close": np.nan,
            "Volume": np.nan,
        },
    )
    empty.index.name = "Date"
    return empty


def download_frame(
    histories: dict[str, pd.DataFrame | None], *, ignore_tz: bool = True
) -> pd.DataFrame:
    """Combine per-ticker histories as ``yfinance.download(group_by="column")`` does.

    ``None`` stands for a ticker Yahoo does not know. ``ignore_tz=True`` (the daily default,
    and what ``fetch`` asks for) drops the timezone keeping wall time; ``False`` (the
    intraday default) converts every ticker to the most common timezone among them.
    """
    dfs = {
        ticker.upper(): (empty_history() if frame is None else frame.copy())
        for ticker, frame in histories.items()
    }
    live = [frame for frame in dfs.values() if not frame.empty]
    if ignore_tz:
        for frame in live:
            frame.index = frame.index.tz_localize(None)
    elif live:
        zones, counts = np.unique([str(frame.index.tz) for frame in live], return_counts=True)
        for frame in live:
            frame.index = frame.index.tz_convert(str(zones[counts.argmax()]))
    index = None
    for frame in live:
        index = frame.index if index is None else index.union(frame.index)
    if index is None:
        index = pd.DatetimeIndex([])
    dfs = {ticker: frame.reindex(index) for ticker, frame in dfs.items()}
    data = pd.concat(dfs.values(), axis=1, sort=True, keys=dfs.keys(), names=["Ticker", "Price"])
    data.columns = data.columns.swaplevel(0, 1)
    return data.sort_index(level=0, axis=1)


class FakeDownload:
    """Stands in for ``yfinance.download``: counts calls and answers from fixed histories.

    Parameters
    ----------
    histories
        Ticker -> ``history(...)`` frame; a ticker not listed is unknown to "Yahoo" and gets
        ``empty_history()`` plus the error lines yfinance logs for it.
    errors
        Ticker -> the cause yfinance would log for it (e.g. :data:`RATE_LIMITED`); such a
        ticker also comes back empty.
    raises
        An exception to raise instead of answering.
    ignore_tz
        Force the index timezone handling (default: the ``ignore_tz`` argument of the call,
        as yfinance does).
    """

    def __init__(
        self,
        histories: dict[str, pd.DataFrame] | None = None,
        *,
        errors: dict[str, str] | None = None,
        raises: BaseException | None = None,
        ignore_tz: bool | None = None,
    ) -> None:
        self.histories = dict(histories or {})
        self.errors = dict(errors or {})
        self.raises = raises
        self.ignore_tz = ignore_tz
        self.calls: list[dict[str, Any]] = []

    def __call__(self, tickers: str | Sequence[str], **kwargs: Any) -> pd.DataFrame:
        self.calls.append({"tickers": tickers, **kwargs})
        if self.raises is not None:
            raise self.raises
        names = tickers.replace(",", " ").split() if isinstance(tickers, str) else tickers
        names = [name.upper() for name in names]
        logger = logging.getLogger("yfinance")
        failed: dict[str, str] = {}
        answers: dict[str, pd.DataFrame | None] = {}
        for name in names:
            if name in self.errors:
                failed[name] = self.errors[name]
                answers[name] = None
            elif name in self.histories:
                answers[name] = self.histories[name]
            else:
                logger.error(f"${name}: {DELISTED}")
                failed[name] = DELISTED
                answers[name] = None
        if failed:
            logger.error("\n%d Failed download%s:", len(failed), "s" if len(failed) > 1 else "")
            for name, cause in failed.items():
                logger.error(f"['{name}']: {cause}")
        ignore_tz = self.ignore_tz
        if ignore_tz is None:
            ignore_tz = kwargs.get("ignore_tz")
        if ignore_tz is None:
            ignore_tz = kwargs.get("interval", "1d")[-1] not in ("m", "h")
        return download_frame(answers, ignore_tz=ignore_tz)

    @property
    def n_calls(self) -> int:
        """How many times the download was called."""
        return len(self.calls)
