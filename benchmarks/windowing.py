"""Time windowing 1,000,000 rows x 4 features (T=60, H=5, n_to_m) against a Python loop.

Run from the repository root::

    python -m benchmarks.windowing             # full size; appends to benchmarks/RESULTS.md
    python -m benchmarks.windowing --rows 20000 --repeats 1 --no-write   # a quick check

Contenders, each building ``X [N, T, F]`` and ``y [N, H, 1]`` (N = rows - T - H + 1) from the
same float32 inputs:

* ``ours (views)``: :func:`forecast.data.windows.input_windows` and
  :func:`~forecast.data.windows.target_windows`, strided views over the input arrays;
* ``ours (materialised)``: the same followed by ``.contiguous()``, the honest cost when a
  caller needs its own copy (a shuffled batch gather, a GPU transfer);
* ``loop``: a preallocated NumPy array filled by a Python ``for`` loop, one slice
  assignment per window for ``X`` and one for ``y``.

Timing: rounds are interleaved (views, materialised, loop, views, ...), each variant's
median is reported, and speed-ups are the median of the per-round ratios. Memory: each
variant runs once more in a fresh subprocess, which reports its peak resident set size
above its own baseline (``VmHWM`` of ``/proc/self/status`` after resetting it through
``/proc/self/clear_refs``; if that reset is refused, ``resource.getrusage().ru_maxrss``
minus ``ru_maxrss`` before the run, which can under-count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from forecast.data.windows import input_windows, target_windows

LOOKBACK = 60
HORIZON = 5
N_FEATURES = 4
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results\n"

Arrays = tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]
VARIANTS = ("ours (views)", "ours (materialised)", "loop")


def make_inputs(n_rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``[L, 4]`` float32 random-walk prices and their ``[L, 1]`` Close column (contiguous)."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((n_rows, N_FEATURES), dtype=np.float32)
    values = 100.0 + np.cumsum(steps, axis=0, dtype=np.float32)
    return values, np.ascontiguousarray(values[:, 3:4])


def ours_views(values: np.ndarray, targets: np.ndarray) -> Arrays:
    """X and y as strided views (no copy)."""
    y = target_windows(targets, LOOKBACK, HORIZON, "n_to_m")  # [N, H, 1]
    X = input_windows(values, LOOKBACK)[: y.shape[0]]  # [N, T, F]
    return X, y


def ours_materialised(values: np.ndarray, targets: np.ndarray) -> Arrays:
    """X and y copied into fresh contiguous tensors."""
    X, y = ours_views(values, targets)
    return X.contiguous(), y.contiguous()


def python_loop(values: np.ndarray, targets: np.ndarray) -> Arrays:
    """Preallocated arrays filled one window at a time in a Python for loop."""
    n_windows = len(values) - LOOKBACK - HORIZON + 1
    X = np.empty((n_windows, LOOKBACK, values.shape[1]), dtype=np.float32)
    y = np.empty((n_windows, HORIZON, targets.shape[1]), dtype=np.float32)
    for j in range(n_windows):
        X[j] = values[j : j + LOOKBACK]
        y[j] = targets[j + LOOKBACK : j + LOOKBACK + HORIZON]
    return X, y


FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], Arrays]] = dict(
    zip(VARIANTS, (ours_views, ours_materialised, python_loop), strict=True)
)


def owned_bytes(arrays: Arrays, inputs: tuple[np.ndarray, np.ndarray]) -> int:
    """Bytes of memory the results hold beyond the inputs (0 for views)."""
    input_pointers = {array.ctypes.data for array in inputs}
    total = 0
    for array in arrays:
        if isinstance(array, torch.Tensor):
            storage = array.untyped_storage()
            pointer, size = storage.data_ptr(), storage.nbytes()
        else:
            base = array if array.base is None else array.base
            pointer, size = array.ctypes.data, base.nbytes
        total += 0 if pointer in input_pointers else size
    return total


def timed_rounds(
    values: np.ndarray, targets: np.ndarray, repeats: int
) -> tuple[dict[str, list[float]], bool]:
    """Seconds per variant per round, interleaved; and whether all variants agree."""
    seconds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    equal = True
    for round_number in range(repeats):
        results: dict[str, Arrays] = {}
        for name in VARIANTS:
            start = time.perf_counter()
            results[name] = FUNCTIONS[name](values, targets)
            seconds[name].append(time.perf_counter() - start)
            if round_number and name != "ours (views)":
                del results[name]  # free ~1 GB before the next contender allocates
        if round_number == 0:
            equal = _all_equal(results)
        del results
        print(
            f"round {round_number + 1}: "
            + ", ".join(f"{name} {seconds[name][-1]:.4g} s" for name in VARIANTS),
            flush=True,
        )
    return seconds, equal


def _all_equal(results: dict[str, Arrays]) -> bool:
    reference_X, reference_y = (torch.as_tensor(a) for a in results["loop"])
    return all(
        torch.equal(torch.as_tensor(X), reference_X)
        and torch.equal(torch.as_tensor(y), reference_y)
        for X, y in results.values()
    )


# -- memory, one fresh process per variant ---------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_memory(variant: str, n_rows: int) -> dict[str, object]:
    """Run one variant in this process and report its peak RSS above the baseline."""
    values, targets = make_inputs(n_rows)
    ours_views(values, targets)  # warm torch's lazy initialisation outside the measurement
    reset = _reset_peak() and _status_kib("VmHWM") is not None
    before = _status_kib("VmRSS") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    arrays = FUNCTIONS[variant](values, targets)
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "variant": variant,
        "peak_rss_above_baseline_mb": ((peak or 0) - (before or 0)) * 1024 / 1e6,
        "method": "VmHWM after clear_refs" if reset else "ru_maxrss delta",
        "owned_mb": owned_bytes(arrays, (values, targets)) / 1e6,
    }


def memory_in_subprocesses(n_rows: int) -> dict[str, dict[str, object]]:
    """Peak memory of each variant, each measured in its own fresh interpreter."""
    found: dict[str, dict[str, object]] = {}
    for variant in VARIANTS:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.windowing",
                "--memory-of",
                variant,
                "--rows",
                str(n_rows),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        found[variant] = json.loads(completed.stdout.strip().splitlines()[-1])
    return found


# -- report ----------------------------------------------------------------------------------


def machine(load: str) -> str:
    """Platform, CPU model, cores, library versions and the load given, on one line."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    return (
        f"{platform.platform()}; CPU {cpu}, {os.cpu_count()} logical cores ({usable} usable); "
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); load average before the run {load}"
    )


