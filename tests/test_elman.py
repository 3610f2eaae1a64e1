"""The explicit Elman cell reproduces torch.nn.RNN given the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from forecast.errors import ConfigError
from forecast.models import ElmanRNN


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: threads only oversubscribe a small machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_elman_reproduces_torch_rnn(dtype, nonlinearity, num_layers, bias):
    torch.manual_seed(0)
    rnn = nn.RNN(3, 6, num_layers, nonlinearity=nonlinearity, bias=bias, batch_first=True)
    rnn = rnn.to(dtype)
    elman = ElmanRNN.from_torch(rnn)
    x = torch.randn(4, 9, 3, dtype=dtype)
    start = torch.randn(num_layers, 4, 6, dtype=dtype)
    with torch.no_grad():
        for state in (None, start):
            expected, expected_final = rnn(x, state)
            states, final = elman(x, state)
            assert states.dtype == dtype and states.shape == (4, 9, 6)
            torch.testing.assert_close(states, expected, rtol=0, atol=1e-6)
            torch.testing.assert_close(final, expected_final, rtol=0, atol=1e-6)


def test_every_layers_state_is_readable_at_every_step():
    torch.manual_seed(0)
    rnn = nn.RNN(2, 5, 2, batch_first=True).double()
    elman = ElmanRNN.from_torch(rnn)
    x = torch.randn(3, 7, 2, dtype=torch.float64)
    with torch.no_grad():
        layers, final = elman(x, all_layers=True)  # [layers, N, T, hidden]
        top, _ = elman(x)
        assert layers.shape == (2, 3, 7, 5)
        torch.testing.assert_close(layers[-1], top)
        torch.testing.assert_close(layers[:, :, -1], final)
        # the state after step t is the final state of the window cut at t
        for t in range(7):
            _, h_n = rnn(x[:, : t + 1])
            torch.testing.assert_close(layers[:, :, t], h_n, rtol=0, atol=1e-12)


def test_load_from_torch_copies_into_an_existing_module_and_learns():
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4, nonlinearity="relu", batch_first=True)
    elman = ElmanRNN(2, 4, nonlinearity="relu").load_from_torch(rnn)
    assert torch.equal(elman.U[0].weight, rnn.weight_ih_l0)
    assert torch.equal(elman.W[0].weight, rnn.weight_hh_l0)
    assert torch.equal(elman.U[0].bias, rnn.bias_ih_l0)
    assert torch.equal(elman.W[0].bias, rnn.bias_hh_l0)
    states, _ = elman(torch.randn(2, 5, 2))
    states.sum().backward()  # an ordinary module: gradients flow to U and W
    assert elman.W[0].weight.grad is not None
    assert "2, 4, nonlinearity='relu'" in repr(elman)


@pytest.mark.parametrize(
    "other, message",
    [
        (nn.LSTM(2, 4), "needs a torch.nn.RNN, got LSTM"),
        (nn.RNN(2, 5), "does not match this ElmanRNN"),
        (nn.RNN(2, 4, nonlinearity="relu"), "does not match this ElmanRNN"),
        (nn.RNN(2, 4, bidirectional=True), "does not match this ElmanRNN"),
    ],
)
def test_mismatched_torch_modules_are_refused(other, message):
    with pytest.raises(ConfigError, match=message):
        ElmanRNN(2, 4).load_from_torch(other)


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError, match="choose one of tanh, relu"):
        ElmanRNN(2, 4, nonlinearity="sigmoid")
    with pytest.raises(ConfigError, match="hidden_size must be an integer >= 1"):
        ElmanRNN(2, 0)
