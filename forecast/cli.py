"""The ``forecast`` command line: thin functions that parse options and call the public API."""

from __future__ import annotations

import sys

import click

import forecast as fc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(fc.__version__, prog_name="forecast")
def cli() -> None:
    """Forecast price series with recurrent networks and backtest them honestly."""


@cli.group()
def data() -> None:
    """List, fetch and inspect data."""


@data.command("list")
def data_list() -> None:
    """List the bundled datasets."""
    from forecast.data.bundled import describe_datasets

    click.echo(describe_datasets().to_string(index=False))


def main() -> None:
    """Console-script entry point: run the CLI, print ForecastErrors as one line, exit 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except fc.ForecastError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
