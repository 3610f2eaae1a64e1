"""The benchmark protocol in neuralforecast (``models.LSTM`` + ``NeuralForecast``).

Runs inside ``benchmarks/peers/.venv-neuralforecast`` (see the Makefile beside this file)::

  .venv-neuralforecast/bin/python neuralforecast_protocol.py --variant ohlc --mode fit --out r.json

Mapping of the protocol onto neuralforecast (checked against the installed 3.3.0 source):

* Model: ``LSTM(h=5, input_size=60, encoder_n_layers=2, encoder_hidden_size=64,
  encoder_dropout=0, decoder_layers=1, recurrent=False, loss=MSE(), learning_rate=1e-3,
  random_seed=0, early_stop_patience_steps=-1)``.  ``decoder_layers=1`` is the smallest
  decoder it has: a single ``Linear(64 -> 1)`` applied to the LSTM outputs of the last 5 time
  steps (``decoder_hidden_size`` is then unused) -- the same head as Darts' BlockRNNModel and
  as cheap as the bare floor's ``Linear(64 -> 5)``.  ``num_lr_decays=-1`` (no LR decay).
* Inputs: ``close`` -> ``y`` only; ``ohlc`` -> ``y`` = Close plus ``hist_exog_list`` =
  Open/High/Low, concatenated into a 4-feature LSTM input (same work as the others).
* Scaling: the protocol's scaler is fitted on the training rows of each fit.  neuralforecast's
  model-level ``scaler_type`` normalises every *window* by its own statistics (a different
  method), and ``NeuralForecast(local_scaler_type=...)`` fits the series scaler on the whole
  ``df`` handed to ``cross_validation`` -- test rows included -- and ``predict(df=...)``
  refits it on each new ``df``.  So this script standard-scales the columns itself with
  sklearn's ``StandardScaler`` fitted on the training rows, passes the scaled frame with
  ``scaler_type="identity"`` and no local scaler, and inverse-transforms the forecasts.
* Epochs -> steps: one neuralforecast training step samples ``batch_size`` *series* (here 1,
  the only series) and from them ``windows_batch_size`` windows drawn without replacement
  from all training windows (``randperm[:64]``); there are no epochs over windows.  With
  ``windows_batch_size=64`` and ``max_steps = 10 * ceil(n_windows / 64)`` a fit draws as many
  batches of 64 as 10 epochs would (150, 160, 170, 180, 180 steps for the 5 expanding folds
  of 945..1145 windows); the sample count is ``64 * max_steps`` (9,600 on fold 1 vs 9,450
  window visits for the bare loop, whose last batch per epoch is partial), and windows are
  drawn independently per step rather than once per epoch.
  ``training_data_availability_threshold=[1.0, 1.0]`` keeps only windows whose 60 inputs and
  5 targets all lie in the training rows (by default it also trains on right-padded windows
  with as few as one observed target), i.e. ``n_train - 64`` windows like everyone else.
* ``refit``: ``cross_validation(n_windows=50, step_size=5, refit=10)`` cannot express the
  protocol: its refits *continue training* the already-fitted network (``fit`` is called with
  ``use_init_models=False``: warm start, not from scratch), ``max_steps`` is fixed for all
  refits, and between refits it issues one ``predict`` per window.  So this script runs a
  manual loop of 5 folds; each builds a fresh ``NeuralForecast`` and calls
  ``cross_validation(df=<rows up to the fold's last forecast row>, n_windows=10, step_size=5,
  refit=False)``, which trains on the rows before the fold's first forecast and forecasts the
  10 origins in one batched pass.
* ``single``: one ``cross_validation(n_windows=50, step_size=5, refit=False)`` over all rows
  (trains on the pre-test rows, forecasts all 50 origins batched).
* ``fit``: one ``NeuralForecast.fit`` on the pre-test rows.
* Trainer: CPU, no progress bar, no model summary, no logger, no checkpointing;
  ``torch.set_num_threads(2)``; float32 (neuralforecast's own dtype).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protocol

protocol.set_threads(protocol.THREADS)
os.environ.setdefault("NIXTLA_ID_AS_COL", "1")  # keep unique_id a column (no deprecation path)

import neuralforecast  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from neuralforecast import NeuralForecast  # noqa: E402
from neuralforecast.losses.pytorch import MSE  # noqa: E402
from neuralforecast.models import LSTM  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

LIBRARY = "neuralforecast"
SERIES_ID = "AAPL"


def quiet() -> None:
    """Silence Lightning's and neuralforecast's informational chatter."""
    warnings.filterwarnings("ignore")
    for name in (
        "lightning",
        "lightning.pytorch",
        "pytorch_lightning",
        "lightning_fabric",
        "neuralforecast",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)


def make_model(variant: str, max_steps: int) -> LSTM:
    """A fresh LSTM configured by the protocol, trained for ``max_steps`` steps of 64 windows."""
    exog = [c for c in protocol.input_columns(variant) if c != protocol.TARGET]
    return LSTM(
        h=protocol.HORIZON,
        input_size=protocol.LOOKBACK,
        inference_input_size=protocol.LOOKBACK,
        encoder_n_layers=protocol.LAYERS,
        encoder_hidden_size=protocol.HIDDEN,
        encoder_dropout=protocol.DROPOUT,
        decoder_layers=1,
        recurrent=False,
        hist_exog_list=exog or None,
        loss=MSE(),
        valid_loss=MSE(),
        max_steps=max_steps,
        learning_rate=protocol.LR,
        num_lr_decays=-1,
        early_stop_patience_steps=-1,
        val_check_steps=max_steps,
        batch_size=1,
        windows_batch_size=protocol.BATCH,
        inference_windows_batch_size=-1,
        training_data_availability_threshold=[1.0, 1.0],
        scaler_type="identity",
        random_seed=protocol.SEED,
        accelerator="cpu",
        devices=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        logger=False,
    )


def scaled_frame(
    frame: pd.DataFrame, variant: str, train_end: int, stop: int
) -> tuple[pd.DataFrame, StandardScaler]:
    """Rows ``[0, stop)`` in neuralforecast's long format, scaled on rows ``[0, train_end)``.

    Returns the frame (``unique_id, ds, y`` + exogenous columns) and the fitted scaler
    (Close is its last column).
    """
    columns = list(protocol.input_columns(variant))
    values = frame[columns].to_numpy(dtype=np.float64)
    scaler = StandardScaler().fit(values[:train_end])
    scaled = scaler.transform(values[:stop]).astype(np.float32)
    out = pd.DataFrame({"unique_id": SERIES_ID, "ds": np.arange(stop, dtype=np.int64)})
    for j, column in enumerate(columns):
        out["y" if column == protocol.TARGET else column] = scaled[:, j]
    return out, scaler


def forecast_fold(
    frame: pd.DataFrame, variant: str, fold: protocol.Fold
) -> list[tuple[int, int, float]]:
    """Train from scratch on the fold's training rows, forecast its origins in one pass."""
    stop = fold.origins[-1] + protocol.HORIZON + 1  # one past the fold's last forecast row
    df, scaler = scaled_frame(frame, variant, fold.train_end, stop)
    model = make_model(variant, protocol.steps_for_epochs(fold.n_windows))
    nf = NeuralForecast(models=[model], freq=1)
    cv = nf.cross_validation(
        df=df, n_windows=len(fold.origins), step_size=protocol.STRIDE, refit=False
    )
    mean, scale = scaler.mean_[-1], scaler.scale_[-1]
    predicted = cv["LSTM"].to_numpy(dtype=np.float64) * scale + mean
    origins = cv["cutoff"].to_numpy(dtype=int)
    steps = cv["ds"].to_numpy(dtype=int) - origins
    return [(int(o), int(s), float(p)) for o, s, p in zip(origins, steps, predicted, strict=True)]


