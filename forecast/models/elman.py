"""An explicit Elman network: the recurrence of ``torch.nn.RNN`` written out step by step.

For teaching and inspection. Each layer computes

.. math::

    s_t = f(U x_t + W s_{t-1} + b), \\qquad b = b_{ih} + b_{hh}

with ``U`` and ``W`` two ``nn.Linear`` maps. The bias is split between them exactly as torch
splits it (``b_ih`` on ``U``, ``b_hh`` on ``W``), so :meth:`ElmanRNN.load_from_torch` copies
an ``nn.RNN``'s weights one to one and the outputs agree to rounding. Unlike ``nn.RNN``,
``forward`` returns every layer's hidden state at every step, so the state can be read and
plotted at any point of a window.

Legend: **N** windows, **T** lookback steps, **F** input features.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from forecast.errors import ConfigError

__all__ = ["ElmanRNN"]

_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu}


class ElmanRNN(nn.Module):
    """A batch-first Elman RNN, layer by layer and step by step.

    Parameters
    ----------
    input_size
        F, features per step.
    hidden_size
        Width of the state ``s_t``.
    num_layers
        Stacked layers; layer l > 0 reads layer l-1's states.
    nonlinearity
        ``"tanh"`` or ``"relu"``.
    bias
        Whether ``U`` and ``W`` carry biases (``b_ih`` and ``b_hh``).

    Examples
    --------
    >>> rnn = torch.nn.RNN(3, 8, batch_first=True)
    >>> elman = ElmanRNN.from_torch(rnn)
    >>> states, final = elman(torch.randn(2, 5, 3))
    >>> states.shape, final.shape
    (torch.Size([2, 5, 8]), torch.Size([1, 2, 8]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
    ) -> None:
        super().__init__()
        if nonlinearity not in _ACTIVATIONS:
            raise ConfigError(
                f"nonlinearity={nonlinearity!r} is not known; choose one of tanh, relu."
            )
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}.")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.nonlinearity = nonlinearity
        self.bias = bias
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.U = nn.ModuleList(nn.Linear(size, hidden_size, bias=bias) for size in sizes)
        self.W = nn.ModuleList(
            nn.Linear(hidden_size, hidden_size, bias=bias) for _ in range(num_layers)
        )

    def forward(
        self, x: Tensor, state: Tensor | None = None, *, all_layers: bool = False
    ) -> tuple[Tensor, Tensor]:
        """Run every layer over every step.

        Parameters
        ----------
        x
            ``[N, T, F]``.
        state
            Initial states ``[layers, N, hidden]``, or None for zeros (as ``nn.RNN``).
        all_layers
            Return the states of every layer, not only the top one.

        Returns
        -------
        states
            ``[N, T, hidden]``: the top layer's ``s_t`` at every step (what ``nn.RNN`` calls
            ``output``), or ``[layers, N, T, hidden]`` with ``all_layers=True``.
        final
            ``[layers, N, hidden]``: each layer's state after the last step (``h_n``).
        """
        f = _ACTIVATIONS[self.nonlinearity]
        n_windows, n_steps = x.shape[0], x.shape[1]
        if state is None:
            state = x.new_zeros(self.num_layers, n_windows, self.hidden_size)
        layer_input, layer_states, finals = x, [], []
        for layer in range(self.num_layers):
            # U x_t does not depend on the recurrence, so compute it for all steps at once.
            drive = self.U[layer](layer_input)  # [N, T, hidden]
            s = state[layer]  # [N, hidden]
            steps = []
            for t in range(n_steps):
                s = f(drive[:, t] + self.W[layer](s))  # [N, hidden]
                steps.append(s)
            layer_input = torch.stack(steps, dim=1)  # [N, T, hidden]
            layer_states.append(layer_input)
            finals.append(s)
        final = torch.stack(finals)  # [layers, N, hidden]
        if all_layers:
            return torch.stack(layer_states), final  # [layers, N, T, hidden]
        return layer_input, final  # [N, T, hidden]

    @torch.no_grad()
    def load_from_torch(self, rnn: nn.RNN) -> ElmanRNN:
        """Copy an ``nn.RNN``'s weights: ``weight_ih_l{k}`` -> ``U[k]``, ``weight_hh_l{k}`` ->
        ``W[k]``, ``bias_ih_l{k}`` / ``bias_hh_l{k}`` -> their biases. Returns ``self``.

        Raises
        ------
        ConfigError
            If ``rnn`` is not a unidirectional ``nn.RNN`` of the same sizes, nonlinearity and
            bias setting (the copy would not reproduce its outputs).
        """
        if not isinstance(rnn, nn.RNN):
            raise ConfigError(
                f"load_from_torch needs a torch.nn.RNN, got {type(rnn).__name__}; LSTM and GRU "
                "cells are not Elman networks."
            )
        theirs = (
            rnn.input_size,
            rnn.hidden_size,
            rnn.num_layers,
            rnn.nonlinearity,
            rnn.bias,
            rnn.bidirectional,
            rnn.proj_size,
        )
        ours = (
            self.input_size,
            self.hidden_size,
            self.num_layers,
            self.nonlinearity,
            self.bias,
            False,
            0,
        )
        if theirs != ours:
            fields = "input_size, hidden_size, num_layers, nonlinearity, bias, bidirectional, "
            raise ConfigError(
                f"the nn.RNN does not match this ElmanRNN ({fields}proj_size: {theirs} vs "
                f"{ours}); build one with ElmanRNN.from_torch(rnn)."
            )
        for layer in range(self.num_layers):
            self.U[layer].weight.copy_(getattr(rnn, f"weight_ih_l{layer}"))
            self.W[layer].weight.copy_(getattr(rnn, f"weight_hh_l{layer}"))
            if self.bias:
                self.U[layer].bias.copy_(getattr(rnn, f"bias_ih_l{layer}"))
                self.W[layer].bias.copy_(getattr(rnn, f"bias_hh_l{layer}"))
        return self

    @classmethod
    def from_torch(cls, rnn: nn.RNN) -> ElmanRNN:
        """A new ``ElmanRNN`` with ``rnn``'s sizes, nonlinearity, dtype and weights.

        ``batch_first`` is not copied: this module is always batch-first.
        """
        if not isinstance(rnn, nn.RNN):
            raise ConfigError(
                f"from_torch needs a torch.nn.RNN, got {type(rnn).__name__}; LSTM and GRU "
                "cells are not Elman networks."
            )
        elman = cls(rnn.input_size, rnn.hidden_size, rnn.num_layers, rnn.nonlinearity, rnn.bias)
        weight = rnn.weight_ih_l0
        return elman.to(dtype=weight.dtype, device=weight.device).load_from_torch(rnn)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            text += ", bias=False"
        return text
