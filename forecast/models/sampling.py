"""Scheduled sampling: how often a seq2seq decoder is fed the true previous value in training.

At forecast time a decoder reads only its own output; trained only on true values (teacher
forcing), it never learns to recover from its own mistakes. Bengio et al. (2015, "Scheduled
Sampling for Sequence Prediction with Recurrent Neural Networks") feed the true value with a
probability that decays over training, so the model moves from teacher forcing towards the
free-running mode it is used in. This module holds the decay curves; the training loop asks
for the probability at each update step and passes it to the model's ``forward``.

With ``p0`` the starting probability (``teacher_forcing``), ``i`` the update step and ``n``
the number of update steps in a full training run (epochs x batches per epoch; early
stopping ends a run sooner but does not stretch the curve):

==================  ================================================  ====================
schedule            probability at step i                             at the last step
==================  ================================================  ====================
``constant``        ``p0``                                            ``p0``
``linear``          ``p0 * (1 - i / (n - 1))``                         0
``exponential``     ``p0 * k**i`` with ``k = 0.01 ** (1 / (n - 1))``  ``p0 / 100``
``inverse_sigmoid`` ``p0 * (c + 1) / (c + exp(i / c))``,              about ``p0 / (1+c)``
                    ``c`` such that the curve halves at ``i = n / 2``
==================  ================================================  ====================

Bengio et al. write these as ``max(eps, k - c i)``, ``k**i`` and ``k / (k + exp(i / k))``
with the rate ``k`` a free setting; here the rate follows from the length of training, so
one option (the curve's name) chooses a schedule that always ends near free running, and
the inverse sigmoid is scaled to start at ``p0``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

from forecast.errors import ConfigError
from forecast.settings import SAMPLING_SCHEDULES

__all__ = ["SAMPLING_SCHEDULES", "teacher_forcing_schedule"]


# Where the exponential curve ends, as a share of the starting probability.
_EXPONENTIAL_END = 0.01


def teacher_forcing_schedule(schedule: str, start: float) -> Callable[[int, int], float]:
    """The probability of teacher forcing at update step ``i`` of a run of ``n`` steps.

    Parameters
    ----------
    schedule
        One of :data:`SAMPLING_SCHEDULES`.
    start
        ``p0`` in [0, 1], the probability at step 0 (the model's ``teacher_forcing``).

    Returns
    -------
    callable
        ``(i, n) -> probability`` in [0, start], non-increasing in ``i`` for a given ``n``
        (the update steps of a full run, ``epochs * batches per epoch``); steps past the
        end keep the last value.

    Raises
    ------
    ConfigError
        An unknown schedule (the valid names are listed).
    """
    if schedule not in SAMPLING_SCHEDULES:
        raise ConfigError(
            f"sampling_schedule={schedule!r} is not known; choose one of "
            f"{', '.join(SAMPLING_SCHEDULES)}."
        )
    p0 = float(start)

    def probability(step: int, n_steps: int) -> float:
        last = max(int(n_steps) - 1, 1)
        done = float(min(max(step, 0), last))
        if schedule == "linear":
            return p0 * (1.0 - done / last)
        if schedule == "exponential":
            return p0 * _EXPONENTIAL_END ** (done / last)
        if schedule == "inverse_sigmoid":
            c = _sigmoid_scale(last / 2.0)
            return p0 * (c + 1.0) / (c + math.exp(done / c))
        return p0

    return probability


@functools.lru_cache(maxsize=64)
def _sigmoid_scale(midpoint: float) -> float:
    """``c >= 1`` with ``(c + 1) / (c + exp(midpoint / c)) = 1/2``, i.e. the curve halves at
    ``midpoint``: ``exp(m / c) = c + 2``, solved by bisection (the left side falls in c)."""
    low, high = 1.0, max(2.0, midpoint)
    if math.exp(midpoint / low) <= low + 2:  # a short run: halving needs c < 1
        return 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if math.exp(midpoint / middle) > middle + 2:
            low = middle
        else:
            high = middle
    return (low + high) / 2
