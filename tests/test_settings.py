"""One declaration of every option (forecast/settings.py) and everything that reads it.

The estimator's signature, the model and training configs, the command line and the zoo
listing must all say what the declaration says: same names, defaults, choices and aliases.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import click
import pytest

import forecast as fc
from forecast.cli import cli
from forecast.models import ModelConfig, list_models
from forecast.settings import (
    BACKTEST_SETTINGS,
    DATA_SETTINGS,
    DEFAULTS,
    FORECASTER_SETTINGS,
    Setting,
)
from forecast.topologies import TOPOLOGIES, TOPOLOGY_ALIASES
from forecast.training import TrainConfig

CLI_SETTINGS = [setting for setting in FORECASTER_SETTINGS if setting.on_cli]


def _params(command: str) -> dict[str, click.Parameter]:
    return {param.name: param for param in cli.commands[command].params if param.name}


def _parse(command: str, *args: str) -> dict[str, Any]:
    """The keywords the command function would receive for these arguments (nothing runs)."""
    # Under the group's context, as in a real run (its settings give every command -h too).
    parent = click.Context(cli, info_name="forecast", **cli.context_settings)
    context = cli.commands[command].make_context(command, list(args), parent=parent)
    return dict(context.params)


def test_the_forecaster_signature_is_the_declaration() -> None:
    parameters = inspect.signature(fc.Forecaster).parameters

    assert list(parameters) == [setting.name for setting in FORECASTER_SETTINGS]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters.values())
    assert {name: p.default for name, p in parameters.items()} == dict(DEFAULTS)


@pytest.mark.parametrize("config", [ModelConfig, TrainConfig], ids=lambda c: c.__name__)
def test_the_configs_default_to_the_declaration(config: type) -> None:
    fields = [field for field in dataclasses.fields(config) if field.name in DEFAULTS]

    assert len(fields) >= 10
    assert {field.name: field.default for field in fields} == {
        field.name: DEFAULTS[field.name] for field in fields
    }


@pytest.mark.parametrize("command", ["backtest", "fit"])
@pytest.mark.parametrize("setting", CLI_SETTINGS, ids=lambda setting: setting.name)
def test_every_estimator_option_is_on_the_command_line_as_declared(
    command: str, setting: Setting
) -> None:
    param = _params(command)[setting.name]

    expected = setting.default
    if setting.kind == "columns" and isinstance(expected, str):
        expected = [expected]  # a comma-separated list on the command line
    assert setting.flag in param.opts
    assert _parse(command, "--out", "x")[setting.name] == expected
    if setting.kind == "choice":
        assert isinstance(param.type, click.Choice)
        assert tuple(param.type.choices) == setting.choices


def test_backtest_and_data_options_are_the_declared_ones() -> None:
    params = _params("backtest")

    for setting in (*BACKTEST_SETTINGS, *DATA_SETTINGS):
        assert setting.name in params, setting.name
    parsed = _parse("backtest")
    assert parsed["test_size"] == 250
    assert parsed["baselines"] == ["naive", "drift", "seasonal_naive"]
    assert parsed["source"] == "AAPL"


@pytest.mark.parametrize("alias", sorted(TOPOLOGY_ALIASES))
def test_every_topology_alias_the_api_accepts_the_command_line_accepts(alias: str) -> None:
    canonical = TOPOLOGY_ALIASES[alias]

    assert _parse("backtest", "--topology", alias)["topology"] == canonical
    assert fc.Forecaster(topology=alias)._check_params()[0].topology == canonical


def test_an_unknown_topology_lists_the_canonical_names() -> None:
    with pytest.raises(click.BadParameter, match="'n_to_1', 'n_to_n', 'n_to_m', '1_to_n'"):
        _parse("backtest", "--topology", "transformer")


def test_zero_means_off_where_the_declaration_says_so() -> None:
    parsed = _parse("fit", "--out", "x", "--patience", "0", "--clip-grad-norm", "0")

    assert parsed["patience"] is None
    assert parsed["clip_grad_norm"] is None


def test_the_zoo_listing_states_the_declared_defaults_and_choices() -> None:
    by_name = {setting.name: setting for setting in FORECASTER_SETTINGS}
    recurrent = [model for model in list_models() if model["kind"] == "recurrent"]

    assert {model["topology"] for model in recurrent} == set(TOPOLOGIES)
    for model in recurrent:
        for name, option in model["options"].items():
            setting = by_name[name]
            assert option["default"] == setting.default
            allowed = setting.allowed()
            assert option["allowed"] == (list(allowed) if isinstance(allowed, tuple) else allowed)


def test_the_backtest_signature_takes_its_defaults_from_the_declaration() -> None:
    parameters = inspect.signature(fc.backtest).parameters

    for setting in BACKTEST_SETTINGS:
        assert parameters[setting.name].default == setting.default, setting.name
        assert parameters[setting.name].kind is inspect.Parameter.KEYWORD_ONLY
