"""Walk-forward folds: where each fold's training slice ends and its test block begins.

A fold is a set of positions on a calendar of bars, nothing more: splitting is not fitting
(like scikit-learn's ``TimeSeriesSplit``, which cuts the blocks). :func:`forecast.backtest`
fits on each fold's training slice and forecasts its block; users can reuse the same folds
for their own models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.model_selection import TimeSeriesSplit

from forecast.errors import ConfigError, DataError

__all__ = ["Fold", "make_folds"]


@dataclass
class Fold:
    """One walk-forward fold: positions on the shared calendar of dates."""

    fold: int
    train_start: int  # first training bar (calendar position)
    train_stop: int  # one past the last training bar
    test_start: int  # first bar forecast by this fold's origins
    test_stop: int  # one past the last test bar of the block
    refit: bool


def make_folds(
    n_bars: int,
    *,
    test_size: int,
    folds: int,
    refit: int = 1,
    window: Literal["expanding", "sliding"] = "expanding",
    train_length: int | None = None,
    gap: int = 0,
) -> list[Fold]:
    """Fold boundaries for a calendar of ``n_bars`` bars (see the module docstring).

    The test region is the last ``test_size`` bars. ``TimeSeriesSplit`` cuts equal blocks
    ending at the last bar; when ``test_size`` is not a multiple of ``folds`` the first block
    takes the remainder, so the region still starts where it was asked to. ``refit=k`` refits
    before folds 0, k, 2k, ... and ``refit=0`` only before fold 0.
    """
    fold_size = test_size // folds
    remainder = test_size - fold_size * folds
    if fold_size < 1:
        raise ConfigError(
            f"test_size={test_size} cannot be cut into folds={folds}; use fewer folds or a "
            "larger test region."
        )
    max_train = train_length if window == "sliding" else None
    if folds == 1:
        # TimeSeriesSplit needs two splits; one fold is simply the last block.
        test = np.arange(n_bars - fold_size, n_bars)
        train = np.arange(0, max(0, test[0] - gap))
        if max_train is not None:
            train = train[-max_train:]
        splits = [(train, test)] if len(train) and test[0] >= 0 else []
    else:
        splitter = TimeSeriesSplit(
            n_splits=folds, test_size=fold_size, gap=gap, max_train_size=max_train
        )
        try:
            splits = list(splitter.split(np.arange(n_bars)))
        except ValueError:
            splits = []
    if not splits:
        raise DataError(
            f"{n_bars} bars cannot hold {folds} folds of {fold_size} test bars plus a gap of "
            f"{gap} and a training slice; shorten test_size or use more data."
        )
    out = []
    for index, (train, test) in enumerate(splits):
        is_refit = index == 0 or (refit > 0 and index % refit == 0)
        first_test, train_stop = int(test[0]), int(train[-1]) + 1
        train_start = int(train[0])
        if index == 0 and remainder:
            first_test, train_stop = first_test - remainder, train_stop - remainder
            if max_train is not None:
                train_start = max(0, train_stop - max_train)
        if train_stop <= train_start:
            raise DataError(
                f"{n_bars} bars leave no training slice before a test region of {test_size} "
                f"bars (gap {gap}); shorten test_size or use more data."
            )
        out.append(
            Fold(
                fold=index,
                train_start=train_start,
                train_stop=train_stop,
                test_start=first_test,
                test_stop=int(test[-1]) + 1,
                refit=is_refit,
            )
        )
    return out
