"""Honest baselines on price series, in plain numpy, with no look-ahead by construction.

Every forecaster here reads ``series[: o + 1]`` and nothing after it for a forecast made at
origin row ``o``: changing any later row leaves that forecast bit-for-bit unchanged. A recurrent
model that cannot beat ``naive`` has learned nothing useful.

Shapes: ``series`` is ``[L, K]`` float prices (a 1-D series is read as ``[L, 1]``),
``origin_rows`` is ``[N]`` integer rows, and every forecast is ``[N, H, K]`` prices, where
``forecast[i, h - 1]`` is the forecast for row ``origin_rows[i] + h``.

``BASELINES`` maps each name to its function (or, for ``"ridge"``, its class);
:class:`forecast.Baseline` gives all of them the estimators' ``fit`` / ``predict`` interface.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from forecast.errors import ConfigError, DataError, NotFittedError

__all__ = [
    "BASELINES",
    "RidgeLags",
    "drift",
    "mean",
    "naive",
    "seasonal_naive",
]


def _as_series(series: Any) -> np.ndarray:
    values = np.asarray(series, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]  # [L, 1]
    if values.ndim != 2 or values.shape[0] == 0:
        raise DataError(
            f"series must be prices shaped [L, K] (rows are dates), got shape {values.shape}; "
            "pass frame[columns].to_numpy()."
        )
    return values


def _as_origins(origin_rows: Any, n_rows: int) -> np.ndarray:
    origins = np.asarray(origin_rows)
    if origins.ndim == 0:
        origins = origins[None]
    if origins.ndim != 1 or (origins.size and not np.issubdtype(origins.dtype, np.integer)):
        raise DataError(
            f"origin_rows must be a 1-D array of integer rows, got {origins.dtype} shaped "
            f"{origins.shape}; pass Windows.origin_rows."
        )
    if origins.size and (origins.min() < 0 or origins.max() >= n_rows):
        raise DataError(
            f"origin_rows must lie in 0..{n_rows - 1} (rows of the series), got "
            f"{origins.min()}..{origins.max()}; forecast only from rows that exist."
        )
    return origins.astype(np.int64)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _steps(horizon: int) -> np.ndarray:
    if not _is_int(horizon) or horizon < 1:
        raise ConfigError(f"horizon must be an integer >= 1, got {horizon!r}.")
    return np.arange(1, int(horizon) + 1)  # h = 1..H


def naive(series: Any, origin_rows: Any, horizon: int) -> np.ndarray:
    """The last observed price, repeated: ``forecast[o + h] = series[o]``. Returns ``[N, H, K]``."""
    values = _as_series(series)
    origins = _as_origins(origin_rows, len(values))
    steps = _steps(horizon)
    return np.repeat(values[origins][:, None, :], len(steps), axis=1)  # [N, H, K]


def seasonal_naive(series: Any, origin_rows: Any, horizon: int, season: int = 5) -> np.ndarray:
    """The price one season earlier: ``forecast[o + h] = series[o - season + 1 + (h-1) % season]``.

    ``season=5`` repeats last week's business days. Origins with less than one season of
    history (``o < season - 1``) fall back to :func:`naive`. Returns ``[N, H, K]``.
    """
    if not _is_int(season) or season < 1:
        raise ConfigError(f"season must be an integer >= 1, got {season!r}; pass e.g. 5.")
    values = _as_series(series)
    origins = _as_origins(origin_rows, len(values))
    steps = _steps(horizon)
    rows = origins[:, None] - season + 1 + (steps[None, :] - 1) % season  # [N, H]
    short = origins < season - 1
    rows[short] = origins[short, None]  # not a full season yet: naive
    return values[rows]  # [N, H, K]


def drift(series: Any, origin_rows: Any, horizon: int) -> np.ndarray:
    """The line through the first and the last observed price, extended h steps.

    ``forecast[o + h] = series[o] + h * (series[o] - series[0]) / o``; ``o = 0`` has no
    slope and gives :func:`naive`. Returns ``[N, H, K]``.
    """
    values = _as_series(series)
    origins = _as_origins(origin_rows, len(values))
    steps = _steps(horizon)
    last = values[origins]  # [N, K]
    slope = (last - values[0]) / np.maximum(origins, 1)[:, None]  # [N, K]; o = 0 -> 0
    return last[:, None, :] + steps[None, :, None] * slope[:, None, :]  # [N, H, K]


def mean(series: Any, origin_rows: Any, horizon: int) -> np.ndarray:
    """The mean of every price up to the origin (rows ``0..o``), repeated. Returns ``[N, H, K]``."""
    values = _as_series(series)
    origins = _as_origins(origin_rows, len(values))
    steps = _steps(horizon)
    # A running sum is sequential, so row o of it never depends on rows after o.
    expanding = np.cumsum(values, axis=0) / np.arange(1, len(values) + 1)[:, None]  # [L, K]
    return np.repeat(expanding[origins][:, None, :], len(steps), axis=1)  # [N, H, K]


def _log_prices(values: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise DataError(
            "the ridge baseline works on log returns and needs finite prices > 0; validate the "
            "data with require_positive=True or use another baseline."
        )
    return np.log(values)


class RidgeLags:
    """Ridge regression from the last ``lags`` log returns to the next H cumulative log returns.

    Direct multi-output: one linear map predicts ``log(p[o + h] / p[o])`` for h = 1..H and
    every target at once, from the ``lags`` log returns ending at ``o`` (rows ``o - lags..o``).
    Forecasts are converted back to prices as ``series[o] * exp(...)``. Origins with fewer
    than ``lags`` returns before them (``o < lags``) fall back to :func:`naive`.

    Parameters
    ----------
    lags
        Log returns per target fed to the regression.
    horizon
        H, how many steps the fitted map predicts (``forecast`` may ask for fewer).
    alpha
        Ridge penalty.

    Attributes
    ----------
    coef_ : ndarray ``[H * K, lags * K]``
    intercept_ : ndarray ``[H * K]``
    n_targets_ : int

    Warnings
    --------
    ``fit`` must see the training rows only; fitting on the whole series leaks the test
    period into the coefficients even though each forecast reads only its past.
    """

    def __init__(self, *, lags: int = 10, horizon: int = 5, alpha: float = 1.0) -> None:
        self.lags = lags
        self.horizon = horizon
        self.alpha = alpha

    def fit(self, series_train: Any) -> RidgeLags:
        """Fit on training prices with the constructor's ``lags``, ``horizon`` and ``alpha``.

        The hyperparameters are read, never changed: a refit (or a ``clone``) fits the same
        model.

        Parameters
        ----------
        series_train
            ``[L, K]`` prices, or a list of such arrays (one per ticker of a panel): lags and
            targets are cut inside each series, never across two.

        Raises
        ------
        DataError
            If prices are not positive, or no series has more than ``lags + horizon`` rows.
        """
        if not _is_int(self.lags) or self.lags < 1:
            raise ConfigError(f"lags must be an integer >= 1, got {self.lags!r}; pass e.g. 10.")
        steps = _steps(self.horizon)
        alpha_ok = isinstance(self.alpha, numbers.Real) and not isinstance(self.alpha, bool)
        if not (alpha_ok and self.alpha >= 0):
            raise ConfigError(f"alpha must be a number >= 0, got {self.alpha!r}; pass e.g. 1.0.")
        parts = series_train if isinstance(series_train, list | tuple) else [series_train]
        series = [_log_prices(_as_series(part)) for part in parts]  # each [L, K]
        if len({part.shape[1] for part in series}) > 1:
            raise DataError("every series given to RidgeLags.fit must have the same columns.")
        features, targets = [], []
        for log_prices in series:
            origins = np.arange(self.lags, len(log_prices) - len(steps))  # H rows follow each
            if origins.size == 0:
                continue  # too short to give one (lags, horizon) example
            features.append(self._features(log_prices, origins))  # [n, lags * K]
            cumulative = log_prices[origins[:, None] + steps] - log_prices[origins, None]
            targets.append(cumulative.reshape(len(origins), -1))  # [n, H * K]
        if not features:
            raise DataError(
                f"the ridge baseline needs a series longer than lags + horizon = "
                f"{self.lags + len(steps)} rows, got {[len(part) for part in series]}; use "
                "fewer lags or more training data."
            )
        from sklearn.linear_model import Ridge  # here: listing the zoo must stay light

        model = Ridge(alpha=float(self.alpha)).fit(
            np.concatenate(features), np.concatenate(targets)
        )
        self.coef_ = np.atleast_2d(model.coef_)  # [H * K, lags * K]
        self.intercept_ = np.atleast_1d(model.intercept_)  # [H * K]
        self.n_targets_ = self.coef_.shape[1] // int(self.lags)
        return self

    def forecast(self, series: Any, origin_rows: Any, horizon: int) -> np.ndarray:
        """Forecast prices ``[N, H, K]`` from ``series[: o + 1]`` at each origin ``o``."""
        if not hasattr(self, "coef_"):
            raise NotFittedError(
                "this RidgeLags is not fitted yet; call fit(series_train) before forecast."
            )
        values = _as_series(series)
        origins = _as_origins(origin_rows, len(values))
        steps = _steps(horizon)
        if len(steps) > self.horizon:
            raise ConfigError(
                f"horizon={len(steps)} is longer than the fitted horizon={self.horizon}; "
                f"fit with horizon={len(steps)}."
            )
        if values.shape[1] != self.n_targets_:
            raise DataError(
                f"series has {values.shape[1]} column(s) but the ridge baseline was fitted on "
                f"{self.n_targets_}; pass the same columns."
            )
        prices = naive(values, origins, len(steps))  # [N, H, K]; kept where o < lags
        ready = origins >= self.lags
        if ready.any():
            # Only rows o - lags..o are read; logs are taken of that slice alone.
            rows = origins[ready, None] + np.arange(-self.lags, 1)  # [n, lags + 1]
            window_logs = _log_prices(values[rows])  # [n, lags + 1, K]
            returns = np.diff(window_logs, axis=1).reshape(len(rows), -1)  # [n, lags * K]
            cumulative = returns @ self.coef_.T + self.intercept_  # [n, H_fit * K]
            cumulative = cumulative.reshape(len(rows), self.horizon, -1)[:, : len(steps)]
            prices[ready] = values[origins[ready], None, :] * np.exp(cumulative)  # [n, H, K]
        return prices

    def _features(self, log_prices: np.ndarray, origins: np.ndarray) -> np.ndarray:
        rows = origins[:, None] + np.arange(-self.lags, 1)  # [n, lags + 1]
        return np.diff(log_prices[rows], axis=1).reshape(len(origins), -1)  # [n, lags * K]

    def to_dict(self) -> dict[str, Any]:
        """Settings and coefficients as JSON types (no pickle)."""
        state: dict[str, Any] = {"lags": self.lags, "horizon": self.horizon, "alpha": self.alpha}
        if hasattr(self, "coef_"):
            state |= {
                "coef": self.coef_.tolist(),
                "intercept": self.intercept_.tolist(),
                "n_targets": self.n_targets_,
            }
        return state

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> RidgeLags:
        """Rebuild a ``RidgeLags`` saved by ``to_dict``."""
        known = {"lags", "horizon", "alpha", "coef", "intercept", "n_targets"}
        if not isinstance(state, dict) or set(state) - known:
            raise ConfigError(
                f"a RidgeLags state must be a dict with keys among {sorted(known)}, got "
                f"{sorted(state) if isinstance(state, dict) else type(state).__name__}."
            )
        model = cls(lags=state["lags"], horizon=state["horizon"], alpha=state["alpha"])
        if "coef" in state:
            coef = np.asarray(state["coef"], dtype=np.float64)
            intercept = np.asarray(state["intercept"], dtype=np.float64)
            n_targets = state["n_targets"]
            # A damaged or edited state must fail here, not as a shape error mid-forecast.
            valid = (
                _is_int(model.lags)
                and _is_int(model.horizon)
                and _is_int(n_targets)
                and min(model.lags, model.horizon, n_targets) >= 1
                and coef.shape == (model.horizon * n_targets, model.lags * n_targets)
                and intercept.shape == (model.horizon * n_targets,)
                and bool(np.isfinite(coef).all() and np.isfinite(intercept).all())
            )
            if not valid:
                raise ConfigError(
                    f"the RidgeLags state's coefficients {coef.shape} and intercept "
                    f"{intercept.shape} do not fit lags={model.lags!r}, "
                    f"horizon={model.horizon!r}, n_targets={n_targets!r}, or are not finite; "
                    "fit and save the baseline again."
                )
            model.coef_, model.intercept_, model.n_targets_ = coef, intercept, int(n_targets)
        return model

    def __repr__(self) -> str:
        defaults = {"lags": 10, "horizon": 5, "alpha": 1.0}
        changed = [
            f"{k}={getattr(self, k)!r}" for k, v in defaults.items() if getattr(self, k) != v
        ]
        return f"RidgeLags({', '.join(changed)})"


BASELINES: dict[str, Callable[..., Any]] = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "drift": drift,
    "mean": mean,
    "ridge": RidgeLags,
}


def baseline_options(name: str) -> dict[str, Any]:
    """The options of baseline ``name`` with their defaults (``{}`` when it has none)."""
    skip = {"series", "origin_rows", "horizon", "self"}
    parameters = inspect.signature(BASELINES[name]).parameters.values()
    return {p.name: p.default for p in parameters if p.name not in skip}
