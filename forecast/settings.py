"""Every user-facing setting, declared once: name, default, allowed values, aliases, help.

This module is the one source the rest reads. ``Forecaster.__init__`` takes its defaults from
:data:`DEFAULTS`; :class:`~forecast.models.ModelConfig` and
:class:`~forecast.training.TrainConfig` take theirs from the same mapping; the command line
builds one ``--option`` per :class:`Setting` (type, range, choices, aliases, help, default), and
``forecast models`` prints the allowed values from here. A new option or alias written here
appears in all of them at once.

It imports nothing heavy (no torch, pandas or scikit-learn), so ``forecast --help`` can read
it in milliseconds.

Legend: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from forecast.topologies import TOPOLOGIES, TOPOLOGY_ALIASES

__all__ = [
    "BACKTEST_DEFAULTS",
    "BACKTEST_SETTINGS",
    "CELLS",
    "DATA_DEFAULTS",
    "DATA_SETTINGS",
    "DECODERS",
    "DEFAULTS",
    "DEFAULT_BASELINES",
    "DEFAULT_DATASET",
    "FORECASTER_SETTINGS",
    "LOSSES",
    "MULTI_STEPS",
    "NAN_POLICIES",
    "NONLINEARITIES",
    "OPTIMIZERS",
    "PRECISIONS",
    "REPRESENTATIONS",
    "SAMPLING_SCHEDULES",
    "SCALERS",
    "WINDOWS",
    "Setting",
    "canonical_choice",
]

# ------------------------------------------------------------------ names of choices
CELLS: tuple[str, ...] = ("rnn", "lstm", "gru")
NONLINEARITIES: tuple[str, ...] = ("tanh", "relu")
DECODERS: tuple[str, ...] = ("autoregressive", "direct")
MULTI_STEPS: tuple[str, ...] = ("auto", "recursive", "direct")
REPRESENTATIONS: tuple[str, ...] = ("levels", "simple_return", "log_return")
SCALERS: tuple[str, ...] = ("standard", "minmax", "robust", "none")
LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")
NAN_POLICIES: tuple[str, ...] = ("drop", "ffill", "error")
WINDOWS: tuple[str, ...] = ("expanding", "sliding")
SAMPLING_SCHEDULES: tuple[str, ...] = ("constant", "linear", "exponential", "inverse_sigmoid")
DEFAULT_DATASET = "AAPL"
DEFAULT_BASELINES: tuple[str, ...] = ("naive", "drift", "seasonal_naive")

Kind = Literal["int", "float", "bool", "str", "choice", "columns", "date"]


@dataclass(frozen=True)
class Setting:
    """One option: what it is called, what it defaults to, and what it accepts.

    Attributes
    ----------
    name
        The Python keyword (``hidden_size``); the command line spells it ``--hidden-size``.
    default
        The one default, used by the estimator's signature, the configs and the CLI.
    kind
        ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"choice"`` (one of ``choices``),
        ``"columns"`` (a column name or a list of them; comma-separated on the command line)
        or ``"date"`` (``YYYY-MM-DD``).
    help
        One line for ``--help`` and ``forecast models``.
    choices, aliases
        For ``kind="choice"``: the canonical names, and other spellings mapped to them.
    minimum, maximum, min_open, max_open
        Range of a number (inclusive unless ``*_open``).
    zero_is_none
        The number 0 means "off" and is passed on as ``None`` (``patience``, ``clip_grad_norm``).
    on_cli
        Whether the command line offers it (``progress`` is ``--quiet`` there).
    """

    name: str
    default: Any
    kind: Kind
    help: str
    choices: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    min_open: bool = False
    max_open: bool = False
    zero_is_none: bool = False
    on_cli: bool = True

    @property
    def flag(self) -> str:
        """The command-line spelling: ``--hidden-size``."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str | tuple[Any, ...]:
        """What the option accepts: the choices, or a short text such as ``int >= 1``."""
        if self.kind == "choice":
            return self.choices
        if self.kind == "bool":
            return (False, True)
        if self.kind in ("int", "float"):
            low = "" if self.minimum is None else _bound(self.minimum, self.kind)
            high = "" if self.maximum is None else _bound(self.maximum, self.kind)
            if low and high:
                left = "(" if self.min_open else "["
                right = ")" if self.max_open else "]"
                return f"{self.kind} in {left}{low}, {high}{right}"
            if low:
                return f"{self.kind} {'>' if self.min_open else '>='} {low}"
            if high:
                return f"{self.kind} {'<' if self.max_open else '<='} {high}"
            return self.kind
        return {"columns": "column name(s)", "date": "YYYY-MM-DD"}.get(self.kind, self.kind)


