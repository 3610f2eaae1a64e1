"""Date text: day-first vs month-first decided by evidence, UTC offsets and zones kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecast as fc
from forecast.data.bundled import bundled_path
from forecast.data.timestamps import parse_dates, zone_name
from forecast.errors import DataError, DataWarning


def _bars_with_dates(name: str, dates: list[str]) -> pd.DataFrame:
    raw = pd.read_csv(bundled_path(name)).iloc[: len(dates)]
    return raw.assign(Date=dates)


def test_short_day_first_file_is_refused_naming_the_option(tmp_path: Path) -> None:
    # 1-12 March 2024 written day-first also reads as 3 January ... 3 December, in order.
    dates = [f"{day:02d}/03/2024" for day in range(1, 13)]
    path = tmp_path / "march.csv"
    _bars_with_dates("KO", dates).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"read equally well day-first and month-first.*dayfirst="):
        fc.load(str(path))
    frame = fc.load(str(path), dayfirst=True)
    assert frame.index[0] == pd.Timestamp("2024-03-01")
    assert frame.index[-1] == pd.Timestamp("2024-03-12")
    month_first = fc.load(str(path), dayfirst=False)
    assert month_first.index[-1] == pd.Timestamp("2024-12-03")
    same = fc.load(str(path), date_format="%d/%m/%Y")
    pd.testing.assert_index_equal(same.index, frame.index)


def test_long_day_first_file_loads_in_order_without_sort_advice(tmp_path: Path) -> None:
    raw = pd.read_csv(bundled_path("MSFT"))
    day_first = raw.assign(Date=pd.to_datetime(raw["Date"]).dt.strftime("%d/%m/%Y"))
    path = tmp_path / "msft_uk.csv"
    day_first.to_csv(path, index=False)
    pd.testing.assert_frame_equal(fc.load(str(path)), fc.load("MSFT"), check_freq=False)


def test_month_first_file_loads(tmp_path: Path) -> None:
    raw = pd.read_csv(bundled_path("JPM"))
    us = raw.assign(Date=pd.to_datetime(raw["Date"]).dt.strftime("%m/%d/%Y"))
    path = tmp_path / "jpm_us.csv"
    us.to_csv(path, index=False)
    pd.testing.assert_frame_equal(fc.load(str(path)), fc.load("JPM"), check_freq=False)


def test_order_decides_when_every_row_reads_both_ways() -> None:
    # Trading days on the 1st-12th of each month: day-first they run in order, month-first
    # they jump back and forth.
    days = pd.bdate_range("2023-01-01", "2023-12-31")
    days = days[days.day <= 12]
    text = pd.Index(days.strftime("%d.%m.%Y"))
    parsed = parse_dates(text)
    pd.testing.assert_index_equal(parsed, pd.DatetimeIndex(days), check_names=False)


def test_weekdays_decide_when_both_readings_are_in_order() -> None:
    # 2024-02-05 ... 2024-02-09 day-first (Mon-Fri) vs 2024-05-02 ... 2024-09-02 month-first
    # (both in order; the month-first ones include a Saturday and a Sunday... not trading days).
    text = pd.Index(["05/02/2024", "06/02/2024", "07/02/2024", "08/02/2024", "09/02/2024"])
    parsed = parse_dates(text)
    assert parsed[0] == pd.Timestamp("2024-02-05")


def test_dayfirst_that_contradicts_the_data_names_the_row() -> None:
    with pytest.raises(DataError, match=r"'13/01/2024' .* not a date when read month-first"):
        parse_dates(pd.Index(["12/01/2024", "13/01/2024"]), dayfirst=False)


def test_iso_dates_are_untouched() -> None:
    parsed = parse_dates(pd.Index(["2024-03-01", "2024-03-04"]))
    assert parsed[1] == pd.Timestamp("2024-03-04")


def _hourly_new_york(start: str, end: str) -> pd.DatetimeIndex:
    days = pd.bdate_range(start, end)
    stamps = [
        pd.Timestamp(f"{day:%Y-%m-%d} {hour:02d}:30", tz="America/New_York")
        for day in days
        for hour in range(9, 16)
    ]
    return pd.DatetimeIndex(stamps)


def _hourly_file(tmp_path: Path, index: pd.DatetimeIndex) -> Path:
    rng = np.random.default_rng(0)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, len(index))))
    frame = pd.DataFrame(
        {
            "Datetime": [stamp.isoformat() for stamp in index],
            "Open": close,
            "High": close * 1.001,
            "Low": close * 0.999,
            "Close": close,
            "Volume": 1000,
        }
    )
    path = tmp_path / "hourly.csv"
    frame.to_csv(path, index=False)
    return path


def test_hourly_bars_keep_their_offset(tmp_path: Path) -> None:
    index = _hourly_new_york("2024-01-08", "2024-02-02")  # EST throughout: -05:00
    frame = fc.load(str(_hourly_file(tmp_path, index)))
    assert frame.index.tz is not None
    assert frame.index[0] == pd.Timestamp("2024-01-08 09:30", tz="America/New_York")
    assert zone_name(frame.index) == "UTC-05:00"


def test_dst_crossing_bars_load_in_their_zone(tmp_path: Path) -> None:
    index = _hourly_new_york("2024-02-26", "2024-03-22")  # EST until 10 March, then EDT
    assert len({stamp.utcoffset() for stamp in index}) == 2
    frame = fc.load(str(_hourly_file(tmp_path, index)))
    assert zone_name(frame.index) == "America/New_York"
    assert (frame.index.hour >= 9).all() and (frame.index.hour <= 15).all()
    assert frame.index.equals(index.rename("Date"))


def test_tz_option_converts_or_localises(tmp_path: Path) -> None:
    index = _hourly_new_york("2024-02-26", "2024-03-22")
    frame = fc.load(str(_hourly_file(tmp_path, index)), tz="Europe/London")
    assert zone_name(frame.index) == "Europe/London"
    assert frame.index[0] == pd.Timestamp("2024-02-26 14:30", tz="Europe/London")
    daily = fc.load("KO", tz="America/New_York")
    assert zone_name(daily.index) == "America/New_York"
    with pytest.raises(DataError, match="tz='Mars/Olympus' is not a time zone"):
        fc.load("KO", tz="Mars/Olympus")


def test_offsets_no_zone_explains_stay_in_utc() -> None:
    text = pd.Index(["2024-01-02 10:00+01:00", "2024-01-02 11:00+07:00", "2024-01-02 12:00-03:00"])
    with pytest.warns(DataWarning, match="no known time zone explains.*kept in UTC"):
        parsed = parse_dates(text)
    assert zone_name(parsed) == "UTC"


def test_zone_survives_start_end_backtest_and_saved_files(tmp_path: Path) -> None:
    index = _hourly_new_york("2024-02-26", "2024-03-22")
    frame = fc.load(str(_hourly_file(tmp_path, index)), start="2024-03-01 09:30")
    assert frame.index[0] == pd.Timestamp("2024-03-01 09:30", tz="America/New_York")
    result = fc.backtest(fc.Baseline(method="naive", horizon=2), frame, test_size=14, folds=2)
    result.save(tmp_path / "run")
    written = pd.read_csv(tmp_path / "run" / "forecasts.csv")
    assert written["target_date"].str.endswith("-04:00").all()  # EDT after 10 March
    target = pd.to_datetime(written["target_date"], utc=True).dt.tz_convert("America/New_York")
    assert target.dt.strftime("%H:%M").isin([f"{h:02d}:30" for h in range(9, 16)]).all()
