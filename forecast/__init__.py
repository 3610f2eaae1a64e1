"""forecast: recurrent-network price forecasts, proven on walk-forward backtests.

The public face, on one screen. The CLI and the notebooks import only from here.

Data:      datasets, describe_datasets, load, validate, make_windows, SeriesTransform
Models:    Forecaster (rnn/lstm/gru x n_to_1/n_to_n/n_to_m/1_to_n), Baseline, load_model,
           list_models, ModelConfig, ElmanRNN
Backtests: backtest, BacktestResult, DEFAULT_BASELINES
Errors:    ForecastError and its subclasses; DataWarning
"""

from __future__ import annotations

from forecast._version import __version__
from forecast.backtest import DEFAULT_BASELINES, BacktestResult, backtest
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
from forecast.forecaster import Baseline, Forecaster, load_model
from forecast.models import ElmanRNN, ModelConfig, list_models

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
    "ForecastError",
    "Forecaster",
    "ModelConfig",
    "ModelFileError",
    "NotFittedError",
    "SeriesTransform",
    "TrainingError",
    "Windows",
    "__version__",
    "backtest",
    "datasets",
    "describe_datasets",
    "list_models",
    "load",
    "load_model",
    "make_windows",
    "validate",
]
