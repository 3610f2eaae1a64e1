"""What a fitted model saw: the last bars of each series, their spacing, and the check that
new bars extend them.

A :class:`Forecaster` records a :class:`SeenBars` at the end of ``fit`` and saves it in its
model directory (the ``"seen"`` entry of ``config.json``, plain JSON numbers). ``update``
(:mod:`forecast.updating`) reads it to decide which rows of a new file are new, to refuse bars
that do not continue the series, and to supply the ``lookback`` bars of history a forecast
after the new bars needs, so a cron job can hand over today's bars alone.

The spacing rule: the data's step (business days for daily stock bars, else the inferred
frequency, see :func:`forecast.data.dates.infer_step`) and the largest number of steps
between two consecutive bars among the last :data:`SPACING_BARS` bars seen. For daily US
stocks that is 2 (a weekday holiday); a longer gap between the last bar seen and the first
new one (or inside the new bars) means missing bars and is refused unless forced.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forecast.data.dates import infer_step
from forecast.data.panels import series_parts
from forecast.errors import DataError, ModelFileError

__all__ = ["SPACING_BARS", "SeenBars", "SeriesTail", "count_steps"]

# How many of the last bars seen decide the data's usual spacing (about a year of days).
SPACING_BARS = 260


@dataclass
class SeriesTail:
    """The last bars of one series a model saw: ``dates`` ``[R]`` and ``values`` ``[R, C]``."""

    ticker: str | None
    dates: pd.DatetimeIndex
    values: np.ndarray  # [R, C] float64 prices of the fitted columns

    @property
    def last(self) -> pd.Timestamp:
        return self.dates[-1]

    def frame(self, columns: list[str]) -> pd.DataFrame:
        """The tail as a one-series frame indexed by ``Date``."""
        return pd.DataFrame(self.values, index=self.dates, columns=columns)


@dataclass
class SeenBars:
    """The bars a fitted model saw, as much of them as forecasting and fine-tuning need.

    Attributes
    ----------
    columns
        The fitted columns, in the order of ``values``.
    step
        The data's spacing as a pandas offset alias (``"B"``, ``"h"``, ...) or a
        ``pd.Timedelta`` string.
    max_gap_steps
        The largest number of steps between consecutive bars seen recently (>= 1).
    tails
        One :class:`SeriesTail` per series (ticker None for a single series), in the data's
        order.
    updates
        One entry per :func:`forecast.updating.update` that produced this version (dates,
        rows, fine-tuning), oldest first.
    """

    columns: list[str]
    step: str
    max_gap_steps: int
    tails: list[SeriesTail]
    updates: list[dict[str, Any]] = field(default_factory=list)

    # -- building ------------------------------------------------------------------------
    @classmethod
    def record(cls, frame: pd.DataFrame, columns: list[str], rows: int) -> SeenBars:
        """The last ``rows`` bars of every series of a validated ``frame`` (one or a panel)."""
        parts = series_parts(frame)
        longest = max(parts, key=lambda item: len(item[1]))[1].index
        step = infer_step(longest)
        recent = longest[-SPACING_BARS:]
        gaps = [count_steps(a, b, step) for a, b in itertools.pairwise(recent)]
        tails = [
            SeriesTail(
                ticker=ticker,
                dates=pd.DatetimeIndex(part.index[-rows:]),
                values=part[columns].to_numpy(dtype=np.float64)[-rows:].copy(),
            )
            for ticker, part in parts
        ]
        return cls(
            columns=list(columns),
            step=_step_text(step),
            max_gap_steps=max([1, *gaps]),
            tails=tails,
        )

    def with_new_bars(
        self, new_rows: dict[str | None, pd.DataFrame], rows: int, update: dict[str, Any]
    ) -> SeenBars:
        """A copy that has also seen ``new_rows`` (per ticker), keeping the last ``rows``."""
        tails = []
        for tail in self.tails:
            added = new_rows.get(tail.ticker)
            if added is None or added.empty:
                tails.append(tail)
                continue
            dates = tail.dates.append(pd.DatetimeIndex(added.index))
            values = np.concatenate([tail.values, added[self.columns].to_numpy(np.float64)])
            tails.append(SeriesTail(tail.ticker, dates[-rows:], values[-rows:].copy()))
        return SeenBars(
            columns=list(self.columns),
            step=self.step,
            max_gap_steps=self.max_gap_steps,
            tails=tails,
            updates=[*self.updates, update],
        )

    def spacing(self) -> Any:
        """The data's step as a pandas offset or ``pd.Timedelta``."""
        return _parse_step(self.step)

    # -- the extension check ---------------------------------------------------------------
    def new_rows(
        self, frame: pd.DataFrame, *, force: bool = False
    ) -> dict[str | None, pd.DataFrame]:
        """The rows of a validated ``frame`` dated after the last bar seen, per series.

        Rows dated on or before a series' last seen bar are ignored (a full-history file and a
        file of today's bars alone give the same answer). A series with no new rows is left
        out of the answer.

        Raises
        ------
        DataError
            A panel where the model saw one series (or the reverse), a ticker the model never
            saw, or (unless ``force``) a gap of more steps than the data's usual spacing
            between the last bar seen and the first new one or inside the new bars.
        """
        parts = series_parts(frame)
        seen = {tail.ticker: tail for tail in self.tails}
        panel_seen = self.tails[0].ticker is not None
        if (parts[0][0] is not None) != panel_seen:
            shape = ("a panel of tickers", "one series")
            raise DataError(
                f"the model was fitted on {shape[not panel_seen]} but the new bars are "
                f"{shape[panel_seen]}; pass bars shaped like those the model was fitted on."
            )
        unknown = [ticker for ticker, _ in parts if ticker not in seen]
        if unknown:
            raise DataError(
                f"the new bars hold ticker(s) {unknown[:5]} that the model never saw (it knows "
                f"{len(seen)}: {[t.ticker for t in self.tails][:5]}...); drop them, or fit a "
                "new model that includes them."
            )
        step = self.spacing()
        out: dict[str | None, pd.DataFrame] = {}
        for ticker, part in parts:
            tail = seen[ticker]
            added = part.loc[part.index > tail.last, self.columns]
            if added.empty:
                continue
            if not force:
                self._check_gaps(ticker, tail.last, pd.DatetimeIndex(added.index), step)
            out[ticker] = added
        return out

    def _check_gaps(
        self, ticker: str | None, last: pd.Timestamp, dates: pd.DatetimeIndex, step: Any
    ) -> None:
        stamps = pd.DatetimeIndex([last]).append(dates)
        for before, after in itertools.pairwise(stamps):
            steps = count_steps(before, after, step)
            if steps > self.max_gap_steps:
                unit = "business days" if self.step == "B" else f"steps of {self.step}"
                where = f" of {ticker}" if ticker is not None else ""
                first = "the last bar the model saw" if before == last else "the bar before it"
                raise DataError(
                    f"the new bar{where} on {_day(after)} comes {steps} {unit} after "
                    f"{first} ({_day(before)}), more than the data's usual spacing of at most "
                    f"{self.max_gap_steps}; add the missing bars, or pass force=True "
                    "(--force) to accept the gap."
                )

    # -- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "step": self.step,
            "max_gap_steps": int(self.max_gap_steps),
            "tails": [
                {
                    "ticker": tail.ticker,
                    "dates": [stamp.isoformat() for stamp in tail.dates],
                    "values": tail.values.tolist(),
                }
                for tail in self.tails
            ],
            "updates": list(self.updates),
        }

    @classmethod
    def from_dict(cls, state: Any) -> SeenBars:
        """Read the ``"seen"`` entry of a model's ``config.json``; refuse a malformed one."""
        try:
            columns = [str(c) for c in state["columns"]]
            tails = []
            for item in state["tails"]:
                values = np.asarray(item["values"], dtype=np.float64)
                dates = pd.DatetimeIndex([pd.Timestamp(d) for d in item["dates"]], name="Date")
                if values.shape != (len(dates), len(columns)) or not np.isfinite(values).all():
                    raise ValueError("values do not match dates x columns")
                ticker = item["ticker"]
                tails.append(SeriesTail(None if ticker is None else str(ticker), dates, values))
            step = str(state["step"])
            _parse_step(step)
            max_gap = int(state["max_gap_steps"])
            updates = list(state.get("updates", []))
            if not tails or max_gap < 1:
                raise ValueError("no series or a non-positive spacing")
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(
                f"the 'seen' entry of config.json is malformed ({exc}); fit and save the model "
                "again."
            ) from None
        return cls(columns=columns, step=step, max_gap_steps=max_gap, tails=tails, updates=updates)


def count_steps(before: pd.Timestamp, after: pd.Timestamp, step: Any) -> int:
    """How many ``step``s lead from ``before`` to ``after`` (1 for consecutive bars)."""
    if isinstance(step, pd.Timedelta):
        return max(1, round((after - before) / step))
    # A calendar offset (business days, months): count the offset's stamps in between.
    return max(1, len(pd.date_range(before, after, freq=step)) - 1)


def _step_text(step: Any) -> str:
    if isinstance(step, pd.Timedelta):
        return step.isoformat()
    return str(step.freqstr)


def _parse_step(text: str) -> Any:
    if text.startswith("P"):  # ISO 8601 duration, written for a Timedelta step
        return pd.Timedelta(text)
    return pd.tseries.frequencies.to_offset(text)


def _day(stamp: pd.Timestamp) -> str:
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
