"""Validation rules: each bad input gets one clear sentence naming the problem and the fix."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import forecast as fc
from forecast.errors import DataError, DataWarning


def bars(n: int = 10, start: str = "2024-01-01") -> pd.DataFrame:
    index = pd.bdate_range(start, periods=n, name="Date")
    close = np.linspace(100.0, 110.0, n)
    return pd.DataFrame(
        {"Open": close - 0.5, "High": close + 1.0, "Low": close - 1.0, "Close": close},
        index=index,
    )


OHLC = ["Open", "High", "Low", "Close"]


def test_clean_frame_passes_unchanged() -> None:
    frame = bars()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fc.validate(frame, columns=OHLC)
    pd.testing.assert_frame_equal(out, frame)
    assert out.attrs["validation"] == []


def test_missing_column_names_it_and_the_fix() -> None:
    with pytest.raises(DataError, match=r"has no column 'Volume' \(columns present: Open, High"):
        fc.validate(bars(), columns=["Volume"])


def test_non_date_index() -> None:
    frame = bars().reset_index(drop=True)
    with pytest.raises(DataError, match=r"is not indexed by dates.*set a DatetimeIndex"):
        fc.validate(frame, columns=OHLC)


def test_unsorted_dates() -> None:
    frame = bars().iloc[[0, 2, 1, 3]]
    with pytest.raises(DataError, match=r"not sorted by date .*sort it with frame.sort_index\(\)"):
        fc.validate(frame, columns=OHLC)


def test_duplicated_dates() -> None:
    frame = pd.concat([bars(3), bars(3).iloc[[1]]]).sort_index()
    with pytest.raises(DataError, match=r"1 duplicated timestamp\(s\), first 2024-01-02; keep one"):
        fc.validate(frame, columns=OHLC)


def test_strings_in_numeric_columns() -> None:
    frame = bars().astype({"Close": object})
    frame.iloc[3, frame.columns.get_loc("Close")] = "n/a!"
    with pytest.raises(DataError, match=r"column 'Close' .* non-numeric values such as 'n/a!'"):
        fc.validate(frame, columns=OHLC)


def test_nan_policy_error_names_rows() -> None:
    frame = bars()
    frame.iloc[2, 3] = np.nan
    frame.iloc[4, 0] = np.inf
    with pytest.raises(DataError, match=r"NaN/inf values in 2 row\(s\) \(2024-01-03, 2024-01-05\)"):
        fc.validate(frame, columns=OHLC, nan_policy="error")


def test_nan_policy_drop_reports_what_it_did() -> None:
    frame = bars()
    frame.iloc[2, 3] = np.nan
    with pytest.warns(DataWarning, match=r"dropped 1 row\(s\) with NaN values \(2024-01-03\)"):
        out = fc.validate(frame, columns=OHLC)
    assert len(out) == len(frame) - 1
    assert np.isfinite(out.to_numpy()).all()
    assert "dropped 1 row" in out.attrs["validation"][0]


def test_nan_policy_ffill_carries_last_value_and_drops_leading() -> None:
    frame = bars()
    frame.iloc[0, 3] = np.nan
    frame.iloc[5, 3] = np.nan
    with pytest.warns(DataWarning, match="forward-filled"):
        out = fc.validate(frame, columns=["Close"], nan_policy="ffill", bad_bars="ignore")
    assert len(out) == len(frame) - 1
    assert out.loc[frame.index[5], "Close"] == frame["Close"].iloc[4]


def test_unknown_policy() -> None:
    with pytest.raises(DataError, match="nan_policy='zero' is not a policy; use one of 'drop'"):
        fc.validate(bars(), nan_policy="zero")  # type: ignore[arg-type]


def test_bad_bar_repaired_by_default_and_refused_on_request() -> None:
    frame = bars()
    frame.iloc[3, frame.columns.get_loc("Low")] = frame["Close"].iloc[3] + 5
    with pytest.warns(DataWarning, match=r"widened High/Low of 1 bar\(s\)"):
        out = fc.validate(frame, columns=OHLC)
    row = out.iloc[3]
    assert row["Low"] <= min(row["Open"], row["Close"]) and row["High"] >= row["Close"]
    with pytest.raises(DataError, match="High/Low do not cover Open and Close"):
        fc.validate(frame, columns=OHLC, bad_bars="error")


def test_non_positive_prices_refused_for_returns() -> None:
    frame = bars()
    frame.iloc[4, :] = [0.0, 1.0, 0.0, 0.0]
    with pytest.raises(DataError, match=r"non-positive price .* choose representation='levels'"):
        fc.validate(frame, columns=["Close"], require_positive=True)


def test_too_short_for_lookback_and_horizon() -> None:
    with pytest.raises(DataError, match="has 10 usable rows but at least 65 are needed"):
        fc.validate(bars(10), columns=OHLC, min_length=65)


def test_empty_frame() -> None:
    with pytest.raises(DataError, match="has no rows"):
        fc.validate(bars().iloc[:0], columns=OHLC)


def test_absurd_magnitudes_refused() -> None:
    frame = bars()
    frame.iloc[1, 3] = 1e300
    with pytest.raises(DataError, match="beyond any real price"):
        fc.validate(frame, columns=["Close"])


def test_tz_aware_index_keeps_its_zone() -> None:
    frame = bars()
    frame.index = frame.index.tz_localize("America/New_York")
    out = fc.validate(frame, columns=OHLC)
    assert str(out.index.tz) == "America/New_York"
    assert out.index[0] == pd.Timestamp("2024-01-01", tz="America/New_York")


def test_input_is_never_modified() -> None:
    frame = bars()
    frame.iloc[2, 3] = np.nan
    before = frame.copy()
    with pytest.warns(DataWarning):
        fc.validate(frame, columns=OHLC)
    pd.testing.assert_frame_equal(frame, before)


def test_panel_validated_per_ticker() -> None:
    panel = pd.concat({"A": bars(10), "B": bars(8, "2024-02-01")}, names=["ticker", "Date"])
    out = fc.validate(panel, columns=OHLC, min_length=5)
    assert list(out.index.names) == ["ticker", "Date"]
    with pytest.raises(DataError, match=r"\[B\] has 8 usable rows but at least 9"):
        fc.validate(panel, columns=OHLC, min_length=9)


def test_constant_series_is_refused_saying_why() -> None:
    frame = fc.load("KO")
    frame[OHLC] = 40.25
    with pytest.raises(DataError, match=r"'Open' of KO is constant \(40.25 on all 1259 rows\).*"
                       r"it cannot be scored"):
        fc.validate(frame, columns=OHLC, name="KO", require_moves=True)
    fc.validate(frame.iloc[-5:], columns=OHLC)  # a flat window to predict from is fine
    with pytest.raises(DataError, match="is constant"):
        fc.load(frame)
    with pytest.raises(DataError, match="is constant"):
        fc.backtest(fc.Baseline(method="naive"), frame, test_size=20, folds=2)


def test_gap_of_months_is_reported_with_its_dates() -> None:
    frame = fc.load("XOM")
    cut = frame.loc[(frame.index < "2015-03-02") | (frame.index >= "2015-07-01")]
    with pytest.warns(DataWarning, match=r"1 gap\(s\) in the dates over 10 times the usual step "
                      r"\(1 day\): 2015-02-27 to 2015-07-01 \(124 days\)"):
        fc.validate(cut, columns=OHLC, name="XOM")


def test_holidays_and_long_weekends_are_not_gaps() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("AAPL", "MSFT", "APTV"):
            fc.load(name)
