"""hhnb.plots.evaluation: learning curves, ROC, PR, score distributions, significance and confusion figures."""

from __future__ import annotations

from types import SimpleNamespace

import figures
import numpy as np

from hhnb.plots import evaluation as pev
from hhnb.stats import metrics


def _scans():
    df = figures.scores()
    sig = df["label"].to_numpy() == 0
    s, w = df["score_sig"].to_numpy(), df["weight"].to_numpy()
    return (metrics.significance_scan(s, sig, w, bins=200, min_bkg=10.0),
            metrics.significance_scan(s, sig, w, bins=200, min_bkg=10.0, method="simple"))


CASES = {
    "learning_curve": lambda: pev.learning_curve({"loss": [0.9, 0.7, 0.6, 0.55, 0.52],
                                                  "val_loss": [0.95, 0.75, 0.66, 0.63, 0.64]}),
    "roc_curve": lambda: pev.roc_curve(metrics.roc(figures.scores()["label"] == 0, figures.scores()["score_sig"])),
    "pr_curve": lambda: pev.pr_curve(metrics.precision_recall(figures.scores()["label"] == 0,
                                                              figures.scores()["score_sig"])),
    "score_distributions": lambda: pev.score_distributions(figures.scores(), xlabel="Signal probability $p_{sig}$"),
    "significance_curve": lambda: pev.significance_curve(*_scans()),
    "confusion_matrix": lambda: pev.confusion_matrix(np.array([[800, 50], [30, 120]]), 0.75),
}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {"learning_curve": ("Epoch", "[nats]"), "significance_curve": ("Cut", "[σ]")}


# labelled axes, at most two panels wide, the baseline image: the checks of every figure (tests/figures.py)
(test_figure_has_labelled_axes_and_no_mathtext_warning, test_figure_is_at_most_two_panels_wide,
 test_image_matches_baseline) = figures.standard_tests(CASES, UNITS)


def test_significance_curves_distinct_where_they_coincide():
    """Asimov Z and s/√b are almost equal here (s << b); both lines must differ in style to be seen."""
    fig = figures.draw(CASES["significance_curve"])
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 2
    a, b = lines
    assert (a.get_linestyle(), a.get_linewidth(), a.get_marker()) != (b.get_linestyle(), b.get_linewidth(),
                                                                     b.get_marker())
    assert a.get_zorder() != b.get_zorder()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "s/√b" in labels and "Asimov Z" in labels


def test_learning_curve_markers_inside_the_frame():
    fig = figures.draw(CASES["learning_curve"])
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 1 and hi > 5
    ylo, yhi = ax.get_ylim()
    assert ylo < 0.52 and yhi > 0.95


def test_learning_curves_one_colour_a_fold():
    histories = [{"loss": [0.9, 0.7, 0.6], "val_loss": [0.95, 0.8, 0.7]}, {"loss": [0.8, 0.6], "val_loss": [0.9, 0.75]}]
    fig = pev.learning_curves(histories)
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["fold 0 training", "fold 0 validation", "fold 1 training",
                                                "fold 1 validation"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert lines[0].get_linestyle() == "-" and lines[1].get_linestyle() == "--"
    assert ax.get_xlim() == (0.5, 3.5)  # the longest history, half an epoch of margin
    assert ax.get_xlabel() == "Epoch" and "[nats]" in ax.get_ylabel()
    one = pev.learning_curves(histories[:1])  # one network: the plain learning curve
    assert [ln.get_label() for ln in one.axes[0].get_lines()] == ["training", "validation"]


def test_fold_roc_curves_quote_each_fold_and_the_mean():
    fpr = np.linspace(0.0, 1.0, 11)
    tpr = (np.sqrt(fpr), fpr ** 0.25)
    mean = (tpr[0] + tpr[1]) / 2
    rocs = SimpleNamespace(fpr=fpr, tpr=tpr, aucs=(0.667, 0.8), mean=mean, std=np.abs(tpr[0] - tpr[1]) / 2)
    fig = pev.fold_roc_curves(rocs, lumi=3000.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:2] == ["fold 0 (AUC = 0.667)", "fold 1 (AUC = 0.800)"]
    assert "mean (AUC = 0.734 ± 0.094)" in labels and "mean ± 1 std. dev." in labels  # std with ddof 1
    thick = next(ln for ln in ax.get_lines() if ln.get_label().startswith("mean"))
    np.testing.assert_allclose(thick.get_ydata(), mean)
    assert "3000 fb$^{-1}$" in ax.texts[0].get_text()
