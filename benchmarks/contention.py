"""Steady speed on a busy machine: ``forecast backtest`` alone and beside a competing process.

Tasks (``--task``): ``backtest``, the default backtest on the bundled data (``python -m
forecast backtest --json``); ``fit``, the issue's ``forecast fit --data MSFT --epochs 3``.
Each is timed as a user sees it (the whole process, imports included), in four cells:

- ``base`` / ``this``: the code at a reference commit (a detached git worktree, imported via
  ``PYTHONPATH`` with this interpreter, so both use the same venv) and the working tree;
- ``idle`` / ``busy``: alone, or beside a competitor started two seconds before and stopped
  after (``--competitor``): ``torch2``, one process with two torch threads multiplying
  256x256 matrices in a loop (another training job), as many busy threads as the benchmark
  machine has cores; or ``spin1``, one pure-Python busy loop (one core taken, a browser tab).

Rounds are interleaved (every cell once per round, the order rotated from round to round);
ratios are medians of per-round ratios. Targets (issue 12): ``this`` busy / ``this`` idle
<= 2.5 (the reference: up to 6x), and ``this`` idle no slower than ``base`` idle. Every run's
metrics are kept, to show that the answers do not depend on the load.

Runs append to a JSON-lines file, so a long benchmark can be split over several calls
(``--rounds 2`` twice and ``--rounds 1``); ``--report`` renders all runs in the file as a
RESULTS.md section. One command for everything::

    python -m benchmarks.contention                 # backtest beside torch2: 5 rounds, report
    python -m benchmarks.contention --task fit --competitor spin1
    python -m benchmarks.contention --rounds 2 --no-report   # part of it
    python -m benchmarks.contention --report-only --append-results
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
BASE_COMMIT = "1ffc133"
CELLS = (("base", "idle"), ("this", "idle"), ("base", "busy"), ("this", "busy"))
COMPETITORS = {
    "torch2": "import torch\ntorch.set_num_threads(2)\na = torch.randn(256, 256)\n"
    "while True:\n    a = torch.tanh(a @ a)\n",
    "spin1": "while True:\n    pass\n",
}
COMMANDS = {
    "backtest": ["backtest", "--json"],
    "fit": ["fit", "--data", "MSFT", "--epochs", "3", "--out", "model"],
}
RUN_TIMEOUT = 150.0  # seconds; a run past it is recorded as failed (rc None)


def base_tree(commit: str) -> Path:
    """A detached worktree of ``commit`` under benchmarks/out (created once)."""
    tree = OUT / f"base-{commit}"
    if not (tree / "forecast" / "__init__.py").exists():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), commit], check=True, cwd=ROOT
        )
    return tree


def run_task(tree: Path, task: str, competitor_kind: str | None, extra: list[str]) -> dict:
    """One ``forecast <task>`` process from ``tree``; wall seconds and metrics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_", "KMP_"))}
    env["PYTHONPATH"] = str(tree)
    env.pop("FORECAST_KEEP_FREED_MEMORY", None)
    competitor = None
    if competitor_kind is not None:
        program = COMPETITORS[competitor_kind]
        competitor = subprocess.Popen([sys.executable, "-c", program], env=env)
        time.sleep(2.0)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "forecast", *COMMANDS[task], *extra]
        started = time.perf_counter()
        child = subprocess.Popen(
            command, cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            stdout, stderr = child.communicate(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            stdout, stderr = child.communicate()
        seconds = time.perf_counter() - started
    if competitor is not None:
        competitor.kill()
        competitor.wait()
    metrics = None
    if child.returncode == 0 and task == "backtest":
        payload = json.loads(stdout[stdout.index("{") :])
        metrics = {row["model"]: round(row["mae"], 6) for row in payload["metrics"]}
    return {
        "seconds": round(seconds, 3),
        "rc": child.returncode,
        "stderr_tail": stderr[-400:] if child.returncode else "",
        "load_before": round(load_before, 2),
        "metrics": metrics,
    }


def run_rounds(
    rounds: int, commit: str, log: Path, task: str, competitor: str, extra: list[str]
) -> None:
    trees = {"base": base_tree(commit), "this": ROOT}
    log.parent.mkdir(parents=True, exist_ok=True)
    done = len(read_runs(log, task, competitor)) // len(CELLS)
    for number in range(done, done + rounds):
        shift = number % len(CELLS)
        for code, condition in CELLS[shift:] + CELLS[:shift]:
            busy = competitor if condition == "busy" else None
            record = run_task(trees[code], task, busy, extra)
            record.update(
                round=number + 1,
                task=task,
                competitor=competitor,
                code=code,
                commit=commit if code == "base" else _head(),
                condition=condition,
                at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            with log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            print(
                f"round {number + 1} {code:4} {condition}: {record['seconds']:.1f} s "
                f"(rc {record['rc']}, load {record['load_before']})",
                flush=True,
            )


def read_runs(log: Path, task: str, competitor: str) -> list[dict]:
    """The logged runs of one task beside one competitor."""
    if not log.exists():
        return []
    runs = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    return [
        run
        for run in runs
        if run.get("task", "backtest") == task and run.get("competitor", "torch2") == competitor
    ]


def report(runs: list[dict], task: str, competitor: str) -> str:
    """A RESULTS.md section: per-cell times, the two target ratios, metrics agreement."""
    by_round: dict[int, dict[tuple[str, str], float]] = {}
    for run in runs:
        if run["rc"] == 0:
            by_round.setdefault(run["round"], {})[(run["code"], run["condition"])] = run["seconds"]
    complete = [cells for cells in by_round.values() if len(cells) == len(CELLS)]

    def ratios(top: tuple[str, str], bottom: tuple[str, str]) -> list[float]:
        return [cells[top] / cells[bottom] for cells in complete]

    beside = {
        "torch2": "one process with two torch threads multiplying 256x256 matrices in a loop",
        "spin1": "one pure-Python busy loop (one of the two cores taken)",
    }[competitor]
    lines = [
        f"## Steady speed on a busy machine (issue 12): `{task}` beside `{competitor}`, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {platform.platform()}; {_cpu()}, {os.cpu_count()} logical cores; "
        f"Python {platform.python_version()}, {_versions()}.",
        f"- Task: `python -m forecast {' '.join(COMMANDS[task])}` with every other default "
        "(process wall time, imports included); `base` = commit "
        f"{BASE_COMMIT} (main at the start of this work), `this` = the working tree. `busy`: "
        f"beside {beside} (started 2 s before, stopped after). No thread or OpenMP variables "
        f"set by the benchmark. `python -m benchmarks.contention --task {task} --competitor "
        f"{competitor}`.",
        f"- {len(complete)} complete interleaved rounds (order rotated each round); times are "
        "medians, ratios medians of per-round ratios.",
        "",
        "| code | idle s per round | busy s per round | median idle s | median busy s "
        "| busy / idle |",
        "|---|---|---|---:|---:|---:|",
    ]
    for code in ("base", "this"):
        idle = [cells[(code, "idle")] for cells in complete]
        busy = [cells[(code, "busy")] for cells in complete]
        lines.append(
            f"| {code} | {', '.join(f'{x:.1f}' for x in idle)} | "
            f"{', '.join(f'{x:.1f}' for x in busy)} | {statistics.median(idle):.1f} | "
            f"{statistics.median(busy):.1f} | "
            f"**{statistics.median(ratios((code, 'busy'), (code, 'idle'))):.2f}x** |"
        )
    this_busy = statistics.median(ratios(("this", "busy"), ("this", "idle")))
    idle_vs_base = statistics.median(ratios(("this", "idle"), ("base", "idle")))
    busy_vs_base = statistics.median(ratios(("this", "busy"), ("base", "busy")))
    failed = [r for r in runs if r["rc"] != 0]
    metrics = {json.dumps(run["metrics"], sort_keys=True) for run in runs if run["rc"] == 0}
    per_code = {
        code: {json.dumps(r["metrics"], sort_keys=True) for r in runs if r["code"] == code}
        for code in ("base", "this")
    }
    lines += [
        "",
        f"- Target 1, busy no slower than 2.5x idle: this {this_busy:.2f}x -> "
        f"{'met' if this_busy <= 2.5 else 'NOT met'}.",
        f"- Target 2, idle no slower than before: this / base idle = {idle_vs_base:.2f}x -> "
        f"{'met' if idle_vs_base <= 1.05 else 'NOT met'} (5% tolerance for run-to-run noise).",
        f"- Busy, this / base: {busy_vs_base:.2f}x.",
        "- Metrics (MAE per model) identical across the runs of each code: "
        + ", ".join(f"{code} {'yes' if len(v) == 1 else 'NO'}" for code, v in per_code.items())
        + f"; identical between the codes: {'yes' if len(metrics) == 1 else 'no'}.",
        f"- Failed or timed-out runs (over {RUN_TIMEOUT:.0f} s, left out): {len(failed)}.",
        "- Raw runs: `benchmarks/out/contention.jsonl` (git-ignored).",
    ]
    return "\n".join(lines) + "\n"


def _head() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode
    return done.stdout.strip() + ("+changes" if dirty else "")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def _versions() -> str:
    import numpy
    import pandas
    import torch

    return f"torch {torch.__version__}, numpy {numpy.__version__}, pandas {pandas.__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--task", choices=sorted(COMMANDS), default="backtest")
    parser.add_argument("--competitor", choices=sorted(COMPETITORS), default="torch2")
    parser.add_argument("--base-commit", default=BASE_COMMIT)
    parser.add_argument("--log", type=Path, default=OUT / "contention.jsonl")
    parser.add_argument("--no-report", action="store_true", help="only run and log")
    parser.add_argument("--report-only", action="store_true", help="only render the log")
    parser.add_argument("--append-results", action="store_true", help="append to RESULTS.md")
    parser.add_argument("--fresh", action="store_true", help="start a new log")
    parser.add_argument("extra", nargs="*", help="extra `forecast backtest` options")
    args = parser.parse_args(argv)
    if args.fresh and args.log.exists():
        args.log.unlink()
    if not args.report_only:
        run_rounds(args.rounds, args.base_commit, args.log, args.task, args.competitor, args.extra)
    if args.no_report:
        return 0
    section = report(read_runs(args.log, args.task, args.competitor), args.task, args.competitor)
    print(section)
    if args.append_results:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as handle:
            handle.write("\n" + section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
