"""Carry a fitted model forward: take bars that extend the ones it saw, optionally fine-tune on
them, save the result as a new version beside the old one, and forecast what comes next.

::

    runs/aapl/               the model 'forecast fit --out runs/aapl' wrote (never modified)
    runs/aapl@2024-06-04/    the version that has seen bars up to 2024-06-04
    runs/aapl@2024-06-05/    ... and so on, one per update that brought new bars

Every version is an ordinary model directory (``forecast predict --model runs/aapl@2024-06-05``
works), written atomically, so a killed update leaves the previous versions and nothing
half-written. :func:`update_model_dir` always starts from the newest version of the lineage,
so a cron job can pass the same ``runs/aapl`` every day. Running it twice with the same bars
changes nothing the second time: the newest version has already seen them, so no version is
written, and the forecasts file is rewritten only if its bytes would differ.

Fine-tuning (``epochs > 0``) continues from the current weights on the windows whose targets
reach at least one new bar (the only windows the model has not trained on), with the fit's
training settings except: no validation tail and no early stopping (a handful of new windows
cannot hold one). The scaler policy must be chosen explicitly:

- ``"frozen"``: the scaler keeps its statistics, so the network sees inputs scaled as in its
  original fit (the usual choice for a few new bars);
- ``"refit"``: the scaler is fitted again on every bar at hand (the bars passed, plus those the
  model kept), and fine-tuning adapts the weights to the new scaling; pass the full history to
  refit on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from forecast._atomic import atomic_write_text
from forecast.data.panels import stack_in_time_order
from forecast.data.transforms import SeriesTransform
from forecast.data.validate import validate
from forecast.errors import ConfigError, DataError, ModelFileError
from forecast.estimator import load_model
from forecast.latest import forecast_latest
from forecast.numerics import check_converged
from forecast.seen import SeenBars
from forecast.serialization import CONFIG_FILE
from forecast.training import train

__all__ = [
    "SCALER_POLICIES",
    "UpdateResult",
    "latest_version",
    "update",
    "update_model_dir",
    "version_path",
]

SCALER_POLICIES: tuple[str, ...] = ("frozen", "refit")
VERSION_MARK = "@"


@dataclass
class UpdateResult:
    """What :func:`update` (and :func:`update_model_dir`) did.

    Attributes
    ----------
    model
        The updated model (the given one, unchanged, when nothing was new).
    new_bars
        Bars added, over all series (0: the model had already seen every bar passed).
    tickers
        Series that received new bars (None for a single series).
    windows
        Windows fine-tuned on (0 without fine-tuning).
    forecasts
        The next H forecasts of every series (see :func:`forecast.forecast_latest`).
    source, version
        For :func:`update_model_dir`: the version it started from and the one it wrote
        (None when nothing was new).
    """

    model: Any
    new_bars: int
    tickers: list[str | None]
    windows: int
    forecasts: pd.DataFrame
    source: Path | None = None
    version: Path | None = None

    @property
    def changed(self) -> bool:
        return self.new_bars > 0


def update(
    model: Any,
    new_bars: pd.DataFrame,
    *,
    epochs: int = 0,
    scaler: str | None = None,
    force: bool = False,
) -> UpdateResult:
    """A copy of a fitted :class:`~forecast.Forecaster` that has seen ``new_bars``.

    Parameters
    ----------
    model
        A fitted Forecaster (from ``fit``, ``load_model`` or an earlier update); not modified.
    new_bars
        Bars with the fitted columns: today's bars alone, or a longer file (rows on or before
        the last bar the model saw are skipped). A panel must hold only tickers the model saw;
        a ticker absent from it keeps its last bars.
    epochs
        Fine-tuning epochs on the new windows (0: no training, the model only moves forward).
    scaler
        ``"frozen"`` or ``"refit"``, required when ``epochs > 0`` (see the module docstring).
    force
        Accept a gap longer than the data's usual spacing (see :mod:`forecast.seen`).

    Returns
    -------
    UpdateResult
        ``.model`` (the new model), ``.forecasts`` (next H bars per series), counts.

    Raises
    ------
    ConfigError
        ``epochs`` is not a non-negative integer, ``scaler`` is missing or unknown when
        fine-tuning, or ``scaler="refit"`` without fine-tuning.
    DataError
        The bars lack a fitted column, fail validation, or do not extend the ones seen.
    ModelFileError
        The model does not record the bars it saw (saved by an older forecast).
    TrainingError
        Fine-tuning diverged; nothing is returned or written.
    """
    policy = _check_options(model, epochs, scaler)
    seen: SeenBars = model.seen_
    if not isinstance(new_bars, pd.DataFrame):
        raise DataError(
            f"update expects a pandas DataFrame of bars, got {type(new_bars).__name__}; "
            "load them with forecast.load(...)."
        )
    model._check_columns(new_bars)
    if policy == "frozen":
        # Only rows from the kept bars on can matter; validating a long history per ticker
        # would cost more than the update itself.
        new_bars = _from(new_bars, min(tail.dates[0] for tail in seen.tails))
    frame = validate(
        new_bars,
        columns=seen.columns,
        nan_policy=model.nan_policy,
        require_positive=model.representation != "levels",
        min_length=1,
    )
    added = seen.new_rows(frame, force=force)
    if not added:
        return UpdateResult(model, 0, [], 0, forecast_latest(model))

    updated = copy.deepcopy(model)
    windows = 0
    if epochs > 0:
        windows = _fine_tune(updated, frame, added, epochs, policy)
    n_new = sum(len(rows) for rows in added.values())
    entry = {
        "first_new": _stamp(min(rows.index[0] for rows in added.values())),
        "last": _stamp(max(rows.index[-1] for rows in added.values())),
        "bars": n_new,
        "series": len(added),
        "epochs": int(epochs),
        "scaler": policy,
        "windows": windows,
        "forced": bool(force),
    }
    updated.seen_ = seen.with_new_bars(added, updated._seen_rows(), entry)
    return UpdateResult(updated, n_new, list(added), windows, forecast_latest(updated))


def _check_options(model: Any, epochs: Any, scaler: str | None) -> str:
    if not hasattr(model, "module_"):
        raise ConfigError(
            f"update needs a fitted Forecaster, got {type(model).__name__}"
            f"{'' if hasattr(model, 'fit_columns_') else ' (not fitted)'}; fit one first."
        )
    if getattr(model, "seen_", None) is None:
        raise ModelFileError(
            "this model does not record the bars it saw (it was saved by an older forecast); "
            "fit it again with this version to update it."
        )
    if not isinstance(epochs, int | np.integer) or isinstance(epochs, bool) or epochs < 0:
        raise ConfigError(f"epochs of update must be an integer >= 0, got {epochs!r}.")
    if epochs > 0 and scaler not in SCALER_POLICIES:
        raise ConfigError(
            f"fine-tuning (epochs={epochs}) needs an explicit scaler policy, got {scaler!r}; "
            "pass scaler='frozen' (keep the fitted scaling) or scaler='refit' (fit it again "
            "on all bars at hand)."
        )
    if epochs == 0 and scaler not in (None, "frozen"):
        raise ConfigError(
            f"scaler={scaler!r} without fine-tuning would feed the network inputs scaled unlike "
            "those it learned on; pass epochs > 0 with it, or scaler='frozen'."
        )
    return scaler or "frozen"


def _fine_tune(
    model: Any,
    frame: pd.DataFrame,
    added: dict[str | None, pd.DataFrame],
    epochs: int,
    policy: str,
) -> int:
    """Train ``model`` (a copy) in place on the windows whose targets reach a new bar."""
    seen: SeenBars = model.seen_
    given = {ticker: part for ticker, part in _parts(frame)}
    histories: dict[str | None, tuple[pd.DataFrame, pd.Timestamp]] = {}
    for tail in seen.tails:
        if tail.ticker not in added:
            continue
        # What the model saw wins over a revised file; earlier rows of the file only add
        # history for refitting the scaler.
        part = given[tail.ticker]
        before = part.loc[part.index < tail.dates[0], seen.columns]
        history = pd.concat([before, tail.frame(seen.columns), added[tail.ticker]])
        histories[tail.ticker] = (history, tail.last)
    transform = model.transform_
    if policy == "refit":
        transform = SeriesTransform(representation=model.representation, scaler=model.scaler)
        transform.fit([history.to_numpy(np.float64) for history, _ in histories.values()])
    horizon = int(model.horizon)
    X_parts, y_parts, origin_parts = [], [], []
    for history, last_seen in histories.values():
        X, y, origins = model._training_windows(history, transform, model.module_.train_target)
        first_new = int(history.index.searchsorted(last_seen, side="right"))
        origin_rows = history.index.get_indexer(origins)
        keep = torch.from_numpy(np.flatnonzero(origin_rows + horizon >= first_new))
        X_parts.append(X[keep])
        y_parts.append(y[keep])
        origin_parts.append(origins[keep.numpy()])
    X, y = stack_in_time_order(origin_parts, X_parts, y_parts)
    if len(X) == 0:
        return 0
    config = dataclasses.replace(
        model.train_config_, epochs=int(epochs), val_fraction=0.0, patience=None, progress=False
    )
    module = model.module_
    history_ = train(module, X, y, config, horizon=horizon)
    check_converged(module, history_, y, config)
    model.module_ = module.cpu().eval()
    model.transform_ = transform
    return len(X)


def _from(bars: pd.DataFrame, first: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``bars`` dated ``first`` or later, when its dates can be compared as is."""
    dates = bars.index.get_level_values(-1) if isinstance(bars.index, pd.MultiIndex) else bars.index
    if not isinstance(dates, pd.DatetimeIndex) or dates.tz is not None:
        return bars  # validation will parse or refuse them; nothing to cut safely here
    kept = bars.loc[np.asarray(dates >= first)]
    kept.attrs = dict(bars.attrs)
    return kept


