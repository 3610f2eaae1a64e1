"""Scheduling the refits of a walk-forward backtest: in order, warm-started, or side by side.

Refits are the expensive part of a backtest, and they are independent of one another unless
they are warm-started. This module decides *where and in what order* they run; it never changes
*what* a fit sees: each one still gets only its own fold's training slice.

- ``n_jobs=1``: one fit after another in this process; each fit picks its threads from its
  model's size and the free cores (:func:`forecast._process.threads_for_fit`).
- ``n_jobs=None`` (the default of :func:`forecast.backtest`): one lane per free core when the
  fits can run in threads (below), else 1.
- ``n_jobs>1``: up to ``n_jobs`` *lanes* of fits run at once, never more than the cores free
  right now (other processes' load subtracted, :func:`forecast._process.free_cores`), each
  with ``budget // lanes`` torch threads (at least 1), where the budget is the free cores
  capped by torch's thread count: lanes x threads never exceed the free cores.
  Small recurrent models scale poorly across threads (every op waits for its slowest
  thread), so two one-thread fits side by side do more work than one two-thread fit on two
  cores. The folds are packed into lanes of near-equal training rows (longest first); when they
  do not divide evenly, the smallest leftover folds run last with all the threads between them,
  instead of one lane running alone on one thread while the other cores idle.
- ``warm_start=True``: a refit starts from the weights of an earlier fold's model and trains
  ``warm_epochs`` epochs. Run in order, each refit starts from the previous one. With lanes,
  refits run in waves of ``n_jobs``: the first fold alone (from scratch, all threads), then
  each wave starts from the last model of the wave before it.

Lanes are threads of this process whenever the fits allow it: torch releases the GIL inside
its kernels, and each thread gets its own OpenMP thread count, so two lanes keep two cores
busy with one process's memory, no fork, and no model pickled across a pipe. A fit may run in a
thread only if its training draws nothing from torch's global random generator, which all
threads share (the estimator says so through ``_fits_in_threads()``: a Forecaster does unless
it has dropout between layers or scheduled sampling). Other fits run in worker processes:
forked when each gets a single thread (each worker freezes the objects it inherited, so its
garbage collections do not copy every shared page; the caller's gc is left alone), else
started by a fork server (OpenMP pools do not survive ``fork``). Workers are processes of
ours: they tune themselves (:func:`forecast._process.tune_process`). Either way a fit's result
equals a sequential fit with the same thread count.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from sklearn.base import clone

from forecast._malloc import release_freed_memory
from forecast._process import free_cores, threads_decided, tune_process
from forecast.errors import ConfigError

__all__ = ["FitOutcome", "auto_jobs", "fit_folds", "plan_lanes", "thread_budget"]


@dataclass
class FitOutcome:
    """A fitted estimator and the wall-clock seconds its fit took (in whichever lane)."""

    estimator: Any
    seconds: float


def fit_folds(
    estimator: Any,
    train_frames: dict[int, pd.DataFrame],
    *,
    n_jobs: int | None = 1,
    warm_start: bool = False,
    warm_epochs: int | None = None,
) -> dict[int, FitOutcome]:
    """Fit one clone of ``estimator`` per fold on that fold's training frame.

    Parameters
    ----------
    estimator
        The unfitted template (cloned, never modified).
    train_frames
        Fold number -> training slice, in fold order.
    n_jobs
        Most lanes of fits run side by side (1: one after another, see module doc), never
        more than the free cores; None: one lane per free core (at most one per fold) for
        fits that can share this process, else 1 (see :func:`auto_jobs`).
    warm_start
        Start each refit after the first from an earlier fold's weights (see module doc).
    warm_epochs
        Epochs of a warm-started refit (default: a third of ``epochs``, at least 1; on the
        benchmark a third beat retraining from scratch on MAE, a fifth did not always).

    Returns
    -------
    dict
        Fold number -> :class:`FitOutcome`, in fold order.
    """
    if n_jobs is None:
        n_jobs = auto_jobs(estimator, len(train_frames))
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ConfigError(f"n_jobs must be a positive integer or None, got {n_jobs!r}.")
    can_warm = warm_start and hasattr(estimator, "warm_start")
    epochs = getattr(estimator, "epochs", 1)
    warm_epochs = max(1, int(epochs) // 3) if warm_epochs is None else warm_epochs
    if not isinstance(warm_epochs, int) or isinstance(warm_epochs, bool) or warm_epochs < 1:
        raise ConfigError(f"warm_epochs must be a positive integer, got {warm_epochs!r}.")
    folds = list(train_frames)
    if n_jobs == 1 or len(folds) == 1:
        return _fit_in_order(estimator, train_frames, can_warm, warm_epochs)
    sizes = {fold: len(frame) for fold, frame in train_frames.items()}
    outcomes: dict[int, FitOutcome] = {}
    if not can_warm:
        for lanes in plan_lanes(sizes, n_jobs):
            starts = {fold: clone(estimator) for lane in lanes for fold in lane}
            outcomes.update(_run_phase(lanes, starts, train_frames))
        return {fold: outcomes[fold] for fold in folds}
    # Warm waves: the first fold from scratch with every thread, then n_jobs at a time, each
    # wave starting from the last model of the wave before it.
    previous: Any = None
    for wave in [folds[:1], *_chunks(folds[1:], n_jobs)]:
        starts = {fold: _starting_point(estimator, previous, warm_epochs) for fold in wave}
        lanes = [[fold] for fold in sorted(wave, key=lambda fold: -sizes[fold])]
        outcomes.update(_run_phase(lanes, starts, train_frames))
        previous = outcomes[wave[-1]].estimator
    return {fold: outcomes[fold] for fold in folds}


def auto_jobs(estimator: Any, n_folds: int) -> int:
    """The lanes ``n_jobs=None`` means: one per torch thread, at most one per fold, for fits
    that can run in threads of this process; 1 otherwise (worker processes cost a process's
    memory each, so they are only used when asked for). Each phase then runs no more lanes
    than there are free cores (:func:`thread_budget`)."""
    if not _fits_in_threads(estimator):
        return 1
    return max(1, min(n_folds, torch.get_num_threads()))


def thread_budget() -> tuple[int, int]:
    """``(lanes, threads)`` limits of a phase: the cores free now (at most one lane each), and
    the threads all lanes may use together (the free cores, at most torch's thread count)."""
    free = free_cores()
    return free, min(free, torch.get_num_threads())


def plan_lanes(sizes: dict[int, int], n_jobs: int) -> list[list[list[int]]]:
    """Phases of lanes: which folds run side by side, and in what order.

    ``sizes`` maps fold -> training rows (the cost of its fit, near enough). Returns a list of
    phases run one after another; a phase is a list of lanes that run at the same time (lane 0
    in the calling thread), a lane a list of folds fitted one after another. The first phase
    packs the largest ``len - len % n_jobs`` folds into ``n_jobs`` lanes, longest first onto
    the least loaded lane; the leftover smallest folds form a last phase of one fold per lane,
    so they share out all the threads instead of leaving cores idle.

    >>> plan_lanes({0: 945, 1: 995, 2: 1045, 3: 1095, 4: 1145}, 2)
    [[[4, 1], [3, 2]], [[0]]]
    """
    order = sorted(sizes, key=lambda fold: (-sizes[fold], fold))
    if len(order) <= n_jobs:
        return [[[fold] for fold in order]]
    split = len(order) - len(order) % n_jobs
    body, tail = order[:split], order[split:]
    lanes: list[list[int]] = [[] for _ in range(n_jobs)]
    loads = [0] * n_jobs
    for fold in body:
        lightest = loads.index(min(loads))
        lanes[lightest].append(fold)
        loads[lightest] += sizes[fold]
    return [lanes, [[fold] for fold in tail]] if tail else [lanes]


def _run_phase(
    lanes: list[list[int]], starts: dict[int, Any], frames: dict[int, pd.DataFrame]
) -> dict[int, FitOutcome]:
    """Run the lanes side by side, lane 0 in the calling thread; results by fold.

    Never more lanes than free cores (:func:`thread_budget`): of ``n`` lanes planned, at most
    one per free core runs, each with ``budget // lanes`` threads (at least 1); lanes beyond
    that are appended to the running ones in turn (a fold is fitted the same way in any lane).
    """
    max_lanes, budget = thread_budget() if len(lanes) > 1 else (1, 1)
    if len(lanes) > max_lanes:
        merged: list[list[int]] = [[] for _ in range(max_lanes)]
        for position, lane in enumerate(lanes):
            merged[position % max_lanes].extend(lane)
        lanes = merged
    if len(lanes) == 1:
        return {fold: _fit_one(starts[fold], frames[fold]) for fold in lanes[0]}
    total_threads = torch.get_num_threads()
    threads = max(1, budget // len(lanes))
    in_threads = all(_fits_in_threads(starts[fold]) for lane in lanes for fold in lane)
    run_others = _run_in_threads if in_threads else _run_in_processes
    with run_others(lanes[1:], starts, frames, threads) as others:
        torch.set_num_threads(threads)
        try:
            with threads_decided():
                here = {fold: _fit_one(starts[fold], frames[fold]) for fold in lanes[0]}
        finally:
            torch.set_num_threads(total_threads)  # on every exit, Ctrl-C included
        for lane, lane_outcomes in zip(lanes[1:], others(), strict=True):
            here.update(zip(lane, lane_outcomes, strict=True))
    return here


Collect = Callable[[], list[list[FitOutcome]]]


@contextlib.contextmanager
def _run_in_threads(
    lanes: list[list[int]], starts: dict[int, Any], frames: dict[int, pd.DataFrame], threads: int
) -> Iterator[Collect]:
    """Start one thread per lane; yield a function that waits for their outcomes.

    The threads are daemons and stop between folds once the caller leaves early (an error or
    Ctrl-C in lane 0), so an interrupted backtest neither hangs at exit nor keeps training.
    """
    stop = threading.Event()
    results: list[list[FitOutcome] | BaseException | None] = [None] * len(lanes)

    def lane_worker(position: int, lane: list[int]) -> None:
        torch.set_num_threads(threads)  # this thread's own OpenMP team size
        try:
            outcomes = []
            with threads_decided():
                for fold in lane:
                    if stop.is_set():
                        return
                    outcomes.append(_fit_one(starts[fold], frames[fold]))
            results[position] = outcomes
        except BaseException as error:  # handed to the caller, raised there
            results[position] = error

    workers = [
        threading.Thread(
            target=lane_worker, args=(i, lane), daemon=True, name=f"forecast-lane-{i + 1}"
        )
        for i, lane in enumerate(lanes)
    ]
    for worker in workers:
        worker.start()

    def collect() -> list[list[FitOutcome]]:
        for worker in workers:
            while worker.is_alive():
                worker.join(0.1)  # short waits: Ctrl-C reaches the caller at once
        outcomes = []
        for result in results:
            if isinstance(result, BaseException):
                raise result
            if result is None:
                raise RuntimeError("a refit lane ended without a result")  # never: see above
            outcomes.append(result)
        return outcomes

    try:
        yield collect
    finally:
        stop.set()
        release_freed_memory()  # the lane threads' arenas: no later thread can reuse them


@contextlib.contextmanager
def _run_in_processes(
    lanes: list[list[int]], starts: dict[int, Any], frames: dict[int, pd.DataFrame], threads: int
) -> Iterator[Collect]:
    """Submit one worker process per lane; yield a function that waits for their outcomes."""
    with _pool(len(lanes), threads) as pool:
        futures = [
            pool.submit(_fit_lane, [starts[f] for f in lane], [frames[f] for f in lane], threads)
            for lane in lanes
        ]
        yield lambda: [future.result() for future in futures]


def _fits_in_threads(estimator: Any) -> bool:
    """Whether ``estimator.fit`` may run beside another fit in this process (module doc)."""
    check = getattr(estimator, "_fits_in_threads", None)
    return bool(check()) if callable(check) else False


def _fit_in_order(
    estimator: Any, train_frames: dict[int, pd.DataFrame], warm: bool, warm_epochs: int
) -> dict[int, FitOutcome]:
    outcomes: dict[int, FitOutcome] = {}
    previous: Any = None
    for fold, frame in train_frames.items():
        start = _starting_point(estimator, previous if warm else None, warm_epochs)
        outcomes[fold] = _fit_one(start, frame)
        previous = outcomes[fold].estimator
    return outcomes


def _starting_point(estimator: Any, previous: Any, warm_epochs: int) -> Any:
    """A fresh clone, or a copy of ``previous`` set to continue from its weights."""
    if previous is None:
        return clone(estimator)
    start = copy.deepcopy(previous)
    start.set_params(warm_start=True, epochs=warm_epochs)
    return start


def _fit_one(estimator: Any, frame: pd.DataFrame) -> FitOutcome:
    tick = time.perf_counter()
    estimator.fit(frame)
    return FitOutcome(estimator, time.perf_counter() - tick)


def _fit_lane(estimators: list[Any], frames: list[pd.DataFrame], threads: int) -> list[FitOutcome]:
    """Run in a worker process: pin torch's threads, then fit the lane's folds in order."""
    torch.set_num_threads(threads)
    with threads_decided():
        return [_fit_one(est, frame) for est, frame in zip(estimators, frames, strict=True)]


def _start_worker(fork: bool) -> None:
    """First thing in a worker process (ours, so it may tune itself, see forecast._process).

    Forked workers also freeze the objects they inherited, so that their garbage collections
    never write to (and so copy) the pages they share with the parent. The caller's own gc
    state is never touched.
    """
    if fork:
        gc.freeze()
    tune_process()


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


@contextlib.contextmanager
def _pool(n_workers: int, threads: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``n_workers`` processes: forked for one-thread workers, else a fork server."""
    fork = threads == 1 and "fork" in multiprocessing.get_all_start_methods()
    method = "fork" if fork else ("forkserver" if os.name == "posix" else "spawn")
    context = multiprocessing.get_context(method)
    with ProcessPoolExecutor(
        max_workers=n_workers, mp_context=context, initializer=_start_worker, initargs=(fork,)
    ) as pool:
        yield pool
