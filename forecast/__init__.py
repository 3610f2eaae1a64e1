"""forecast: recurrent-network price forecasts, proven on walk-forward backtests.

The public face, on one screen. Figures, trading rules, metrics and intervals on a forecasts
frame are the public modules ``forecast.plotting``, ``forecast.trading``, ``forecast.metrics``
and ``forecast.intervals``.

Data:      datasets, describe_datasets, load, validate, make_windows, SeriesTransform
Models:    Forecaster (rnn/lstm/gru x n_to_1/n_to_n/n_to_m/1_to_n), Baseline, load_model,
           list_models, ModelConfig, ElmanRNN
Backtests: backtest, BacktestResult, DEFAULT_BASELINES, make_folds, Fold
Tuning:    tune, TuneResult (Optuna, optional extra forecast-rnn[tune])
Keeping fresh: update, update_model_dir, latest_version, forecast_latest (Forecaster.update)
Errors:    ForecastError and its subclasses; DataWarning
Process:   tune_process (opt in: glibc keeps freed memory, OpenMP waits passively)
"""

from __future__ import annotations

from forecast._process import tune_process
from forecast._version import __version__
from forecast.backtest import DEFAULT_BASELINES, BacktestResult, backtest
from forecast.baseline import Baseline
from forecast.data.bundled import DEFAULT_DATASET, datasets, describe_datasets
from forecast.data.sources import load
from forecast.data.transforms import SeriesTransform
from forecast.data.validate import validate
from forecast.data.windows import Windows, make_windows
from forecast.errors import (
    ConfigError,
    DataError,
    DataSourceError,
    DataWarning,
    ForecastError,
    ModelFileError,
    NotFittedError,
    TrainingError,
)
from forecast.estimator import load_model
from forecast.folds import Fold, make_folds
from forecast.forecaster import Forecaster
from forecast.latest import forecast_latest
from forecast.models import ElmanRNN, ModelConfig, list_models
from forecast.tuning import TuneResult, tune
from forecast.updating import UpdateResult, latest_version, update, update_model_dir

__all__ = [
    "DEFAULT_BASELINES",
    "DEFAULT_DATASET",
    "BacktestResult",
    "Baseline",
    "ConfigError",
    "DataError",
    "DataSourceError",
    "DataWarning",
    "ElmanRNN",
    "Fold",
    "ForecastError",
    "Forecaster",
    "ModelConfig",
    "ModelFileError",
    "NotFittedError",
    "SeriesTransform",
    "TrainingError",
    "TuneResult",
    "UpdateResult",
    "Windows",
    "__version__",
    "backtest",
    "datasets",
    "describe_datasets",
    "forecast_latest",
    "latest_version",
    "list_models",
    "load",
    "load_model",
    "make_folds",
    "make_windows",
    "tune",
    "tune_process",
    "update",
    "update_model_dir",
    "validate",
]
