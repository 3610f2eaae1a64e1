"""Our library on the benchmark protocol (see ``benchmarks/protocol.py``).

The model is the protocol's: ``Forecaster(cell="lstm", topology="n_to_1",
multi_step="direct")`` is an LSTM (2 x 64) whose last hidden state feeds one linear layer with
5 outputs, trained on standard-scaled Close levels (``representation="levels"``) for 10
epochs of batch 64, Adam 1e-3, MSE, seed 0, no early stopping, no validation tail and no
gradient clipping (the bare floor does none, so neither do we: equal work). The backtest is
``forecast.backtest`` with the protocol's folds (250 test rows, 5 folds, origins every 5 rows).

Engines (``--engine``), all on the same origins and points. From scratch (the floor's work):

- ``parallel`` (default): the 5 refits in 2 lanes of 1 torch thread each (``n_jobs=2``),
  threads of this process, in a process tuned as the ``forecast`` command tunes its own
  (``forecast.tune_process()``: glibc keeps freed memory). Every engine but
  ``no-malloc-tuning`` makes that call;
- ``sequential``: one refit after another with 2 torch threads (``n_jobs=1``);
- ``processes``: as ``parallel``, but the lanes forced into worker processes (the engine
  used before thread lanes; kept to measure that lever);
- ``no-malloc-tuning``: as ``parallel`` without ``forecast.tune_process()`` (glibc's malloc
  left as it is: what a library user gets without opting in; see ``forecast/_malloc.py``);
- ``bf16``: as ``parallel`` with ``precision="bfloat16"`` (bfloat16 matrix products under
  autocast; float32 weights, optimizer and loss).

Warm-started (less work, a user option): each refit starts from the previous fold's weights
and trains 3 epochs instead of 10:

- ``warm``: one chain, each refit from the one before, 2 torch threads (``n_jobs=1``);
- ``warm-bf16``: the same in bfloat16;
- ``warm-waves``: ``n_jobs=2`` lanes (fold 1 alone, then waves of 2 refits that start
  from the last model of the wave before), float32;
- ``warm-waves-bf16``: the same in bfloat16.

And ``default-model``: not the protocol's model but the one ``forecast backtest`` fits with
no options (``Forecaster()``: LSTM n_to_m seq2seq on standard-scaled log returns, 30 epochs
with early stopping on a validation tail, clipping), on the protocol's folds and points, for
the accuracy comparison; with the ``close`` variant its only input is Close, with ``ohlc`` it
reads Open/High/Low/Close (its default).

Peak memory is reported for the whole process tree (this process plus its workers, their
proportional set sizes summed every 20 ms while it has workers, and never less than this
process's own ru_maxrss), not just this process, so engines with worker processes are not
flattered.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import protocol

protocol.set_threads(protocol.THREADS)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import forecast as fc  # noqa: E402

LIBRARY = "forecast"
WARM_EPOCHS = 3
ENGINES: dict[str, dict[str, Any]] = {
    "parallel": {"n_jobs": 2},
    "sequential": {"n_jobs": 1},
    "processes": {"n_jobs": 2},
    "no-malloc-tuning": {"n_jobs": 2},
    "bf16": {"n_jobs": 2, "precision": "bfloat16"},
    "warm": {"n_jobs": 1, "warm_start": True, "warm_epochs": WARM_EPOCHS},
    "warm-bf16": {
        "n_jobs": 1,
        "warm_start": True,
        "warm_epochs": WARM_EPOCHS,
        "precision": "bfloat16",
    },
    "warm-waves": {"n_jobs": 2, "warm_start": True, "warm_epochs": WARM_EPOCHS},
    "warm-waves-bf16": {
        "n_jobs": 2,
        "warm_start": True,
        "warm_epochs": WARM_EPOCHS,
        "precision": "bfloat16",
    },
    "default-model": {"n_jobs": 1},
}


def forecaster(variant: str, engine: str, precision: str = "float32") -> fc.Forecaster:
    """The protocol's model as a Forecaster (``precision``: see ``Forecaster``).

    ``engine="default-model"`` gives ``forecast backtest``'s default model instead.
    """
    if engine == "default-model":
        features = list(protocol.input_columns(variant)) if variant == "close" else None
        return fc.Forecaster(features=features, seed=protocol.SEED, device="cpu", progress=False)
    return fc.Forecaster(
        cell="lstm",
        topology="n_to_1",
        multi_step="direct",
        features=list(protocol.input_columns(variant)),
        target=protocol.TARGET,
        lookback=protocol.LOOKBACK,
        horizon=protocol.HORIZON,
        hidden_size=protocol.HIDDEN,
        num_layers=protocol.LAYERS,
        dropout=protocol.DROPOUT,
        representation="levels",
        scaler="standard",
        epochs=protocol.EPOCHS,
        batch_size=protocol.BATCH,
        lr=protocol.LR,
        optimizer="adam",
        loss="mse",
        clip_grad_norm=None,
        patience=None,
        val_fraction=0.0,
        seed=protocol.SEED,
        device="cpu",
        progress=False,
        precision=precision,
    )


class TreeMemory:
    """Peak summed PSS (MB, 10^6 bytes) of this process and all its descendants."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        # The sampler can miss a short spike of this process; its own high-water mark cannot.
        self.peak_mb = max(self.peak_mb, protocol.peak_rss_mb())

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(root))
            time.sleep(self.interval)


