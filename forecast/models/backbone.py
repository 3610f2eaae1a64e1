"""The recurrent backbone: torch's RNN, LSTM or GRU chosen by a string, padding-aware.

Like torch's own ``RNNBase`` the cell is a mode string, not a class per option. The backbone
adds two things the topology heads need:

- variable-length windows: with ``lengths`` the batch is packed
  (``pack_padded_sequence(enforce_sorted=False)``), so padding never enters the state and the
  final state is the state at each window's true last step;
- :meth:`Backbone.last_hidden`: the top layer's final hidden state with both directions
  concatenated, which for a bidirectional encoder is the only correct "last state" of a
  padded window (the backward direction ends at step 0, not at step T-1).

Legend: **N** windows, **T** lookback steps, **F** input features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from forecast.errors import DataError

__all__ = ["Backbone", "State", "check_lengths", "last_step"]

# LSTM carries (h, c); RNN and GRU carry h. Each tensor is [layers * directions, N, hidden].
State = Tensor | tuple[Tensor, Tensor]

_TORCH_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Backbone(nn.Module):
    """A batch-first ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` selected by ``cell``.

    Parameters
    ----------
    cell
        ``"rnn"``, ``"lstm"`` or ``"gru"``.
    input_size
        Features per step (F for an encoder, K for a decoder fed its previous target).
    hidden_size, num_layers, dropout, bidirectional
        As in ``torch.nn.RNNBase``; ``dropout`` acts between stacked layers.
    nonlinearity
        ``"tanh"`` or ``"relu"`` for ``cell="rnn"``; ignored by LSTM and GRU.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        options: dict[str, object] = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
        self.cell = cell
        self.num_directions = 2 if bidirectional else 1
        self.rnn = _TORCH_CELLS[cell](
            input_size,
            hidden_size,
            num_layers=num_layers,
            # torch warns that dropout needs 2+ layers; the config allows it and it is a no-op.
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
            batch_first=True,
            **options,
        )

    @property
    def output_size(self) -> int:
        """Width of each step's output and of :meth:`last_hidden`: directions * hidden."""
        return self.num_directions * self.rnn.hidden_size

    def forward(
        self, x: Tensor, lengths: Tensor | None = None, state: State | None = None
    ) -> tuple[Tensor, State]:
        """Run the cell over every step.

        Parameters
        ----------
        x
            ``[N, T, input_size]``.
        lengths
            ``[N]`` true lengths (1..T) of right-padded windows, or None when all are T long.
        state
            Initial state, or None for zeros.

        Returns
        -------
        outputs
            ``[N, T, directions * hidden]``; zeros at padded steps.
        state
            Final state, each tensor ``[layers * directions, N, hidden]``, taken at every
            window's true last step.
        """
        if lengths is None:
            return self.rnn(x, state)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        packed_outputs, state = self.rnn(packed, state)
        outputs, _ = pad_packed_sequence(packed_outputs, batch_first=True, total_length=x.shape[1])
        return outputs, state  # outputs [N, T, directions * hidden]

    def last_hidden(self, state: State) -> Tensor:
        """Top layer's final hidden state, directions concatenated: ``[N, directions * hidden]``."""
        hidden = state[0] if isinstance(state, tuple) else state  # [layers * dirs, N, hidden]
        top = hidden[-self.num_directions :]  # [dirs, N, hidden]
        return torch.cat(list(top), dim=-1)  # [N, dirs * hidden]


def check_lengths(lengths: Tensor | None, n_windows: int, lookback: int) -> Tensor | None:
    """Return ``lengths`` as an int64 ``[N]`` tensor, or None when every window is full.

    Raises
    ------
    DataError
        If there is not one length per window or a length is outside ``1..T``.
    """
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    if lengths.dim() != 1 or lengths.shape[0] != n_windows or lengths.is_floating_point():
        raise DataError(
            f"lengths must be one integer per window ({n_windows}), got shape "
            f"{tuple(lengths.shape)} of {lengths.dtype}; pass the lengths from make_windows."
        )
    lengths = lengths.long()
    if n_windows and (int(lengths.min()) < 1 or int(lengths.max()) > lookback):
        raise DataError(
            f"lengths must lie in 1..{lookback} (the lookback), got {int(lengths.min())}.."
            f"{int(lengths.max())}; pad windows on the right and pass their true lengths."
        )
    return None if bool((lengths == lookback).all()) else lengths


def last_step(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Each window's true last step: ``[N, T, F]`` -> ``[N, F]``."""
    if lengths is None:
        return x[:, -1]  # [N, F]
    rows = torch.arange(x.shape[0], device=x.device)
    return x[rows, lengths.to(x.device) - 1]  # [N, F]
