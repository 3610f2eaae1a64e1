"""The ``forecast`` command line: thin functions that parse options and call the public API.

Exit codes: 0 success, 2 usage error (Click), 1 data/model error (one line, no traceback),
130 interrupted. Every option can also come from ``--config FILE.toml`` (flags override it).
"""

from __future__ import annotations

import json
import sys
import tomllib
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

import forecast as fc

F = Callable[..., Any]

_EPILOG_BACKTEST = """\b
Examples:
  forecast backtest                                   # LSTM vs baselines on bundled AAPL
  forecast backtest --data MSFT --cell gru --out runs/msft
  forecast backtest --data prices.csv --refit 0 --json
  forecast backtest --config backtest.toml --epochs 5
"""
_EPILOG_FIT = """\b
Examples:
  forecast fit --out runs/aapl-lstm
  forecast fit --data yahoo:SPY --start 2015-01-01 --topology n_to_1 --out runs/spy
"""
_EPILOG_PREDICT = """\b
Examples:
  forecast predict --model runs/aapl-lstm
  forecast predict --model runs/aapl-lstm --data prices.csv --output next.csv
"""
_EPILOG_MODELS = """\b
Examples:
  forecast models
  forecast models --json
"""
_EPILOG_DATA = """\b
Examples:
  forecast data list
  forecast data show MSFT --rows 3
  forecast data fetch SPY QQQ --start 2015-01-01
"""
_EPILOG_DATA_LIST = """\b
Examples:
  forecast data list
  forecast data list --json
"""
_EPILOG_DATA_FETCH = """\b
Examples:
  forecast data fetch SPY
  forecast data fetch AAPL MSFT --start 2015-01-01 --interval 1d
  FORECAST_OFFLINE=1 forecast backtest --data yahoo:SPY    # later, from the cache
"""
_EPILOG_DATA_SHOW = """\b
Examples:
  forecast data show AAPL
  forecast data show prices.csv --rows 10
  forecast data show bars_uk.csv --dayfirst --encoding latin-1
  forecast data show all_stocks_5yr.csv --ticker-column Name
  forecast data show yahoo:SPY --json
"""

_EPILOG_UPDATE = """\b
Examples:
  forecast update --model runs/aapl --data yahoo:AAPL --output next.csv
  forecast update --model runs/aapl --data today.csv --epochs 3 --scaler frozen
  forecast update --model runs/aapl --data today.csv --force     # accept a gap in the bars
"""
_EPILOG_TUNE = """\b
Examples:
  forecast tune --data AAPL --trials 20                 # study in tune-AAPL/, resumable
  forecast tune --data AAPL --trials 30 --space space.toml --out runs/tune
  forecast backtest --config tune-AAPL/best.toml        # the winner, on any backtest
"""


class _Group(click.Group):
    """A group that turns the package's own errors into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Handled here, before Click turns it into Abort (which prints a bare newline).
            click.echo("Interrupted; nothing was written.", err=True)
            raise click.exceptions.Exit(130) from None
        except fc.ForecastError as exc:
            raise _one_line_error(str(exc)) from None
        except OSError as exc:
            # A folder that cannot be created, a full disk, no permission: the user's to fix,
            # so one line as for data errors rather than a traceback.
            raise _one_line_error(f"{exc}; check the path and its permissions.") from None


def _one_line_error(message: str) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = 1
    return error


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--config FILE.toml``: its keys become defaults; command-line flags still win."""
    if value is None:
        return value
    try:
        table = tomllib.loads(Path(value).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"cannot read {value!r} as TOML ({exc}).") from None
    # Keys are spelled like the flags ("data", "hidden-size" or "hidden_size", "json"); the
    # parameter behind a flag may have another name (--data fills "source").
    names: dict[str, click.Parameter] = {}
    for param in ctx.command.params:
        if param.name is None or param.name == "config" or not param.expose_value:
            continue
        names[param.name] = param
        for flag in param.opts:
            if flag.startswith("--"):
                names[flag[2:].replace("-", "_")] = param
    options: dict[str, Any] = {}
    unknown = []
    for key, item in table.items():
        param = names.get(key.replace("-", "_"))
        if param is None or param.name is None:
            unknown.append(key)
            continue
        if isinstance(item, list) and param.nargs == 1 and not getattr(param, "multiple", False):
            item = ",".join(map(str, item))  # features = ["Open", "Close"] -> "Open,Close"
        options[param.name] = item
    if unknown:
        raise click.BadParameter(
            f"unknown option(s) {', '.join(sorted(unknown))} in {value!r}; "
            f"see 'forecast {ctx.command.name} --help'."
        )
    ctx.default_map = {**(ctx.default_map or {}), **options}
    return value


