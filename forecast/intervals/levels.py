"""Interval levels: one check, one column name per level, the quantiles each level stands for.

A *level* is the nominal coverage of a central interval, a float in (0, 1): 0.8 asks for
the interval that should hold the actual price 80% of the time, i.e. the forecast
distribution's ``0.1`` and ``0.9`` quantiles. Columns are named by the level in percent:
``lower_80`` / ``upper_80``, ``lower_97.5`` / ``upper_97.5``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from forecast.errors import ConfigError

__all__ = ["check_levels", "level_label", "lower_column", "quantiles_of", "upper_column"]


def check_levels(levels: float | Iterable[float]) -> tuple[float, ...]:
    """Levels as a sorted tuple of distinct floats in (0, 1); one number is one level.

    Raises
    ------
    ConfigError
        Empty, not numbers, or a level outside (0, 1) (e.g. 90 instead of 0.9).
    """
    values = [levels] if isinstance(levels, int | float | np.floating) else list(levels)
    try:
        out = sorted({float(v) for v in values})
    except (TypeError, ValueError):
        raise ConfigError(
            f"interval levels must be numbers between 0 and 1, e.g. (0.8, 0.95); got {levels!r}."
        ) from None
    if not out:
        raise ConfigError("no interval level given; pass e.g. intervals=(0.8, 0.95).")
    bad = [v for v in out if not 0.0 < v < 1.0]
    if bad:
        raise ConfigError(
            f"interval level(s) {bad} are outside (0, 1); a level is the nominal coverage as a "
            "fraction, e.g. 0.9 for a 90% interval."
        )
    return tuple(out)


def level_label(level: float) -> str:
    """``0.8 -> "80"``, ``0.975 -> "97.5"``: the level in percent, as short as it is exact."""
    return f"{round(level * 100, 6):g}"


def lower_column(level: float) -> str:
    """Name of the lower bound's column for ``level`` (``lower_80``)."""
    return f"lower_{level_label(level)}"


def upper_column(level: float) -> str:
    """Name of the upper bound's column for ``level`` (``upper_80``)."""
    return f"upper_{level_label(level)}"


def quantiles_of(level: float) -> tuple[float, float]:
    """The quantile levels a central ``level`` interval stands for: ``((1-L)/2, (1+L)/2)``."""
    return (1.0 - level) / 2.0, (1.0 + level) / 2.0
