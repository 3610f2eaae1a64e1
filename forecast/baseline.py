"""``Baseline``: classical forecasts (naive, drift, mean, seasonal naive, ridge on lags) with
the :class:`~forecast.forecaster.Forecaster`'s interface, so a backtest scores them on exactly
the same origins.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from forecast.data.panels import series_parts
from forecast.errors import ConfigError, ModelFileError
from forecast.estimator import SeriesEstimator, data_source, load_model
from forecast.model_files import FITTED_KEYS, check_fitted_keys, check_same, jsonable_params
from forecast.models import BASELINES, RidgeLags
from forecast.numerics import check_finite_forecast
from forecast.serialization import write_model_dir

__all__ = ["Baseline"]


class Baseline(SeriesEstimator):
    """A classical forecast with the Forecaster's interface: naive, drift, mean, ridge, ...

    Parameters
    ----------
    method : {"naive", "seasonal_naive", "drift", "mean", "ridge"}
        ``naive`` repeats the last price (the random walk); ``seasonal_naive`` repeats the
        price ``season`` bars back; ``drift`` extends the line from the first to the last
        price; ``mean`` is the historical mean; ``ridge`` is scikit-learn Ridge on ``lags``
        lagged log returns predicting the next H.
    horizon : int
        H, steps forecast after each origin.
    target : str
        Column to forecast, in price units.
    season, lags, alpha
        Options of ``seasonal_naive`` and ``ridge``.
    """

    _kind = "baseline"

    def __init__(
        self,
        *,
        method: str = "naive",
        horizon: int = 5,
        target: str = "Close",
        season: int = 5,
        lags: int = 10,
        alpha: float = 1.0,
        nan_policy: str = "drop",
    ) -> None:
        self.method = method
        self.horizon = horizon
        self.target = target
        self.season = season
        self.lags = lags
        self.alpha = alpha
        self.nan_policy = nan_policy

    @property
    def name(self) -> str:
        """The label of this baseline in backtest tables (its ``method``)."""
        return self.method

    def _min_rows(self, for_fit: bool) -> int:
        return self.rows_to_fit()[0] if for_fit else 1

    def rows_to_fit(self) -> tuple[int, str]:
        if self.method == "ridge":
            # one (lags, horizon) example needs lags + 1 prices before and H after its origin
            return int(self.lags) + int(self.horizon) + 1, (
                f"lags={self.lags} + horizon={self.horizon} + 1"
            )
        return int(self.horizon) + 1, f"horizon={self.horizon} + 1"

    def _fits_in_threads(self) -> bool:
        """Baselines draw no random numbers: their fits can share a process."""
        return True

    def fit(self, data: pd.DataFrame) -> Baseline:
        """Check the data and fit the ridge coefficients (other methods learn nothing).

        Parameters
        ----------
        data
            Bars (one series or a ``(ticker, Date)`` panel) with the ``target`` column, at
            least ``horizon + 1`` rows per series; only these rows are used.

        Returns
        -------
        Baseline
            ``self``, fitted (``ridge_`` for ``method="ridge"``, ``fit_columns_``).

        Raises
        ------
        ConfigError
            Unknown ``method`` (the valid names are listed) or a bad ``horizon``.
        DataError
            The data fails validation (see :func:`forecast.validate`).
        """
        if self.method not in BASELINES:
            raise ConfigError(
                f"method={self.method!r} is not a baseline; choose one of {', '.join(BASELINES)}."
            )
        if not isinstance(self.horizon, int | np.integer) or self.horizon < 1:
            raise ConfigError(f"horizon must be a positive integer, got {self.horizon!r}.")
        if self.method == "ridge" and (
            not isinstance(self.lags, int | np.integer)
            or isinstance(self.lags, bool)
            or self.lags < 1
        ):
            raise ConfigError(f"lags must be an integer >= 1, got {self.lags!r}; pass e.g. 10.")
        frame = self._prepare(data, for_fit=True)
        _, targets = self._columns()
        self.ridge_ = None
        if self.method == "ridge":
            series = [part[targets].to_numpy(dtype=np.float64) for _, part in series_parts(frame)]
            ridge = RidgeLags(lags=self.lags, horizon=int(self.horizon), alpha=self.alpha)
            self.ridge_ = ridge.fit(series[0] if len(series) == 1 else series)
        self.feature_names_in_ = targets
        self.target_names_ = targets
        self.fit_columns_ = targets
        self.n_features_in_ = len(targets)
        self.data_source_ = data_source(data)
        return self

    def forecast_rows(self, frame: pd.DataFrame, origin_rows: np.ndarray) -> np.ndarray:
        self._check_fitted("forecast_rows")
        series = frame[self.target_names_].to_numpy(dtype=np.float64)
        rows = np.asarray(origin_rows, dtype=np.int64)
        if self.method == "ridge":
            forecast = self.ridge_.forecast(series, rows, int(self.horizon))
        elif self.method == "seasonal_naive":
            function = BASELINES[self.method]
            forecast = function(series, rows, int(self.horizon), season=int(self.season))
        else:
            forecast = BASELINES[self.method](series, rows, int(self.horizon))
        return check_finite_forecast(forecast, frame.index, rows)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save parameters (and ridge coefficients) as JSON; no weights file.

        Returns ``path``; raises :class:`NotFittedError` before ``fit``. Written atomically.
        """
        self._check_fitted("save")
        fitted = {
            "target_names": self.target_names_,
            "ridge": self.ridge_.to_dict() if self.ridge_ is not None else None,
            **self._interval_state(),
        }
        state = {
            "kind": self._kind,
            "params": jsonable_params(self.get_params()),
            "fitted": fitted,
        }
        return write_model_dir(path, self._with_data_source(state), None)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Baseline:
        """Load a baseline saved by :meth:`save`; raises :class:`ModelFileError` if the
        directory is damaged or holds a recurrent model."""
        model = load_model(path)
        if not isinstance(model, cls):
            raise ModelFileError(f"{str(path)!r} holds a {type(model).__name__}, not a Baseline.")
        return model

    def _restore(self, fitted: dict[str, Any], weights: dict[str, torch.Tensor] | None) -> None:
        if weights is not None:
            raise ModelFileError(
                "the model directory holds weights.safetensors, but a Baseline has no weights; "
                "the files come from different models — save the model again."
            )
        check_fitted_keys(fitted, FITTED_KEYS["baseline"])
        check_same("target_names", fitted["target_names"], self._columns()[1])
        ridge = fitted["ridge"]
        if (ridge is not None) != (self.method == "ridge"):
            raise ConfigError(f"a {self.method!r} baseline cannot have ridge state {ridge!r}.")
        if ridge is not None:
            restored = RidgeLags.from_dict(ridge)
            check_same(
                "ridge",
                [restored.lags, restored.horizon, restored.alpha],
                [self.lags, self.horizon, self.alpha],
            )
        self.target_names_ = list(fitted["target_names"])
        self.feature_names_in_ = self.target_names_
        self.fit_columns_ = self.target_names_
        self.n_features_in_ = len(self.target_names_)
        self.ridge_ = RidgeLags.from_dict(fitted["ridge"]) if fitted.get("ridge") else None
