"""Run the benchmark protocol for several contenders and append the figures to RESULTS.md.

Every contender is a CLI script that follows the contract in ``protocol.py``::

    <python> <script> --variant close|ohlc --mode fit|refit|single --out result.json

The harness starts each measurement as a fresh subprocess (so ``ru_maxrss`` is that run's own
peak), INTERLEAVED: for every repetition, variant and mode it runs A, B, C, then the next
(variant, mode), so slow drifts of the machine hit every contender alike.  It then collects
the JSONs, computes per contender the median seconds and, per repetition, every pairwise
time ratio (reported as the median of the per-repetition ratios), checks that all contenders
forecast the same (origin, step) points, and appends a dated markdown section to
``benchmarks/RESULTS.md``.  Raw JSONs, logs and a ``summary.json`` stay in ``--out-dir``
(default ``benchmarks/out/peers-<UTC stamp>``, git-ignored).

Built-in contenders (a name is skipped with a note when its interpreter or script is missing):

* ``bare``: ``benchmarks/bare_torch.py`` with the project's ``.venv`` (else this interpreter)
* ``ours``: ``benchmarks/contenders/ours.py`` with the project's ``.venv`` (once it exists)
* ``darts``: ``benchmarks/peers/darts_protocol.py`` with ``benchmarks/peers/.venv-darts``
* ``neuralforecast``: ``benchmarks/peers/neuralforecast_protocol.py`` with
  ``benchmarks/peers/.venv-neuralforecast`` (alias ``nf``)

Examples::

    .venv/bin/python benchmarks/harness.py              # everything, 3 repetitions
    .venv/bin/python benchmarks/harness.py --only bare,darts --variants close --modes refit
    .venv/bin/python benchmarks/harness.py --repeats 2 --contender mine=/path/python::path/script.py
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import permutations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import protocol

from forecast._malloc import environment as malloc_environment

BENCH_DIR = protocol.BENCH_DIR
REPO_ROOT = protocol.REPO_ROOT
PEERS_DIR = BENCH_DIR / "peers"
RESULTS_PATH = BENCH_DIR / "RESULTS.md"
ALIASES = {"nf": "neuralforecast", "bare-torch": "bare", "torch": "bare"}


@dataclass(frozen=True)
class Contender:
    """A named implementation of the protocol: an interpreter and a CLI script."""

    name: str
    python: Path
    script: Path
    args: tuple[str, ...] = ()  # extra arguments after the script, e.g. ("--engine", "warm")
    env: tuple[tuple[str, str], ...] = ()  # extra environment variables of its runs

    def missing(self) -> str | None:
        """Why this contender cannot run here, or ``None`` when it can."""
        if not self.python.exists():
            return f"interpreter {self.python} not found (make -C benchmarks/peers venvs?)"
        if not self.script.exists():
            return f"script {self.script} not found"
        return None


def project_python() -> Path:
    """The project's ``.venv`` interpreter when there is one, else the running interpreter."""
    venv = REPO_ROOT / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)


# Our library's engines (see contenders/ours.py), each a contender "ours-<engine>"; "ours" is
# the default engine, "parallel".
OURS_ENGINES = (
    "sequential",
    "processes",
    "no-malloc-tuning",
    "bf16",
    "warm",
    "warm-bf16",
    "warm-waves",
    "warm-waves-bf16",
    "default-model",
)
# glibc's malloc with the settings forecast._malloc applies, through the environment variables
# any process can set: the bare floor's ablation and the peers' like-for-like runs.
MALLOC_TUNED = tuple(malloc_environment().items())


