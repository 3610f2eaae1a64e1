"""Null worlds for the calibration harness: series with no predictable signal, and models that
cannot beat the naive forecast on them, run through the REAL backtest.

Shared by ``tests/test_calibration.py`` (a small fixed-seed run in CI) and
``benchmarks/calibration.py`` (thousands of backtests), so both measure the same thing.

Worlds (:data:`WORLDS`), ``n`` business-day OHLCV bars from a seed:

``walk``        geometric random walk, 1% daily volatility, no drift;
``walk_drift``  arithmetic random walk with drift 0.05 per bar and shocks of sd 1 (start
                1,000), so the conditional mean ``y[o] + 0.05·k`` is known exactly;
``garch``       arithmetic walk with the same drift, GARCH(1,1) shocks (volatility
                clustering: persistence 0.95, unconditional sd 1);
``fat_tails``   arithmetic walk with the same drift, Student-t shocks with 3 degrees of
                freedom scaled to sd 1.

Contenders (estimators the backtest accepts, :class:`NullBaseline`):

``noisy_naive``  the last price plus ``noise · s · sqrt(k) · z``: ``s`` the sd of one bar's
                 price change on the training rows, ``z`` standard normal drawn
                 independently per (origin, step). Strictly worse than naive by the noise
                 variance; with the default noise (2% of the step's sd) the DM statistic
                 moves by about 0.07 of its sd, which adds < 0.1 percentage point to a 5%
                 rejection rate, so it measures size.
``drift_mirror`` ``y[o] + 2·drift·k``: the conditional mean ``y[o] + drift·k`` mirrored
                 away from naive's ``y[o]``. Both miss the mean by ``drift·k`` in opposite
                 directions, so their expected squared losses are EXACTLY equal (the loss
                 differential is ``-4·drift·k·u`` with ``u`` the innovation) whatever the
                 shocks, and equal in absolute loss for symmetric shocks. Its differentials
                 carry the overlap of real forecast errors (shared shocks between origins
                 closer than the horizon): the null that exercises the lag rule.

The backtest's own ``drift`` baseline runs alongside in every backtest (it cannot beat naive
on a walk without drift; it is slightly worse, so its "beats" claims count, not its rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from forecast import BacktestResult, Baseline, backtest

DRIFT = 0.05  # per bar, arithmetic worlds (shock sd 1)
START = 1_000.0
NOISE = 0.02  # noisy_naive: noise sd, as a fraction of the step's price-change sd


def _ohlcv(close: np.ndarray) -> pd.DataFrame:
    index = pd.bdate_range("2010-01-04", periods=close.size, name="Date")
    open_ = np.concatenate([[close[0]], close[:-1]])
    return pd.DataFrame({"Open": open_, "High": np.maximum(open_, close) * 1.001,
                         "Low": np.minimum(open_, close) * 0.999, "Close": close,
                         "Volume": 1e6}, index=index)


def walk(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Geometric random walk, 1% daily volatility, no drift."""
    return _ohlcv(100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n))))


