"""Tests for forecast/cli.py: every command through click's CliRunner, plus the installed
``forecast`` executable in a subprocess.

Exit codes: 0 success, 2 usage error, 1 data/model error printed as one ``Error:`` line
with no traceback. No test touches the network: ``yfinance.download`` is replaced by
``FakeDownload`` (tests/yahoo_frames.py) and the cache lives in ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
import yfinance
from click.testing import CliRunner, Result
from yahoo_frames import FakeDownload, history

import forecast as fc
import forecast.cli
from forecast.cli import cli

TINY_MODEL = ["--epochs", "1", "--hidden-size", "4", "--lookback", "10"]
TINY = [*TINY_MODEL, "--test-size", "50", "--folds", "2"]
AAPL_NEXT_DAYS = ["2018-02-08", "2018-02-09", "2018-02-12", "2018-02-13", "2018-02-14"]
FETCH_DAYS = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own folder, with its own cache, online, and no real download."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FORECAST_OFFLINE", raising=False)
    monkeypatch.setattr(yfinance, "download", FakeDownload(raises=AssertionError("network")))
    return tmp_path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small LSTM fitted on bundled AAPL by 'forecast fit', shared by the predict tests."""
    out = tmp_path_factory.mktemp("models") / "aapl"
    ok("fit", "--data", "AAPL", *TINY_MODEL, "--out", str(out), "-q")
    return out


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="forecast")


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def assert_one_line_error(result: Result, message: str) -> None:
    """Exit 1, nothing on stdout, exactly ``Error: message`` on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not a crash
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def assert_usage_error(result: Result, message: str) -> None:
    """Exit 2 and one line, as the README promises: the error first, then where to read more."""
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    expected = re.escape(f"Error: {message.rstrip('.')}") + r"; see 'forecast( [a-z]+)* --help'\."
    assert re.fullmatch(expected, lines[0]), lines[0]


# -- help, version ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["backtest"],
        ["fit"],
        ["predict"],
        ["models"],
        ["data"],
        ["data", "list"],
        ["data", "fetch"],
        ["data", "show"],
    ],
    ids=" ".join,
)
def test_help_of_every_command_shows_examples(command: list[str]) -> None:
    result = ok(*command, "--help")

    assert result.stdout.startswith(f"Usage: forecast {' '.join(command)} [OPTIONS]")
    examples = result.stdout.split("Examples:\n", 1)[1].splitlines()
    assert examples[0].strip().startswith(f"forecast {' '.join(command)}")
    assert ok(*command, "-h").stdout == result.stdout


def test_top_level_help_says_where_to_start() -> None:
    result = ok("--help")

    assert "Start here:" in result.stdout
    for command in ("backtest", "fit", "predict", "models", "data"):
        assert re.search(rf"^  {command} ", result.stdout, re.MULTILINE)


def test_version() -> None:
    assert ok("--version").stdout == f"forecast, version {fc.__version__}\n"


# -- models, data list/show/fetch ----------------------------------------------------------------


def test_models_lists_every_cell_topology_and_baseline() -> None:
    text = ok("models").stdout
    listed = json.loads(ok("models", "--json").stdout)

    names = [model["name"] for model in listed]
    assert len(names) == 12 + 5
    assert {"rnn/1_to_n", "lstm/n_to_m", "gru/n_to_n", "naive", "ridge"} <= set(names)
    for name in names:
        assert name in text


def test_data_list_shows_the_bundled_datasets() -> None:
    text = ok("data", "list").stdout
    table = json.loads(ok("data", "list", "--json").stdout)

    aapl = next(row for row in table if row["name"] == "AAPL")
    assert aapl == {"name": "AAPL", "start": "2013-02-08", "end": "2018-02-07", "rows": 1259}
    assert {row["name"] for row in table} == set(fc.datasets())
    assert re.search(r"^\s*AAPL\s+2013-02-08\s+2018-02-07\s+1259$", text, re.MULTILINE)


def test_data_show_prints_the_first_and_last_rows() -> None:
    lines = ok("data", "show", "AAPL", "--rows", "2").stdout.splitlines()

    assert lines[0] == "AAPL: 1259 bars"
    assert lines[3].startswith("2013-02-08")
    assert lines[4].startswith("2013-02-11")
    assert lines[5] == "..."
    assert lines[-1].startswith("2018-02-07")
    assert len(lines) == 10


def test_data_show_json_holds_every_row() -> None:
    records = json.loads(ok("data", "show", "MSFT", "--json").stdout)

    assert len(records) == 1259
    assert set(records[0]) == {"Date", "Open", "High", "Low", "Close", "Volume"}


def test_data_show_of_a_missing_file_is_one_error_line() -> None:
    assert_one_line_error(
        invoke("data", "show", "NOPE.csv"),
        "file 'NOPE.csv' does not exist; check the path (or pass a bundled dataset name "
        "such as 'AAPL').",
    )


def test_data_fetch_downloads_into_the_cache_for_offline_use(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeDownload({"SPY": history(FETCH_DAYS, start_price=470.0)})
    monkeypatch.setattr(yfinance, "download", fake)

    text = ok("data", "fetch", "SPY").stdout
    monkeypatch.setenv("FORECAST_OFFLINE", "1")
    shown = ok("data", "show", "yahoo:SPY", "--json").stdout

    assert text == "SPY: 5 bars, 2024-01-02 00:00:00 to 2024-01-08 00:00:00\n"
    assert [p.name for p in (workdir / "cache").iterdir()] == ["SPY_1d_max_now.parquet"]
    assert fake.n_calls == 1
    assert [row["Date"][:10] for row in json.loads(shown)] == FETCH_DAYS


def test_data_fetch_json_and_date_range(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeDownload({"SPY": history(FETCH_DAYS), "QQQ": history(FETCH_DAYS, seed=3)})
    monkeypatch.setattr(yfinance, "download", fake)

    rows = json.loads(
        ok(
            "data", "fetch", "SPY", "QQQ", "--start", "2024-01-02", "--end", "2024-01-09", "--json"
        ).stdout
    )

    assert [(row["ticker"], row["rows"]) for row in rows] == [("SPY", 5), ("QQQ", 5)]
    assert fake.calls[0]["start"] is not None


def test_data_fetch_of_an_unknown_ticker_is_one_error_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(yfinance, "download", FakeDownload({}))

    result = invoke("data", "fetch", "ZZZZ")

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: yfinance returned no data for ticker 'ZZZZ' (1d, ")
    assert result.stderr.count("\n") == 1


def test_data_fetch_needs_a_ticker() -> None:
    assert_usage_error(invoke("data", "fetch"), "Missing argument 'TICKERS...'.")


# -- backtest ------------------------------------------------------------------------------------


def test_backtest_prints_the_metrics_table_and_a_verdict() -> None:
    result = ok("backtest", *TINY, "-q")

    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "mae",
        "rmse",
        "mape",
        "mase",
        "theil_u",
        "direction_accuracy",
        "dm_pvalue",
    ]
    assert [line.split()[0] for line in lines[2:6]] == ["naive", "drift", "seasonal_naive", "lstm"]
    assert lines[6] == ""
    assert re.fullmatch(
        r"lstm (beats|does not beat|is significantly worse than) the naive .*", lines[7]
    )
    assert result.stderr == ""


def test_backtest_json_parses(workdir: Path) -> None:
    payload = json.loads(ok("backtest", *TINY, "--json", "-q").stdout)

    assert set(payload) == {"verdict", "metrics", "config", "timings", "out"}
    assert [row["model"] for row in payload["metrics"]] == [
        "naive",
        "drift",
        "seasonal_naive",
        "lstm",
    ]
    assert payload["metrics"][0]["mase"] == 1.0
    assert payload["config"]["data"] == "AAPL"
    assert payload["config"]["test_size"] == 50
    assert payload["config"]["params"]["epochs"] == 1
    assert payload["out"] is None


def test_backtest_out_writes_the_report(workdir: Path) -> None:
    result = ok("backtest", *TINY, "--out", "runs/aapl")

    report = workdir / "runs" / "aapl"
    assert (report / "report.html").is_file()
    assert {"metrics.csv", "forecasts.csv", "config.json"} <= {p.name for p in report.iterdir()}
    assert result.stderr == f"Report written to {Path('runs/aapl') / 'report.html'}\n"


def test_quiet_backtest_writes_nothing_to_stderr(workdir: Path) -> None:
    result = ok("backtest", *TINY, "--out", "runs/quiet", "--quiet")

    assert result.stderr == ""
    assert (workdir / "runs" / "quiet" / "report.html").is_file()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--cell", "gru", "--topology", "n_to_1"], {"cell": "gru", "topology": "n_to_1"}),
        (
            ["--cell", "rnn", "--nonlinearity", "relu", "--topology", "n_to_n"],
            {"cell": "rnn", "nonlinearity": "relu", "topology": "n_to_n"},
        ),
        (
            ["--topology", "1_to_n", "--decoder", "direct"],
            {"topology": "1_to_n", "decoder": "direct"},
        ),
        (
            ["--bidirectional", "--multi-step", "direct", "--topology", "n_to_1"],
            {"bidirectional": True},
        ),
        (
            ["--representation", "levels", "--scaler", "minmax", "--loss", "huber"],
            {"representation": "levels", "scaler": "minmax", "loss": "huber"},
        ),
        (
            ["--optimizer", "adamw", "--weight-decay", "0.01", "--lr", "0.005", "--seed", "3"],
            {"optimizer": "adamw", "weight_decay": 0.01, "lr": 0.005, "seed": 3},
        ),
        (["--patience", "0", "--clip-grad-norm", "0"], {"patience": None, "clip_grad_norm": None}),
        (["--features", "Close, Open"], {"features": ["Close", "Open"]}),
        (["--teacher-forcing", "0.5", "--dropout", "0.1", "--num-layers", "2"], {"num_layers": 2}),
        (
            ["--window", "sliding", "--train-length", "300"],
            {"window": "sliding", "train_length": 300},
        ),
        (["--refit", "0", "--gap", "2", "--step", "2"], {"refit": 0, "gap": 2, "step": 2}),
        (
            ["--baselines", "mean,ridge", "--cost-bps", "5"],
            {"baselines": ["naive", "mean", "ridge"], "cost_bps": 5.0},
        ),
        (["--test-start", "2018-01-02"], {"test_start": "2018-01-02", "test_size": 26}),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_backtest_options_reach_the_run(options: list[str], expected: dict[str, Any]) -> None:
    payload = json.loads(ok("backtest", *TINY, *options, "--json", "-q").stdout)

    config = payload["config"]
    for key, value in expected.items():
        assert (config[key] if key in config else config["params"][key]) == value
    assert config["model_name"] == config["params"]["cell"]
    models = {row["model"] for row in payload["metrics"]}
    assert models == {config["model_name"], *config["baselines"]}


# -- --config FILE.toml --------------------------------------------------------------------------


def test_config_file_sets_options_and_flags_override_it(workdir: Path) -> None:
    (workdir / "run.toml").write_text(
        "\n".join(
            [
                'data = "MSFT"',
                "epochs = 1",
                "hidden-size = 4",
                "lookback = 10",
                "test_size = 50",
                "folds = 2",
                'cell = "gru"',
                'features = ["Open", "Close"]',
                "json = true",
                "quiet = true",
            ]
        ),
        encoding="utf-8",
    )

    payload = json.loads(ok("backtest", "--config", "run.toml", "--cell", "rnn").stdout)

    config = payload["config"]
    assert config["data"] == "MSFT"
    assert config["test_size"] == 50
    assert config["params"]["cell"] == "rnn"  # the flag wins
    assert config["params"]["hidden_size"] == 4
    assert config["params"]["features"] == ["Open", "Close"]


def test_config_file_with_an_unknown_key_is_a_usage_error(workdir: Path) -> None:
    (workdir / "bad.toml").write_text('colour = "red"\nepochs = 1\n', encoding="utf-8")

    assert_usage_error(
        invoke("backtest", "--config", "bad.toml"),
        "Invalid value for '--config': unknown option(s) colour in 'bad.toml'; see "
        "'forecast backtest --help'.",
    )


def test_config_file_that_is_not_toml_is_a_usage_error(workdir: Path) -> None:
    (workdir / "broken.toml").write_text("epochs = = 1\n", encoding="utf-8")

    result = invoke("fit", "--config", "broken.toml", "--out", "m")

    assert result.exit_code == 2
    assert "Error: Invalid value for '--config': cannot read 'broken.toml' as TOML" in result.stderr


def test_missing_config_file_is_a_usage_error() -> None:
    assert_usage_error(
        invoke("models", "--config", "nope.toml"),
        "Invalid value for '--config': File 'nope.toml' does not exist.",
    )


# -- fit and predict -----------------------------------------------------------------------------


def test_fit_saves_a_model_that_loads(workdir: Path) -> None:
    result = ok("fit", *TINY_MODEL, "--out", "runs/model")

    assert re.fullmatch(
        r"Saved lstm n_to_m model to runs/model \(1 epochs, best 1, \d+\.\d s\)\.\n", result.stdout
    )
    model = fc.load_model(workdir / "runs" / "model")
    assert isinstance(model, fc.Forecaster)
    assert (model.lookback, model.hidden_size, model.epochs) == (10, 4, 1)


def test_fit_json_summarises_the_training(workdir: Path) -> None:
    summary = json.loads(
        ok("fit", *TINY_MODEL, "--topology", "n_to_1", "--json", "--out", "m").stdout
    )

    assert summary["out"] == "m"
    assert summary["data"] == "AAPL"
    assert summary["rows"] == 1259
    assert summary["epochs_run"] == 1
    assert summary["best_epoch"] == 1


def test_predict_prints_the_next_business_days(model_dir: Path) -> None:
    lines = ok("predict", "--model", str(model_dir)).stdout.splitlines()

    assert lines[0].split() == ["Close"]
    assert lines[1].split() == ["Date"]
    assert [line.split()[0] for line in lines[2:]] == AAPL_NEXT_DAYS


def test_predict_json_parses(model_dir: Path) -> None:
    records = json.loads(ok("predict", "--model", str(model_dir), "--json").stdout)

    assert [record["Date"][:10] for record in records] == AAPL_NEXT_DAYS
    assert all(100 < record["Close"] < 250 for record in records)


def test_predict_output_writes_a_csv(model_dir: Path, workdir: Path) -> None:
    result = ok("predict", "--model", str(model_dir), "--output", "next.csv")

    assert result.stdout == ""
    assert result.stderr == "Wrote 5 forecasts to next.csv\n"
    written = pd.read_csv(workdir / "next.csv", index_col="Date", parse_dates=True)
    expected = fc.load_model(model_dir).predict(fc.load("AAPL"))
    pd.testing.assert_frame_equal(written, expected, check_freq=False, rtol=1e-12)
    assert ok("predict", "--model", str(model_dir), "--output", "b.csv", "-q").stderr == ""


def test_predict_on_a_panel_gives_ticker_rows(model_dir: Path) -> None:
    records = json.loads(
        ok("predict", "--model", str(model_dir), "--data", "AAPL,MSFT", "--json").stdout
    )

    assert [record["ticker"] for record in records] == ["AAPL"] * 5 + ["MSFT"] * 5


def test_predict_without_data_forecasts_from_the_data_the_model_was_fitted_on(
    workdir: Path,
) -> None:
    ok("fit", "--data", "MSFT", *TINY_MODEL, "--out", "msft", "-q")
    saved = json.loads((workdir / "msft" / "config.json").read_text())

    implicit = json.loads(ok("predict", "--model", "msft", "--json").stdout)
    explicit = json.loads(ok("predict", "--model", "msft", "--data", "MSFT", "--json").stdout)
    from_aapl = json.loads(ok("predict", "--model", "msft", "--data", "AAPL", "--json").stdout)

    assert saved["data"] == {
        "source": "MSFT",
        "start": None,
        "end": None,
        "interval": "1d",
        "nan_policy": "drop",
    }
    assert implicit == explicit
    assert implicit != from_aapl


def test_predict_finds_a_fitted_file_from_another_folder(workdir: Path) -> None:
    fc.load("MSFT").iloc[-300:].to_csv(workdir / "prices.csv")
    ok("fit", "--data", "prices.csv", *TINY_MODEL, "--start", "2016-01-01", "--out", "m", "-q")
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)

    implicit = json.loads(ok("predict", "--model", "../m", "--json").stdout)
    explicit = json.loads(
        ok(
            "predict",
            "--model",
            "../m",
            "--data",
            "../prices.csv",
            "--start",
            "2016-01-01",
            "--json",
        ).stdout
    )

    assert implicit == explicit


def test_predict_refuses_a_model_that_does_not_name_its_data(workdir: Path) -> None:
    model = fc.Forecaster(lookback=10, hidden_size=4, epochs=1, progress=False)
    model.fit(fc.load("MSFT")).save(workdir / "api-model")

    assert_one_line_error(
        invoke("predict", "--model", "api-model"),
        "the model in 'api-model' does not record the data it was fitted on; pass --data "
        "with the dataset, file or ticker to forecast from.",
    )


def test_predict_with_a_missing_model_dir_is_a_usage_error() -> None:
    assert_usage_error(
        invoke("predict", "--model", "nowhere"),
        "Invalid value for '--model': Directory 'nowhere' does not exist.",
    )


def test_predict_with_a_pickle_in_the_model_dir_is_one_error_line(
    model_dir: Path, workdir: Path
) -> None:
    copy = shutil.copytree(model_dir, workdir / "copy")
    torch.save({"weights": torch.zeros(2)}, copy / "model.pt")

    assert_one_line_error(
        invoke("predict", "--model", "copy"),
        "'copy' contains 'model.pt', which may be a pickle; forecast never loads pickles "
        "because they can run code; remove it or re-save the model.",
    )


def test_predict_on_data_without_the_fitted_columns_is_one_error_line(
    model_dir: Path, workdir: Path
) -> None:
    fc.load("AAPL")[["Close"]].to_csv(workdir / "close.csv")

    assert_one_line_error(
        invoke("predict", "--model", str(model_dir), "--data", "close.csv"),
        "Forecaster was fitted on columns ['Open', 'High', 'Low', 'Close'] but the data has "
        "['Close'] (missing ['Open', 'High', 'Low']); pass data with the same columns.",
    )


# -- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backtest", "--cell", "lstmx"],
            "Invalid value for '--cell': 'lstmx' is not one of 'rnn', 'lstm', 'gru'.",
        ),
        (["backtest", "--folds", "0"], "Invalid value for '--folds': 0 is not in the range x>=1."),
        (
            ["backtest", "--test-start", "notadate"],
            "Invalid value for '--test-start': 'notadate' is not a date; use YYYY-MM-DD.",
        ),
        (
            ["fit", "--out", "m", "--start", "2015-13-01"],
            "Invalid value for '--start': '2015-13-01' is not a date; use YYYY-MM-DD.",
        ),
        (["fit"], "Missing option '--out'."),
        (["predict"], "Missing option '--model'."),
        (["data", "show"], "Missing argument 'SOURCE'."),
        (
            ["data", "show", "AAPL", "--rows", "0"],
            "Invalid value for '--rows': 0 is not in the range x>=1.",
        ),
        (["nonsense"], "No such command 'nonsense'."),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    assert_usage_error(invoke(*args), message)


def test_an_unknown_option_is_a_usage_error() -> None:
    result = invoke("backtest", "--zzz")

    assert result.exit_code == 2
    # click words this differently across versions; the option must be named either way.
    assert re.search(r"^Error: No such option:? '?--zzz", result.stderr, re.MULTILINE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["backtest", "--data", "NOPE.csv"],
            "file 'NOPE.csv' does not exist; check the path (or pass a bundled dataset name such "
            "as 'AAPL').",
        ),
        (
            ["backtest", "--data", "bundled:NOPE"],
            "no bundled dataset named 'NOPE'; choose one of "
            + ", ".join(fc.datasets())
            + " (see 'forecast data list').",
        ),
        (
            ["backtest", *TINY, "--baselines", "naive,bogus"],
            "method='bogus' is not a baseline; choose one of naive, seasonal_naive, drift, mean, "
            "ridge.",
        ),
        (
            ["backtest", *TINY, "--window", "sliding"],
            "window='sliding' needs train_length (bars per training slice), e.g. train_length=500.",
        ),
        (
            ["backtest", *TINY, "--topology", "n_to_n", "--bidirectional"],
            "bidirectional=True would let N-to-N outputs see future inputs; use topology n_to_1 "
            "or n_to_m, or bidirectional=False.",
        ),
        (
            ["fit", *TINY_MODEL, "--start", "2030-01-01", "--out", "m"],
            "AAPL has no rows between 2030-01-01 and None (it covers 2013-02-08 to 2018-02-07); "
            "widen the date range.",
        ),
    ],
    ids=lambda value: " ".join(value[:3]) if isinstance(value, list) else None,
)
def test_data_and_model_errors_exit_1_with_one_line(args: list[str], message: str) -> None:
    assert_one_line_error(invoke(*args), message)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible here")
def test_asking_for_a_missing_gpu_is_one_error_line() -> None:
    assert_one_line_error(
        invoke("fit", *TINY_MODEL, "--device", "cuda", "--out", "m"),
        "device='cuda' was asked but no CUDA GPU is visible; use device='cpu'.",
    )


def test_a_path_that_cannot_be_written_is_one_error_line(workdir: Path) -> None:
    (workdir / "taken").write_text("a file, not a folder")

    result = invoke("fit", *TINY_MODEL, "--out", "taken/model")

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr == (
        "Error: cannot write --out 'taken/model': 'taken' is a file, not a folder; "
        "choose another --out.\n"
    )


@pytest.mark.parametrize("command", [["backtest", *TINY], ["fit", *TINY_MODEL]], ids=lambda c: c[0])
def test_an_unwritable_out_is_refused_before_any_work(
    command: list[str], workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "taken").write_text("a file, not a folder")

    def no_work(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the data was loaded before --out was checked")

    monkeypatch.setattr(fc, "load", no_work)

    assert_one_line_error(
        invoke(*command, "--out", "taken/run"),
        "cannot write --out 'taken/run': 'taken' is a file, not a folder; choose another --out.",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_out_in_a_folder_without_write_permission_names_the_users_path(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setattr(fc, "load", lambda *_a, **_k: pytest.fail("loaded before the check"))
    try:
        result = invoke("fit", *TINY_MODEL, "--out", "locked/model")
    finally:
        locked.chmod(0o700)

    assert_one_line_error(
        result,
        "cannot write --out 'locked/model': permission denied in 'locked'; choose another "
        "--out or fix its permissions.",
    )


def test_interrupt_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(forecast.cli.cli, "main", interrupted)

    with pytest.raises(SystemExit) as exit_info:
        forecast.cli.main()

    assert exit_info.value.code == 130
    assert capsys.readouterr().err == "Interrupted; nothing was written.\n"


# -- warnings ------------------------------------------------------------------------------------


@pytest.fixture
def gappy_csv(workdir: Path) -> Path:
    frame = fc.load("AAPL").iloc[:40].copy()
    frame.iloc[5, frame.columns.get_loc("Close")] = float("nan")
    path = workdir / "gappy.csv"
    frame.to_csv(path)
    return path


def test_data_warnings_are_one_line_each_and_quiet_hides_them(gappy_csv: Path) -> None:
    loud = ok("data", "show", gappy_csv.name)
    quiet = ok("data", "show", gappy_csv.name, "--quiet")

    warning_lines = loud.stderr.splitlines()
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("Warning: ")
    assert "2013-02-15" in warning_lines[0]  # names the dropped date
    assert quiet.stderr == ""
    assert loud.stdout == quiet.stdout


def test_deprecation_warnings_of_libraries_are_not_shown_to_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load = fc.load

    def noisy_load(*args: Any, **kwargs: Any) -> pd.DataFrame:
        warnings.warn("Series.foo is deprecated", DeprecationWarning, stacklevel=1)
        warnings.warn("a future pandas will differ", FutureWarning, stacklevel=1)
        warnings.warn("dropped 1 row with NaN", fc.DataWarning, stacklevel=1)
        return load(*args, **kwargs)

    monkeypatch.setattr(fc, "load", noisy_load)

    result = ok("data", "show", "AAPL")

    assert result.stderr == "Warning: dropped 1 row with NaN\n"


# -- the installed executable --------------------------------------------------------------------


def _installed_forecast() -> str | None:
    found = shutil.which("forecast")
    if found is None:
        candidate = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin") / "forecast"
        found = str(candidate) if candidate.exists() else None
    return found


def test_the_installed_executable_runs_and_fails_politely(workdir: Path) -> None:
    executable = _installed_forecast()
    if executable is None:
        pytest.skip("the 'forecast' console script is not installed (pip install -e .)")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "FORECAST_CACHE_DIR": str(workdir / "cache")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [executable, *args], capture_output=True, text=True, env=env, cwd=workdir, timeout=120
        )

    listed = run("models", "--json")
    missing = run("data", "show", "NOPE.csv")

    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 17
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr == (
        "Error: file 'NOPE.csv' does not exist; check the path (or pass a bundled dataset name "
        "such as 'AAPL').\n"
    )
