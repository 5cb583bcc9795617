"""Every figure function of hhnb.plots: a Figure whose axes carry labels (with units), no mathtext
warnings, and an image comparison against a baseline PNG (tolerance ``TOL``, RMS on a 0-255 scale).

The inputs are seeded and the style and dpi fixed. After an intended change of a figure,
regenerate the baselines and look at them before committing:

    HHNB_REGENERATE_BASELINES=1 .venv/bin/python -m pytest tests/test_plots.py -q -k image

(writes ``tests/baseline/<name>.png``; the comparison's failures leave ``result``, ``expected``
and ``-failed-diff`` PNGs in pytest's temporary folder).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import hist  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.testing.compare import compare_images  # noqa: E402

from hhnb.plots import correlations as pcorr  # noqa: E402
from hhnb.plots import evaluation as pev  # noqa: E402
from hhnb.plots import importance as pimp  # noqa: E402
from hhnb.plots import kinematics as pkin  # noqa: E402
from hhnb.plots import style  # noqa: E402
from hhnb.plots import summary as psum  # noqa: E402
from hhnb.stats import metrics  # noqa: E402
from hhnb.studies import correlations as corr  # noqa: E402
from hhnb.studies import kinematics as kin  # noqa: E402

BASELINE = Path(__file__).parent / "baseline"
DPI = 50
TOL = 2.0
REGENERATE = os.environ.get("HHNB_REGENERATE_BASELINES") == "1"


def _scores(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """A seeded scores table as train.ipynb writes it: label 0 = signal, score_sig, is_test, is_val, weight."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    sig = label == 0
    score = np.where(sig, rng.beta(5, 2, n), rng.beta(2, 5, n))
    return pd.DataFrame({"label": label, "score_sig": score, "discriminant": metrics.discriminant(score),
                         "is_test": rng.random(n) < 0.3, "is_val": rng.random(n) < 0.1,
                         "weight": np.where(sig, 0.05, 2.0),
                         "sample": np.where(sig, "hh", np.where(label == 1, "qcd", "ttbar")),
                         "m_hh": np.where(sig, rng.normal(420, 60, n), rng.exponential(200, n) + 250)})


def _scans():
    df = _scores()
    sig = df["label"].to_numpy() == 0
    s, w = df["score_sig"].to_numpy(), df["weight"].to_numpy()
    return (metrics.significance_scan(s, sig, w, bins=200, min_bkg=10.0),
            metrics.significance_scan(s, sig, w, bins=200, min_bkg=10.0, method="simple"))


def _kinematics_hists():
    rng = np.random.default_rng(2)
    frames = {"hh": pd.DataFrame({"h1_j1_M": rng.gamma(4, 2.0, 2000), "h1_j1_Pt": rng.gamma(4, 40, 2000),
                                  "nBTags": rng.integers(2, 6, 2000), "m_hh": rng.normal(420, 60, 2000)}),
              "qcd": pd.DataFrame({"h1_j1_M": rng.gamma(3, 2.5, 2000), "h1_j1_Pt": rng.gamma(3, 40, 2000),
                                   "nBTags": rng.integers(2, 5, 2000), "m_hh": rng.exponential(200, 2000) + 250})}
    for df in frames.values():
        df["weight"] = 1.0
    names = ["h1_j1_M", "h1_j1_Pt", "nBTags", "m_hh"]
    hs = {v: kin.histograms(frames, v, pkin._edges(frames, v)) for v in names}
    return hs, {v: kin.VARIABLES[v][0] for v in names}


def _correlation_inputs():
    df = _scores(1)
    edges = corr.mass_edges(df["m_hh"].to_numpy(), 20, name="m_hh")
    hists, profiles = {}, {}
    for name, g in df.groupby("sample"):
        m, s, w = g["m_hh"].to_numpy(), g["score_sig"].to_numpy(), g["weight"].to_numpy()
        hists[name] = corr.histogram2d(m, s, edges, w, mass_label="m_hh")
        profiles[name] = corr.profile(m, s, edges, w)
    bkg = df[df["label"] != 0]
    sculpt = {"m_hh": corr.sculpting(bkg["m_hh"].to_numpy(), bkg["score_sig"].to_numpy(), edges,
                                     bkg["weight"].to_numpy(), 0.5)}
    return hists, profiles, sculpt


