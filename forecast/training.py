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

from forecast._process import choosing_threads, threads_for_fit
from forecast.errors import ConfigError, TrainingError
from forecast.optim import Adam
from forecast.settings import DEFAULTS, LOSSES, OPTIMIZERS, PRECISIONS

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "PRECISIONS",
    "TrainConfig",
    "TrainHistory",
    "draws_from_global_rng",
    "resolve_device",
    "seeded",
    "train",
    "window_loss",
]


# torch has one global generator per device and process, which weight initialisation
# (torch.nn.init), nn.Dropout and the RNNs' dropout between layers draw from. Our fits borrow
# it under this lock (see `seeded`); fits running in threads side by side (forecast.refits)
# take it in turn.
_GLOBAL_RNG_LOCK = threading.Lock()


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Lend torch's global generator to the block, seeded with ``seed``; give it back after.

    Every draw in the block (building a model, dropout, scheduled sampling) follows from
    ``seed`` alone, and the caller's generator state (CPU, and ``device``'s when it is a GPU)
    is restored on every exit, errors and Ctrl-C included: a user's own seeded stream goes on
    as if we had never run. Other threads of ours wait for the lock; threads of the caller
    that draw from torch's generator meanwhile would see our seed, so fits never hold it
    longer than their draws need (see :func:`train`).
    """
    device = torch.device(device)
    with _GLOBAL_RNG_LOCK:
        cpu_state = torch.random.get_rng_state()
        cuda = device.type == "cuda"
        if cuda:
            index = device.index if device.index is not None else torch.cuda.current_device()
            cuda_state = torch.cuda.get_rng_state(index)
        try:
            torch.random.default_generator.manual_seed(seed)
            if cuda:
                torch.cuda.default_generators[index].manual_seed(seed)
            yield
        finally:
            torch.random.set_rng_state(cpu_state)
            if cuda:
                torch.cuda.set_rng_state(cuda_state, index)


def draws_from_global_rng(model: nn.Module) -> bool:
    """Whether training ``model`` draws from torch's global generator.

    True when it has dropout (an ``nn.Dropout*`` with ``p > 0``, or an RNN's dropout between
    stacked layers) or scheduled sampling (a ``config.teacher_forcing`` below 1). Training
    such a model holds the generator (:func:`seeded`) for the whole fit; others only while
    their weights are drawn, so that they can train in threads side by side.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd) and module.p > 0:
            return True
        if isinstance(module, nn.RNNBase) and module.dropout > 0 and module.num_layers > 1:
            return True
        config = getattr(module, "config", None)
        if float(getattr(config, "teacher_forcing", 1.0)) < 1.0:
            return True
    return False


@dataclass
class TrainConfig:
    """Training settings; saved as JSON beside the weights."""

    # Defaults are the Forecaster's, declared once (with the reasons) in forecast.settings.
    epochs: int = DEFAULTS["epochs"]
    batch_size: int = DEFAULTS["batch_size"]
    lr: float = DEFAULTS["lr"]
    optimizer: str = DEFAULTS["optimizer"]
    weight_decay: float = DEFAULTS["weight_decay"]
    loss: str = DEFAULTS["loss"]
    clip_grad_norm: float | None = DEFAULTS["clip_grad_norm"]
    patience: int | None = DEFAULTS["patience"]  # None trains all epochs
    val_fraction: float = DEFAULTS["val_fraction"]
    seed: int = DEFAULTS["seed"]
    device: str = DEFAULTS["device"]
    progress: bool | None = DEFAULTS["progress"]  # None: a bar only when stderr is a terminal
    # "bfloat16": mixed precision. Matrix products (the LSTM gates, the heads) run in bfloat16
    # under autocast; weights, optimizer state and the loss stay float32. Needs native
    # bfloat16 (AVX512-BF16 or AMX on CPU). On the benchmark CPU it trained about 1.6x faster
    # in one-thread lanes, between no faster and 1.4x in one fit on two threads, with MAE
    # within 0.1% (benchmarks/RESULTS.md).
    precision: str = DEFAULTS["precision"]

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
    teacher_forcing: Callable[[int, int], float] | None = None,
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
    teacher_forcing
        Scheduled sampling: ``(step, n_steps) -> probability`` of feeding a decoder the true
        previous value at update ``step`` of the ``n_steps`` a full run takes (see
        :mod:`forecast.models.sampling`); passed to the model as ``teacher_forcing=``. None
        leaves the model's own constant ratio.

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
    model.to(device)
    # Dropout and scheduled sampling draw from torch's global generator: borrow it, seeded,
    # for the whole fit and give it back after. Other fits touch it only to draw their
    # weights, so they can train side by side in threads.
    # A teacher-forcing schedule draws too, even when the model's own ratio is 1.
    draws = draws_from_global_rng(model) or teacher_forcing is not None
    borrow_rng = seeded(config.seed, device) if draws else None
    with _fit_threads(model, config.batch_size, device), borrow_rng or contextlib.nullcontext():
        return _train(
            model, X, y, config, device, precision, lengths, horizon, teacher_forcing
        )


