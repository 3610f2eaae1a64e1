"""Universes: backtests over many tickers at once (issue 14).

``forecast.backtest(model, panel)`` on a ``(ticker, Date)`` panel runs here in local mode:
one model per ticker, each ticker's backtest a small pure unit of work
(:mod:`~forecast.universe.unit`) scheduled by an executor
(:mod:`~forecast.universe.executors`), stored as it finishes (:mod:`~forecast.universe.store`),
and summed up with false-discovery control (:mod:`~forecast.universe.pooled`,
:mod:`~forecast.universe.fdr`). Universes are loaded by :mod:`~forecast.universe.sources`.
"""

from __future__ import annotations

from forecast.universe.run import UniverseResult, backtest_universe
from forecast.universe.sources import Universe, is_universe_source, load_universe

__all__ = ["Universe", "UniverseResult", "backtest_universe", "is_universe_source",
           "load_universe"]
