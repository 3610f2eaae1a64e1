"""What a saved estimator's ``config.json`` must hold, and the checks that refuse anything else.

The directory format itself (JSON + safetensors, never pickle) is
:mod:`forecast.serialization`'s; this module knows the estimator layer on top of it: the
top-level keys, the fitted entries each kind of estimator saves, and that a saved fitted value
must equal what the saved parameters imply (an edited file could otherwise describe one model
and run another).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from forecast.errors import ConfigError

__all__ = ["FITTED_KEYS", "TOP_KEYS", "check_fitted_keys", "check_same", "jsonable_params"]

FITTED_KEYS: dict[str, set[str]] = {
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
# "seen" (optional): the last bars each series showed the model (forecast.seen.SeenBars).
# "data" (optional): where the fitted bars came from (forecast.estimator.data_source).
TOP_KEYS = {"kind", "params", "fitted", "seen", "data"}


def check_fitted_keys(fitted: dict[str, Any], expected: set[str]) -> None:
    """The saved fitted state must hold exactly the expected entries."""
    if not isinstance(fitted, dict) or set(fitted) != expected:
        found = sorted(fitted) if isinstance(fitted, dict) else type(fitted).__name__
        raise ConfigError(f"the fitted state has entries {found}; expected {sorted(expected)}")


def check_same(what: str, saved: Any, from_params: Any) -> None:
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


def jsonable_params(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with tuples as lists and numpy scalars as Python numbers (for JSON)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out
