"""The project's own exceptions and warnings: one small tree, re-exported by ``forecast``.

::

    ForecastError                      base of everything raised on purpose; the CLI prints
    │                                  its message on one line and exits 1
    ├── DataError (ValueError)         the data cannot be used as given: missing or wrong
    │   │                              columns, non-date index, unsorted or duplicated dates,
    │   │                              NaN/inf under policy "error", too short for
    │   │                              lookback + horizon, non-positive prices for a log transform
    │   └── DataSourceError            the data cannot be found or fetched: missing file,
    │                                  unknown dataset name, ticker yfinance cannot resolve,
    │                                  offline with nothing cached, network or rate limit,
    │                                  a ticker that would escape the cache folder
    ├── ConfigError (ValueError)       a hyperparameter or option is invalid, or a combination
    │                                  is refused (bidirectional N-to-N, unknown cell name)
    ├── NotFittedError (AttributeError) ``predict``/``save`` called before ``fit``
    ├── TrainingError (RuntimeError)   training diverged: the loss became NaN or inf
    └── ModelFileError                 a saved model directory is missing files, holds a
                                       pickle, has a wrong format version, tampered tensors,
                                       or shapes that disagree with its config

    DataWarning (UserWarning)          validation changed the data (dropped or filled rows,
                                       repaired bars) or found something to look at (a gap
                                       of months in the dates, offsets no zone explains) and
                                       says exactly what and where

Every message is one sentence that names the problem and the fix.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DataSourceError",
    "DataWarning",
    "ForecastError",
    "ModelFileError",
    "NotFittedError",
    "TrainingError",
]


class ForecastError(Exception):
    """Base class of every error this package raises on purpose."""


class DataError(ForecastError, ValueError):
    """Raised when a frame cannot be used as given (columns, index, values, length)."""


class DataSourceError(DataError):
    """Raised when data cannot be found or fetched (file, dataset name, ticker, cache, network)."""


class ConfigError(ForecastError, ValueError):
    """Raised when an option or a combination of options is invalid."""


class NotFittedError(ForecastError, AttributeError):
    """Raised when a method that needs a fitted estimator is called before ``fit``."""


class TrainingError(ForecastError, RuntimeError):
    """Raised when training diverges (NaN or inf loss) instead of returning a broken model."""


class ModelFileError(ForecastError):
    """Raised when a saved model directory cannot be trusted or read."""


class DataWarning(UserWarning):
    """Emitted when loading or validation changes the data or finds a gap; says what and where."""