def _bound(value: float, kind: str) -> str:
    return str(int(value)) if kind == "int" else f"{value:g}"


def canonical_choice(setting: Setting, value: object) -> str | None:
    """The canonical name of ``value`` for a choice setting, or None when it is not one."""
    key = str(value).strip().lower()
    if key in setting.choices:
        return key
    return setting.aliases.get(key)


def _choice(name: str, default: str, choices: tuple[str, ...], help: str, **kw: Any) -> Setting:
    return Setting(name, default, "choice", help, choices=choices, **kw)


def _int(name: str, default: int | None, help: str, minimum: int | None = 1, **kw: Any) -> Setting:
    return Setting(name, default, "int", help, minimum=minimum, **kw)


# ------------------------------------------------------------------ the estimator's settings
FORECASTER_SETTINGS: tuple[Setting, ...] = (
    _choice("cell", "lstm", CELLS, "Recurrent cell; nonlinearity applies to rnn."),
    _choice(
        "topology",
        "n_to_m",
        TOPOLOGIES,
        "How input steps map to outputs (see forecast.topologies).",
        aliases=MappingProxyType(TOPOLOGY_ALIASES),
    ),
    _int("lookback", 60, "T, input steps per window (1_to_n reads the last bar only)."),
    Setting(
        "pad",
        False,
        "bool",
        "Also use origins with fewer than lookback bars (down to min_lookback), packed.",
    ),
    _int("min_lookback", 1, "With pad: the fewest bars a window may have."),
    _int("horizon", 5, "H, steps forecast after each origin."),
    Setting("target", "Close", "columns", "Column(s) to forecast, in price units."),
    Setting(
        "features",
        None,
        "columns",
        "Input columns [default: the target(s) for n_to_1/n_to_n, Open/High/Low/Close else].",
    ),
    _int("hidden_size", 64, "Units per recurrent layer."),
    _int("num_layers", 1, "Stacked recurrent layers."),
    Setting(
        "dropout",
        0.0,
        "float",
        "Dropout between stacked layers.",
        minimum=0,
        maximum=1,
        max_open=True,
    ),
    Setting("bidirectional", False, "bool", "Bidirectional encoder (n_to_1, n_to_m only)."),
    _choice("nonlinearity", "tanh", NONLINEARITIES, "Activation of cell rnn."),
    _choice(
        "decoder",
        "autoregressive",
        DECODERS,
        "n_to_m/1_to_n: a decoder fed its own output, or one multi-output head.",
    ),
    _choice(
        "multi_step",
        "auto",
        MULTI_STEPS,
        "n_to_1: roll the next-step model forward, or H outputs at once.",
    ),
    Setting(
        "teacher_forcing",
        # 1.0: the decoder is always fed the true previous value in training.
        1.0,
        "float",
        "Share of decoder steps fed the true previous value in training.",
        minimum=0,
        maximum=1,
    ),
    _choice(
        "sampling_schedule",
        "constant",
        SAMPLING_SCHEDULES,
        "Scheduled sampling: how teacher forcing decays over training.",
    ),
    _choice(
        "representation",
        "log_return",
        REPRESENTATIONS,
        "What the network learns on (forecasts are always prices).",
    ),
    _choice("scaler", "standard", SCALERS, "Scaler fitted on the training rows only."),
    _int("epochs", 30, "Training epochs (at most, with early stopping)."),
    _int("batch_size", 64, "Windows per training batch."),
    Setting("lr", 1e-3, "float", "Learning rate.", minimum=0, min_open=True),
    _choice("optimizer", "adam", OPTIMIZERS, "Optimizer."),
    Setting("weight_decay", 0.0, "float", "Weight decay (L2; decoupled for adamw).", minimum=0),
    _choice("loss", "mse", LOSSES, "Training loss."),
    Setting(
        "clip_grad_norm",
        # On by default: one bad batch of returns can explode an RNN.
        1.0,
        "float",
        "Gradient-norm clip (0: off).",
        minimum=0,
        zero_is_none=True,
    ),
    _int(
        "patience",
        5,
        "Early-stopping patience in epochs (0: off).",
        minimum=0,
        zero_is_none=True,
    ),
    Setting(
        "val_fraction",
        0.1,
        "float",
        "Time-ordered tail of the windows used for early stopping.",
        minimum=0,
        maximum=0.5,
        max_open=True,
    ),
    _int("seed", 0, "Seed of weights, shuffling and dropout.", minimum=None),
    Setting("device", "auto", "str", "auto, cpu, cuda or cuda:N."),
    Setting(
        "progress",
        None,
        "bool",
        "Show training progress (None: only when stderr is a terminal).",
        on_cli=False,
    ),
    _choice(
        "nan_policy",
        "drop",
        NAN_POLICIES,
        "What to do with NaN/inf rows.",
        on_cli=False,  # the command line applies it when loading (see DATA_SETTINGS)
    ),
    Setting(
        "warm_start",
        False,
        "bool",
        "A second fit starts from the current weights.",
        on_cli=False,  # --warm-start on the command line is the backtest's
    ),
    _choice(
        "precision",
        "float32",
        PRECISIONS,
        "bfloat16: mixed-precision training (needs native bfloat16).",
    ),
)

