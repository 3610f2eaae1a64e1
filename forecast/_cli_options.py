"""Click options built from :mod:`forecast.settings`, so the command line never retypes one.

Each :class:`~forecast.settings.Setting` becomes one ``--option`` with its type, range,
choices (aliases accepted, canonical names shown), default and help. Values reach the
command function already in the form the API takes: a list for several columns, ``None`` for
a 0 that means "off", a canonical name for an alias.

Imports click and the settings only: building ``--help`` must not import torch or pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import click

from forecast.settings import Setting, canonical_choice

__all__ = ["AliasChoice", "option_for", "options_for"]

F = Callable[..., Any]


class AliasChoice(click.Choice):
    """``click.Choice`` over a setting's canonical names that also accepts its aliases.

    An alias converts to its canonical name, so ``--topology seq2seq`` runs as ``n_to_m``.
    """

    def __init__(self, setting: Setting) -> None:
        super().__init__(list(setting.choices), case_sensitive=False)
        self.setting = setting

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        canonical = canonical_choice(self.setting, value)
        if canonical is not None:
            return canonical
        return super().convert(value, param, ctx)


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


def _split_columns(value: Any) -> list[str] | None:
    if value is None:
        return None
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    names = [str(item).strip() for item in items if str(item).strip()]
    return names or None


def _number_type(setting: Setting) -> click.ParamType:
    bounded = setting.minimum is not None or setting.maximum is not None
    if setting.kind == "int":
        if not bounded:
            return click.INT
        return click.IntRange(
            None if setting.minimum is None else int(setting.minimum),
            None if setting.maximum is None else int(setting.maximum),
            min_open=setting.min_open,
            max_open=setting.max_open,
        )
    if not bounded:
        return click.FLOAT
    return click.FloatRange(
        setting.minimum, setting.maximum, min_open=setting.min_open, max_open=setting.max_open
    )


def _shown_default(setting: Setting) -> Any:
    if setting.kind == "columns" and isinstance(setting.default, list | tuple):
        return ",".join(setting.default)
    return setting.default


def option_for(
    setting: Setting,
    *,
    flag: str | None = None,
    default: Any = ...,
    help: str | None = None,
    **extra: Any,
) -> Callable[[F], F]:
    """The ``click.option`` decorator for ``setting``.

    Parameters
    ----------
    setting
        What the option is.
    flag
        Another spelling on the command line (``--data`` for ``source``); the keyword the
        command receives is still ``setting.name``.
    default, help
        Overrides for this command only (e.g. ``predict --data`` defaults to the model's data).
    extra
        Passed to ``click.option`` (``envvar=...``).
    """
    flag = flag or setting.flag
    value = setting.default if default is ... else default
    text = setting.help if help is None else help
    kwargs: dict[str, Any] = {"help": text, **extra}
    if value is not None:
        kwargs["default"] = _shown_default(setting) if default is ... else value
        kwargs["show_default"] = True
    callback: Callable[[click.Context, click.Parameter, Any], Any] | None = None
    if setting.kind == "bool":
        if setting.default:
            return click.option(f"{flag}/--no-{flag[2:]}", setting.name, **kwargs)
        kwargs.pop("show_default", None)
        return click.option(flag, setting.name, is_flag=True, **kwargs)
    if setting.kind == "choice":
        kwargs["type"] = AliasChoice(setting)
        if setting.aliases:
            kwargs["help"] = f"{text} Aliases: {', '.join(sorted(setting.aliases))}."
    elif setting.kind in ("int", "float"):
        kwargs["type"] = _number_type(setting)
        if setting.zero_is_none:

            def callback(_ctx: click.Context, _param: click.Parameter, number: Any) -> Any:
                return None if number == 0 else number

    elif setting.kind == "date":
        callback = _check_date
    elif setting.kind == "columns":

        def callback(_ctx: click.Context, _param: click.Parameter, names: Any) -> Any:
            return _split_columns(names)

    if callback is not None:
        kwargs["callback"] = callback
    return click.option(flag, setting.name, **kwargs)


def options_for(settings: Sequence[Setting], **flags: str) -> Callable[[F], F]:
    """One decorator adding an option per setting shown on the command line, in order.

    ``flags`` renames options on the command line: ``options_for(DATA_SETTINGS,
    source="--data")``.
    """
    decorators = [
        option_for(setting, flag=flags.get(setting.name)) for setting in settings if setting.on_cli
    ]

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply
