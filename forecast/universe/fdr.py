"""False-discovery control for many "beats naive" claims at once.

At p < 0.05, about 25 of 500 tickers "beat the random walk" by chance alone. A universe's
per-ticker claims therefore pass through one step-up procedure before they are made:

- ``"bh"`` — Benjamini–Hochberg (1995), the default. It controls the false-discovery rate at
  ``alpha`` for independent p-values and, as Benjamini & Yekutieli (2001) proved, for
  positively regression dependent ones (PRDS). Our per-ticker tests are *one-sided*
  Diebold–Mariano tests of "the model's loss is lower than naive's"; stocks move together,
  so their statistics are positively correlated, and one-sided tests of positively
  correlated (asymptotically) normal statistics are PRDS. BH is valid here and much more
  powerful than the alternative.
- ``"by"`` — Benjamini–Yekutieli: BH at ``alpha / (1 + 1/2 + ... + 1/m)``, valid under any
  dependence. Choose it when the tests may be negatively dependent (e.g. two-sided tests,
  or a universe of long/short pairs).

Under the complete null (no ticker truly beats naive) the FDR equals the chance of making
any claim at all, which is what ``tests/test_universe_fdr.py`` measures by simulation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from forecast.errors import ConfigError

__all__ = ["FDR_METHODS", "FdrMethod", "adjust", "reject"]

FdrMethod = Literal["bh", "by"]
FDR_METHODS: tuple[str, ...] = ("bh", "by")
FDR_NAMES: dict[str, str] = {"bh": "Benjamini–Hochberg", "by": "Benjamini–Yekutieli"}


def adjust(p_values: np.ndarray, method: FdrMethod = "bh") -> np.ndarray:
    """Step-up adjusted p-values (q-values): claim where ``q <= alpha``.

    Parameters
    ----------
    p_values
        ``[m]`` p-values in [0, 1]; NaN (an untestable ticker) stays NaN and does not count
        towards ``m``.
    method
        ``"bh"`` or ``"by"`` (module docstring).

    Returns
    -------
    ndarray
        ``[m]`` adjusted p-values, each ``>=`` its p-value, monotone in it, at most 1.
    """
    if method not in FDR_METHODS:
        raise ConfigError(f"fdr={method!r} is not known; choose one of {', '.join(FDR_METHODS)}.")
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    tested = ~np.isnan(p)
    m = int(tested.sum())
    if m == 0:
        return out
    values = p[tested]
    if np.any((values < 0) | (values > 1)):
        raise ConfigError("p-values must lie between 0 and 1.")
    order = np.argsort(values, kind="stable")
    ranks = np.arange(1, m + 1)
    scale = float(np.sum(1.0 / ranks)) if method == "by" else 1.0
    stepped = values[order] * m * scale / ranks
    # q_(i) = min over j >= i of p_(j) m c / j: the running minimum from the largest p down.
    q_sorted = np.minimum.accumulate(stepped[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(q_sorted, 1.0)
    out[tested] = adjusted
    return out


def reject(p_values: np.ndarray, alpha: float = 0.05, method: FdrMethod = "bh") -> np.ndarray:
    """Boolean ``[m]``: the claims the step-up procedure makes at level ``alpha`` (NaN: False)."""
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be between 0 and 1, not {alpha!r}.")
    q = adjust(p_values, method)
    return np.nan_to_num(q, nan=2.0) <= alpha
