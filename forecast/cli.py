"""The ``forecast`` command line: thin functions that parse options and call the public API.

Exit codes: 0 success, 2 usage error, 1 data/model error (one line each, no traceback),
130 interrupted. Every option can also come from ``--config FILE.toml`` (flags override it).

The options are not written here: :mod:`forecast.settings` declares each one once (name,
default, type, range, choices, aliases, help) and :mod:`forecast._cli_options` turns them into
Click options. Nothing heavy is imported at module level, so ``--help``, ``--version``,
``models`` and ``data list|show`` start without torch.
"""

from __future__ import annotations

import json
import sys
import tomllib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import forecast as fc
from forecast._cli_options import option_for, options_for
from forecast.settings import (
    BACKTEST_SETTINGS,
    DATA_SETTINGS,
    FORECASTER_SETTINGS,
)

F = Callable[..., Any]
_DATA = {setting.name: setting for setting in DATA_SETTINGS}
_MODEL_KEYS = tuple(setting.name for setting in FORECASTER_SETTINGS if setting.on_cli)
_INTERRUPTED = "Interrupted; nothing was written."

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
    """A group that keeps every failure to one line on stderr.

    The package's own errors and OS errors exit 1, usage errors exit 2 (the error first, then
    where to read more, on the same line), Ctrl-C exits 130. This holds under ``CliRunner``
    too, since it lives in ``main``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # Handled here, before Click turns it into Abort (which prints a bare newline).
            click.echo(_INTERRUPTED, err=True)
            raise click.exceptions.Exit(130) from None
        except fc.ForecastError as exc:
            raise _one_line_error(str(exc)) from None
        except OSError as exc:
            # A folder that cannot be created, a full disk, no permission: the user's to fix,
            # so one line as for data errors rather than a traceback.
            raise _one_line_error(f"{exc}; check the path and its permissions.") from None

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            click.echo(_usage_line(exc), err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except (click.exceptions.Abort, KeyboardInterrupt):
            # Click turns Ctrl-C into Abort; every writer is atomic, so nothing partial remains.
            click.echo(_INTERRUPTED, err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_line(exc: click.UsageError) -> str:
    """``Error: <what is wrong>; see 'forecast fit --help'.``: the error first, one line."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    where = exc.ctx.command_path if exc.ctx is not None else "forecast"
    return f"Error: {message}; see '{where} --help'."


def _one_line_error(message: str) -> click.ClickException:
    error = click.ClickException(message)
    error.exit_code = 1
    return error


