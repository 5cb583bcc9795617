"""Figures for feature importance (beeswarm, bar, SHAP vs permutation), and the wrapper for one network."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb.config import lambdas as _lambdas
from hhnb.io import artifacts
from hhnb.io.atomic import write_text
from hhnb.plots import style
from hhnb.studies import importance as imp

SHAP_LABEL = r"mean |SHAP value| (change of $p_{sig}$)"


def beeswarm(values: np.ndarray, x: np.ndarray, features: list[str], max_display: int = 20,
             seed: int = 0) -> plt.Figure:
    """shap's beeswarm: each event's SHAP value per feature, coloured by the feature value."""
    shap = imp._shap()
    np.random.seed(seed)  # noqa: NPY002 - shap jitters the points with NumPy's global generator
    style.use_style()
    fig, ax = plt.subplots(figsize=(8, 0.35 * min(max_display, len(features)) + 1.5))
    expl = shap.Explanation(values=np.asarray(values, float), data=np.asarray(x, float), feature_names=list(features))
    shap.plots.beeswarm(expl, max_display=max_display, ax=ax, show=False, plot_size=None,
                        color_bar_label="feature value (low to high)")
    ax.set_xlabel(r"SHAP value (change of $p_{sig}$, probability)")
    ax.scatter([], [], color="grey", s=10, label="one test event")
    ax.legend(loc="lower right", fontsize=9)
    return fig


def bar(table: pd.DataFrame, column: str, xlabel: str, ax: plt.Axes | None = None, label: str | None = None,
        color: str = "C0") -> plt.Figure:
    """Horizontal bars of ``table[column]`` per feature, most important at the top."""
    if ax is None:
        _, ax = style.figure(figsize=(7, 0.32 * len(table) + 1.5))
    t = table.iloc[::-1]
    ax.barh(t["feature"], t[column], color=color, label=label or column)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("network input")
    ax.tick_params(axis="y", labelsize=10, which="both", left=False, right=False)
    ax.legend(loc="lower right", fontsize=10)
    return ax.figure


def side_by_side(shap_rank: pd.DataFrame, perm_rank: pd.DataFrame, explainer: str) -> plt.Figure:
    """Two bar panels: mean |SHAP| and the permutation AUC drop, each ordered by its own ranking."""
    n = max(len(shap_rank), len(perm_rank))
    fig, (a, b) = style.figure(1, 2, figsize=(13, 0.32 * n + 1.8))
    bar(shap_rank, "mean_abs_shap", SHAP_LABEL, ax=a, label=f"SHAP ({explainer})")
    bar(perm_rank, "auc_drop", "AUC drop when shuffled", ax=b, label="permutation", color="C1")
    b.set_ylabel("")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class ImportanceReport:
    """What the SHAP notebook shows: rankings, comparison, timing, figures, files written."""

    shap_ranking: pd.DataFrame
    permutation: pd.DataFrame
    comparison: pd.DataFrame
    spearman: float
    explain_time_s: float
    n_explain: int
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]


def make(analysis: str, kl: object, models_dir: str | Path | None = None, outdir: str | Path | None = None,
         explainer: str = "gradient", n_explain: int = 1000, n_background: int = 200, seed: int = 1,
         save: bool = True) -> ImportanceReport:
    """Load a network and its saved scores, compute SHAP and permutation importance, draw and save."""
    from hhnb import layout as paths
    from hhnb.nn.model import load

    models = paths.models_dir(models_dir)
    card = artifacts.read_card(models, analysis, kl)
    scores = artifacts.read_scores(models, analysis, kl)
    features = list(card["features"])
    missing = [f for f in features if f not in scores.columns]
    if missing:
        raise KeyError(f"scores file {artifacts.scores_path(models, analysis, kl)} lacks the input(s) {missing}")
    model = load(artifacts.model_path(models, analysis, kl))
    explain_df, background_df = imp.sample_events(scores, n_explain, n_background, seed)
    x = explain_df[features].to_numpy(np.float32)
    t0 = time.perf_counter()
    values = imp.explain(model, x, background_df[features].to_numpy(np.float32), explainer, seed=seed)
    elapsed = time.perf_counter() - t0
    shap_rank = imp.ranking(values, features)
    test = scores[scores["is_test"].to_numpy(bool)]
    perm = imp.permutation_importance(model, test[features].to_numpy(np.float32), test["label"].to_numpy() == 0,
                                      test["weight"].to_numpy(float), features, seed=seed)
    table = imp.compare(shap_rank, perm)
    figures = {"shap_beeswarm": beeswarm(values, x, features, seed=seed),
               "shap_bar": bar(shap_rank, "mean_abs_shap", SHAP_LABEL, label=f"SHAP ({explainer})"),
               "shap_vs_permutation": side_by_side(shap_rank, perm, explainer)}
    outdir = Path(outdir) if outdir is not None else imp.output_dir(analysis, _lambdas.tag(kl))
    written: list[Path] = []
    if save:
        for name, fig in figures.items():
            written += style.save(fig, outdir, name)
        written.append(write_text(outdir / "shap_ranking.csv", shap_rank.to_csv(index=False, float_format="%.6g")))
        written.append(write_text(outdir / "permutation_importance.csv",
                                  perm.to_csv(index=False, float_format="%.6g")))
        written.append(write_text(outdir / "shap_vs_permutation.csv", table.to_csv(index=False, float_format="%.6g")))
    return ImportanceReport(shap_rank, perm, table, imp.rank_correlation(table), elapsed, len(x), figures, outdir,
                            written)
