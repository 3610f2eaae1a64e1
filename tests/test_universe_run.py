"""Universe backtests (forecast/universe/run.py, unit.py, executors.py, store.py): every ticker
runs or is refused with its reason, the local pool gives this process's bits, results land on
disk as tickers finish, and a run killed with SIGKILL resumes without recomputing.

Small on purpose: five short tickers, a 4-unit LSTM trained for one or two epochs, two folds.
"""

from __future__ import annotations

import html
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import forecast as fc
from forecast.errors import ConfigError, DataError

SETTINGS = {"test_size": 30, "folds": 2, "baselines": ("naive",)}
TICKERS = ["AAPL", "JPM", "KO", "MSFT", "XOM"]


def tiny(**params: object) -> fc.Forecaster:
    settings: dict[str, object] = {
        "lookback": 10, "horizon": 3, "hidden_size": 4, "epochs": 1, "progress": False,
    }
    return fc.Forecaster(**{**settings, **params})


def small_panel(tickers: list[str] = TICKERS, bars: int = 200) -> pd.DataFrame:
    panel = fc.load(tickers).groupby(level="ticker", group_keys=False).tail(bars)
    panel.attrs = {"name": "small"}
    return panel


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_ticker_runs_or_is_refused_with_its_reason(tmp_path: Path) -> None:
    panel = small_panel(["AAPL", "KO", "MSFT"])
    short = fc.load("JPM").tail(40)
    bad = fc.load("XOM").tail(200).copy()
    bad.iloc[150, bad.columns.get_loc("Close")] = -1.0  # a price a return cannot be taken of
    extra = pd.concat({"JPMSHORT": short, "XOMBAD": bad}, names=panel.index.names)
    panel = pd.concat([panel, extra])
    panel.attrs = {"refused": {"GONE": "GONE: its file could not be read."}}
    result = fc.backtest(tiny(), panel, **SETTINGS, workers=1)
    assert sorted(result.table["ticker"]) == ["AAPL", "KO", "MSFT"]
    refused = result.refused.set_index("ticker")
    assert refused.loc["GONE", "stage"] == "load"
    assert refused.loc["JPMSHORT", "stage"] == "screen"
    assert refused.loc["JPMSHORT", "reason"] == (
        "JPMSHORT: 40 bars, fewer than the 44 a backtest needs (14 for the first fold's "
        "training window (lookback + horizon + 1 for returns) + 30 test bars); lower "
        "--test-size or --lookback to include it."
    )
    assert refused.loc["XOMBAD", "stage"] == "run"
    assert refused.loc["XOMBAD", "reason"].startswith("XOMBAD: ")
    assert "positive" in refused.loc["XOMBAD", "reason"]
    assert result.summary().startswith("ran 3 of 6 tickers; refused 3: GONE, JPMSHORT, XOMBAD")
    assert result.pooled["n_ran"] == 3 and result.pooled["n_refused"] == 3


def test_nothing_runnable_is_one_error_listing_the_reasons() -> None:
    panel = small_panel(["AAPL", "KO"], bars=30)
    with pytest.raises(DataError, match=r"no ticker could run \(2 refused\): AAPL: 30 bars"):
        fc.backtest(tiny(), panel, **SETTINGS, workers=1)


def test_a_setting_wrong_for_every_ticker_stops_the_run_at_once() -> None:
    with pytest.raises(ConfigError, match="gap must be an integer >= 0"):
        fc.backtest(tiny(), small_panel(), **SETTINGS | {"gap": -1}, workers=1)
    with pytest.raises(ConfigError, match="mode='pooled' is not known"):
        fc.backtest(tiny(), small_panel(), **SETTINGS, mode="pooled")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="executor='dask' is not known"):
        fc.backtest(tiny(), small_panel(), **SETTINGS, executor="dask")


def test_each_ticker_is_the_current_engine_and_the_pool_gives_the_same_bits(one_thread) -> None:
    panel = small_panel()
    here = fc.backtest(tiny(), panel, **SETTINGS, workers=1)
    pool = fc.backtest(tiny(), panel, **SETTINGS, workers=2)
    pd.testing.assert_frame_equal(here.forecasts, pool.forecasts)
    pd.testing.assert_frame_equal(here.table.drop(columns="seconds"),
                                  pool.table.drop(columns="seconds"))
    assert pool.config["workers"] == 2 and pool.memory["largest_worker_peak_mb"] > 0
    # The unit of work is fc.backtest on the ticker alone, one thread per fit.
    alone = fc.backtest(tiny(), panel.xs("KO"), n_jobs=1, **SETTINGS)
    mine = here.forecasts[here.forecasts["ticker"] == "KO"].drop(columns="ticker")
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), alone.forecasts)
    row = here.table.set_index("ticker").loc["KO"]
    lstm = alone.metrics.set_index("model").loc["lstm"]
    assert row["mase"] == lstm["mase"] and row["dm_pvalue"] == lstm["dm_pvalue"]


