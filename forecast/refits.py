"""Scheduling the refits of a walk-forward backtest: in order, warm-started, or in parallel.

Refits are the expensive part of a backtest, and they are independent of one another unless
they are warm-started. This module decides *where and in what order* they run; it never changes
*what* a fit sees: each one still gets only its own fold's training slice.

- ``n_jobs=1``: one fit after another in this process, with all of torch's threads.
- ``n_jobs>1``: the fits run in worker processes, each with ``threads // n_jobs`` torch threads.
  Small recurrent models scale poorly across threads (every op waits for its slowest thread),
  so two one-thread processes do roughly twice the work of one two-thread process on two cores.
  Longer fits (more training rows) are started first so the workers finish together.
- ``warm_start=True``: a refit starts from the weights of an earlier fold's model and trains
  ``warm_epochs`` epochs. Run in order, each refit starts from the previous one. In parallel,
  refits run in waves of ``n_jobs``: the first fold alone (from scratch), then each wave starts
  from the last model of the wave before it.

Workers are forked when each gets a single thread (cheap: no re-import of torch or pandas), and
started by a fork server otherwise (OpenMP thread pools do not survive ``fork``).
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch
from sklearn.base import clone

from forecast.errors import ConfigError

__all__ = ["FitOutcome", "fit_folds"]


@dataclass
class FitOutcome:
    """A fitted estimator and the wall-clock seconds its fit took (in whichever process)."""

    estimator: Any
    seconds: float


def fit_folds(
    estimator: Any,
    train_frames: dict[int, pd.DataFrame],
    *,
    n_jobs: int = 1,
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
        Worker processes (1: fit in this process).
    warm_start
        Start each refit after the first from an earlier fold's weights (see module doc).
    warm_epochs
        Epochs of a warm-started refit (default: a fifth of ``epochs``, at least 1).

    Returns
    -------
    dict
        Fold number -> :class:`FitOutcome`.
    """
    if not isinstance(n_jobs, int) or isinstance(n_jobs, bool) or n_jobs < 1:
        raise ConfigError(f"n_jobs must be a positive integer, got {n_jobs!r}.")
    can_warm = warm_start and hasattr(estimator, "warm_start")
    epochs = getattr(estimator, "epochs", 1)
    warm_epochs = max(1, int(epochs) // 5) if warm_epochs is None else warm_epochs
    if not isinstance(warm_epochs, int) or warm_epochs < 1:
        raise ConfigError(f"warm_epochs must be a positive integer, got {warm_epochs!r}.")
    folds = list(train_frames)
    if n_jobs == 1 or len(folds) == 1:
        return _fit_in_order(estimator, train_frames, can_warm, warm_epochs)
    waves = [folds[:1], *_chunks(folds[1:], n_jobs)] if can_warm else [folds]
    outcomes: dict[int, FitOutcome] = {}
    total_threads = torch.get_num_threads()
    with _pool(n_jobs, max(1, total_threads // n_jobs)) as pool:
        previous: Any = None
        for wave in waves:
            if len(wave) == 1 and previous is None:
                # The first fold of a warm-started run: alone, so give it every thread here.
                outcomes[wave[0]] = _fit_one(clone(estimator), train_frames[wave[0]])
                previous = outcomes[wave[0]].estimator
                continue
            threads = max(1, total_threads // min(n_jobs, len(wave)))
            order = sorted(wave, key=lambda fold: -len(train_frames[fold]))
            futures = {
                fold: pool.submit(
                    _fit_task,
                    _starting_point(estimator, previous, warm_epochs),
                    train_frames[fold],
                    threads,
                )
                for fold in order
            }
            for fold in wave:
                outcomes[fold] = futures[fold].result()
            previous = outcomes[wave[-1]].estimator
    return outcomes


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


def _fit_task(estimator: Any, frame: pd.DataFrame, threads: int) -> FitOutcome:
    """Run in a worker process: pin torch's threads, then fit."""
    torch.set_num_threads(threads)
    return _fit_one(estimator, frame)


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _pool(n_jobs: int, threads: int) -> ProcessPoolExecutor:
    method = "fork" if threads == 1 and "fork" in multiprocessing.get_all_start_methods() else None
    if method is None:
        method = "forkserver" if os.name == "posix" else "spawn"
    context = multiprocessing.get_context(method)
    return ProcessPoolExecutor(max_workers=n_jobs, mp_context=context)
