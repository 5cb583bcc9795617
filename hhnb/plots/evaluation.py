"""Figures of a network's performance: learning curve, ROC, PR, score distributions, significance."""

from __future__ import annotations

import hist
import matplotlib.pyplot as plt
import mplhep
import numpy as np
import pandas as pd

from hhnb.plots.style import density_label as style_density_label
from hhnb.plots.style import figure, label
from hhnb.stats import metrics


def learning_curve(history: dict[str, list[float]]):
    """Training and validation loss per epoch (half an epoch of margin, so no marker touches the frame)."""
    fig, ax = figure()
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], "o-", label="training")
    curves = [np.asarray(history["loss"], float)]
    if "val_loss" in history:
        ax.plot(epochs, history["val_loss"], "s--", label="validation")
        curves.append(np.asarray(history["val_loss"], float))
    ax.set_xlim(0.5, len(epochs) + 0.5)
    lo, hi = float(min(np.nanmin(c) for c in curves)), float(max(np.nanmax(c) for c in curves))
    pad = 0.08 * (hi - lo) if hi > lo else 0.05 * abs(hi) + 1e-3
    ax.set_ylim(lo - pad, hi + 2.5 * pad)  # room for the legend above the curves
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Weighted cross-entropy loss [nats]")
    ax.legend(loc="upper right")
    label(ax, lumi=None)
    return fig


def learning_curves(histories: list[dict[str, list[float]]]):
    """Training (solid) and validation (dashed) loss per epoch of each network of a k-fold set, one colour a fold."""
    if len(histories) == 1:
        return learning_curve(histories[0])
    fig, ax = figure()
    curves, longest = [], 1
    for i, h in enumerate(histories):
        epochs = np.arange(1, len(h["loss"]) + 1)
        longest = max(longest, len(epochs))
        ax.plot(epochs, h["loss"], "o-", color=f"C{i}", ms=4, label=f"fold {i} training")
        curves.append(np.asarray(h["loss"], float))
        if "val_loss" in h:
            ax.plot(epochs, h["val_loss"], "s--", color=f"C{i}", ms=4, label=f"fold {i} validation")
            curves.append(np.asarray(h["val_loss"], float))
    ax.set_xlim(0.5, longest + 0.5)
    lo, hi = float(min(np.nanmin(c) for c in curves)), float(max(np.nanmax(c) for c in curves))
    pad = 0.08 * (hi - lo) if hi > lo else 0.05 * abs(hi) + 1e-3
    ax.set_ylim(lo - pad, hi + 4 * pad)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("Epoch")
    ax.set_ylabel("Weighted cross-entropy loss [nats]")
    ax.legend(loc="upper right", fontsize=9, ncols=2)
    label(ax, lumi=None)
    return fig


def roc_curve(curve: metrics.Curve, name: str = "network", lumi: float | None = None):
    """Signal efficiency vs background rejection (weighted)."""
    fig, ax = figure()
    ax.plot(curve.x, curve.y, label=f"{name} (AUC = {curve.area:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Background efficiency (weighted)")
    ax.set_ylabel("Signal efficiency (weighted)")
    ax.legend(loc="lower right")
    label(ax, lumi=lumi)
    return fig


def fold_roc_curves(rocs, lumi: float | None = None):
    """Each fold's weighted ROC curve (thin), their mean (thick) and the +-1 standard deviation band."""
    fig, ax = figure()
    for i, (tpr, auc) in enumerate(zip(rocs.tpr, rocs.aucs)):
        ax.plot(rocs.fpr, tpr, lw=1.0, alpha=0.7, ls=("-", "--", ":", "-.")[i % 4],
                label=f"fold {i} (AUC = {auc:.3f})")
    ax.fill_between(rocs.fpr, np.clip(rocs.mean - rocs.std, 0, 1), np.clip(rocs.mean + rocs.std, 0, 1),
                    color="grey", alpha=0.3, label="mean ± 1 std. dev.")
    a = np.asarray(rocs.aucs)
    spread = a.std(ddof=1) if len(a) > 1 else 0.0
    ax.plot(rocs.fpr, rocs.mean, color="black", lw=2.2, label=f"mean (AUC = {a.mean():.3f} ± {spread:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="random")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Background efficiency (weighted)")
    ax.set_ylabel("Signal efficiency (weighted)")
    ax.legend(loc="lower right", fontsize=10)
    label(ax, lumi=lumi)
    return fig


