"""The four topology heads on one backbone, and ``build_model`` that picks one by name.

=============  ==============  ===========================================================
topology       class           forward (training)  ->  forecast
=============  ==============  ===========================================================
``n_to_1``     ManyToOne       ``[N, 1, K]`` (recursive) or ``[N, H, K]`` (direct) -> ``[N, H, K]``
``n_to_n``     ManyToMany      ``[N, T, K]`` the step after each input step  -> ``[N, H, K]``
``n_to_m``     EncoderDecoder  ``[N, H, K]`` seq2seq, or a direct head        -> ``[N, H, K]``
``1_to_n``     OneToMany       ``[N, H, K]`` from the last input step only    -> ``[N, H, K]``
=============  ==============  ===========================================================

Legend: **N** windows, **T** lookback steps, **F** input features, **H** horizon,
**K** targets. Windows are right-padded when ``lengths`` is given.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from forecast.errors import ConfigError, DataError
from forecast.models.backbone import Backbone, State, check_lengths, last_step
from forecast.models.config import ModelConfig

__all__ = [
    "EncoderDecoder",
    "ForecastModel",
    "ManyToMany",
    "ManyToOne",
    "OneToMany",
    "build_model",
]


class ForecastModel(nn.Module):
    """Common base of the topology heads.

    Attributes
    ----------
    config
        The validated :class:`ModelConfig` the model was built from.
    train_target
        Which windows ``forward`` is trained against: ``"n_to_1"`` (``[N, 1, K]``),
        ``"n_to_n"`` (``[N, T, K]``) or ``"n_to_m"`` (``[N, H, K]``).
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        self.train_target = config.train_target

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        target: Tensor | None = None,
        *,
        teacher_forcing: float | None = None,
    ) -> Tensor:
        """Training output, shaped like ``train_target``'s y.

        Parameters
        ----------
        x
            ``[N, T, F]`` input windows.
        lengths
            ``[N]`` true lengths of right-padded windows, or None.
        target
            ``[N, H, K]`` true future values; decoders use it for teacher forcing while the
            module is in training mode. Other heads ignore it.
        teacher_forcing
            Overrides ``config.teacher_forcing`` for this call (for a decaying schedule).
        """
        raise NotImplementedError

    def forecast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Forecast the next H steps after each window: ``[N, T, F]`` -> ``[N, H, K]``.

        The caller chooses ``eval()`` and ``torch.no_grad()``.
        """
        raise NotImplementedError

    def extra_repr(self) -> str:
        return repr(self.config)

    def _check_inputs(self, x: Tensor, lengths: Tensor | None) -> Tensor | None:
        """Refuse windows of the wrong shape; return lengths (None when every window is full)."""
        n_features = self.config.n_features
        if not isinstance(x, Tensor) or x.dim() != 3 or x.shape[-1] != n_features or not x.shape[1]:
            got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise DataError(
                f"x must be a tensor [N, T, F] with F={n_features} features and T >= 1, got "
                f"{got}; cut windows with the same features the model was configured with."
            )
        return check_lengths(lengths, x.shape[0], x.shape[1])


def _feedback_order(config: ModelConfig) -> Tensor | None:
    """Permutation that turns a ``[N, K]`` forecast into the next ``[N, F]`` input step."""
    if not config.targets_are_inputs:
        return None
    return torch.argsort(torch.tensor(config.target_index))


def roll_forward(
    backbone: Backbone, head: nn.Linear, order: Tensor | None, state: State, horizon: int
) -> Tensor:
    """Feed each one-step forecast back as the next input, carrying the recurrent state.

    The window is not re-read: the state after the last true step already summarises it,
    so each further step costs one cell update. Returns ``[N, H, K]``.
    """
    step = head(backbone.last_hidden(state))  # [N, K]
    steps = [step]
    for _ in range(horizon - 1):
        # Config validation guarantees order exists here (targets are the inputs).
        next_input = step[:, order].unsqueeze(1)  # [N, 1, F]
        outputs, state = backbone(next_input, state=state)  # outputs [N, 1, hidden]
        step = head(outputs[:, -1])  # [N, K]
        steps.append(step)
    return torch.stack(steps, dim=1)  # [N, H, K]


class ManyToOne(ForecastModel):
    """N-to-1: T steps in, a linear head on the last hidden state.

    ``rollout == "recursive"``: the head emits the next step (``[N, 1, K]`` in training) and
    ``forecast`` feeds it back H-1 times. ``"direct"``: the head emits all H steps at once.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.backbone = _backbone(config, config.n_features, config.bidirectional)
        steps_out = config.horizon if config.rollout == "direct" else 1
        self.head = nn.Linear(self.backbone.output_size, steps_out * config.n_targets)
        self.register_buffer("feedback_order", _feedback_order(config), persistent=False)

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        target: Tensor | None = None,
        *,
        teacher_forcing: float | None = None,
    ) -> Tensor:
        lengths = self._check_inputs(x, lengths)
        _, state = self.backbone(x, lengths)
        last = self.backbone.last_hidden(state)  # [N, dirs * hidden], each window's true end
        return self.head(last).view(x.shape[0], -1, self.config.n_targets)  # [N, 1 or H, K]

    def forecast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        if self.config.rollout == "direct":
            return self(x, lengths)  # [N, H, K]
        lengths = self._check_inputs(x, lengths)
        _, state = self.backbone(x, lengths)
        return roll_forward(
            self.backbone, self.head, self.feedback_order, state, self.config.horizon
        )