def _train(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    device: torch.device,
    precision: Callable[[], contextlib.AbstractContextManager[object]],
    lengths: torch.Tensor | None,
    horizon: int,
    teacher_forcing: Callable[[int, int], float] | None = None,
) -> TrainHistory:
    """The loop of :func:`train`, on a validated config and a model already on ``device``."""
    generator = torch.Generator().manual_seed(config.seed)  # our own: batch order
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
    per_step_target = getattr(model, "train_target", None) == "n_to_n"
    n_updates = config.epochs * math.ceil(n_train / config.batch_size)
    update = 0
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
            ratio = teacher_forcing(update, n_updates) if teacher_forcing is not None else None
            update += 1
            with precision():
                loss = window_loss(
                    model, X_dev[index], target, batch_len, config.loss,
                    per_step=per_step_target, teacher_forcing=ratio,
                )
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
        val_loss = _evaluate(
            model, X_dev[val_slice], y_dev[val_slice], len_dev, val_slice, config.loss,
            per_step=per_step_target,
        )
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


@contextlib.contextmanager
def _fit_threads(model: nn.Module, batch_size: int, device: torch.device) -> Iterator[None]:
    """Train on the threads :func:`forecast._process.threads_for_fit` picks for this model
    (never more than torch has now), and give the caller's count back on every exit.

    Inside refit lanes the scheduler has already set this thread's count: it is kept.
    """
    if device.type != "cpu" or not choosing_threads():
        yield
        return
    limit = torch.get_num_threads()
    work = batch_size * sum(parameter.numel() for parameter in model.parameters())
    threads = threads_for_fit(work, limit)
    if threads == limit:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(limit)


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


def window_loss(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    lengths: torch.Tensor | None,
    loss: str,
    *,
    per_step: bool = False,
    teacher_forcing: float | None = None,
) -> torch.Tensor:
    """The training loss of one batch: ``model(x, lengths, y)`` against ``y``, a scalar.

    With ``per_step`` (N-to-N: ``y`` is ``[N, T, K]``, one target per input step) and
    ``lengths``, the steps at and after each window's length are padding and are masked
    out: the loss is the mean over real steps only, so a padded window contributes exactly
    what it would unpadded.
    """
    extra = {} if teacher_forcing is None else {"teacher_forcing": teacher_forcing}
    output = model(x, lengths, y, **extra).float()
    if not per_step or lengths is None:
        return _LOSS_FUNCTIONS[loss](output, y)
    steps = torch.arange(y.shape[1], device=y.device)
    real = (steps[None, :] < lengths.to(y.device)[:, None]).unsqueeze(-1)  # [N, T, 1]
    elementwise = _LOSS_FUNCTIONS[loss](output, y, reduction="none")  # [N, T, K]
    return (elementwise * real).sum() / (real.sum() * y.shape[-1])


def _evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    lengths: torch.Tensor | None,
    rows: slice,
    loss: str,
    *,
    per_step: bool,
) -> float:
    model.eval()
    with torch.no_grad():
        batch_len = lengths[rows] if lengths is not None else None
        # Teacher forcing is off in eval mode, so this is the loss of real forecasts.
        return float(window_loss(model, X, y, batch_len, loss, per_step=per_step))


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


_LOSS_FUNCTIONS: dict[str, Callable[..., torch.Tensor]] = {
    "mse": nn.functional.mse_loss,
    "mae": nn.functional.l1_loss,
    "huber": nn.functional.huber_loss,
}


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