def default_contenders() -> dict[str, Contender]:
    """The built-in contenders, in run order (bare first: it is the floor)."""
    here = project_python()
    ours = BENCH_DIR / "contenders" / "ours.py"
    return {
        "bare": Contender("bare", here, BENCH_DIR / "bare_torch.py"),
        "bare-malloc-tuned": Contender(
            "bare-malloc-tuned", here, BENCH_DIR / "bare_torch.py", env=MALLOC_TUNED
        ),
        "ours": Contender("ours", here, ours),
        **{
            f"ours-{engine}": Contender(f"ours-{engine}", here, ours, ("--engine", engine))
            for engine in OURS_ENGINES
        },
        "darts": Contender(
            "darts", PEERS_DIR / ".venv-darts" / "bin" / "python", PEERS_DIR / "darts_protocol.py"
        ),
        "darts-malloc-tuned": Contender(
            "darts-malloc-tuned",
            PEERS_DIR / ".venv-darts" / "bin" / "python",
            PEERS_DIR / "darts_protocol.py",
            env=MALLOC_TUNED,
        ),
        "neuralforecast": Contender(
            "neuralforecast",
            PEERS_DIR / ".venv-neuralforecast" / "bin" / "python",
            PEERS_DIR / "neuralforecast_protocol.py",
        ),
        "neuralforecast-malloc-tuned": Contender(
            "neuralforecast-malloc-tuned",
            PEERS_DIR / ".venv-neuralforecast" / "bin" / "python",
            PEERS_DIR / "neuralforecast_protocol.py",
            env=MALLOC_TUNED,
        ),
    }