# ------------------------------------------------------------------ loading data
DATA_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "source",
        DEFAULT_DATASET,
        "str",
        "Bundled name, CSV/Parquet path, or ticker (prefix yahoo:, file:, bundled: to be "
        "explicit).",
    ),
    Setting("start", None, "date", "First date (YYYY-MM-DD)."),
    Setting("end", None, "date", "End date, exclusive (YYYY-MM-DD)."),
    Setting("interval", "1d", "str", "Bar size for tickers (1d, 1h, ...)."),
    Setting("offline", False, "bool", "Read tickers only from the cache."),
    _choice("nan_policy", "drop", NAN_POLICIES, "What to do with NaN/inf rows."),
)

# ------------------------------------------------------------------ walk-forward backtests
BACKTEST_SETTINGS: tuple[Setting, ...] = (
    _int("test_size", 250, "Bars in the test region (the last ones)."),
    Setting("test_start", None, "date", "First date of the test region (overrides test_size)."),
    _int("folds", 5, "Walk-forward folds in the test region."),
    _int("step", None, "Bars between forecast origins [default: the horizon]."),
    _int("refit", 1, "Refit every k folds (0: fit once).", minimum=0),
    _choice("window", "expanding", WINDOWS, "Expanding or sliding training window."),
    _int("train_length", None, "Training bars for window sliding."),
    _int("gap", 0, "Bars left out between training and test.", minimum=0),
    Setting(
        "baselines",
        DEFAULT_BASELINES,
        "columns",
        "Baselines shown beside the model (naive always).",
    ),
    Setting(
        "cost_bps", 1.0, "float", "Trading cost in basis points per unit of turnover.", minimum=0
    ),
    _int(
        "n_jobs",
        None,
        "Refits fitted side by side [default: one per thread when the model allows; 1 with "
        "dropout or scheduled sampling].",
    ),
    Setting(
        "warm_start",
        False,
        "bool",
        "Start each refit from the previous fold's weights (faster; not the same work).",
    ),
    _int("warm_epochs", None, "Epochs of a warm-started refit [default: epochs / 3]."),
)


def _defaults(settings: tuple[Setting, ...]) -> Mapping[str, Any]:
    return MappingProxyType({setting.name: setting.default for setting in settings})


DEFAULTS: Mapping[str, Any] = _defaults(FORECASTER_SETTINGS)
"""``Forecaster`` parameter -> default (read-only)."""
DATA_DEFAULTS: Mapping[str, Any] = _defaults(DATA_SETTINGS)
BACKTEST_DEFAULTS: Mapping[str, Any] = _defaults(BACKTEST_SETTINGS)
