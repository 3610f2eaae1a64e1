"""The command line's options for reading data: date order, encoding, tickers, zone, calendar."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from forecast.cli import cli
from forecast.data.bundled import bundled_path
from forecast.data.calendars import calendar_available


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="forecast")


@pytest.fixture
def march(tmp_path: Path) -> Path:
    raw = pd.read_csv(bundled_path("KO")).iloc[:12]
    path = tmp_path / "march.csv"
    raw.assign(Date=[f"{day:02d}/03/2024" for day in range(1, 13)]).to_csv(path, index=False)
    return path


def test_ambiguous_dates_name_the_options(march: Path) -> None:
    result = invoke("data", "show", str(march))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "--dayfirst" in result.stderr and "--date-format" in result.stderr


@pytest.mark.parametrize(
    "options",
    [["--dayfirst"], ["--date-format", "%d/%m/%Y"]],
    ids=["dayfirst", "date-format"],
)
def test_day_first_options(march: Path, options: list[str]) -> None:
    result = invoke("data", "show", str(march), "--rows", "1", *options)
    assert result.exit_code == 0, result.output
    assert "2024-03-01" in result.stdout and "2024-03-12" in result.stdout
    month_first = invoke("data", "show", str(march), "--rows", "1", "--monthfirst")
    assert "2024-12-03" in month_first.stdout


def test_encoding_option(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    pd.read_csv(bundled_path("XOM")).iloc[:30].assign(Venue="Bourse de Paris é").to_csv(
        path, index=False, encoding="latin-1"
    )
    refused = invoke("data", "show", str(path))
    assert refused.exit_code == 1
    assert "not UTF-8" in refused.stderr and "--encoding latin-1" in refused.stderr
    assert invoke("data", "show", str(path), "--encoding", "latin-1").exit_code == 0


def test_ticker_column_option(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    parts = [pd.read_csv(bundled_path(n)).iloc[:30].assign(Company=n) for n in ("KO", "JPM")]
    pd.concat(parts).to_csv(path, index=False)
    result = invoke("data", "show", str(path), "--ticker-column", "Company", "--rows", "1")
    assert result.exit_code == 0, result.output
    assert "KO" in result.stdout and "JPM" in result.stdout


def test_tz_option(tmp_path: Path) -> None:
    result = invoke("data", "show", "KO", "--tz", "America/New_York", "--rows", "1")
    assert result.exit_code == 0, result.output
    assert "2013-02-08 00:00:00-05:00" in result.stdout


@pytest.mark.skipif(not calendar_available(), reason="the calendars extra is not installed")
def test_calendar_option_is_checked() -> None:
    assert invoke("data", "show", "KO", "--rows", "1", "--calendar", "none").exit_code == 0
    bad = invoke("data", "show", "KO", "--calendar", "XNYSE")
    assert bad.exit_code == 1 and "is not an exchange calendar" in bad.stderr


@pytest.mark.skipif(not calendar_available(), reason="the calendars extra is not installed")
def test_predict_states_its_calendar_and_skips_christmas(tmp_path: Path) -> None:
    path = tmp_path / "ko.csv"
    pd.read_csv(bundled_path("KO")).query("Date <= '2017-12-22'").to_csv(path, index=False)
    model = tmp_path / "model"
    fitted = invoke(
        "fit",
        "--data",
        str(path),
        "--epochs",
        "1",
        "--hidden-size",
        "4",
        "--lookback",
        "10",
        "--horizon",
        "2",
        "--out",
        str(model),
        "-q",
    )
    assert fitted.exit_code == 0, fitted.output
    result = invoke("predict", "--model", str(model), "--data", str(path))
    assert result.exit_code == 0, result.output
    assert "2017-12-26" in result.stdout and "2017-12-25" not in result.stdout
    assert "Forecast dates: XNYS exchange calendar (holidays skipped)" in result.stderr
    free = invoke("predict", "--model", str(model), "--data", str(path), "--calendar", "none")
    assert "2017-12-25" in free.stdout
