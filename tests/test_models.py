"""The model zoo: one harness over every cell x topology, then refusals, padding, teacher
forcing, seeding, the registry and a learnability smoke test.

Legend: N windows, T lookback steps, F features, H horizon, K targets.
"""

from __future__ import annotations

import json

import pytest
import torch

from forecast.errors import ConfigError, DataError
from forecast.models import CELLS, ForecastModel, ModelConfig, build_model, list_models, model_table
from forecast.models.backbone import Backbone

N, T, H = 3, 6, 4


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine the thread pool
    oversubscribes the cores and runs ~10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


CELL_CASES = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
# (topology, options): every head, with each option that changes its structure.
HEAD_CASES = [
    ("n_to_1", {"multi_step": "recursive"}),
    ("n_to_1", {"multi_step": "direct"}),
    ("n_to_1", {"multi_step": "direct", "bidirectional": True}),
    ("n_to_n", {}),
    ("n_to_m", {"decoder": "autoregressive"}),
    ("n_to_m", {"decoder": "autoregressive", "bidirectional": True}),
    ("n_to_m", {"decoder": "direct"}),
    ("n_to_m", {"decoder": "direct", "bidirectional": True}),
    ("1_to_n", {"decoder": "autoregressive"}),
    ("1_to_n", {"decoder": "direct"}),
]


def tiny_config(cell: str, nonlinearity: str, topology: str, **options: object) -> ModelConfig:
    """Two layers of 4 units. Recursive rollout needs F == K: two inputs that are both
    targets, listed out of order so the feedback permutation is exercised."""
    recursive = topology == "n_to_n" or options.get("multi_step") == "recursive"
    shape = (
        {"n_features": 2, "n_targets": 2, "target_index": [1, 0]}
        if recursive
        else {"n_features": 3, "n_targets": 2, "target_index": [2, 0]}
    )
    settings = {"hidden_size": 4, "num_layers": 2, "dropout": 0.1, "horizon": H, **shape}
    settings.update(options)
    return ModelConfig(cell=cell, nonlinearity=nonlinearity, topology=topology, **settings)


def training_shape(model: ForecastModel, n_steps: int) -> tuple[int, int, int]:
    steps = {"n_to_1": 1, "n_to_n": n_steps, "n_to_m": H}[model.train_target]
    return (N, steps, model.config.n_targets)