def _check_out(path: str | None, option: str = "--out") -> None:
    """Refuse an unwritable destination before any work, naming the user's path."""
    if path is None:
        return
    from forecast._atomic import check_writable

    try:
        check_writable(path, option=option)
    except OSError as exc:
        raise _one_line_error(f"{exc.strerror or exc}.") from None


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
    """``--data``, ``--start``, ``--end``, ``--interval``, ``--offline``, ``--nan-policy``."""
    function = _reading_options(function)
    decorators = [
        option_for(_DATA["source"], flag="--data"),
        *(option_for(_DATA[name]) for name in ("start", "end", "interval")),
        option_for(_DATA["offline"], envvar="FORECAST_OFFLINE"),
        option_for(_DATA["nan_policy"]),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _forecaster(options: dict[str, Any], quiet: bool) -> Any:
    params = {key: options.pop(key) for key in _MODEL_KEYS if key in options}
    target = params.get("target")
    if isinstance(target, list) and len(target) == 1:
        params["target"] = target[0]  # one column stays a string, as in the API
    params["progress"] = False if quiet else None
    return fc.Forecaster(**params)


def _source_record(options: dict[str, Any]) -> dict[str, Any]:
    """Where the data came from, as saved with a model: a file as an absolute path."""
    source = str(options["source"])
    bare = source.removeprefix("file:")
    is_file = source.startswith("file:") or (Path(bare).suffix != "" and Path(bare).exists())
    if is_file:
        source = "file:" + str(Path(bare).resolve())
    return {
        "source": source,
        "start": options["start"],
        "end": options["end"],
        "interval": options["interval"],
        "nan_policy": options["nan_policy"],
    }


def _load(options: dict[str, Any]) -> Any:
    """Load the data the options name; ``attrs["source"]`` says how (saved with a model)."""
    record = _source_record(options)
    frame = fc.load(
        options.pop("source"),
        start=options.pop("start"),
        end=options.pop("end"),
        interval=options.pop("interval"),
        offline=options.pop("offline") or None,
        nan_policy=options.pop("nan_policy"),
        **_reading(options),
    )
    frame.attrs["source"] = record
    return frame


class _Warnings:
    """Show DataWarnings (and other user-facing warnings) as one 'Warning:' line each on
    stderr, or nothing with --quiet. Deprecation, Future and Resource warnings are for the
    developers of the libraries underneath, not for someone running a command: hidden."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._context = warnings.catch_warnings()

    def __enter__(self) -> None:
        self._context.__enter__()
        warnings.simplefilter("ignore" if self.quiet else "default")
        for category in (
            DeprecationWarning,
            PendingDeprecationWarning,
            FutureWarning,
            ResourceWarning,  # e.g. a file an import cut short by Ctrl-C left open
        ):
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


_model_options = options_for(FORECASTER_SETTINGS)


@cli.command(epilog=_EPILOG_BACKTEST)
@_common
@_data_options
@_model_options
@options_for(BACKTEST_SETTINGS)
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
    _check_out(out)
    with _Warnings(quiet):
        frame = _load(options)
        model = _forecaster(options, quiet)
        options["baselines"] = options["baselines"] or []
        result = fc.backtest(model, frame, **options)
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
    _check_out(out)
    with _Warnings(quiet):
        frame = _load(options)
        model = _forecaster(options, quiet).fit(frame)
        model.save(out)
    summary = {
        "out": out,
        "data": frame.attrs["source"]["source"],
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


def _predict_data_options(function: F) -> F:
    """As :func:`_data_options`, but every default is the model's own data source."""
    function = _reading_options(function)
    decorators = [
        option_for(
            _DATA["source"],
            flag="--data",
            default=None,
            help="Bundled name, CSV/Parquet path, or ticker [default: the data the model was "
            "fitted on].",
        ),
        *(
            option_for(_DATA[name], default=None, help=f"{_DATA[name].help} [default: as fitted]")
            for name in ("start", "end", "interval", "nan_policy")
        ),
        option_for(_DATA["offline"], envvar="FORECAST_OFFLINE"),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def _data_of_model(model: Any, model_dir: str, options: dict[str, Any]) -> dict[str, Any]:
    """Fill the data options the user left out from what the model saved about its data."""
    saved = getattr(model, "data_source_", None)
    if options["source"] is None:
        if not saved:
            raise _one_line_error(
                f"the model in {model_dir!r} does not record the data it was fitted on; pass "
                "--data with the dataset, file or ticker to forecast from."
            )
        options = {**options, "source": saved["source"]}
        for name in ("start", "end", "interval", "nan_policy"):
            if options[name] is None:
                options[name] = saved.get(name)
    for name in ("interval", "nan_policy"):
        if options[name] is None:
            options[name] = _DATA[name].default
    return options


@cli.command(epilog=_EPILOG_PREDICT)
@_common
@click.option(
    "--model",
    "model_dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="Model directory written by 'forecast fit'.",
)
@_predict_data_options
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the forecasts to this CSV instead of printing them.",
)
def predict(quiet: bool, as_json: bool, model_dir: str, output: str | None, **options: Any) -> None:
    """Forecast the next H bars after the end of the data with a saved model.

    Without --data, the model forecasts from the data it was fitted on (read again, so a
    ticker or file brings its newest bars).
    """
    _check_out(output, "--output")
    with _Warnings(quiet):
        model = fc.load_model(model_dir)
        options = _data_of_model(model, model_dir, options)
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
    from forecast.models.registry import list_models, model_table

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
@option_for(_DATA["start"])
@option_for(_DATA["end"])
@option_for(_DATA["interval"])
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
        cli.main(prog_name="forecast")
    except KeyboardInterrupt:
        # Between the group's own handlers (while Click starts or exits): the same one line.
        click.echo(_INTERRUPTED, err=True)
        sys.exit(130)
