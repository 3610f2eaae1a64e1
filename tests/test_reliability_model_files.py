"""Saved models: a damaged, tampered or hostile model directory is refused, and no code in it runs.

Every directory below starts as a real save and is then changed the way a disk error, a
careless copy or an attacker would change it. ``forecast.load_model`` must raise
:class:`forecast.ModelFileError` with a message naming the problem, and must never unpickle:
the crafted pickles here create a marker file when unpickled (proved by unpickling a copy on
purpose), and the marker must never appear.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file, save_file

import forecast as fc
from forecast.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore::forecast.DataWarning")

WEIGHTS = "weights.safetensors"
CONFIG = "config.json"


class Armed:
    """Unpickling this object opens (creates) ``marker``: proof that code from a file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def bars(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    index = pd.bdate_range("2023-01-02", periods=n, name="Date")
    return pd.DataFrame(
        {"Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close}, index
    )


def tiny(**overrides: Any) -> fc.Forecaster:
    settings: dict[str, Any] = {
        "cell": "gru",
        "topology": "n_to_m",
        "lookback": 5,
        "horizon": 2,
        "hidden_size": 4,
        "epochs": 1,
        "progress": False,
        "device": "cpu",
    }
    return fc.Forecaster(**{**settings, **overrides})


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real model directories: the model under test, a wider twin, an n_to_1 and a ridge."""
    root = tmp_path_factory.mktemp("models")
    frame = bars()
    return {
        "model": tiny().fit(frame).save(root / "model"),
        "wider": tiny(hidden_size=8).fit(frame).save(root / "wider"),
        "n_to_1": tiny(topology="n_to_1").fit(frame).save(root / "n_to_1"),
        "ridge": fc.Baseline(method="ridge", horizon=2, lags=3).fit(frame).save(root / "ridge"),
    }


def copy_of(saved: dict[str, Path], name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(saved[name], target)
    return target


def edit_config(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    document = json.loads((folder / CONFIG).read_text())
    change(document)
    (folder / CONFIG).write_text(json.dumps(document))


def write_weights(folder: Path, data: bytes, *, rehash: bool) -> None:
    """Replace the weights; with ``rehash`` also record their digest (a careful tamperer)."""
    (folder / WEIGHTS).write_bytes(data)
    if rehash:
        digest = hashlib.sha256(data).hexdigest()
        edit_config(folder, lambda document: document.update(weights_sha256=digest))


def refused(folder: Path, match: str) -> fc.ModelFileError:
    with pytest.raises(fc.ModelFileError, match=match) as info:
        fc.load_model(folder)
    message = str(info.value)
    assert "\n" not in message and len(message) > 30
    return info.value


# -- sanity: a real save loads bit-identically -------------------------------------------------


def test_a_real_save_loads_and_forecasts_bit_identically(saved: dict[str, Path]) -> None:
    frame = bars()
    model = fc.load_model(saved["model"])
    again = fc.load_model(saved["model"])

    assert isinstance(model, fc.Forecaster)
    pd.testing.assert_frame_equal(model.predict(frame), again.predict(frame), check_exact=True)
    assert sorted(path.name for path in saved["model"].iterdir()) == [CONFIG, WEIGHTS]
    assert json.loads((saved["model"] / CONFIG).read_text())["weights_sha256"] == (
        hashlib.sha256((saved["model"] / WEIGHTS).read_bytes()).hexdigest()
    )


# -- pickles: refused, never run -------------------------------------------------------------


def _torch_save_bytes(payload: object, tmp_path: Path) -> bytes:
    path = tmp_path / "archive.pt"
    torch.save(payload, path)
    return path.read_bytes()


PICKLE_PLACES = {
    "model.pkl (protocol 5)": lambda marker, tmp: ("model.pkl", pickle.dumps(Armed(marker), 5)),
    "notes.txt (protocol 0, no header)": lambda marker, tmp: (
        "notes.txt",
        pickle.dumps(Armed(marker), 0),
    ),
    "extra.pt (torch.save zip)": lambda marker, tmp: (
        "extra.pt",
        _torch_save_bytes({"weight": Armed(marker)}, tmp),
    ),
    "sub/state (nested, no suffix)": lambda marker, tmp: (
        "sub/state",
        pickle.dumps(Armed(marker), 2),
    ),
}


@pytest.mark.parametrize("place", PICKLE_PLACES)
def test_a_pickle_anywhere_in_the_directory_is_refused_and_never_run(
    place: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    name, payload = PICKLE_PLACES[place](marker, tmp_path)
    folder = copy_of(saved, "model", tmp_path)
    (folder / name).parent.mkdir(exist_ok=True)
    (folder / name).write_bytes(payload)

    refused(folder, f"contains '{name}', which may be a pickle; forecast never loads pickles")
    assert not marker.exists()

    # The payload is live: unpickling it on purpose does create the marker.
    armed = tmp_path / "ARMED"
    _, live = PICKLE_PLACES[place](armed, tmp_path)
    if place.startswith("extra.pt"):
        torch.load(tmp_path / "archive.pt", weights_only=False)
    else:
        pickle.loads(live)
    assert armed.exists()


@pytest.mark.parametrize("kind", ["pickle", "torch.save zip"])
@pytest.mark.parametrize("rehash", [False, True], ids=["digest-kept", "digest-updated"])
def test_a_weights_file_that_is_really_a_pickle_is_refused_and_never_run(
    kind: str, rehash: bool, saved: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    folder = copy_of(saved, "model", tmp_path)
    state = {name: Armed(marker) for name in load_file(str(folder / WEIGHTS))}
    data = pickle.dumps(state, 4) if kind == "pickle" else _torch_save_bytes(state, tmp_path)
    write_weights(folder, data, rehash=rehash)

    refused(folder, "is a pickle or a torch.save archive, not safetensors")
    assert not marker.exists()


def test_the_cli_refuses_a_pickled_model_directory_without_running_it(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    marker = tmp_path / "MARKER"
    folder = copy_of(saved, "model", tmp_path)
    (folder / "model.pkl").write_bytes(pickle.dumps(Armed(marker)))

    result = CliRunner().invoke(cli, ["predict", "--model", str(folder)])

    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {str(folder)!r} contains 'model.pkl', which may be a pickle; forecast never "
        "loads pickles because they can run code; remove it or re-save the model.\n"
    )
    assert not marker.exists()


# -- damaged or tampered weights -------------------------------------------------------------


def _flip_last_byte(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0xFF])


def _nan_weights(folder: Path) -> bytes:
    tensors = load_file(str(folder / WEIGHTS))
    first = sorted(tensors)[0]
    tensors[first].view(-1)[0] = float("nan")
    save_file(tensors, str(folder / "nan.tmp"))
    data = (folder / "nan.tmp").read_bytes()
    (folder / "nan.tmp").unlink()
    return data


TAMPERED = {
    "one flipped bit": (
        lambda folder: _flip_last_byte((folder / WEIGHTS).read_bytes()),
        False,
        "does not match its config.json, which records another digest",
    ),
    "truncated to 100 bytes": (
        lambda folder: (folder / WEIGHTS).read_bytes()[:100],
        False,
        "weights were damaged, truncated or replaced",
    ),
    "truncated, digest updated": (
        lambda folder: (folder / WEIGHTS).read_bytes()[:-8],
        True,
        "is damaged or truncated",
    ),
    "empty file": (lambda folder: b"", False, "does not match its config.json"),
    "NaN weight, digest updated": (_nan_weights, True, "holds NaN or inf values"),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_tampered_or_truncated_weights_are_refused(
    case: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    change, rehash, match = TAMPERED[case]
    folder = copy_of(saved, "model", tmp_path)
    write_weights(folder, change(folder), rehash=rehash)

    refused(folder, match)


def test_weights_of_another_size_are_refused_by_shape(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "model", tmp_path)
    write_weights(folder, (saved["wider"] / WEIGHTS).read_bytes(), rehash=True)

    refused(folder, r"tensor '.+' has shape \(\d+,( \d+)?\) but the config needs \(\d+,")


def test_weights_of_another_topology_are_refused_by_name(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "model", tmp_path)
    write_weights(folder, (saved["n_to_1"] / WEIGHTS).read_bytes(), rehash=True)

    refused(folder, "that do not match the config; the files come from different models")


def test_weights_missing_from_the_directory_are_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "model", tmp_path)
    (folder / WEIGHTS).unlink()

    refused(folder, "has no weights.safetensors but its config.json records one")


def test_weights_without_a_recorded_digest_are_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "model", tmp_path)
    edit_config(folder, lambda document: document.pop("weights_sha256"))

    refused(folder, "which records no digest of it")


# -- configs: versions, unknown keys, disagreements ------------------------------------------


def _set(path: tuple[str, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value

    return change


CONFIGS = {
    "future format version": (
        _set(("format_version",), 2),
        "has model format version 2 but this forecast reads version 1",
    ),
    "another format": (_set(("format",), "other-tool"), "is not a forecast model config"),
    "unknown top-level key": (_set(("extra",), 1), r"has unknown keys \['extra'\]"),
    "unknown parameter": (_set(("params", "evil"), 1), r"has unknown parameters \['evil'\]"),
    "unknown fitted entry": (_set(("fitted", "evil"), 1), "the fitted state has entries"),
    "unknown model_config key": (
        _set(("fitted", "model_config", "evil"), 1),
        "model config has unknown key",
    ),
    "unknown model kind": (_set(("kind",), "transformer"), "names model kind 'transformer'"),
    "parameters disagree with the network": (
        _set(("params", "hidden_size"), 8),
        "the fitted model_config.hidden_size 4 disagrees with the saved parameters",
    ),
    "network config disagrees with the weights": (
        _set(("fitted", "model_config", "cell"), "lstm"),
        "the fitted model_config.cell 'lstm' disagrees",
    ),
    "feature list edited": (
        _set(("fitted", "feature_names_in"), ["Close"]),
        "the fitted feature_names_in",
    ),
    "scaler statistics truncated": (
        _set(("fitted", "transform", "statistics", "mean_"), [0.0]),
        "scaler statistic 'mean_' is not 4 finite number",
    ),
    "scaler scale of zero": (
        _set(("fitted", "transform", "statistics", "scale_"), [0.0, 0.0, 0.0, 0.0]),
        "scaler statistic 'scale_' is not 4 finite number",
    ),
    "parameter of the wrong type": (
        _set(("params", "lookback"), "five"),
        "lookback of Forecaster must be a positive integer",
    ),
    "history of the wrong shape": (_set(("fitted", "history"), {"loss": 1}), "TrainHistory"),
}


@pytest.mark.parametrize("case", CONFIGS)
def test_a_config_that_cannot_be_trusted_is_refused(
    case: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    change, match = CONFIGS[case]
    folder = copy_of(saved, "model", tmp_path)
    edit_config(folder, change)

    refused(folder, match)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "is not a forecast model config"),
        ('{"format": "forecast-model", "format_version": 1e999}', "format version"),
        ("\udcff", "is not valid JSON"),
    ],
    ids=["broken JSON", "a JSON list", "a huge number", "bad UTF-8"],
)
def test_a_config_that_is_not_a_config_is_refused(
    text: str, match: str, saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "model", tmp_path)
    (folder / CONFIG).write_bytes(text.encode("utf-8", "surrogateescape"))

    refused(folder, match)


def test_a_missing_or_absent_directory_is_refused(saved: dict[str, Path], tmp_path: Path) -> None:
    refused(tmp_path / "nowhere", "no model directory at")
    folder = copy_of(saved, "model", tmp_path)
    (folder / CONFIG).unlink()
    refused(folder, "has no config.json; it is not a forecast model directory")


# -- baselines -------------------------------------------------------------------------------


def test_ridge_coefficients_of_the_wrong_shape_are_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "ridge", tmp_path)
    edit_config(folder, _set(("fitted", "ridge", "coef"), [[1.0, 2.0]]))

    refused(folder, "the RidgeLags state's coefficients")


def test_ridge_settings_that_disagree_with_the_parameters_are_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "ridge", tmp_path)
    edit_config(folder, _set(("params", "lags"), 4))

    refused(folder, "the fitted ridge")


def test_a_baseline_directory_with_weights_is_refused(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = copy_of(saved, "ridge", tmp_path)
    shutil.copy(saved["model"] / WEIGHTS, folder / WEIGHTS)
    digest = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()
    edit_config(folder, lambda document: document.update(weights_sha256=digest))

    refused(folder, "a Baseline has no weights")


def test_loading_the_wrong_kind_through_a_class_is_refused(saved: dict[str, Path]) -> None:
    with pytest.raises(fc.ModelFileError, match="holds a Baseline, not a Forecaster"):
        fc.Forecaster.load(saved["ridge"])
    with pytest.raises(fc.ModelFileError, match="holds a Forecaster, not a Baseline"):
        fc.Baseline.load(saved["model"])