# ------------------------------------------------------------------------------ harness
@pytest.mark.parametrize("cell,nonlinearity", CELL_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("topology,options", HEAD_CASES, ids=lambda v: str(v))
def test_every_cell_and_head_gives_the_promised_shapes(cell, nonlinearity, topology, options):
    torch.manual_seed(0)
    model = build_model(tiny_config(cell, nonlinearity, topology, **options))
    config = model.config
    x = torch.randn(N, T, config.n_features)
    lengths = torch.tensor([T, 3, 1])
    target = torch.randn(N, H, config.n_targets)

    model.train()
    out = model(x, target=target)
    assert out.shape == training_shape(model, T)
    out.sum().backward()  # the graph reaches the parameters
    assert all(p.grad is not None for p in model.parameters())
    assert model(x, lengths, target).shape == training_shape(model, T)

    model.eval()
    with torch.no_grad():
        assert model.forecast(x).shape == (N, H, config.n_targets)
        assert model.forecast(x, lengths).shape == (N, H, config.n_targets)
        if topology == "1_to_n":  # a single bar is accepted as it is
            assert model.forecast(x[:, -1:]).shape == (N, H, config.n_targets)
        assert torch.isfinite(model.forecast(x, lengths)).all()


def test_train_target_follows_the_head():
    def target_of(**options: object) -> str:
        return build_model(tiny_config("gru", "tanh", **options)).train_target

    assert target_of(topology="n_to_1", multi_step="recursive") == "n_to_1"
    assert target_of(topology="n_to_1", multi_step="direct") == "n_to_m"
    assert target_of(topology="n_to_n") == "n_to_n"
    assert target_of(topology="n_to_m") == "n_to_m"
    assert target_of(topology="1_to_n") == "n_to_m"


def test_auto_multi_step_is_recursive_only_when_targets_are_inputs():
    same = ModelConfig(topology="n_to_1", n_features=1, n_targets=1, target_index=[0])
    other = ModelConfig(topology="n_to_1", n_features=4, n_targets=1, target_index=[3])
    bidirectional = ModelConfig(
        topology="n_to_1", n_features=1, n_targets=1, target_index=[0], bidirectional=True
    )
    assert same.validate().rollout == "recursive"
    assert other.validate().rollout == "direct"
    assert bidirectional.validate().rollout == "direct"


def test_n_to_n_with_horizon_1_needs_no_feedback():
    config = ModelConfig(topology="n_to_n", horizon=1, n_features=3, n_targets=1, hidden_size=4)
    model = build_model(config).eval()
    assert model.forecast(torch.randn(N, T, 3)).shape == (N, 1, 1)


def test_recursive_forecast_matches_running_the_model_on_its_own_output():
    """Carrying the state must equal re-reading the window extended by each forecast."""
    torch.manual_seed(0)
    config = tiny_config("gru", "tanh", "n_to_n").validate()
    model = build_model(config).eval()
    x = torch.randn(N, T, 2)
    with torch.no_grad():
        rolled = model.forecast(x)  # [N, H, K]
        extended = torch.cat([x, rolled[:, :-1, :][..., [1, 0]]], dim=1)  # targets -> inputs
        outputs = model(extended)  # [N, T + H - 1, K]
    torch.testing.assert_close(outputs[:, T - 1 :], rolled)


# ------------------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"topology": "n_to_n", "bidirectional": True},
            "bidirectional=True would let N-to-N outputs see future inputs; use topology n_to_1 "
            "or n_to_m, or bidirectional=False.",
        ),
        (
            {"topology": "1_to_n", "bidirectional": True},
            "a single input step has no other direction to read and a decoder running "
            "backwards would read steps it has not forecast yet",
        ),
        ({"decoder": "bidirectional"}, "a decoder running backwards would read steps"),
        ({"cell": "lstmm"}, "cell='lstmm' is not known; choose one of rnn, lstm, gru."),
        ({"topology": "tree"}, "choose one of n_to_1, n_to_n, n_to_m, 1_to_n"),
        (
            {"topology": "n_to_n", "n_features": 4, "target_index": [3]},
            "topology n_to_n reaches horizon=5 only by feeding each forecast back as the next "
            "input, which needs the targets to be the inputs",
        ),
        (
            {"topology": "n_to_1", "multi_step": "recursive", "n_features": 4},
            "use multi_step='direct' or 'auto'",
        ),
        (
            {
                "topology": "n_to_1",
                "multi_step": "recursive",
                "bidirectional": True,
                "target_index": [0],
            },
            "cannot carry a bidirectional state forward",
        ),
        ({"topology": "n_to_n", "multi_step": "direct"}, "is for topology n_to_1 only"),
        ({"nonlinearity": "sigmoid"}, "choose one of tanh, relu"),
        ({"hidden_size": 0}, "hidden_size must be an integer >= 1, got 0"),
        ({"num_layers": 1.5}, "num_layers must be an integer >= 1"),
        ({"dropout": 1.0}, "dropout must be a number in [0, 1)"),
        ({"teacher_forcing": 1.5}, "teacher_forcing must be a number in [0, 1]"),
        ({"bidirectional": "yes"}, "bidirectional must be True or False"),
        ({"n_targets": 2, "target_index": [0]}, "target_index must list 2 distinct"),
        ({"n_features": 2, "target_index": [2]}, "in [0, 2)"),
    ],
)
def test_bad_configs_are_refused_with_one_clear_sentence(options, message):
    with pytest.raises(ConfigError) as error:
        build_model(ModelConfig(**options))
    assert message in str(error.value)


def test_build_model_needs_a_config():
    with pytest.raises(ConfigError, match="build_model needs a ModelConfig, got dict"):
        build_model({"cell": "gru"})  # type: ignore[arg-type]


def test_bad_inputs_are_refused():
    model = build_model(tiny_config("gru", "tanh", "n_to_m"))
    with pytest.raises(DataError, match="F=3 features"):
        model(torch.randn(N, T, 2))
    with pytest.raises(DataError, match=r"lengths must lie in 1\.\.6"):
        model(torch.randn(N, T, 3), torch.tensor([6, 0, 2]))
    with pytest.raises(DataError, match="one integer per window"):
        model(torch.randn(N, T, 3), torch.tensor([6, 2]))
    with pytest.raises(DataError, match=r"target must be \[N, H, K\]"):
        model.train()(torch.randn(N, T, 3), target=torch.randn(N, H + 1, 2))


