"""k-fold cross-validation: the deterministic fold rule, the masks of each network, out-of-fold metrics.

Network ``i`` of a k-fold set trains on the events whose fold ``event % k`` differs from
``i`` and scores fold ``i`` only, so every event gets a score from a network that never
saw it (TMVA's CrossValidation with ``SplitExpr = eventNumber % k``; weaver's
``--cross-validation``). ``k = 1`` means today's single split: ``event % 5 == 0`` is the
test set. No TensorFlow here: plain arrays in, arrays and small records out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hhnb.errors import InputFileError, UserArgumentError
from hhnb.io.ntuples import TEST_MODULUS
from hhnb.stats import metrics

VALIDATION_FRACTION = 0.1
MAX_FOLDS = 100


def check_folds(folds: object) -> int:
    """``folds`` as an int: 1 (single split) or k >= 2; anything else is a one-line error.

    >>> check_folds(3)
    3
    """
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or not 1 <= int(folds) <= MAX_FOLDS:
        raise UserArgumentError(f"folds={folds!r}: expected 1 (single train/test split, event % {TEST_MODULUS} == 0 "
                         f"is the test set) or an integer k with 2 <= k <= {MAX_FOLDS} (k-fold, fold = event % k)")
    return int(folds)


def fold_of(event: np.ndarray, folds: int) -> np.ndarray:
    """The fold of each event: ``event % k`` (int32), deterministic and independent of file order.

    >>> fold_of(np.array([0, 1, 2, 3, 4, 5, -1]), 3).tolist()
    [0, 1, 2, 0, 1, 2, 2]
    """
    k = check_folds(folds)
    if k < 2:
        raise UserArgumentError(f"folds={k}: a fold rule needs k >= 2 (k = 1 is the single split event % {TEST_MODULUS} == 0)")
    return np.mod(np.asarray(event, np.int64), k).astype(np.int32)


def rule(event_branch: str | None, folds: int) -> str:
    """The split rule written into the model card, e.g. ``eventNumber % 3`` or ``eventNumber % 5 == 0``."""
    name = event_branch or "entry"
    return f"{name} % {folds}" if folds >= 2 else f"{name} % {TEST_MODULUS} == 0"


def validation_mask(event: np.ndarray, train: np.ndarray, seed: int, fold: int | None = None) -> np.ndarray:
    """A seeded 10 % of the ``train`` events for early stopping (never a test event).

    ``fold=None`` reproduces the single-split draw of earlier versions; each fold of a
    k-fold set draws its own 10 % so that no event is kept out of every network's training.
    """
    rng = np.random.default_rng(seed if fold is None else [seed, 1009, fold])
    return (rng.random(len(event)) < VALIDATION_FRACTION) & np.asarray(train, bool)


def event_numbers(analysis_event: str | None, folds: int, entry_as_event: bool, where: str) -> str | None:
    """Refuse a k-fold split without an event branch unless the user accepts entry numbers; the card warning."""
    if analysis_event or folds < 2:
        return None if analysis_event else ("no event branch: the split uses entry numbers, which change if the "
                                            "files are re-ordered or split")
    if not entry_as_event:
        raise InputFileError(f"{where}: no event branch (key 'event') to compute the fold (event % {folds}); "
                         f"add 'event: <branch>' to the analysis, or pass entry_as_event=True (--entry-as-event) "
                         f"to split on entry numbers")
    return (f"no event branch: folds are entry % {folds}; apply must see the same files in the same order "
            f"(entry numbers restart in each file)")


@dataclass(frozen=True)
class FoldMetrics:
    """Weighted AUC of each network on its own (unseen) fold, with the mean and spread."""

    aucs: tuple[float, ...]
    events: tuple[int, ...]
    mean: float
    std: float  # sample standard deviation of the per-fold AUCs (ddof=1)
    oof_auc: float  # AUC of all out-of-fold scores together

    def as_dict(self) -> dict[str, object]:
        return {"fold_auc": [round(a, 6) for a in self.aucs], "fold_events": list(self.events),
                "fold_auc_mean": round(self.mean, 6), "fold_auc_std": round(self.std, 6),
                "oof_auc": round(self.oof_auc, 6)}


def _signal_and_weights(scores: pd.DataFrame, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = metrics.luminosity_weights(scores["weight"].to_numpy(float), scores["sample"].astype(str).to_numpy(), mask)
    return (scores["label"].to_numpy()[mask] == 0).astype(int), w


def fold_metrics(scores: pd.DataFrame, score: str = "score_sig") -> FoldMetrics:
    """Per-fold weighted AUCs (signal vs all, each fold's weights scaled to the full luminosity)."""
    if "fold" not in scores:
        raise UserArgumentError("the scores table has no 'fold' column: it was not written by a k-fold training")
    fold = scores["fold"].to_numpy()
    aucs, events = [], []
    for i in np.unique(fold):
        m = fold == i
        y, w = _signal_and_weights(scores, m)
        aucs.append(metrics.roc(y, scores[score].to_numpy()[m], w).area)
        events.append(int(m.sum()))
    y, w = _signal_and_weights(scores, np.ones(len(scores), bool))
    oof = metrics.roc(y, scores[score].to_numpy(), w).area
    a = np.asarray(aucs)
    return FoldMetrics(tuple(float(v) for v in a), tuple(events), float(a.mean()),
                       float(a.std(ddof=1)) if len(a) > 1 else 0.0, float(oof))


@dataclass(frozen=True)
class FoldRocs:
    """Per-fold ROC curves on a common false-positive-rate grid, with their mean and spread (for plotting)."""

    fpr: np.ndarray  # common grid
    tpr: np.ndarray  # (k, len(fpr)): each fold's curve interpolated onto the grid
    mean: np.ndarray
    std: np.ndarray  # sample standard deviation over folds, point by point
    aucs: tuple[float, ...]


def fold_rocs(scores: pd.DataFrame, score: str = "score_sig", points: int = 201) -> FoldRocs:
    """Each fold's weighted ROC curve interpolated on ``points`` false-positive rates in [0, 1]."""
    if "fold" not in scores:
        raise UserArgumentError("the scores table has no 'fold' column: it was not written by a k-fold training")
    grid = np.linspace(0.0, 1.0, points)
    fold = scores["fold"].to_numpy()
    curves, aucs = [], []
    for i in np.unique(fold):
        m = fold == i
        y, w = _signal_and_weights(scores, m)
        c = metrics.roc(y, scores[score].to_numpy()[m], w)
        curves.append(np.interp(grid, c.x, c.y))
        aucs.append(c.area)
    tpr = np.vstack(curves)
    return FoldRocs(grid, tpr, tpr.mean(axis=0), tpr.std(axis=0, ddof=1) if len(tpr) > 1 else np.zeros(points),
                    tuple(float(a) for a in aucs))


def fold_view(scores: pd.DataFrame, fold: int) -> pd.DataFrame:
    """The scores seen from network ``fold``: ``is_test`` = its own fold, the rest its training folds.

    Lets single-network code (SHAP: explain test events, background from training events)
    run per fold on a k-fold set.
    """
    out = scores.copy()
    out["is_test"] = out["fold"].to_numpy() == fold
    return out
