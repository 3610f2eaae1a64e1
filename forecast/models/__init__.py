"""The model zoo: a recurrent backbone plus a topology head, chosen by name, and baselines.

>>> from forecast.models import ModelConfig, build_model
>>> model = build_model(ModelConfig(cell="gru", topology="n_to_m", horizon=3))

Legend: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets. Batch-first everywhere.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from forecast.models.config import CELLS, ModelConfig

if TYPE_CHECKING:
    from forecast.models.baselines import (
        BASELINES,
        RidgeLags,
        drift,
        mean,
        naive,
        seasonal_naive,
    )
    from forecast.models.elman import ElmanRNN
    from forecast.models.heads import ForecastModel, build_model
    from forecast.models.registry import list_models, model_table

# Imported on first use, so listing the zoo (forecast models) does not import torch.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "BASELINES",
            "RidgeLags",
            "drift",
            "mean",
            "naive",
            "seasonal_naive",
        ),
        "forecast.models.baselines",
    ),
    "ElmanRNN": "forecast.models.elman",
    "ForecastModel": "forecast.models.heads",
    "build_model": "forecast.models.heads",
    "list_models": "forecast.models.registry",
    "model_table": "forecast.models.registry",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'forecast.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
