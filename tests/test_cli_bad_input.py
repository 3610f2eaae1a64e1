"""The command line against bad input: one exact sentence, the right exit code, no traceback.

Each class of bad input (missing or unreadable data, bad columns, unsorted or duplicated
dates, NaN under ``--nan-policy error``, too little data, bad option values and config files,
damaged or hostile model directories, offline with an empty cache, tickers that try to leave
the cache folder) goes through ``forecast.cli.cli`` with click's ``CliRunner``:

- data and model errors exit 1 with exactly ``Error: <message>`` on stderr, nothing on stdout;
- usage errors exit 2 with click's usage hint and ``Error: <message>`` as the last line;
- neither shows a traceback (the runner's exception is the ``SystemExit`` click raises).

``docs/RELIABILITY.md`` holds the same cases as a table.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yfinance
from click.testing import CliRunner, Result
from yahoo_frames import FakeDownload

import forecast as fc
from forecast.cli import cli

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--epochs", "1", "--hidden-size", "4", "--lookback", "5", "--test-size", "20"]
TINY += ["--folds", "2", "-q"]
SYMBOL_RULE = (
    "is not a valid Yahoo symbol; use 1 to 20 letters, digits, '.', '-', '^' or '=' "
    "(e.g. 'AAPL', 'BRK-B', '^GSPC', 'EURUSD=X')."
)


class Armed:
    """Unpickling this creates ``marker``: proof that code from the model directory ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


