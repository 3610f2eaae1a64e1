"""What the zoo holds: every cell x topology and every baseline, with its options.

``list_models()`` is data (JSON-ready dicts) for programs; ``model_table()`` is the same as
text, which ``forecast models`` prints. Defaults are read from :class:`ModelConfig` and from
the baselines' signatures, so this listing cannot drift from the code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from forecast.models.baselines import BASELINES, baseline_options
from forecast.models.config import ModelConfig
from forecast.settings import CELLS, FORECASTER_SETTINGS
from forecast.topologies import TOPOLOGIES

__all__ = ["list_models", "model_table"]

_SETTINGS = {setting.name: setting for setting in FORECASTER_SETTINGS}

_TOPOLOGY_SUMMARY = {
    "n_to_1": "last state -> next step, or H steps at once",
    "n_to_n": "every step -> the step after it",
    "n_to_m": "encoder-decoder over the next H steps",
    "1_to_n": "last bar alone -> decoder over H steps",
}
_BASELINE_SUMMARY = {
    "naive": "last observed price",
    "seasonal_naive": "price one season earlier",
    "drift": "line from the first to the last price",
    "mean": "mean of all prices so far",
    "ridge": "ridge on lagged log returns, H outputs",
}
# Allowed values of every recurrent option; defaults come from ModelConfig itself, and both
# from the one declaration in forecast.settings.
_ALLOWED: dict[str, str | tuple[Any, ...]] = {
    name: _SETTINGS[name].allowed()
    for name in (
        "hidden_size",
        "num_layers",
        "dropout",
        "bidirectional",
        "nonlinearity",
        "horizon",
        "decoder",
        "multi_step",
        "teacher_forcing",
    )
}
_OPTION_NOTES = {
    "bidirectional": "  (encoders: n_to_1, n_to_m)",
    "nonlinearity": "  (cell rnn only)",
    "decoder": "  (n_to_m, 1_to_n)",
    "multi_step": "  (n_to_1; n_to_n is always recursive)",
    "teacher_forcing": "  (autoregressive decoders, training only)",
}
_COMMON = ("hidden_size", "num_layers", "dropout", "bidirectional", "horizon")
_BY_TOPOLOGY = {
    "n_to_1": ("multi_step",),
    "n_to_n": (),
    "n_to_m": ("decoder", "teacher_forcing"),
    "1_to_n": ("decoder", "teacher_forcing"),
}
_BIDIRECTIONAL = {"n_to_1": True, "n_to_n": False, "n_to_m": True, "1_to_n": False}


def list_models() -> list[dict[str, Any]]:
    """Describe every model: recurrent cells x topologies, then the baselines.

    Returns
    -------
    list of dict
        Each with ``name`` (``"lstm/n_to_m"``, ``"naive"``), ``kind`` (``"recurrent"`` or
        ``"baseline"``), ``cell``, ``topology``, ``bidirectional`` (whether it is allowed),
        ``summary`` and ``options``: ``{option: {"default": ..., "allowed": ...}}``.
    """
    defaults = {field.name: field.default for field in dataclasses.fields(ModelConfig)}
    models: list[dict[str, Any]] = []
    for cell in CELLS:
        for topology in TOPOLOGIES:
            names = list(_COMMON) + (["nonlinearity"] if cell == "rnn" else [])
            names += _BY_TOPOLOGY[topology]
            if not _BIDIRECTIONAL[topology]:
                names.remove("bidirectional")
            options = {
                name: {"default": defaults[name], "allowed": _allowed(name)} for name in names
            }
            models.append(
                {
                    "name": f"{cell}/{topology}",
                    "kind": "recurrent",
                    "cell": cell,
                    "topology": topology,
                    "bidirectional": _BIDIRECTIONAL[topology],
                    "summary": _TOPOLOGY_SUMMARY[topology],
                    "options": options,
                }
            )
    for name in BASELINES:
        options = {
            option: {"default": default, "allowed": _baseline_allowed(option)}
            for option, default in baseline_options(name).items()
        }
        models.append(
            {
                "name": name,
                "kind": "baseline",
                "cell": None,
                "topology": None,
                "bidirectional": False,
                "summary": _BASELINE_SUMMARY[name],
                "options": options,
            }
        )
    return models


def model_table() -> str:
    """A readable text table of :func:`list_models`, then each option's default and values."""
    recurrent = [("model", "bidirectional", "options", "what it does")]
    baselines = [("baseline", "options", "what it does")]
    for model in list_models():
        if model["kind"] == "baseline":
            options = ", ".join(model["options"]) or "-"
            baselines.append((model["name"], options, model["summary"]))
            continue
        specific = [name for name in model["options"] if name not in _COMMON]
        specific = [name for name in specific if name != "nonlinearity"]  # rnn-only, see below
        bidirectional = "yes" if model["bidirectional"] else "no"
        recurrent.append(
            (model["name"], bidirectional, ", ".join(specific) or "-", model["summary"])
        )
    defaults = {field.name: field.default for field in dataclasses.fields(ModelConfig)}
    lines = [*_columns(recurrent), "", *_columns(baselines), "", "recurrent options:"]
    for name, allowed in _ALLOWED.items():
        note = _OPTION_NOTES.get(name, "")
        text = f"{_allowed_text(allowed)}{note}"
        lines.append(f"  {name:<16} default {defaults[name]!r:<17} {text}")
    lines += ["", "baseline options:"]
    for name in BASELINES:
        for option, default in baseline_options(name).items():
            label = f"{name}.{option}"
            lines.append(f"  {label:<22} default {default!r:<11} {_baseline_allowed(option)}")
    return "\n".join(line.rstrip() for line in lines)


def _columns(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns under a dashed rule."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return lines


def _allowed(name: str) -> str | list[Any]:
    allowed = _ALLOWED[name]
    return list(allowed) if isinstance(allowed, tuple) else allowed


def _allowed_text(allowed: str | tuple[Any, ...]) -> str:
    return allowed if isinstance(allowed, str) else " | ".join(map(str, allowed))


def _baseline_allowed(option: str) -> str:
    return {"season": "int >= 1", "lags": "int >= 1", "alpha": "float >= 0"}[option]