class ManyToMany(ForecastModel):
    """N-to-N: an output at every step, each predicting the step after it.

    Unidirectional by construction, so output t has seen inputs 0..t only.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.backbone = _backbone(config, config.n_features, bidirectional=False)
        self.head = nn.Linear(self.backbone.output_size, config.n_targets)
        self.register_buffer("feedback_order", _feedback_order(config), persistent=False)

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        target: Tensor | None = None,
        *,
        teacher_forcing: float | None = None,
    ) -> Tensor:
        """``[N, T, K]``; with ``lengths``, steps at and after a window's length are padding
        and must be masked out of the loss."""
        lengths = self._check_inputs(x, lengths)
        outputs, _ = self.backbone(x, lengths)  # [N, T, hidden]
        return self.head(outputs)  # [N, T, K]

    def forecast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        lengths = self._check_inputs(x, lengths)
        _, state = self.backbone(x, lengths)
        return roll_forward(
            self.backbone, self.head, self.feedback_order, state, self.config.horizon
        )


class EncoderDecoder(ForecastModel):
    """N-to-M seq2seq: an encoder over T steps, then a decoder rolled out over H steps.

    The decoder (same cell, always unidirectional) starts from the encoder's final state
    (directions merged by a linear map when the encoder is bidirectional) and is fed the
    previous target: first the last observed target (read from ``x`` through
    ``target_index``) or a learned start vector, then its own forecast. In training mode
    with ``target`` given, the true previous value is fed instead with probability
    ``teacher_forcing`` (scheduled sampling below 1), drawn from torch's global RNG.
    ``decoder="direct"`` replaces the decoder by one linear head on the encoder state.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        hidden, n_targets = config.hidden_size, config.n_targets
        self.encoder = _backbone(config, config.n_features, config.bidirectional)
        if config.decoder == "direct":
            self.head = nn.Linear(self.encoder.output_size, config.horizon * n_targets)
            return
        self.decoder = _backbone(config, n_targets, bidirectional=False)
        self.readout = nn.Linear(hidden, n_targets)
        n_state = 2 if config.cell == "lstm" else 1  # LSTM bridges h and c separately
        self.bridge = (
            nn.ModuleList(nn.Linear(2 * hidden, hidden) for _ in range(n_state))
            if self.encoder.num_directions == 2
            else None
        )
        if config.target_index is None:
            # Nothing observed to start from: the first decoder input is learned.
            self.start = nn.Parameter(torch.zeros(n_targets))
        else:
            index = torch.tensor(config.target_index)
            self.register_buffer("target_index", index, persistent=False)

    def forward(
        self,
        x: Tensor,
        lengths: Tensor | None = None,
        target: Tensor | None = None,
        *,
        teacher_forcing: float | None = None,
    ) -> Tensor:
        x, lengths = self._encoder_input(x, lengths)
        n_windows, horizon, n_targets = x.shape[0], self.config.horizon, self.config.n_targets
        _, state = self.encoder(x, lengths)
        if self.config.decoder == "direct":
            last = self.encoder.last_hidden(state)  # [N, dirs * hidden]
            return self.head(last).view(n_windows, horizon, n_targets)  # [N, H, K]
        ratio = self.config.teacher_forcing if teacher_forcing is None else teacher_forcing
        if not self.training or target is None or ratio <= 0.0:
            target = None  # forecast mode: the decoder reads only its own output
        elif tuple(target.shape) != (n_windows, horizon, n_targets):
            raise DataError(
                f"target must be [N, H, K] = {[n_windows, horizon, n_targets]}, got "
                f"{list(target.shape)}; pass the n_to_m windows' y for teacher forcing."
            )
        state = self._decoder_state(state)  # each [layers, N, hidden]
        previous = self._first_input(x, lengths)  # [N, K]
        steps = []
        for h in range(horizon):
            outputs, state = self.decoder(previous.unsqueeze(1), state=state)  # [N, 1, hidden]
            step = self.readout(outputs[:, 0])  # [N, K]
            steps.append(step)
            if target is not None and h + 1 < horizon:
                previous = _teacher_mix(target[:, h], step, ratio)  # [N, K]
            else:
                previous = step
        return torch.stack(steps, dim=1)  # [N, H, K]

    def forecast(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        return self(x, lengths)  # no target: autoregressive at every step

    def _encoder_input(self, x: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        return x, self._check_inputs(x, lengths)

    def _first_input(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        if self.config.target_index is None:
            return self.start.expand(x.shape[0], -1)  # [N, K]
        return last_step(x, lengths)[:, self.target_index]  # [N, K]

    def _decoder_state(self, state: State) -> State:
        """Encoder final state -> decoder initial state, merging directions if needed."""
        if self.bridge is None:
            return state
        tensors = state if isinstance(state, tuple) else (state,)
        merged = []
        for bridge, tensor in zip(self.bridge, tensors, strict=True):
            layers = tensor.shape[0] // 2
            paired = tensor.view(layers, 2, *tensor.shape[1:])  # [layers, 2, N, hidden]
            both = torch.cat([paired[:, 0], paired[:, 1]], dim=-1)  # [layers, N, 2*hidden]
            merged.append(bridge(both))  # [layers, N, hidden]
        return tuple(merged) if isinstance(state, tuple) else merged[0]


class OneToMany(EncoderDecoder):
    """1-to-N: the last true input step alone is encoded, then decoded into H steps.

    Accepts ``[N, 1, F]`` or ``[N, T, F]`` (with ``lengths``, the last true step is used).
    """

    def _encoder_input(self, x: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        lengths = self._check_inputs(x, lengths)
        return last_step(x, lengths).unsqueeze(1), None  # [N, 1, F]


def _teacher_mix(truth: Tensor, forecast: Tensor, ratio: float) -> Tensor:
    """Per window, the true previous value with probability ``ratio``, else the forecast."""
    if ratio >= 1.0:
        return truth  # no draw, so the global RNG is untouched at the default ratio
    use_truth = torch.rand(truth.shape[0], 1, device=truth.device) < ratio  # [N, 1]
    return torch.where(use_truth, truth, forecast)  # [N, K]


def _backbone(config: ModelConfig, input_size: int, bidirectional: bool) -> Backbone:
    return Backbone(
        config.cell,
        input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        bidirectional=bidirectional,
        nonlinearity=config.nonlinearity,
    )


_HEADS: dict[str, type[ForecastModel]] = {
    "n_to_1": ManyToOne,
    "n_to_n": ManyToMany,
    "n_to_m": EncoderDecoder,
    "1_to_n": OneToMany,
}


def build_model(config: ModelConfig) -> ForecastModel:
    """Validate ``config`` and build its topology head on its backbone.

    Parameters are initialised from torch's global RNG: the same seed gives the same model.

    Raises
    ------
    ConfigError
        If a setting or a combination is invalid (see :meth:`ModelConfig.validate`).
    """
    if not isinstance(config, ModelConfig):
        raise ConfigError(
            f"build_model needs a ModelConfig, got {type(config).__name__}; build one with "
            "ModelConfig(...) or ModelConfig.from_dict(saved)."
        )
    config = config.validate()
    return _HEADS[config.topology](config)
