"""Hyper-parameter search with Optuna: batch size, learning rate, dropout, width and depth.

The study lives in SQLite (``runs/optuna.sqlite``), so it resumes after an interruption
and several processes (or batch jobs) can add trials to one study at once. Each trial
trains a network and is scored by the weighted validation AUC (signal vs the rest).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import warnings
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.training import Decorrelation, HyperParameters
from hhnb.errors import HHNBError, SpaceMismatch, UserArgumentError
from hhnb.io import record
from hhnb.nn.fit import fit
from hhnb.nn.predict import predict
from hhnb.nn.training import decorrelated_weights, training_arrays
from hhnb.stats import metrics


@dataclass(frozen=True)
class Space:
    """The search space: the older random_search.py's ranges."""

    batch_sizes: tuple[int, ...] = (64, 128, 256, 512, 1024)
    learning_rate: tuple[float, float] = (1e-6, 1.0)  # log-uniform
    dropout: tuple[float, float] = (0.1, 0.5)  # uniform
    width_units: tuple[int, int] = (10, 59)  # width = 10 x U{10..59}
    depth: tuple[int, int] = (1, 3)

    def as_dict(self) -> dict[str, list]:
        return {k: list(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Arrays:
    """Training and validation arrays of one analysis and lambda (the test set is never used)."""

    x_train: np.ndarray
    y_train: np.ndarray
    w_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    w_val: np.ndarray  # class-balanced training weights (for early stopping)
    phys_val: np.ndarray  # physical event weights (for the AUC)
    n_classes: int
    n_inputs: int
    penalty: Any = None  # the DisCo term of a decorrelated search, hhnb.nn.decorrelation.Penalty (None: plain, flat)


@dataclass(frozen=True)
class SearchResult:
    """What a search left: the study, its best trial and the run-record row id."""

    study: Any
    best_params: dict[str, Any]
    best_value: float
    n_complete: int
    record_id: int | None


def default_storage() -> str:
    """``sqlite:///<project>/runs/optuna.sqlite``."""
    paths.optuna_path().parent.mkdir(parents=True, exist_ok=True)
    return paths.optuna_url()


def study_name(analysis: str, kl: object) -> str:
    """Default study name, e.g. ``resolved_lambda1.0``."""
    return paths.study_name(analysis, kl)


def prepare(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
            max_events: int | None = None, seed: int = 1, decorrelation: Decorrelation | None = None) -> Arrays:
    """Read the ntuples and build the arrays exactly as ``training.train`` does (with ``decorrelation``: its
    flattened training weights or its DisCo penalty, :func:`hhnb.nn.training.decorrelated_weights`)."""
    kl = _lambdas.parse(kl)
    ana = _config.analysis(analysis, config)
    a = training_arrays(ana, kl, paths.data_dir(data_dir), max_events=max_events, seed=seed, folds=1)
    tr, va = a.train, a.val
    w_train, penalty = decorrelated_weights(a, decorrelation or Decorrelation(), ana, tr, va)
    return Arrays(a.x[tr], a.y[tr], w_train, a.x[va], a.y[va], a.sample_weight[va], a.weight[va],
                  len(a.classes), a.x.shape[1], penalty)


def suggest(trial, space: Space, epochs: int) -> HyperParameters:
    """Draw one combination from ``space``."""
    depth = trial.suggest_int("depth", *space.depth)
    width = 10 * trial.suggest_int("width_units", *space.width_units)
    return HyperParameters(
        widths=(width,) * depth,
        dropout=trial.suggest_float("dropout", *space.dropout),
        learning_rate=trial.suggest_float("learning_rate", *space.learning_rate, log=True),
        batch_size=trial.suggest_categorical("batch_size", list(space.batch_sizes)),
        epochs=epochs,
    )


def hyper_from_params(params: dict[str, Any], epochs: int) -> HyperParameters:
    """The HyperParameters of a finished trial's ``params``."""
    return HyperParameters(widths=(10 * int(params["width_units"]),) * int(params["depth"]),
                           dropout=float(params["dropout"]), learning_rate=float(params["learning_rate"]),
                           batch_size=int(params["batch_size"]), epochs=epochs)


def validation_auc(arrays: Arrays, hyper: HyperParameters, seed: int = 1) -> float:
    """Train with ``hyper`` and return the weighted validation AUC of the signal output."""
    result = fit(arrays.x_train, arrays.y_train, arrays.w_train, arrays.x_val, arrays.y_val, arrays.w_val,
                 arrays.n_classes, hyper, seed=seed, penalty=arrays.penalty)
    score = predict(result.model, arrays.x_val)[:, 0]
    if not np.all(np.isfinite(score)):
        return 0.5  # a diverged network (e.g. learning rate 1) separates nothing
    return metrics.roc((arrays.y_val == 0).astype(int), score, arrays.phys_val).area


class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
    """Random sampling seeded by (seed, trial number): reproducible, and distinct across processes sharing a study."""

    def __init__(self, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.base_seed = int(seed)

    def sample_independent(self, study, trial, param_name, param_distribution):
        mixed = np.random.SeedSequence([self.base_seed, trial.number, zlib.crc32(param_name.encode())])
        key = int(mixed.generate_state(1)[0])
        return optuna.samplers.RandomSampler(seed=key).sample_independent(study, trial, param_name, param_distribution)


def _sampler(kind: str, seed: int):
    if kind == "random":
        return TrialSeededRandomSampler(seed)
    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    raise UserArgumentError(f"unknown sampler {kind!r}: expected 'random' or 'tpe'")


@contextlib.contextmanager
def _sqlite_lock(storage: str | None):
    """Serialise creating a SQLite study across processes (Optuna's schema set-up races otherwise)."""
    if not (storage and storage.startswith("sqlite:///")):
        yield
        return
    lock = Path(storage.removeprefix("sqlite:///") + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_study(name: str, storage: str | None, space: Space, fixed: dict[str, Any], sampler: str = "random",
               seed: int = 1):
    """Create or load the study; refuse one created with another search space or other fixed settings."""
    with _sqlite_lock(storage):
        return _open_study(name, storage, space, fixed, sampler, seed)


def _open_study(name, storage, space, fixed, sampler, seed):
    if storage and storage.startswith("sqlite:///"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(storage, heartbeat_interval=30, grace_period=90,
                                                 engine_kwargs={"connect_args": {"timeout": 60}})
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                sampler=_sampler(sampler, seed), load_if_exists=True)
    wanted = {"space": space.as_dict(), "fixed": fixed}
    have = study.user_attrs.get("search")
    if have is None:
        study.set_user_attr("search", wanted)
    elif json.loads(json.dumps(have)) != json.loads(json.dumps(wanted)):
        where = storage.url if hasattr(storage, "url") else (storage or "memory")
        diff = {k: (have.get(s, {}).get(k), v) for s in ("space", "fixed") for k, v in wanted[s].items()
                if have.get(s, {}).get(k) != json.loads(json.dumps(v))}
        raise SpaceMismatch(
            f"study {name!r} in {where} was created with a different search space or settings "
            f"({'; '.join(f'{k}: study has {a}, asked {b}' for k, (a, b) in diff.items())}): "
            "use another study name (--study) or the study's settings")
    return study


def describe(params: dict[str, Any]) -> str:
    """One line for a combination: width x depth, batch size, learning rate, dropout."""
    return (f"widths {10 * int(params['width_units'])} x {int(params['depth'])}, batch {int(params['batch_size'])}, "
            f"learning rate {float(params['learning_rate']):.3g}, dropout {float(params['dropout']):.3f}")


def search(analysis: str, kl: object, trials: int = 15, epochs: int | None = None, sampler: str = "random", seed: int = 1,
           name: str | None = None, storage: str | None = "default", config: str | Path | None = None,
           data_dir: str | Path | None = None, max_events: int | None = None, space: Space | None = None,
           record_path: str | Path | None = None, write_record: bool = True,
           report: Callable[[str], None] | None = print, decorrelation: Decorrelation | None = None) -> SearchResult:
    """Run the study until it holds ``trials`` trials; print each new best; record the best (if trials ran).

    ``storage="default"`` is ``runs/optuna.sqlite``; ``None`` keeps the study in memory. ``epochs``: per trial,
    with early stopping (None: the training default, :class:`hhnb.config.training.HyperParameters`).
    """
    epochs = HyperParameters.epochs if epochs is None else int(epochs)
    kl = _lambdas.parse(kl)
    _config.analysis(analysis, config)  # unknown analysis: fail before opening anything
    space = space or Space()
    storage = default_storage() if storage == "default" else storage
    name = name or study_name(analysis, kl)
    fixed = {"analysis": analysis, "lambda": kl, "epochs": epochs, "max_events": max_events, "seed": seed}
    dec = decorrelation or Decorrelation()
    if dec.method != "none":  # a decorrelated study is another study (plain studies keep their stored settings)
        fixed["decorrelation"] = dec.as_dict()
    study = open_study(name, storage, space, fixed, sampler, seed)
    arrays = prepare(analysis, kl, config, data_dir, max_events, seed, dec)

    def objective(trial) -> float:
        return validation_auc(arrays, suggest(trial, space, epochs), seed)

    def announce(st, trial) -> None:
        if report and trial.value is not None and st.best_trial.number == trial.number:
            report(f"trial {trial.number}: new best validation AUC {trial.value:.4f} with {describe(trial.params)}")

    counted = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING)
    todo = trials - len(study.get_trials(deepcopy=False, states=counted))
    if todo > 0:
        study.optimize(objective, n_trials=todo, callbacks=[announce, optuna.study.MaxTrialsCallback(trials, counted)])
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not done:
        raise HHNBError(f"study {name!r}: no trial finished (see the warnings above for why each failed)")
    best = study.best_trial
    row_id = None
    if write_record and todo > 0:
        hyper = hyper_from_params(best.params, epochs)
        row_id = record.add({
            "analysis": analysis, "lambda": kl, "tag": _lambdas.tag(kl), "architecture": record.architecture(hyper.widths),
            "n_inputs": arrays.n_inputs, "n_classes": arrays.n_classes, "learning_rate": hyper.learning_rate,
            "batch_size": hyper.batch_size, "dropout": hyper.dropout, "epochs": epochs,
            "optimizer": hyper.optimizer, "auc": float(best.value), "seed": seed, "source": "search",
            "notes": f"validation AUC of trial {best.number} of study {name} ({len(done)} trials, {sampler}"
                     + (f", decorrelation {dec.method} {dec.strength:g})" if dec.method != "none" else ")"),
        }, record_path)
    return SearchResult(study, dict(best.params), float(best.value), len(done), row_id)
