"""forecast.optim.Adam performs torch.optim.Adam/AdamW's arithmetic exactly."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from forecast.optim import Adam


def _train(make_optimizer, steps: int = 25) -> list[torch.Tensor]:
    torch.manual_seed(3)
    model = nn.Sequential(nn.LSTM(2, 8, batch_first=True))
    head = nn.Linear(8, 3)
    params = [*model.parameters(), *head.parameters()]
    optimizer = make_optimizer(params)
    x, y = torch.randn(16, 7, 2), torch.randn(16, 3)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = ((head(model(x)[0][:, -1]) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return [p.detach().clone() for p in params]


@pytest.mark.parametrize(
    ("torch_kind", "decoupled", "weight_decay"),
    [
        (torch.optim.Adam, False, 0.0),
        (torch.optim.Adam, False, 0.01),
        (torch.optim.AdamW, True, 0.01),
    ],
)
def test_matches_torch_bit_for_bit(torch_kind, decoupled: bool, weight_decay: float) -> None:
    ours = _train(lambda p: Adam(p, lr=3e-3, weight_decay=weight_decay, decoupled=decoupled))
    theirs = _train(lambda p: torch_kind(p, lr=3e-3, weight_decay=weight_decay))
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    untrained = _train(lambda p: Adam(p, lr=3e-3), steps=0)
    assert not all(torch.equal(a, b) for a, b in zip(ours, untrained, strict=True))


def test_parameters_without_gradient_keep_their_moments_and_step() -> None:
    used, unused = nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(3))
    optimizer = Adam([used, unused], lr=0.1)
    (used * 2).sum().backward()
    optimizer.step()
    assert optimizer.steps == [1, 0]
    assert torch.equal(unused.detach(), torch.ones(3))
    assert not torch.equal(used.detach(), torch.ones(3))