def _check_date(_ctx: click.Context, _param: click.Parameter, value: Any) -> str | None:
    """Refuse a date that cannot be parsed here, as a usage error naming the option."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date; use YYYY-MM-DD.") from None
    return text


def _common(function: F) -> F:
    options = [
        click.option(
            "--config",
            type=click.Path(exists=True, dir_okay=False),
            callback=_load_config,
            is_eager=True,
            expose_value=False,
            help="TOML file holding any of these options (flags override it).",
        ),
        click.option("--quiet", "-q", is_flag=True, help="No progress bars or warnings."),
        click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _reading_options(function: F) -> F:
    """How to read a file's dates, text and tickers, and which calendar its dates follow."""
    options = [
        click.option(
            "--date-format",
            default=None,
            help="How the file writes dates, e.g. %d/%m/%Y [default: decided from the data].",
        ),
        click.option(
            "--dayfirst/--monthfirst",
            default=None,
            help="Numeric dates are day-first (01/03 = 1 March) or month-first "
            "[default: decided from the data].",
        ),
        click.option(
            "--encoding", default=None, help="Text encoding of CSV files [default: UTF-8]."
        ),
        click.option(
            "--tz", default=None, help="Time zone of the dates (IANA name, e.g. America/New_York)."
        ),
        click.option(
            "--ticker-column", default=None, help="Column of a long file that names the ticker."
        ),
        click.option(
            "--calendar",
            default="auto",
            show_default=True,
            help="Exchange calendar of forecast dates (XNYS, XLON, ...; none: weekdays).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _reading(options: dict[str, Any]) -> dict[str, Any]:
    """Pop the reading options into ``fc.load`` keywords."""
    return {
        name: options.pop(name)
        for name in ("date_format", "dayfirst", "encoding", "tz", "ticker_column", "calendar")
    }


def _data_options(function: F) -> F:
    function = _reading_options(function)
    options = [
        click.option(
            "--data",
            "source",
            default=fc.DEFAULT_DATASET,
            show_default=True,
            help="Bundled name, CSV/Parquet path, or ticker (prefix yahoo:, file:, "
            "bundled: to be explicit).",
        ),
        click.option(
            "--start", default=None, callback=_check_date, help="First date (YYYY-MM-DD)."
        ),
        click.option(
            "--end", default=None, callback=_check_date, help="End date, exclusive (YYYY-MM-DD)."
        ),
        click.option(
            "--interval",
            default="1d",
            show_default=True,
            help="Bar size for tickers (1d, 1h, ...).",
        ),
        click.option(
            "--offline",
            is_flag=True,
            envvar="FORECAST_OFFLINE",
            help="Read tickers only from the cache.",
        ),
        click.option(
            "--nan-policy",
            type=click.Choice(["drop", "ffill", "error"]),
            default="drop",
            show_default=True,
            help="What to do with NaN/inf rows.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _model_options(function: F) -> F:
    d = fc.Forecaster()
    options = [
        click.option(
            "--cell",
            type=click.Choice(["lstm", "gru", "rnn"]),
            default=d.cell,
            show_default=True,
            help="Recurrent cell.",
        ),
        click.option(
            "--topology",
            type=click.Choice(["n_to_m", "n_to_1", "n_to_n", "1_to_n"]),
            default=d.topology,
            show_default=True,
            help="Input/output topology.",
        ),
        click.option(
            "--lookback",
            type=click.IntRange(1),
            default=d.lookback,
            show_default=True,
            help="Input steps T per window.",
        ),
        click.option(
            "--horizon",
            type=click.IntRange(1),
            default=d.horizon,
            show_default=True,
            help="Steps H forecast after each origin.",
        ),
        click.option("--target", default=d.target, show_default=True, help="Column to forecast."),
        click.option(
            "--features",
            default=None,
            help="Comma-separated input columns [default: topology's choice].",
        ),
        click.option(
            "--hidden-size", type=click.IntRange(1), default=d.hidden_size, show_default=True
        ),
        click.option(
            "--num-layers", type=click.IntRange(1), default=d.num_layers, show_default=True
        ),
        click.option(
            "--dropout",
            type=click.FloatRange(0, 1, max_open=True),
            default=d.dropout,
            show_default=True,
        ),
        click.option(
            "--bidirectional/--no-bidirectional",
            default=d.bidirectional,
            show_default=True,
            help="Bidirectional encoder (n_to_1, n_to_m only).",
        ),
        click.option(
            "--nonlinearity",
            type=click.Choice(["tanh", "relu"]),
            default=d.nonlinearity,
            show_default=True,
            help="For --cell rnn.",
        ),
        click.option(
            "--decoder",
            type=click.Choice(["autoregressive", "direct"]),
            default=d.decoder,
            show_default=True,
            help="n_to_m decoder.",
        ),
        click.option(
            "--multi-step",
            type=click.Choice(["auto", "recursive", "direct"]),
            default=d.multi_step,
            show_default=True,
            help="n_to_1 multi-step rule.",
        ),
        click.option(
            "--teacher-forcing",
            type=click.FloatRange(0, 1),
            default=d.teacher_forcing,
            show_default=True,
        ),
        click.option(
            "--representation",
            type=click.Choice(["log_return", "simple_return", "levels"]),
            default=d.representation,
            show_default=True,
            help="What the network learns on (forecasts are always prices).",
        ),
        click.option(
            "--scaler",
            type=click.Choice(["standard", "minmax", "robust", "none"]),
            default=d.scaler,
            show_default=True,
        ),
        click.option("--epochs", type=click.IntRange(1), default=d.epochs, show_default=True),
        click.option(
            "--batch-size", type=click.IntRange(1), default=d.batch_size, show_default=True
        ),
        click.option(
            "--lr", type=click.FloatRange(0, min_open=True), default=d.lr, show_default=True
        ),
        click.option(
            "--optimizer",
            type=click.Choice(["adam", "adamw"]),
            default=d.optimizer,
            show_default=True,
        ),
        click.option(
            "--weight-decay", type=click.FloatRange(0), default=d.weight_decay, show_default=True
        ),
        click.option(
            "--loss", type=click.Choice(["mse", "mae", "huber"]), default=d.loss, show_default=True
        ),
        click.option(
            "--clip-grad-norm",
            type=click.FloatRange(0),
            default=d.clip_grad_norm,
            show_default=True,
            help="Gradient-norm clip (0: off).",
        ),
        click.option(
            "--patience",
            type=click.IntRange(0),
            default=d.patience,
            show_default=True,
            help="Early-stopping patience in epochs (0: off).",
        ),
        click.option(
            "--val-fraction",
            type=click.FloatRange(0, 0.5, max_open=True),
            default=d.val_fraction,
            show_default=True,
        ),
        click.option("--seed", type=int, default=d.seed, show_default=True),
        click.option(
            "--device", default=d.device, show_default=True, help="auto, cpu, cuda or cuda:N."
        ),
        click.option(
            "--precision",
            type=click.Choice(["float32", "bfloat16"]),
            default=d.precision,
            show_default=True,
            help="bfloat16: mixed-precision training (needs native bfloat16).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


_MODEL_KEYS = tuple(fc.Forecaster().get_params())


def _forecaster(options: dict[str, Any], quiet: bool) -> fc.Forecaster:
    params = {key: options.pop(key) for key in _MODEL_KEYS if key in options}
    if params.get("features"):
        params["features"] = [c.strip() for c in str(params["features"]).split(",") if c.strip()]
    for key in ("patience", "clip_grad_norm"):
        if params.get(key) == 0:
            params[key] = None
    params["progress"] = False if quiet else None
    return fc.Forecaster(**params)


def _load(options: dict[str, Any]) -> Any:
    return fc.load(
        options.pop("source"),
        start=options.pop("start"),
        end=options.pop("end"),
        interval=options.pop("interval"),
        offline=options.pop("offline") or None,
        nan_policy=options.pop("nan_policy"),
        **_reading(options),
    )


class _Warnings:
    """Show DataWarnings (and other user-facing warnings) as one 'Warning:' line each on
    stderr, or nothing with --quiet. Deprecation and FutureWarnings are for the developers
    of the libraries underneath, not for someone running a command, so they are hidden."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._context = warnings.catch_warnings()

    def __enter__(self) -> None:
        self._context.__enter__()
        warnings.simplefilter("ignore" if self.quiet else "default")
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category)

        def show(message: Warning | str, *_args: object, **_kwargs: object) -> None:
            click.echo(f"Warning: {message}", err=True)

        warnings.showwarning = show  # type: ignore[assignment]

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)


@click.group(
    cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(fc.__version__, prog_name="forecast")
def cli() -> None:
    """Forecast price series with recurrent networks and backtest them honestly.

    \b
    Start here:
      forecast backtest            # does an LSTM beat the random walk on bundled AAPL?
      forecast data list           # the bundled datasets
      forecast models              # every model and its options
      forecast tune                # search the settings on walk-forward folds
      forecast update              # carry a saved model forward on new bars
    """


@cli.command(epilog=_EPILOG_BACKTEST)
@_common
@_data_options
@_model_options
@click.option(
    "--test-size",
    type=click.IntRange(1),
    default=250,
    show_default=True,
    help="Bars in the test region (the last ones).",
)
@click.option(
    "--test-start",
    default=None,
    callback=_check_date,
    help="First date of the test region (overrides --test-size).",
)
@click.option(
    "--folds",
    type=click.IntRange(1),
    default=5,
    show_default=True,
    help="Walk-forward folds in the test region.",
)
@click.option(
    "--step",
    type=click.IntRange(1),
    default=None,
    help="Bars between forecast origins [default: the horizon].",
)
@click.option(
    "--refit",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Refit every k folds (0: fit once).",
)
@click.option(
    "--window", type=click.Choice(["expanding", "sliding"]), default="expanding", show_default=True
)
@click.option(
    "--train-length",
    type=click.IntRange(1),
    default=None,
    help="Training bars for --window sliding.",
)
@click.option(
    "--gap",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Bars left out between training and test.",
)
@click.option(
    "--baselines",
    default=",".join(fc.DEFAULT_BASELINES),
    show_default=True,
    help="Comma-separated baselines shown beside the model (naive always).",
)
@click.option(
    "--cost-bps",
    type=click.FloatRange(0),
    default=1.0,
    show_default=True,
    help="Trading cost in basis points per unit of turnover.",
)
@click.option(
    "--n-jobs",
    type=click.IntRange(1),
    default=None,
    help="Refits fitted side by side, each with threads/n-jobs torch threads "
    "[default: one per thread when the model allows; 1 with dropout or scheduled sampling].",
)
@click.option(
    "--warm-start/--no-warm-start",
    default=False,
    show_default=True,
    help="Start each refit from the previous fold's weights (faster; not the same work).",
)
@click.option(
    "--warm-epochs",
    type=click.IntRange(1),
    default=None,
    help="Epochs of a warm-started refit [default: epochs / 3].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for metrics.csv, forecasts.csv, config.json, figures, report.html.",
)
def backtest(quiet: bool, as_json: bool, out: str | None, **options: Any) -> None:
    """Walk-forward backtest of a recurrent model against naive baselines.

    Prints one row per model (MAE, RMSE, MAPE, MASE and the Diebold-Mariano p-value against
    the naive forecast) and a one-line verdict.
    """
    with _Warnings(quiet):
        frame = _load(options)
        model = _forecaster(options, quiet)
        baselines = [b.strip() for b in options.pop("baselines").split(",") if b.strip()]
        result = fc.backtest(model, frame, baselines=baselines, **options)
        if out is not None:
            result.save(out)
    if as_json:
        payload = {
            "verdict": result.verdict(),
            "metrics": json.loads(result.metrics.to_json(orient="records")),
            "config": result.config,
            "timings": result.timings,
            "out": out,
        }
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    from forecast.report import format_metrics

    click.echo(format_metrics(result.metrics))
    click.echo("")
    click.echo(result.verdict())
    if out is not None and not quiet:
        click.echo(f"Report written to {Path(out) / 'report.html'}", err=True)


@cli.command(epilog=_EPILOG_FIT)
@_common
@_data_options
@_model_options
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    required=True,
    help="Model directory to write (config.json + weights.safetensors).",
)
def fit(quiet: bool, as_json: bool, out: str, **options: Any) -> None:
    """Fit a model on all the data and save it to a directory."""
    with _Warnings(quiet):
        source = options["source"]
        frame = _load(options)
        model = _forecaster(options, quiet).fit(frame)
        model.save(out)
    summary = {
        "out": out,
        "data": str(source),
        "rows": len(frame),
        "epochs_run": len(model.history_.train_loss),
        "best_epoch": model.history_.best_epoch + 1,
        "seconds": round(model.history_.seconds, 3),
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        click.echo(
            f"Saved {model.cell} {model.topology} model to {out} "
            f"({summary['epochs_run']} epochs, best {summary['best_epoch']}, "
            f"{summary['seconds']:.1f} s)."
        )


@cli.command(epilog=_EPILOG_PREDICT)
@_common
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="Model directory written by 'forecast fit'.",
)
@_data_options
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the forecasts to this CSV instead of printing them.",
)
def predict(quiet: bool, as_json: bool, model_dir: str, output: str | None, **options: Any) -> None:
    """Forecast the next H bars after the end of the data with a saved model."""
    with _Warnings(quiet):
        model = fc.load_model(model_dir)
        frame = _load(options)
        forecasts = model.predict(frame)
    if output is not None:
        from forecast._atomic import atomic_write_text

        atomic_write_text(output, forecasts.to_csv())
        if not quiet:
            click.echo(f"Wrote {len(forecasts)} forecasts to {output}", err=True)
        return
    if as_json:
        click.echo(forecasts.reset_index().to_json(orient="records", date_format="iso"))
    else:
        click.echo(forecasts.to_string())
        if not quiet:
            click.echo(f"Forecast dates: {forecasts.attrs.get('calendar')}", err=True)


@cli.command(epilog=_EPILOG_UPDATE)
@_common
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="Model directory written by 'forecast fit' (its newest version is updated).",
)
@_data_options
@click.option(
    "--epochs",
    "update_epochs",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Fine-tune on the new bars for this many epochs (0: only move forward).",
)
@click.option(
    "--scaler",
    "scaler_policy",
    type=click.Choice(["frozen", "refit"]),
    default=None,
    help="Scaler policy when fine-tuning (required with --epochs > 0).",
)
@click.option("--force", is_flag=True, help="Accept a gap longer than the data's usual spacing.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the next forecasts to this CSV (rewritten only when they change).",
)
def update(
    quiet: bool,
    as_json: bool,
    model_dir: str,
    update_epochs: int,
    scaler_policy: str | None,
    force: bool,
    output: str | None,
    **options: Any,
) -> None:
    """Carry a saved model forward on new bars; write a new version and the next forecasts.

    The new version is written beside the old one as MODEL@LAST-DATE; running the command
    again with the same bars changes nothing.
    """
    with _Warnings(quiet):
        frame = _load(options)
        result = fc.update_model_dir(
            model_dir,
            frame,
            epochs=update_epochs,
            scaler=scaler_policy,
            force=force,
            forecasts_csv=output,
        )
    if result.version is not None:
        what = f"{result.new_bars} new bar(s); wrote {result.version}"
    else:
        what = f"{result.source} has already seen every bar given; nothing changed"
    if as_json:
        payload = {
            "source": str(result.source),
            "version": None if result.version is None else str(result.version),
            "new_bars": result.new_bars,
            "windows": result.windows,
            "forecasts": json.loads(result.forecasts.to_json(orient="records", date_format="iso")),
        }
        click.echo(json.dumps(payload, indent=2))
        return
    if not quiet:
        click.echo(f"Updated from {result.source}: {what}.", err=True)
    if output is None:
        click.echo(result.forecasts.to_string(index=False))
    elif not quiet:
        click.echo(f"Forecasts in {output}", err=True)


@cli.command(epilog=_EPILOG_TUNE)
@_common
@_data_options
@_model_options
@click.option(
    "--trials",
    type=click.IntRange(1),
    default=20,
    show_default=True,
    help="Finished trials the study should hold (a resumed study runs the rest).",
)
@click.option(
    "--space",
    "space_file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="TOML with a [space] table overriding the default search space.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for study.db (resumable), trials.csv and best.toml [default: tune-DATA].",
)
@click.option("--study-name", default="forecast-tune", show_default=True)
@click.option(
    "--test-size",
    type=click.IntRange(1),
    default=250,
    show_default=True,
    help="Last bars, never seen while tuning; the winner is backtested on them once.",
)
@click.option("--test-folds", type=click.IntRange(1), default=5, show_default=True)
@click.option(
    "--tune-size",
    type=click.IntRange(1),
    default=250,
    show_default=True,
    help="Bars before the test region whose walk-forward folds score each trial.",
)
@click.option("--tune-folds", type=click.IntRange(1), default=5, show_default=True)
@click.option(
    "--step",
    type=click.IntRange(1),
    default=None,
    help="Bars between forecast origins [default: the horizon].",
)
@click.option(
    "--pruning/--no-pruning",
    default=True,
    show_default=True,
    help="Stop trials worse than the median after a fold.",
)
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None)
@click.option(
    "--n-jobs",
    type=click.IntRange(1),
    default=None,
    help="Refit lanes of each trial's backtests (see 'forecast backtest --help').",
)
def tune(
    quiet: bool,
    as_json: bool,
    trials: int,
    space_file: str | None,
    out: str | None,
    study_name: str,
    **options: Any,
) -> None:
    """Tune the model's settings with Optuna on walk-forward folds, then test the winner once.

    Model options given on the command line are fixed; the others are searched (default
    space, or --space). Needs the optional extra: pip install 'forecast-rnn[tune]'.
    """
    from forecast.search_space import read_space
    from forecast.tuning import require_optuna

    require_optuna()
    ctx = click.get_current_context()
    given = {
        name
        for name in _MODEL_KEYS
        if ctx.get_parameter_source(name)
        in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.DEFAULT_MAP)
    }
    source = str(options["source"])
    folder = Path(out) if out is not None else Path(f"tune-{Path(source).stem or 'data'}")
    with _Warnings(quiet):
        frame = _load(options)
        base = _forecaster(options, quiet=True)
        known = set(base.get_params())
        space: dict[str, Any] = read_space(space_file, known) if space_file else {}
        space.update({name: base.get_params()[name] for name in given})

        def progress(trial: Any) -> None:
            if quiet:
                return
            value = trial.value if trial.value is not None else float("nan")
            click.echo(
                f"trial {trial.number}: {trial.state.name.lower()}, tuning MASE {value:.4f}",
                err=True,
            )

        folder.mkdir(parents=True, exist_ok=True)
        try:
            result = fc.tune(
                base,
                frame,
                trials=trials,
                space=space,
                storage=folder / "study.db",
                study_name=study_name,
                on_trial=progress,
                **options,
            )
        except KeyboardInterrupt:
            click.echo(
                f"Interrupted; the study in {folder / 'study.db'} keeps its finished trials; "
                "run the same command to resume.",
                err=True,
            )
            raise click.exceptions.Exit(130) from None
        from forecast._atomic import atomic_write_text

        atomic_write_text(folder / "trials.csv", result.trials.to_csv(index=False))
        result.write_config(folder / "best.toml", data=source)
    if as_json:
        payload = {
            "best_params": result.best_params,
            "tuning_mase": result.tuning_score,
            "test_mase": result.test_score,
            "default_tuning_mase": result.default_tuning_score,
            "default_test_mase": result.default_test_score,
            "trials": len(result.trials),
            "best_config": str(folder / "best.toml"),
            "settings": result.settings,
        }
        click.echo(json.dumps(payload, indent=2, default=str))
        return
    click.echo(result.table())
    click.echo("")
    click.echo(result.summary())
    click.echo(f"Best configuration: {folder / 'best.toml'} (forecast backtest --config ...)")


@cli.command(epilog=_EPILOG_MODELS)
@_common
def models(quiet: bool, as_json: bool) -> None:
    """List every model (cells x topologies, baselines) and its options."""
    from forecast.models import list_models, model_table

    if as_json:
        click.echo(json.dumps(list_models(), indent=2, default=str))
    else:
        click.echo(model_table())


@cli.group(cls=_Group, epilog=_EPILOG_DATA)
def data() -> None:
    """List, fetch and inspect data."""


@data.command("list", epilog=_EPILOG_DATA_LIST)
@_common
def data_list(quiet: bool, as_json: bool) -> None:
    """List the bundled datasets (name, first and last date, rows)."""
    table = fc.describe_datasets()
    if as_json:
        click.echo(table.to_json(orient="records"))
    else:
        click.echo(table.to_string(index=False))


@data.command("fetch", epilog=_EPILOG_DATA_FETCH)
@_common
@click.argument("tickers", nargs=-1, required=True)
@click.option("--start", default=None, callback=_check_date, help="First date (YYYY-MM-DD).")
@click.option("--end", default=None, callback=_check_date, help="End date, exclusive (YYYY-MM-DD).")
@click.option("--interval", default="1d", show_default=True)
def data_fetch(
    quiet: bool,
    as_json: bool,
    tickers: tuple[str, ...],
    start: str | None,
    end: str | None,
    interval: str,
) -> None:
    """Download tickers from yfinance into the cache (for later --offline use)."""
    with _Warnings(quiet):
        frames = {
            ticker: fc.load(f"yahoo:{ticker}", start=start, end=end, interval=interval)
            for ticker in tickers
        }
    rows = [
        {"ticker": t, "rows": len(f), "start": str(f.index[0]), "end": str(f.index[-1])}
        for t, f in frames.items()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            click.echo(f"{row['ticker']}: {row['rows']} bars, {row['start']} to {row['end']}")


@data.command("show", epilog=_EPILOG_DATA_SHOW)
@_common
@click.argument("source")
@click.option("--rows", type=click.IntRange(1), default=5, show_default=True)
@_reading_options
def data_show(quiet: bool, as_json: bool, source: str, rows: int, **options: Any) -> None:
    """Show the first and last bars of a dataset, file or ticker, after validation."""
    with _Warnings(quiet):
        frame = fc.load(source, **_reading(options))
    if as_json:
        click.echo(frame.reset_index().to_json(orient="records", date_format="iso"))
        return
    click.echo(f"{frame.attrs.get('name', source)}: {len(frame)} bars")
    click.echo(frame.head(rows).to_string())
    click.echo("...")
    click.echo(frame.tail(rows).to_string())


def main() -> None:
    """Console-script entry point: exit 0, 1 (data/model error), 2 (usage) or 130 (Ctrl-C)."""
    # This process is ours: passive OpenMP waits (effective only before torch is imported)
    # and glibc keeping freed memory (see forecast._process.tune_process).
    fc.tune_process()
    try:
        code = cli.main(prog_name="forecast", standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Click turns Ctrl-C into Abort; every writer is atomic, so nothing partial remains.
        click.echo("Interrupted; nothing was written.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
