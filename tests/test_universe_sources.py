"""Loading universes (forecast/universe/sources.py): a folder, a ticker list through the yfinance
cache, a long file, the bundled name, and the shared S&P 500 universe's awkward members.

No test touches the network: ``yfinance.download`` is replaced by ``FakeDownload``, which answers
with frames shaped exactly like yfinance output (tests/yahoo_frames.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance
from yahoo_frames import FakeDownload, history

import forecast as fc
from forecast.data.bundled import datasets_dir
from forecast.errors import DataSourceError
from forecast.universe.sources import load_universe, universe_kind

SHARED_UNIVERSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500-universe"
if not SHARED_UNIVERSE.is_dir():
    SHARED_UNIVERSE = Path("/work/shared/data/sp500-universe")
BUNDLED = datasets_dir()
DAYS = pd.bdate_range("2023-01-02", periods=40).strftime("%Y-%m-%d").tolist()


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(folder))
    monkeypatch.delenv("FORECAST_OFFLINE", raising=False)
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    return folder


def folder_of(tmp_path: Path, names: list[str]) -> Path:
    folder = tmp_path / "universe"
    folder.mkdir()
    for name in names:
        shutil.copy(BUNDLED / f"{name}.csv", folder / f"{name}.csv")
    return folder


def test_a_folder_is_one_panel_named_by_its_files_and_bad_files_are_refused_by_name(
    tmp_path: Path,
) -> None:
    folder = folder_of(tmp_path, ["AAPL", "KO", "DHR"])
    (folder / "BAD.csv").write_text("Date,Open,High,Low,Close\nyesterday,1,2,x,y\n")
    pd.read_csv(BUNDLED / "MSFT.csv").to_parquet(folder / "MSFT.parquet")
    (folder / "README.md").write_text("not a ticker")
    universe = load_universe(folder)
    panel = universe.panel
    assert universe.kind == "folder" and universe_kind(str(folder)) == "folder"
    assert list(pd.unique(panel.index.get_level_values("ticker"))) == ["AAPL", "DHR", "KO", "MSFT"]
    assert list(panel.index.names) == ["ticker", "Date"]
    assert list(universe.refused) == ["BAD"]
    assert universe.refused["BAD"].startswith("BAD: ")
    assert panel.attrs["refused"] == universe.refused
    # DHR's empty Open/High/Low rows are dropped, and said so.
    assert any("DHR: dropped 2 row(s)" in note for note in universe.notes["DHR"])
    pd.testing.assert_frame_equal(
        panel.xs("KO"), fc.load(BUNDLED / "KO.csv"), check_names=False, check_freq=False
    )


def test_the_bundled_name_is_the_ten_bundled_tickers() -> None:
    universe = load_universe("bundled")
    assert universe.kind == "bundled"
    assert sorted(pd.unique(universe.panel.index.get_level_values(0))) == sorted(fc.datasets())
    # LNT's bad print (2016-05-19, half the price for one day) is dropped and noted.
    assert pd.Timestamp("2016-05-19") not in universe.panel.xs("LNT").index
    assert any("bad print" in note for note in universe.notes["LNT"])


def test_a_long_file_with_a_ticker_column_is_split_by_ticker(tmp_path: Path) -> None:
    parts = []
    for name in ("AAPL", "KO"):
        frame = pd.read_csv(BUNDLED / f"{name}.csv").head(300)
        frame.insert(0, "Symbol", name)
        parts.append(frame)
    long = pd.concat(parts)
    long.to_csv(tmp_path / "long.csv", index=False)
    long.to_parquet(tmp_path / "long.parquet", index=False)
    for path in (tmp_path / "long.csv", tmp_path / "long.parquet"):
        universe = load_universe(path)
        assert universe.kind == "long"
        assert list(pd.unique(universe.panel.index.get_level_values(0))) == ["AAPL", "KO"]
        assert len(universe.panel.xs("KO")) == 300
    assert universe_kind(BUNDLED / "AAPL.csv") is None  # one ticker's file is not a universe


def test_a_ticker_list_goes_through_yfinance_and_its_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDownload({"AAA": history(DAYS, seed=1), "BBB": history(DAYS[5:], seed=2)})
    monkeypatch.setattr(yfinance, "download", fake)
    listing = tmp_path / "watch.txt"
    listing.write_text("# my watch list\nAAA, BBB\nNOPE  # delisted\n")
    universe = load_universe(listing)
    assert universe.kind == "list"
    assert list(pd.unique(universe.panel.index.get_level_values(0))) == ["AAA", "BBB"]
    assert len(universe.panel.xs("BBB")) == len(DAYS) - 5
    assert list(universe.refused) == ["NOPE"]
    assert universe.refused["NOPE"].startswith("NOPE: ") and "NOPE" in universe.refused["NOPE"][6:]
    calls = fake.n_calls
    # The good tickers are cached now: offline, the same list needs no download.
    again = load_universe(listing, offline=True)
    assert fake.n_calls == calls
    pd.testing.assert_frame_equal(again.panel, universe.panel)
    # A one-column CSV of symbols is a list too.
    (tmp_path / "watch.csv").write_text("symbol\nAAA\nBBB\n")
    assert universe_kind(tmp_path / "watch.csv") == "list"
    assert list(load_universe(tmp_path / "watch.csv", offline=True).refused) == []


def test_a_universe_with_no_usable_member_names_each_refusal(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert universe_kind(folder) is None  # no data file: fc.load says a folder is not a file
    with pytest.raises(DataSourceError, match="is not a universe"):
        load_universe(folder)
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)))
    with pytest.raises(DataSourceError, match=r"'binary\.txt' is not a text list of tickers"):
        load_universe(tmp_path / "binary.txt")
    (folder / "X.csv").write_text("Date,Close\nnot a date,1\n")
    with pytest.raises(DataSourceError, match=r"no ticker of 'empty' could be loaded: X: "):
        load_universe(folder)


@pytest.mark.skipif(not SHARED_UNIVERSE.is_dir(), reason="the shared S&P 500 universe is absent")
def test_the_shared_sp500_universe_loads_its_ragged_members_and_refuses_jumps_by_name() -> None:
    universe = load_universe(SHARED_UNIVERSE)
    tickers = set(pd.unique(universe.panel.index.get_level_values(0)))
    assert len(tickers) + len(universe.refused) == 200  # nobody silently dropped
    # Unadjusted corporate actions (PROVENANCE: A, BHGE, CAG, CHK, EXPE, NI) are refused by
    # name with the date; LNT's bad print is repaired instead.
    assert sorted(universe.refused) == ["A", "BHGE", "CAG", "CHK", "EXPE", "NI"]
    assert "2015-07-02" in universe.refused["NI"] and "-63%" in universe.refused["NI"]
    assert "LNT" in tickers and any("bad print" in n for n in universe.notes["LNT"])
    # Late listings load (the backtest decides whether they are long enough) ...
    assert len(universe.panel.xs("APTV")) == 44 and len(universe.panel.xs("GOOG")) == 975
    # ... and empty cells are dropped with a note, never silently.
    for ticker in ("O", "FTV", "BHF", "DHR"):
        assert any("NaN" in note for note in universe.notes[ticker]), ticker
    closes = universe.panel["Close"].to_numpy()
    assert np.all(np.isfinite(closes)) and np.all(closes > 0)
    # With jumps accepted, every member loads.
    assert len(load_universe(SHARED_UNIVERSE, max_jump=None).refused) == 0