@pytest.fixture(scope="module")
def bundled_lines() -> list[str]:
    return (ROOT / "datasets" / "AAPL.csv").read_text().splitlines()


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundled_lines: list[str]) -> Path:
    """A folder of bad files; its own cache; online but with no network."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FORECAST_OFFLINE", raising=False)
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    header, rows = bundled_lines[0], bundled_lines[1:]

    def write(name: str, lines: list[str]) -> None:
        (tmp_path / name).write_text("\n".join(lines) + "\n")

    def with_close(row: str, value: str) -> str:
        cells = row.split(",")
        cells[4] = value
        return ",".join(cells)

    write("bars.csv", [header, *rows[:300]])
    write("unsorted.csv", [header, rows[1], rows[0], *rows[2:200]])
    write("duplicated.csv", [header, rows[0], rows[0], *rows[1:200]])
    write("gap.csv", [header, *rows[:4], with_close(rows[4], ""), *rows[5:200]])
    write("words.csv", [header, *rows[:4], with_close(rows[4], "abc"), *rows[5:200]])
    write("short.csv", [header, *rows[:20]])
    write("last.csv", [header.replace("Close", "Last"), *rows[:200]])
    write("epoch.csv", ["Date,Close", "1577836800,1", "1577923200,2"])
    write("header.csv", [header])
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "bad.toml").write_text("epochs = [\n")
    (tmp_path / "unknown.toml").write_text("epochz = 3\n")
    return tmp_path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="forecast")


def assert_one_line_error(result: Result, message: str) -> None:
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def assert_usage_error(result: Result, message: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    # One line, as the README promises: the error first, then where to read more.
    assert re.fullmatch(
        re.escape(f"Error: {message.rstrip('.')}") + r"; see 'forecast( [a-z]+)* --help'\.\n",
        result.stderr,
    ), result.stderr


# -- data errors: exit 1 ---------------------------------------------------------------------

DATA_ERRORS = {
    "missing file": (
        ["backtest", "--data", "missing.csv"],
        "file 'missing.csv' does not exist; check the path (or pass a bundled dataset name "
        "such as 'AAPL').",
    ),
    "a folder, not a file": (
        ["backtest", "--data", "folder.csv"],
        "'folder.csv' is a folder, not a file; pass a CSV or Parquet file inside it.",
    ),
    "unknown bundled dataset": (
        ["backtest", "--data", "bundled:NOPE"],
        "no bundled dataset named 'NOPE'; choose one of AAPL, AMZN, APTV, DHR, JPM, KO, LNT, "
        "MSFT, NVDA, XOM (see 'forecast data list').",
    ),
    "unknown name, not a ticker": (
        ["backtest", "--data", "my_prices"],
        f"ticker 'my_prices' {SYMBOL_RULE}",
    ),
    "bad column (target)": (
        ["backtest", "--data", "bars.csv", "--target", "Price"],
        "bars has no column 'Price' (columns present: Open, High, Low, Close, Volume); rename "
        "a column to 'Price' or choose other features/target.",
    ),
    "bad column (file without Close)": (
        ["backtest", "--data", "last.csv"],
        "last has no column 'Close' (columns present: Open, High, Low, Last, Volume); rename "
        "a column to 'Close' or choose other features/target.",
    ),
    "unsorted dates": (
        ["backtest", "--data", "unsorted.csv"],
        "unsorted is not sorted by date (2013-02-08 comes after 2013-02-11); sort it with "
        "frame.sort_index().",
    ),
    "duplicated dates": (
        ["backtest", "--data", "duplicated.csv"],
        "duplicated has 1 duplicated timestamp(s), first 2013-02-08; keep one row per date "
        "(e.g. frame[~frame.index.duplicated()]).",
    ),
    "NaN with --nan-policy error": (
        ["backtest", "--data", "gap.csv", "--nan-policy", "error"],
        "gap has NaN values in 1 row(s) (2013-02-14); pass nan_policy='drop' or 'ffill', or "
        "clean the data.",
    ),
    "text in a price column": (
        ["backtest", "--data", "words.csv"],
        "column 'Close' of words holds non-numeric values such as 'abc' (at 2013-02-14); "
        "clean or remove those rows.",
    ),
    "numbers as dates": (
        ["backtest", "--data", "epoch.csv"],
        "the 'Date' column holds numbers (such as 1577836800), not dates; convert them first, "
        "e.g. pd.to_datetime(frame['Date'], unit='s') for Unix seconds.",
    ),
    "empty file": (
        ["backtest", "--data", "empty.csv"],
        "could not read 'empty.csv' as a table (No columns to parse from file); check that "
        "it is a valid CSV or Parquet file.",
    ),
    "header only": (
        ["backtest", "--data", "header.csv"],
        "header has no rows; load a non-empty series of bars.",
    ),
    "not a table": (
        ["backtest", "--data", "binary.csv"],
        "could not read 'binary.csv' as a table (Error tokenizing data. C error: Expected 1 "
        "fields in line 3, saw 2); check that it is a valid CSV or Parquet file.",
    ),
    "too short for lookback + horizon": (
        ["fit", "--data", "short.csv", "--lookback", "30", "--out", "model"],
        "short has 20 usable rows but at least 36 are needed (lookback + horizon); use a "
        "shorter lookback or horizon, or longer history.",
    ),
    "too short for the folds": (
        ["backtest", "--data", "short.csv"],
        "20 bars cannot hold 2 folds of 10 test bars plus a gap of 0 and a training slice; "
        "shorten test_size or use more data.",
    ),
    "path-escaping ticker": (
        ["fit", "--data", "yahoo:../../etc/passwd", "--out", "model"],
        f"ticker '../../etc/passwd' {SYMBOL_RULE}",
    ),
    "path-escaping ticker (data fetch)": (
        ["data", "fetch", "../evil"],
        f"ticker '../evil' {SYMBOL_RULE}",
    ),
    "interval yfinance does not offer": (
        ["fit", "--data", "yahoo:AAPL", "--interval", "7x", "--offline", "--out", "model"],
        "interval '7x' is not a yfinance bar size; use one of 1m, 2m, 5m, 15m, 30m, 60m, 90m, "
        "1h, 1d, 5d, 1wk, 1mo, 3mo.",
    ),
    "refused combination": (
        ["backtest", "--topology", "n_to_n", "--bidirectional"],
        "bidirectional=True would let N-to-N outputs see future inputs; use topology n_to_1 "
        "or n_to_m, or bidirectional=False.",
    ),
    "unknown device": (
        ["backtest", "--device", "tpu"],
        "device='tpu' is not a torch device; use 'auto', 'cpu' or 'cuda'.",
    ),
}


@pytest.mark.parametrize("case", DATA_ERRORS)
def test_data_errors_exit_1_with_one_exact_line(case: str, workdir: Path) -> None:
    args, message = DATA_ERRORS[case]
    extra = TINY if args[0] == "backtest" else ["--epochs", "1", "-q"] if args[0] == "fit" else []

    result = invoke(*args, *extra)

    assert_one_line_error(result, message)
    assert not (workdir / "model").exists()


def test_offline_with_nothing_cached_names_the_cache_and_the_fix(workdir: Path) -> None:
    result = invoke("fit", "--data", "yahoo:AAPL", "--offline", "--out", "model", "--epochs", "1")

    assert_one_line_error(
        result,
        f"ticker 'AAPL' (1d, all history) is not in the cache at {workdir / 'cache'} and "
        "offline mode is on; run once online or 'forecast data fetch AAPL' to fill the "
        "cache, or turn offline mode off (offline=False, or unset FORECAST_OFFLINE).",
    )


def test_offline_mode_from_the_environment_never_touches_the_network(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORECAST_OFFLINE", "1")

    result = invoke("data", "show", "yahoo:MSFT")

    assert_one_line_error(
        result,
        f"ticker 'MSFT' (1d, all history) is not in the cache at {workdir / 'cache'} and "
        "offline mode is on; run once online or 'forecast data fetch MSFT' to fill the "
        "cache, or turn offline mode off (offline=False, or unset FORECAST_OFFLINE).",
    )


def test_a_single_fold_runs() -> None:
    # Until forecast/backtest.py cut one fold by hand, sklearn's TimeSeriesSplit refused
    # n_splits=1 and `--folds 1` (accepted by IntRange(1)) ended in a traceback.
    result = invoke("backtest", *TINY, "--folds", "1")

    assert result.exit_code == 0, (result.output, result.exception)
    assert "Traceback" not in result.output
    assert result.stdout.splitlines()[0].split()[0] == "mae"


# -- usage errors: exit 2 --------------------------------------------------------------------

USAGE_ERRORS = {
    "option out of range": (
        ["backtest", "--epochs", "0"],
        "Invalid value for '--epochs': 0 is not in the range x>=1.",
    ),
    "unknown choice": (
        ["backtest", "--cell", "transformer"],
        "Invalid value for '--cell': 'transformer' is not one of 'rnn', 'lstm', 'gru'.",
    ),
    "negative learning rate": (
        ["backtest", "--lr", "-1"],
        "Invalid value for '--lr': -1.0 is not in the range x>0.",
    ),
    "unknown NaN policy": (
        ["backtest", "--nan-policy", "skip"],
        "Invalid value for '--nan-policy': 'skip' is not one of 'drop', 'ffill', 'error'.",
    ),
    "unknown precision": (
        ["fit", "--precision", "float16"],
        "Invalid value for '--precision': 'float16' is not one of 'float32', 'bfloat16'.",
    ),
    "zero lanes": (
        ["backtest", "--n-jobs", "0"],
        "Invalid value for '--n-jobs': 0 is not in the range x>=1.",
    ),
    "not a date": (
        ["backtest", "--test-start", "soon"],
        "Invalid value for '--test-start': 'soon' is not a date; use YYYY-MM-DD.",
    ),
    "unknown config key": (
        ["backtest", "--config", "unknown.toml"],
        "Invalid value for '--config': unknown option(s) epochz in 'unknown.toml'; see "
        "'forecast backtest --help'.",
    ),
    "bad TOML": (
        ["backtest", "--config", "bad.toml"],
        "Invalid value for '--config': cannot read 'bad.toml' as TOML (Invalid value (at end "
        "of document)).",
    ),
    "missing config file": (
        ["backtest", "--config", "nowhere.toml"],
        "Invalid value for '--config': File 'nowhere.toml' does not exist.",
    ),
    "missing model directory": (
        ["predict", "--model", "nowhere"],
        "Invalid value for '--model': Directory 'nowhere' does not exist.",
    ),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_usage_errors_exit_2_with_one_error_line(case: str) -> None:
    args, message = USAGE_ERRORS[case]

    assert_usage_error(invoke(*args), message)


# -- model directories: exit 1, nothing executed ---------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = fc.Forecaster(lookback=5, horizon=2, hidden_size=4, epochs=1, progress=False)
    return model.fit(fc.load("AAPL").iloc[:200]).save(tmp_path_factory.mktemp("m") / "model")


def a_copy(saved_model: Path, workdir: Path) -> Path:
    return Path(shutil.copytree(saved_model, workdir / "copy"))


def test_a_corrupt_model_directory_is_one_line(saved_model: Path, workdir: Path) -> None:
    folder = a_copy(saved_model, workdir)
    (folder / "config.json").write_text("{")

    assert_one_line_error(
        invoke("predict", "--model", "copy"),
        "config.json in 'copy' is not valid JSON (Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)); save the model again.",
    )


def test_a_pickle_in_the_model_directory_is_refused_and_never_run(
    saved_model: Path, workdir: Path
) -> None:
    folder = a_copy(saved_model, workdir)
    marker = workdir / "MARKER"
    (folder / "model.pkl").write_bytes(pickle.dumps(Armed(str(marker))))

    assert_one_line_error(
        invoke("predict", "--model", "copy"),
        "'copy' contains 'model.pkl', which may be a pickle; forecast never loads pickles "
        "because they can run code; remove it or re-save the model.",
    )
    assert not marker.exists()


def test_tampered_weights_are_refused(saved_model: Path, workdir: Path) -> None:
    folder = a_copy(saved_model, workdir)
    weights = bytearray((folder / "weights.safetensors").read_bytes())
    weights[-1] ^= 0x01
    (folder / "weights.safetensors").write_bytes(bytes(weights))

    assert_one_line_error(
        invoke("predict", "--model", "copy"),
        "weights.safetensors in 'copy' does not match its config.json, which records another "
        "digest (SHA-256): the weights were damaged, truncated or replaced; save the model "
        "again.",
    )


def test_a_model_from_a_future_version_is_refused(saved_model: Path, workdir: Path) -> None:
    folder = a_copy(saved_model, workdir)
    document = json.loads((folder / "config.json").read_text())
    document["format_version"] = 2
    (folder / "config.json").write_text(json.dumps(document))

    assert_one_line_error(
        invoke("predict", "--model", "copy"),
        "'copy' has model format version 2 but this forecast reads version 1; re-save it with "
        "a matching forecast version.",
    )


def test_weights_of_another_shape_are_refused(saved_model: Path, workdir: Path) -> None:
    folder = a_copy(saved_model, workdir)
    wider = fc.Forecaster(lookback=5, horizon=2, hidden_size=8, epochs=1, progress=False)
    other = wider.fit(fc.load("AAPL").iloc[:200]).save(workdir / "wider")
    data = (other / "weights.safetensors").read_bytes()
    (folder / "weights.safetensors").write_bytes(data)
    document = json.loads((folder / "config.json").read_text())
    document["weights_sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "config.json").write_text(json.dumps(document))

    result = invoke("predict", "--model", "copy")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: tensor '")
    assert "but the config needs" in result.stderr
    assert result.stderr.endswith("; the files come from different models.\n")


def test_predicting_on_data_without_the_fitted_columns_is_one_line(saved_model: Path) -> None:
    assert_one_line_error(
        invoke("predict", "--model", str(saved_model), "--data", "last.csv"),
        "Forecaster was fitted on columns ['Open', 'High', 'Low', 'Close'] but the data has "
        "['Open', 'High', 'Low', 'Last', 'Volume'] (missing ['Close']); pass data with the "
        "same columns.",
    )
