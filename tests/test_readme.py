"""Every command in the README runs as written (those that need the network excepted).

The command-line tour and the Python tour are extracted from README.md and run in a fresh
folder that holds only what a clone holds (``datasets/``), with the installed ``forecast``
executable on the PATH, in order (``predict`` reads the model ``fit`` wrote).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NETWORK = "needs the network"


def _block(heading: str, language: str) -> list[str]:
    """The lines of the first ``language`` code block under ``heading``."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no {language} block under {heading!r}"
    return match.group(1).splitlines()


def _shell_commands() -> list[str]:
    commands = []
    for line in _block("## The command line in ten lines", "bash"):
        if not line.strip() or NETWORK in line:
            continue
        commands.append(line.split(" # ")[0].strip())
    return commands


def _tour_folder(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "datasets").symlink_to(ROOT / "datasets")
    scripts = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}",
        "FORECAST_CACHE_DIR": str(tmp_path / "cache"),
        "OMP_NUM_THREADS": "1",
    }


def test_the_readme_names_the_commands_it_skips() -> None:
    commands = _shell_commands()

    assert len(commands) == 8
    assert not any("fetch" in command or "yahoo:" in command for command in commands)
    assert all(command.startswith("forecast ") for command in commands)


def test_the_command_line_tour_runs_as_written(tmp_path: Path) -> None:
    if not (Path(sys.executable).parent / "forecast").exists():
        pytest.skip("the 'forecast' console script is not installed (pip install -e .)")
    env = _tour_folder(tmp_path)

    for command in _shell_commands():
        result = subprocess.run(
            command, shell=True, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600
        )
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert result.stdout or "--output" in command, command

    assert (tmp_path / "runs" / "msft" / "report.html").is_file()
    assert (tmp_path / "next.csv").read_text().count("\n") == 6  # header + 5 days


def test_the_python_tour_runs_as_written(tmp_path: Path) -> None:
    code = "\n".join(_block("## The Python API in ten lines", "python"))
    env = _tour_folder(tmp_path)

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "aapl-backtest" / "report.html").is_file()
