"""Executors: where the units of a universe run (this process, or a pool of processes).

An executor only schedules units (:func:`forecast.universe.unit.run_ticker`); it never knows
what a model is. Each yields :class:`TickerOutcome` objects as tickers finish, in finishing
order, so the caller can store each one at once.

- ``"local"`` with one worker: the units run in this process, one after another.
- ``"local"`` with more: a pool of worker processes. The panel goes to each worker **once**,
  when it starts (per-ticker numpy arrays of dates and values, :class:`PanelArrays`); a task
  carries only a ticker's name, and its result comes back. Where the OS can ``fork``, the
  workers are forked (as :mod:`forecast.refits` does for one-thread workers): they start in
  milliseconds instead of importing torch again, and the panel's pages are shared with this
  process copy-on-write rather than copied; each forked worker freezes what it inherited, so
  its garbage collections do not touch (and copy) every shared page. Elsewhere a fork server
  or spawn start pickles the panel once per worker.
- Threads: every fit runs on **one** torch thread, in every executor. A small recurrent net
  does not get faster on two threads (its sequential steps are too short to split; see
  ``benchmarks/RESULTS.md``), so one process per core fills the machine without
  oversubscription, and a ticker's bits never depend on how many workers there were.
- A worker that dies (killed, out of memory) breaks the pool; the tickers it may have been
  running are retried once in a fresh pool, and a ticker that takes a second pool down with
  it fails alone, with that reason.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.data.columns import DATE, TICKER
from forecast.universe.unit import TickerOutcome, UnitSpec, run_ticker

__all__ = ["EXECUTORS", "PanelArrays", "available_cores", "run_local"]

EXECUTORS: tuple[str, ...] = ("local", "ray")  # "ray": forecast/universe/ray_executor.py
MAX_POOL_DEATHS = 2  # a ticker in flight when this many pools died fails alone


@dataclass
class PanelArrays:
    """The panel as plain arrays per ticker: cheap to send to a worker once, no pandas index.

    ``columns`` are the value columns; ``series[ticker] = (dates, values)`` with ``dates``
    datetime64 ``[L]`` (the panel's own unit) and ``values`` float64 ``[L, C]`` in price units.
    """

    columns: tuple[str, ...]
    series: dict[str, tuple[np.ndarray, np.ndarray]]
    zones: dict[str, str] = field(default_factory=dict)  # ticker -> time zone of aware dates

    @classmethod
    def of(cls, panel: pd.DataFrame, tickers: Sequence[str]) -> PanelArrays:
        """Cut ``panel`` (``(ticker, Date)`` index) into per-ticker arrays for ``tickers``."""
        columns = tuple(str(c) for c in panel.columns)
        series, zones = {}, {}
        for ticker in tickers:
            part = panel.xs(ticker, level=TICKER)
            dates = pd.DatetimeIndex(part.index)
            if dates.tz is not None:
                zones[ticker] = str(dates.tz)
            series[ticker] = (
                np.ascontiguousarray(dates.to_numpy()),  # UTC instants for aware dates
                np.ascontiguousarray(part.to_numpy(dtype=np.float64)),
            )
        return cls(columns, series, zones)

    def frame(self, ticker: str) -> pd.DataFrame:
        """One ticker's bars as a frame: ``DatetimeIndex`` named ``Date``, the value columns."""
        dates, values = self.series[ticker]
        index = pd.DatetimeIndex(dates, name=DATE)
        if ticker in self.zones:
            index = index.tz_localize("UTC").tz_convert(self.zones[ticker])
        return pd.DataFrame(values, index=index, columns=list(self.columns))


def available_cores() -> int:
    """Cores free for workers now: usable cores less the load of other processes
    (:func:`forecast._process.free_cores`), so workers never oversubscribe the machine."""
    from forecast._process import free_cores

    return free_cores()


def run_local(
    panel: PanelArrays,
    tickers: Sequence[str],
    spec: UnitSpec,
    *,
    workers: int | None = None,
) -> Iterator[TickerOutcome]:
    """Run every ticker's unit; yield outcomes as they finish (module docstring).

    ``workers`` defaults to one per available core, never more than there are tickers;
    1 runs the units in this process.
    """
    todo = list(tickers)
    if not todo:
        return
    count = min(workers or available_cores(), len(todo))
    if count <= 1:
        yield from _run_here(panel, todo, spec)
        return
    deaths: dict[str, int] = {}
    while todo:
        survivors = yield from _run_pool(panel, todo, spec, count, deaths)
        todo = []
        for ticker in survivors:
            if deaths.get(ticker, 0) >= MAX_POOL_DEATHS:
                yield TickerOutcome(
                    ticker=ticker,
                    status="failed",
                    reason=(
                        f"{ticker}: the worker process running it died {deaths[ticker]} "
                        "times (killed, or out of memory); run it alone to see why."
                    ),
                )
            else:
                todo.append(ticker)


def _run_here(panel: PanelArrays, tickers: list[str], spec: UnitSpec) -> Iterator[TickerOutcome]:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread per fit, as in every worker (module docstring)
    try:
        for ticker in tickers:
            yield run_ticker(panel.frame(ticker), ticker, spec)
    finally:
        torch.set_num_threads(threads)


def _run_pool(
    panel: PanelArrays, tickers: list[str], spec: UnitSpec, count: int, deaths: dict[str, int]
) -> Iterator[TickerOutcome]:
    """One pool's life; returns the tickers lost with it (their death counts raised)."""
    pool = _start_pool(panel, spec, count)
    lost: list[str] = []
    produced = 0
    seen_running: set[str] = set()  # tickers seen handed to a worker: suspects if it dies
    try:
        pending: dict[Future[TickerOutcome], str] = {
            pool.submit(_work, ticker): ticker for ticker in tickers
        }
        while pending:
            seen_running.update(t for f, t in pending.items() if f.running())
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                ticker = pending.pop(future)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    lost.append(ticker)
                    continue
                produced += 1
                yield outcome
    finally:
        with contextlib.suppress(Exception):
            pool.shutdown(wait=True, cancel_futures=True)
    for ticker in lost:
        # A pool that finished nothing (e.g. its workers cannot start) counts against all.
        suspect = ticker in seen_running or produced == 0
        deaths[ticker] = deaths.get(ticker, 0) + suspect
    return lost


def _start_pool(panel: PanelArrays, spec: UnitSpec, count: int) -> ProcessPoolExecutor:
    """``count`` started workers holding the panel (module docstring)."""
    fork = "fork" in multiprocessing.get_all_start_methods()
    method = "fork" if fork else ("forkserver" if os.name == "posix" else "spawn")
    pool = ProcessPoolExecutor(
        max_workers=count,
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(panel, spec, fork),
    )
    with contextlib.suppress(BrokenProcessPool):  # reported ticker by ticker when submitted
        for _ in pool.map(int, range(count)):  # start every worker now
            pass
    return pool


# -- inside a worker process --------------------------------------------------------------------

_PANEL: PanelArrays | None = None
_SPEC: UnitSpec | None = None


def _start_worker(panel: PanelArrays, spec: UnitSpec, fork: bool) -> None:
    """First thing in a worker (ours, so it may tune itself, as forecast.refits' workers do):
    one torch thread, a forked worker's inherited objects frozen so its collections never
    copy the pages it shares with the parent, and the process tuned for training."""
    global _PANEL, _SPEC
    import torch

    from forecast._process import tune_process

    if fork:
        gc.freeze()
    torch.set_num_threads(1)
    tune_process()
    _PANEL, _SPEC = panel, spec


def _work(ticker: str) -> TickerOutcome:
    assert _PANEL is not None and _SPEC is not None  # set by _start_worker
    return run_ticker(_PANEL.frame(ticker), ticker, _SPEC)
