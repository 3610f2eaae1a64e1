"""Forecast dates: exchange holidays (with a calendar), weekdays (without), sessions, zones."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import forecast as fc
from forecast.data import calendars, sources
from forecast.data.bundled import bundled_path
from forecast.data.calendars import describe_calendar, infer_calendar
from forecast.data.dates import future_dates
from forecast.errors import ConfigError

needs_calendars = pytest.mark.skipif(
    not calendars.calendar_available(), reason="the calendars extra is not installed"
)


@pytest.fixture
def without_exchange_calendars(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Behave as if exchange_calendars were not installed."""
    real_import = builtins.__import__

    def refuse(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "exchange_calendars" or name.startswith("exchange_calendars."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    monkeypatch.setattr(calendars, "calendar_available", lambda: False)
    monkeypatch.setattr(sources, "calendar_available", lambda: False)
    calendars._calendar_names.cache_clear()
    calendars._exchange.cache_clear()
    yield
    calendars._calendar_names.cache_clear()
    calendars._exchange.cache_clear()


def _aptv_to(last: str) -> pd.DataFrame:
    # APTV (bundled, real) runs 2017-12-05 ... 2018-02-07; cut it at a Friday before Christmas.
    frame = fc.load("APTV")
    return frame.loc[:last]


@needs_calendars
def test_bundled_us_stocks_skip_christmas_and_new_year() -> None:
    frame = _aptv_to("2017-12-22")
    assert frame.attrs["calendar"] == "XNYS"
    dates = future_dates(frame.index, 5, calendar=frame.attrs["calendar"])
    assert list(dates.strftime("%Y-%m-%d")) == [
        "2017-12-26",
        "2017-12-27",
        "2017-12-28",
        "2017-12-29",
        "2018-01-02",
    ]


@needs_calendars
def test_predict_follows_the_exchange_calendar_and_says_so() -> None:
    frame = fc.load("KO").loc[:"2017-12-22"]
    model = fc.Baseline(method="naive", horizon=3).fit(frame)
    forecast = model.predict(frame)
    assert list(forecast.index.strftime("%Y-%m-%d")) == ["2017-12-26", "2017-12-27", "2017-12-28"]
    assert forecast.attrs["calendar"] == "XNYS exchange calendar (holidays skipped)"


@needs_calendars
def test_calendar_inferred_from_a_file_of_us_stocks(tmp_path: Any) -> None:
    path = tmp_path / "jpm.csv"
    pd.read_csv(bundled_path("JPM")).to_csv(path, index=False)
    assert fc.load(str(path)).attrs["calendar"] == "XNYS"
    assert fc.load(str(path), calendar=None).attrs["calendar"] is None
    assert fc.load(str(path), calendar="xlon").attrs["calendar"] == "XLON"


@needs_calendars
def test_no_calendar_inferred_for_weekday_data_without_holidays(make_bars: Any) -> None:
    frame = make_bars(300)  # every weekday, holidays included
    assert infer_calendar(frame.index) is None
    assert fc.load(frame).attrs["calendar"] is None


@needs_calendars
def test_unknown_calendar_names_examples() -> None:
    with pytest.raises(ConfigError, match=r"calendar='XNYSE' is not an exchange calendar.*'XNYS'"):
        fc.load("KO", calendar="XNYSE")


def test_calendar_free_rule_steps_over_weekends_only(make_bars: Any) -> None:
    index = pd.bdate_range("2017-12-18", "2017-12-22", name="Date")
    dates = future_dates(index, 3)
    assert list(dates.strftime("%Y-%m-%d")) == ["2017-12-25", "2017-12-26", "2017-12-27"]


def test_without_the_library_auto_is_calendar_free_and_names_cost_an_install(
    without_exchange_calendars: None,
) -> None:
    frame = fc.load("APTV")
    assert frame.attrs["calendar"] is None
    model = fc.Baseline(method="naive", horizon=1).fit(frame.loc[:"2017-12-22"])
    forecast = model.predict(frame.loc[:"2017-12-22"])
    assert forecast.index[0] == pd.Timestamp("2017-12-25")
    assert "pip install 'forecast-rnn[calendars]'" in forecast.attrs["calendar"]
    assert "pip install 'forecast-rnn[calendars]'" in describe_calendar(None)
    with pytest.raises(
        ConfigError,
        match=r"need the exchange_calendars package; install it with "
        r"pip install 'forecast-rnn\[calendars\]'",
    ):
        fc.load("APTV", calendar="XNYS")


def _hourly(days: pd.DatetimeIndex, tz: str | None) -> pd.DatetimeIndex:
    stamps = [day + pd.Timedelta(hours=h, minutes=30) for day in days for h in range(9, 16)]
    index = pd.DatetimeIndex(stamps, name="Date")
    return index.tz_localize(tz) if tz else index


def test_hourly_forecasts_stay_inside_sessions_and_in_the_zone() -> None:
    # Friday 2024-03-08 15:30 New York; DST starts Sunday 10 March.
    index = _hourly(pd.bdate_range("2024-02-26", "2024-03-08"), "America/New_York")
    dates = future_dates(index, 9)
    assert str(dates.tz) == "America/New_York"
    assert list(dates.strftime("%m-%d %H:%M %z")) == [
        *(f"03-11 {h:02d}:30 -0400" for h in range(9, 16)),
        "03-12 09:30 -0400",
        "03-12 10:30 -0400",
    ]


def test_intraday_mid_session_continues_the_same_day() -> None:
    index = _hourly(pd.bdate_range("2024-01-08", "2024-01-19"), None)[:-3]  # ends 12:30 Friday
    dates = future_dates(index, 4)
    assert list(dates.strftime("%a %H:%M")) == ["Fri 13:30", "Fri 14:30", "Fri 15:30", "Mon 09:30"]


@needs_calendars
def test_intraday_skips_holidays_with_a_calendar() -> None:
    index = _hourly(pd.bdate_range("2023-12-11", "2023-12-22"), "America/New_York")
    dates = future_dates(index, 8, calendar="XNYS")
    assert dates[0].strftime("%Y-%m-%d %H:%M") == "2023-12-26 09:30"


def test_round_the_clock_bars_step_by_their_frequency() -> None:
    index = pd.date_range("2024-01-01", periods=200, freq="h", tz="UTC", name="Date")
    dates = future_dates(index, 3)
    assert dates[0] == index[-1] + pd.Timedelta(hours=1) and str(dates.tz) == "UTC"
    monthly = pd.date_range("2020-01-31", periods=24, freq="ME")
    assert future_dates(monthly, 1)[0] == pd.Timestamp("2022-01-31")


def test_backtest_target_dates_keep_the_zone(make_bars: Any) -> None:
    frame = make_bars(120)
    frame.index = frame.index.tz_localize("Europe/London")
    result = fc.backtest(fc.Baseline(method="naive", horizon=2), frame, test_size=20, folds=2)
    target = pd.DatetimeIndex(result.forecasts["target_date"])
    assert str(target.tz) == "Europe/London"
    assert np.all(target.isin(frame.index))


def test_backtest_test_start_is_wall_time_in_the_data_zone(make_bars: Any) -> None:
    frame = make_bars(120)
    frame.index = frame.index.tz_localize("Asia/Tokyo")
    result = fc.backtest(
        fc.Baseline(method="naive"), frame, test_start=str(frame.index[100].date())
    )
    assert pd.Timestamp(result.folds["test_start"].iloc[0]) == frame.index[100]