def _parts(frame: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    from forecast.data.panels import series_parts

    return series_parts(frame)


# -- model directories ------------------------------------------------------------------------


def version_path(model_dir: str | os.PathLike[str], last: pd.Timestamp) -> Path:
    """Where the version of ``model_dir``'s lineage that has seen bars up to ``last`` lives."""
    root = _root(Path(model_dir))
    return root.with_name(f"{root.name}{VERSION_MARK}{_stamp(last).replace(':', '-')}")


def latest_version(model_dir: str | os.PathLike[str]) -> Path:
    """The newest version of ``model_dir``'s lineage: the one whose bars reach furthest.

    The lineage is the model directory first written (``runs/aapl``) and its versions
    (``runs/aapl@DATE``), whichever of them ``model_dir`` names.

    Raises
    ------
    ModelFileError
        No model directory of that lineage exists.
    """
    root = _root(Path(model_dir))
    candidates = [root] if (root / CONFIG_FILE).is_file() else []
    if root.parent.is_dir():
        candidates += sorted(
            path
            for path in root.parent.glob(f"{root.name}{VERSION_MARK}*")
            if (path / CONFIG_FILE).is_file()
        )
    if not candidates:
        raise ModelFileError(
            f"no model directory at {str(model_dir)!r}; pass the folder written by "
            "'forecast fit --out' (or one of its versions)."
        )
    # The newest bar seen decides; among equals, the later version name.
    return max(candidates, key=lambda path: (_last_seen(path), path.name))


def update_model_dir(
    model_dir: str | os.PathLike[str],
    new_bars: pd.DataFrame,
    *,
    epochs: int = 0,
    scaler: str | None = None,
    force: bool = False,
    forecasts_csv: str | os.PathLike[str] | None = None,
) -> UpdateResult:
    """:func:`update` the newest version of a saved model and write the next version.

    Parameters
    ----------
    model_dir
        A model directory or any version of it; the newest version of its lineage is used
        (see :func:`latest_version`).
    new_bars, epochs, scaler, force
        As for :func:`update`.
    forecasts_csv
        Where to write the next forecasts (the frame of :func:`forecast.forecast_latest`);
        written atomically, and only when its content changes.

    Returns
    -------
    UpdateResult
        With ``.source`` (the version read) and ``.version`` (the one written, or None when
        the bars held nothing new).
    """
    source = latest_version(model_dir)
    model = load_model(source)
    result = update(model, new_bars, epochs=epochs, scaler=scaler, force=force)
    result.source = source
    if result.changed:
        last = max(tail.last for tail in result.model.seen_.tails)
        target = version_path(model_dir, last)
        result.model.save(target)
        result.version = target
    if forecasts_csv is not None:
        write_if_changed(forecasts_csv, result.forecasts.to_csv(index=False))
    return result


def write_if_changed(path: str | os.PathLike[str], text: str) -> bool:
    """Write ``text`` atomically unless ``path`` already holds exactly it; True if written."""
    target = Path(path)
    if target.is_file() and target.read_bytes() == text.encode("utf-8"):
        return False
    atomic_write_text(target, text)
    return True


def _root(path: Path) -> Path:
    name = path.name.split(VERSION_MARK, 1)[0]
    return path.with_name(name) if name else path


def _last_seen(path: Path) -> pd.Timestamp:
    """The newest bar recorded in a model directory's config (no weights are read)."""
    try:
        document = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        tails = document["seen"]["tails"]
        return max(pd.Timestamp(tail["dates"][-1]) for tail in tails)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return pd.Timestamp.min  # an older save without "seen": update will say so


def _stamp(stamp: pd.Timestamp) -> str:
    stamp = pd.Timestamp(stamp)
    return str(stamp.date()) if stamp == stamp.normalize() else stamp.isoformat()
