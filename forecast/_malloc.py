"""Keep freed memory for reuse while training (glibc's malloc only; a no-op elsewhere).

Every training step of a recurrent network allocates the same large buffers again: oneDNN's
RNN workspace and scratchpad, the gate activations kept for backward, the gradients (several
MB each at batch 64, lookback 60, hidden 64). glibc serves blocks that large with ``mmap``
and gives them back with ``munmap`` or a heap trim, so the next step maps fresh pages and the
kernel zeroes each one on first touch. Measured on the benchmark protocol
(``benchmarks/RESULTS.md``) that is 2-3 million page faults per walk-forward backtest and a
third of its wall time spent in the kernel, varying 2x from one process to the next.

:func:`keep_freed_memory` raises glibc's mmap and trim thresholds once per process, so freed
buffers stay in the heap and the next step reuses them. Peak memory does not grow (the same
buffers are reused); the process just does not hand its peak back to the system until it
exits. That is a setting of the whole process, so the library never applies it on its own:
:func:`forecast._process.tune_process` does, in processes forecast owns (the CLI, refit
worker processes) and in a library user's process when they call ``forecast.tune_process()``.
Set ``FORECAST_KEEP_FREED_MEMORY=0`` to decline it even there. Any program can get the same
effect from glibc's environment variables (``MALLOC_MMAP_THRESHOLD_=33554432
MALLOC_TRIM_THRESHOLD_=536870912 MALLOC_TOP_PAD_=16777216``), which is how the benchmarks
give it to the peer libraries.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["environment", "keep_freed_memory", "release_freed_memory"]

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

# 32 MiB is the largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2); blocks
# above it are rare here and still mapped. The trim threshold keeps up to 512 MiB of free heap.
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 512 * 1024 * 1024
TOP_PAD = 16 * 1024 * 1024

_applied: bool | None = None


def environment() -> dict[str, str]:
    """The same settings as glibc environment variables, for a process started with them
    (how the benchmarks give them to other programs)."""
    return {
        "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
        "MALLOC_TOP_PAD_": str(TOP_PAD),
    }


def keep_freed_memory() -> bool:
    """Tune glibc's malloc to reuse freed blocks (once per process); True if it is in effect.

    Returns False (and changes nothing) off glibc, or with ``FORECAST_KEEP_FREED_MEMORY=0``.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("FORECAST_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_TOP_PAD, TOP_PAD),
    )
    _applied = all(mallopt(option, value) == 1 for option, value in settings)
    return _applied


def release_freed_memory() -> None:
    """Hand the free memory of every malloc arena back to the system (glibc's malloc_trim).

    Call it when a burst of work in other threads is over: each thread's arena keeps what
    that thread freed (see :func:`keep_freed_memory`), and a later burst in another thread
    cannot reuse it. A no-op where :func:`keep_freed_memory` did not apply.
    """
    if not _applied:
        return
    ctypes.CDLL(None).malloc_trim(0)
