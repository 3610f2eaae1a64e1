"""The model directory format: JSON for configuration and fitted state, safetensors for weights.

A model directory holds exactly::

    config.json          {"format": "forecast-model", "format_version": 1, "kind": ...,
                          "weights_sha256": ..., ...}
    weights.safetensors  the network's tensors (recurrent models only)

Loading never unpickles: JSON is parsed as data and safetensors reads raw tensor bytes, so no
code from the directory can run. A directory that holds a pickle anywhere (``*.pkl``, ``*.pt``,
``*.pth``, ``*.bin``, ``*.ckpt``, a file that starts like a binary pickle or a ``torch.save``
zip, or any file that parses as a complete pickle of any protocol; checked by reading opcodes
with :mod:`pickletools`, which never executes them), a weights file whose SHA-256 differs from
the one recorded in the config (tampered, truncated, or from another save), a config of
another format version or with unknown keys, missing files, or tensors whose names or shapes
disagree with the config is refused with a :class:`~forecast.errors.ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickletools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from forecast._atomic import atomic_directory
from forecast.errors import ModelFileError

__all__ = ["CONFIG_FILE", "FORMAT_VERSION", "WEIGHTS_FILE", "read_model_dir", "write_model_dir"]

FORMAT = "forecast-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".pt", ".pth", ".bin", ".ckpt", ".joblib")
_MAX_CONFIG_BYTES = 10 * 1024 * 1024
_HASH_KEY = "weights_sha256"
# How much of a stray file is read to decide whether it is a pickle.
_SNIFF_BYTES = 1024 * 1024


def write_model_dir(
    path: str | os.PathLike[str],
    config: Mapping[str, Any],
    weights: Mapping[str, torch.Tensor] | None,
) -> Path:
    """Write ``config`` (JSON-able) and ``weights`` to ``path`` atomically.

    The directory is built beside ``path`` and renamed into place only when complete, so an
    interrupted save (Ctrl-C, SIGKILL) leaves either the previous model or nothing.
    """
    from safetensors.torch import save

    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **config}
    with atomic_directory(path) as tmp:
        if weights is not None:
            tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in weights.items()}
            data = save(tensors)
            # Written by an ordinary open(), so the file gets 0666 less the umask like every
            # other file of the directory (safetensors' own save_file creates it 0600).
            (tmp / WEIGHTS_FILE).write_bytes(data)
            # The config records the weights' digest, so a flipped bit, a truncated copy or
            # weights from another save are refused on load instead of forecasting garbage.
            document[_HASH_KEY] = hashlib.sha256(data).hexdigest()
        text = json.dumps(document, indent=2, sort_keys=True, allow_nan=False)
        (tmp / CONFIG_FILE).write_text(text + "\n", encoding="utf-8")
    return Path(path)


def read_model_dir(
    path: str | os.PathLike[str], *, expected_keys: set[str] | None = None
) -> tuple[dict[str, Any], dict[str, torch.Tensor] | None]:
    """Read a model directory written by :func:`write_model_dir`; never unpickles.

    Returns
    -------
    (config, weights)
        The parsed JSON (without the format fields and the weights digest) and the tensors
        (None when the directory has no weights file, as for baselines).

    Raises
    ------
    ModelFileError
        Missing directory or config, a pickle anywhere in the directory, a wrong format or
        version, unknown top-level keys (when ``expected_keys`` is given), or unreadable tensors.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ModelFileError(
            f"no model directory at {str(folder)!r}; pass the folder written by "
            "Forecaster.save() or 'forecast fit --out'."
        )
    _refuse_pickles(folder)
    config = _read_config(folder)
    digest = config.pop(_HASH_KEY, None)
    if expected_keys is not None:
        unknown = sorted(set(config) - expected_keys)
        if unknown:
            raise ModelFileError(
                f"{CONFIG_FILE} in {str(folder)!r} has unknown keys {unknown}; it was written by "
                "another version or edited by hand; save the model again with this version."
            )
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.exists():
        if digest is not None:
            raise ModelFileError(
                f"{str(folder)!r} has no {WEIGHTS_FILE} but its {CONFIG_FILE} records one; "
                "the directory is incomplete; save the model again."
            )
        return config, None
    from safetensors import SafetensorError
    from safetensors.torch import load as load_tensors

    try:
        data = weights_path.read_bytes()
    except OSError as exc:
        raise ModelFileError(
            f"{WEIGHTS_FILE} in {str(folder)!r} cannot be read ({exc}); save the model again."
        ) from None
    if data[:1] == b"\x80" or data[:2] == b"PK":
        raise ModelFileError(
            f"{WEIGHTS_FILE} in {str(folder)!r} is a pickle or a torch.save archive, not "
            "safetensors; forecast never loads pickles because they can run code; save the "
            "model again with Forecaster.save()."
        )
    if not isinstance(digest, str) or hashlib.sha256(data).hexdigest() != digest:
        what = "records no digest of it" if digest is None else "records another digest"
        raise ModelFileError(
            f"{WEIGHTS_FILE} in {str(folder)!r} does not match its {CONFIG_FILE}, which "
            f"{what} (SHA-256): the weights were damaged, truncated or replaced; save the "
            "model again."
        )
    try:
        weights = load_tensors(data)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ModelFileError(
            f"{WEIGHTS_FILE} in {str(folder)!r} is damaged or truncated ({exc}); "
            "save the model again."
        ) from None
    return config, weights


