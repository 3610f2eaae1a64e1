"""Nothing half-written: a writer killed with SIGKILL at a random moment loses nothing.

Each test forks a writer process that saves the same destination over and over, alternating
between two known versions A and B (a model directory, a backtest report, a yfinance cache
entry, a predictions CSV). The test waits until a first version is in place, kills the writer
with ``SIGKILL`` at a random moment, and checks that:

- the destination is complete and is exactly A or exactly B (never a mix, never partial),
  and the package's own reader accepts it;
- every other name left in the folder starts with ``.tmp-`` (names no reader looks at).

A control test runs the same harness against a naive writer (``open(path, "w")``) and shows
that the check does catch a torn file. Two processes filling the same cache entry at once
both succeed and leave one valid entry.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from _hypothesis_profiles import FUZZING
from yahoo_frames import FakeDownload, history

import forecast as fc
from forecast._atomic import TMP_PREFIX, atomic_directory, atomic_write_text
from forecast.data import yahoo

pytestmark = [
    pytest.mark.filterwarnings("ignore::forecast.DataWarning"),
    pytest.mark.skipif(
        "fork" not in multiprocessing.get_all_start_methods(), reason="needs os.fork"
    ),
]

FORK = multiprocessing.get_context("fork")
ROUNDS = 25 if FUZZING else 4  # kills per writer
SEED = 20260101
# Per kill, how many new `.tmp-` leftovers it left (> 0: the kill landed inside a write);
# read by hand (or printed) when measuring, never asserted: the timing is random.
KILLS: list[int] = []


# -- harness -----------------------------------------------------------------------------------


def _forever(write: Callable[[int], None]) -> Callable[[], None]:
    def loop() -> None:
        version = 0
        while True:
            write(version % 2)
            version += 1

    return loop


def kill_mid_write(
    write: Callable[[int], None],
    destination: Path,
    check: Callable[[Path], None],
    *,
    rounds: int = ROUNDS,
    longest_s: float = 0.4,
) -> None:
    """Fork a writer of versions 0/1 of ``destination``, SIGKILL it at a random moment, check.

    The first round starts from nothing; later rounds start from what the last kill left.
    """
    draw = random.Random(SEED)
    before = 0
    for _ in range(rounds):
        writer = FORK.Process(target=_forever(write), daemon=True)
        writer.start()
        try:
            deadline = time.monotonic() + 60
            while not destination.exists():  # a first complete version is in place
                assert writer.is_alive(), f"the writer died with exit code {writer.exitcode}"
                assert time.monotonic() < deadline, "the writer never finished a first write"
                time.sleep(0.005)
            time.sleep(draw.uniform(0.0, longest_s))
        finally:
            os.kill(writer.pid, signal.SIGKILL)
            writer.join(10)
        assert writer.exitcode == -signal.SIGKILL
        check(destination)
        assert_only_tmp_leftovers(destination)
        leftovers = len(list(destination.parent.glob(TMP_PREFIX + "*")))
        KILLS.append(leftovers - before)
        before = leftovers


def assert_only_tmp_leftovers(destination: Path) -> None:
    others = [p.name for p in destination.parent.iterdir() if p.name != destination.name]
    assert all(name.startswith(TMP_PREFIX) for name in others), others


def same_files(folder: Path, reference: Path) -> bool:
    names = sorted(p.name for p in reference.iterdir())
    if sorted(p.name for p in folder.iterdir()) != names:
        return False
    return all((folder / n).read_bytes() == (reference / n).read_bytes() for n in names)


def bars(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    index = pd.bdate_range("2023-01-02", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close}, index
    )


# -- the control: the harness catches a torn file ----------------------------------------------


def test_the_harness_catches_a_writer_that_is_not_atomic(tmp_path: Path) -> None:
    destination = tmp_path / "out" / "predictions.csv"
    destination.parent.mkdir()
    versions = ["A" * 400_000, "B" * 400_000]

    def naive_write(version: int) -> None:
        with open(destination, "w") as handle:  # truncates, then writes in slow chunks
            for start in range(0, len(versions[version]), 20_000):
                handle.write(versions[version][start : start + 20_000])
                handle.flush()
                time.sleep(0.002)

    def check(path: Path) -> None:
        assert path.read_text() in versions, "torn file"

    with pytest.raises(AssertionError, match="torn file"):
        kill_mid_write(naive_write, destination, check, rounds=10, longest_s=0.05)


# -- writers -----------------------------------------------------------------------------------


def test_a_model_save_killed_mid_write_leaves_the_old_or_the_new_model(tmp_path: Path) -> None:
    frame = bars()
    models = [
        fc.Forecaster(
            cell=cell, lookback=5, horizon=2, hidden_size=48, epochs=1, progress=False
        ).fit(frame)
        for cell in ("lstm", "gru")
    ]
    references = [model.save(tmp_path / "reference" / str(i)) for i, model in enumerate(models)]
    destination = tmp_path / "models" / "current"
    destination.parent.mkdir()

    def check(path: Path) -> None:
        assert any(same_files(path, reference) for reference in references)
        loaded = fc.load_model(path)
        assert loaded.cell in ("lstm", "gru")

    kill_mid_write(lambda v: models[v].save(destination), destination, check)


def test_a_report_killed_mid_write_leaves_the_old_or_the_new_report(tmp_path: Path) -> None:
    frame = bars(120)
    results = [
        fc.backtest(fc.Baseline(method=method, horizon=2), frame, test_size=20, folds=2)
        for method in ("drift", "mean")
    ]
    references = [result.save(tmp_path / "reference" / str(i)) for i, result in enumerate(results)]
    destination = tmp_path / "runs" / "latest"
    destination.parent.mkdir()

    def check(path: Path) -> None:
        # Rendering is deterministic, so even the PNGs match one version byte for byte.
        assert any(same_files(path, reference) for reference in references)
        assert (path / "report.html").read_text().rstrip().endswith("</html>")

    kill_mid_write(lambda v: results[v].save(destination), destination, check, longest_s=3.0)


def test_a_cache_entry_killed_mid_write_leaves_the_old_or_the_new_bars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = pd.bdate_range("2020-01-01", periods=3000).strftime("%Y-%m-%d").tolist()
    fakes = [
        FakeDownload({"AAPL": history(days, start_price=price, seed=seed)})
        for price, seed in ((100.0, 1), (200.0, 2))
    ]
    expected = []
    for i, fake in enumerate(fakes):
        monkeypatch.setattr(yfinance, "download", fake)
        expected.append(yahoo.fetch("AAPL", cache_dir=tmp_path / f"reference{i}")["AAPL"])
    folder = tmp_path / "cache"
    destination = yahoo.cache_path("AAPL", cache_dir=folder)

    def write(version: int) -> None:  # runs in the forked writer: patches its own copy
        yfinance.download = fakes[version]
        yahoo.fetch("AAPL", cache_dir=folder, refresh=True)

    def check(path: Path) -> None:
        frame = yahoo.fetch("AAPL", cache_dir=folder, offline=True)["AAPL"]
        assert any(frame.equals(version) for version in expected)
        assert [entry.path for entry in yahoo.cached_entries(folder)] == [path]

    kill_mid_write(write, destination, check)


def test_a_predictions_file_killed_mid_write_is_the_old_or_the_new_file(tmp_path: Path) -> None:
    versions = [pd.DataFrame({"Close": np.full(200_000, float(v))}).to_csv() for v in (1, 2)]
    destination = tmp_path / "out" / "next.csv"

    def check(path: Path) -> None:
        assert path.read_text() in versions

    kill_mid_write(lambda v: atomic_write_text(destination, versions[v]), destination, check)


# -- concurrency -------------------------------------------------------------------------------


class SlowDownload(FakeDownload):
    """A download that takes a while, so two processes overlap inside it."""

    def __call__(self, *args: object, **kwargs: object) -> pd.DataFrame:
        time.sleep(0.2)
        return super().__call__(*args, **kwargs)


def _fill_cache(folder: Path, barrier: object, expected_close: float) -> None:
    barrier.wait()  # type: ignore[attr-defined]
    frame = yahoo.fetch("AAPL", cache_dir=folder)["AAPL"]
    os._exit(0 if frame["Close"].iloc[-1] == expected_close else 3)


def test_two_processes_filling_one_cache_entry_both_succeed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = pd.bdate_range("2020-01-01", periods=2000).strftime("%Y-%m-%d").tolist()
    fake = SlowDownload({"AAPL": history(days, start_price=50.0, seed=3)})
    monkeypatch.setattr(yfinance, "download", fake)
    for round_ in range(3):
        folder = tmp_path / f"cache{round_}"
        expected = yahoo.fetch("AAPL", cache_dir=tmp_path / f"reference{round_}")["AAPL"]
        barrier = FORK.Barrier(2)
        workers = [
            FORK.Process(target=_fill_cache, args=(folder, barrier, expected["Close"].iloc[-1]))
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(60)
        assert [worker.exitcode for worker in workers] == [0, 0]
        cached = yahoo.fetch("AAPL", cache_dir=folder, offline=True)["AAPL"]
        pd.testing.assert_frame_equal(cached, expected)
        assert sorted(p.name for p in folder.iterdir()) == [yahoo.cache_path("AAPL").name]


# -- unit checks of the writers ----------------------------------------------------------------


def test_an_interrupted_directory_write_leaves_the_previous_version(tmp_path: Path) -> None:
    destination = tmp_path / "model"
    with atomic_directory(destination) as folder:
        (folder / "config.json").write_text("old")

    with pytest.raises(KeyboardInterrupt), atomic_directory(destination) as folder:
        (folder / "config.json").write_text("half")
        raise KeyboardInterrupt

    assert (destination / "config.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_kill_between_the_fallback_renames_is_repaired_by_the_next_write(
    tmp_path: Path,
) -> None:
    # Where renameat2(RENAME_EXCHANGE) is missing the old version is moved aside first; a kill
    # right then leaves only `.tmp-NAME.old`. The next write puts it back before starting.
    destination = tmp_path / "model"
    aside = tmp_path / f"{TMP_PREFIX}model.old"
    aside.mkdir()
    (aside / "config.json").write_text("old")

    with pytest.raises(RuntimeError), atomic_directory(destination):
        raise RuntimeError("the new save fails")

    assert (destination / "config.json").read_text() == "old"


def test_saved_files_get_ordinary_permissions_not_private_ones(tmp_path: Path) -> None:
    old_mask = os.umask(0o022)
    try:
        model = fc.Baseline(method="naive", horizon=2).fit(bars(30))
        folder = model.save(tmp_path / "model")
        atomic_write_text(tmp_path / "next.csv", "x")
        result = fc.backtest(
            fc.Baseline(method="naive", horizon=2), bars(60), test_size=10, folds=2
        )
        report = result.save(tmp_path / "report")
    finally:
        os.umask(old_mask)

    assert folder.stat().st_mode & 0o777 == 0o755
    assert (folder / "config.json").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "next.csv").stat().st_mode & 0o777 == 0o644
    assert report.stat().st_mode & 0o777 == 0o755

    os.chmod(tmp_path / "next.csv", 0o600)  # a user's choice survives a rewrite
    atomic_write_text(tmp_path / "next.csv", "y")
    assert (tmp_path / "next.csv").stat().st_mode & 0o777 == 0o600


def test_a_recurrent_models_weights_follow_the_umask_like_its_config(tmp_path: Path) -> None:
    old_mask = os.umask(0o022)
    try:
        model = fc.Forecaster(lookback=5, horizon=2, hidden_size=2, epochs=1, progress=False)
        folder = model.fit(bars(40)).save(tmp_path / "model")
    finally:
        os.umask(old_mask)

    modes = {path.name: path.stat().st_mode & 0o777 for path in folder.iterdir()}
    assert modes == {"config.json": 0o644, "weights.safetensors": 0o644}


def test_replacing_a_directory_never_leaves_an_aside_copy(tmp_path: Path) -> None:
    destination = tmp_path / "model"
    for version in range(3):
        with atomic_directory(destination) as folder:
            (folder / "v").write_text(str(version))

    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (destination / "v").read_text() == "2"
