"""Figures of a network's performance: learning curve, ROC, PR, score distributions, significance."""

from __future__ import annotations

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
import pandas as pd

from hhnb.plots.style import figure, label
from hhnb.studies import metrics


def learning_curve(history: dict[str, list[float]]):
    """Training and validation loss per epoch."""
    fig, ax = figure()
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training")
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], "s--", label="validation")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Weighted cross-entropy loss")
    ax.legend()
    label(ax, lumi=None)
    return fig


def roc_curve(curve: metrics.Curve, name: str = "network"):
    """Signal efficiency vs background rejection (weighted)."""
    fig, ax = figure()
    ax.plot(curve.x, curve.y, label=f"{name} (AUC = {curve.area:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="random")
    ax.set_xlabel("Background efficiency")
    ax.set_ylabel("Signal efficiency")
    ax.legend(loc="lower right")
    label(ax)
    return fig


def pr_curve(curve: metrics.Curve):
    """Precision vs recall (weighted) with the average precision."""
    fig, ax = figure()
    ax.plot(curve.x, curve.y, label=f"AP = {curve.area:.3f}")
    ax.set_xlabel("Recall (signal efficiency)")
    ax.set_ylabel("Precision (signal purity)")
    ax.set_yscale("log")
    ax.legend()
    label(ax)
    return fig


def score_distributions(scores: pd.DataFrame, column: str = "score_sig", bins: int = 40, xlabel: str | None = None):
    """Normalised score distributions of signal and background, train (filled) over test (points)."""
    fig, ax = figure()
    values = scores[column].to_numpy(float)
    lo, hi = (0.0, 1.0) if column.startswith("score") else (float(np.quantile(values, 0.001)),
                                                           float(np.quantile(values, 0.999)))
    axis = hist.axis.Regular(bins, lo, hi, name="score", label=xlabel or column)
    test = scores["is_test"].to_numpy(bool)
    train = ~test & ~scores.get("is_val", pd.Series(False, index=scores.index)).to_numpy(bool)
    sig = scores["label"].to_numpy() == 0
    for mask, name, color in ((sig, "signal", "tab:blue"), (~sig, "background", "tab:red")):
        for part, style in ((train, "train"), (test, "test")):
            h = hist.Hist(axis, storage=hist.storage.Weight())
            sel = mask & part
            h.fill(score=np.clip(values[sel], lo, hi - 1e-9))
            ks = metrics.ks_overtraining(values[mask & train], values[mask & test])
            if style == "train":
                mplhep.histplot(h, density=True, histtype="fill", alpha=0.3, color=color, ax=ax,
                                label=f"{name} train")
            else:
                mplhep.histplot(h, density=True, histtype="errorbar", color=color, ax=ax,
                                label=f"{name} test (KS p = {ks:.2f})")
    ax.set_xlabel(xlabel or column)
    ax.set_ylabel("Normalised events")
    ax.set_yscale("log")
    ax.legend(fontsize=11)
    label(ax, lumi=None)
    return fig


def significance_curve(scan: metrics.Scan, *others: metrics.Scan, xlabel: str = "Cut on signal probability"):
    """Significance versus score cut (Asimov Z, and e.g. s/sqrt(b)) with each maximum marked."""
    fig, ax = figure()
    names = {"asimov": "Asimov Z", "simple": r"$s/\sqrt{b}$"}
    for sc, color in zip((scan, *others), ("tab:blue", "tab:orange", "tab:green")):
        ok = sc.nbkg > 0
        ax.plot(sc.cuts[ok], sc.z[ok], color=color, label=names.get(sc.method, sc.method))
        ax.axvline(sc.best_cut, ls="--", color=color, alpha=0.7,
                   label=f"max {sc.best_z:.3f} at {sc.best_cut:.3f} (nsig {sc.best_nsig:.1f}, nbkg {sc.best_nbkg:.1f})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Significance Z")
    ax.legend(fontsize=11)
    label(ax)
    return fig


def confusion_matrix(matrix: np.ndarray, cut: float):
    """Confusion matrix (test events, unweighted counts) at a cut."""
    fig, ax = figure()
    m = np.asarray(matrix, float)
    ax.imshow(m / m.sum(axis=1, keepdims=True), cmap="Blues", vmin=0, vmax=1)
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=16)
    ax.set_xticks([0, 1], ["background", "signal"])
    ax.set_yticks([0, 1], ["background", "signal"])
    ax.set_xlabel(f"Predicted (score > {cut:g})")
    ax.set_ylabel("True class")
    plt.setp(ax.get_yticklabels(), rotation=90, va="center")
    return fig