def parse_contender(spec: str) -> Contender:
    """``NAME=PYTHON::SCRIPT`` -> Contender (relative paths are taken from the repo root)."""
    try:
        name, rest = spec.split("=", 1)
        python, script = rest.split("::", 1)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--contender {spec!r}: expected NAME=PYTHON::SCRIPT"
        ) from None

    def resolve(path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else REPO_ROOT / p

    return Contender(name.strip(), resolve(python), resolve(script))


# --- running ------------------------------------------------------------------------------


@dataclass
class Run:
    """One subprocess run of one contender on one (variant, mode, repetition)."""

    contender: str
    variant: str
    mode: str
    repetition: int
    process_seconds: float
    load_before: float | None
    returncode: int
    other_cores: float | None = None
    waited_s: float = 0.0
    attempts: int = 1
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run produced a result."""
        return self.result is not None

    def disturbed(self, threshold: float = 0.3) -> bool:
        """Whether other processes used more than ``threshold`` cores during the run."""
        return self.other_cores is not None and self.other_cores > threshold


def load_average() -> float | None:
    """The 1-minute load average (other work on the machine skews timings)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def busy_seconds() -> float | None:
    """Machine-wide CPU seconds spent busy so far (all cores; ``/proc/stat``), or ``None``."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user..steal; guest time is already inside user
    return busy / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_for_idle(max_wait: float, threshold: float = 0.3, window: float = 2.0) -> float:
    """Wait (up to ``max_wait`` s) until other work uses under ``threshold`` cores.

    The machine may be shared: a contender whose 2 threads compete with other processes can run
    many times slower (its parallel regions wait for a descheduled thread).  Returns the
    seconds waited.
    """
    start = time.perf_counter()
    while time.perf_counter() - start < max_wait:
        before = busy_seconds()
        time.sleep(window)
        after = busy_seconds()
        if before is None or after is None or (after - before) / window < threshold:
            break
    return time.perf_counter() - start


def child_env() -> dict[str, str]:
    """The environment of every contender: this one, pinned to the protocol's threads."""
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(protocol.THREADS)
    env["PYTHONHASHSEED"] = str(protocol.SEED)
    env.pop("PYTHONPATH", None)  # a peer's venv must not see the project's packages
    return env


def run_one(
    contender: Contender,
    variant: str,
    mode: str,
    repetition: int,
    out_dir: Path,
    timeout: float,
    wait_idle: float = 0.0,
    attempt: int = 1,
) -> Run:
    """Run one contender once in a fresh process; read its JSON back."""
    stem = f"{contender.name}-{variant}-{mode}-r{repetition}"
    if attempt > 1:
        stem += f"-a{attempt}"
    out = out_dir / f"{stem}.json"
    log = out_dir / f"{stem}.log"
    cmd = [str(contender.python), str(contender.script), *contender.args]
    cmd += ["--variant", variant, "--mode", mode, "--out", str(out)]
    waited = wait_for_idle(wait_idle) if wait_idle > 0 else 0.0
    load = load_average()
    busy0, child0 = busy_seconds(), children_cpu_seconds()
    start = time.perf_counter()
    try:
        with log.open("w") as sink:
            proc = subprocess.run(
                cmd,
                cwd=REPO_ROOT,
                env={**child_env(), **dict(contender.env)},
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = -9
    seconds = time.perf_counter() - start
    busy1, child1 = busy_seconds(), children_cpu_seconds()
    others = None
    if busy0 is not None and busy1 is not None and seconds > 0:
        # machine-wide busy CPU minus the contender's own: cores used by other work
        others = max(0.0, (busy1 - busy0) - (child1 - child0)) / seconds
    run = Run(contender.name, variant, mode, repetition, seconds, load, code, others, waited)
    if code == 0 and out.exists():
        run.result = json.loads(out.read_text())
    else:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        reason = "timed out" if code == -9 else f"exit {code}"
        run.error = f"{reason}: {' | '.join(tail)[-300:]}"
    run.attempts = attempt
    save_run(run, out_dir / f"{stem}.run.json", out if run.ok else None)
    return run


def save_run(run: Run, path: Path, result_path: Path | None) -> None:
    """Write a run's harness-side record (the result JSON stays in its own file)."""
    record = {k: v for k, v in run.__dict__.items() if k != "result"}
    record["result_file"] = result_path.name if result_path else None
    path.write_text(json.dumps(record, indent=1) + "\n")


def load_runs(out_dir: Path) -> list[Run]:
    """Runs recorded in ``out_dir`` by :func:`save_run`, keeping the kept attempt per cell.

    For each (contender, variant, mode, repetition) the least disturbed successful attempt is
    kept, as :func:`measure` does.
    """
    best: dict[tuple[str, str, str, int], Run] = {}
    for path in sorted(out_dir.glob("*.run.json")):
        record = json.loads(path.read_text())
        result_file = record.pop("result_file", None)
        run = Run(**record)
        if result_file and (out_dir / result_file).exists():
            run.result = json.loads((out_dir / result_file).read_text())
        key = (run.contender, run.variant, run.mode, run.repetition)
        kept = best.get(key)
        if kept is None or (
            run.ok and (not kept.ok or (run.other_cores or 0) < (kept.other_cores or 0))
        ):
            run.attempts = max(run.attempts, kept.attempts if kept else 0)
            best[key] = run
        else:
            kept.attempts = max(kept.attempts, run.attempts)
    return sorted(best.values(), key=lambda r: (r.repetition, r.variant, r.mode))


def measure(
    contender: Contender,
    variant: str,
    mode: str,
    repetition: int,
    out_dir: Path,
    timeout: float,
    wait_idle: float,
    retries: int,
) -> Run:
    """One measurement; re-run up to ``retries`` times while other work disturbs it.

    Keeps the least disturbed successful attempt; ``attempts`` counts all of them.
    """
    best = run_one(contender, variant, mode, repetition, out_dir, timeout, wait_idle, 1)
    attempts = 1
    while best.disturbed() and attempts <= retries:
        attempts += 1
        again = run_one(contender, variant, mode, repetition, out_dir, timeout, wait_idle, attempts)
        if again.ok and (not best.ok or (again.other_cores or 0) < (best.other_cores or 0)):
            best = again
    best.attempts = attempts
    return best


def run_all(
    contenders: Sequence[Contender],
    variants: Sequence[str],
    modes: Sequence[str],
    repeats: int,
    out_dir: Path,
    timeout: float,
    progress: bool = True,
    wait_idle: float = 0.0,
    retries: int = 0,
) -> list[Run]:
    """Interleaved runs: for each repetition, variant and mode, every contender in turn.

    A run during which other processes used more than 0.3 cores is repeated (after waiting
    for the machine to quieten) up to ``retries`` times; the least disturbed attempt is kept.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    total = repeats * len(variants) * len(modes) * len(contenders)
    for repetition in range(1, repeats + 1):
        for variant in variants:
            for mode in modes:
                for contender in contenders:
                    run = measure(
                        contender, variant, mode, repetition, out_dir, timeout, wait_idle, retries
                    )
                    runs.append(run)
                    if progress:
                        what = (
                            f"{run.result['seconds']:.2f} s"
                            if run.result
                            else f"FAILED ({run.error})"
                        )
                        print(
                            f"[{len(runs)}/{total}] r{repetition} {variant}/{mode} "
                            f"{contender.name}: {what} (process {run.process_seconds:.1f} s, "
                            f"other work {run.other_cores or 0:.2f} cores, "
                            f"attempt {run.attempts})",
                            flush=True,
                        )
    return runs


# --- summarising ----------------------------------------------------------------------------


@dataclass
class Cell:
    """All repetitions of one contender on one (variant, mode)."""

    contender: str
    runs: list[Run] = field(default_factory=list)

    def ok_runs(self) -> list[Run]:
        """Runs that produced a result."""
        return [r for r in self.runs if r.ok]

    def seconds(self) -> dict[int, float]:
        """Repetition -> protocol seconds."""
        return {r.repetition: float(r.result["seconds"]) for r in self.ok_runs()}  # type: ignore[index]

    def disturbed(self) -> set[int]:
        """Repetitions whose run was disturbed by other work."""
        return {r.repetition for r in self.runs if r.disturbed()}

    def median(self, key: str) -> float | None:
        """Median of a numeric result field over the successful repetitions."""
        values = [r.result[key] for r in self.ok_runs() if r.result.get(key) is not None]  # type: ignore[union-attr]
        return float(statistics.median(values)) if values else None

    def first(self) -> dict[str, Any] | None:
        """The first successful result (metrics are deterministic per seed; see spread)."""
        ok = self.ok_runs()
        return ok[0].result if ok else None


def points(result: dict[str, Any]) -> frozenset[tuple[int, int]]:
    """The (origin, step) points a result forecast."""
    return frozenset((f["origin"], f["step"]) for f in result.get("forecasts", []))


def summarise(runs: Sequence[Run], order: Sequence[str]) -> dict[str, Any]:
    """Group runs by (variant, mode); medians, per-repetition pairwise ratios, checks."""
    groups: dict[tuple[str, str], dict[str, Cell]] = {}
    for run in runs:
        cells = groups.setdefault((run.variant, run.mode), {})
        cells.setdefault(run.contender, Cell(run.contender)).runs.append(run)
    summary: dict[str, Any] = {}
    for (variant, mode), cells in groups.items():
        names = [n for n in order if n in cells]
        ratios: dict[str, dict[str, float | None]] = {a: {} for a in names}
        for a, b in permutations(names, 2):
            sa, sb = cells[a].seconds(), cells[b].seconds()
            shared = sorted(sa.keys() & sb.keys())
            # prefer repetitions in which neither run was disturbed by other work
            clean = [r for r in shared if r not in cells[a].disturbed() | cells[b].disturbed()]
            per_rep = [sa[r] / sb[r] for r in (clean or shared) if sb[r] > 0]
            ratios[a][b] = float(statistics.median(per_rep)) if per_rep else None
        point_sets = {n: points(c.first()) for n, c in cells.items() if c.first() is not None}
        same_points = len({p for p in point_sets.values()}) <= 1
        rows = []
        for name in names:
            cell = cells[name]
            first = cell.first() or {}
            maes = {round(float(r.result["mae"]), 6) for r in cell.ok_runs() if r.result["mae"]}  # type: ignore[index]
            rows.append(
                {
                    "contender": name,
                    "library": first.get("library"),
                    "version": first.get("version"),
                    "seconds": [cell.seconds().get(r.repetition) for r in cell.runs],
                    "median_seconds": cell.median("seconds"),
                    "min_seconds": min(cell.seconds().values(), default=None),
                    "process_seconds": [round(r.process_seconds, 2) for r in cell.runs],
                    "import_seconds": cell.median("import_seconds"),
                    "peak_rss_mb": [
                        r.result["peak_rss_mb"] if r.result else None for r in cell.runs
                    ],
                    "cpu_user_s": cell.median("cpu_user_s"),
                    "cpu_sys_s": cell.median("cpu_sys_s"),
                    "minor_faults": cell.median("minor_faults"),
                    "steal_s": cell.median("steal_s"),
                    "load_before": [r.load_before for r in cell.runs],
                    "other_cores": [r.other_cores for r in cell.runs],
                    "attempts": [r.attempts for r in cell.runs],
                    "disturbed": [r.disturbed() for r in cell.runs],
                    "mae": first.get("mae"),
                    "rmse": first.get("rmse"),
                    "mape": first.get("mape"),
                    "mase": first.get("mase"),
                    "metrics_identical_across_reps": len(maes) <= 1,
                    "n_points": first.get("n_points"),
                    "n_fits": first.get("n_fits"),
                    "threads": first.get("threads"),
                    "epoch_seconds": first.get("epoch_seconds"),
                    "env": first.get("env"),
                    "errors": [r.error for r in cell.runs if r.error],
                }
            )
        summary[f"{variant}/{mode}"] = {
            "variant": variant,
            "mode": mode,
            "rows": rows,
            "ratios": ratios,
            "faster_peer": _faster_peer_ratios(cells, names, PEER_NAMES),
            "faster_tuned_peer": _faster_peer_ratios(cells, names, TUNED_PEER_NAMES),
            "same_points": same_points,
        }
    return summary


PEER_NAMES = ("darts", "neuralforecast")
# The peers run with glibc's malloc tuned as forecast.tune_process() tunes it (MALLOC_TUNED):
# the like-for-like reference for contenders that have the same setting.
TUNED_PEER_NAMES = tuple(f"{name}-malloc-tuned" for name in PEER_NAMES)
REFERENCES = ("bare", *PEER_NAMES)


def _faster_peer_ratios(
    cells: dict[str, Cell], names: Sequence[str], peer_names: Sequence[str]
) -> dict[str, float | None]:
    """Per contender: median over repetitions of (its time / the faster peer's time).

    The faster of ``peer_names`` is chosen anew in every repetition (the lower of the peers'
    times), over the repetitions in which every run involved was undisturbed when there are
    any.
    """
    peers = [p for p in peer_names if p in cells]
    if not peers:
        return {}
    out: dict[str, float | None] = {}
    for name in names:
        times = {p: cells[p].seconds() for p in peers}
        mine = cells[name].seconds()
        shared = sorted(set(mine).intersection(*(set(t) for t in times.values())))
        disturbed = cells[name].disturbed().union(*(cells[p].disturbed() for p in peers))
        clean = [r for r in shared if r not in disturbed] or shared
        per_rep = [mine[r] / min(times[p][r] for p in peers) for r in clean]
        out[name] = float(statistics.median(per_rep)) if per_rep else None
    return out


def _median_peak(row: dict[str, Any]) -> float | None:
    peaks = [p for p in row["peak_rss_mb"] if p is not None]
    return float(statistics.median(peaks)) if peaks else None


def _speedup_table(block: dict[str, Any]) -> list[str]:
    """Markdown rows: how many times faster each contender is than each reference.

    Speed-up = reference time / contender time, the median of per-repetition ratios; "MAE vs
    bare" is the relative difference of MAE (deterministic per seed) from the bare floor's;
    "peak RSS vs lowest peer" compares median peaks with the lower of the peers' medians.
    """
    names = [row["contender"] for row in block["rows"]]
    references = [r for r in REFERENCES if r in names]
    faster_peer = block.get("faster_peer") or {}
    faster_tuned = block.get("faster_tuned_peer") or {}
    if not references and not faster_peer:
        return []
    header = [f"vs {r}" for r in references] + (["vs faster peer"] if faster_peer else [])
    if faster_tuned:
        header.append("vs faster malloc-tuned peer")
    bare_mae = next((r["mae"] for r in block["rows"] if r["contender"] == "bare"), None)
    with_mae = bare_mae is not None and block["mode"] != "fit"
    if with_mae:
        header.append("MAE vs bare")
    peer_peaks = [_median_peak(r) for r in block["rows"] if r["contender"] in PEER_NAMES]
    lowest_peer_peak = min((p for p in peer_peaks if p is not None), default=None)
    if lowest_peer_peak:
        header.append("peak RSS vs lowest peer")
    lines = [
        "",
        "Speed-up (reference time / contender time, median of per-repetition ratios; above 1 "
        "= faster than the reference); MAE and median peak memory relative to the references:",
        "",
        "| contender | " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(header),
    ]
    for row in block["rows"]:
        name = row["contender"]
        cells = []
        for reference in references:
            ratio = block["ratios"].get(name, {}).get(reference) if name != reference else 1.0
            cells.append(_fmt(1 / ratio) + "x" if ratio else "–")
        for table in (faster_peer, faster_tuned) if faster_tuned else (faster_peer,):
            if table:
                ratio = table.get(name)
                cells.append(_fmt(1 / ratio) + "x" if ratio else "–")
        if with_mae:
            mae = row["mae"]
            cells.append(f"{100 * (mae / bare_mae - 1):+.1f}%" if mae is not None else "–")
        if lowest_peer_peak:
            peak = _median_peak(row)
            cells.append(f"{100 * (peak / lowest_peer_peak - 1):+.1f}%" if peak else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


# --- machine and markdown -------------------------------------------------------------------


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """Platform, CPU, cores, memory and the harness interpreter's package versions."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory_gb: float | None = round(pages / 1e9, 1)
    except (ValueError, OSError):
        memory_gb = None
    project = subprocess.run(
        [
            str(project_python()),
            "-c",
            "import json, importlib.metadata as m, platform\n"
            "def v(n):\n"
            "    try: return m.version(n)\n"
            "    except m.PackageNotFoundError: return None\n"
            "print(json.dumps({'python': platform.python_version(), "
            "**{n: v(n) for n in ('torch', 'numpy', 'pandas', 'scikit-learn')}}))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    versions = json.loads(project.stdout) if project.returncode == 0 else {}
    return {
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gb": memory_gb,
        "project_env": versions,
    }


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"


def _list(values: Sequence[float | None], digits: int = 3) -> str:
    return ", ".join(_fmt(v, digits) for v in values)


def markdown(
    summary: dict[str, Any],
    machine: dict[str, Any],
    repeats: int,
    out_dir: Path,
    skipped: dict[str, str],
) -> str:
    """The dated RESULTS.md section for one harness run."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    env = machine["project_env"]
    lines = [
        f"## Peers: the LSTM protocol in bare PyTorch, our library and peer libraries, {now}",
        "",
        f"- Machine: {machine['platform']}; CPU {machine['cpu']}, {machine['logical_cores']} "
        f"logical cores ({machine['usable_cores']} usable), {machine['memory_gb']} GB RAM.",
        f"- Project env: Python {env.get('python')}, torch {env.get('torch')}, numpy "
        f"{env.get('numpy')}, pandas {env.get('pandas')}, scikit-learn {env.get('scikit-learn')}.",
        "- Protocol (`benchmarks/protocol.py`): AAPL daily, target Close, lookback 60, horizon 5, "
        "LSTM 64x2, dropout 0, Adam 1e-3, batch 64, MSE on standard-scaled values, 10 epochs, "
        "seed 0, 2 threads; test = last 250 rows, 50 origins every 5 rows; `refit` = 5 fits "
        "from scratch every 50 rows (expanding), `single` = 1 fit then all 50 origins, "
        "`fit` = one fit on the pre-test rows.",
        f"- {repeats} repetitions, interleaved (every contender in turn for each variant/mode, "
        "then the next); each run a fresh process. `s` = protocol wall seconds (imports and "
        "CSV excluded); `process s` includes interpreter start and imports. Ratios are medians "
        "of per-repetition ratios (row time / column time), over the undisturbed repetitions "
        "when there are any; `min s` is the least disturbed "
        "estimate. Peak RSS = ru_maxrss (ours: the process tree's summed PSS while it has "
        "workers, never less than its own ru_maxrss), MB = 10^6 B. CPU and page-fault "
        "figures are medians over the timed block. "
        "MAPE is a fraction; MASE = MAE / MAE of the last-Close naive forecast on the same points. "
        "`other work` = cores used by other processes during each run (machine-wide busy CPU "
        "minus the contender's own); above ~0.3 the repetition was disturbed.",
        f"- Raw JSON and logs: `{_rel(out_dir)}` (git-ignored).",
    ]
    if skipped:
        lines.append("- Skipped: " + "; ".join(f"{n} ({why})" for n, why in skipped.items()))
    versions: dict[str, dict[str, Any]] = {}
    for block in summary.values():
        for row in block["rows"]:
            if row["env"] and row["contender"] not in versions:
                versions[row["contender"]] = row["env"]
    if versions:
        lines.append(
            "- Contender environments: "
            + "; ".join(
                f"{name}: " + ", ".join(f"{k} {v}" for k, v in env_.items() if v)
                for name, env_ in versions.items()
            )
            + "."
        )
    lines.append("")
    for key, block in summary.items():
        lines += [f"### {key}", ""]
        lines.append(
            "| contender | s per rep | median s | min s | process s per rep | peak RSS MB per rep "
            "| MAE | RMSE | MAPE | MASE | fits | points | CPU user s | CPU sys s | page faults "
            "| other work (cores) |"
        )
        lines.append("|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for row in block["rows"]:
            name = f"{row['contender']} {row['version'] or ''}".strip()
            lines.append(
                f"| {name} | {_list(row['seconds'])} | {_fmt(row['median_seconds'])} "
                f"| {_fmt(row['min_seconds'])} "
                f"| {_list(row['process_seconds'])} | {_list(row['peak_rss_mb'])} "
                f"| {_fmt(row['mae'], 4)} | {_fmt(row['rmse'], 4)} | {_fmt(row['mape'], 3)} "
                f"| {_fmt(row['mase'], 3)} | {row['n_fits'] or '–'} | {row['n_points'] or 0} "
                f"| {_fmt(row['cpu_user_s'])} | {_fmt(row['cpu_sys_s'])} "
                f"| {_fmt(row['minor_faults'])} | {_list(row['other_cores'], 2)} |"
            )
        lines += _speedup_table(block)
        notes = []
        if block["mode"] != "fit":
            notes.append(
                "same (origin, step) points for all contenders: "
                + ("yes" if block["same_points"] else "**NO**")
            )
        unstable = [r["contender"] for r in block["rows"] if not r["metrics_identical_across_reps"]]
        if unstable:
            notes.append("metrics differ between repetitions for " + ", ".join(unstable))
        for row in block["rows"]:
            bad = [f"r{i + 1}" for i, flag in enumerate(row["disturbed"]) if flag]
            if bad:
                notes.append(
                    f"{row['contender']}: {', '.join(bad)} disturbed by other work "
                    f"(attempts per rep: {_list(row['attempts'])}); treat as an upper bound"
                )
            for err in row["errors"]:
                notes.append(f"{row['contender']} failed: {err}")
            if block["mode"] == "fit" and row["epoch_seconds"]:
                notes.append(
                    f"{row['contender']} per-epoch s (rep 1): {_list(row['epoch_seconds'])}"
                )
        if notes:
            lines += [""] + [f"- {n}" for n in notes]
        lines.append("")
    return "\n".join(lines) + "\n"


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def append_results(text: str, results: Path = RESULTS_PATH) -> None:
    """Append a section to RESULTS.md (created with a title when missing)."""
    existing = results.read_text() if results.exists() else "# Benchmark results\n"
    if not existing.endswith("\n\n"):
        existing = existing.rstrip("\n") + "\n\n"
    results.write_text(existing + text)


# --- CLI ------------------------------------------------------------------------------------


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    """The harness's command line."""
    parser = argparse.ArgumentParser(
        description="Run the LSTM protocol for bare PyTorch, our library and peer libraries.",
    )
    parser.add_argument(
        "--only",
        type=_csv,
        default=None,
        help="comma-separated contender names (default: every available one)",
    )
    parser.add_argument("--variants", type=_csv, default=list(protocol.VARIANTS))
    parser.add_argument("--modes", type=_csv, default=list(protocol.MODES))
    parser.add_argument("--repeats", type=int, default=3, help="repetitions (>= 2; default 3)")
    parser.add_argument(
        "--contender",
        action="append",
        type=parse_contender,
        default=[],
        metavar="NAME=PYTHON::SCRIPT",
        help="add or replace a contender (repeatable)",
    )
    parser.add_argument("--out-dir", type=Path, default=None, help="raw JSON/logs folder")
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="markdown to append to")
    parser.add_argument("--no-append", action="store_true", help="print the markdown only")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        help="before each run wait up to this many seconds for other work to use < 0.3 cores "
        "(0 = don't wait)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=2,
        help="re-run a measurement disturbed by other work (> 0.3 cores) up to this many times",
    )
    parser.add_argument(
        "--from-dir",
        type=Path,
        default=None,
        help="run nothing: summarise the runs already recorded in this --out-dir "
        "(e.g. an interrupted harness run) and append them",
    )
    parser.add_argument("--list", action="store_true", help="list contenders and exit")
    return parser


def select(
    args: argparse.Namespace,
) -> tuple[list[Contender], dict[str, str]]:
    """The contenders to run, in order, and those skipped with the reason."""
    pool = default_contenders()
    for extra in args.contender:
        pool[extra.name] = extra
    wanted = [ALIASES.get(n, n) for n in args.only] if args.only else list(pool)
    unknown = [n for n in wanted if n not in pool]
    if unknown:
        raise SystemExit(f"unknown contender(s) {unknown}; known: {list(pool)}")
    chosen, skipped = [], {}
    for name in wanted:
        why = pool[name].missing()
        if why:
            skipped[name] = why
        else:
            chosen.append(pool[name])
    return chosen, skipped


def main(argv: Sequence[str] | None = None) -> int:
    """Run, summarise, append to RESULTS.md; returns the exit status."""
    args = build_parser().parse_args(argv)
    for v in args.variants:
        protocol.input_columns(v)
    bad_modes = [m for m in args.modes if m not in protocol.MODES]
    if bad_modes:
        raise SystemExit(f"unknown mode(s) {bad_modes}; known: {list(protocol.MODES)}")
    if args.repeats < 2:
        raise SystemExit("--repeats must be at least 2")
    contenders, skipped = select(args)
    if args.list:
        for c in contenders:
            extra = " ".join([*c.args, *(f"{k}={v}" for k, v in c.env)])
            print(f"{c.name}: {c.python} {c.script} {extra}".rstrip())
        for name, why in skipped.items():
            print(f"{name}: skipped, {why}")
        return 0
    if args.from_dir:
        runs = load_runs(args.from_dir)
        if not runs:
            raise SystemExit(f"no recorded runs (*.run.json) in {args.from_dir}")
        order = [c.name for c in contenders] + sorted({r.contender for r in runs})
        present = {r.contender for r in runs}
        order = [n for n in dict.fromkeys(order) if n in present]
        return report(runs, order, args.from_dir, args, {})
    if not contenders:
        raise SystemExit("no contender can run: " + "; ".join(skipped.values()))
    for name, why in skipped.items():
        print(f"skipping {name}: {why}", file=sys.stderr)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = args.out_dir or BENCH_DIR / "out" / f"peers-{stamp}"
    runs = run_all(
        contenders,
        args.variants,
        args.modes,
        args.repeats,
        out_dir,
        args.timeout,
        wait_idle=args.wait_idle,
        retries=args.retries,
    )
    return report(runs, [c.name for c in contenders], out_dir, args, skipped)


def report(
    runs: Sequence[Run],
    order: Sequence[str],
    out_dir: Path,
    args: argparse.Namespace,
    skipped: dict[str, str],
) -> int:
    """Summarise runs, write summary.json, append (or print) the markdown; exit status."""
    repeats = max((r.repetition for r in runs), default=0)
    summary = summarise(runs, order)
    machine = machine_info()
    (out_dir / "summary.json").write_text(
        json.dumps({"machine": machine, "repeats": repeats, "summary": summary}, indent=1)
    )
    text = markdown(summary, machine, repeats, out_dir, skipped)
    if args.no_append:
        print(text)
    else:
        append_results(text, args.results)
        print(f"appended to {args.results}")
    failed = sum(not r.ok for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
