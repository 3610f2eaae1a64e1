"""The benchmark protocol in Darts (``BlockRNNModel`` + ``historical_forecasts``).

Runs inside ``benchmarks/peers/.venv-darts`` (see the Makefile beside this file)::

    .venv-darts/bin/python darts_protocol.py --variant close --mode refit --out r.json

Mapping of the protocol onto Darts (checked against the installed 0.48.1 source):

* Series: ``TimeSeries.from_values`` on **float32** values, so the index is the row position
  (a RangeIndex: no business-day calendar gaps to fight) and Darts trains in 32-bit precision
  like the other contenders (float64 series would make Lightning train in double precision).
* ``close``: target Close, no covariates.  ``ohlc``: target Close with Open/High/Low as
  ``past_covariates``.  Darts concatenates target and past covariates into the LSTM input,
  so the network sees the same 4 input features and predicts the same 5 Close values as the
  bare reference; a multivariate OHLC target would instead predict 4 x 5 values (more work,
  and different metrics), so covariates are the equal-work choice.
* Model: ``BlockRNNModel(model="LSTM", hidden_dim=64, n_rnn_layers=2, dropout=0,
  input_chunk_length=60, output_chunk_length=5, batch_size=64, n_epochs=10, Adam lr 1e-3,
  MSELoss, random_state=0)``.  Its head differs slightly from the bare one: Darts 0.48 takes
  the LSTM outputs of the last 5 time steps and maps each through a shared
  ``Linear(64 -> 1)`` (the bare floor maps the last hidden state through ``Linear(64 -> 5)``);
  the LSTM, which is all of the cost, is identical.  Training samples are the same
  ``n_train - 64`` windows, shuffled, batches of 64 with a partial last batch.
* Trainer: CPU, no progress bar, no model summary, no logger, no checkpointing
  (``save_checkpoints=False``), ``torch.set_num_threads(2)``.
* ``refit``: ``historical_forecasts(start=<first test row>, forecast_horizon=5, stride=5,
  retrain=10, last_points_only=False, data_transformers={"series": Scaler(StandardScaler()),
  ...})``.  ``retrain=10`` retrains on forecast iterations 0, 10, 20, 30, 40 (the counter
  modulo 10), i.e. every 50 rows; each retrain builds ``untrained_model()`` (from scratch,
  same ``random_state``), trains on everything before the prediction point (expanding
  window), and re-fits the data transformers on those rows.  Because it retrains, Darts takes
  its generic (non-optimised) path: one ``predict`` call per origin (50 calls).
* ``single``: scalers and model fitted once on the pre-test rows, then
  ``historical_forecasts(retrain=False, data_transformers=<the fitted scalers>)``, which Darts
  serves with its optimised path (all origins in batched forward passes), as a Darts user
  would.  (``retrain=50`` would express it too, but through 50 separate ``predict`` calls.)
* ``fit``: the scaler fit and one ``model.fit`` on the pre-test rows.
"""

from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protocol

protocol.set_threads(protocol.THREADS)

import darts  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from darts import TimeSeries  # noqa: E402
from darts.dataprocessing.transformers import Scaler  # noqa: E402
from darts.models import BlockRNNModel  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

LIBRARY = "darts"


def quiet() -> None:
    """Silence Lightning's and Darts' informational chatter (it is not part of the work)."""
    warnings.filterwarnings("ignore")
    for name in ("lightning", "lightning.pytorch", "pytorch_lightning", "darts"):
        logging.getLogger(name).setLevel(logging.ERROR)


def make_model() -> BlockRNNModel:
    """A fresh, untrained BlockRNNModel configured by the protocol."""
    return BlockRNNModel(
        model="LSTM",
        input_chunk_length=protocol.LOOKBACK,
        output_chunk_length=protocol.HORIZON,
        hidden_dim=protocol.HIDDEN,
        n_rnn_layers=protocol.LAYERS,
        dropout=protocol.DROPOUT,
        batch_size=protocol.BATCH,
        n_epochs=protocol.EPOCHS,
        loss_fn=torch.nn.MSELoss(),
        optimizer_cls=torch.optim.Adam,
        optimizer_kwargs={"lr": protocol.LR},
        random_state=protocol.SEED,
        save_checkpoints=False,
        log_tensorboard=False,
        force_reset=True,
        pl_trainer_kwargs={
            "accelerator": "cpu",
            "devices": 1,
            "enable_progress_bar": False,
            "enable_model_summary": False,
            "enable_checkpointing": False,
            "logger": False,
        },
    )


