"""Tests for forecast/data/yahoo.py: shapes, errors, cache, offline mode and ticker safety.

No test touches the network: ``yfinance.download`` is replaced by :class:`FakeDownload`, which
answers with frames built exactly like yfinance 1.x output (see ``tests/yahoo_frames.py``).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yfinance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yahoo_frames import (
    DELISTED,
    NEW_YORK,
    RATE_LIMITED,
    FakeDownload,
    download_frame,
    empty_history,
    history,
)
from yfinance.exceptions import YFRateLimitError

import forecast as fc
from forecast.data import yahoo
from forecast.data.yahoo import cache_dir, cache_path, cached_entries, fetch
from forecast.errors import ConfigError, DataError, DataSourceError

DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
OHLCV = ["Open", "High", "Low", "Close", "Volume"]


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own cache folder, online mode, and no real download."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(folder))
    monkeypatch.delenv("FORECAST_OFFLINE", raising=False)
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    return folder.resolve()


def serve(monkeypatch: pytest.MonkeyPatch, fake: FakeDownload) -> FakeDownload:
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


def aapl_msft() -> FakeDownload:
    # MSFT did not trade on 2024-01-03 (as if halted): a union-index day of NaN for it.
    return FakeDownload(
        {
            "AAPL": history(DAYS, start_price=185.0, seed=1),
            "MSFT": history([d for d in DAYS if d != "2024-01-03"], start_price=370.0, seed=2),
        }
    )


# -- shapes ------------------------------------------------------------------------------------


def test_single_ticker_multiindex_becomes_canonical(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    raw = download_frame({"AAPL": fake.histories["AAPL"]})
    assert raw.columns.names == ["Price", "Ticker"]
    assert ("Close", "AAPL") in raw.columns

    frames = fetch([" aapl "])

    assert list(frames) == ["AAPL"]
    frame = frames["AAPL"]
    assert list(frame.columns) == OHLCV
    assert (frame.dtypes == "float64").all()
    assert frame.index.name == "Date" and frame.index.tz is None
    assert list(frame.index.strftime("%Y-%m-%d")) == DAYS
    expected = fake.histories["AAPL"]
    assert frame["Close"].to_numpy() == pytest.approx(expected["Close"].to_numpy())
    assert frame["Volume"].to_numpy() == pytest.approx(expected["Volume"].to_numpy())


def test_download_is_called_with_documented_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    fetch(["AAPL"])
    fetch(["MSFT"], start="2024-01-02", end="2024-01-06")
    whole, ranged = fake.calls
    assert whole["tickers"] == ["AAPL"]
    for call in (whole, ranged):
        assert call["auto_adjust"] is True
        assert call["progress"] is False
        assert call["multi_level_index"] is True
        assert call["group_by"] == "column"
        assert call["ignore_tz"] is True
        assert call["threads"] is False
        assert call["interval"] == "1d"
    assert whole["period"] == "max" and "start" not in whole and "end" not in whole
    assert ranged["start"] == "2024-01-02" and ranged["end"] == "2024-01-06"
    assert "period" not in ranged


def test_two_tickers_split_and_drop_days_only_the_other_traded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = serve(monkeypatch, aapl_msft())
    raw = download_frame(fake.histories)
    assert raw[("Close", "MSFT")].isna().sum() == 1  # the shape fetch must undo

    frames = fetch(["MSFT", "AAPL"])

    assert fake.n_calls == 1 and fake.calls[0]["threads"] is True
    assert list(frames) == ["MSFT", "AAPL"]
    assert len(frames["AAPL"]) == 5
    assert len(frames["MSFT"]) == 4
    assert pd.Timestamp("2024-01-03") not in frames["MSFT"].index
    assert not frames["MSFT"].isna().any().any()
    assert list(frames["MSFT"].columns) == OHLCV


@pytest.mark.parametrize("tz", [NEW_YORK, "Asia/Tokyo", "Europe/London", "Australia/Sydney"])
def test_tz_aware_daily_index_keeps_the_local_date(
    monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    fake = serve(monkeypatch, FakeDownload({"SPY": history(DAYS, tz=tz)}, ignore_tz=False))
    assert yfinance.download(["SPY"]).index.tz is not None  # really tz-aware input

    frame = fetch(["SPY"])["SPY"]

    assert frame.index.tz is None and frame.index.name == "Date"
    assert list(frame.index.strftime("%Y-%m-%d")) == DAYS
    assert fake.n_calls == 2


def test_tz_aware_intraday_index_keeps_its_zone_across_dst(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # US clocks moved forward on 2024-03-10: 09:30 New York is 14:30 UTC before, 13:30 after.
    stamps = [
        f"{day} {hour}" for day in ("2024-03-08", "2024-03-11") for hour in ("09:30", "10:30")
    ]
    bars = history(stamps, intraday=True)
    fake = serve(monkeypatch, FakeDownload({"AAPL": bars}, ignore_tz=False))
    raw = yfinance.download(["AAPL"], interval="1h")
    assert raw.index.name == "Datetime" and str(raw.index.tz) == NEW_YORK

    frame = fetch(["AAPL"], interval="1h")["AAPL"]

    assert frame.index.name == "Date" and str(frame.index.tz) == NEW_YORK
    assert list(frame.index.strftime("%Y-%m-%d %H:%M")) == stamps
    assert fake.calls[-1]["interval"] == "1h" and fake.calls[-1]["ignore_tz"] is False


def test_single_level_columns_for_one_ticker_are_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flat = download_frame({"AAPL": history(DAYS)}).droplevel(1, axis=1).rename_axis(None, axis=1)
    monkeypatch.setattr(yfinance, "download", lambda *args, **kwargs: flat)
    frame = fetch("AAPL")["AAPL"]
    assert list(frame.columns) == OHLCV and len(frame) == 5


# -- errors from yfinance ----------------------------------------------------------------------


def test_unknown_ticker_names_the_symbol_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, FakeDownload({}))
    raw = yfinance.download(["XXXX"])
    assert raw.empty and ("Adj Close", "XXXX") in raw.columns  # yfinance's empty_df shape

    with pytest.raises(DataSourceError) as caught:
        fetch(["xxxx"])

    message = str(caught.value)
    assert message.startswith(
        "yfinance returned no data for ticker 'XXXX' (1d, all history) "
        f"(yfinance said: $XXXX: {DELISTED}); check the symbol on finance.yahoo.com"
    )
    assert message.count("\n") == 0 and message.endswith(".")
    assert fake.n_calls == 2
    assert caught.value.__cause__ is None


@pytest.mark.parametrize("ticker", ["SSL", "TIMEOUT", "CONNECTIONERROR", "NETWORK"])
def test_network_words_in_a_symbol_are_not_a_network_failure(
    monkeypatch: pytest.MonkeyPatch, ticker: str
) -> None:
    serve(monkeypatch, FakeDownload({}))
    with pytest.raises(DataSourceError, match=f"^yfinance returned no data for ticker '{ticker}'"):
        fetch([ticker])


def test_unknown_ticker_beside_a_good_one_caches_the_good_one(
    monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    fake = serve(monkeypatch, FakeDownload({"AAPL": history(DAYS)}))
    raw = yfinance.download(["AAPL", "XXXX"])
    assert raw[("Close", "XXXX")].isna().all()

    with pytest.raises(DataSourceError, match=r"no data for ticker 'XXXX' \(1d, from 2024-01-01\)"):
        fetch(["AAPL", "XXXX"], start="2024-01-01")

    assert [entry.ticker for entry in cached_entries()] == ["AAPL"]
    fetch(["AAPL"], start="2024-01-01")
    assert fake.n_calls == 2  # the second AAPL came from the cache


def test_empty_frame_without_a_logged_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yfinance, "download", lambda *args, **kwargs: pd.DataFrame())
    with pytest.raises(DataSourceError) as caught:
        fetch(["AAPL", "MSFT"], end="2024-01-01")
    assert str(caught.value).startswith(
        "yfinance returned no data for tickers 'AAPL', 'MSFT' (1d, until 2024-01-01); "
        "check the symbol"
    )


def test_rate_limit_raised_by_download(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    serve(monkeypatch, FakeDownload(raises=YFRateLimitError()))
    with pytest.raises(DataSourceError) as caught:
        fetch(["AAPL"])
    assert str(caught.value) == (
        "Yahoo Finance is rate-limiting this machine (YFRateLimitError); wait a few minutes "
        "and retry, or use offline mode (offline=True or FORECAST_OFFLINE=1) to read what is "
        f"already cached at {cache}."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_rate_limit_logged_by_download(monkeypatch: pytest.MonkeyPatch) -> None:
    # yfinance 1.x catches the error per ticker, logs it and returns an empty frame.
    serve(monkeypatch, FakeDownload({"AAPL": history(DAYS)}, errors={"MSFT": RATE_LIMITED}))
    with pytest.raises(DataSourceError, match=r"^Yahoo Finance is rate-limiting this machine"):
        fetch(["AAPL", "MSFT"])


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (ConnectionError("Connection refused"), "ConnectionError: Connection refused"),
        (TimeoutError("timed out"), "TimeoutError: timed out"),
        (OSError("Network is unreachable"), "OSError: Network is unreachable"),
        (RuntimeError("boom\nsecond line"), "RuntimeError: boom"),
    ],
)
def test_network_errors_become_one_sentence(
    monkeypatch: pytest.MonkeyPatch, cache: Path, error: Exception, shown: str
) -> None:
    serve(monkeypatch, FakeDownload(raises=error))
    with pytest.raises(DataSourceError) as caught:
        fetch(["AAPL"], start="2020-01-01", end="2021-01-01")
    assert str(caught.value) == (
        "downloading ticker 'AAPL' (1d, 2020-01-01 to 2021-01-01) from Yahoo Finance failed "
        f"({shown}); check the internet connection and retry, or use offline mode "
        f"(offline=True or FORECAST_OFFLINE=1) to read the cache at {cache}."
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_requests_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = pytest.importorskip("requests")
    serve(monkeypatch, FakeDownload(raises=requests.exceptions.ConnectionError("no route")))
    with pytest.raises(DataSourceError, match=r"failed \(ConnectionError: no route\); check"):
        fetch(["AAPL"])


def test_network_failure_logged_by_download(monkeypatch: pytest.MonkeyPatch) -> None:
    # Offline, yfinance logs the curl error for the timezone lookup, then "no timezone found".
    curl = (
        "Failed to get ticker 'AAPL' reason: Failed to perform, curl: (6) Could not resolve "
        "host: query2.finance.yahoo.com."
    )

    def offline_yahoo(*args: object, **kwargs: object) -> pd.DataFrame:
        logging.getLogger("yfinance").error(curl)
        return FakeDownload({})(*args, **kwargs)

    monkeypatch.setattr(yfinance, "download", offline_yahoo)
    with pytest.raises(DataSourceError) as caught:
        fetch(["AAPL"])
    assert str(caught.value).startswith(
        f"downloading ticker 'AAPL' (1d, all history) from Yahoo Finance failed ({curl}); "
        "check the internet connection"
    )


# -- cache -------------------------------------------------------------------------------------


def test_cache_hit_does_not_download_again(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    fake = serve(monkeypatch, aapl_msft())
    first = fetch(["AAPL", "MSFT"])
    again = fetch(["MSFT", "AAPL"])
    assert fake.n_calls == 1
    for name in ("AAPL", "MSFT"):
        pd.testing.assert_frame_equal(again[name], first[name], check_freq=False)
    assert sorted(path.name for path in cache.iterdir()) == [
        "AAPL_1d_max_now.parquet",
        "MSFT_1d_max_now.parquet",
    ]
    fetch(["AAPL"], start="2024-01-03")  # another key: another download, of AAPL only
    fetch(["AAPL"], interval="1wk")
    assert fake.n_calls == 3
    assert fake.calls[1]["tickers"] == ["AAPL"]


def test_only_missing_tickers_are_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    fetch(["AAPL"])
    fetch(["AAPL", "MSFT"])
    assert [call["tickers"] for call in fake.calls] == [["AAPL"], ["MSFT"]]


def test_refresh_downloads_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    fetch(["AAPL"], end="2024-02-01")
    fetch(["AAPL"], end="2024-02-01", refresh=True)
    assert fake.n_calls == 2
    with pytest.raises(ConfigError, match=r"^refresh=True needs the network but offline mode"):
        fetch(["AAPL"], refresh=True, offline=True)


def test_open_ended_entries_expire_closed_ones_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    fetch(["AAPL"])
    fetch(["AAPL"], end="2024-02-01")
    open_ended, closed = cache_path("AAPL"), cache_path("AAPL", end="2024-02-01")
    old = time.time() - yahoo.OPEN_END_MAX_AGE_S - 60
    for path in (open_ended, closed):
        os.utime(path, (old, old))
    fetch(["AAPL"], end="2024-02-01")
    assert fake.n_calls == 2
    fetch(["AAPL"])
    assert fake.n_calls == 3
    future = (pd.Timestamp.now() + pd.Timedelta(days=30)).strftime("%Y-%m-%d")
    fetch(["AAPL"], end=future)
    os.utime(cache_path("AAPL", end=future), (old, old))
    fetch(["AAPL"], end=future)  # an end in the future is still open
    assert fake.n_calls == 5


def test_forecast_cache_dir_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    serve(monkeypatch, aapl_msft())
    chosen = tmp_path / "elsewhere"
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(chosen))
    assert cache_dir() == chosen.resolve()
    fetch(["AAPL"])
    assert (chosen / "AAPL_1d_max_now.parquet").is_file()
    argument = tmp_path / "argument"
    fetch(["AAPL"], cache_dir=argument)  # the argument wins over the environment
    assert (argument / "AAPL_1d_max_now.parquet").is_file()


def test_default_cache_dir_is_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FORECAST_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == (tmp_path / ".cache" / "forecast" / "yahoo").resolve()
    assert not (tmp_path / ".cache").exists()


def test_cache_key_scheme() -> None:
    folder = cache_dir()
    assert cache_path("aapl") == folder / "AAPL_1d_max_now.parquet"
    assert cache_path("^gspc", start="2020-01-01", end=pd.Timestamp("2024-01-01")).name == (
        "^GSPC_1d_2020-01-01_2024-01-01.parquet"
    )
    assert cache_path("EURUSD=X", start="2024-03-01 09:30", interval="1h").name == (
        "EURUSD=X_1h_2024-03-01T093000_now.parquet"
    )
    aware = pd.Timestamp("2024-03-01 09:30", tz=NEW_YORK)
    assert cache_path("BRK-B", start=aware, interval="5m").name == (
        "BRK-B_5m_2024-03-01T143000Z_now.parquet"
    )


def test_cached_entries_parse_back(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    assert cached_entries() == []
    serve(monkeypatch, aapl_msft())
    fetch(["AAPL"], start="2024-01-02", end="2024-01-06")
    fetch(["MSFT"])
    (cache / ".tmp-AAPL_1d_max_now.parquet.abc123").write_bytes(b"half")
    (cache / "notes.txt").write_text("not an entry")
    entries = cached_entries()
    assert [(e.ticker, e.interval, e.start, e.end) for e in entries] == [
        ("AAPL", "1d", "2024-01-02", "2024-01-06"),
        ("MSFT", "1d", "max", "now"),
    ]
    assert entries[1].path == cache_path("MSFT")


def test_corrupt_cache_file_is_downloaded_again_online(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fake = serve(monkeypatch, aapl_msft())
    path = cache_path("AAPL")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"PAR1 this is not parquet")
    with caplog.at_level(logging.WARNING, logger="forecast.data.yahoo"):
        frame = fetch(["AAPL"])["AAPL"]
    assert fake.n_calls == 1 and len(frame) == 5
    assert "unreadable" in caplog.text
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame, check_freq=False)


def test_corrupt_cache_file_offline_says_to_delete_it() -> None:
    path = cache_path("AAPL")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    with pytest.raises(DataSourceError) as caught:
        fetch(["AAPL"], offline=True)
    message = str(caught.value)
    assert message.startswith(f"the cache file {path} for ticker 'AAPL' cannot be read (")
    assert message.endswith(
        "delete it and run once online (or 'forecast data fetch AAPL') to fetch it again."
    )


def test_parquet_that_is_not_bars_counts_as_corrupt(monkeypatch: pytest.MonkeyPatch) -> None:
    path = cache_path("AAPL")
    path.parent.mkdir(parents=True)
    pd.DataFrame({"x": [1, 2]}).to_parquet(path)
    with pytest.raises(DataSourceError, match="cannot be read"):
        fetch(["AAPL"], offline=True)
    fake = serve(monkeypatch, aapl_msft())
    assert list(fetch(["AAPL"])["AAPL"].columns) == OHLCV
    assert fake.n_calls == 1


def test_killed_writer_leaves_no_entry(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    fake = serve(monkeypatch, aapl_msft())
    real_to_parquet = pd.DataFrame.to_parquet

    def dies_halfway(self: pd.DataFrame, path: str | os.PathLike[str], **kwargs: object) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        fetch(["AAPL"])
    assert list(cache.iterdir()) == []  # neither the entry nor a temporary file
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real_to_parquet)
    assert len(fetch(["AAPL"])["AAPL"]) == 5
    assert fake.n_calls == 2


def test_unwritable_cache_does_not_lose_the_download(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    serve(monkeypatch, aapl_msft())

    def disk_full(self: pd.DataFrame, path: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full)
    with caplog.at_level(logging.WARNING, logger="forecast.data.yahoo"):
        assert len(fetch(["AAPL"])["AAPL"]) == 5
    assert "could not write cache file" in caplog.text


def test_concurrent_writers_and_readers_see_whole_files(
    monkeypatch: pytest.MonkeyPatch, cache: Path
) -> None:
    serve(monkeypatch, aapl_msft())
    expected = fetch(["AAPL"])["AAPL"]
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                fetch(["AAPL"], refresh=True)
        except BaseException as exc:  # collected and re-checked below
            failures.append(exc)

    def read() -> None:
        try:
            for _ in range(20):
                frame = fetch(["AAPL"], offline=True)["AAPL"]
                pd.testing.assert_frame_equal(frame, expected, check_freq=False)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [path.name for path in cache.iterdir()] == ["AAPL_1d_max_now.parquet"]


# -- offline mode ------------------------------------------------------------------------------


def test_offline_without_cache_entry(cache: Path) -> None:
    with pytest.raises(DataSourceError) as caught:
        fetch(["aapl"], offline=True)
    assert str(caught.value) == (
        f"ticker 'AAPL' (1d, all history) is not in the cache at {cache} and offline mode is "
        "on; run once online or 'forecast data fetch AAPL' to fill the cache, or turn offline "
        "mode off (offline=False, or unset FORECAST_OFFLINE)."
    )
    assert not cache.exists()


def test_offline_from_environment_lists_every_missing_ticker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve(monkeypatch, aapl_msft())
    fetch(["AAPL"], start="2024-01-01")
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    monkeypatch.setenv("FORECAST_OFFLINE", "1")
    with pytest.raises(
        DataSourceError,
        match=(
            r"^tickers 'MSFT', 'KO' \(1d, from 2024-01-01\) are not in the cache at .* and "
            r"offline mode is on; run once online or 'forecast data fetch MSFT KO'"
        ),
    ):
        fetch(["AAPL", "MSFT", "KO"], start="2024-01-01")
    assert len(fetch(["AAPL"], start="2024-01-01")["AAPL"]) == 5
    assert len(fetch(["AAPL"], start="2024-01-01", offline=False)["AAPL"]) == 5


def test_offline_reads_a_cached_entry_of_any_age(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, aapl_msft())
    online = fetch(["AAPL", "MSFT"])
    old = time.time() - 30 * 24 * 3600
    os.utime(cache_path("AAPL"), (old, old))
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    offline = fetch(["AAPL", "MSFT"], offline=True)
    for name in ("AAPL", "MSFT"):
        pd.testing.assert_frame_equal(offline[name], online[name], check_freq=False)


def test_offline_never_imports_yfinance(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, aapl_msft())
    fetch(["AAPL"])
    monkeypatch.setitem(sys.modules, "yfinance", None)  # any "import yfinance" now fails
    assert len(fetch(["AAPL"], offline=True)["AAPL"]) == 5
    with pytest.raises(DataSourceError, match="offline mode is on"):
        fetch(["MSFT"], offline=True)
    with pytest.raises(DataSourceError, match=r"^yfinance is not installed; install it with"):
        fetch(["MSFT"])  # the same call online does try to import it


# -- ticker safety -----------------------------------------------------------------------------

ESCAPES = [
    "../x",
    "/etc/passwd",
    "a/b",
    "..",
    ".",
    "",
    "   ",
    "A\x00B",
    "a\\b",
    "..\\..\\x",
    "X" * 21,
    "C:evil",
    "AAPL_1d",
    ".hidden",
    "-x",
    "=X",
    "AA PL",
    "~/x",
    "%2e%2e",
    "ÄPFEL",
]


@pytest.mark.parametrize("ticker", ESCAPES)
def test_unsafe_tickers_are_refused_before_disk_or_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cache: Path, ticker: str
) -> None:
    fake = serve(monkeypatch, aapl_msft())
    before = sorted(tmp_path.rglob("*"))
    for offline in (False, True):
        with pytest.raises(DataSourceError, match="is not a valid Yahoo symbol; use 1 to 20"):
            fetch(["AAPL", ticker], offline=offline)
    with pytest.raises(DataSourceError):
        cache_path(ticker)
    assert fake.n_calls == 0
    assert sorted(tmp_path.rglob("*")) == before
    assert not cache.exists()


@pytest.mark.parametrize(
    "ticker",
    [
        "AAPL",
        "brk-b",
        "^GSPC",
        "EURUSD=X",
        "RDS.A",
        "0700.HK",
        "ES=F",
        "BTC-USD",
        "US0378331005",
        "X" * 20,
    ],
)
def test_real_yahoo_symbols_pass(ticker: str) -> None:
    path = cache_path(ticker)
    assert path.parent == cache_dir()
    assert path.name == f"{ticker.upper()}_1d_max_now.parquet"


def test_non_string_tickers_are_refused() -> None:
    with pytest.raises(DataSourceError, match="ticker 42 is a int, not a string"):
        fetch(["AAPL", 42])  # type: ignore[list-item]
    with pytest.raises(DataSourceError, match="no ticker given"):
        fetch([])


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.one_of(st.text(), st.text(alphabet="AZaz09.-^=_/\\:~ \x00", max_size=30)))
def test_any_string_is_refused_or_stays_in_the_cache(ticker: str) -> None:
    folder = cache_dir()
    try:
        path = cache_path(ticker)
    except DataSourceError as exc:
        assert "not a valid Yahoo symbol" in str(exc)
        return
    assert path.parent == folder
    assert path.name == f"{ticker.strip().upper()}_1d_max_now.parquet"
    assert os.path.commonpath([folder, path]) == str(folder)
    assert not folder.exists()


# -- other arguments ---------------------------------------------------------------------------


def test_bad_interval_and_dates_are_refused_before_download(cache: Path) -> None:
    with pytest.raises(ConfigError, match=r"^interval '1D' is not a yfinance bar size; use one"):
        fetch(["AAPL"], interval="1D")
    with pytest.raises(DataError, match=r"^start 'soon' is not a date; use YYYY-MM-DD\.$"):
        fetch(["AAPL"], start="soon")
    with pytest.raises(DataError, match=r"^end 20240101 is not a date"):
        fetch(["AAPL"], end=20240101)  # type: ignore[arg-type]
    with pytest.raises(
        DataError, match=r"^start 2024-02-01 is not before end 2024-01-01; pass an earlier"
    ):
        fetch(["AAPL"], start="2024-02-01", end="2024-01-01")
    assert not cache.exists()


def test_offline_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("1", "true", "YES", " on "):
        monkeypatch.setenv("FORECAST_OFFLINE", value)
        with pytest.raises(DataSourceError, match="offline mode is on"):
            fetch(["AAPL"])
    for value in ("0", "", "no"):
        monkeypatch.setenv("FORECAST_OFFLINE", value)
        with pytest.raises(DataSourceError, match="failed"):  # went online (fake raises)
            fetch(["AAPL"])


# -- through forecast.load ---------------------------------------------------------------------


def test_load_yahoo_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = serve(monkeypatch, aapl_msft())
    frame = fc.load("yahoo:aapl")
    assert frame.attrs["name"] == "AAPL"
    assert list(frame.columns) == OHLCV
    assert frame.index.name == "Date" and frame.index.is_monotonic_increasing
    assert (frame["High"] >= frame[["Open", "Close"]].max(axis=1)).all()

    panel = fc.load(["yahoo:AAPL", "yahoo:MSFT"], start="2024-01-03")
    assert panel.index.names == ["ticker", "Date"]
    assert len(panel.loc["AAPL"]) == 4 and len(panel.loc["MSFT"]) == 3
    offline = fc.load("yahoo:AAPL", offline=True)
    pd.testing.assert_frame_equal(offline, frame, check_freq=False)
    # One call for AAPL, one for AAPL and MSFT from 2024-01-03; offline came from the cache.
    assert [call["tickers"] for call in fake.calls] == [["AAPL"], ["AAPL", "MSFT"]]


def test_load_yahoo_unknown_symbol(monkeypatch: pytest.MonkeyPatch) -> None:
    serve(monkeypatch, FakeDownload({}))
    with pytest.raises(DataSourceError, match="no data for ticker 'NOPE'"):
        fc.load("yahoo:NOPE")


# -- the builders are yfinance's own shapes ----------------------------------------------------


class _History:
    _last_error: str | None = None


def test_builders_match_real_yfinance(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the real ``yfinance.download`` with only ``Ticker.history`` replaced (no network)."""
    multi = pytest.importorskip("yfinance.multi")
    if not hasattr(multi, "Ticker"):
        pytest.skip("this yfinance does not build download() on multi.Ticker")
    monkeypatch.setattr(yfinance, "download", multi.download)
    histories = aapl_msft().histories
    hourly = history(["2024-03-08 09:30", "2024-03-08 10:30"], intraday=True)

    class FakeTicker:
        def __init__(self, ticker: str) -> None:
            self.ticker = ticker.upper()
            self._price_history = _History()

        def history(self, interval: str = "1d", **kwargs: object) -> pd.DataFrame:
            if self.ticker == "LIMITED":
                raise YFRateLimitError()
            if self.ticker not in histories:
                self._price_history._last_error = DELISTED
                logging.getLogger("yfinance").error(f"${self.ticker}: {DELISTED}")
                return empty_history()
            return (hourly if interval == "1h" else histories[self.ticker]).copy()

    monkeypatch.setattr(multi, "Ticker", FakeTicker)
    arguments = {"auto_adjust": True, "progress": False, "threads": False}
    cases = [
        (["AAPL", "MSFT"], {}, {"AAPL": histories["AAPL"], "MSFT": histories["MSFT"]}, True),
        (["XXXX"], {}, {"XXXX": None}, True),
        (["AAPL", "XXXX"], {}, {"AAPL": histories["AAPL"], "XXXX": None}, True),
        (["AAPL"], {"interval": "1h"}, {"AAPL": hourly}, False),
    ]
    for tickers, extra, built, ignore_tz in cases:
        real = yfinance.download(tickers, **arguments, **extra)
        pd.testing.assert_frame_equal(real, download_frame(built, ignore_tz=ignore_tz))

    # And fetch, fed by the real code, turns its swallowed errors into ours.
    assert len(fetch(["AAPL", "MSFT"])["MSFT"]) == 4
    with pytest.raises(DataSourceError, match=r"no data for ticker 'XXXX' .*possibly delisted"):
        fetch(["XXXX"])
    with pytest.raises(DataSourceError, match=r"^Yahoo Finance is rate-limiting this machine"):
        fetch(["LIMITED"])
