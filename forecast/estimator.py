"""What the pandas-facing estimators share, and loading any of them from a model directory.

:class:`SeriesEstimator` is the base of :class:`~forecast.forecaster.Forecaster` and
:class:`~forecast.baseline.Baseline`. Both follow scikit-learn's contract: keyword-only
hyperparameters stored unchanged in ``__init__``, every check at the start of ``fit``, learned
state in attributes ending in ``_``, ``fit`` returns ``self``, and ``predict`` before ``fit``
raises :class:`NotFittedError`.

Prices in, prices out: whatever a model learns on, ``predict`` answers in the units of the
data, indexed by the dates it forecasts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from forecast.data.calendars import describe_calendar
from forecast.data.columns import TICKER
from forecast.data.dates import future_dates
from forecast.data.panels import series_parts
from forecast.data.validate import validate
from forecast.errors import ConfigError, DataError, ModelFileError, NotFittedError
from forecast.model_files import TOP_KEYS
from forecast.seen import SeenBars
from forecast.serialization import read_model_dir

__all__ = ["ESTIMATOR_KINDS", "SeriesEstimator", "data_source", "load_model"]

# The saved "kind" of each estimator class -> the class (filled as subclasses are defined).
INTERVAL_KEY = "interval_calibration"  # optional fitted entry: out-of-sample residuals
ESTIMATOR_KINDS: dict[str, type[SeriesEstimator]] = {}


class SeriesEstimator(BaseEstimator):
    """What both estimators share: column checks, series splitting, dates, not-fitted errors.

    Each subclass names its ``_kind``, the word saved as ``"kind"`` in its model directory;
    defining the subclass registers it, so :func:`load_model` can rebuild any of them.
    """

    _kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_kind" in cls.__dict__:
            ESTIMATOR_KINDS[cls._kind] = cls

    def _with_data_source(self, state: dict[str, Any]) -> dict[str, Any]:
        """``state`` plus where the fitted data came from (``"data"``), when it is known."""
        source = getattr(self, "data_source_", None)
        return state if source is None else {**state, "data": source}

    def _check_fitted(self, call: str) -> None:
        if not hasattr(self, "fit_columns_"):
            name = type(self).__name__
            raise NotFittedError(
                f"this {name} is not fitted yet; call {name}.fit(data) before {call}()."
            )

    def _columns(self) -> tuple[list[str], list[str]]:
        """(features, targets) as lists, from the hyperparameters."""
        targets = [self.target] if isinstance(self.target, str) else list(self.target)
        if not targets:
            raise ConfigError("target is empty; name at least one column, e.g. target='Close'.")
        features = self._feature_names(targets)
        features = [features] if isinstance(features, str) else list(features)
        return features, targets

    def _feature_names(self, targets: list[str]) -> str | list[str]:
        """The input columns; a model that reads only its targets keeps this default."""
        return list(targets)

    def required_columns(self) -> list[str]:
        """The columns ``fit`` reads from the data: features, then targets, each once."""
        features, targets = self._columns()
        return list(dict.fromkeys([*features, *targets]))

    def rows_to_forecast(self) -> int:
        """The fewest rows, up to and including an origin, a forecast from it needs."""
        return self._min_rows(for_fit=False)

    def rows_to_fit(self) -> tuple[int, str]:
        """The fewest rows per series ``fit`` accepts, and the settings that decide it.

        Returns
        -------
        tuple of (int, str)
            The row count and an explanation naming the options, e.g.
            ``(66, "lookback=60 + horizon=5 + 1 (returns need a previous price)")``.
        """
        raise NotImplementedError

    def _check_columns(self, frame: pd.DataFrame) -> None:
        """Refuse data whose columns differ from those seen in ``fit``."""
        missing = [c for c in self.fit_columns_ if c not in frame.columns]
        if missing:
            raise DataError(
                f"{type(self).__name__} was fitted on columns {self.fit_columns_} but the data "
                f"has {list(map(str, frame.columns))} (missing {missing}); pass data with the "
                "same columns."
            )

    def _validated(
        self, frame: pd.DataFrame, columns: list[str], min_length: int, *, for_fit: bool
    ) -> pd.DataFrame:
        return validate(
            frame,
            columns=columns,
            nan_policy=self.nan_policy,
            require_positive=getattr(self, "representation", "levels") != "levels",
            require_moves=for_fit,  # a flat window to predict from is fine; flat training is not
            min_length=min_length,
        )

    def _frame_for_output(
        self,
        parts: list[tuple[str | None, pd.DataFrame]],
        values: list[np.ndarray],
        calendar: str | None = None,
    ) -> pd.DataFrame:
        """Stack per-series ``[H, K]`` forecasts into a frame indexed by future dates.

        ``calendar`` (the data's ``attrs["calendar"]``, set by ``load``) is the exchange whose
        sessions the dates follow; the frame's ``attrs["calendar"]`` says how they were stepped.
        """
        frames = []
        for (ticker, part), forecast in zip(parts, values, strict=True):
            dates = future_dates(part.index, self.horizon, calendar=calendar)
            out = pd.DataFrame(forecast, index=dates, columns=self.target_names_)
            if ticker is not None:
                out.index = pd.MultiIndex.from_arrays(
                    [[ticker] * len(dates), dates], names=[TICKER, dates.name]
                )
            frames.append(out)
        out = pd.concat(frames) if len(frames) > 1 else frames[0]
        out.attrs["calendar"] = describe_calendar(calendar)
        return out

    def predict(
        self, data: pd.DataFrame, *, intervals: float | Sequence[float] | None = None
    ) -> pd.DataFrame:
        """Forecast the next ``horizon`` steps after the last row of ``data``, in prices.

        Parameters
        ----------
        data
            Bars with the columns seen in ``fit`` (one series or a panel); only rows up to the
            last one are used.
        intervals
            Levels, e.g. ``(0.8, 0.95)``: add conformal ``lower_<L>``/``upper_<L>`` columns
            for the first target from the out-of-sample residuals attached by
            :func:`forecast.intervals.calibrate` (saved with the model).

        Returns
        -------
        DataFrame
            ``[H, K]`` prices indexed by the H future dates (following the data's frequency;
            trading days for daily stock bars: the sessions of ``data.attrs["calendar"]``,
            which ``load`` sets, else weekdays), in the data's time zone; a panel gives
            ``(ticker, Date)`` rows. ``attrs["calendar"]`` says how the dates were stepped.

        Raises
        ------
        NotFittedError
            Called before ``fit``.
        DataError
            The data lacks the fitted columns, fails validation, or is shorter than the
            lookback.
        ConfigError
            ``intervals`` on a model without calibration residuals, or bad levels.
        """
        self._check_fitted("predict")
        if intervals is not None:
            from forecast.intervals.levels import check_levels

            intervals = check_levels(intervals)
        frame = self._prepare(data, for_fit=False)
        parts = series_parts(frame)
        values = []
        for _, part in parts:
            last_row = np.array([len(part) - 1])
            values.append(self.forecast_rows(part, last_row)[0])
        out = self._frame_for_output(parts, values, frame.attrs.get("calendar"))
        if intervals is None:
            return out
        from forecast.intervals.calibration import add_bounds

        return add_bounds(out, self, intervals)

    def _interval_state(self) -> dict[str, Any]:
        """The saved form of the interval calibration, if one is attached (else nothing)."""
        calibration = getattr(self, "interval_calibration_", None)
        return {} if calibration is None else {INTERVAL_KEY: calibration.to_dict()}

    def _prepare(self, data: pd.DataFrame, *, for_fit: bool) -> pd.DataFrame:
        if not isinstance(data, pd.DataFrame):
            raise DataError(
                f"{type(self).__name__} expects a pandas DataFrame of bars, got "
                f"{type(data).__name__}; load data with forecast.load(...)."
            )
        if not for_fit:
            self._check_columns(data)
        columns = self.fit_columns_ if not for_fit else self.required_columns()
        return self._validated(data, columns, self._min_rows(for_fit), for_fit=for_fit)

    def forecast_rows(self, frame: pd.DataFrame, origin_rows: np.ndarray) -> np.ndarray:
        """Forecast from several origins of one validated series in one batched pass.

        Parameters
        ----------
        frame
            One validated series (no ticker level) with the fitted columns.
        origin_rows
            ``[N]`` positional rows of the origins (the last observed bar of each forecast).

        Returns
        -------
        ndarray
            ``[N, H, K]`` forecasts in price units for the H steps after each origin.
        """
        raise NotImplementedError

    def _restore(self, fitted: dict[str, Any], weights: dict[str, torch.Tensor] | None) -> None:
        """Set the fitted state read from a model directory (see :func:`load_model`)."""
        raise NotImplementedError


def load_model(path: str | os.PathLike[str]) -> SeriesEstimator:
    """Load any saved model directory (Forecaster or Baseline); never unpickles.

    Raises
    ------
    ModelFileError
        Missing files, a pickle in the directory, a wrong format version, unknown keys,
        or weights that do not match the configuration.
    """
    config, weights = read_model_dir(path, expected_keys=TOP_KEYS)
    kind = config.get("kind")
    if kind not in ESTIMATOR_KINDS or not isinstance(config.get("params"), dict):
        raise ModelFileError(
            f"config.json in {str(path)!r} names model kind {kind!r}; expected one of "
            f"{', '.join(ESTIMATOR_KINDS)}."
        )
    cls = ESTIMATOR_KINDS[kind]
    params = config["params"]
    known = set(cls().get_params())
    unknown = sorted(set(params) - known)
    if unknown:
        raise ModelFileError(
            f"config.json in {str(path)!r} has unknown parameters {unknown}; it was written by "
            "another version of forecast; save the model again with this version."
        )
    try:
        model = cls(**params)
        fitted = dict(config.get("fitted") or {})
        calibration = fitted.pop(INTERVAL_KEY, None)
        model._restore(fitted, weights)
        if calibration is not None:
            from forecast.intervals.calibration import IntervalCalibration

            model.interval_calibration_ = IntervalCalibration.from_dict(calibration)
        if config.get("seen") is not None:
            model.seen_ = SeenBars.from_dict(config["seen"])
        model.data_source_ = _saved_data_source(config.get("data"), path)
    except ModelFileError:
        raise
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"config.json in {str(path)!r} is inconsistent ({type(exc).__name__}: {exc}); "
            "save the model again."
        ) from None
    return model


def data_source(data: pd.DataFrame) -> dict[str, Any] | None:
    """How to load ``data`` again, from ``data.attrs["source"]`` (set by the command line).

    A JSON object such as ``{"source": "MSFT", "start": None, "end": None, "interval": "1d",
    "nan_policy": "drop"}``, kept by ``fit`` as ``data_source_`` and saved as ``"data"`` in
    the model's ``config.json``, so ``forecast predict`` can forecast from the data the model
    was fitted on. None when the frame does not say.
    """
    source = data.attrs.get("source") if isinstance(data, pd.DataFrame) else None
    if not isinstance(source, dict) or not isinstance(source.get("source"), str):
        return None
    return {str(key): value for key, value in source.items()}


def _saved_data_source(value: object, path: str | os.PathLike[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("source"), str):
        raise ModelFileError(
            f"config.json in {str(path)!r} has a 'data' entry that is not an object with a "
            "'source' string; save the model again."
        )
    return value
