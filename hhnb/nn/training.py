"""One training run end to end: read the ntuples, train, save model + card + scores.

``train("resolved", 1.0)`` is what ``notebooks/train.ipynb`` calls.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis
from hhnb.config.training import FOLDS, LEARNING_RATE, REFERENCE_BATCH, Decorrelation, HyperParameters
from hhnb.errors import InputFileError, UserArgumentError
from hhnb.io import artifacts
from hhnb.io import ntuples as data
from hhnb.nn import backend, onnx
from hhnb.nn import decorrelation as decor
from hhnb.nn import folds as _folds
from hhnb.nn import parameterised as _param
from hhnb.nn.fit import TrainResult, fit
from hhnb.nn.layers import logged_inputs
from hhnb.nn.predict import predict
from hhnb.nn.saving import save
from hhnb.nn.weights import class_balanced_weights, training_weights
from hhnb.stats import metrics
from hhnb.toy import ondemand

VALIDATION_FRACTION = _folds.VALIDATION_FRACTION


@dataclass(frozen=True)
class TrainingRun:
    """A finished training: where its files are and its headline numbers.

    For a k-fold set ``model_paths`` lists the k networks (``model_path`` is the first)
    and ``results`` their trainings; ``scores`` holds every event's out-of-fold score.
    """

    analysis: str
    kl: float | str  # layout.PARAM for the parameterised network
    model_path: Path
    card_path: Path
    scores_path: Path
    card: dict[str, Any]
    result: TrainResult
    scores: pd.DataFrame
    folds: int = 1
    model_paths: tuple[Path, ...] = ()
    results: tuple[TrainResult, ...] = ()
    onnx_paths: tuple[Path, ...] = ()


def validation_mask(event: np.ndarray, seed: int) -> np.ndarray:
    """A seeded 10 % of the training events for early stopping (never the test set)."""
    return _folds.validation_mask(event, ~data.is_test(event), seed)


def subsample(df: pd.DataFrame, max_events: int | None, seed: int, folds: int,
              limits: dict[str, int] | None = None) -> pd.DataFrame:
    """Keep at most ``max_events`` training events per sample (test events are all kept).

    For a k-fold set every event is some network's test event: each sample keeps at most
    ``max_events * k / (k - 1)`` events, so that each network trains on about ``max_events``.
    ``limits`` sets another number for the samples it names.
    """
    if not max_events and not limits:
        return df
    rng = np.random.default_rng(seed + 7)
    pool = ~df["is_test"].to_numpy() if folds < 2 else np.ones(len(df), bool)
    keep = np.ones(len(df), bool)
    for name in df["sample"].cat.categories:
        most = (limits or {}).get(name, max_events)
        if not most:
            continue
        limit = most if folds < 2 else int(np.ceil(most * folds / (folds - 1)))
        idx = np.flatnonzero((df["sample"] == name).to_numpy() & pool)
        if len(idx) > limit:
            drop = rng.choice(idx, len(idx) - limit, replace=False)
            keep[drop] = False
    out = df[keep].copy()
    kept_pool = pool[keep]
    # the kept events carry the weight of the dropped ones
    for name in df["sample"].cat.categories:
        m_all = (df["sample"] == name).to_numpy() & pool
        m_out = (out["sample"] == name).to_numpy() & kept_pool
        if m_out.any():
            out.loc[m_out, "weight"] *= df.loc[m_all, "weight"].sum() / out.loc[m_out, "weight"].sum()
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class TrainingArrays:
    """The events of one analysis and lambda as a network sees them, and the three disjoint sets.

    ``weight`` is the physical (luminosity) weight; ``sample_weight`` the class-balanced
    training weight; ``train``, ``val``, ``test`` are boolean masks over ``frame``'s rows
    (for a k-fold set ``test`` is every event and ``frame["fold"]`` says which network scores it;
    the per-fold training and early-stopping sets come from :func:`fold_plans`).
    """

    frame: pd.DataFrame
    features: list[str]
    classes: list[str]
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    sample_weight: np.ndarray
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    folds: int = 1
    lambdas: tuple[float, ...] = ()  # a parameterised network's training lambdas (x ends with kappa_lambda)

    @property
    def inputs(self) -> list[str]:
        """The network's input columns: the features, then ``layout.PARAM_INPUT`` for a parameterised network."""
        return [*self.features, paths.PARAM_INPUT] if self.lambdas else list(self.features)