def _refuse_pickles(folder: Path) -> None:
    """Refuse a directory with anything pickle-like in it, at any depth (nothing is loaded)."""
    for item in sorted(folder.rglob("*")):
        if item.parent == folder and item.name in (CONFIG_FILE, WEIGHTS_FILE):
            continue
        suspicious = item.suffix.lower() in _PICKLE_SUFFIXES
        if not suspicious and item.is_file():
            with open(item, "rb") as handle:
                head = handle.read(_SNIFF_BYTES)
            suspicious = _looks_like_pickle(head)
        if suspicious:
            name = item.relative_to(folder).as_posix()
            raise ModelFileError(
                f"{str(folder)!r} contains {name!r}, which may be a pickle; forecast never "
                "loads pickles because they can run code; remove it or re-save the model."
            )


def _looks_like_pickle(head: bytes) -> bool:
    """True for a binary pickle, a ``torch.save`` zip, or bytes that parse as a whole pickle."""
    # Pickle protocol 2+ starts with PROTO (0x80); torch.save's zip archives with 'PK'.
    if head[:1] == b"\x80" or head[:2] == b"PK":
        return True
    # Protocols 0 and 1 have no header: walk the opcodes (pickletools only decodes them,
    # it never imports or calls anything) and see whether a complete pickle ends in STOP.
    try:
        return any(opcode.name == "STOP" for opcode, _, _ in pickletools.genops(head))
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        return False


def _read_config(folder: Path) -> dict[str, Any]:
    config_path = folder / CONFIG_FILE
    if not config_path.is_file():
        raise ModelFileError(
            f"{str(folder)!r} has no {CONFIG_FILE}; it is not a forecast model directory."
        )
    if config_path.stat().st_size > _MAX_CONFIG_BYTES:
        raise ModelFileError(f"{CONFIG_FILE} in {str(folder)!r} is implausibly large; refusing it.")
    try:
        document = json.loads(config_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(
            f"{CONFIG_FILE} in {str(folder)!r} is not valid JSON ({exc}); save the model again."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(
            f"{CONFIG_FILE} in {str(folder)!r} is not a forecast model config "
            f"(expected format {FORMAT!r})."
        )
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(folder)!r} has model format version {version!r} but this forecast reads "
            f"version {FORMAT_VERSION}; re-save it with a matching forecast version."
        )
    return {k: v for k, v in document.items() if k not in ("format", "format_version")}