def walk_drift(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Arithmetic random walk, drift :data:`DRIFT` per bar, normal shocks of sd 1."""
    return _ohlcv(START + np.cumsum(DRIFT + rng.standard_normal(n)))


def garch(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Arithmetic walk with drift and GARCH(1,1) shocks: σ²ₜ = 0.05 + 0.10 ε²ₜ₋₁ + 0.85 σ²ₜ₋₁."""
    shocks, variance = np.empty(n), 1.0
    for t, z in enumerate(rng.standard_normal(n)):
        shocks[t] = math.sqrt(variance) * z
        variance = 0.05 + 0.10 * shocks[t] ** 2 + 0.85 * variance
    return _ohlcv(START + np.cumsum(DRIFT + shocks))


def fat_tails(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Arithmetic walk with drift and Student-t(3) shocks scaled to sd 1."""
    return _ohlcv(START + np.cumsum(DRIFT + rng.standard_t(3, n) / math.sqrt(3.0)))


WORLDS: dict[str, Callable[[int, np.random.Generator], pd.DataFrame]] = {
    "walk": walk, "walk_drift": walk_drift, "garch": garch, "fat_tails": fat_tails,
}
DRIFTLESS = ("walk",)


class NullBaseline(Baseline):
    """A model that cannot beat naive on the null worlds (module docstring).

    Parameters
    ----------
    rule : {"noisy_naive", "drift_mirror"}
        Which null contender.
    noise
        ``noisy_naive``: sd of the noise, as a fraction of the step's price-change sd.
    drift
        ``drift_mirror``: the world's drift per bar, in price units.
    seed
        ``noisy_naive``: the noise at an origin depends only on (seed, origin row), so
        refits and batches do not change it.
    """

    def __init__(self, rule: str = "noisy_naive", *, horizon: int = 5, target: str = "Close",
                 noise: float = NOISE, drift: float = DRIFT, seed: int = 0) -> None:
        super().__init__(method="naive", horizon=horizon, target=target)
        self.rule = rule
        self.noise = noise
        self.drift = drift
        self.seed = seed

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep)
        params.pop("method", None)
        return params

    def fit(self, data: pd.DataFrame) -> NullBaseline:
        """Fit naive, and learn the sd of one bar's price change on the training rows."""
        super().fit(data)
        self.scale_ = float(np.std(np.diff(data[self.target].to_numpy(dtype=float))))
        return self

    def forecast_rows(self, frame: pd.DataFrame, origin_rows: np.ndarray) -> np.ndarray:
        naive = super().forecast_rows(frame, origin_rows)  # [N, H, K]
        steps = np.arange(1, naive.shape[1] + 1)[None, :, None]
        if self.rule == "drift_mirror":
            return naive + 2.0 * self.drift * steps
        if self.rule != "noisy_naive":
            raise ValueError(f"rule must be 'noisy_naive' or 'drift_mirror', not {self.rule!r}")
        z = np.stack([np.random.default_rng((self.seed, int(row))).standard_normal(naive.shape[1:])
                      for row in np.asarray(origin_rows)])  # [N, H, K]
        return naive + self.noise * self.scale_ * np.sqrt(steps) * z


@dataclass(frozen=True)
class NullRun:
    """What one null backtest printed: every significance claim, and direction accuracy."""

    world: str
    contender: str
    step: int
    overall_p: float
    overall_stat: float
    lags: int
    origins: int
    mase: float
    step_p: tuple[float, ...]  # per-step DM p-values, steps 1..H
    step_stat: tuple[float, ...]
    drift_p: float  # the backtest's own drift baseline against naive
    drift_stat: float
    direction: float  # the contender's direction accuracy
    direction_points: int
    verdict: str


def null_backtest(world: str, contender: str, seed: int, *, step: int = 5, horizon: int = 5,
                  n_bars: int = 1_259, test_size: int = 250, folds: int = 5,
                  estimator: Any = None) -> NullRun:
    """One simulated null backtest with the backtest's defaults (test 250 bars, 5 folds).

    ``estimator`` overrides the contender (e.g. a tiny trained Forecaster); ``contender`` is
    then only its label. :func:`null_result` gives the whole BacktestResult instead.
    """
    result = null_result(world, contender, seed, step=step, horizon=horizon, n_bars=n_bars,
                         test_size=test_size, folds=folds, estimator=estimator)
    return read_run(result, world, contender, step)


def null_result(world: str, contender: str, seed: int, *, step: int = 5, horizon: int = 5,
                n_bars: int = 1_259, test_size: int = 250, folds: int = 5,
                estimator: Any = None) -> BacktestResult:
    """The BacktestResult of :func:`null_backtest` (same arguments)."""
    rng = np.random.default_rng((seed, list(WORLDS).index(world)))
    frame = WORLDS[world](n_bars, rng)
    if estimator is None:
        estimator = NullBaseline(contender, horizon=horizon, seed=seed)
    return backtest(estimator, frame, test_size=test_size, folds=folds, step=step,
                    baselines=("drift",), model_name=contender)


def read_run(result: BacktestResult, world: str, contender: str, step: int) -> NullRun:
    """What ``result`` printed about ``contender``, as a :class:`NullRun`."""
    metrics = result.metrics.set_index("model")
    row, drift_row = metrics.loc[contender], metrics.loc["drift"]
    steps = result.per_step[result.per_step["model"] == contender].sort_values("step")
    mine = result.forecasts[result.forecasts["model"] == contender]
    moved = int((mine["actual"] != mine["origin_price"]).sum())
    return NullRun(
        world=world, contender=contender, step=step,
        overall_p=float(row["dm_pvalue"]), overall_stat=float(row["dm_stat"]),
        lags=int(row["dm_lags"]), origins=int(row["dm_origins"]), mase=float(row["mase"]),
        step_p=tuple(steps["dm_pvalue"].astype(float)),
        step_stat=tuple(steps["dm_stat"].astype(float)),
        drift_p=float(drift_row["dm_pvalue"]), drift_stat=float(drift_row["dm_stat"]),
        direction=float(row["direction_accuracy"]), direction_points=moved,
        verdict=result.verdict(),
    )


def binomial_band(rate: float, trials: int, z: float = 2.576) -> tuple[float, float]:
    """Where an observed share of ``trials`` falls 99% of the time (``z``) if the rate is
    ``rate``: ``rate ± z·sqrt(rate(1-rate)/trials)`` (normal approximation to the binomial)."""
    half = z * math.sqrt(rate * (1.0 - rate) / trials)
    return rate - half, rate + half


def family_z(checks: int, level: float = 0.99) -> float:
    """The two-sided z of a band that holds for ``checks`` rates at once with probability
    ``level`` (Bonferroni): ``Φ⁻¹(1 - (1 - level) / (2·checks))``."""
    from scipy import stats

    return float(stats.norm.isf((1.0 - level) / (2 * checks)))


def wilson_interval(hits: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default)."""
    share = hits / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials**2)) / (
        1 + z * z / trials)
    return centre - half, centre + half
