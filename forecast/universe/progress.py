"""Progress of a universe run: one bar over tickers with an ETA, and a line per ticker.

The bar is tqdm's (a core dependency) on stderr; ``verbose`` adds one line per finished
ticker (its status, MASE or reason, and seconds) above the bar.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from forecast.universe.unit import TickerOutcome

__all__ = ["Progress"]


class Progress:
    """Counts finished tickers; draws nothing when ``enabled`` is False."""

    def __init__(self, total: int, *, enabled: bool, verbose: bool = False,
                 stream: TextIO | None = None, done: int = 0) -> None:
        self.verbose = verbose
        self.stream = stream or sys.stderr
        self._bar: Any = None
        if enabled and total:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, unit="ticker", file=self.stream,
                             dynamic_ncols=True, smoothing=0.1,
                             bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} tickers "
                                        "[{elapsed}<{remaining}, {rate_fmt}]")

    def advance(self, outcome: TickerOutcome, model: str) -> None:
        """One ticker finished: move the bar, and in verbose mode print its line."""
        if self.verbose:
            self._write(_line(outcome, model))
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=self.stream)
        else:
            print(text, file=self.stream, flush=True)


def _line(outcome: TickerOutcome, model: str) -> str:
    if outcome.status != "ran" or outcome.metrics is None:
        return f"{outcome.ticker:<8} failed  {outcome.reason}"
    table = outcome.metrics.set_index("model")
    mase = float(table.loc[model, "mase"]) if model in table.index else float("nan")
    return f"{outcome.ticker:<8} ran     MASE {mase:.3f}  {outcome.seconds:.1f} s"
