"""The model zoo: a recurrent backbone plus a topology head, chosen by name, and baselines.

>>> from forecast.models import ModelConfig, build_model
>>> model = build_model(ModelConfig(cell="gru", topology="n_to_m", horizon=3))

Legend: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets. Batch-first everywhere.
"""

from __future__ import annotations

from forecast.models.baselines import (
    BASELINES,
    RidgeLags,
    drift,
    mean,
    naive,
    seasonal_naive,
)
from forecast.models.config import CELLS, ModelConfig
from forecast.models.elman import ElmanRNN
from forecast.models.heads import ForecastModel, build_model
from forecast.models.registry import list_models, model_table

__all__ = [
    "BASELINES",
    "CELLS",
    "ElmanRNN",
    "ForecastModel",
    "ModelConfig",
    "RidgeLags",
    "build_model",
    "drift",
    "list_models",
    "mean",
    "model_table",
    "naive",
    "seasonal_naive",
]
