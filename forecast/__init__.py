"""forecast: recurrent-network price forecasts, proven on walk-forward backtests.

The public face, on one screen. The CLI and the notebooks import only from here.
"""

from __future__ import annotations

from forecast._version import __version__
from forecast.data.bundled import datasets
from forecast.data.sources import load
from forecast.data.validate import validate
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

__all__ = [
    "ConfigError",
    "DataError",
    "DataSourceError",
    "DataWarning",
    "ForecastError",
    "ModelFileError",
    "NotFittedError",
    "TrainingError",
    "__version__",
    "datasets",
    "load",
    "validate",
]