def choose_half(event: np.ndarray, folds: int) -> np.ndarray:
    """For a k-fold set: the half of the (all out-of-fold) events on which cuts are chosen (``is_val``).

    Cuts are then quoted on the other half, so no quoted number is tuned on its own events.

    >>> choose_half(np.arange(8), 2).astype(int).tolist()
    [0, 0, 1, 1, 0, 0, 1, 1]
    """
    return (np.asarray(event) // folds) % 2 == 1


def training_arrays(ana: Analysis, kl: object, data_dir: str | Path, n_classes: int | None = None,
                    max_events: int | None = None, seed: int = 1, generate: bool = False,
                    folds: int | None = None, lambdas: object = None, signal_events: int | None = None) -> TrainingArrays:
    """Read the ntuples and build the arrays every training uses (train, search and the benchmarks).

    ``kl = layout.PARAM``: the events of a parameterised network (:mod:`hhnb.nn.parameterised`) at
    ``lambdas`` (default the grid), at most ``signal_events`` training events of each lambda's signal.
    """
    folds = _folds.check_folds(FOLDS if folds is None else folds)
    grid = _param.check_lambdas(lambdas) if paths.is_param(kl) else ()
    if grid:
        df = _param.load_frame(ana, grid, data_dir, n_classes, generate, seed)
    else:
        if generate:
            ondemand.generate_missing(ana, kl, data_dir)
        df = data.load(ana, kl, data_dir, n_classes=n_classes)
    if folds >= 2:
        df["fold"] = _folds.fold_of(df["event"].to_numpy(), folds)
        df["is_test"] = True  # every event is scored by the network blind to its fold
    limits = {str(s): signal_events for s in df.loc[df["label"] == 0, "sample"].unique()} if grid and signal_events \
        else None
    df = subsample(df, max_events, seed, folds, limits)
    classes = list(ana.classes) if (n_classes or len(ana.classes)) == len(ana.classes) else [ana.classes[0], "background"]
    event = df["event"].to_numpy()
    df["is_val"] = validation_mask(event, seed) if folds == 1 else choose_half(event, folds)
    features = list(ana.features)
    inputs = [*features, paths.PARAM_INPUT] if grid else features
    y = df["label"].to_numpy(np.int32)
    weight = df["weight"].to_numpy(np.float64)
    test = df["is_test"].to_numpy()
    val = df["is_val"].to_numpy()
    train = ~test & ~val if folds == 1 else np.zeros(len(df), bool)
    trained = training_weights(weight, ana.negative_weights)
    balance = _param.lambda_balanced(trained, df[paths.PARAM_INPUT].to_numpy(), y == 0) if grid else trained
    return TrainingArrays(df, features, classes, input_matrix(df, inputs), y, weight,
                          class_balanced_weights(y, balance), train, val, test, folds, grid)


def input_matrix(df: pd.DataFrame, inputs: list[str]) -> np.ndarray:
    """``df[inputs].to_numpy(np.float32)`` (the same values and column-major layout), filled column by column:
    no float64 copy of the inputs on the way (a 5M-event training, benchmarks/large_train.py).

    >>> input_matrix(pd.DataFrame({"a": [1.0, 2.0], "b": [0.1, 3.0]}), ["b", "a"]).tolist()
    [[0.10000000149011612, 1.0], [3.0, 2.0]]
    """
    x = np.empty((len(df), len(inputs)), np.float32, order="F")
    for j, c in enumerate(inputs):
        x[:, j] = df[c].to_numpy()
    return x


def fold_plans(arrays: TrainingArrays, seed: int) -> list[tuple[list[np.ndarray], int]]:
    """(train, early-stopping, scored) masks and seed of each network: one for a single split, k for a k-fold set."""
    if arrays.folds == 1:
        return [([arrays.train, arrays.val, arrays.test], seed)]
    event, fold = arrays.frame["event"].to_numpy(), arrays.frame["fold"].to_numpy()
    plans = []
    for i in range(arrays.folds):
        va = _folds.validation_mask(event, fold != i, seed, fold=i)
        plans.append(([(fold != i) & ~va, va, fold == i], seed + i))
    return plans

def score_frame(df: pd.DataFrame, probs: np.ndarray, classes: list[str], analysis: str, kl: object) -> pd.DataFrame:
    """The scores table downstream notebooks read: outputs, discriminant, meta columns, masses, features."""
    out = pd.DataFrame({f"score_{c}": probs[:, i].astype(np.float32) for i, c in enumerate(classes)})
    out.insert(0, "score_sig", probs[:, 0].astype(np.float32))
    out["discriminant"] = metrics.discriminant(probs[:, 0]).astype(np.float32)
    for col in ("sample", "label", "weight", "event", "is_test", "is_val", "fold"):
        if col in df:
            out[col] = df[col].to_numpy()
    for col in df.columns:
        if col not in out and col not in data.META and col not in ("is_val", "fold"):
            out[col] = df[col].to_numpy()
    out.attrs.update({"analysis": analysis, "lambda": kl})
    return out


def output_dir(analysis: str, kl: object) -> Path:
    """The run folder of one network (``layout.run_dir``): its plots and tables."""
    return paths.run_dir(analysis, kl)



def decorrelation_inputs(arrays: TrainingArrays, dec: Decorrelation, ana: Analysis) -> tuple[list[str], np.ndarray,
                                                                                         np.ndarray]:
    """The mass columns of a decorrelated training, their values per event, and the penalty weight (|w| of the
    background events, 0 for signal)."""
    masses = list(dec.masses or ana.decorrelate)
    if not masses:
        raise UserArgumentError(f"decorrelation {dec.method!r} of analysis {ana.name!r}: no mass columns; add "
                                f"'decorrelate: [h1_M, h2_M]' to the analysis (config {ana.source}) or pass masses")
    missing = [m for m in masses if m not in arrays.frame.columns]
    if missing:
        raise UserArgumentError(f"decorrelation masses {missing} of analysis {ana.name!r}: not among its features or "
                                f"masses ({', '.join(map(str, arrays.frame.columns))})")
    return masses, arrays.frame[masses].to_numpy(np.float32), np.abs(arrays.weight) * (arrays.y != 0)


def decorrelated_weights(arrays: TrainingArrays, dec: Decorrelation, ana: Analysis, tr: np.ndarray,
                         va: np.ndarray) -> tuple[np.ndarray, decor.Penalty | None]:
    """The training weights of the events ``tr`` and the DisCo penalty (validation events ``va``) of a training
    with ``dec``, as :func:`train` makes them: what ``hhnb search`` trains its trials with."""
    if dec.method == "none":
        return arrays.sample_weight[tr], None
    _, mass, pw = decorrelation_inputs(arrays, dec, ana)
    return _fold_training(arrays, dec, mass, pw, tr, va)


def _fold_training(arrays: TrainingArrays, dec: Decorrelation, mass: np.ndarray | None, pw: np.ndarray | None,
                   tr: np.ndarray, va: np.ndarray) -> tuple[np.ndarray, decor.Penalty | None]:
    """The training weights of one network and its DisCo penalty (None for a plain or flattened training)."""
    sw = arrays.sample_weight[tr]
    if dec.method == "flat":
        sw = decor.flat_weights(sw, mass[tr], arrays.y[tr] != 0, arrays.y[tr], dec.bins)
    if dec.method == "disco":
        return sw, decor.Penalty(float(dec.strength), mass[tr], pw[tr], mass[va], pw[va])
    return sw, None


def _check_classes(y: np.ndarray, tr: np.ndarray, classes: list[str], where: str) -> None:
    for k, name in enumerate(classes):
        if not (tr & (y == k)).any():
            raise InputFileError(f"{where}: no training events of class {name!r}")


def _test_auc(df: pd.DataFrame, y: np.ndarray, score: np.ndarray, mask: np.ndarray) -> float:
    # samples by their category codes, not as strings: the same per-sample scaling without a string per event
    # (about 100 bytes/event at the peak of a 5M-event training, benchmarks/large_train.py)
    sample = pd.Categorical(df["sample"]).codes
    w = metrics.luminosity_weights(df["weight"].to_numpy(), sample, mask)
    return metrics.roc((y[mask] == 0).astype(int), score[mask], w).area


def _param_card(arrays: TrainingArrays, models: list, signal_events: int | None, head: str) -> dict[str, Any]:
    """What a parameterised network's card adds: its lambdas, its extra input, its head, test AUC at each lambda."""
    test = arrays.test
    return {
        "lambdas": list(arrays.lambdas), "parameter": paths.PARAM_INPUT, "inputs": arrays.inputs,
        "head": head, **_param.head_card(head),
        "score_branches": [],  # written per requested lambda by apply: layout.score_branches(analysis, kl, classes)
        "parameterisation": {
            "reference": "Baldi et al., EPJC 76 (2016) 235", "input": f"last input column {paths.PARAM_INPUT!r}",
            "signal": "each lambda's signal sample with the same total training weight",
            "background": "kappa_lambda drawn (seeded) uniformly from the training lambdas",
            "signal_events_per_lambda": signal_events},
        "test_auc_by_lambda": _param.lambda_aucs(models, arrays.frame, arrays.x[:, :-1], test, arrays.lambdas),
    }


def train(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
          models_dir: str | Path | None = None, n_classes: int | None = None,
          hyper: HyperParameters | None = None, seed: int = 1, max_events: int | None = None,
          generate: bool = False, folds: int | None = None, entry_as_event: bool = False,
          export_onnx: bool = False, lambdas: object = None, signal_events: int | None = None,
          progress: bool | str = False, head: str | None = None, restore_best: bool = True,
          decorrelation: Decorrelation | None = None) -> TrainingRun:
    """Train the network(s) for ``analysis`` at kappa_lambda ``kl`` and write model(s), card and scores.

    ``folds = k >= 2``: k networks, network i trained on ``event % k != i`` (early stopping on a
    seeded 10 % of those) and scoring fold i; the scores table holds every event's out-of-fold
    score (``is_test`` is then true for every event), its ``fold``, and ``is_val`` marks the half
    on which cuts are chosen (:func:`choose_half`). ``folds = 1``: one network, ``event % 5 == 0``
    is the test set, as in earlier versions. ``entry_as_event``: split on entry numbers when the
    config names no event branch (a warning goes into the card). ``export_onnx``: also write
    ``<model>.onnx`` for every network (:mod:`hhnb.nn.onnx`). ``generate=True`` first writes the
    toy files it needs that are missing (said on stdout).

    ``kl = layout.PARAM`` (``"param"``): one network parameterised in kappa_lambda, trained on the
    signal at each of ``lambdas`` (default: the study's grid) with at most ``signal_events`` training
    events per lambda (default ``max_events``); see :mod:`hhnb.nn.parameterised`. ``head``: its output head,
    ``"morphing"`` (default, :mod:`hhnb.nn.morphing`) or ``"dense"`` (kappa_lambda a plain input); card field ``head``.
    ``restore_best=False``: each network keeps its last epoch's weights, not those of its best validation loss
    (card field ``restore_best_weights``). ``decorrelation``: a training that keeps the score independent of the
    analysis' ``decorrelate`` masses (:class:`hhnb.config.training.Decorrelation`, :mod:`hhnb.nn.decorrelation`;
    card field ``decorrelation``).

    ``progress``: one line per epoch of every network (True), none (False, the default), or ``"auto"``: lines
    only in JupyterLab or a terminal (:func:`hhnb.nn.progress.enabled`); each network of a k-fold set is
    introduced by a line naming its fold.
    """
    folds = _folds.check_folds(FOLDS if folds is None else folds)
    kl = paths.PARAM if paths.is_param(kl) else _lambdas.parse(kl)
    ana = _config.analysis(analysis, config)
    where = f"analysis {analysis!r} lambda {paths.tag(kl)}"
    warning = _folds.event_numbers(ana.event, folds, entry_as_event, f"analysis {analysis!r} (config {ana.source})")
    data_dir = paths.data_dir(data_dir)
    models_dir = paths.models_dir(models_dir)
    lr_rule = None if hyper else (f"{'analysis' if ana.learning_rate else 'default'} learning rate "
                                  f"{ana.learning_rate or LEARNING_RATE:g} (quoted at batch {REFERENCE_BATCH}) "
                                  f"x sqrt(batch / {REFERENCE_BATCH})")
    hyper = hyper or HyperParameters.scaled(ana.learning_rate)
    arrays = training_arrays(ana, kl, data_dir, n_classes, max_events, seed, generate, folds, lambdas, signal_events)
    head = _param.check_head(head) if arrays.lambdas else "dense"
    df, features, classes, x, y, sw = (arrays.frame, arrays.features, arrays.classes, arrays.x, arrays.y,
                                       arrays.sample_weight)
    plans = fold_plans(arrays, seed)
    dec = decorrelation or Decorrelation()
    masses, mass, pw = decorrelation_inputs(arrays, dec, ana) if dec.method != "none" else ([], None, None)
    probs = np.zeros((len(df), len(classes)), np.float32)
    results, per_fold = [], []
    for i, ((tr, va, te), fold_seed) in enumerate(plans):
        _check_classes(y, tr, classes, where + (f" fold {i} of {folds}" if folds > 1 else ""))
        label = f"network {i + 1}/{folds}: scores {_folds.rule(ana.event, folds)} == {i}" if folds > 1 else ""
        sw_tr, penalty = _fold_training(arrays, dec, mass, pw, tr, va)
        result = fit(x[tr], y[tr], sw_tr, x[va], y[va], sw[va], len(classes), hyper, seed=fold_seed,
                     progress=progress, label=label, head=head, restore_best=restore_best, penalty=penalty)
        # a single network scores every event (test flag says which it never saw); fold i scores its own fold
        rows = np.ones(len(df), bool) if folds == 1 else te
        probs[rows] = predict(result.model, x if folds == 1 else x[rows])  # all events: no copy of x
        results.append(result)
        per_fold.append({"fold": i, "seed": fold_seed, "epochs_run": result.epochs_run,
                         "training_time_s": round(result.train_time_s, 3),
                         "events": {"train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum())},
                         "test_auc": round(_test_auc(df, y, probs[:, 0], te), 6),
                         "val_loss": round(min(result.history["val_loss"]), 6)})
    # a parameterised network's card reads the input matrix: made now, and the matrix let go before the scores
    # table is made (peak memory of a 5M-event training, benchmarks/large_train.py)
    param_card = _param_card(arrays, [r.model for r in results], signal_events or max_events, head) \
        if arrays.lambdas else None
    inputs = arrays.inputs
    del arrays, x, sw, mass, pw
    te_all = df["is_test"].to_numpy()
    test_auc = round(_test_auc(df, y, probs[:, 0], te_all), 6)
    scores = score_frame(df, probs, classes, analysis, kl)
    card = {
        "analysis": analysis, "lambda": kl, "tag": paths.tag(kl), "features": features, "pads": ana.feature_pads(),
        "negative_weights": ana.negative_weights,
        "classes": classes, "score_branches": paths.score_branches(analysis, kl, classes), "seed": seed,
        "hyperparameters": hyper.as_dict(), "hyperparameters_changed": hyper.changed(),
        **({"learning_rate_rule": lr_rule} if lr_rule else {}),
        "restore_best_weights": restore_best, "decorrelation": {**dec.as_dict(), "masses": masses},
        "log_inputs": [inputs[j] for j in logged_inputs(results[0].model)],
        "epochs_run": max(r.epochs_run for r in results),
        "training_time_s": round(sum(r.train_time_s for r in results), 3),
        "events": {"train": per_fold[0]["events"]["train"], "validation": per_fold[0]["events"]["validation"],
                   "test": int(te_all.sum())},
        "metrics": {"test_auc": test_auc,
                    "val_loss": round(float(np.mean([p["val_loss"] for p in per_fold])), 6)},
        "masses": ana.masses, "tree": ana.tree, "config": str(ana.source), "data_dir": str(data_dir),
        "event_branch": ana.event, "folds": folds, "test_rule": _folds.rule(ana.event, folds),
        "max_events": max_events,  # training events per sample asked for (None: all); a rerun with another differs
        "warnings": [warning] if warning else [],
        "versions": backend.versions(), "devices": backend.devices(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    if folds == 1:
        model_paths = [paths.model_path(models_dir, analysis, kl)]
    else:
        model_paths = [paths.fold_model_path(models_dir, analysis, kl, i, folds) for i in range(folds)]
        fm = _folds.fold_metrics(scores)
        split = _folds.rule(ana.event, folds)
        card["fold_rule"] = f"network i trains on {split} != i and scores {split} == i"
        card["fold_models"] = [p.name for p in model_paths]
        card["per_fold"] = per_fold
        card["events"]["train"] = int(np.mean([p["events"]["train"] for p in per_fold]))
        card["events"]["validation"] = int(np.mean([p["events"]["validation"] for p in per_fold]))
        card["metrics"].update(fm.as_dict())
    if param_card:
        card.update(param_card)
    del df  # the events' frame: only the scores table is written from here
    onnx_paths: list[Path] = []
    if export_onnx:
        onnx_paths = [onnx.export_model(r.model, paths.onnx_path(p), inputs, classes)
                      for r, p in zip(results, model_paths)]
        card["onnx"] = onnx.card_entry(onnx_paths, inputs, classes)
    mps = [save(r.model, p) for r, p in zip(results, model_paths)]
    if folds >= 2:  # a single network of an earlier run with the same name would shadow the set
        for stale in (paths.model_path(models_dir, analysis, kl), paths.onnx_path(
                paths.model_path(models_dir, analysis, kl))):
            stale.unlink(missing_ok=True)
    cp = artifacts.write_card(paths.card_path(models_dir, analysis, kl), card)
    sp = artifacts.write_scores(paths.scores_path(models_dir, analysis, kl), scores)
    return TrainingRun(analysis, kl, mps[0], cp, sp, card, results[0], scores, folds, tuple(mps), tuple(results),
                       tuple(onnx_paths))


def train_parameterised(analysis: str, lambdas: str | Iterable[object] | None = None, **kwargs: Any) -> TrainingRun:
    """Train the parameterised network of ``analysis`` on ``lambdas`` (default: the study's grid of 15).

    Keyword arguments are those of :func:`train` (``folds``, ``max_events``, ``signal_events``, ``hyper``,
    ``export_onnx``, ``head`` ...); the network is described in :mod:`hhnb.nn.parameterised`.
    """
    return train(analysis, paths.PARAM, lambdas=lambdas, **kwargs)
