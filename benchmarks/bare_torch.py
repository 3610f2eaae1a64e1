"""The floor: the benchmark protocol in bare PyTorch (no framework, no trainer, no callbacks).

``nn.LSTM`` (2 layers, hidden 64, dropout 0) followed by ``nn.Linear(64 -> 5)`` on the last
time step's hidden state of the top layer: a direct 5-step forecast of the *scaled Close
level*, inverse-transformed to prices.  Windows come from ``sliding_window_view`` over the
scaled training rows (``n_train - 64`` windows), the scaler is sklearn's ``StandardScaler``
fitted on the training rows of each fit, and the loop is the plainest one: a shuffled index
permutation per epoch, batches of 64 (the last one partial), Adam 1e-3, MSE, 10 epochs,
``torch.manual_seed(0)`` before every fit, ``torch.set_num_threads(2)``.  All origins of a
fit are forecast in one batched forward pass.

CLI (the contract every contender follows, see ``protocol.py``)::

    python benchmarks/bare_torch.py --variant close|ohlc --mode fit|refit|single --out r.json

:func:`epoch_seconds` returns the per-epoch training time of one fit, the floor for the
"training-loop overhead" comparison.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import protocol

protocol.set_threads(protocol.THREADS)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from torch import nn  # noqa: E402

LIBRARY = "bare-torch"


class DirectLSTM(nn.Module):
    """LSTM encoder whose last hidden state feeds one linear layer with ``horizon`` outputs."""

    def __init__(self, n_features: int, hidden: int, layers: int, horizon: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            n_features, hidden, num_layers=layers, batch_first=True, dropout=protocol.DROPOUT
        )
        self.head = nn.Linear(hidden, horizon)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (batch, lookback, features) -> (batch, horizon) scaled Close levels."""
        out, _ = self.lstm(x)
        return self.head(out[:, -1, :])


class FittedModel:
    """A trained network with the scaler of its training rows."""

    def __init__(self, net: DirectLSTM, scaler: StandardScaler, epoch_seconds: list[float]) -> None:
        self.net = net
        self.scaler = scaler
        self.epoch_seconds = epoch_seconds

    def forecast(self, values: np.ndarray, origins: tuple[int, ...]) -> np.ndarray:
        """Forecast 5 Close prices after each origin, all origins in one forward pass.

        ``values``: the raw input columns of the whole frame (rows, features), Close last.
        Returns an array (len(origins), horizon) in price units.
        """
        scaled = self.scaler.transform(values).astype(np.float32)
        batch = np.stack([scaled[o - protocol.LOOKBACK + 1 : o + 1] for o in origins])
        self.net.eval()
        with torch.no_grad():
            out = self.net(torch.from_numpy(batch)).numpy().astype(np.float64)
        mean, scale = self.scaler.mean_[-1], self.scaler.scale_[-1]  # Close is the last column
        return out * scale + mean


def training_windows(scaled: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """All (60-row input, 5-row Close target) windows inside the scaled training rows."""
    span = protocol.LOOKBACK + protocol.HORIZON
    windows = sliding_window_view(scaled, span, axis=0)  # (n_windows, features, span)
    windows = np.ascontiguousarray(windows.transpose(0, 2, 1), dtype=np.float32)
    inputs = torch.from_numpy(windows[:, : protocol.LOOKBACK, :].copy())
    targets = torch.from_numpy(windows[:, protocol.LOOKBACK :, -1].copy())
    return inputs, targets


def fit(values: np.ndarray, train_end: int) -> FittedModel:
    """Train from scratch on rows ``[0, train_end)`` of ``values`` (seeded, 10 epochs)."""
    torch.manual_seed(protocol.SEED)
    scaler = StandardScaler().fit(values[:train_end])
    inputs, targets = training_windows(scaler.transform(values[:train_end]))
    net = DirectLSTM(values.shape[1], protocol.HIDDEN, protocol.LAYERS, protocol.HORIZON)
    optimizer = torch.optim.Adam(net.parameters(), lr=protocol.LR)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(protocol.SEED)
    n = len(inputs)
    epoch_times: list[float] = []
    net.train()
    for _ in range(protocol.EPOCHS):
        start = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        for first in range(0, n, protocol.BATCH):
            idx = order[first : first + protocol.BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(inputs[idx]), targets[idx])
            loss.backward()
            optimizer.step()
        epoch_times.append(time.perf_counter() - start)
    return FittedModel(net, scaler, epoch_times)


def run(
    frame: pd.DataFrame, variant: str, mode: str
) -> tuple[list[tuple[int, int, float]], int, list[float]]:
    """Run one mode; returns forecast triples, number of fits, epoch times of the first fit."""
    values = frame[list(protocol.input_columns(variant))].to_numpy(dtype=np.float64)
    triples: list[tuple[int, int, float]] = []
    first_epochs: list[float] = []
    plan = protocol.folds(len(frame), mode)
    for fold in plan:
        model = fit(values, fold.train_end)
        first_epochs = first_epochs or model.epoch_seconds
        if fold.origins:
            predicted = model.forecast(values, fold.origins)
            for origin, row in zip(fold.origins, predicted, strict=True):
                triples.extend((origin, step + 1, float(p)) for step, p in enumerate(row))
    return triples, len(plan), first_epochs


def epoch_seconds(variant: str = "close", data: str | Path = protocol.DATA_PATH) -> list[float]:
    """Per-epoch training time (seconds) of one protocol fit on the pre-test rows."""
    frame = protocol.load_frame(data)
    values = frame[list(protocol.input_columns(variant))].to_numpy(dtype=np.float64)
    return fit(values, protocol.test_start(len(frame))).epoch_seconds


def main() -> None:
    """CLI entry point: run the mode, write the result JSON."""
    args = protocol.parse_args(__doc__.splitlines()[0])
    frame = protocol.load_frame(args.data)
    ready = protocol.seconds_since_start()
    with protocol.Stopwatch() as sw:
        triples, n_fits, epochs = run(frame, args.variant, args.mode)
    result = protocol.build_result(
        library=LIBRARY,
        version=torch.__version__,
        variant=args.variant,
        mode=args.mode,
        seconds=sw.seconds,
        n_fits=n_fits,
        forecasts=triples,
        frame=frame,
        epoch_seconds=epochs,
        import_seconds=ready,
        extra=sw.diagnostics(),
        notes="nn.LSTM(2x64) + Linear(64->5) on the last hidden state; hand-written loop",
    )
    protocol.write_result(result, args.out)


if __name__ == "__main__":
    main()
