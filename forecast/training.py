"""The one training loop: plain, seeded, and loud when it diverges.

``train`` takes window tensors that are already scaled and shaped for the model's topology and
fits the model in place. Batches are slices of those tensors by a shuffled index (no
``Dataset``/``DataLoader``: the windows are already in memory, and per-sample indexing would
cost more than the LSTM step on small models). Early stopping watches a time-ordered
validation tail, and the best weights are restored at the end.
"""

from __future__ import annotations

import contextlib
import copy
import math
import numbers
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from forecast._malloc import keep_freed_memory
from forecast.errors import ConfigError, TrainingError
from forecast.optim import Adam

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "PRECISIONS",
    "TrainConfig",
    "TrainHistory",
    "resolve_device",
    "seeded",
    "train",
]

LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")

# torch has one global CPU generator per process; fits running in threads side by side (see
# forecast.refits) take this lock to seed it and draw their initial weights as one step.
_GLOBAL_RNG_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator and hold it for the block (other threads wait).

    Use it around every draw that must follow from ``seed`` alone, such as building a model.
    """
    with _GLOBAL_RNG_LOCK:
        torch.manual_seed(seed)
        yield


def reseed(seed: int) -> None:
    """Seed torch's global generator without cutting into another thread's :func:`seeded`."""
    with _GLOBAL_RNG_LOCK:
        torch.manual_seed(seed)


@dataclass
class TrainConfig:
    """Training settings; saved as JSON beside the weights."""

    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    loss: str = "mse"
    clip_grad_norm: float | None = 1.0  # on by default: one bad batch of returns can explode an RNN
    patience: int | None = 5  # epochs without validation improvement; None trains all epochs
    val_fraction: float = 0.1  # time-ordered tail of the windows used for early stopping
    seed: int = 0
    device: str = "auto"
    progress: bool | None = None  # None: a bar only when stderr is a terminal
    # "bfloat16": mixed precision. Matrix products (the LSTM gates, the heads) run in bfloat16
    # under autocast; weights, optimizer state and the loss stay float32. Needs native
    # bfloat16 (AVX512-BF16 or AMX on CPU). On the benchmark CPU it trained about 1.6x faster
    # in one-thread lanes, between no faster and 1.4x in one fit on two threads, with MAE
    # within 0.1% (benchmarks/RESULTS.md).
    precision: str = "float32"

    def validate(self) -> TrainConfig:
        """Check every field; raise :class:`ConfigError` naming the first bad one."""
        _positive_int("epochs", self.epochs)
        _positive_int("batch_size", self.batch_size)
        if not (_real(self.lr) and math.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}; try lr=1e-3.")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"optimizer={self.optimizer!r} is not known; choose one of {', '.join(OPTIMIZERS)}."
            )
        if self.loss not in LOSSES:
            raise ConfigError(
                f"loss={self.loss!r} is not known; choose one of {', '.join(LOSSES)}."
            )
        if not _real(self.weight_decay) or not self.weight_decay >= 0:
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay!r}.")
        if self.clip_grad_norm is not None and not (
            _real(self.clip_grad_norm) and self.clip_grad_norm > 0
        ):
            raise ConfigError(
                f"clip_grad_norm must be positive or None, got {self.clip_grad_norm!r}."
            )
        if self.patience is not None:
            _positive_int("patience", self.patience)
        if not (_real(self.val_fraction) and 0.0 <= self.val_fraction < 0.5):
            raise ConfigError(
                f"val_fraction must be in [0, 0.5), got {self.val_fraction!r}; use 0 to turn "
                "the validation tail off."
            )
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"precision={self.precision!r} is not known; choose one of {', '.join(PRECISIONS)}."
            )
        resolve_device(self.device)
        return self


@dataclass
class TrainHistory:
    """What happened during training: per-epoch losses (in scaled units) and timing."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    seconds: float = 0.0
    n_train: int = 0
    n_val: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def resolve_device(device: str | torch.device) -> torch.device:
    """``"auto"`` -> cuda when available, else cpu; anything else must be a valid device."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked but no CUDA GPU is visible; use device='cpu'.")
    return resolved


def train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    *,
    lengths: torch.Tensor | None = None,
    horizon: int = 1,
) -> TrainHistory:
    """Fit ``model`` in place on windows ``X`` -> ``y`` and return its history.

    Parameters
    ----------
    model
        A :class:`forecast.models.ForecastModel`; called as ``model(x, lengths, target)``.
    X
        ``[N, T, F]`` float32 inputs, in time order of their origins.
    y
        Training targets shaped for the model's topology (``[N, 1, K]``, ``[N, T, K]`` or
        ``[N, H, K]``), same order.
    config
        Training settings (validated here).
    lengths
        ``[N]`` true lengths for right-padded windows, or None.
    horizon
        H: the last ``horizon`` windows before the validation tail are dropped from training so
        that no training target overlaps the validation windows' future (a purge).

    Returns
    -------
    TrainHistory
        Per-epoch mean losses in the scaled units the model learns in.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or inf; the caller must then discard the model (the
        Forecaster does: it never stores or saves a diverged fit).
    """
    config.validate()
    device = resolve_device(config.device)
    precision = _precision_context(config.precision, device)
    keep_freed_memory()  # reuse each step's large buffers instead of mapping them anew
    reseed(config.seed)  # for dropout and scheduled sampling, the only later draws
    generator = torch.Generator().manual_seed(config.seed)
    model.to(device)

    n = X.shape[0]
    n_val = int(n * config.val_fraction) if config.patience is not None else 0
    n_train = n - n_val - (horizon if n_val else 0)
    if n_train < 1:
        raise TrainingError(
            f"only {n} training windows, too few to hold out a validation tail of {n_val}; "
            "use more data, a shorter lookback, or val_fraction=0."
        )
    X_dev, y_dev = X.to(device), y.to(device)
    len_dev = lengths.to(device) if lengths is not None else None
    val_slice = slice(n - n_val, n)

    optimizer = _optimizer(model, config)
    loss_fn = _loss(config.loss)
    history = TrainHistory(n_train=n_train, n_val=n_val)
    best_state: dict[str, torch.Tensor] | None = None
    best_val = math.inf
    stale = 0
    started = time.perf_counter()
    for epoch in _epochs(config):
        model.train()
        order = torch.randperm(n_train, generator=generator).to(device)
        total = torch.zeros((), device=device)
        for start in range(0, n_train, config.batch_size):
            index = order[start : start + config.batch_size]
            batch_len = len_dev[index] if len_dev is not None else None
            target = y_dev[index]
            optimizer.zero_grad(set_to_none=True)
            with precision():
                output = model(X_dev[index], batch_len, target)
            loss = loss_fn(output.float(), target)
            loss.backward()
            if config.clip_grad_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad_norm)
            optimizer.step()
            total += loss.detach() * len(index)
        epoch_loss = float(total) / n_train
        _check_finite(epoch_loss, epoch, "training")
        history.train_loss.append(epoch_loss)
        if not n_val:
            continue
        val_loss = _evaluate(model, X_dev[val_slice], y_dev[val_slice], len_dev, val_slice, loss_fn)
        _check_finite(val_loss, epoch, "validation")
        history.val_loss.append(val_loss)
        if val_loss < best_val:
            best_val, stale, history.best_epoch = val_loss, 0, epoch
            best_state = copy.deepcopy(model.state_dict())
        else:
            stale += 1
            if config.patience is not None and stale >= config.patience:
                history.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.train_loss) - 1
    model.eval()
    history.seconds = time.perf_counter() - started
    return history


def bfloat16_supported(device: torch.device) -> bool:
    """True where bfloat16 matrix products run natively (any CUDA GPU torch can use; on CPU
    AVX512-BF16 or AMX, as oneDNN reports it). Elsewhere they are emulated, slower than float32."""
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check is not None and check())


def _precision_context(
    precision: str, device: torch.device
) -> Callable[[], contextlib.AbstractContextManager[object]]:
    """A factory of the context each training forward pass runs in."""
    if precision == "float32":
        return contextlib.nullcontext
    if not bfloat16_supported(device):
        raise ConfigError(
            f"precision='bfloat16' needs native bfloat16 on {device.type} (a CPU with "
            "AVX512-BF16 or AMX, or a GPU), which this machine lacks; use precision='float32'."
        )
    return lambda: torch.autocast(device.type, dtype=torch.bfloat16)


def _evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    lengths: torch.Tensor | None,
    rows: slice,
    loss_fn: nn.Module,
) -> float:
    model.eval()
    with torch.no_grad():
        batch_len = lengths[rows] if lengths is not None else None
        # Teacher forcing is off in eval mode, so this is the loss of real forecasts.
        return float(loss_fn(model(X, batch_len, None), y))


def _epochs(config: TrainConfig) -> range:
    show = config.progress if config.progress is not None else sys.stderr.isatty()
    if not show:
        return range(config.epochs)
    from tqdm.auto import tqdm

    return tqdm(range(config.epochs), desc="training", unit="epoch", leave=False, file=sys.stderr)


def _optimizer(model: nn.Module, config: TrainConfig) -> Adam:
    return Adam(
        model.parameters(),
        lr=config.lr,
        weight_decay=config.weight_decay,
        decoupled=config.optimizer == "adamw",
    )


def _loss(name: str) -> nn.Module:
    return {"mse": nn.MSELoss(), "mae": nn.L1Loss(), "huber": nn.HuberLoss()}[name]


def _check_finite(value: float, epoch: int, phase: str) -> None:
    if not math.isfinite(value):
        raise TrainingError(
            f"the {phase} loss became {value} at epoch {epoch + 1}: training diverged; "
            "lower lr (e.g. by 10x), keep clip_grad_norm on, or check the data for extreme values."
        )


def _positive_int(name: str, value: object) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")


def _real(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
