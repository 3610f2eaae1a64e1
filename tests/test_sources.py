"""Loading: bundled datasets, CSV/Parquet files, name resolution and panels."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import forecast as fc
from forecast.data.bundled import datasets_dir
from forecast.data.sources import resolve_source
from forecast.errors import DataError, DataSourceError, DataWarning

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sp500-sample"


def test_bundled_datasets_listed() -> None:
    names = fc.datasets()
    assert names == sorted(names)
    assert {"AAPL", "APTV", "DHR", "LNT"} <= set(names)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not beside this checkout")
def test_bundled_files_are_byte_identical_to_the_source() -> None:
    for path in SHARED.glob("*.csv"):
        assert (datasets_dir() / path.name).read_bytes() == path.read_bytes(), path.name


def test_load_bundled_has_canonical_shape() -> None:
    frame = fc.load("AAPL")
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "Date"
    assert frame.index.is_monotonic_increasing and len(frame) == 1259
    assert frame.attrs["name"] == "AAPL"
    assert frame["Close"].iloc[0] == pytest.approx(67.8542)


def test_awkward_datasets_load_and_say_what_changed() -> None:
    with pytest.warns(DataWarning, match=r"DHR: dropped 2 row\(s\) with NaN values"):
        dhr = fc.load("DHR")
    assert len(dhr) == 1241
    with pytest.warns(DataWarning, match=r"LNT: widened High/Low of 1 bar\(s\).*2016-05-19"):
        lnt = fc.load("LNT")
    assert len(lnt) == 1259
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        aptv = fc.load("aptv")
    assert len(aptv) == 44


def test_unknown_dataset_lists_the_choices() -> None:
    with pytest.raises(
        DataSourceError, match=r"no bundled dataset named 'NOPE'; choose one of AAPL"
    ):
        fc.load("bundled:NOPE")


def test_missing_file() -> None:
    with pytest.raises(
        DataSourceError, match=r"file '.*missing.csv' does not exist; check the path"
    ):
        fc.load("missing.csv")


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("AAPL", "bundled"),
        ("aapl", "bundled"),
        ("SPY", "yahoo"),
        ("prices.csv", "file"),
        ("data.parquet", "file"),
        ("yahoo:AAPL", "yahoo"),
        ("yf:AAPL", "yahoo"),
        ("file:AAPL", "file"),
        ("bundled:MSFT", "bundled"),
    ],
)
def test_resolution_order(source: str, kind: str) -> None:
    assert resolve_source(source)[0] == kind


def test_existing_path_wins_over_a_ticker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "SPY").write_text("Date,Close\n2024-01-01,1\n")
    assert resolve_source("SPY") == ("file", "SPY")


@pytest.mark.parametrize(
    "header",
    [
        "Date,Open,High,Low,Close,Volume",
        "date,open,high,low,close,volume",
        "DATE,OPEN,HIGH,LOW,CLOSE,VOLUME",
        "Datetime,Open,High,Low,Close,Volume",
        "timestamp,o,h,l,c,v",
    ],
)
def test_csv_column_names_normalised(tmp_path: Path, header: str) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(f"{header}\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10.5,12,10,11,120\n")
    frame = fc.load(str(path))
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert frame.index[1] == pd.Timestamp("2024-01-03")


def test_adj_close_and_unnamed_index_column(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text(",Open,High,Low,Close,Adj Close\n2024-01-02,10,11,9,10.5,10.4\n")
    frame = fc.load(path)
    assert "Adj Close" in frame.columns and frame.index.name == "Date"


def test_parquet_with_date_index(tmp_path: Path) -> None:
    source = fc.load("MSFT")
    path = tmp_path / "msft.parquet"
    source.rename(columns=str.lower).to_parquet(path)
    frame = fc.load(path)
    pd.testing.assert_frame_equal(frame, source, check_freq=False, check_index_type=False)


def test_file_of_the_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "bars.xlsx"
    path.write_bytes(b"not a table")
    with pytest.raises(DataSourceError, match="neither CSV nor Parquet"):
        fc.load(f"file:{path}")


def test_bad_dates_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "bars.csv"
    path.write_text("Date,Close\nyesterday,1\n2024-01-03,2\n")
    with pytest.raises(DataError, match="'Date' column holds values that are not dates"):
        fc.load(path)


def test_panel_is_a_long_frame_with_a_ticker_level() -> None:
    panel = fc.load(["AAPL", "MSFT"])
    assert list(panel.index.names) == ["ticker", "Date"]
    assert list(pd.unique(panel.index.get_level_values(0))) == ["AAPL", "MSFT"]
    same = fc.load("AAPL,MSFT")
    pd.testing.assert_frame_equal(panel, same)


def test_date_bounds() -> None:
    frame = fc.load("AAPL", start="2017-01-01", end="2017-02-01")
    assert frame.index.min() >= pd.Timestamp("2017-01-01")
    assert frame.index.max() < pd.Timestamp("2017-02-01")
    with pytest.raises(DataError, match="no rows between 2030-01-01"):
        fc.load("AAPL", start="2030-01-01")