def pr_curve(curve: metrics.Curve, lumi: float | None = None):
    """Precision vs recall (weighted) with the average precision."""
    fig, ax = figure()
    ax.plot(curve.x, curve.y, label=f"AP = {curve.area:.3f}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("Recall (signal efficiency)")
    ax.set_ylabel("Precision (signal purity)")
    ax.set_yscale("log")
    ax.legend(loc="upper right")
    label(ax, lumi=lumi)
    return fig


def score_distributions(scores: pd.DataFrame, column: str = "score_sig", bins: int = 40, xlabel: str | None = None,
                        ks_pvalues: tuple[float, float] | None = None):
    """Normalised score distributions of signal and background, train (filled) over test (points).

    ``ks_pvalues``: (signal, background) p-values for the legend, e.g. the weighted per-class test of
    ``metrics.overtraining`` (background: the smallest over its classes); None: an unweighted KS here.
    Without training events (a k-fold set's out-of-fold scores) only the test points are drawn.
    """
    fig, ax = figure()
    values = scores[column].to_numpy(float)
    lo, hi = (0.0, 1.0) if column.startswith("score") else (float(np.quantile(values, 0.001)),
                                                           float(np.quantile(values, 0.999)))
    axis = hist.axis.Regular(bins, lo, hi, name="score", label=xlabel or column)
    test = scores["is_test"].to_numpy(bool)
    train = ~test & ~scores.get("is_val", pd.Series(False, index=scores.index)).to_numpy(bool)
    sig = scores["label"].to_numpy() == 0
    weight = scores["weight"].to_numpy(float) if "weight" in scores else np.ones(len(scores))
    weighted = "weight" in scores and ks_pvalues is not None
    for n, (mask, name, color) in enumerate(((sig, "signal", "tab:blue"), (~sig, "background", "tab:red"))):
        for part, style in ((train, "train"), (test, "test")):
            sel = mask & part
            if not sel.any():
                continue
            h = hist.Hist(axis, storage=hist.storage.Weight())
            h.fill(score=np.clip(values[sel], lo, hi - 1e-9), weight=weight[sel] if weighted else None)
            ks = (ks_pvalues[n] if ks_pvalues is not None
                  else metrics.ks_overtraining(values[mask & train], values[mask & test]) if train.any() else None)
            if style == "train":
                mplhep.histplot(h, density=True, histtype="fill", alpha=0.3, color=color, ax=ax,
                                label=f"{name} train")
            else:  # points with their statistical error; empty bins drawn as nothing (log scale)
                norm = max(float(h.values().sum()), 1e-300) * np.diff(axis.edges)
                density = np.where(h.values() > 0, h.values() / norm, np.nan)
                ax.errorbar(axis.centers, density, yerr=np.sqrt(h.variances()) / norm, fmt="o", ms=4, color=color,
                            label=f"{name} test" + (f" (KS p = {ks:.2f})" if ks is not None and train.any()
                                                    else " (out-of-fold)" if not train.any() else ""))
    ax.set_xlabel(xlabel or column)
    ax.set_xlim(lo, hi)
    ax.set_ylabel(style_density_label(xlabel or column))
    ax.set_yscale("log")
    top = ax.get_ylim()[1]
    ax.set_ylim(top=top * 30)  # a decade and a half of room for the legend above the histograms
    ax.legend(fontsize=10, ncols=2, loc="upper center")
    label(ax, lumi=None)
    return fig


def significance_curve(scan: metrics.Scan, *others: metrics.Scan, xlabel: str = "Cut on signal probability",
                       zoom: bool = True, lumi: float | None = None):
    """Significance versus score cut (Asimov Z, and e.g. s/sqrt(b)) with each maximum marked.

    ``zoom``: the x range starts where Z first reaches a tenth of its maximum (a well-trained
    network's scan rises only in the last percent of the score range, invisible on 0-1).
    """
    fig, ax = figure()
    # Distinct colour, line style, width and marker per curve: where Asimov Z and s/√b coincide
    # (s << b) both stay visible, the thick solid line under the thin dashed one with markers.
    styles = ({"color": "tab:blue", "ls": "-", "lw": 3.0, "zorder": 2},
              {"color": "tab:orange", "ls": "--", "lw": 1.6, "marker": "o", "ms": 4, "markevery": 0.05, "zorder": 3},
              {"color": "tab:green", "ls": ":", "lw": 2.0, "marker": "^", "ms": 4, "markevery": 0.05, "zorder": 4})
    names = {"asimov": "Asimov Z", "simple": "s/√b"}  # Unicode: mathtext's \sqrt warns in the HEP fonts
    best_styles = ("--", "-.", ":")
    for sc, st, bls in zip((scan, *others), styles, best_styles):
        ok = sc.nbkg > 0
        name = names.get(sc.method, sc.method) + (f" (σ_b: {sc.sigma_b})" if sc.sigma_b else "")
        ax.plot(sc.cuts[ok], sc.z[ok], label=name, **st)
        ax.axvline(sc.best_cut, ls=bls, color=st["color"], lw=1.2, alpha=0.8,
                   label=f"max {sc.best_z:.2f} at cut {sc.best_cut:.3f}\n(s = {sc.best_nsig:.1f}, b = {sc.best_nbkg:.1f})")
    if zoom:
        ax.set_xlim(*_rising_range(scan))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Significance Z [σ]")
    ax.set_ylim(bottom=0, top=ax.get_ylim()[1] * 1.45)  # room for the legend above the curves
    ax.legend(fontsize=10, ncols=2, loc="upper left")
    label(ax, lumi=lumi)
    return fig


def _rising_range(scan: metrics.Scan) -> tuple[float, float]:
    """From the first cut where Z reaches 10 % of its maximum to the last cut with background, padded by 5 %."""
    ok = scan.nbkg > 0
    cuts, z = np.asarray(scan.cuts)[ok], np.asarray(scan.z)[ok]
    if len(cuts) < 2 or not np.isfinite(z).any() or np.nanmax(z) <= 0:
        return float(scan.cuts[0]), float(scan.cuts[-1])
    lo = float(cuts[np.argmax(z >= 0.1 * np.nanmax(z))])
    hi = float(cuts[-1])
    pad = 0.05 * (hi - lo) if hi > lo else 0.01
    return max(float(cuts[0]), lo - pad), hi + pad


def confusion_matrix(matrix: np.ndarray, cut: float, lumi: float | None = None):
    """Confusion matrix at a cut: weighted yields (expected events at the analysis luminosity, ``.3g``)
    and the fraction of each true class."""
    fig, ax = figure()
    m = np.asarray(matrix, float)
    totals = m.sum(axis=1, keepdims=True)
    frac = np.divide(m, totals, out=np.zeros_like(m), where=totals > 0)
    image = ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, label="fraction of the true class")
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, f"{v:.3g}\n({frac[i, j]:.1%})", ha="center", va="center", fontsize=15,
                color="white" if frac[i, j] > 0.6 else "black")
    ax.set_xticks([0, 1], ["background", "signal"])
    ax.set_yticks([0, 1], ["background", "signal"])
    ax.set_xlabel(f"Predicted class (signal if score > {cut:g})")
    ax.set_ylabel("True class (weighted test events)")
    plt.setp(ax.get_yticklabels(), rotation=90, va="center")
    if lumi is not None:
        label(ax, lumi=lumi)
    return fig
