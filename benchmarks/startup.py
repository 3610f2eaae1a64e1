"""Start-up time of the ``forecast`` command: the light commands must not wait for torch.

Every command runs in a fresh interpreter, the way a user runs it, for this checkout and for
a reference commit (default: the last one before imports became lazy), interleaved A B A B
(``--repeats`` rounds), with the bare interpreter (``python -c pass``) as the floor. Reported:
median wall seconds per command and version, the median of the per-round ratios, and whether
the process imported torch.

Usage: ``/work/bin/quiet .venv/bin/python -m benchmarks.startup [--repeats 7]
[--reference 1ffc133] [--append]`` (``--append`` adds the table to benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS: list[list[str]] = [
    ["--version"],
    ["--help"],
    ["backtest", "--help"],
    ["models"],
    ["data", "list"],
    ["data", "show", "AAPL", "--rows", "2"],
]
# Runs the CLI as the console script does, then says whether torch was imported.
_RUN = (
    "import sys\n"
    "from forecast.cli import main\n"
    "sys.argv[0] = 'forecast'\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    sys.stderr.write('TORCH=%d\\n' % ('torch' in sys.modules))\n"
)


def _export(commit: str, folder: Path) -> Path:
    """The package as it was at ``commit``, unpacked into ``folder`` (no checkout touched)."""
    archive = folder / "ref.tar"
    with open(archive, "wb") as handle:
        subprocess.run(
            ["git", "archive", commit, "forecast", "datasets"], cwd=ROOT, stdout=handle, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _time(args: list[str], tree: Path | None) -> tuple[float, bool]:
    env = {**os.environ, "PYTHONPATH": str(tree or ROOT), "FORECAST_OFFLINE": "1"}
    code = "pass" if tree is None else _RUN
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code, *([] if tree is None else args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
    )
    seconds = time.perf_counter() - start
    if tree is not None and result.returncode != 0:
        raise RuntimeError(f"{args} failed: {result.stderr[-500:]}")
    return seconds, "TORCH=1" in result.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--reference", default="1ffc133", help="commit to compare with")
    parser.add_argument("--append", action="store_true", help="append to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        reference = _export(args.reference, Path(folder))
        trees = {"this checkout": ROOT, f"reference {args.reference}": reference}
        floor: list[float] = []
        seconds: dict[tuple[str, str], list[float]] = {}
        torch_imported: dict[tuple[str, str], bool] = {}
        for _ in range(args.repeats):  # interleaved: every command, every tree, then again
            floor.append(_time([], None)[0])
            for command in COMMANDS:
                for name, tree in trees.items():
                    key = (" ".join(command), name)
                    elapsed, imported = _time(command, tree)
                    seconds.setdefault(key, []).append(elapsed)
                    torch_imported[key] = imported

    ours, ref = trees
    lines = [
        f"## Start-up of the command line, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {platform.platform()}; {os.cpu_count()} logical cores; Python "
        f"{platform.python_version()}; load average before the run "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        f"- `python -m benchmarks.startup --repeats {args.repeats}`: each command in a fresh "
        "interpreter (as the console script runs it), this checkout and the reference "
        "interleaved, "
        f"{args.repeats} rounds; medians of wall seconds and of per-round ratios.",
        f"- Floor (`python -c pass`): median {statistics.median(floor):.3f} s.",
        "",
        f"| command | {ours} (s) | torch imported | {ref} (s) | torch imported | ratio |",
        "|---|---:|:---:|---:|:---:|---:|",
    ]
    for command in COMMANDS:
        text = " ".join(command)
        a, b = seconds[(text, ours)], seconds[(text, ref)]
        ratio = statistics.median(y / x for x, y in zip(a, b, strict=True))
        lines.append(
            f"| `forecast {text}` | {statistics.median(a):.3f} | "
            f"{'yes' if torch_imported[(text, ours)] else 'no'} | {statistics.median(b):.3f} | "
            f"{'yes' if torch_imported[(text, ref)] else 'no'} | {ratio:.1f}x |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    if args.append:
        with open(ROOT / "benchmarks" / "RESULTS.md", "a", encoding="utf-8") as handle:
            handle.write("\n" + report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
