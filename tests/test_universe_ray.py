"""The Ray executor (forecast/universe/ray_executor.py) on a real local Ray started here.

A small universe with tiny models runs on Ray and on the local executor; the results must be
bit-identical, also when one Ray worker is killed while it runs a ticker (Ray retries the task).
Skipped where Ray is not installed (``pip install "forecast-rnn[ray]"``).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pandas as pd
import pytest

import forecast as fc
from forecast.errors import ConfigError
from forecast.universe import UniverseResult

SETTINGS = {"test_size": 30, "folds": 2, "baselines": ("naive",)}
TICKERS = ["AAPL", "JPM", "KO", "MSFT", "XOM", "NVDA"]


def tiny() -> fc.Forecaster:
    return fc.Forecaster(lookback=10, horizon=3, hidden_size=4, epochs=2, progress=False)


def small_panel() -> pd.DataFrame:
    panel = fc.load(TICKERS).groupby(level="ticker", group_keys=False).tail(200)
    panel.attrs = {"name": "small"}
    return panel


def test_without_ray_the_executor_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ConfigError, match=r'pip install "forecast-rnn\[ray\]"'):
        fc.backtest(tiny(), small_panel(), **SETTINGS, executor="ray")


@pytest.mark.slow
def test_ray_gives_the_local_bits_even_when_a_worker_is_killed_mid_run() -> None:
    ray = pytest.importorskip("ray")
    psutil = pytest.importorskip("psutil")
    panel = small_panel()
    local = fc.backtest(tiny(), panel, **SETTINGS, workers=1)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        runs: dict[str, object] = {}

        def run() -> None:
            try:
                runs["result"] = fc.backtest(tiny(), panel, **SETTINGS, executor="ray")
            except BaseException as exc:  # reported below, in the test's thread
                runs["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        killed = None
        deadline = time.monotonic() + 240
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            for process in psutil.process_iter(["pid", "cmdline"]):
                title = " ".join(process.info["cmdline"] or [])
                if title.startswith("ray::_ray_unit") and process.pid != os.getpid():
                    os.kill(process.pid, signal.SIGKILL)  # a worker dies mid-ticker
                    killed = process.pid
                    break
            time.sleep(0.05)
        thread.join(timeout=600)
    finally:
        ray.shutdown()
    assert "error" not in runs, runs.get("error")
    assert killed is not None, "no Ray worker was seen running a ticker"
    result = runs["result"]
    assert isinstance(result, UniverseResult)
    assert sorted(result.table["ticker"]) == sorted(TICKERS)
    pd.testing.assert_frame_equal(result.forecasts, local.forecasts)
    pd.testing.assert_frame_equal(result.table.drop(columns="seconds"),
                                  local.table.drop(columns="seconds"))
