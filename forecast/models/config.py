"""``ModelConfig``: every setting of a recurrent model, checked in one place, saved as JSON.

The dataclass holds only JSON types, so ``to_dict()`` is exactly what is written beside the
weights and ``from_dict()`` is how it comes back. Nothing is checked when a config is created
(so it can be built up step by step); ``validate()`` checks everything at once and is called
by :func:`~forecast.models.build_model` and ``from_dict``.

Legend: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

from forecast.errors import ConfigError
from forecast.settings import CELLS, DECODERS, DEFAULTS, MULTI_STEPS, NONLINEARITIES
from forecast.topologies import canonical_topology

__all__ = ["CELLS", "DECODERS", "MULTI_STEPS", "NONLINEARITIES", "ModelConfig"]

BIDIRECTIONAL_N_TO_N = (
    "bidirectional=True would let N-to-N outputs see future inputs; use topology n_to_1 or "
    "n_to_m, or bidirectional=False."
)
BIDIRECTIONAL_DECODER = (
    "a decoder running backwards would read steps it has not forecast yet, so decoders are "
    "always unidirectional"
)


@dataclass(repr=False)
class ModelConfig:
    """Settings of one recurrent forecaster: a backbone cell plus a topology head.

    Attributes
    ----------
    cell
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    topology
        ``"n_to_1"``, ``"n_to_n"``, ``"n_to_m"`` or ``"1_to_n"`` (aliases accepted; see
        :mod:`forecast.topologies`).
    hidden_size, num_layers, dropout
        Backbone size; ``dropout`` acts between stacked layers (torch semantics).
    bidirectional
        Encoders only (n_to_1, n_to_m); refused for n_to_n and 1_to_n.
    nonlinearity
        ``"tanh"`` or ``"relu"``, used by ``cell="rnn"`` only.
    horizon
        H, the number of steps every ``forecast`` returns.
    decoder
        n_to_m and 1_to_n: ``"autoregressive"`` (a seq2seq decoder) or ``"direct"`` (one
        linear head emitting all H steps from the encoder's final state).
    multi_step
        n_to_1 and n_to_n: ``"recursive"`` (feed each forecast back as the next input),
        ``"direct"`` (n_to_1 only: H outputs from the last state) or ``"auto"``.
    teacher_forcing
        Probability of feeding the decoder the true previous target during training.
    n_features, n_targets
        F and K.
    target_index
        Positions of the K targets among the F inputs, or ``None`` when the targets are not
        inputs. Recursive rollout needs every input to be a target (F == K).
    """

    # Defaults are the Forecaster's, declared once in forecast.settings.
    cell: str = DEFAULTS["cell"]
    topology: str = DEFAULTS["topology"]
    hidden_size: int = DEFAULTS["hidden_size"]
    num_layers: int = DEFAULTS["num_layers"]
    dropout: float = DEFAULTS["dropout"]
    bidirectional: bool = DEFAULTS["bidirectional"]
    nonlinearity: str = DEFAULTS["nonlinearity"]
    horizon: int = DEFAULTS["horizon"]
    decoder: str = DEFAULTS["decoder"]
    multi_step: str = DEFAULTS["multi_step"]
    teacher_forcing: float = DEFAULTS["teacher_forcing"]
    n_features: int = 1
    n_targets: int = 1
    target_index: list[int] | None = None

    # ---------------------------------------------------------------- derived settings
    @property
    def targets_are_inputs(self) -> bool:
        """True when every input feature is a target, so a forecast can be fed back as input."""
        return self.target_index is not None and self.n_features == self.n_targets

    @property
    def rollout(self) -> str | None:
        """How n_to_1 / n_to_n reach H steps: ``"recursive"``, ``"direct"``; None otherwise."""
        topology = canonical_topology(self.topology)
        if topology == "n_to_n":
            return "recursive"
        if topology != "n_to_1":
            return None
        if self.multi_step == "auto":
            # Recursion needs the targets to be the inputs, and carrying a state forward
            # cannot work for the backward direction of a bidirectional encoder.
            use_recursive = self.targets_are_inputs and not self.bidirectional
            return "recursive" if use_recursive else "direct"
        return self.multi_step

    @property
    def train_target(self) -> str:
        """Which training target the model's ``forward`` matches: n_to_1, n_to_n or n_to_m."""
        topology = canonical_topology(self.topology)
        if topology == "n_to_1" and self.rollout == "direct":
            return "n_to_m"  # a direct head learns all H steps at once: y is [N, H, K]
        return "n_to_m" if topology == "1_to_n" else topology

    # ---------------------------------------------------------------- checking
    def validate(self) -> ModelConfig:
        """Check every setting and combination; return a copy with canonical names.

        Raises
        ------
        ConfigError
            One sentence naming the option, what was expected, what came, and the fix.
        """
        cell = _choice("cell", self.cell, CELLS)
        topology = canonical_topology(self.topology)
        nonlinearity = _choice("nonlinearity", self.nonlinearity, NONLINEARITIES)
        if str(self.decoder).strip().lower() == "bidirectional":
            raise ConfigError(
                f"decoder='bidirectional' is refused: {BIDIRECTIONAL_DECODER}; use "
                "decoder='autoregressive' or 'direct' with bidirectional=True for the encoder."
            )
        decoder = _choice("decoder", self.decoder, DECODERS)
        multi_step = _choice("multi_step", self.multi_step, MULTI_STEPS)
        sizes = {
            name: _positive_int(name, getattr(self, name))
            for name in ("hidden_size", "num_layers", "horizon", "n_features", "n_targets")
        }
        _fraction("dropout", self.dropout, upper_open=True)
        _fraction("teacher_forcing", self.teacher_forcing, upper_open=False)
        if not isinstance(self.bidirectional, bool):
            raise ConfigError(
                f"bidirectional must be True or False, got {self.bidirectional!r}; pass a bool."
            )
        target_index = _target_index(self.target_index, self.n_features, self.n_targets)
        config = dataclasses.replace(
            self,
            cell=cell,
            topology=topology,
            nonlinearity=nonlinearity,
            decoder=decoder,
            multi_step=multi_step,
            dropout=float(self.dropout),
            teacher_forcing=float(self.teacher_forcing),
            target_index=target_index,
            **sizes,
        )
        config._check_combination()
        return config

    def _check_combination(self) -> None:
        """Refuse combinations that would see the future or cannot produce H steps."""
        if self.topology == "n_to_n" and self.bidirectional:
            raise ConfigError(BIDIRECTIONAL_N_TO_N)
        if self.topology == "1_to_n" and self.bidirectional:
            raise ConfigError(
                "bidirectional=True is refused for topology 1_to_n: a single input step has no "
                f"other direction to read and {BIDIRECTIONAL_DECODER}; use bidirectional=False, "
                "or topology n_to_m for a bidirectional encoder."
            )
        if self.topology == "n_to_n" and self.multi_step == "direct":
            raise ConfigError(
                "multi_step='direct' is for topology n_to_1 only; n_to_n forecasts by feeding "
                "each output back, so use multi_step='auto' or 'recursive'."
            )
        if self.horizon == 1 or self.rollout != "recursive":
            return
        if not self.targets_are_inputs:
            what = "topology n_to_n" if self.topology == "n_to_n" else "multi_step='recursive'"
            fix = (
                "use topology n_to_1 or n_to_m, or horizon=1"
                if self.topology == "n_to_n"
                else "use multi_step='direct' or 'auto'"
            )
            raise ConfigError(
                f"{what} reaches horizon={self.horizon} only by feeding each forecast back as "
                "the next input, which needs the targets to be the inputs (n_features == "
                f"n_targets and target_index set), got n_features={self.n_features}, "
                f"n_targets={self.n_targets}, target_index={self.target_index}; {fix}."
            )
        if self.bidirectional:
            raise ConfigError(
                "multi_step='recursive' cannot carry a bidirectional state forward (the "
                "backward direction would have to re-read the whole window at every step); "
                "use multi_step='direct' or 'auto', or bidirectional=False."
            )

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict (what is saved beside the weights)."""
        data = dataclasses.asdict(self)
        if data["target_index"] is not None:
            data["target_index"] = list(data["target_index"])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """Rebuild and validate a config saved by ``to_dict``; unknown keys are refused."""
        if not isinstance(data, dict):
            raise ConfigError(
                f"a model config must be a JSON object, got {type(data).__name__}; "
                "pass the dict written by ModelConfig.to_dict()."
            )
        known = [field.name for field in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"model config has unknown key(s) {', '.join(map(repr, unknown))}; the known "
                f"keys are {', '.join(known)}; remove the others or upgrade forecast."
            )
        return cls(**data).validate()

    def __repr__(self) -> str:
        """Show only the settings that differ from the defaults, like the call that built it."""
        changed = [
            f"{field.name}={getattr(self, field.name)!r}"
            for field in dataclasses.fields(self)
            if getattr(self, field.name) != field.default
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


# -------------------------------------------------------------------- small checks
def _choice(option: str, value: object, allowed: tuple[str, ...]) -> str:
    key = str(value).strip().lower()
    if key not in allowed:
        raise ConfigError(f"{option}={value!r} is not known; choose one of {', '.join(allowed)}.")
    return key


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _positive_int(option: str, value: object) -> int:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise ConfigError(f"{option} must be an integer >= 1, got {value!r}; pass e.g. 1.")
    return int(value)  # type: ignore[call-overload]


def _fraction(option: str, value: object, *, upper_open: bool) -> None:
    upper = "1)" if upper_open else "1]"
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok:
        ok = 0.0 <= value < 1.0 if upper_open else 0.0 <= value <= 1.0
    if not ok:
        raise ConfigError(f"{option} must be a number in [0, {upper}, got {value!r}.")


def _target_index(value: object, n_features: int, n_targets: int) -> list[int] | None:
    if value is None:
        return None
    positions = list(value) if isinstance(value, list | tuple) else None
    index = [int(p) for p in positions] if positions and all(map(_is_int, positions)) else []
    valid = (
        len(index) == n_targets
        and len(set(index)) == len(index)
        and all(0 <= position < n_features for position in index)
    )
    if not valid:
        raise ConfigError(
            f"target_index must list {n_targets} distinct input position(s) in "
            f"[0, {n_features}) (one per target), got {value!r}; pass e.g. "
            f"{list(range(min(n_targets, n_features)))} or None when the targets are not inputs."
        )
    return index