def _load() -> str:
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def report(
    n_rows: int,
    repeats: int,
    seconds: dict[str, list[float]],
    memory: dict[str, dict[str, object]],
    equal: bool,
    load: str,
) -> str:
    """The Markdown section appended to RESULTS.md."""
    n_windows = n_rows - LOOKBACK - HORIZON + 1
    loop = seconds["loop"]
    lines = [
        f"## Windowing, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {machine(load)}.",
        f"- Task: {n_rows:,} rows x {N_FEATURES} float32 features, lookback T={LOOKBACK}, "
        f"horizon H={HORIZON}, topology n_to_m: X [{n_windows:,}, {LOOKBACK}, {N_FEATURES}] "
        f"and y [{n_windows:,}, {HORIZON}, 1] (`python -m benchmarks.windowing`).",
        "- Loop baseline: preallocated NumPy arrays filled in a Python for loop, one slice "
        "assignment per window for X and one for y.",
        f"- {repeats} interleaved rounds (views, materialised, loop); times are medians, "
        "speed-ups are medians of the per-round ratios loop / variant.",
        f"- Results identical to the loop's (torch.equal on X and y): {'yes' if equal else 'NO'}.",
        "",
        "| variant | median time (s) | rows/s | speed-up vs loop | peak RSS above baseline "
        "(MB) | memory owned by the result (MB) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in VARIANTS:
        median = statistics.median(seconds[name])
        ratio = statistics.median(a / b for a, b in zip(loop, seconds[name], strict=True))
        used = memory.get(name, {})
        lines.append(
            f"| {name} | {median:.3g} | {n_rows / median:,.0f} | {ratio:,.1f}x | "
            f"{float(used.get('peak_rss_above_baseline_mb', float('nan'))):,.1f} | "
            f"{float(used.get('owned_mb', float('nan'))):,.1f} |"
        )
    method = next((str(m["method"]) for m in memory.values()), "not measured")
    rounds = "; ".join(
        f"{name} " + ", ".join(f"{value:.3g}" for value in seconds[name]) for name in VARIANTS
    )
    lines += [
        "",
        f"Seconds per round: {rounds}.",
        "",
        f"Memory: one fresh process per variant, peak RSS measured as {method} "
        "(the kernel's high-water mark, the same quantity as ru_maxrss, reset to the current "
        "RSS just before the run; MB = 10^6 bytes). Views are O(1) memory: the windows read the "
        f"{n_rows * N_FEATURES * 4 / 1e6:.3g} MB input array in place, while the loop and the "
        "materialised copy each hold N*T*F float32 "
        f"(~{n_windows * LOOKBACK * N_FEATURES * 4 / 1e9:.2f} GB) plus y. The views' time does "
        "not grow with N (it is a few tensor-metadata calls), so their rows/s only says "
        "'free'; the materialised row is the fair comparison with the loop.",
        "",
    ]
    return "\n".join(lines)


def append_results(section: str, path: Path = RESULTS) -> None:
    """Append a section to RESULTS.md, creating it with a title line if missing."""
    if not path.exists():
        path.write_text(TITLE)
    with path.open("a") as results:
        results.write("\n" + section)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print, do not append")
    parser.add_argument("--memory-of", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_of:
        print(json.dumps(measure_memory(args.memory_of, args.rows)))
        return
    load = _load()
    values, targets = make_inputs(args.rows)
    ours_views(values, targets)  # warm-up: torch's first call pays one-off set-up
    seconds, equal = timed_rounds(values, targets, args.repeats)
    del values, targets
    memory = memory_in_subprocesses(args.rows)
    section = report(args.rows, args.repeats, seconds, memory, equal, load)
    print(section)
    if not args.no_write:
        append_results(section)
        print(f"appended to {RESULTS}")


if __name__ == "__main__":
    main()
