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

Names are imported on first use (PEP 562), so ``import forecast`` and the command line's
``--help`` do not pay for torch, pandas and scikit-learn until something needs them.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from forecast._process import tune_process
from forecast._version import __version__
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
from forecast.settings import DEFAULT_BASELINES, DEFAULT_DATASET

if TYPE_CHECKING:
    from forecast.backtest import BacktestResult, backtest
    from forecast.baseline import Baseline
    from forecast.data.bundled import datasets, describe_datasets
    from forecast.data.sources import load
    from forecast.data.transforms import SeriesTransform
    from forecast.data.validate import validate
    from forecast.data.windows import Windows, make_windows
    from forecast.estimator import load_model
    from forecast.folds import Fold, make_folds
    from forecast.forecaster import Forecaster
    from forecast.latest import forecast_latest
    from forecast.models import ElmanRNN, ModelConfig, list_models
    from forecast.tuning import TuneResult, tune
    from forecast.updating import UpdateResult, latest_version, update, update_model_dir

# public name -> module that defines it, imported on first access
_LAZY: dict[str, str] = {
    "BacktestResult": "forecast.backtest",
    "backtest": "forecast.backtest",
    "datasets": "forecast.data.bundled",
    "describe_datasets": "forecast.data.bundled",
    "load": "forecast.data.sources",
    "SeriesTransform": "forecast.data.transforms",
    "validate": "forecast.data.validate",
    "Windows": "forecast.data.windows",
    "make_windows": "forecast.data.windows",
    "Baseline": "forecast.baseline",
    "Forecaster": "forecast.forecaster",
    "load_model": "forecast.estimator",
    "Fold": "forecast.folds",
    "make_folds": "forecast.folds",
    "ElmanRNN": "forecast.models",
    "ModelConfig": "forecast.models",
    "list_models": "forecast.models.registry",
    "forecast_latest": "forecast.latest",
    "TuneResult": "forecast.tuning",
    "tune": "forecast.tuning",
    "UpdateResult": "forecast.updating",
    "latest_version": "forecast.updating",
    "update": "forecast.updating",
    "update_model_dir": "forecast.updating",
}

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


# load_model rebuilds any estimator kind, which registers itself when its module is imported.
_IMPORTED_FIRST: dict[str, tuple[str, ...]] = {
    "load_model": ("forecast.forecaster", "forecast.baseline"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'forecast' has no attribute {name!r}")
    for prerequisite in _IMPORTED_FIRST.get(name, ()):
        importlib.import_module(prerequisite)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _PublicFace(types.ModuleType):
    """Keeps ``forecast.backtest`` the function once the module of that name is imported.

    Importing a submodule sets it as an attribute of its package; for ``forecast.backtest``
    that would hide the public function of the same name, which an eager
    ``from forecast.backtest import backtest`` used to put back.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _LAZY:
            return  # the module stays in sys.modules; the name stays the function's
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _PublicFace
