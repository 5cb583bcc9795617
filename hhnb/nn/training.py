"""One training run end to end: read the ntuples, train, save model + card + scores.

``train("resolved", 1.0)`` is what ``notebooks/train.ipynb`` calls.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hhnb import layout as paths
from hhnb.config import analyses as _config
from hhnb.config import lambdas as _lambdas
from hhnb.config.analyses import Analysis
from hhnb.io import artifacts
from hhnb.io import ntuples as data
from hhnb.nn.model import HyperParameters, TrainResult, class_balanced_weights, devices, fit, predict, save, versions
from hhnb.studies import metrics

VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class TrainingRun:
    """A finished training: where its files are and its headline numbers."""

    analysis: str
    kl: float
    model_path: Path
    card_path: Path
    scores_path: Path
    card: dict[str, Any]
    result: TrainResult
    scores: pd.DataFrame


def validation_mask(event: np.ndarray, seed: int) -> np.ndarray:
    """A seeded 10 % of the training events for early stopping (never the test set)."""
    rng = np.random.default_rng(seed)
    return (rng.random(len(event)) < VALIDATION_FRACTION) & ~data.is_test(event)


def subsample(df: pd.DataFrame, max_events: int | None, seed: int) -> pd.DataFrame:
    """Keep at most ``max_events`` training events per sample (test events are all kept)."""
    if not max_events:
        return df
    rng = np.random.default_rng(seed + 7)
    keep = np.ones(len(df), bool)
    for name in df["sample"].cat.categories:
        idx = np.flatnonzero((df["sample"] == name).to_numpy() & ~df["is_test"].to_numpy())
        if len(idx) > max_events:
            drop = rng.choice(idx, len(idx) - max_events, replace=False)
            keep[drop] = False
    out = df[keep].copy()
    # the kept training events carry the weight of the dropped ones
    for name in df["sample"].cat.categories:
        m_all = (df["sample"] == name).to_numpy() & ~df["is_test"].to_numpy()
        m_out = (out["sample"] == name).to_numpy() & ~out["is_test"].to_numpy()
        if m_out.any():
            out.loc[m_out, "weight"] *= df.loc[m_all, "weight"].sum() / out.loc[m_out, "weight"].sum()
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class TrainingArrays:
    """The events of one analysis and lambda as a network sees them, and the three disjoint sets.

    ``weight`` is the physical (luminosity) weight; ``sample_weight`` the class-balanced
    training weight; ``train``, ``val``, ``test`` are boolean masks over ``frame``'s rows.
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


def training_arrays(ana: Analysis, kl: float, data_dir: str | Path, n_classes: int | None = None,
                    max_events: int | None = None, seed: int = 1, generate: bool = False) -> TrainingArrays:
    """Read the ntuples and build the arrays every training uses (train, search and the benchmarks)."""
    df = data.load(ana, kl, data_dir, n_classes=n_classes, generate=generate)
    df = subsample(df, max_events, seed)
    classes = list(ana.classes) if (n_classes or len(ana.classes)) == len(ana.classes) else [ana.classes[0], "background"]
    df["is_val"] = validation_mask(df["event"].to_numpy(), seed)
    features = list(ana.features)
    y = df["label"].to_numpy(np.int32)
    weight = df["weight"].to_numpy(np.float64)
    test = df["is_test"].to_numpy()
    val = df["is_val"].to_numpy()
    return TrainingArrays(df, features, classes, df[features].to_numpy(np.float32), y, weight,
                          class_balanced_weights(y, weight), ~test & ~val, val, test)


def score_frame(df: pd.DataFrame, probs: np.ndarray, classes: list[str], analysis: str, kl: float) -> pd.DataFrame:
    """The scores table downstream notebooks read: outputs, discriminant, meta columns, masses, features."""
    out = pd.DataFrame({f"score_{c}": probs[:, i].astype(np.float32) for i, c in enumerate(classes)})
    out.insert(0, "score_sig", probs[:, 0].astype(np.float32))
    out["discriminant"] = metrics.discriminant(probs[:, 0]).astype(np.float32)
    for col in ("sample", "label", "weight", "event", "is_test", "is_val"):
        out[col] = df[col].to_numpy()
    for col in df.columns:
        if col not in out and col not in data.META and col != "is_val":
            out[col] = df[col].to_numpy()
    out.attrs.update({"analysis": analysis, "lambda": kl})
    return out


def output_dir(analysis: str, kl: object) -> Path:
    """The run folder of one network (``layout.run_dir``): its plots and tables."""
    return paths.run_dir(analysis, kl)


def train(analysis: str, kl: object, config: str | Path | None = None, data_dir: str | Path | None = None,
          models_dir: str | Path | None = None, n_classes: int | None = None,
          hyper: HyperParameters | None = None, seed: int = 1, max_events: int | None = None,
          generate: bool = False) -> TrainingRun:
    """Train one network for ``analysis`` at kappa_lambda ``kl`` and write model, card and scores.

    ``generate=True`` first writes the toy files it needs that are missing (said on stdout).
    """
    kl = _lambdas.parse(kl)
    ana = _config.analysis(analysis, config)
    data_dir = paths.data_dir(data_dir)
    models_dir = paths.models_dir(models_dir)
    hyper = hyper or HyperParameters(learning_rate=ana.learning_rate)
    arrays = training_arrays(ana, kl, data_dir, n_classes, max_events, seed, generate)
    df, features, classes, x, y, sw = (arrays.frame, arrays.features, arrays.classes, arrays.x, arrays.y,
                                       arrays.sample_weight)
    tr, va, te = arrays.train, arrays.val, arrays.test
    for k, name in enumerate(classes):
        if not (tr & (y == k)).any():
            raise data.InputError(f"analysis {analysis!r} lambda {_lambdas.tag(kl)}: no training events of class {name!r}")
    result = fit(x[tr], y[tr], sw[tr], x[va], y[va], sw[va], len(classes), hyper, seed=seed)
    probs = predict(result.model, x)
    scores = score_frame(df, probs, classes, analysis, kl)
    w_te = metrics.luminosity_weights(df["weight"].to_numpy(), df["sample"].astype(str).to_numpy(), te)
    roc = metrics.roc((y[te] == 0).astype(int), probs[te, 0], w_te)
    card = {
        "analysis": analysis, "lambda": kl, "tag": _lambdas.tag(kl), "features": features, "classes": classes,
        "score_branches": paths.score_branches(analysis, kl, classes), "seed": seed,
        "hyperparameters": hyper.as_dict(), "epochs_run": result.epochs_run,
        "training_time_s": round(result.train_time_s, 3),
        "events": {"train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum())},
        "metrics": {"test_auc": round(roc.area, 6), "val_loss": round(min(result.history["val_loss"]), 6)},
        "masses": ana.masses, "tree": ana.tree, "config": str(ana.source), "data_dir": str(data_dir),
        "event_branch": ana.event, "test_rule": f"{ana.event or 'entry'} % {data.TEST_MODULUS} == 0",
        "versions": versions(), "devices": devices(), "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    mp = save(result.model, artifacts.model_path(models_dir, analysis, kl))
    cp = artifacts.write_card(artifacts.card_path(models_dir, analysis, kl), card)
    sp = artifacts.write_scores(artifacts.scores_path(models_dir, analysis, kl), scores)
    return TrainingRun(analysis, kl, mp, cp, sp, card, result, scores)
