"""How many threads to train with, and how to tune a process that forecast owns.

Two jobs, both about sharing a machine with other work:

**Threads per fit.** torch starts one OpenMP thread per core and every op waits at a barrier
for its slowest thread. When another process holds one of those cores, each op waits for a
thread the kernel has descheduled, and a fit that takes 1.8 s on one thread took 5.8-154 s on
two (issue 12). So a fit uses at most the cores that are actually free, and no more threads
than its model can use (:func:`threads_for_fit`):

- *usable cores*: this process's CPU affinity (``os.sched_getaffinity``), capped by a cgroup
  CPU quota (``/sys/fs/cgroup/cpu.max``) where one is set;
- *free cores*: usable cores minus the cores other processes kept busy over a 50 ms sample of
  ``/proc/stat`` (this process's own CPU time subtracted), rounded to the nearest core. The
  one-minute load average reacts too slowly to a process that has just started, and counts
  this process too; a short sample sees what is running now, at the cost of 50 ms per
  decision (skipped when torch has one thread anyway);
- *model size*: the work of one time step of one batch, ``batch_size x parameters`` multiply-
  adds; below :data:`WORK_PER_THREAD` per thread, another thread costs more in barriers than
  it saves (see the measurement beside the constant).

The caller's own ``torch.set_num_threads`` (or ``OMP_NUM_THREADS``) is the upper limit: a fit
never uses more threads than torch was given, only fewer. Lanes of refits
(:mod:`forecast.refits`) share the same budget: lanes x threads per lane <= free cores.

**Tuning a process** (:func:`tune_process`): the CLI calls it first thing, before torch is
imported, and worker processes that :mod:`forecast.refits` starts call it for themselves. It

- makes OpenMP threads sleep when they wait (``OMP_WAIT_POLICY=PASSIVE``,
  ``GOMP_SPINCOUNT=0``, ``KMP_BLOCKTIME=0``) instead of spinning for up to ~300 ms on a core
  another process needs. OpenMP reads these once, when torch loads it, so they only take
  effect if torch is not imported yet; values already in the environment are kept;
- keeps freed memory in glibc's heap (:func:`forecast._malloc.keep_freed_memory`): faster
  training, but the process holds on to its peak memory until it exits.

A library call (``fit``, ``predict``, ``backtest``) never does either to a caller's process:
library users who want it call ``forecast.tune_process()`` themselves, once, best before
anything imports torch (see the README's performance section).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from forecast._malloc import keep_freed_memory

__all__ = [
    "PASSIVE_WAIT",
    "WORK_PER_THREAD",
    "ProcessTuning",
    "busy_elsewhere",
    "choosing_threads",
    "free_cores",
    "threads_decided",
    "threads_for_fit",
    "tune_process",
    "usable_cores",
]

# OpenMP settings that make waiting threads sleep instead of spinning: the standard policy,
# GNU libgomp's spin count (torch's Linux wheels use libgomp), and Intel/LLVM's block time.
PASSIVE_WAIT: dict[str, str] = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "GOMP_SPINCOUNT": "0",
    "KMP_BLOCKTIME": "0",
}

# Multiply-adds of one time step of one batch (batch_size x parameters) below which a second
# thread is not worth its barriers. Measured on the 2-core benchmark machine, idle (2 epochs on
# 1,100 AAPL bars, median of 2 interleaved): a second thread trained 1.16-1.54x faster for
# every model from the default LSTM (64 hidden, 1 layer, 35k parameters: 2.2M per step) to
# 256 hidden (34M); tiny models such as the tests' (a few thousand parameters) stay on one.
# Under load the same default fit took 0.98 s on one thread and 14.8 s on two (RESULTS.md,
# "Threads per fit"; python -m benchmarks.threads_per_fit).
WORK_PER_THREAD = 1_000_000

_SAMPLE_SECONDS = 0.05
_decided: contextvars.ContextVar[bool] = contextvars.ContextVar("forecast_threads_decided")


@dataclass(frozen=True)
class ProcessTuning:
    """What :func:`tune_process` put in effect."""

    passive_wait: bool  # OpenMP waits passively (set before torch loaded OpenMP, or already so)
    keep_freed_memory: bool  # glibc keeps freed memory for reuse


def tune_process() -> ProcessTuning:
    """Opt in: tune this whole process for training (the CLI does it for its own process).

    Two process-wide changes that ``fit``/``backtest`` never make on their own:

    - glibc's malloc keeps freed memory for reuse (:mod:`forecast._malloc`): training is
      faster (about 1.4x on the benchmark backtest; no page faults from mapping each step's
      buffers anew) but the process keeps its peak memory until it exits instead of handing
      it back to the system. ``FORECAST_KEEP_FREED_MEMORY=0`` declines it. Linux/glibc only.
    - OpenMP threads sleep when they wait instead of spinning (``OMP_WAIT_POLICY=PASSIVE``,
      ``GOMP_SPINCOUNT=0``, ``KMP_BLOCKTIME=0``), which keeps training steady when other
      processes use the cores. OpenMP reads them when torch loads it, so this part only takes
      effect when called before anything has imported torch (``passive_wait`` in the result
      says whether it did; set ``OMP_WAIT_POLICY=PASSIVE`` in the environment otherwise);
      environment values already set are kept.

    Returns
    -------
    ProcessTuning
        Which of the two is in effect.
    """
    if "torch" not in sys.modules:
        for name, value in PASSIVE_WAIT.items():
            os.environ.setdefault(name, value)
    passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    return ProcessTuning(passive_wait=passive, keep_freed_memory=keep_freed_memory())


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup v2 CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as handle:
            quota, period = handle.read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def busy_elsewhere(seconds: float = _SAMPLE_SECONDS) -> float:
    """Cores that other processes kept busy over the next ``seconds`` (0.0 if unknown).

    Machine-wide busy time of the CPUs in this process's affinity, from ``/proc/stat``, minus
    this process's own CPU time over the same interval. Steal time counts as busy: a core the
    hypervisor gives to someone else is not free either.
    """
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = None
    try:
        busy_before = _busy_ticks(cpus)
        own_before, wall_before = time.process_time(), time.monotonic()
        time.sleep(seconds)
        busy_after = _busy_ticks(cpus)
        own_after, wall_after = time.process_time(), time.monotonic()
    except (OSError, ValueError):
        return 0.0
    wall = wall_after - wall_before
    if wall <= 0:
        return 0.0
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    machine = (busy_after - busy_before) / ticks_per_second / wall
    return max(0.0, machine - (own_after - own_before) / wall)


def free_cores(limit: int | None = None) -> int:
    """Usable cores not kept busy by other processes (at least 1, at most ``limit``).

    Without sampling when the answer is 1 anyway (``limit`` 1 or a single usable core).
    """
    cores = usable_cores() if limit is None else min(limit, usable_cores())
    if cores <= 1:
        return 1
    return max(1, min(cores, cores - math.floor(busy_elsewhere() + 0.5)))


def threads_for_fit(work_per_step: int, limit: int) -> int:
    """Threads for one fit: free cores, no more than ``work_per_step`` can use, at most ``limit``.

    Parameters
    ----------
    work_per_step
        Multiply-adds of one time step of one batch (``batch_size x n_parameters``).
    limit
        The most threads the caller allows (torch's current thread count).
    """
    by_size = max(1, work_per_step // WORK_PER_THREAD)
    wanted = min(limit, by_size)
    if wanted <= 1:
        return 1
    return min(wanted, free_cores(wanted))


@contextlib.contextmanager
def threads_decided() -> Iterator[None]:
    """Mark this thread's fits as placed by a scheduler (refit lanes): they keep the thread
    count they are given instead of choosing their own (see :func:`choosing_threads`)."""
    token = _decided.set(True)
    try:
        yield
    finally:
        _decided.reset(token)


def choosing_threads() -> bool:
    """Whether a fit in this thread chooses its own thread count (False inside lanes)."""
    return not _decided.get(False)


def _busy_ticks(cpus: list[int] | None) -> int:
    """Non-idle ticks (all but idle and iowait) of ``cpus`` (all CPUs if None), /proc/stat."""
    wanted = None if cpus is None else {f"cpu{cpu}" for cpu in cpus}
    total = 0
    with open("/proc/stat", encoding="ascii") as handle:
        for line in handle:
            if not line.startswith("cpu"):
                break
            name, *fields = line.split()
            if (wanted is None and name != "cpu") or (wanted is not None and name not in wanted):
                continue
            # user nice system idle iowait irq softirq steal
            ticks = [int(field) for field in fields[:8]]
            total += sum(ticks) - ticks[3] - ticks[4]
    return total
