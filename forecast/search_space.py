"""What ``tune`` searches: default ranges for the Forecaster's settings, the rules that say which
settings apply to which cell and topology, and the TOML format that overrides them.

A space maps a Forecaster parameter to one of

- a fixed value (``cell = "gru"``): not searched;
- a list of choices (``lookback = [20, 40, 60]``): categorical;
- a range table (``lr = {low = 1e-4, high = 1e-2, log = true}``; ``step`` optional): integer
  when both ends are integers, else float.

A parameter absent from the space keeps the base Forecaster's value. Settings that do not
apply to the sampled cell or topology are not sampled at all (``nonlinearity`` only for
``rnn``; ``decoder`` and ``teacher_forcing`` only for ``n_to_m``; ``multi_step`` only for
``n_to_1``; ``bidirectional`` only for encoders that cannot see the future; ``dropout`` only
between stacked layers; ``lookback`` not for ``1_to_n``), so trials never differ in a setting
the model ignores, and the sampler learns from comparable trials.

TOML (``forecast tune --space FILE``)::

    [space]
    cell = ["lstm", "gru"]
    hidden_size = {low = 8, high = 64, log = true}
    epochs = 10
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forecast.errors import ConfigError
from forecast.topologies import canonical_topology

__all__ = ["DEFAULT_SPACE", "Choice", "Range", "applies", "parse_space", "read_space"]


@dataclass(frozen=True)
class Range:
    """A numeric range; integer when ``low`` and ``high`` are both integers."""

    low: float
    high: float
    log: bool = False
    step: float | None = None

    @property
    def is_int(self) -> bool:
        return isinstance(self.low, int) and isinstance(self.high, int)


@dataclass(frozen=True)
class Choice:
    """A categorical choice among JSON-able values."""

    options: tuple[Any, ...]


Dimension = Range | Choice | Any  # anything else is a fixed value

# The default search, for the settings that matter most on daily bars (about a year of tuning
# folds). Epochs are capped low because early stopping (patience) ends most fits sooner.
DEFAULT_SPACE: dict[str, Dimension] = {
    "cell": Choice(("lstm", "gru", "rnn")),
    "lookback": Choice((10, 20, 40, 60, 90)),
    "hidden_size": Range(8, 128, log=True),
    "num_layers": Range(1, 2),
    "dropout": Range(0.0, 0.4),
    "lr": Range(1e-4, 1e-2, log=True),
    "epochs": Range(5, 40),
    "batch_size": Choice((32, 64, 128)),
    "representation": Choice(("log_return", "simple_return")),
    "nonlinearity": Choice(("tanh", "relu")),
    "teacher_forcing": Range(0.5, 1.0),
}

# Which settings a model with these (already sampled) parameters reads at all.
_APPLIES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "nonlinearity": lambda p: p["cell"] == "rnn",
    "decoder": lambda p: _topology(p) == "n_to_m",
    "teacher_forcing": lambda p: _topology(p) == "n_to_m" and p["decoder"] == "autoregressive",
    "multi_step": lambda p: _topology(p) == "n_to_1",
    "bidirectional": lambda p: _topology(p) in ("n_to_1", "n_to_m"),
    "dropout": lambda p: int(p["num_layers"]) > 1,
    "lookback": lambda p: _topology(p) != "1_to_n",
}
# Sampled first, because the rules above read them.
ORDER: tuple[str, ...] = ("cell", "topology", "decoder", "num_layers")


def applies(name: str, params: Mapping[str, Any]) -> bool:
    """Whether setting ``name`` changes a model with ``params`` (see the module docstring)."""
    rule = _APPLIES.get(name)
    return True if rule is None else bool(rule(params))


def _topology(params: Mapping[str, Any]) -> str:
    return canonical_topology(params["topology"])


def parse_space(table: Mapping[str, Any], known: set[str]) -> dict[str, Dimension]:
    """A space from a TOML-like table (see the module docstring); names must be in ``known``
    (spelled like the parameters or like the command-line flags: ``num-layers``)."""
    table = {str(name).replace("-", "_"): value for name, value in table.items()}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"the search space names {unknown}, which are not Forecaster settings; use any of "
            f"{', '.join(sorted(known))}."
        )
    space: dict[str, Dimension] = {}
    for name, value in table.items():
        if isinstance(value, list):
            if not value:
                raise ConfigError(f"the search space gives {name} an empty list of choices.")
            space[name] = Choice(tuple(value))
        elif isinstance(value, dict):
            space[name] = _range(name, value)
        else:
            space[name] = value
    return space


def _range(name: str, table: Mapping[str, Any]) -> Range:
    extra = sorted(set(table) - {"low", "high", "log", "step"})
    if extra or "low" not in table or "high" not in table:
        raise ConfigError(
            f"the search space's {name} = {dict(table)} is not a range; write "
            f"{name} = {{low = ..., high = ...}} (optional log = true, step = ...)."
        )
    low, high = table["low"], table["high"]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not low <= high:
        raise ConfigError(
            f"the search space's {name} needs numbers low <= high, got {low}, {high}."
        )
    log = bool(table.get("log", False))
    if log and low <= 0:
        raise ConfigError(f"the search space's {name} is log-scaled, so low must be > 0.")
    return Range(low, high, log=log, step=table.get("step"))


def read_space(path: str | Path, known: set[str]) -> dict[str, Dimension]:
    """Read the ``[space]`` table of a TOML file (the whole file when it has no such table)."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the search space {str(path)!r} as TOML ({exc}).") from None
    return parse_space(document.get("space", document), known)
