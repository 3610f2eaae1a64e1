"""The pandas-facing estimators: ``Forecaster`` (recurrent zoo) and ``Baseline``.

Both follow scikit-learn's contract: keyword-only hyperparameters stored unchanged in
``__init__``, every check at the start of ``fit``, learned state in attributes ending in ``_``,
``fit`` returns ``self``, and ``predict`` before ``fit`` raises :class:`NotFittedError`.

Prices in, prices out: whatever the network learns on (log returns by default, standard
scaled), ``predict`` answers in the units of the data, indexed by the dates it forecasts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator

from forecast.data.columns import OHLC, TICKER
from forecast.data.dates import future_dates
from forecast.data.transforms import SeriesTransform
from forecast.data.validate import MAX_ABS_VALUE, validate
from forecast.data.windows import input_windows, target_windows
from forecast.errors import (
    ConfigError,
    DataError,
    ModelFileError,
    NotFittedError,
    TrainingError,
)
from forecast.models import BASELINES, ModelConfig, RidgeLags, build_model
from forecast.serialization import read_model_dir, write_model_dir
from forecast.topologies import canonical_topology
from forecast.training import TrainConfig, TrainHistory, resolve_device, seeded, train

__all__ = ["Baseline", "Forecaster", "load_model"]


class _Estimator(BaseEstimator):
    """What both estimators share: column checks, series splitting, dates, not-fitted errors."""

    _kind: ClassVar[str]

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
        features = self._default_features(targets) if self.features is None else self.features
        features = [features] if isinstance(features, str) else list(features)
        return features, targets

    def _default_features(self, targets: list[str]) -> list[str]:
        return list(targets)

    def _check_columns(self, frame: pd.DataFrame) -> None:
        """Refuse data whose columns differ from those seen in ``fit``."""
        missing = [c for c in self.fit_columns_ if c not in frame.columns]
        if missing:
            raise DataError(
                f"{type(self).__name__} was fitted on columns {self.fit_columns_} but the data "
                f"has {list(map(str, frame.columns))} (missing {missing}); pass data with the "
                "same columns."
            )

    def _validated(self, frame: pd.DataFrame, columns: list[str], min_length: int) -> pd.DataFrame:
        return validate(
            frame,
            columns=columns,
            nan_policy=self.nan_policy,
            require_positive=getattr(self, "representation", "levels") != "levels",
            min_length=min_length,
        )

    def _frame_for_output(
        self, parts: list[tuple[str | None, pd.DataFrame]], values: list[np.ndarray]
    ) -> pd.DataFrame:
        """Stack per-series ``[H, K]`` forecasts into a frame indexed by future dates."""
        frames = []
        for (ticker, part), forecast in zip(parts, values, strict=True):
            dates = future_dates(part.index, self.horizon)
            out = pd.DataFrame(forecast, index=dates, columns=self.target_names_)
            if ticker is not None:
                out.index = pd.MultiIndex.from_arrays(
                    [[ticker] * len(dates), dates], names=[TICKER, dates.name]
                )
            frames.append(out)
        return pd.concat(frames) if len(frames) > 1 else frames[0]

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        """Forecast the next ``horizon`` steps after the last row of ``data``, in prices.

        Parameters
        ----------
        data
            Bars with the columns seen in ``fit`` (one series or a panel); only rows up to the
            last one are used.

        Returns
        -------
        DataFrame
            ``[H, K]`` prices indexed by the H future dates (following the data's frequency;
            business days for daily stock bars); a panel gives ``(ticker, Date)`` rows.

        Raises
        ------
        NotFittedError
            Called before ``fit``.
        DataError
            The data lacks the fitted columns, fails validation, or is shorter than the
            lookback.
        """
        self._check_fitted("predict")
        frame = self._prepare(data, for_fit=False)
        parts = _series_parts(frame)
        values = []
        for _, part in parts:
            last_row = np.array([len(part) - 1])
            values.append(self.forecast_rows(part, last_row)[0])
        return self._frame_for_output(parts, values)

    def _prepare(self, data: pd.DataFrame, *, for_fit: bool) -> pd.DataFrame:
        if not isinstance(data, pd.DataFrame):
            raise DataError(
                f"{type(self).__name__} expects a pandas DataFrame of bars, got "
                f"{type(data).__name__}; load data with forecast.load(...)."
            )
        if not for_fit:
            self._check_columns(data)
        columns = self.fit_columns_ if not for_fit else self._all_columns()
        return self._validated(data, columns, self._min_rows(for_fit))

    def _all_columns(self) -> list[str]:
        features, targets = self._columns()
        return list(dict.fromkeys([*features, *targets]))

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


class Forecaster(_Estimator):
    """A recurrent network (RNN, LSTM or GRU) in one of four topologies, fitted on bars.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}
        Recurrent cell; ``nonlinearity`` ("tanh" or "relu") applies to "rnn".
    topology : {"n_to_m", "n_to_1", "n_to_n", "1_to_n"}
        How input steps map to outputs (aliases: seq2seq, many_to_one, many_to_many,
        one_to_many); see :mod:`forecast.topologies`.
    lookback : int
        T, input steps per window (ignored by "1_to_n", which reads the last bar only).
    horizon : int
        H, steps forecast after each origin.
    target : str or list of str
        Column(s) to forecast (K of them), in price units.
    features : list of str, optional
        Input columns (F of them). Default: the target(s) for "n_to_1"/"n_to_n" (so they can
        roll forward their own output), Open/High/Low/Close when present otherwise.
    hidden_size, num_layers, dropout, bidirectional, nonlinearity
        Backbone settings (``bidirectional`` only for "n_to_1" and "n_to_m" encoders).
    decoder : {"autoregressive", "direct"}
        For "n_to_m": a seq2seq decoder fed its own output, or one multi-output head.
    multi_step : {"auto", "recursive", "direct"}
        For "n_to_1": roll the next-step model forward, or predict H steps at once.
    teacher_forcing : float
        Share of decoder steps fed the true previous value in training (scheduled sampling
        below 1.0).
    representation : {"log_return", "simple_return", "levels"}
        What the network learns on; forecasts are converted back to prices exactly.
    scaler : {"standard", "minmax", "robust", "none"}
        scikit-learn scaler fitted on the training rows only.
    epochs, batch_size, lr, optimizer, weight_decay, loss, clip_grad_norm, patience,
    val_fraction, seed, device, progress
        Training settings; see :class:`forecast.training.TrainConfig`.
    precision : {"float32", "bfloat16"}
        "bfloat16" trains with bfloat16 matrix products (weights, optimizer and loss stay
        float32) on CPUs with native bfloat16, refused on CPUs without it; it pays in
        one-thread refit lanes (about 1.6x on the benchmark CPU, see benchmarks/RESULTS.md).
        Forecasts always run in float32.
    nan_policy : {"drop", "ffill", "error"}
        How validation treats NaN/inf rows.
    warm_start : bool
        When already fitted, ``fit`` starts from the current weights instead of a fresh
        initialisation (scikit-learn's convention); the scaler is refitted either way.

    Examples
    --------
    >>> import forecast as fc
    >>> df = fc.load("AAPL")
    >>> m = fc.Forecaster(cell="lstm", topology="n_to_m", lookback=60, horizon=5, epochs=2)
    >>> m.fit(df).predict(df).shape
    (5, 1)
    """

    _kind = "recurrent"

    def __init__(
        self,
        *,
        cell: str = "lstm",
        topology: str = "n_to_m",
        lookback: int = 60,
        horizon: int = 5,
        target: str | Sequence[str] = "Close",
        features: Sequence[str] | None = None,
        hidden_size: int = 64,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        decoder: str = "autoregressive",
        multi_step: str = "auto",
        teacher_forcing: float = 1.0,
        representation: str = "log_return",
        scaler: str = "standard",
        epochs: int = 30,
        batch_size: int = 64,
        lr: float = 1e-3,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        loss: str = "mse",
        clip_grad_norm: float | None = 1.0,
        patience: int | None = 5,
        val_fraction: float = 0.1,
        seed: int = 0,
        device: str = "auto",
        progress: bool | None = None,
        nan_policy: str = "drop",
        warm_start: bool = False,
        precision: str = "float32",
    ) -> None:
        self.cell = cell
        self.topology = topology
        self.lookback = lookback
        self.horizon = horizon
        self.target = target
        self.features = features
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.nonlinearity = nonlinearity
        self.decoder = decoder
        self.multi_step = multi_step
        self.teacher_forcing = teacher_forcing
        self.representation = representation
        self.scaler = scaler
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.loss = loss
        self.clip_grad_norm = clip_grad_norm
        self.patience = patience
        self.val_fraction = val_fraction
        self.seed = seed
        self.device = device
        self.progress = progress
        self.nan_policy = nan_policy
        self.warm_start = warm_start
        self.precision = precision

    # -- configuration -------------------------------------------------------------------
    def _default_features(self, targets: list[str]) -> list[str]:
        if canonical_topology(self.topology) in ("n_to_1", "n_to_n"):
            return list(targets)
        return list(OHLC)

    def _offset(self) -> int:
        """Rows lost at the start by the representation (1 for returns: no previous price)."""
        return 0 if self.representation == "levels" else 1

    def _window_length(self) -> int:
        return 1 if canonical_topology(self.topology) == "1_to_n" else int(self.lookback)

    def _min_rows(self, for_fit: bool) -> int:
        rows = self._window_length() + self._offset()
        return rows + int(self.horizon) if for_fit else rows

    def _fits_in_threads(self) -> bool:
        """Whether ``fit`` can run in a thread beside another fit (see :mod:`forecast.refits`).

        Yes unless training draws from torch's global generator, which all threads share:
        dropout between stacked layers and scheduled sampling (``teacher_forcing < 1``) do.
        """
        try:
            dropout = float(self.dropout) > 0 and int(self.num_layers) > 1
            return not dropout and float(self.teacher_forcing) >= 1.0
        except (TypeError, ValueError):
            return False  # a bad setting: fit will name it, wherever it runs

    def _check_params(self) -> tuple[ModelConfig, TrainConfig]:
        for name in ("lookback", "horizon"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"{name} of Forecaster must be a positive integer, got {value!r}."
                )
        features, targets = self._columns()
        target_index = (
            [features.index(t) for t in targets] if all(t in features for t in targets) else None
        )
        model_config = ModelConfig(
            cell=self.cell,
            topology=canonical_topology(self.topology),
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            nonlinearity=self.nonlinearity,
            horizon=int(self.horizon),
            decoder=self.decoder,
            multi_step=self.multi_step,
            teacher_forcing=self.teacher_forcing,
            n_features=len(features),
            n_targets=len(targets),
            target_index=target_index,
        ).validate()
        train_config = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            loss=self.loss,
            clip_grad_norm=self.clip_grad_norm,
            patience=self.patience,
            val_fraction=self.val_fraction,
            seed=self.seed,
            device=self.device,
            progress=self.progress,
            precision=self.precision,
        ).validate()
        SeriesTransform.check_options(representation=self.representation, scaler=self.scaler)
        return model_config, train_config

    # -- fit -----------------------------------------------------------------------------
    def fit(self, data: pd.DataFrame) -> Forecaster:
        """Fit the scaler on ``data``'s rows, window it, and train the network.

        Everything fitted (scaler statistics, weights) sees only ``data``: pass the training
        slice, never the full history you will evaluate on (see :func:`forecast.backtest`).

        Parameters
        ----------
        data
            Bars (one series or a ``(ticker, Date)`` panel) with the feature and target
            columns, at least ``lookback + horizon + 1`` rows per series.

        Returns
        -------
        Forecaster
            ``self``, fitted: ``module_``, ``transform_``, ``history_``, ``fit_columns_``.

        Raises
        ------
        ConfigError
            An invalid hyperparameter or a refused combination (e.g. bidirectional N-to-N).
        DataError
            The data fails validation or is too short for ``lookback + horizon + 1`` rows.
        TrainingError
            The loss became NaN or inf; the estimator is left unfitted.
        """
        model_config, train_config = self._check_params()
        frame = self._prepare(data, for_fit=True)
        features, targets = self._columns()
        columns = list(dict.fromkeys([*features, *targets]))
        parts = _series_parts(frame)

        transform = SeriesTransform(representation=self.representation, scaler=self.scaler)
        transform.fit([part[columns].to_numpy(dtype=np.float64) for _, part in parts])
        feature_idx = [columns.index(c) for c in features]
        target_idx = [columns.index(c) for c in targets]

        with seeded(train_config.seed):
            module = build_model(model_config)
        if self.warm_start and getattr(self, "model_config_", None) == model_config:
            # sklearn's warm_start: continue from the weights of the previous fit (the
            # scaler is still refitted on this data; only the network's weights carry over).
            module.load_state_dict(self.module_.state_dict())
        X_parts, y_parts, origin_parts = [], [], []
        for _, part in parts:
            scaled = transform.transform(part[columns].to_numpy(dtype=np.float64))
            scaled = torch.from_numpy(np.ascontiguousarray(scaled[self._offset() :]))
            y = target_windows(
                scaled[:, target_idx],
                self._window_length(),
                int(self.horizon),
                module.train_target,
            )
            X = input_windows(scaled[:, feature_idx], self._window_length())[: len(y)]
            X_parts.append(X)
            y_parts.append(y)
            origin_parts.append(part.index[self._offset() + self._window_length() - 1 :][: len(y)])
        X, y = _stack_in_time_order(X_parts, y_parts, origin_parts)
        try:
            history = train(module, X, y, train_config, horizon=int(self.horizon))
            _check_converged(module, history, y, train_config)
        except TrainingError:
            # A diverged refit must not leave the previous fit behind to be saved or used
            # as if it were the result of this call: the estimator is unfitted again.
            for name in _FITTED_ATTRIBUTES:
                self.__dict__.pop(name, None)
            raise

        self.module_ = module.cpu().eval()
        self.model_config_ = model_config
        self.train_config_ = train_config
        self.transform_ = transform
        self.history_ = history
        self.feature_names_in_ = features
        self.target_names_ = targets
        self.fit_columns_ = columns
        self.n_features_in_ = len(features)
        return self

    # -- predict -------------------------------------------------------------------------
    def forecast_rows(self, frame: pd.DataFrame, origin_rows: np.ndarray) -> np.ndarray:
        self._check_fitted("forecast_rows")
        origin_rows = np.asarray(origin_rows, dtype=np.int64)
        window = self._window_length()
        if origin_rows.size and origin_rows.min() < window - 1 + self._offset():
            raise DataError(
                f"an origin at row {int(origin_rows.min())} has fewer than {window} bars of "
                f"history (lookback {window}); start forecasting later or lower lookback."
            )
        columns = self.fit_columns_
        prices = frame[columns].to_numpy(dtype=np.float64)
        scaled = torch.from_numpy(np.ascontiguousarray(self.transform_.transform(prices)))
        feature_idx = [columns.index(c) for c in self.feature_names_in_]
        target_idx = [columns.index(c) for c in self.target_names_]
        windows = input_windows(scaled[:, feature_idx], window)  # [L-T+1, T, F] view
        device = resolve_device(self.device)
        module = self.module_.to(device)
        with torch.no_grad():
            out = _forecast_by_slot(module, windows, origin_rows - (window - 1), device)
        module.cpu()
        last_price = prices[origin_rows][:, target_idx]  # [N, K]
        forecast = self.transform_.inverse(out, last_price, columns=target_idx)
        return _check_finite_forecast(forecast, frame.index, origin_rows)

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to a directory: ``config.json`` (parameters, fitted state) + safetensors.

        Never pickles; :meth:`load` reads it back with no code execution. The directory is
        written beside ``path`` and renamed into place, so an interrupted save leaves the
        previous model (or nothing).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        NotFittedError
            If called before ``fit``.
        """
        self._check_fitted("save")
        state = {
            "kind": self._kind,
            "params": _jsonable_params(self.get_params()),
            "fitted": {
                "transform": self.transform_.to_dict(),
                "model_config": self.model_config_.to_dict(),
                "feature_names_in": self.feature_names_in_,
                "target_names": self.target_names_,
                "fit_columns": self.fit_columns_,
                "history": self.history_.to_dict(),
            },
        }
        return write_model_dir(path, state, self.module_.state_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Forecaster:
        """Load a model saved by :meth:`save` (JSON + safetensors; never unpickles).

        Raises
        ------
        ModelFileError
            Missing files, a pickle in the directory, another format version, unknown keys,
            tampered or mismatched tensors, or a directory holding a Baseline.
        """
        model = load_model(path)
        if not isinstance(model, cls):
            raise ModelFileError(
                f"{str(path)!r} holds a {type(model).__name__}, not a {cls.__name__}; "
                "use forecast.load_model() to load any model."
            )
        return model

    def _restore(self, fitted: dict[str, Any], weights: dict[str, torch.Tensor] | None) -> None:
        if weights is None:
            raise ModelFileError("the model directory has no weights.safetensors; save it again.")
        _check_fitted_keys(fitted, _FITTED_KEYS["recurrent"])
        model_config = ModelConfig.from_dict(fitted["model_config"]).validate()
        # The parameters and the fitted state are saved side by side; an edited file could
        # make them disagree, and the estimator would then describe one model and run another.
        params_config = self._check_params()[0]
        _check_same("model_config", model_config.to_dict(), params_config.to_dict())
        features, targets = self._columns()
        _check_same("feature_names_in", fitted["feature_names_in"], features)
        _check_same("target_names", fitted["target_names"], targets)
        _check_same("fit_columns", fitted["fit_columns"], list(dict.fromkeys(features + targets)))
        module = build_model(model_config)
        expected = module.state_dict()
        if set(expected) != set(weights):
            raise ModelFileError(
                "weights.safetensors holds tensors "
                f"{sorted(set(weights) ^ set(expected))[:3]} that do not match the config; "
                "the files come from different models — save the model again."
            )
        for name, tensor in sorted(weights.items()):  # sorted: the same message every time
            if tensor.shape != expected[name].shape or tensor.dtype != expected[name].dtype:
                raise ModelFileError(
                    f"tensor {name!r} has shape {tuple(tensor.shape)} but the config needs "
                    f"{tuple(expected[name].shape)}; the files come from different models."
                )
            if not bool(torch.isfinite(tensor).all()):
                raise ModelFileError(
                    f"tensor {name!r} holds NaN or inf values; the model is broken — fit and "
                    "save it again."
                )
        transform = SeriesTransform.from_dict(fitted["transform"])
        _check_same(
            "transform",
            [transform.representation, transform.scaler, getattr(transform, "n_columns_", None)],
            [self.representation, self.scaler, len(dict.fromkeys(features + targets))],
        )
        module.load_state_dict(weights)
        self.module_ = module.eval()
        self.model_config_ = model_config
        self.train_config_ = self._check_params()[1]
        self.transform_ = transform
        self.history_ = TrainHistory(**fitted["history"])
        self.feature_names_in_ = list(fitted["feature_names_in"])
        self.target_names_ = list(fitted["target_names"])
        self.fit_columns_ = list(fitted["fit_columns"])
        self.n_features_in_ = len(self.feature_names_in_)


class Baseline(_Estimator):
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
        method: str = "naive",
        *,
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
        self.features = None

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep)
        params.pop("features", None)
        return params

    @property
    def name(self) -> str:
        """The label of this baseline in backtest tables (its ``method``)."""
        return self.method

    def _min_rows(self, for_fit: bool) -> int:
        return 1 + (int(self.horizon) if for_fit else 0)

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
        frame = self._prepare(data, for_fit=True)
        _, targets = self._columns()
        self.ridge_ = None
        if self.method == "ridge":
            series = [part[targets].to_numpy(dtype=np.float64) for _, part in _series_parts(frame)]
            self.ridge_ = RidgeLags(lags=self.lags, alpha=self.alpha).fit(
                series[0] if len(series) == 1 else series, horizon=int(self.horizon)
            )
        self.feature_names_in_ = targets
        self.target_names_ = targets
        self.fit_columns_ = targets
        self.n_features_in_ = len(targets)
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
        return _check_finite_forecast(forecast, frame.index, rows)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save parameters (and ridge coefficients) as JSON; no weights file.

        Returns ``path``; raises :class:`NotFittedError` before ``fit``. Written atomically.
        """
        self._check_fitted("save")
        fitted = {
            "target_names": self.target_names_,
            "ridge": self.ridge_.to_dict() if self.ridge_ is not None else None,
        }
        state = {
            "kind": self._kind,
            "params": _jsonable_params(self.get_params()),
            "fitted": fitted,
        }
        return write_model_dir(path, state, None)

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
        _check_fitted_keys(fitted, _FITTED_KEYS["baseline"])
        _check_same("target_names", fitted["target_names"], self._columns()[1])
        ridge = fitted["ridge"]
        if (ridge is not None) != (self.method == "ridge"):
            raise ConfigError(f"a {self.method!r} baseline cannot have ridge state {ridge!r}.")
        if ridge is not None:
            restored = RidgeLags.from_dict(ridge)
            _check_same(
                "ridge",
                [restored.lags, restored.horizon, restored.alpha],
                [self.lags, self.horizon, self.alpha],
            )
        self.target_names_ = list(fitted["target_names"])
        self.feature_names_in_ = self.target_names_
        self.fit_columns_ = self.target_names_
        self.n_features_in_ = len(self.target_names_)
        self.ridge_ = RidgeLags.from_dict(fitted["ridge"]) if fitted.get("ridge") else None


_KINDS: dict[str, type[_Estimator]] = {"recurrent": Forecaster, "baseline": Baseline}
_FITTED_ATTRIBUTES = (
    "module_",
    "model_config_",
    "train_config_",
    "transform_",
    "history_",
    "feature_names_in_",
    "target_names_",
    "fit_columns_",
    "n_features_in_",
)
_FITTED_KEYS: dict[str, set[str]] = {
    "recurrent": {
        "transform",
        "model_config",
        "feature_names_in",
        "target_names",
        "fit_columns",
        "history",
    },
    "baseline": {"target_names", "ridge"},
}
_TOP_KEYS = {"kind", "params", "fitted"}


def load_model(path: str | os.PathLike[str]) -> Forecaster | Baseline:
    """Load any saved model directory (Forecaster or Baseline); never unpickles.

    Raises
    ------
    ModelFileError
        Missing files, a pickle in the directory, a wrong format version, unknown keys,
        or weights that do not match the configuration.
    """
    config, weights = read_model_dir(path, expected_keys=_TOP_KEYS)
    kind = config.get("kind")
    if kind not in _KINDS or not isinstance(config.get("params"), dict):
        raise ModelFileError(
            f"config.json in {str(path)!r} names model kind {kind!r}; expected one of "
            f"{', '.join(_KINDS)}."
        )
    cls = _KINDS[kind]
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
        model._restore(config.get("fitted") or {}, weights)
    except ModelFileError:
        raise
    except (ConfigError, KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(
            f"config.json in {str(path)!r} is inconsistent ({type(exc).__name__}: {exc}); "
            "save the model again."
        ) from None
    return model


# Forecasts are computed in batches of exactly this many windows, each window in the slot
# given by its origin row (row % _SLOTS). CPU (and GPU) matrix kernels round a row differently
# depending on the batch's size and the row's place in it, so batching windows by whatever
# origins were asked for would let the rows *after* an origin (which decide how many origins
# there are) change that origin's forecast in the last bit. With a fixed batch shape and a
# fixed slot per origin, a forecast depends only on its own window: bit-identical whether it
# is asked for alone (``predict``), in a backtest fold, or with the data cut after it.
_SLOTS = 32


def _forecast_by_slot(
    module: torch.nn.Module, windows: torch.Tensor, starts: np.ndarray, device: torch.device
) -> np.ndarray:
    """``module.forecast`` of ``windows[starts]`` ``[N, T, F]`` -> ``[N, H, K]`` (scaled),
    batch-invariant (see ``_SLOTS``)."""
    origins = starts + (windows.shape[1] - 1)
    chunk_of, slot_of = np.divmod(origins, _SLOTS)
    out: np.ndarray | None = None
    for chunk in np.unique(chunk_of):
        members = np.flatnonzero(chunk_of == chunk)
        slots = torch.from_numpy(slot_of[members])
        batch = torch.zeros((_SLOTS, *windows.shape[1:]), dtype=windows.dtype)  # [S, T, F]
        batch[slots] = windows[torch.from_numpy(starts[members])]
        forecast = module.forecast(batch.to(device)).cpu()  # [S, H, K]
        if out is None:
            out = np.empty((len(origins), *forecast.shape[1:]), dtype=np.float32)
        out[members] = forecast[slots].numpy()
    if out is None:  # no origins asked for
        horizon, n_targets = module.config.horizon, module.config.n_targets
        return np.empty((0, horizon, n_targets), dtype=np.float32)
    return out


def _check_finite_forecast(
    forecast: np.ndarray, index: pd.Index, origin_rows: np.ndarray
) -> np.ndarray:
    """Refuse NaN/inf forecasts, or prices no data could produce, instead of returning them.

    Inputs beyond ``MAX_ABS_VALUE`` are refused by validation; a forecast a thousand times
    beyond it comes from compounding absurd returns, and its square would overflow the error
    metrics to inf.
    """
    limit = 1e3 * MAX_ABS_VALUE
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(forecast) <= limit).reshape(len(forecast), -1).all(axis=1)
    if bad.any():
        first = int(np.asarray(origin_rows)[bad][0])
        where = f"row {first}"
        if 0 <= first < len(index) and isinstance(index[first], pd.Timestamp):
            stamp = index[first]
            where = str(stamp.date()) if stamp == stamp.normalize() else str(stamp)
        raise DataError(
            f"the forecast made at {where} is not finite or beyond any real price "
            f"(|price| > {limit:.0e}) for {int(bad.sum())} of {len(forecast)} origin(s): the "
            "data's moves are too extreme to turn the model's output back into prices; clean "
            "the jumps in the data or use representation='levels'."
        )
    return forecast


# Training has diverged, though the loss stayed finite, when the model ends this many times
# worse than always predicting zero (in the scaled units it learns: no change for returns).
_DIVERGED_RATIO = 1e3


def _check_converged(
    module: torch.nn.Module, history: TrainHistory, y: torch.Tensor, config: TrainConfig
) -> None:
    """Refuse a fit whose weights are not finite or whose loss exploded without becoming inf.

    ``train`` already raises on a NaN/inf loss; a huge learning rate can also saturate the
    gates and leave a finite loss of 1e13 with weights of 1e6, which would forecast garbage.
    """
    if not all(bool(torch.isfinite(p).all()) for p in module.parameters()):
        raise TrainingError(
            "training diverged: the weights became NaN or inf; lower lr (e.g. by 10x), keep "
            "clip_grad_norm on, or check the data for extreme values."
        )
    losses = history.val_loss or history.train_loss
    if not losses:
        return
    final = history.val_loss[history.best_epoch] if history.val_loss else losses[-1]
    target = y.detach().to(torch.float64)
    zero = torch.zeros_like(target)
    losses_by_name = {"mse": F.mse_loss, "mae": F.l1_loss, "huber": F.huber_loss}
    reference = float(losses_by_name[config.loss](zero, target))
    limit = _DIVERGED_RATIO * (reference if reference > 0 else 1.0)
    if final > limit:
        raise TrainingError(
            f"training diverged: the loss ended at {final:.3g}, over {_DIVERGED_RATIO:.0f} "
            f"times that of always predicting zero ({reference:.3g}); lower lr (e.g. by 10x), "
            "keep clip_grad_norm on, or check the data for extreme values."
        )


def _check_fitted_keys(fitted: dict[str, Any], expected: set[str]) -> None:
    """The saved fitted state must hold exactly the expected entries."""
    if not isinstance(fitted, dict) or set(fitted) != expected:
        found = sorted(fitted) if isinstance(fitted, dict) else type(fitted).__name__
        raise ConfigError(f"the fitted state has entries {found}; expected {sorted(expected)}")


def _check_same(what: str, saved: Any, from_params: Any) -> None:
    """A saved fitted value must equal what the saved parameters imply."""
    if saved == from_params:
        return
    if isinstance(saved, dict) and isinstance(from_params, dict):
        key = sorted(set(saved) ^ set(from_params)) or sorted(
            k for k in saved if saved[k] != from_params[k]
        )
        what, saved, from_params = f"{what}.{key[0]}", saved.get(key[0]), from_params.get(key[0])
    raise ConfigError(
        f"the fitted {what} {saved!r} disagrees with the saved parameters, which imply "
        f"{from_params!r}"
    )


def _series_parts(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """Split a panel into ``(ticker, frame)`` pairs; a single series is ``[(None, frame)]``."""
    if not isinstance(frame.index, pd.MultiIndex):
        return [(None, frame)]
    return [
        (str(ticker), frame.xs(ticker, level=0))
        for ticker in pd.unique(frame.index.get_level_values(0))
    ]


def _stack_in_time_order(
    X_parts: list[torch.Tensor], y_parts: list[torch.Tensor], origins: list[pd.Index]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate per-ticker windows sorted by origin, so the validation tail is the latest."""
    if len(X_parts) == 1:
        return X_parts[0], y_parts[0]
    stamps = np.concatenate([np.asarray(index.asi8) for index in origins])
    order = torch.from_numpy(np.argsort(stamps, kind="stable"))
    return torch.cat(X_parts)[order], torch.cat(y_parts)[order]


def _jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out
