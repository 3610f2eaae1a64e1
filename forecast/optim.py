"""Adam and AdamW without ``torch.optim``: the same arithmetic, none of its import cost.

The first ``torch.optim.Optimizer`` built in a process imports ``torch._dynamo`` (about 1.4 s
and tens of MB on a 2-core machine), a price paid again in every worker process of a parallel
backtest. The models here have a few dozen parameter tensors, so the plain per-tensor update
below is as fast as torch's, and it performs the same operations in the same order as
``torch.optim.Adam``/``AdamW`` with default settings (``tests/test_optim.py`` checks the
weights after training match torch's bit for bit).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

__all__ = ["Adam"]


class Adam:
    """Adam (Kingma & Ba) with L2 weight decay, or AdamW's decoupled decay when ``decoupled``.

    Parameters
    ----------
    params
        The tensors to update (those with ``grad=None`` after backward are skipped).
    lr
        Learning rate.
    betas, eps
        Moment decay rates and the denominator's epsilon, as in torch.
    weight_decay
        L2 penalty added to the gradient (Adam) or decoupled shrinkage (AdamW).
    decoupled
        True for AdamW.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        *,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        self.params = [p for p in params if p.requires_grad]
        self.lr = float(lr)
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.decoupled = decoupled
        self.steps = [0] * len(self.params)
        self.exp_avg = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]
        self.exp_avg_sq = [
            torch.zeros_like(p, memory_format=torch.preserve_format) for p in self.params
        ]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of the last backward pass."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for i, param in enumerate(self.params):
            grad = param.grad
            if grad is None:
                continue
            self.steps[i] += 1
            step = self.steps[i]
            if self.weight_decay:
                if self.decoupled:
                    param.mul_(1 - self.lr * self.weight_decay)
                else:
                    grad = grad.add(param, alpha=self.weight_decay)
            exp_avg, exp_avg_sq = self.exp_avg[i], self.exp_avg_sq[i]
            exp_avg.lerp_(grad, 1 - self.beta1)
            exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            bias_correction1 = 1 - self.beta1**step
            bias_correction2_sqrt = (1 - self.beta2**step) ** 0.5  # as torch: pow, not sqrt
            denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(self.eps)
            param.addcdiv_(exp_avg, denom, value=-(self.lr / bias_correction1))
