"""One fit on one torch thread and on two, for models of several sizes (sets WORK_PER_THREAD).

``forecast._process.threads_for_fit`` gives a second thread only to models with enough work
per step; this measures where that pays. The automatic choice is switched off so that torch's
count is the one set here; each (model, threads) pair runs ``--rounds`` times interleaved and
the weights of one- and two-thread fits are compared bit for bit. Run it idle (under
``/work/bin/quiet`` on the shared machine) for the speed-up, or beside other work to see the
barrier pathology. ``python -m benchmarks.threads_per_fit [--rounds 2] [--epochs 2]``.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

import forecast as fc
import forecast.training as training

MODELS = ((64, 1), (64, 2), (128, 1), (128, 2), (256, 1))  # (hidden_size, num_layers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--bars", type=int, default=1100)
    args = parser.parse_args(argv)
    training._fit_threads = lambda *a, **k: contextlib.nullcontext()  # keep torch's count
    frame = fc.load("AAPL").iloc[-args.bars :]
    fc.Forecaster(epochs=1, progress=False).fit(frame.iloc[-200:])  # warm the process up
    seconds: dict[tuple[int, int, int], list[float]] = {}
    weights: dict[tuple[int, int, int], torch.Tensor] = {}
    for number in range(args.rounds):
        for hidden, layers in MODELS:
            for threads in (1, 2) if number % 2 == 0 else (2, 1):
                torch.set_num_threads(threads)
                model = fc.Forecaster(
                    hidden_size=hidden,
                    num_layers=layers,
                    epochs=args.epochs,
                    patience=None,
                    progress=False,
                )
                started = time.perf_counter()
                model.fit(frame)
                seconds.setdefault((hidden, layers, threads), []).append(
                    time.perf_counter() - started
                )
                weights[(hidden, layers, threads)] = torch.cat(
                    [p.detach().flatten() for p in model.module_.parameters()]
                )
    print("| model | parameters | work per step | 1 thread s | 2 threads s | speed-up | same |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for hidden, layers in MODELS:
        one = statistics.median(seconds[(hidden, layers, 1)])
        two = statistics.median(seconds[(hidden, layers, 2)])
        n_params = weights[(hidden, layers, 1)].numel()
        same = torch.equal(weights[(hidden, layers, 1)], weights[(hidden, layers, 2)])
        print(
            f"| {hidden} x {layers} | {n_params:,} | {n_params * 64 / 1e6:.1f}M | {one:.2f} | "
            f"{two:.2f} | {one / two:.2f}x | {'yes' if same else 'NO'} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