def _ranking():
    feats = [f"feature_{i}" for i in range(6)]
    shap_rank = pd.DataFrame({"feature": feats, "mean_abs_shap": np.linspace(0.2, 0.01, 6)})
    perm = pd.DataFrame({"feature": feats[::-1], "auc_drop": np.linspace(0.1, 0.0, 6)})
    return shap_rank, perm


def _overlay():
    return {k: v for k, v in kin.mhh_truth((-5.0, 1.0, 10.0), n=5000, seed=1).items()}


def _evals():
    return pd.DataFrame({"analysis": ["resolved"] * 3 + ["boosted"] * 3, "lambda": [-5.0, 1.0, 10.0] * 2,
                         "auc": [0.93, 0.95, 0.97, 0.88, 0.90, 0.91], "max_significance": [2.0, 2.4, 3.5, 1.0, 1.2, 1.9]})


def _beeswarm():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 4))
    return pimp.beeswarm(x * np.array([0.3, 0.1, 0.05, 0.01]), x, ["a [GeV]", "b", "c", "d"], seed=0)


CASES = {
    "learning_curve": lambda: pev.learning_curve({"loss": [0.9, 0.7, 0.6, 0.55, 0.52],
                                                  "val_loss": [0.95, 0.75, 0.66, 0.63, 0.64]}),
    "roc_curve": lambda: pev.roc_curve(metrics.roc(_scores()["label"] == 0, _scores()["score_sig"])),
    "pr_curve": lambda: pev.pr_curve(metrics.precision_recall(_scores()["label"] == 0, _scores()["score_sig"])),
    "score_distributions": lambda: pev.score_distributions(_scores(), xlabel="Signal probability $p_{sig}$"),
    "significance_curve": lambda: pev.significance_curve(*_scans()),
    "confusion_matrix": lambda: pev.confusion_matrix(np.array([[800, 50], [30, 120]]), 0.75),
    "kinematics_grid": lambda: pkin.grid(*_kinematics_hists(), lumi=300.0),
    "kinematics_overlay": lambda: pkin.overlay(_overlay(), r"$m_{hh}$ [GeV]", "HH, parton level (toy)"),
    "score_vs_mass": lambda: pcorr.score_vs_mass(*_correlation_inputs()[:2], "m_hh"),
    "sculpting": lambda: pcorr.sculpting(_correlation_inputs()[2], 0.5),
    "importance_bar": lambda: pimp.bar(_ranking()[0], "mean_abs_shap", pimp.SHAP_LABEL),
    "importance_side_by_side": lambda: pimp.side_by_side(*_ranking(), "gradient"),
    "importance_beeswarm": _beeswarm,
    "summary_metrics_vs_lambda": lambda: psum.metrics_vs_lambda(_evals()),
}

# what the x or y label of the first panel must contain (the unit, where the quantity has one)
UNITS = {
    "learning_curve": ("Epoch", "[nats]"), "significance_curve": ("Cut", "[σ]"),
    "kinematics_grid": ("[GeV]", "/ GeV"), "kinematics_overlay": ("[GeV]", "/ GeV"),
    "score_vs_mass": ("[GeV]", "score"), "sculpting": ("[GeV]", "/ GeV"),
    "importance_bar": ("SHAP", "input"), "summary_metrics_vs_lambda": (r"\kappa_\lambda", "AUC"),
}


def _draw(name: str) -> plt.Figure:
    style.use_style()
    return CASES[name]()


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_has_labelled_axes_and_no_mathtext_warning(name, caplog, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. missing glyphs, tight_layout failures
        with caplog.at_level(logging.WARNING, logger="matplotlib"):
            fig = _draw(name)
            fig.savefig(tmp_path / "f.png", dpi=DPI)
            fig.savefig(tmp_path / "f.pdf")
    assert isinstance(fig, plt.Figure)
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")], caplog.text
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"
              and ax.get_xlabel() + ax.get_ylabel()]
    assert panels, "no labelled axes"
    for ax in panels:
        assert ax.get_xlabel() or ax.get_ylabel()
    if name in UNITS:
        xs = " ".join(ax.get_xlabel() for ax in panels)
        ys = " ".join(ax.get_ylabel() for ax in panels)
        assert UNITS[name][0] in xs, xs
        assert UNITS[name][1] in ys, ys


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_is_at_most_two_panels_wide(name):
    fig = _draw(name)
    width = fig.get_size_inches()[0]
    assert width <= 2 * style.PANEL[0] + 0.5, width
    lefts = {round(ax.get_position().x0, 2) for ax in fig.axes
             if ax.get_visible() and ax.get_label() != "<colorbar>" and ax.get_xlabel()}
    assert len(lefts) <= 2, lefts


