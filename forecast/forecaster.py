"""``Forecaster``: a recurrent network (RNN, LSTM or GRU) in one of four topologies, as a
pandas-facing scikit-learn estimator.

Prices in, prices out: whatever the network learns on (log returns by default, standard
scaled), ``predict`` answers in the units of the data, indexed by the dates it forecasts.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from forecast.data.columns import OHLC
from forecast.data.panels import series_parts, stack_in_time_order
from forecast.data.transforms import SeriesTransform
from forecast.data.windows import cut_windows, input_windows, window_length
from forecast.errors import ConfigError, DataError, ModelFileError, TrainingError
from forecast.estimator import SeriesEstimator, data_source, load_model
from forecast.model_files import FITTED_KEYS, check_fitted_keys, check_same, jsonable_params
from forecast.models import ModelConfig, build_model
from forecast.models.sampling import teacher_forcing_schedule
from forecast.numerics import check_converged, check_finite_forecast, forecast_by_slot
from forecast.seen import SeenBars
from forecast.serialization import write_model_dir
from forecast.settings import DEFAULTS
from forecast.topologies import canonical_topology
from forecast.training import TrainConfig, TrainHistory, resolve_device, seeded, train

__all__ = ["Forecaster"]

# What fit sets; a fit that fails removes them all, so no earlier fit is left behind.
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
    "seen_",
    "data_source_",
)


class Forecaster(SeriesEstimator):
    """A recurrent network (RNN, LSTM or GRU) in one of four topologies, fitted on bars.

    Parameters
    ----------
    cell : {"lstm", "gru", "rnn"}
        Recurrent cell; ``nonlinearity`` ("tanh" or "relu") applies to "rnn".
    topology : {"n_to_m", "n_to_1", "n_to_n", "1_to_n"}
        How input steps map to outputs (aliases: seq2seq, many_to_one, many_to_many,
        one_to_many); see :mod:`forecast.topologies`.
    lookback : int
        T, input steps per window (ignored by "1_to_n", which reads the origin bar only).
    pad : bool
        Also train on (and forecast from) origins with fewer than ``lookback`` bars of
        history, down to ``min_lookback``: their windows are right-padded and run packed, so
        padding never enters the state, and N-to-N masks padded steps out of the loss. A
        ticker with a short history then still counts in a panel.
    min_lookback : int
        With ``pad=True``, the fewest bars a window may have.
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
        Probability that a seq2seq decoder step is fed the true previous value in training
        (at the start of training, when ``sampling_schedule`` decays it).
    sampling_schedule : {"constant", "linear", "exponential", "inverse_sigmoid"}
        Scheduled sampling (Bengio et al., 2015): how the teacher-forcing probability decays
        over the update steps of training, from ``teacher_forcing`` towards free running;
        see :mod:`forecast.models.sampling`. For autoregressive decoders (n_to_m, 1_to_n).
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

    Notes
    -----
    Your process is left as it was. ``fit`` draws its initial weights (and dropout masks,
    scheduled-sampling coins) from torch's global generator seeded with ``seed`` and then
    restores the generator's state, so your own seeded ``torch.rand`` stream continues
    unchanged; the same ``seed`` gives the same model. A fit trains on as many torch threads
    as its model can use and the cores other processes leave free (never more than
    ``torch.get_num_threads()``) and gives your thread count back afterwards.

    Speed vs memory: glibc's malloc normally hands each training step's large buffers back
    to the system and maps them anew in the next step. ``forecast.tune_process()`` (one
    call, for the whole process; the ``forecast`` command does it for itself) makes it keep
    them: about 1.4x faster training on the benchmark, but the process holds its peak memory
    until it exits. Nothing changes unless you call it.

    Examples
    --------
    >>> import forecast as fc
    >>> df = fc.load("AAPL")
    >>> m = fc.Forecaster(cell="lstm", topology="n_to_m", lookback=60, horizon=5, epochs=2)
    >>> m.fit(df).predict(df).shape
    (5, 1)
    """

    _kind = "recurrent"

    # Every default is declared once, with the option's choices and help, in forecast.settings.
    def __init__(
        self,
        *,
        cell: str = DEFAULTS["cell"],
        topology: str = DEFAULTS["topology"],
        lookback: int = DEFAULTS["lookback"],
        pad: bool = DEFAULTS["pad"],
        min_lookback: int = DEFAULTS["min_lookback"],
        horizon: int = DEFAULTS["horizon"],
        target: str | Sequence[str] = DEFAULTS["target"],
        features: Sequence[str] | None = DEFAULTS["features"],
        hidden_size: int = DEFAULTS["hidden_size"],
        num_layers: int = DEFAULTS["num_layers"],
        dropout: float = DEFAULTS["dropout"],
        bidirectional: bool = DEFAULTS["bidirectional"],
        nonlinearity: str = DEFAULTS["nonlinearity"],
        decoder: str = DEFAULTS["decoder"],
        multi_step: str = DEFAULTS["multi_step"],
        teacher_forcing: float = DEFAULTS["teacher_forcing"],
        sampling_schedule: str = DEFAULTS["sampling_schedule"],
        representation: str = DEFAULTS["representation"],
        scaler: str = DEFAULTS["scaler"],
        epochs: int = DEFAULTS["epochs"],
        batch_size: int = DEFAULTS["batch_size"],
        lr: float = DEFAULTS["lr"],
        optimizer: str = DEFAULTS["optimizer"],
        weight_decay: float = DEFAULTS["weight_decay"],
        loss: str = DEFAULTS["loss"],
        clip_grad_norm: float | None = DEFAULTS["clip_grad_norm"],
        patience: int | None = DEFAULTS["patience"],
        val_fraction: float = DEFAULTS["val_fraction"],
        seed: int = DEFAULTS["seed"],
        device: str = DEFAULTS["device"],
        progress: bool | None = DEFAULTS["progress"],
        nan_policy: str = DEFAULTS["nan_policy"],
        warm_start: bool = DEFAULTS["warm_start"],
        precision: str = DEFAULTS["precision"],
    ) -> None:
        self.cell = cell
        self.topology = topology
        self.lookback = lookback
        self.pad = pad
        self.min_lookback = min_lookback
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
        self.sampling_schedule = sampling_schedule
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
    def _feature_names(self, targets: list[str]) -> str | list[str]:
        if self.features is not None:
            return self.features
        if canonical_topology(self.topology) in ("n_to_1", "n_to_n"):
            return list(targets)
        return list(OHLC)

    def _offset(self) -> int:
        """Rows lost at the start by the representation (1 for returns: no previous price)."""
        return 0 if self.representation == "levels" else 1

    def _window_length(self) -> int:
        return window_length(self.topology, int(self.lookback))

    def _shortest_window(self) -> int:
        """Fewest bars a window may have: ``min_lookback`` with padding, else the full T."""
        window = self._window_length()
        return min(int(self.min_lookback), window) if self.pad else window

    def _min_rows(self, for_fit: bool) -> int:
        rows = self._shortest_window() + self._offset()
        return rows + int(self.horizon) if for_fit else rows

    def rows_to_fit(self) -> tuple[int, str]:
        window = (
            "1 (the origin bar: 1_to_n ignores lookback)"
            if canonical_topology(self.topology) == "1_to_n"
            else f"min_lookback={self.min_lookback} (pad=True)"
            if self.pad and self._shortest_window() < self._window_length()
            else f"lookback={self.lookback}"
        )
        first = " + 1 (returns need a previous price)" if self._offset() else ""
        return self._min_rows(for_fit=True), f"{window} + horizon={self.horizon}{first}"

    def _fits_in_threads(self) -> bool:
        """Whether ``fit`` can run in a thread beside another fit (see :mod:`forecast.refits`).

        Yes unless training draws from torch's global generator, which all threads share:
        dropout between stacked layers and scheduled sampling (``teacher_forcing < 1``) do.
        """
        try:
            dropout = float(self.dropout) > 0 and int(self.num_layers) > 1
            sampling = float(self.teacher_forcing) < 1.0 or self.sampling_schedule != "constant"
            return not dropout and not sampling
        except (TypeError, ValueError):
            return False  # a bad setting: fit will name it, wherever it runs

    def _check_params(self) -> tuple[ModelConfig, TrainConfig]:
        for name in ("lookback", "horizon", "min_lookback"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ConfigError(
                    f"{name} of Forecaster must be a positive integer, got {value!r}."
                )
        if not isinstance(self.pad, bool | np.bool_):
            raise ConfigError(f"pad of Forecaster must be True or False, got {self.pad!r}.")
        if self.pad and self.min_lookback > self.lookback:
            raise ConfigError(
                f"min_lookback={self.min_lookback} is larger than lookback={self.lookback}; "
                "choose min_lookback <= lookback."
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
        teacher_forcing_schedule(self.sampling_schedule, model_config.teacher_forcing)
        has_decoder = model_config.topology in ("n_to_m", "1_to_n") and (
            model_config.decoder == "autoregressive"
        )
        if self.sampling_schedule != "constant" and not has_decoder:
            raise ConfigError(
                f"sampling_schedule={self.sampling_schedule!r} decays teacher forcing, which "
                "only a seq2seq decoder uses (topology n_to_m or 1_to_n with "
                f"decoder='autoregressive'), not topology={model_config.topology!r} with "
                f"decoder={model_config.decoder!r}; use sampling_schedule='constant'."
            )
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
        parts = series_parts(frame)

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
        X_parts, y_parts, length_parts, origin_parts = [], [], [], []
        for ticker, part in parts:
            scaled = transform.transform(part[columns].to_numpy(dtype=np.float64))
            scaled = torch.from_numpy(np.ascontiguousarray(scaled[self._offset() :]))
            # The same cutting rule as forecast.make_windows, one meaning per topology.
            X, y, rows, lengths = cut_windows(
                scaled[:, feature_idx],
                scaled[:, target_idx],
                lookback=int(self.lookback),
                horizon=int(self.horizon),
                topology=model_config.topology,
                train_target=module.train_target,
                pad=bool(self.pad),
                min_lookback=int(self.min_lookback),
                label="the series" if ticker is None else f"ticker {ticker!r}",
            )
            X_parts.append(X)
            y_parts.append(y)
            length_parts.append(lengths)
            origin_parts.append(part.index[self._offset() + rows])
        X, y, lengths = stack_in_time_order(origin_parts, X_parts, y_parts, length_parts)
        padded = bool((lengths < X.shape[1]).any())
        schedule = teacher_forcing_schedule(self.sampling_schedule, model_config.teacher_forcing)
        try:
            history = train(
                module,
                X,
                y,
                train_config,
                lengths=lengths if padded else None,
                horizon=int(self.horizon),
                teacher_forcing=schedule if self.sampling_schedule != "constant" else None,
            )
            check_converged(module, history, y, train_config)
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
        self.seen_ = SeenBars.record(frame, columns, rows=self._seen_rows())
        self.data_source_ = data_source(data)
        return self

    def _training_windows(
        self, part: pd.DataFrame, transform: SeriesTransform, train_target: str
    ) -> tuple[torch.Tensor, torch.Tensor, pd.Index]:
        """Full-length training windows of one series (``fit``'s cutting rule, no padding):
        ``X [N, T, F]``, ``y`` shaped for the topology, and the N origin dates."""
        features, targets = self._columns()
        columns = list(dict.fromkeys([*features, *targets]))
        scaled = transform.transform(part[columns].to_numpy(dtype=np.float64))
        scaled = torch.from_numpy(np.ascontiguousarray(scaled[self._offset() :]))
        X, y, rows, _ = cut_windows(
            scaled[:, [columns.index(c) for c in features]],
            scaled[:, [columns.index(c) for c in targets]],
            lookback=int(self.lookback),
            horizon=int(self.horizon),
            topology=canonical_topology(self.topology),
            train_target=train_target,
            pad=False,
        )
        return X, y, part.index[self._offset() + rows]

    def _seen_rows(self) -> int:
        """Bars of each series kept in ``seen_``: enough to forecast after new bars and to
        train on every window whose targets reach a new bar (T + H + representation offset)."""
        return self._window_length() + int(self.horizon) + self._offset()

    def update(
        self,
        new_bars: pd.DataFrame,
        *,
        epochs: int = 0,
        scaler: str | None = None,
        force: bool = False,
    ) -> Forecaster:
        """A copy of this fitted model that has seen ``new_bars`` (optionally fine-tuned).

        See :func:`forecast.updating.update`; this model is left unchanged.
        """
        from forecast.updating import update

        return update(self, new_bars, epochs=epochs, scaler=scaler, force=force).model

    # -- predict -------------------------------------------------------------------------
    def forecast_rows(self, frame: pd.DataFrame, origin_rows: np.ndarray) -> np.ndarray:
        self._check_fitted("forecast_rows")
        origin_rows = np.asarray(origin_rows, dtype=np.int64)
        window, shortest, first_row = self._window_length(), self._shortest_window(), self._offset()
        if origin_rows.size and origin_rows.min() < shortest - 1 + first_row:
            option = "min_lookback" if self.pad else "lookback"
            raise DataError(
                f"an origin at row {int(origin_rows.min())} has fewer than {shortest} bars of "
                f"history ({option} {shortest}); start forecasting later or lower {option}"
                + ("." if self.pad else ", or pass pad=True.")
            )
        columns = self.fit_columns_
        prices = frame[columns].to_numpy(dtype=np.float64)
        scaled = torch.from_numpy(np.ascontiguousarray(self.transform_.transform(prices)))
        feature_idx = [columns.index(c) for c in self.feature_names_in_]
        target_idx = [columns.index(c) for c in self.target_names_]
        features = scaled[:, feature_idx]  # [L, F]
        # A window holds the T bars up to its origin, or (pad=True) all of them when fewer:
        # each length is forecast unpadded, so a short window's forecast cannot depend on
        # what other windows share its batch.
        lengths = np.minimum(origin_rows - first_row + 1, window)
        device = resolve_device(self.device)
        module = self.module_.to(device)
        out = np.empty((len(origin_rows), int(self.horizon), len(target_idx)), dtype=np.float32)
        with torch.no_grad():
            for length in np.unique(lengths):
                members = np.flatnonzero(lengths == length)
                windows = input_windows(features, int(length))  # [L-l+1, l, F] view
                starts = origin_rows[members] - (length - 1)
                out[members] = forecast_by_slot(module, windows, starts, device)
        module.cpu()
        last_price = prices[origin_rows][:, target_idx]  # [N, K]
        forecast = self.transform_.inverse(out, last_price, columns=target_idx)
        return check_finite_forecast(forecast, frame.index, origin_rows)

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
            "params": jsonable_params(self.get_params()),
            "fitted": {
                "transform": self.transform_.to_dict(),
                "model_config": self.model_config_.to_dict(),
                "feature_names_in": self.feature_names_in_,
                "target_names": self.target_names_,
                "fit_columns": self.fit_columns_,
                "history": self.history_.to_dict(),
                **self._interval_state(),
            },
        }
        seen = getattr(self, "seen_", None)
        if seen is not None:
            state["seen"] = seen.to_dict()
        return write_model_dir(path, self._with_data_source(state), self.module_.state_dict())

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
        check_fitted_keys(fitted, FITTED_KEYS["recurrent"])
        model_config = ModelConfig.from_dict(fitted["model_config"]).validate()
        # The parameters and the fitted state are saved side by side; an edited file could
        # make them disagree, and the estimator would then describe one model and run another.
        params_config = self._check_params()[0]
        check_same("model_config", model_config.to_dict(), params_config.to_dict())
        features, targets = self._columns()
        check_same("feature_names_in", fitted["feature_names_in"], features)
        check_same("target_names", fitted["target_names"], targets)
        check_same("fit_columns", fitted["fit_columns"], list(dict.fromkeys(features + targets)))
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
        check_same(
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
