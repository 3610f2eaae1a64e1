"""Tune a Forecaster's settings on walk-forward folds, then score the winner once on bars the
search never saw.

::

    |<------------------ data ------------------------------------------->|
    |<- training of fold 1 ->|<- tuning region: folds 1..k ->|<- test region ->|
                               every trial: walk-forward MASE   best config only,
                               (pruned fold by fold)            backtested once

Why not one hold-out split: a search picks the configuration that did best on the bars it
was scored on, so with one split it picks partly for the noise of that one stretch of prices
(one regime, one set of shocks), and the winning score is biased low — the more trials, the
lower. Scoring each trial on several walk-forward folds averages that noise over several
stretches and refits, exactly as the final backtest will use the model; and scoring the
winner once more on a test region that no trial saw (nested evaluation) measures what is left
of the gain. The report puts the two scores side by side: a test MASE well above the tuning
MASE is the search overfitting its folds.

Each trial: the Forecaster with the trial's settings is backtested fold by fold on the tuning
region (fit on every bar before the fold, forecast the fold's origins); after each fold the
MASE pooled over the folds so far is reported to Optuna, whose median pruner stops a trial
that is worse than the median of earlier trials at the same fold. The study lives in
Optuna's storage (SQLite file ``study.db`` by default on the command line): a second run with
the same settings resumes it, and ``trials`` counts finished trials (complete or pruned) of
the whole study. Trials run one after another in this process; each trial's refits use the
backtest's lanes (``n_jobs``), so cores are never oversubscribed.

Optuna is an optional dependency: ``pip install 'forecast-rnn[tune]'``.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import clone

from forecast.backtest import BacktestResult, backtest
from forecast.data.panels import calendar as shared_calendar
from forecast.data.panels import rows_between
from forecast.data.validate import validate
from forecast.errors import ConfigError, DataError, ForecastError
from forecast.folds import make_folds
from forecast.forecaster import Forecaster
from forecast.metrics import mase
from forecast.search_space import DEFAULT_SPACE, ORDER, Choice, Dimension, Range, applies

__all__ = ["INSTALL_HINT", "TuneResult", "require_optuna", "tune"]

INSTALL_HINT = (
    "tuning needs Optuna, an optional extra; install it with pip install 'forecast-rnn[tune]' "
    "(or pip install optuna)."
)
MODEL_LABEL = "model"
# Median pruning starts after this many finished trials (their fold scores set the median).
PRUNER_STARTUP_TRIALS = 4
# Settings written to the best-config TOML only when they differ from the defaults.
_NOT_WRITTEN = ("progress", "warm_start")
_OFF_AS_ZERO = ("patience", "clip_grad_norm")  # None means "off"; the CLI spells it 0


def require_optuna() -> Any:
    """Import Optuna, or raise :class:`ConfigError` saying how to install it."""
    try:
        import optuna
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return optuna


@dataclass
class TuneResult:
    """What :func:`tune` found.

    Attributes
    ----------
    trials
        One row per trial of the study: ``trial``, ``state`` (complete, pruned, fail),
        ``tuning_mase`` (pooled over the folds it ran), ``fold_mase`` (per fold),
        ``seconds``, ``default`` (the base configuration's own trial), ``error`` (why a
        trial failed), then the settings.
    best_params
        The winning settings that differ from the base Forecaster's.
    best
        The winning Forecaster (unfitted).
    tuning_score
        Its walk-forward MASE on the tuning region.
    test_score
        Its MASE on the test region, backtested once after the search.
    default_tuning_score, default_test_score
        The base configuration's scores (NaN when not run).
    test
        The test-region backtest of the winner.
    study_name, storage
        Where the study lives (``storage`` None: in memory only).
    """

    trials: pd.DataFrame
    best_params: dict[str, Any]
    best: Forecaster
    tuning_score: float
    test_score: float
    default_tuning_score: float
    default_test_score: float
    test: BacktestResult
    study_name: str
    storage: str | None
    settings: dict[str, Any] = field(default_factory=dict)

    def table(self) -> str:
        """The trials as a plain-text table (best first among finished trials)."""
        frame = self.trials.copy()
        frame["fold_mase"] = frame["fold_mase"].map(
            lambda scores: " ".join(f"{s:.3f}" for s in scores)
        )
        frame = frame.sort_values(["tuning_mase", "trial"], na_position="last")
        return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")

    def summary(self) -> str:
        """Tuning and test scores side by side, the winner's settings, the default's scores."""
        counts = self.trials["state"].value_counts()
        states = ", ".join(
            f"{counts[s]} {s}" for s in ("complete", "pruned", "fail") if s in counts
        )
        lines = [
            f"{len(self.trials)} trials ({states}); best: trial {self.settings['best_trial']}.",
            f"best config: tuning MASE {self.tuning_score:.4f}, test MASE {self.test_score:.4f}"
            f" (test region {self.settings['test_start']} to {self.settings['data_end']}, "
            "never seen while tuning)",
        ]
        if not math.isnan(self.default_test_score):
            lines.append(
                f"default config: tuning MASE {self.default_tuning_score:.4f}, test MASE "
                f"{self.default_test_score:.4f}"
            )
        changed = ", ".join(f"{k}={v!r}" for k, v in sorted(self.best_params.items()))
        lines.append(f"best settings: {changed or '(the defaults)'}")
        return "\n".join(lines)

    def to_toml(self, data: str | None = None) -> str:
        """The winner as a TOML file that ``forecast fit --config`` and ``forecast backtest
        --config`` accept (model settings only, plus ``data`` when given)."""
        return best_config_toml(self.best, data=data)

    def write_config(self, path: str | Path, data: str | None = None) -> Path:
        """Write :meth:`to_toml` to ``path`` atomically."""
        from forecast._atomic import atomic_write_text

        return atomic_write_text(path, self.to_toml(data=data))


def tune(
    forecaster: Forecaster,
    data: pd.DataFrame,
    *,
    trials: int = 20,
    space: Mapping[str, Dimension] | None = None,
    test_size: int = 250,
    test_folds: int = 5,
    tune_size: int = 250,
    tune_folds: int = 5,
    step: int | None = None,
    window: Literal["expanding", "sliding"] = "expanding",
    train_length: int | None = None,
    gap: int = 0,
    pruning: bool = True,
    storage: str | Path | None = None,
    study_name: str = "forecast-tune",
    seed: int = 0,
    timeout: float | None = None,
    n_jobs: int | None = None,
    compare_default: bool = True,
    on_trial: Any = None,
) -> TuneResult:
    """Search ``forecaster``'s settings on walk-forward folds before a held-out test region.

    Parameters
    ----------
    forecaster
        The base configuration: settings outside the search keep its values; it is tried
        first (so the search never reports worse than the default on the tuning region).
    data
        Bars, one series or a ``(ticker, Date)`` panel (one configuration for all tickers).
    trials
        Finished trials (complete or pruned) the study should hold; a resumed study runs only
        the missing ones.
    space
        Search space (see :mod:`forecast.search_space`); default :data:`DEFAULT_SPACE`.
        Entries override the default's one by one.
    test_size, test_folds
        The last ``test_size`` bars, backtested in ``test_folds`` folds with the winner only.
    tune_size, tune_folds
        The ``tune_size`` bars before the test region, in ``tune_folds`` folds, score trials.
    step, window, train_length, gap
        As for :func:`forecast.backtest` (tuning folds and the test backtest alike).
    pruning
        Stop trials whose pooled MASE after a fold is worse than the median of earlier trials
        at that fold (Optuna's ``MedianPruner``).
    storage
        SQLite file (or any SQLAlchemy URL) holding the study; it resumes when it exists.
        None keeps the study in memory.
    study_name
        The study's name inside the storage.
    seed
        Seed of the sampler (offset by the number of trials already in the study, so a resumed
        study does not redraw its first configurations) and of every model.
    timeout
        Stop starting trials after this many seconds.
    n_jobs
        Refit lanes of each backtest (see :func:`forecast.backtest`).
    compare_default
        Also backtest the base configuration on the test region, for the report.
    on_trial
        Called with each finished Optuna trial (e.g. to print progress).

    Returns
    -------
    TuneResult
        The trials table, the winner, its tuning and test scores (and the default's).

    Raises
    ------
    ConfigError
        Optuna is not installed, a bad option or search space, or a stored study that was run
        with other settings.
    DataError
        The data cannot hold the tuning folds, the test region and a training slice.
    TrainingError
        No trial finished (every one failed); the first failure is named.
    """
    optuna = require_optuna()
    _check_counts(
        trials=trials,
        test_size=test_size,
        test_folds=test_folds,
        tune_size=tune_size,
        tune_folds=tune_folds,
    )
    full_space = _merged_space(space)
    base = clone(forecaster)
    frame = _validated(base, data)
    calendar = shared_calendar(frame)
    if tune_size + test_size >= len(calendar):
        raise DataError(
            f"{len(calendar)} bars cannot hold a tuning region of {tune_size} bars and a test "
            f"region of {test_size} after a training slice; lower tune_size or test_size."
        )
    tune_end = len(calendar) - test_size  # first bar of the test region
    tune_frame = rows_between(frame, calendar[0], calendar[tune_end - 1])
    plan = make_folds(
        tune_end,
        test_size=tune_size,
        folds=tune_folds,
        window=window,
        train_length=train_length,
        gap=gap,
    )
    fold_options = dict(
        step=step,
        window=window,
        train_length=train_length,
        gap=gap,
        n_jobs=n_jobs,
        baselines=["naive"],
        model_name=MODEL_LABEL,
    )
    settings = {
        "data": str(frame.attrs.get("name", "data")),
        "data_start": str(calendar[0].date()),
        "data_end": str(calendar[-1].date()),
        "tune_start": str(calendar[plan[0].test_start].date()),
        "test_start": str(calendar[tune_end].date()),
        "tune_size": tune_size,
        "tune_folds": tune_folds,
        "test_size": test_size,
        "test_folds": test_folds,
        "step": step,
        "window": window,
        "train_length": train_length,
        "gap": gap,
        "base": _jsonable(base.get_params()),
        "space": _describe_space(full_space),
    }

    def objective(trial: Any) -> float:
        started = time.perf_counter()
        params = _sample(trial, full_space, base.get_params())
        trial.set_user_attr("params", _jsonable(params))
        model = clone(base).set_params(**params)
        pooled: list[pd.DataFrame] = []
        fold_scores: list[float] = []
        try:
            for fold in plan:
                cut = rows_between(tune_frame, calendar[0], calendar[fold.test_stop - 1])
                result = backtest(
                    model, cut, test_size=fold.test_stop - fold.test_start, folds=1, **fold_options
                )
                pooled.append(result.forecasts)
                fold_scores.append(pooled_mase([result.forecasts]))
                score = pooled_mase(pooled)
                trial.set_user_attr("fold_mase", fold_scores)
                trial.set_user_attr("seconds", time.perf_counter() - started)
                trial.report(score, fold.fold)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        except ForecastError as exc:
            # A setting the data cannot support (a lookback longer than a fold's history) or
            # a diverged fit: the trial fails with the reason kept, the study goes on.
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}")
            trial.set_user_attr("seconds", time.perf_counter() - started)
            return math.nan
        return score

    with _quiet_optuna(optuna):
        study = _study(optuna, storage, study_name, settings, seed, pruning)
        _enqueue_default(study, full_space, base.get_params())
        remaining = trials - _finished(optuna, study)
        if remaining > 0:

            def after_trial(_study: Any, trial: Any) -> None:
                if on_trial is not None:
                    on_trial(trial)
                if _finished(optuna, study) >= trials:
                    study.stop()

            # Failed trials do not count towards ``trials``; up to ``trials`` of them are
            # tolerated before the search gives up.
            study.optimize(
                objective,
                n_trials=remaining + trials,
                timeout=timeout,
                callbacks=[after_trial],
                catch=(),
            )
    table = _trials_table(optuna, study)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        errors = [t.user_attrs.get("error") for t in study.trials if t.user_attrs.get("error")]
        from forecast.errors import TrainingError

        raise TrainingError(
            "no trial finished, so there is no best configuration"
            + (f"; the first failed with {errors[0]}" if errors else "")
            + "; widen the data or narrow the search space."
        )
    winner = min(complete, key=lambda t: (t.value, t.number))
    best = clone(base).set_params(**winner.user_attrs["params"])
    test_options = dict(
        step=step,
        window=window,
        train_length=train_length,
        gap=gap,
        n_jobs=n_jobs,
        test_size=test_size,
        folds=test_folds,
    )
    test = backtest(best, frame, model_name=MODEL_LABEL, **test_options)
    test_score = pooled_mase([test.forecasts])
    default_rows = [t for t in complete if t.user_attrs.get("default")]
    default_tuning = default_rows[0].value if default_rows else math.nan
    default_test = math.nan
    if compare_default:
        if _same_model(best, base):
            default_test = test_score
        else:
            reference = backtest(
                base, frame, model_name=MODEL_LABEL, baselines=["naive"], **test_options
            )
            default_test = pooled_mase([reference.forecasts])
    defaults = base.get_params()
    best_params = {k: v for k, v in best.get_params().items() if v != defaults[k]}
    settings["best_trial"] = winner.number
    return TuneResult(
        trials=table,
        best_params=best_params,
        best=best,
        tuning_score=float(winner.value),
        test_score=test_score,
        default_tuning_score=float(default_tuning),
        default_test_score=float(default_test),
        test=test,
        study_name=study_name,
        storage=_storage_url(storage),
        settings=settings,
    )


# -- scores ---------------------------------------------------------------------------------


def pooled_mase(forecasts: Sequence[pd.DataFrame]) -> float:
    """MASE of the tuned model over every point of ``forecasts`` (tidy frames holding the
    model and the naive forecast on the same points): ``MAE(model) / MAE(naive)``."""
    frame = pd.concat(forecasts, ignore_index=True)
    keys = [c for c in ("ticker", "origin", "step") if c in frame.columns]
    model = frame[frame["model"] == MODEL_LABEL].set_index(keys)
    naive = frame[frame["model"] == "naive"].set_index(keys)
    naive = naive.reindex(model.index)
    return mase(
        model["actual"].to_numpy(), model["predicted"].to_numpy(), naive["predicted"].to_numpy()
    )


# -- the study ---------------------------------------------------------------------------------


def _study(
    optuna: Any,
    storage: str | Path | None,
    name: str,
    settings: dict[str, Any],
    seed: int,
    pruning: bool,
) -> Any:
    url = _storage_url(storage)
    if url is None:
        backend: Any = optuna.storages.InMemoryStorage()
    else:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        # A heartbeat marks trials left "running" by a killed process as failed when the
        # study is opened again, so they neither block nor count.
        backend = optuna.storages.RDBStorage(url, heartbeat_interval=30, grace_period=60)
    names = optuna.get_all_study_names(backend)
    existing = 0
    if name in names:
        study = optuna.load_study(study_name=name, storage=backend)
        stored = study.user_attrs.get("settings")
        if stored is not None and stored != json.loads(json.dumps(settings)):
            changed = sorted(
                k for k in settings if stored.get(k) != json.loads(json.dumps(settings[k]))
            )
            raise ConfigError(
                f"the study {name!r} in {url} was run with other settings ({', '.join(changed)} "
                "differ), so its scores are not comparable; use the same settings to resume it, "
                "or another study name."
            )
        existing = len(study.trials)
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=0)
        if pruning
        else optuna.pruners.NopPruner()
    )
    sampler = optuna.samplers.TPESampler(seed=seed + existing)
    study = optuna.create_study(
        storage=backend,
        study_name=name,
        direction="minimize",
        sampler=sampler,
        pruner=pruner,
        load_if_exists=True,
    )
    if existing == 0:
        study.set_user_attr("settings", json.loads(json.dumps(settings)))
    return study


def _finished(optuna: Any, study: Any) -> int:
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return sum(t.state in done for t in study.trials)


def _enqueue_default(study: Any, space: Mapping[str, Dimension], base: dict[str, Any]) -> None:
    """Make the base configuration the study's first trial (once per study)."""
    if study.trials:
        return
    params = {}
    for name, dim in space.items():
        value = base.get(name)
        in_choices = isinstance(dim, Choice) and value in dim.options
        in_range = (
            isinstance(dim, Range)
            and isinstance(value, int | float)
            and dim.low <= value <= dim.high
        )
        if in_choices or in_range:
            params[name] = value
    study.enqueue_trial(params, user_attrs={"default": True})


def _sample(trial: Any, space: Mapping[str, Dimension], base: dict[str, Any]) -> dict[str, Any]:
    """The trial's settings: ``base`` with every applicable space entry drawn (or fixed)."""
    params = dict(base)
    changed: dict[str, Any] = {}
    for name in [*[n for n in ORDER if n in space], *[n for n in space if n not in ORDER]]:
        if not applies(name, params):
            continue
        dim = space[name]
        if isinstance(dim, Choice):
            value = trial.suggest_categorical(name, list(dim.options))
        elif isinstance(dim, Range) and dim.is_int:
            step = int(dim.step) if dim.step else 1
            value = trial.suggest_int(name, int(dim.low), int(dim.high), step=step, log=dim.log)
        elif isinstance(dim, Range):
            value = trial.suggest_float(
                name, float(dim.low), float(dim.high), log=dim.log, step=dim.step
            )
        else:
            value = dim
        params[name] = value
        changed[name] = value
    return changed


def _trials_table(optuna: Any, study: Any) -> pd.DataFrame:
    state_names = {
        optuna.trial.TrialState.COMPLETE: "complete",
        optuna.trial.TrialState.PRUNED: "pruned",
        optuna.trial.TrialState.FAIL: "fail",
        optuna.trial.TrialState.RUNNING: "running",
        optuna.trial.TrialState.WAITING: "waiting",
    }
    rows = []
    for trial in study.trials:
        folds = list(trial.user_attrs.get("fold_mase", []))
        score = (
            trial.value
            if trial.value is not None
            else (
                list(trial.intermediate_values.values())[-1]
                if trial.intermediate_values
                else math.nan
            )
        )
        rows.append(
            {
                "trial": trial.number,
                "state": state_names.get(trial.state, str(trial.state)),
                "tuning_mase": float(score) if score is not None else math.nan,
                "fold_mase": folds,
                "seconds": float(trial.user_attrs.get("seconds", math.nan)),
                "default": bool(trial.user_attrs.get("default", False)),
                "error": str(trial.user_attrs.get("error", "")),
                **trial.params,
            }
        )
    return pd.DataFrame(rows)


@contextlib.contextmanager
def _quiet_optuna(optuna: Any) -> Iterator[None]:
    """Optuna logs every trial at INFO; the table says it better. Both restored afterwards."""
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            # The heartbeat of RDB storage is marked experimental; it is what resumes cleanly.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(level)


# -- helpers -----------------------------------------------------------------------------------


def _check_counts(**counts: int) -> None:
    for name, value in counts.items():
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} of tune must be a positive integer, got {value!r}.")


def _merged_space(space: Mapping[str, Dimension] | None) -> dict[str, Dimension]:
    known = set(Forecaster().get_params())
    unknown = sorted(set(space or {}) - known)
    if unknown:
        raise ConfigError(
            f"the search space names {unknown}, which are not Forecaster settings; use any of "
            f"{', '.join(sorted(known))}."
        )
    return {**DEFAULT_SPACE, **(space or {})}


def _validated(model: Forecaster, data: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"tune expects a pandas DataFrame of bars, got {type(data).__name__}; load data "
            "with forecast.load(...)."
        )
    features, targets = model._columns()
    frame = validate(
        data,
        columns=list(dict.fromkeys([*features, *targets])),
        nan_policy=model.nan_policy,
        require_positive=True,
    )
    frame.attrs["name"] = data.attrs.get("name", "data")
    return frame


def _storage_url(storage: str | Path | None) -> str | None:
    if storage is None:
        return None
    text = str(storage)
    return text if "://" in text else f"sqlite:///{Path(text).resolve()}"


def _describe_space(space: Mapping[str, Dimension]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, dim in sorted(space.items()):
        if isinstance(dim, Choice):
            out[name] = list(dim.options)
        elif isinstance(dim, Range):
            out[name] = {"low": dim.low, "high": dim.high, "log": dim.log, "step": dim.step}
        else:
            out[name] = dim
    return _jsonable(out)


def _jsonable(value: Any) -> Any:
    return json.loads(
        json.dumps(value, default=lambda v: v.item() if hasattr(v, "item") else list(v))
    )


def _same_model(a: Forecaster, b: Forecaster) -> bool:
    return _jsonable(a.get_params()) == _jsonable(b.get_params())


def best_config_toml(model: Forecaster, data: str | None = None) -> str:
    """The model's settings as TOML keys spelled like the command-line options."""
    defaults = Forecaster().get_params()
    lines = ["# Written by forecast tune: the best configuration found.", ""]
    if data is not None:
        lines.append(f"data = {json.dumps(data)}")
    for name, value in sorted(model.get_params().items()):
        if name in _NOT_WRITTEN and value == defaults[name]:
            continue
        if name in _NOT_WRITTEN or (name == "features" and value is None):
            continue
        if value is None and name in _OFF_AS_ZERO:
            value = 0
        lines.append(f"{name.replace('_', '-')} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write {value!r} to TOML.")