# ------------------------------------------------------------------------------ config JSON
def test_config_round_trips_through_json_and_refuses_unknown_keys():
    config = ModelConfig(cell="GRU", topology="seq2seq", n_features=2, target_index=(1,))
    saved = json.loads(json.dumps(config.validate().to_dict()))
    loaded = ModelConfig.from_dict(saved)
    assert loaded == config.validate()
    assert loaded.topology == "n_to_m" and loaded.cell == "gru" and loaded.target_index == [1]
    with pytest.raises(ConfigError, match="unknown key\\(s\\) 'window'"):
        ModelConfig.from_dict({**saved, "window": 3})


def test_config_repr_shows_only_non_defaults():
    assert repr(ModelConfig()) == "ModelConfig()"
    assert repr(ModelConfig(cell="gru", horizon=3)) == "ModelConfig(cell='gru', horizon=3)"


# ------------------------------------------------------------------------------ padding
PADDING_CASES = [
    (cell, topology, bidirectional)
    for cell in CELLS
    for topology, bidirectional in [
        ("n_to_1", False),
        ("n_to_1", True),
        ("n_to_n", False),
        ("n_to_m", False),
        ("n_to_m", True),
        ("1_to_n", False),
    ]
]


@pytest.mark.parametrize("cell,topology,bidirectional", PADDING_CASES)
def test_a_padded_window_gives_the_output_of_the_same_window_unpadded(
    cell, topology, bidirectional
):
    torch.manual_seed(0)
    direct = {"multi_step": "direct"} if topology == "n_to_1" else {}
    config = tiny_config(cell, "tanh", topology, bidirectional=bidirectional, **direct)
    model = build_model(config).double().eval()
    x = torch.randn(N, T, config.n_features, dtype=torch.float64)
    short = 4
    padded = x.clone()
    padded[1, short:] = 1e3  # garbage in the padding must not leak in
    lengths = torch.tensor([T, short, 5])
    with torch.no_grad():
        alone = x[1:2, :short]
        torch.testing.assert_close(
            model.forecast(padded, lengths)[1:2], model.forecast(alone), rtol=0, atol=1e-10
        )
        trained = model(padded, lengths)[1:2]
        reference = model(alone)
        if topology == "n_to_n":
            trained = trained[:, :short]  # later steps are padding
        torch.testing.assert_close(trained, reference, rtol=0, atol=1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_backbone_bidirectional_last_state_is_the_true_last_step(cell):
    torch.manual_seed(0)
    backbone = Backbone(cell, 2, 5, num_layers=2, bidirectional=True).double()
    x = torch.randn(2, 7, 2, dtype=torch.float64)
    outputs, state = backbone(x, torch.tensor([7, 3]))
    _, alone = backbone(x[1:2, :3])
    assert outputs.shape == (2, 7, 10)
    assert torch.all(outputs[1, 3:] == 0)  # padded steps carry nothing
    torch.testing.assert_close(
        backbone.last_hidden(state)[1:2], backbone.last_hidden(alone), rtol=0, atol=1e-12
    )
    # the forward half is the output at step 3, the backward half the output at step 0
    torch.testing.assert_close(backbone.last_hidden(state)[1, :5], outputs[1, 2, :5])
    torch.testing.assert_close(backbone.last_hidden(state)[1, 5:], outputs[1, 0, 5:])


# ------------------------------------------------------------------------------ teacher forcing
@pytest.mark.parametrize("topology", ["n_to_m", "1_to_n"])
@pytest.mark.parametrize("cell", CELLS)
def test_teacher_forcing_feeds_the_true_previous_value(cell, topology):
    torch.manual_seed(0)
    model = build_model(tiny_config(cell, "tanh", topology, dropout=0.0)).train()
    x = torch.randn(N, T, 3)
    target = torch.randn(N, H, 2)
    h = 2
    perturbed = target.clone()
    perturbed[:, h - 1] += 1.0
    with torch.no_grad():
        before, after = model(x, target=target), model(x, target=perturbed)
        assert torch.equal(before[:, :h], after[:, :h])  # the past cannot see it
        assert not torch.allclose(before[:, h], after[:, h])  # step h reads target[h-1]
        # without teacher forcing the target is never read
        free = model(x, target=target, teacher_forcing=0.0)
        assert torch.equal(free, model(x, target=perturbed, teacher_forcing=0.0))
        assert torch.equal(free, model.forecast(x))
        model.eval()  # evaluation is autoregressive even when a target is passed
        assert torch.equal(model(x, target=target), model(x, target=perturbed))


def test_config_teacher_forcing_zero_ignores_the_target_in_training():
    model = build_model(
        tiny_config("lstm", "tanh", "n_to_m", teacher_forcing=0.0, dropout=0.0)
    ).train()
    x, target = torch.randn(N, T, 3), torch.randn(N, H, 2)
    with torch.no_grad():
        assert torch.equal(model(x, target=target), model(x, target=target + 1.0))


def test_scheduled_sampling_is_deterministic_under_a_seed():
    model = build_model(tiny_config("gru", "tanh", "n_to_m", teacher_forcing=0.5)).train()
    x, target = torch.randn(8, T, 3), torch.randn(8, H, 2)
    with torch.no_grad():
        torch.manual_seed(1)
        first = model(x, target=target)
        torch.manual_seed(1)
        second = model(x, target=target)
    assert torch.equal(first, second)


# ------------------------------------------------------------------------------ seeding
@pytest.mark.parametrize("topology,options", HEAD_CASES, ids=lambda v: str(v))
def test_the_same_seed_builds_the_same_parameters(topology, options):
    def build() -> dict[str, torch.Tensor]:
        torch.manual_seed(0)
        return build_model(tiny_config("lstm", "tanh", topology, **options)).state_dict()

    first, second = build(), build()
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)


