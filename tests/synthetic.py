"""Synthetic bars with a known structure, shared by the tests (fixtures in conftest.py).

``random_walk_bars``: a positive random walk with consistent OHLCV bars, nothing to learn.
``sine_bars``: a noisy sine plus trend in log prices, which a recurrent network can learn and
the random walk cannot follow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SINE_PERIOD = 20  # bars per cycle of sine_bars


def random_walk_bars(
    n: int = 200,
    *,
    seed: int = 0,
    start: str = "2024-01-01",
    freq: str = "B",
    price: float = 100.0,
) -> pd.DataFrame:
    """``n`` consistent OHLCV bars of a geometric random walk (1 % daily volatility).

    The index is a ``DatetimeIndex`` named ``Date`` at ``freq`` (business days by default),
    Open is the previous Close, and High/Low cover the body.
    """
    rng = np.random.default_rng(seed)
    close = price * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    return _ohlcv(close, pd.date_range(start, periods=n, freq=freq, name="Date"))


def sine_bars(n: int = 560, *, seed: int = 0, noise: float = 0.002) -> pd.DataFrame:
    """A learnable series: ``log p = log 100 + 0.001 t + 0.05 sin(2 pi t / 20) + noise``.

    Trend and cycle live in log prices, so the log returns a Forecaster learns on are
    stationary. Besides OHLCV the frame has two exogenous columns, ``Sin`` and ``Cos``
    (``2 + sin`` and ``2 + cos`` of the cycle's phase, positive so that they can be turned
    into returns too): a calendar-like feature that is known at every origin.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = 2 * np.pi * t / SINE_PERIOD
    log_close = np.log(100.0) + 0.001 * t + 0.05 * np.sin(phase) + rng.normal(0.0, noise, n)
    frame = _ohlcv(np.exp(log_close), pd.bdate_range("2020-01-01", periods=n, name="Date"))
    frame["Sin"] = 2.0 + np.sin(phase)
    frame["Cos"] = 2.0 + np.cos(phase)
    return frame


def _ohlcv(close: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame(
        {
            "Open": open_,
            "High": np.maximum(open_, close) * 1.001,
            "Low": np.minimum(open_, close) * 0.999,
            "Close": close,
            "Volume": 1e6,
        },
        index=index,
    )