def test_the_table_pooled_figures_and_verdict_agree(tmp_path: Path) -> None:
    drift = fc.Baseline(method="drift", horizon=3)
    result = fc.backtest(drift, small_panel(), **SETTINGS, workers=1)
    table = result.table
    assert list(table["mase"]) == sorted(table["mase"])
    assert (table["beats_naive"] <= table["beats_naive_uncorrected"]).all()
    one_sided = np.where(table["dm_stat"] < 0, table["dm_pvalue"] / 2, 1 - table["dm_pvalue"] / 2)
    np.testing.assert_allclose(table["p_better"], one_sided)
    pooled = result.pooled
    assert pooled["median_mase"] == pytest.approx(table["mase"].median())
    assert pooled["share_below_naive"] == pytest.approx((table["mase"] < 1).mean())
    assert pooled["beats_naive"] == int(table["beats_naive"].sum())
    assert 0 <= pooled["pooled_dm_pvalue"] <= 1 and pooled["pooled_dm_dates"] == 10
    sentence = result.verdict()
    assert sentence.startswith("drift beats the naive random walk on ")
    assert "after Benjamini–Hochberg control of the false-discovery rate at 5%" in sentence
    folder = result.save(tmp_path / "report")
    saved = pd.read_csv(folder / "universe.csv")
    assert list(saved["ticker"]) == list(table["ticker"])
    assert json.loads((folder / "pooled.json").read_text())["verdict"] == sentence
    page = (folder / "report.html").read_text()
    assert html.escape(sentence) in page
    # The histogram, then the 3 best and the other 2 of these 5 tickers, one small plot each.
    assert "MASE over tickers" in page and page.count("<img") == 1 + 5
    assert f"best: {table['ticker'].iloc[0]}" in page


def test_progress_bar_and_verbose_lines(capsys: pytest.CaptureFixture[str]) -> None:
    fc.backtest(fc.Baseline(method="naive", horizon=3), small_panel(["AAPL", "KO"]), **SETTINGS,
                workers=1, progress=True, verbose=True)
    err = capsys.readouterr().err
    assert "2/2 tickers" in err
    assert "AAPL     ran     MASE 1.000" in err and "KO       ran" in err


def test_resume_reuses_stored_tickers_and_refuses_other_settings(tmp_path: Path) -> None:
    panel, out = small_panel(["AAPL", "KO"]), tmp_path / "run"
    first = fc.backtest(tiny(), panel, **SETTINGS, workers=1, out=out)
    assert sorted(p.name for p in (out / "tickers").iterdir()) == ["AAPL", "KO"]
    assert (out / "universe.csv").is_file() and (out / "manifest.json").is_file()
    with pytest.raises(ConfigError, match="already holds a universe run; pass --resume"):
        fc.backtest(tiny(), panel, **SETTINGS, workers=1, out=out)
    again = fc.backtest(tiny(), panel, **SETTINGS, workers=1, out=out, resume=True)
    assert again.timings["tickers_run_now"] == 0 and again.timings["tickers_resumed"] == 2
    pd.testing.assert_frame_equal(first.table, again.table)
    pd.testing.assert_frame_equal(first.forecasts, again.forecasts)
    with pytest.raises(ConfigError, match=r"other settings \(params.epochs 1 then, 2 now\)"):
        fc.backtest(tiny(epochs=2), panel, **SETTINGS, workers=1, out=out, resume=True)
    changed = panel.copy()
    changed.iloc[5, 0] += 1.0  # AAPL's bars are not the ones stored
    with pytest.raises(DataError, match="AAPL's bars have changed"):
        fc.backtest(tiny(), changed, **SETTINGS, workers=1, out=out, resume=True)


KILLED_RUN = """
    import sys
    import forecast as fc

    if __name__ == "__main__":
        panel = fc.load({tickers!r}).groupby(level="ticker", group_keys=False).tail(200)
        model = fc.Forecaster(lookback=10, horizon=3, hidden_size=4, epochs=3, progress=False)
        fc.backtest(model, panel, **{settings!r}, workers=1, out=sys.argv[1])
"""


def finished(out: Path) -> dict[str, int]:
    """Ticker -> modification time (ns) of its stored result; temporary folders excluded."""
    return {
        path.parent.name: path.stat().st_mtime_ns
        for path in out.glob("tickers/*/result.json")
        if not path.parent.name.startswith(".tmp-")
    }


def test_a_run_killed_halfway_resumes_without_recomputing(tmp_path: Path) -> None:
    out, script = tmp_path / "run", tmp_path / "run.py"
    script.write_text(textwrap.dedent(KILLED_RUN.format(tickers=TICKERS, settings=SETTINGS)))
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, str(script), str(out)], env=env)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and child.poll() is None:
            if len(finished(out)) >= 2:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the run ended before it could be killed halfway"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait()
    stored = finished(out)
    assert 2 <= len(stored) < len(TICKERS)
    assert not (out / "universe.csv").exists()

    model = tiny(epochs=3)
    panel = small_panel()
    resumed = fc.backtest(model, panel, **SETTINGS, workers=1, out=out, resume=True)
    assert resumed.timings["tickers_resumed"] == len(stored)
    assert resumed.timings["tickers_run_now"] == len(TICKERS) - len(stored)
    after = finished(out)
    assert {t: after[t] for t in stored} == stored  # finished tickers were not recomputed
    assert sorted(after) == sorted(TICKERS)
    assert not list((out / "tickers").glob(".tmp-*"))  # a folder half-written by the kill
    fresh = fc.backtest(model, panel, **SETTINGS, workers=1)
    pd.testing.assert_frame_equal(resumed.table.drop(columns="seconds"),
                                  fresh.table.drop(columns="seconds"))
    pd.testing.assert_frame_equal(resumed.forecasts, fresh.forecasts)