@pytest.mark.parametrize("name", sorted(CASES))
def test_image_matches_baseline(name, tmp_path):
    fig = _draw(name)
    expected = BASELINE / f"{name}.png"
    if REGENERATE:
        BASELINE.mkdir(exist_ok=True)
        fig.savefig(expected, dpi=DPI, metadata={"Software": None})
        pytest.skip(f"regenerated {expected}")
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=DPI, metadata={"Software": None})
    assert expected.exists(), f"no baseline {expected}: see this module's docstring to make one"
    result = compare_images(str(expected), str(actual), tol=TOL)
    assert result is None, result


def test_significance_curves_distinct_where_they_coincide():
    """Asimov Z and s/√b are almost equal here (s << b); both lines must differ in style to be seen."""
    fig = _draw("significance_curve")
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 2
    a, b = lines
    assert (a.get_linestyle(), a.get_linewidth(), a.get_marker()) != (b.get_linestyle(), b.get_linewidth(),
                                                                     b.get_marker())
    assert a.get_zorder() != b.get_zorder()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "s/√b" in labels and "Asimov Z" in labels


def test_learning_curve_markers_inside_the_frame():
    fig = _draw("learning_curve")
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo < 1 and hi > 5
    ylo, yhi = ax.get_ylim()
    assert ylo < 0.52 and yhi > 0.95


def test_experiment_label_is_one_text_above_the_axes():
    fig = _draw("kinematics_grid")
    texts = [t for t in fig.axes[0].texts if "hhnb" in t.get_text()]
    assert len(texts) == 1
    assert "300 fb$^{-1}$" in texts[0].get_text() and "14 TeV" in texts[0].get_text()
    fig.canvas.draw()
    bbox = texts[0].get_window_extent()
    assert bbox.y0 >= fig.axes[0].get_window_extent().y1 - 1


def test_kinematics_range_follows_the_data():
    """A b-jet mass of a few GeV is binned over its own range, not in the first bins of 0-60 GeV."""
    hs, _ = _kinematics_hists()
    edges = hs["h1_j1_M"]["hh"].axes[0].edges
    assert 0.0 <= edges[0] < 2.0 and 20 < edges[-1] < 40  # not 0-60 GeV
    assert (hs["h1_j1_M"]["hh"].values() > 0).sum() >= 25
    counts = hs["nBTags"]["hh"].axes[0].edges
    assert counts.tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]


def test_data_edges_for_counts_and_continuous_values():
    e = pkin.data_edges([np.array([3.0, 4.0]), np.array([2.0])], [np.ones(2), np.ones(1)], np.arange(-0.5, 12.5))
    assert e.tolist() == [1.5, 2.5, 3.5, 4.5]
    v = np.random.default_rng(0).normal(100.0, 10.0, 10_000)
    e = pkin.data_edges([v], [np.ones_like(v)], np.linspace(0, 600, 31), bins=10)
    assert len(e) == 11 and 65 < e[0] < 80 and 120 < e[-1] < 135
    assert pkin.data_edges([], [], np.array([0.0, 1.0])).tolist() == [0.0, 1.0]


def test_grid_shape_and_density_label():
    assert style.grid_shape(9) == (5, 2)
    assert style.density_label(r"$\phi$ [rad]") == "fraction of events / rad"


def test_histogram_hist_inputs_unchanged():
    """grid draws hist.Hist objects as given (normalised by the caller)."""
    h = hist.Hist(hist.axis.Regular(4, 0, 4, label="x"))
    h.fill([0.5, 1.5])
    fig = pkin.grid({"x": {"a": h}}, {"x": "x [GeV]"})
    assert fig.axes[0].get_xlim() == (0.0, 2.0)  # only the filled bins