def _tree_rss_mb(root: int) -> float:
    """Summed proportional set size (PSS) of ``root`` and its descendants, in MB.

    PSS splits each shared page among the processes that map it, so forked workers sharing
    the parent's pages are not counted twice (plain RSS would double-count them). Returns 0
    while ``root`` has no children: its own peak is ``ru_maxrss``, read at the end, and
    reading its page tables 50 times a second would only slow the run being measured.
    """
    descendants, stack = [], [root]
    while stack:
        found = _children(stack.pop())
        descendants.extend(found)
        stack.extend(found)
    if not descendants:
        return 0.0
    return sum(_pss_mb(pid) for pid in [root, *descendants])


def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (``/proc/PID/task/TID/children``, every thread)."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except (OSError, ValueError):
        pass
    return found


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return 0.0


def run(frame: pd.DataFrame, variant: str, mode: str, engine: str) -> tuple[list, int]:
    """One protocol mode; returns (origin row, step, predicted) triples and the fit count."""
    options = dict(ENGINES[engine])
    model = forecaster(variant, engine, options.pop("precision", "float32"))
    n_rows = len(frame)
    if mode == "fit":
        model.fit(frame.iloc[: protocol.test_start(n_rows)])
        return [], 1
    if mode == "single":
        options = {"refit": 0}
    result = fc.backtest(
        model,
        frame,
        test_size=protocol.TEST_ROWS,
        folds=protocol.TEST_ROWS // protocol.REFIT_EVERY,
        step=protocol.STRIDE,
        baselines=(),
        **options,
    )
    table = result.forecasts[result.forecasts["model"] == "lstm"]
    rows = frame.index.get_indexer(pd.DatetimeIndex(table["origin"]))
    triples = list(
        zip(rows.tolist(), table["step"].tolist(), table["predicted"].tolist(), strict=True)
    )
    return triples, int(result.folds["refit"].sum())


def prepare_engine(engine: str) -> None:
    """Process-wide switches of the engines (before any fit)."""
    if engine != "no-malloc-tuning":
        fc.tune_process()  # as the `forecast` command does for its own process
    if engine == "processes":
        from forecast import refits

        refits._fits_in_threads = lambda estimator: False  # force worker processes


def main() -> None:
    """CLI: the protocol's contract plus ``--engine``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=list(protocol.VARIANTS), default="close")
    parser.add_argument("--mode", choices=list(protocol.MODES), default="refit")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=protocol.DATA_PATH)
    parser.add_argument("--engine", choices=list(ENGINES), default="parallel")
    args = parser.parse_args()
    prepare_engine(args.engine)
    frame = fc.load(str(args.data))
    ready = protocol.seconds_since_start()
    with TreeMemory() as memory, protocol.Stopwatch() as sw:
        triples, n_fits = run(frame, args.variant, args.mode, args.engine)
    table_frame = frame.reset_index()
    result = protocol.build_result(
        library=LIBRARY if args.engine == "parallel" else f"{LIBRARY}-{args.engine}",
        version=fc.__version__,
        variant=args.variant,
        mode=args.mode,
        seconds=sw.seconds,
        n_fits=n_fits,
        forecasts=triples,
        frame=table_frame,
        import_seconds=ready,
        extra={
            **sw.diagnostics(),
            "engine": args.engine,
            "peak_rss_self_mb": protocol.peak_rss_mb(),
        },
        notes=f"forecast.backtest, engine {args.engine}: {ENGINES[args.engine]}",
    )
    result["peak_rss_mb"] = memory.peak_mb
    protocol.write_result(result, args.out)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