def make_series(frame: pd.DataFrame, variant: str) -> tuple[TimeSeries, TimeSeries | None]:
    """Close as the float32 target; for ``ohlc``, Open/High/Low as float32 past covariates."""
    target = TimeSeries.from_values(frame[protocol.TARGET].to_numpy(dtype=np.float32))
    others = [c for c in protocol.input_columns(variant) if c != protocol.TARGET]
    covariates = (
        TimeSeries.from_values(frame[others].to_numpy(dtype=np.float32)) if others else None
    )
    return target, covariates


def transformers(covariates: TimeSeries | None) -> dict[str, Scaler]:
    """Unfitted standard scalers for the target and (if any) the past covariates."""
    out = {"series": Scaler(StandardScaler())}
    if covariates is not None:
        out["past_covariates"] = Scaler(StandardScaler())
    return out


def fit_once(
    target: TimeSeries, covariates: TimeSeries | None, train_end: int
) -> tuple[BlockRNNModel, dict[str, Scaler]]:
    """Fit the scalers and a fresh model on rows ``[0, train_end)``."""
    scalers = transformers(covariates)
    train = scalers["series"].fit_transform(target[:train_end])
    past = scalers["past_covariates"].fit_transform(covariates[:train_end]) if covariates else None
    model = make_model()
    model.fit(train, past_covariates=past, verbose=False)
    return model, scalers


def to_triples(forecasts: list[TimeSeries]) -> list[tuple[int, int, float]]:
    """Darts forecasts (RangeIndex = row positions) -> (origin, step, predicted) triples."""
    triples: list[tuple[int, int, float]] = []
    for fc in forecasts:
        rows = np.asarray(fc.time_index, dtype=int)
        origin = int(rows[0]) - 1
        values = fc.values(copy=False)[:, 0]
        triples.extend(
            (origin, int(r) - origin, float(v)) for r, v in zip(rows, values, strict=True)
        )
    return triples


def run(frame: pd.DataFrame, variant: str, mode: str) -> tuple[list[tuple[int, int, float]], int]:
    """Run one mode; returns forecast triples and the number of fits."""
    target, covariates = make_series(frame, variant)
    start = protocol.test_start(len(frame))
    common: dict[str, Any] = {
        "series": target,
        "past_covariates": covariates,
        "start": start,
        "start_format": "value",
        "forecast_horizon": protocol.HORIZON,
        "stride": protocol.STRIDE,
        "last_points_only": False,
        "overlap_end": False,
        "verbose": False,
        "show_warnings": False,
    }
    if mode == "fit":
        fit_once(target, covariates, start)
        return [], 1
    if mode == "single":
        model, scalers = fit_once(target, covariates, start)
        forecasts = model.historical_forecasts(retrain=False, data_transformers=scalers, **common)
        return to_triples(forecasts), 1
    if mode == "refit":
        model = make_model()
        forecasts = model.historical_forecasts(
            retrain=protocol.ORIGINS_PER_FIT, data_transformers=transformers(covariates), **common
        )
        return to_triples(forecasts), len(protocol.folds(len(frame), "refit"))
    raise ValueError(mode)


def main() -> None:
    """CLI entry point: run the mode, write the result JSON."""
    args = protocol.parse_args(__doc__.splitlines()[0])
    quiet()
    frame = protocol.load_frame(args.data)
    ready = protocol.seconds_since_start()
    with protocol.Stopwatch() as sw:
        triples, n_fits = run(frame, args.variant, args.mode)
    result = protocol.build_result(
        library=LIBRARY,
        version=darts.__version__,
        variant=args.variant,
        mode=args.mode,
        seconds=sw.seconds,
        n_fits=n_fits,
        forecasts=triples,
        frame=frame,
        import_seconds=ready,
        extra=sw.diagnostics(),
        env_packages=("torch", "numpy", "pandas", "scikit-learn", "darts", "pytorch-lightning"),
        notes=(
            "BlockRNNModel LSTM 2x64, float32; refit=historical_forecasts(retrain=10) with "
            "Scaler(StandardScaler) data_transformers; "
            "single=fit + historical_forecasts(retrain=False)"
        ),
    )
    protocol.write_result(result, args.out)


if __name__ == "__main__":
    main()
