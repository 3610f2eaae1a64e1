"""The package as users install it: a wheel that carries the bundled datasets."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("forecast_rnn-*.whl")
    return path


def test_wheel_carries_datasets_and_typing_marker(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for dataset in ("AAPL", "APTV", "DHR", "LNT"):
        assert f"forecast/_datasets/{dataset}.csv" in names
    assert "forecast/_datasets/PROVENANCE.md" in names
    assert "forecast/py.typed" in names
    assert not any(name.startswith("tests/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "forecast = forecast.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_wheel_loads_bundled_data_from_outside_the_repo(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    code = (
        "import forecast as fc, pathlib; "
        "f = fc.load('AAPL'); "
        "import forecast.data.bundled as b; "
        "print(len(f), pathlib.Path(b.datasets_dir()).parent.name)"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["1259", "forecast"]
