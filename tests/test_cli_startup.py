"""The command line starts light and stops politely, checked in fresh processes.

``--help``, ``--version``, ``models`` and ``data list|show`` must not import torch (their
start-up time is measured in benchmarks/startup.py, not here), and a Ctrl-C while a command is
still importing its libraries prints the same one line as a Ctrl-C later.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Runs the command line in this process, then reports which heavy libraries it imported.
_PROBE = """
import sys
from forecast.cli import main
sys.argv = ["forecast", *sys.argv[1:]]
try:
    main()
except SystemExit as exit:
    code = exit.code
heavy = sorted(name for name in ("torch", "sklearn", "scipy") if name in sys.modules)
print("IMPORTED:" + ",".join(heavy), file=sys.stderr)
sys.exit(code)
"""


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORECAST_CACHE_DIR": str(cwd / "cache"), "FORECAST_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["backtest", "--help"],
        ["models"],
        ["models", "--json"],
        ["data", "list"],
        ["data", "show", "MSFT", "--rows", "2"],
    ],
    ids=" ".join,
)
def test_light_commands_do_not_import_torch(args: list[str], tmp_path: Path) -> None:
    result = _run(*args, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "IMPORTED:", result.stderr
    assert result.stdout


def _mapped(pid: int, fragment: str) -> bool:
    try:
        return fragment in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_ctrl_c_while_a_command_is_still_importing_prints_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "FORECAST_CACHE_DIR": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "forecast", "backtest", "--epochs", "1", "--out", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    # Wait until numpy's compiled core is mapped: the libraries are being imported, and no
    # bar has been trained on yet (torch and pandas follow numpy and take seconds more).
    deadline = time.monotonic() + 60
    while not _mapped(process.pid, "_multiarray_umath") and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)

    assert stderr == "Interrupted; nothing was written.\n"
    assert process.returncode == 130
    assert stdout == ""
    assert not (tmp_path / "run").exists()


def test_a_fresh_process_loads_every_kind_of_saved_model(tmp_path: Path) -> None:
    import forecast as fc

    bars = fc.load("MSFT").iloc[:80]
    fc.Baseline(method="drift", horizon=2).fit(bars).save(tmp_path / "baseline")
    tiny = fc.Forecaster(lookback=5, horizon=2, hidden_size=2, epochs=1, progress=False)
    tiny.fit(bars).save(tmp_path / "recurrent")
    code = (
        "import sys, forecast as fc; "
        "print(*(type(fc.load_model(path)).__name__ for path in sys.argv[1:]))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "baseline"), str(tmp_path / "recurrent")],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Baseline", "Forecaster"]


def test_the_command_line_makes_openmp_wait_passively_before_torch_loads(tmp_path: Path) -> None:
    code = (
        "import os, sys\n"
        "from forecast.cli import main\n"
        "sys.argv = ['forecast', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY'), 'torch' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "PASSIVE False"
