"""Files as people have them: compressed, long-format, European CSV, row-number index, encodings.

Every file here is rewritten from a real bundled series (``datasets/``, the same bytes as
``../shared/data/sp500-sample``), so the values are real prices in real shapes.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

import forecast as fc
from forecast.data.bundled import bundled_path
from forecast.data.files import read_table
from forecast.errors import DataError, DataWarning


def _raw(name: str) -> pd.DataFrame:
    """The bundled CSV exactly as written (Date as text)."""
    return pd.read_csv(bundled_path(name), dtype={"Date": str})


@pytest.mark.parametrize("suffix", [".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz"])
def test_compressed_csv_loads_like_the_plain_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"MSFT{suffix}"
    _raw("MSFT").to_csv(path, index=False)
    frame = fc.load(str(path))
    pd.testing.assert_frame_equal(frame, fc.load("MSFT"), check_freq=False)
    assert frame.attrs["name"] == "MSFT"


def test_long_file_with_a_ticker_column_is_a_panel(tmp_path: Path) -> None:
    # Kaggle's all_stocks_5yr.csv layout: date,open,high,low,close,volume,Name, sorted by Name.
    parts = []
    for name in ("KO", "MSFT", "XOM"):
        raw = _raw(name).rename(columns=str.lower)
        parts.append(raw.assign(Name=name))
    path = tmp_path / "all_stocks_5yr.csv"
    pd.concat(parts).to_csv(path, index=False)
    panel = fc.load(str(path))
    assert panel.index.names == ["ticker", "Date"]
    assert list(pd.unique(panel.index.get_level_values(0))) == ["KO", "MSFT", "XOM"]
    pd.testing.assert_frame_equal(panel.xs("MSFT"), fc.load("MSFT"), check_freq=False)


def test_long_frame_interleaved_by_date_with_a_named_ticker_column() -> None:
    rows = []
    for name in ("JPM", "KO"):
        rows.append(_raw(name).iloc[:300].assign(Company=name))
    frame = pd.concat(rows).sort_values(["Date", "Company"])  # one date, then the next
    with pytest.raises(DataError, match="duplicated timestamp"):
        fc.load(frame)  # without the option 'Company' is just another column
    panel = fc.load(frame, ticker_column="Company")
    assert panel.index.get_level_values(0).unique().tolist() == ["JPM", "KO"]
    assert len(panel.xs("KO")) == 300 and panel.xs("KO").index.is_monotonic_increasing


def test_load_accepts_a_dataframe() -> None:
    raw = _raw("KO")
    frame = fc.load(raw)
    pd.testing.assert_frame_equal(frame, fc.load("KO"), check_freq=False, check_like=True)
    indexed = fc.load(fc.load("KO"))
    pd.testing.assert_frame_equal(indexed, fc.load("KO"), check_freq=False)


def test_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "aapl_de.csv"
    _raw("AAPL").to_csv(path, sep=";", decimal=",", index=False)
    assert "67,7142" in path.read_text().splitlines()[1]
    frame = fc.load(str(path))
    pd.testing.assert_frame_equal(frame, fc.load("AAPL"), check_freq=False)


def test_semicolons_decimal_commas_and_thousands_points(tmp_path: Path) -> None:
    raw = _raw("AMZN").iloc[:40]
    text = ["Date;Open;High;Low;Close;Volume"]
    for row in raw.itertuples(index=False):
        prices = [
            f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
            for value in (row.Open, row.High, row.Low, row.Close)
        ]
        text.append(";".join([row.Date, *prices, f"{row.Volume:,}".replace(",", ".")]))
    path = tmp_path / "amzn.csv"
    path.write_text("\n".join(text) + "\n")
    frame = fc.load(str(path))
    assert frame["Close"].iloc[0] == pytest.approx(261.95)
    assert frame["Volume"].iloc[0] == 3879078


def test_plain_to_csv_with_a_row_number_index(tmp_path: Path) -> None:
    path = tmp_path / "nvda.csv"
    _raw("NVDA").to_csv(path)  # writes ",Date,Open,..." and 0, 1, 2, ...
    assert path.read_text().startswith(",Date,")
    pd.testing.assert_frame_equal(fc.load(str(path)), fc.load("NVDA"), check_freq=False)


def test_not_utf8_names_the_encoding_option(tmp_path: Path) -> None:
    raw = _raw("XOM").iloc[:50].assign(Bourse="Société Générale")
    path = tmp_path / "xom_latin1.csv"
    raw.to_csv(path, index=False, encoding="latin-1")
    with pytest.raises(DataError, match=r"is not UTF-8 .*pass encoding='latin-1' \(--encoding"):
        read_table(path)
    frame = fc.load(str(path), encoding="latin-1")
    assert len(frame) == 50
    with pytest.raises(DataError, match="not a text encoding"):
        fc.load(str(path), encoding="latin-99")


def test_price_only_file_names_the_close_features(tmp_path: Path) -> None:
    path = tmp_path / "price.csv"
    _raw("KO")[["Date", "Close"]].rename(columns={"Close": "Price"}).to_csv(path, index=False)
    frame = fc.load(str(path))
    assert list(frame.columns) == ["Close"]
    with pytest.raises(DataError, match=r"features=\['Close'\], --features Close"):
        fc.Forecaster(epochs=1, lookback=10, horizon=2).fit(frame)


def test_adj_close_only_file_uses_it_as_the_close_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "adj.csv"
    _raw("KO")[["Date", "Close"]].rename(columns={"Close": "Adj Close"}).to_csv(path, index=False)
    with pytest.warns(DataWarning, match="no 'Close' column; its 'Adj Close' is used"):
        frame = fc.load(str(path))
    assert list(frame.columns) == ["Close"]


def test_shared_awkward_files_still_load_or_say_why() -> None:
    # DHR: empty OHLC rows are dropped, a bar repaired and the ten trading days missing in
    # March 2015 reported; APTV: 44 rows load (its shortness is refused later, by the
    # lookback it is used with).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        fc.load("DHR")
    said = [str(warning.message) for warning in caught]
    assert any(text.startswith("DHR: dropped 2 row") for text in said)
    assert any(text.startswith("DHR: widened High/Low of 1 bar") for text in said)
    assert any(
        "DHR: 1 gap(s)" in text and "2015-03-06 to 2015-03-23 (17 days)" in text for text in said
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(fc.load("APTV")) == 44
