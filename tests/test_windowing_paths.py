"""One windowing path: the Forecaster trains on exactly the windows ``make_windows`` cuts,
variable-length (padded) windows work end to end, and scheduled sampling really decays.

Legend: N windows, T lookback steps, F features, H horizon, K targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from synthetic import random_walk_bars

import forecast as fc
import forecast.forecaster
from forecast.errors import ConfigError, DataError
from forecast.models import ModelConfig, build_model
from forecast.models.sampling import SAMPLING_SCHEDULES, teacher_forcing_schedule
from forecast.topologies import TOPOLOGIES
from forecast.training import TrainConfig, TrainHistory, train, window_loss


# ---------------------------------------------------------------- one windowing path
def _close_frame(n_rows: int, offset: float = 0.0, start: str = "2020-01-01") -> pd.DataFrame:
    """Close = offset + 10 * row + 1: every value says which row it came from."""
    index = pd.date_range(start, periods=n_rows, freq="D", name="Date")
    return pd.DataFrame({"Close": offset + 10.0 * np.arange(n_rows) + 1.0}, index=index)


def _windows_the_forecaster_trains_on(
    estimator: fc.Forecaster, frame: pd.DataFrame
) -> dict[str, Any]:
    """Fit with the training loop replaced by a recorder: the real windowing, no training."""
    seen: dict[str, Any] = {}

    def record(module: Any, X: torch.Tensor, y: torch.Tensor, config: Any, **kw: Any) -> Any:
        seen.update(X=X.clone(), y=y.clone(), lengths=kw.get("lengths"))
        return TrainHistory()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forecast.forecaster, "train", record)
        estimator.fit(frame)
    return seen


@settings(max_examples=40, deadline=None)
@given(
    topology=st.sampled_from(TOPOLOGIES),
    lookback=st.integers(1, 12),
    horizon=st.integers(1, 5),
    extra=st.integers(0, 15),
    pad=st.booleans(),
    min_lookback=st.integers(1, 12),
    panel=st.booleans(),
)
def test_the_forecaster_trains_on_the_windows_make_windows_cuts(
    topology: str,
    lookback: int,
    horizon: int,
    extra: int,
    pad: bool,
    min_lookback: int,
    panel: bool,
) -> None:
    # On 300 AAPL bars, 1_to_n used to give 236 windows one way and 294 the other.
    min_lookback = min(min_lookback, lookback)
    shortest = min_lookback if pad else lookback
    n_rows = (1 if topology == "1_to_n" else shortest) + horizon + extra
    frame = _close_frame(n_rows)
    if panel:  # a second ticker, shorter and later, with values of its own
        other = _close_frame(max(n_rows - 3, n_rows - extra), offset=1e5, start="2020-01-03")
        frame = pd.concat({"AAA": frame, "BBB": other}, names=["ticker", "Date"])
    options = dict(
        lookback=lookback, horizon=horizon, topology=topology, pad=pad, min_lookback=min_lookback
    )
    estimator = fc.Forecaster(
        **options,
        features=["Close"],
        target="Close",
        representation="levels",
        scaler="none",
        hidden_size=2,
        epochs=1,
        progress=False,
    )
    seen = _windows_the_forecaster_trains_on(estimator, frame)
    cut = fc.make_windows(frame, features=["Close"], target="Close", **options)

    order = np.argsort(cut.origins.asi8, kind="stable")  # the estimator stacks in time order
    np.testing.assert_array_equal(seen["X"].numpy(), cut.X[order].numpy())
    np.testing.assert_array_equal(seen["y"].numpy(), cut.y[order].numpy())
    lengths = cut.lengths[order] if cut.lengths is not None else None
    if seen["lengths"] is None:  # the estimator leaves out lengths when no window is short
        assert lengths is None or bool((lengths == cut.X.shape[1]).all())
    else:
        np.testing.assert_array_equal(seen["lengths"].numpy(), lengths.numpy())


def test_one_to_n_counts_the_same_windows_both_ways_on_aapl() -> None:
    bars = fc.load("AAPL").iloc[:300]
    estimator = fc.Forecaster(
        topology="1_to_n",
        lookback=60,
        horizon=5,
        hidden_size=2,
        representation="levels",
        scaler="none",
        progress=False,
    )
    seen = _windows_the_forecaster_trains_on(estimator, bars)
    cut = fc.make_windows(bars, lookback=60, horizon=5, topology="1_to_n")
    assert len(cut) == len(seen["X"]) == 295  # every bar with 5 after it is an origin
    np.testing.assert_array_equal(seen["X"].numpy(), cut.X.numpy())


# ---------------------------------------------------------------- padded == unpadded
def _model(topology: str, **config: Any) -> torch.nn.Module:
    torch.manual_seed(3)
    return build_model(
        ModelConfig(
            cell="lstm",
            topology=topology,
            hidden_size=5,
            horizon=3,
            n_features=2,
            n_targets=2,
            target_index=[0, 1],
            **config,
        )
    )


def _loss_and_grads(model: torch.nn.Module, *args: Any, **kwargs: Any) -> tuple[float, list]:
    model.zero_grad()
    loss = window_loss(model, *args, **kwargs)
    loss.backward()
    return float(loss.detach()), [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("topology", ["n_to_1", "n_to_n", "n_to_m", "1_to_n"])
def test_padded_and_unpadded_windows_give_the_same_loss_and_gradients(topology: str) -> None:
    generator = torch.Generator().manual_seed(0)
    T, true_lengths = 9, [4, 9, 6]
    windows = [torch.randn(n, 2, generator=generator) for n in true_lengths]
    model = _model(topology)
    per_step = model.train_target == "n_to_n"
    # N-to-N targets are one per input step, n_to_1's the next step, the others' H = 3 steps.
    steps = {"n_to_n": None, "n_to_1": 1, "n_to_m": 3}[model.train_target]
    targets = [torch.randn(steps or n, 2, generator=generator) for n in true_lengths]
    model.train()

    # Padded: one batch, right-padded with junk that must not count (not even zeros).
    X = torch.full((3, T, 2), 7.0)
    y = torch.full((3, steps or T, 2), -5.0)
    for i, (x_i, y_i) in enumerate(zip(windows, targets, strict=True)):
        X[i, : len(x_i)], y[i, : len(y_i)] = x_i, y_i
    lengths = torch.tensor(true_lengths)
    padded_loss, padded_grads = _loss_and_grads(model, X, y, lengths, "mse", per_step=per_step)

    # Unpadded: each window alone at its true length; the batch loss is the mean over every
    # real target element, so weigh each window's mean by its element count.
    total = sum(t.numel() for t in targets)
    loss, grads = 0.0, [torch.zeros_like(p) for p in model.parameters()]
    for x_i, y_i in zip(windows, targets, strict=True):
        one_loss, one_grads = _loss_and_grads(
            model, x_i[None], y_i[None], None, "mse", per_step=per_step
        )
        weight = y_i.numel() / total
        loss += weight * one_loss
        grads = [g + weight * h for g, h in zip(grads, one_grads, strict=True)]
    assert padded_loss == pytest.approx(loss, rel=1e-5)
    for padded, unpadded in zip(padded_grads, grads, strict=True):
        torch.testing.assert_close(padded, unpadded, rtol=1e-4, atol=1e-6)


def test_a_ticker_with_a_short_history_counts_in_a_padded_panel() -> None:
    long = random_walk_bars(120, seed=1)
    short = random_walk_bars(12, seed=2, start=str(long.index[-12].date()))  # 12 bars, T=20
    panel = pd.concat({"OLD": long, "NEW": short}, names=["ticker", "Date"])
    unpadded = fc.Forecaster(lookback=20, horizon=3, hidden_size=4, epochs=2, progress=False)
    with pytest.raises(DataError, match="NEW"):
        unpadded.fit(panel)

    model = unpadded.set_params(pad=True, min_lookback=5).fit(panel)
    predicted = model.predict(panel)
    assert predicted.loc["NEW"].shape == (3, 1)
    assert np.isfinite(predicted.to_numpy()).all()
    # an origin with 6 bars of history (pad) forecasts as the same window would alone
    short_rows = np.array([6, 9])
    together = model.forecast_rows(short, short_rows)
    alone = np.concatenate([model.forecast_rows(short, np.array([row])) for row in short_rows])
    np.testing.assert_array_equal(together, alone)
    with pytest.raises(DataError, match="fewer than 5 bars of history \\(min_lookback 5\\)"):
        model.forecast_rows(short, np.array([3]))

    # In a backtest, NEW is too short to train on in either fold (a recent listing): the
    # folds train without it, say so, and still forecast it once it has 5 bars of history.
    with pytest.warns(fc.DataWarning) as warned:
        result = fc.backtest(model, panel, test_size=10, folds=2, mode="global")
    assert [str(w.message)[:48] for w in warned] == [
        f"fold {fold} trains without NEW: fewer than the 9 bars" for fold in (0, 1)
    ]
    new = result.forecasts[result.forecasts["ticker"] == "NEW"]
    assert len(new) and (new["origin"] >= short.index[5]).all()
    assert set(result.forecasts["ticker"]) == {"OLD", "NEW"}


def test_padded_n_to_n_training_ignores_what_the_padding_holds() -> None:
    # Train twice on the same padded windows whose padding holds different junk: N-to-N
    # masks padded steps out of the loss, so the fitted weights are identical.
    generator = torch.Generator().manual_seed(4)
    X = torch.randn(40, 8, 2, generator=generator)
    y = torch.randn(40, 8, 2, generator=generator)
    lengths = torch.randint(3, 9, (40,), generator=generator)
    padding = torch.arange(8)[None, :, None] >= lengths[:, None, None]
    config = TrainConfig(epochs=2, batch_size=16, patience=None, progress=False)
    weights = []
    for junk in (0.0, 50.0):
        model = _model("n_to_n")
        train(
            model,
            X.masked_fill(padding, junk),
            y.masked_fill(padding, junk),
            config,
            lengths=lengths,
        )
        weights.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*weights, strict=True):
        torch.testing.assert_close(a, b)


# ---------------------------------------------------------------- scheduled sampling
@pytest.mark.parametrize("schedule", SAMPLING_SCHEDULES)
def test_schedules_start_at_the_ratio_and_never_rise(schedule: str) -> None:
    probability = teacher_forcing_schedule(schedule, 0.8)
    values = np.array([probability(step, 101) for step in range(101)])
    assert values[0] == pytest.approx(0.8)
    assert (np.diff(values) <= 1e-12).all() and (values >= 0).all()
    ends = {"constant": 0.8, "linear": 0.0, "exponential": 0.008}
    if schedule in ends:
        assert values[-1] == pytest.approx(ends[schedule], abs=1e-12)
    else:  # inverse sigmoid: halves at the middle of training, ends near free running
        assert values[50] == pytest.approx(0.4)
        assert values[-1] < 0.1
    assert probability(500, 101) == values[-1]  # past the end: the last value


def test_an_unknown_schedule_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="choose one of constant, linear, exponential"):
        teacher_forcing_schedule("cosine", 1.0)
    with pytest.raises(ConfigError, match="only a seq2seq decoder uses"):
        fc.Forecaster(topology="n_to_1", sampling_schedule="linear").fit(random_walk_bars(80))


def test_training_feeds_the_decoder_a_decaying_teacher_forcing_ratio() -> None:
    ratios: list[float] = []
    model = fc.Forecaster(
        topology="n_to_m",
        lookback=8,
        horizon=3,
        hidden_size=4,
        epochs=3,
        batch_size=16,
        patience=None,
        sampling_schedule="linear",
        progress=False,
    )

    def record(module: Any, args: tuple, kwargs: dict) -> None:
        if module.training:
            ratios.append(kwargs.get("teacher_forcing"))

    original = build_model

    def build_and_watch(config: ModelConfig) -> torch.nn.Module:
        built = original(config)
        built.register_forward_pre_hook(record, with_kwargs=True)
        return built

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forecast.forecaster, "build_model", build_and_watch)
        model.fit(random_walk_bars(60))
    # 60 bars -> 59 returns -> 49 windows, batches of 16: 4 updates per epoch, 12 in all,
    # the teacher-forcing probability falling linearly from 1 to 0 across them.
    assert ratios == pytest.approx([1 - i / 11 for i in range(12)])
    assert model._fits_in_threads() is False  # it draws random numbers while training
