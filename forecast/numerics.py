"""The numbers a fit produces and a forecast returns: batch-invariant forecasting, and the
checks that refuse a diverged fit or a forecast no data could produce.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from forecast.data.validate import MAX_ABS_VALUE
from forecast.errors import DataError, TrainingError
from forecast.training import TrainConfig, TrainHistory

__all__ = [
    "DIVERGED_RATIO",
    "SLOTS",
    "check_converged",
    "check_finite_forecast",
    "forecast_by_slot",
]


# Forecasts are computed in batches of exactly this many windows, each window in the slot
# given by its origin row (row % SLOTS). CPU (and GPU) matrix kernels round a row differently
# depending on the batch's size and the row's place in it, so batching windows by whatever
# origins were asked for would let the rows *after* an origin (which decide how many origins
# there are) change that origin's forecast in the last bit. With a fixed batch shape and a
# fixed slot per origin, a forecast depends only on its own window: bit-identical whether it
# is asked for alone (``predict``), in a backtest fold, or with the data cut after it.
SLOTS = 32


def forecast_by_slot(
    module: torch.nn.Module, windows: torch.Tensor, starts: np.ndarray, device: torch.device
) -> np.ndarray:
    """``module.forecast`` of ``windows[starts]`` ``[N, T, F]`` -> ``[N, H, K]`` (scaled),
    batch-invariant (see ``SLOTS``)."""
    origins = starts + (windows.shape[1] - 1)
    chunk_of, slot_of = np.divmod(origins, SLOTS)
    out: np.ndarray | None = None
    for chunk in np.unique(chunk_of):
        members = np.flatnonzero(chunk_of == chunk)
        slots = torch.from_numpy(slot_of[members])
        batch = torch.zeros((SLOTS, *windows.shape[1:]), dtype=windows.dtype)  # [S, T, F]
        batch[slots] = windows[torch.from_numpy(starts[members])]
        forecast = module.forecast(batch.to(device)).cpu()  # [S, H, K]
        if out is None:
            out = np.empty((len(origins), *forecast.shape[1:]), dtype=np.float32)
        out[members] = forecast[slots].numpy()
    if out is None:  # no origins asked for
        horizon, n_targets = module.config.horizon, module.config.n_targets
        return np.empty((0, horizon, n_targets), dtype=np.float32)
    return out


def check_finite_forecast(
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
DIVERGED_RATIO = 1e3


def check_converged(
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
    limit = DIVERGED_RATIO * (reference if reference > 0 else 1.0)
    if final > limit:
        raise TrainingError(
            f"training diverged: the loss ended at {final:.3g}, over {DIVERGED_RATIO:.0f} "
            f"times that of always predicting zero ({reference:.3g}); lower lr (e.g. by 10x), "
            "keep clip_grad_norm on, or check the data for extreme values."
        )