def run(frame: pd.DataFrame, variant: str, mode: str) -> tuple[list[tuple[int, int, float]], int]:
    """Run one mode; returns forecast triples and the number of fits."""
    plan = protocol.folds(len(frame), mode)
    if mode == "fit":
        fold = plan[0]
        df, _ = scaled_frame(frame, variant, fold.train_end, fold.train_end)
        model = make_model(variant, protocol.steps_for_epochs(fold.n_windows))
        NeuralForecast(models=[model], freq=1).fit(df=df)
        return [], 1
    triples: list[tuple[int, int, float]] = []
    for fold in plan:
        triples.extend(forecast_fold(frame, variant, fold))
    return triples, len(plan)


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
        version=neuralforecast.__version__,
        variant=args.variant,
        mode=args.mode,
        seconds=sw.seconds,
        n_fits=n_fits,
        forecasts=triples,
        frame=frame,
        import_seconds=ready,
        extra=sw.diagnostics(),
        env_packages=(
            "torch",
            "numpy",
            "pandas",
            "scikit-learn",
            "neuralforecast",
            "pytorch-lightning",
        ),
        notes=(
            "LSTM 2x64 + decoder_layers=1 (Linear 64->1 on last 5 outputs); max_steps = "
            "10*ceil(windows/64), windows_batch_size=64; manual fold loop of "
            "cross_validation(refit=False); sklearn StandardScaler on training rows"
        ),
    )
    protocol.write_result(result, args.out)


if __name__ == "__main__":
    main()
