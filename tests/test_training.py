"""Tests for forecast/training.py: seeding, early stopping, divergence, progress, config
checks, devices, and the plain-tensor batching (no DataLoader).

Legend: N windows, T lookback steps, F features, H horizon, K targets.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import forecast as fc
from forecast import training as training_module
from forecast.errors import ConfigError, TrainingError
from forecast.models import ModelConfig, build_model
from forecast.training import (
    TrainConfig,
    TrainHistory,
    bfloat16_supported,
    resolve_device,
    train,
)

N, T, F, H = 120, 8, 1, 3
Bars = Callable[..., pd.DataFrame]


def windows(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``X [N, T, F]`` and ``y [N, H, K]`` of pure noise: nothing to learn, easy to overfit."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(N, T, F, generator=generator), torch.randn(N, H, 1, generator=generator)


def model(seed: int = 0, hidden_size: int = 16) -> nn.Module:
    torch.manual_seed(seed)
    config = ModelConfig(
        cell="gru", topology="n_to_m", horizon=H, hidden_size=hidden_size, decoder="direct"
    )
    return build_model(config)


def config(**settings: object) -> TrainConfig:
    return TrainConfig(**{"epochs": 3, "batch_size": 32, "progress": False, **settings})


# -- seeding -------------------------------------------------------------------------------------


def test_the_same_seed_gives_bit_identical_weights_and_history() -> None:
    X, y = windows()
    first, second = model(), model()

    history_1 = train(first, X, y, config(seed=5, val_fraction=0.2))
    history_2 = train(second, X, y, config(seed=5, val_fraction=0.2))

    weights_1, weights_2 = first.state_dict(), second.state_dict()
    assert all(torch.equal(weights_1[name], weights_2[name]) for name in weights_1)
    assert history_1.train_loss == history_2.train_loss
    assert history_1.val_loss == history_2.val_loss


def test_another_seed_shuffles_differently() -> None:
    X, y = windows()
    first, second = model(), model()

    train(first, X, y, config(seed=5))
    train(second, X, y, config(seed=6))

    weights_1, weights_2 = first.state_dict(), second.state_dict()
    assert not all(torch.equal(weights_1[name], weights_2[name]) for name in weights_1)


# -- early stopping ------------------------------------------------------------------------------


def test_early_stopping_restores_the_best_weights() -> None:
    X, y = windows()
    network = model()
    settings = config(epochs=60, lr=3e-2, patience=3, val_fraction=0.2)

    history = train(network, X, y, settings, horizon=H)

    assert history.stopped_early
    assert len(history.val_loss) < 60
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.best_epoch < len(history.val_loss) - 1, "the last epoch was the best"
    # The validation tail is the last n_val windows; the model returned is the best one on it.
    assert history.n_val == 24
    network.eval()
    with torch.no_grad():
        final = float(nn.MSELoss()(network(X[-history.n_val :], None, None), y[-history.n_val :]))
    assert final == min(history.val_loss)
    assert final != history.val_loss[-1]
    assert not network.training


def test_windows_whose_targets_reach_into_the_validation_tail_are_purged() -> None:
    X, y = windows()

    history = train(model(hidden_size=4), X, y, config(epochs=1, val_fraction=0.2), horizon=H)

    assert (history.n_val, history.n_train) == (24, N - 24 - H)


def test_without_patience_every_epoch_runs_and_nothing_is_held_out() -> None:
    X, y = windows()

    history = train(model(hidden_size=4), X, y, config(epochs=4, patience=None), horizon=H)

    assert len(history.train_loss) == 4
    assert history.val_loss == []
    assert (history.n_train, history.n_val) == (N, 0)
    assert history.best_epoch == 3
    assert not history.stopped_early
    assert all(math.isfinite(loss) and loss > 0 for loss in history.train_loss)


def test_too_few_windows_for_the_validation_tail_is_a_training_error() -> None:
    X, y = windows()

    with pytest.raises(TrainingError) as error:
        train(model(hidden_size=4), X[:5], y[:5], config(val_fraction=0.4), horizon=H)

    assert str(error.value) == (
        "only 5 training windows, too few to hold out a validation tail of 2; use more data, "
        "a shorter lookback, or val_fraction=0."
    )


# -- divergence ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("bad", "shown"), [(float("nan"), "nan"), (float("inf"), "inf")])
def test_a_non_finite_loss_raises_training_error(bad: float, shown: str) -> None:
    X, y = windows()
    y[7, 0, 0] = bad

    with pytest.raises(TrainingError) as error:  # one batch, so the epoch's loss is that one
        train(model(hidden_size=4), X, y, config(patience=None, batch_size=N))

    assert str(error.value) == (
        f"the training loss became {shown} at epoch 1: training diverged; lower lr (e.g. by "
        "10x), keep clip_grad_norm on, or check the data for extreme values."
    )


def test_a_forecaster_whose_training_diverges_stores_nothing(
    make_bars: Bars, monkeypatch: pytest.MonkeyPatch
) -> None:
    def diverge(*_args: object, **_kwargs: object) -> TrainHistory:
        raise TrainingError("the training loss became nan at epoch 1: training diverged")

    monkeypatch.setattr("forecast.forecaster.train", diverge)
    estimator = fc.Forecaster(lookback=10, horizon=3, hidden_size=4, progress=False)

    with pytest.raises(TrainingError):
        estimator.fit(make_bars(100))

    assert not [name for name in vars(estimator) if name.endswith("_")]


# -- progress ------------------------------------------------------------------------------------


def test_progress_true_draws_a_bar_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = windows()

    train(model(hidden_size=4), X, y, config(epochs=2, progress=True))

    captured = capsys.readouterr()
    assert "training" in captured.err
    assert "epoch" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize("progress", [False, None])  # None: a bar only on a terminal
def test_no_bar_when_progress_is_off_or_stderr_is_not_a_terminal(
    progress: bool | None, capsys: pytest.CaptureFixture[str]
) -> None:
    X, y = windows()

    train(model(hidden_size=4), X, y, config(epochs=2, progress=progress))

    assert capsys.readouterr() == ("", "")


# -- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0."),
        ({"epochs": 2.5}, "epochs must be a positive integer, got 2.5."),
        ({"batch_size": True}, "batch_size must be a positive integer, got True."),
        ({"lr": 0}, "lr must be a positive number, got 0; try lr=1e-3."),
        ({"lr": float("nan")}, "lr must be a positive number, got nan; try lr=1e-3."),
        ({"lr": "1e-3"}, "lr must be a positive number, got '1e-3'; try lr=1e-3."),
        ({"optimizer": "sgd"}, "optimizer='sgd' is not known; choose one of adam, adamw."),
        ({"loss": "l2"}, "loss='l2' is not known; choose one of mse, mae, huber."),
        ({"weight_decay": -0.1}, "weight_decay must be >= 0, got -0.1."),
        ({"clip_grad_norm": 0}, "clip_grad_norm must be positive or None, got 0."),
        ({"patience": 0}, "patience must be a positive integer, got 0."),
        (
            {"val_fraction": 0.5},
            "val_fraction must be in [0, 0.5), got 0.5; use 0 to turn the validation tail off.",
        ),
        ({"device": "tpu"}, "device='tpu' is not a torch device; use 'auto', 'cpu' or 'cuda'."),
        (
            {"precision": "float16"},
            "precision='float16' is not known; choose one of float32, bfloat16.",
        ),
    ],
)
def test_config_validation_names_the_setting_and_the_fix(
    settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        TrainConfig(**settings).validate()

    assert str(error.value) == message


def test_train_validates_its_config_before_touching_the_model() -> None:
    X, y = windows()
    network = model(hidden_size=4)
    before = {name: tensor.clone() for name, tensor in network.state_dict().items()}

    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        train(network, X, y, config(epochs=-1))

    assert all(torch.equal(before[name], network.state_dict()[name]) for name in before)


def test_the_forecaster_passes_its_training_settings_to_the_config(make_bars: Bars) -> None:
    with pytest.raises(ConfigError) as error:
        fc.Forecaster(lookback=10, horizon=3, optimizer="sgd").fit(make_bars(100))

    assert str(error.value) == "optimizer='sgd' is not known; choose one of adam, adamw."


@pytest.mark.parametrize("name", ["epochs", "batch_size", "patience"])
def test_numpy_integers_are_accepted_like_ints(name: str) -> None:
    settings = TrainConfig(**{name: np.int64(2)})

    assert settings.validate() is settings


@pytest.mark.parametrize(
    "settings", [{"weight_decay": "0.1"}, {"clip_grad_norm": "1"}, {"val_fraction": None}]
)
def test_settings_of_the_wrong_type_are_config_errors(settings: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        TrainConfig(**settings).validate()


# -- devices -------------------------------------------------------------------------------------


def test_device_auto_resolves_to_cuda_only_when_a_gpu_is_visible() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"

    assert resolve_device("auto") == torch.device(expected)
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible here")
def test_asking_for_cuda_without_a_gpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as error:
        resolve_device("cuda")

    assert str(error.value) == (
        "device='cuda' was asked but no CUDA GPU is visible; use device='cpu'."
    )


def test_a_trained_model_is_left_in_eval_mode_on_the_resolved_device() -> None:
    X, y = windows()
    network = model(hidden_size=4)

    train(network, X, y, config(epochs=1, device="auto"))

    assert not network.training
    assert {p.device.type for p in network.parameters()} == {resolve_device("auto").type}


# -- batching ------------------------------------------------------------------------------------


def test_training_never_builds_a_dataloader(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoDataLoader:
        def __init__(self, *_args: object, **_kwargs: object) -> None:
            raise AssertionError("train() built a torch DataLoader")

    monkeypatch.setattr(torch.utils.data, "DataLoader", NoDataLoader)
    X, y = windows()

    history = train(model(hidden_size=4), X, y, config(epochs=2, val_fraction=0.2))

    assert len(history.train_loss) == 2


def test_every_window_is_used_once_per_epoch_in_batches_of_batch_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = windows()
    network = model(hidden_size=4)
    seen: list[int] = []
    forward = network.forward

    def counting_forward(x: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        if network.training:
            seen.append(x.shape[0])
        return forward(x, *args, **kwargs)

    monkeypatch.setattr(network, "forward", counting_forward)

    train(network, X, y, config(epochs=2, batch_size=50, patience=None))

    assert seen == [50, 50, 20, 50, 50, 20]


# -- precision -----------------------------------------------------------------------------------

needs_bf16 = pytest.mark.skipif(
    not bfloat16_supported(torch.device("cpu")), reason="this CPU has no native bfloat16"
)


@needs_bf16
def test_bfloat16_training_runs_matrix_products_in_bfloat16_and_keeps_float32_weights(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X, y = windows()
    network = model()
    dtypes: list[torch.dtype] = []
    handle = network.register_forward_hook(lambda _m, _i, out: dtypes.append(out.dtype))
    history = train(network, X, y, config(precision="bfloat16", patience=None))
    handle.remove()
    assert torch.bfloat16 in dtypes  # training forward passes ran under bfloat16 autocast
    assert all(p.dtype == torch.float32 for p in network.parameters())
    assert all(math.isfinite(loss) for loss in history.train_loss)
    with torch.no_grad():
        assert network(X[:4], None, None).dtype == torch.float32  # forecasts: plain float32


@needs_bf16
def test_bfloat16_learns_what_float32_learns() -> None:
    X = torch.linspace(-1, 1, N * T).reshape(N, T, F)
    y = X[:, -H:, :] * 0.5  # the last H inputs, halved: easy to learn
    losses = {}
    for precision in ("float32", "bfloat16"):
        network = model()
        history = train(network, X, y, config(epochs=30, precision=precision, patience=None))
        losses[precision] = history.train_loss[-1]
    assert losses["bfloat16"] < 0.1 * 0.25  # a tenth of the targets' variance (~0.25/4)
    assert abs(losses["bfloat16"] - losses["float32"]) < 0.5 * losses["float32"] + 1e-3


def test_bfloat16_without_native_support_is_refused_with_the_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(training_module, "bfloat16_supported", lambda device: False)
    X, y = windows()
    with pytest.raises(ConfigError) as error:
        train(model(), X, y, config(precision="bfloat16"))
    assert str(error.value) == (
        "precision='bfloat16' needs native bfloat16 on cpu (a CPU with AVX512-BF16 or AMX, "
        "or a GPU), which this machine lacks; use precision='float32'."
    )


# -- malloc --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("setting", "applied"), [("1", "True"), ("0", "False")])
def test_training_keeps_freed_memory_unless_told_not_to(setting: str, applied: str) -> None:
    import os
    import platform
    import subprocess
    import sys

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("the malloc tuning is glibc's")
    code = (
        "from forecast._malloc import keep_freed_memory as k, release_freed_memory as r\n"
        "print(k(), k()); r()"
    )
    env = {**os.environ, "FORECAST_KEEP_FREED_MEMORY": setting}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == [applied, applied]