# ------------------------------------------------------------------------------ registry
def test_registry_lists_every_cell_topology_and_baseline():
    models = list_models()
    names = {model["name"] for model in models}
    assert {f"{c}/{t}" for c in CELLS for t in ("n_to_1", "n_to_n", "n_to_m", "1_to_n")} <= names
    assert {"naive", "seasonal_naive", "drift", "mean", "ridge"} <= names
    by_name = {model["name"]: model for model in models}
    assert by_name["gru/n_to_m"]["bidirectional"] is True
    assert by_name["gru/n_to_n"]["bidirectional"] is False
    assert by_name["rnn/n_to_1"]["options"]["nonlinearity"]["allowed"] == ["tanh", "relu"]
    assert by_name["lstm/n_to_m"]["options"]["hidden_size"]["default"] == 64
    assert by_name["seasonal_naive"]["options"]["season"]["default"] == 5
    assert by_name["ridge"]["kind"] == "baseline"
    json.dumps(models)  # JSON-ready for `forecast models --json`
    table = model_table()
    assert "lstm/n_to_m" in table and "seasonal_naive" in table and "teacher_forcing" in table


# ------------------------------------------------------------------------------ learnability
def _sine(n_rows: int, features: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    phase = 0.3 * torch.arange(n_rows, dtype=torch.float32)
    waves = torch.stack([torch.sin(phase), torch.cos(phase)], dim=1)[:, :features]
    return waves + 0.05 * torch.randn(n_rows, features, generator=generator)  # [L, F]


@pytest.mark.parametrize(
    "topology,features,options",
    [
        ("n_to_1", 1, {"multi_step": "recursive"}),
        ("n_to_n", 1, {}),
        ("n_to_m", 1, {}),
        ("1_to_n", 2, {}),  # one bar of (sin, cos) pins the phase; sin alone would not
    ],
)
def test_each_topology_can_fit_a_noisy_sine(topology, features, options):
    torch.manual_seed(0)
    lookback, horizon = 12, 4
    series = _sine(200, features)
    config = ModelConfig(
        cell="gru",
        topology=topology,
        hidden_size=16,
        horizon=horizon,
        n_features=features,
        n_targets=1,
        target_index=[0],
        **options,
    )
    model = build_model(config)
    windows = series.unfold(0, lookback + horizon, 1).transpose(1, 2)  # [N, T + H, F]
    x, future = windows[:, :lookback], windows[:, lookback:, :1]  # [N, T, F], [N, H, 1]
    y = {
        "n_to_1": future[:, :1],  # [N, 1, 1]
        "n_to_n": windows[:, 1 : lookback + 1, :1],  # [N, T, 1]
        "n_to_m": future,  # [N, H, 1]
    }[model.train_target]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(120):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x, target=y), y)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        error = torch.nn.functional.mse_loss(model.eval().forecast(x), future).item()
    assert error < 0.05, f"forecast MSE {error:.3f} (the sine's variance is 0.5)"
