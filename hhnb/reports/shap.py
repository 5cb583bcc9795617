"""The SHAP notebook's report: SHAP values of the signal output and permutation importance, per fold and combined.

Population (said in the notebook): explained events are drawn from the events each network never
saw, reference events from its training events, both with probability proportional to |weight|
within each class, classes balanced as in training (``studies.importance.physical_draw``). For a
k-fold set each network is explained on its own fold (``nn.folds.fold_view``); the combined
ranking pools the k networks' SHAP values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hhnb import layout
from hhnb.config import lambdas as _lambdas
from hhnb.errors import MissingArtifactError
from hhnb.io import artifacts
from hhnb.nn import folds as _folds
from hhnb.nn.saving import load
from hhnb.plots.importance import SHAP_LABEL, bar, beeswarm, side_by_side
from hhnb.reports._common import save_all
from hhnb.studies import importance as imp


@dataclass(frozen=True)
class ShapReport:
    """What shap.ipynb shows: combined and per-fold rankings, permutation importance, figures, files written."""

    shap_ranking: pd.DataFrame  # combined over folds: mean |SHAP| with bootstrap error and rank range
    permutation: pd.DataFrame  # physical-population AUC drop (mean over folds) with its error
    comparison: pd.DataFrame
    fold_ranks: pd.DataFrame | None  # feature x fold SHAP rank (k-fold sets), ordered by the combined rank
    spearman: float
    explain_time_s: float
    n_explain: int
    folds: int
    population: str
    figures: dict[str, plt.Figure]
    outdir: Path
    written: list[Path]


def _networks(models: Path, card: dict, analysis: str, kl: object) -> list[Path]:
    folds = int(card.get("folds", 1))
    paths = ([models / n for n in card.get("fold_models", [])] if folds > 1
             else [layout.model_path(models, analysis, kl)])
    absent = [p.name for p in paths if not p.exists()]
    if absent or (folds > 1 and len(paths) != folds):
        raise MissingArtifactError(f"model card {layout.card_path(models, analysis, kl)}: network file(s) "
                                   f"{', '.join(absent) or 'fold_models'} missing in {models} (retrain)")
    return paths


def make(analysis: str, kl: object, models_dir: str | Path | None = None, outdir: str | Path | None = None,
         explainer: str = "gradient", n_explain: int = 300, n_background: int = 200, n_permutation: int = 2000,
         repeats: int = 3, seed: int = 1, save: bool = True) -> ShapReport:
    """Load the network(s) and saved scores; SHAP and permutation importance per network; draw and save.

    ``n_explain`` events are explained in all (split evenly over the folds of a k-fold set);
    permutation importance uses ``n_permutation`` events per repeat and network.
    """

    models = layout.models_dir(models_dir)
    card = artifacts.read_card(models, analysis, kl)
    scores = artifacts.read_scores(models, analysis, kl)
    features = list(card["features"])
    missing = [f for f in features if f not in scores.columns]
    if missing:
        raise MissingArtifactError(f"scores file {layout.scores_path(models, analysis, kl)} lacks the "
                                   f"input(s) {missing} (retrain)")
    nets = _networks(models, card, analysis, kl)
    k = len(nets)
    values, xs, perms, per_fold = [], [], [], []
    elapsed = 0.0
    for i, path in enumerate(nets):
        view = scores if k == 1 else _folds.fold_view(scores, i).assign(is_val=False)
        model = load(path)
        n_i = n_explain // k + (1 if i < n_explain % k else 0)
        explain_df, background_df = imp.sample_events(view, n_i, n_background, seed + i)
        x = explain_df[features].to_numpy(np.float32)
        t0 = time.perf_counter()
        v = imp.explain(model, x, background_df[features].to_numpy(np.float32), explainer, seed=seed)
        elapsed += time.perf_counter() - t0
        values.append(v)
        xs.append(x)
        per_fold.append(imp.ranking(v, features, seed=seed))
        test = view[view["is_test"].to_numpy(bool)]
        perms.append(imp.physical_permutation_importance(
            model, test[features].to_numpy(np.float32), test["label"].to_numpy(), test["weight"].to_numpy(float),
            features, n_events=n_permutation, repeats=repeats, seed=seed + 100 * i))
    all_values, all_x = np.concatenate(values), np.concatenate(xs)
    shap_rank = imp.ranking(all_values, features, seed=seed)
    perm = _combine_permutations(perms)
    fold_ranks = None
    if k > 1:
        fold_ranks = shap_rank[["feature", "rank"]].rename(columns={"rank": "combined"})
        for i, r in enumerate(per_fold):
            fold_ranks = fold_ranks.merge(r[["feature", "rank"]].rename(columns={"rank": f"fold {i}"}), on="feature")
    table = imp.compare(shap_rank, perm)
    figures = {"shap_beeswarm": beeswarm(all_values, all_x, features, seed=seed),
               "shap_bar": bar(shap_rank, "mean_abs_shap", SHAP_LABEL, label=f"SHAP ({explainer})"),
               "shap_vs_permutation": side_by_side(shap_rank, perm, explainer)}
    population = ("explained: events each network never saw; reference: its training events; both drawn with "
                  "probability proportional to |weight| within each class, classes balanced as in training; "
                  "SHAP of the signal output p_sig" + (f"; {k} networks, each on its own fold" if k > 1 else ""))
    outdir = Path(outdir) if outdir is not None else imp.output_dir(analysis, _lambdas.tag(kl))
    tables = {"shap_ranking": shap_rank, "permutation_importance": perm, "shap_vs_permutation": table}
    if fold_ranks is not None:
        tables["shap_rank_per_fold"] = fold_ranks
    written = save_all(outdir, figures, tables) if save else []
    return ShapReport(shap_rank, perm, table, fold_ranks, imp.rank_correlation(table), elapsed, len(all_x), k,
                      population, figures, outdir, written)


def _combine_permutations(perms: list[pd.DataFrame]) -> pd.DataFrame:
    """Average the networks' AUC drops per feature; error: their errors combined (one network: its own)."""
    if len(perms) == 1:
        return perms[0]
    cat = pd.concat(perms)
    g = cat.groupby("feature", sort=False)
    df = pd.DataFrame({"auc_drop": g["auc_drop"].mean(), "auc_drop_std": g["auc_drop"].std(ddof=1),
                       "auc_drop_error": np.sqrt(g["auc_drop_error"].apply(lambda e: (e ** 2).sum())) / len(perms),
                       "auc_base": g["auc_base"].mean()}).reset_index()
    df = df.sort_values("auc_drop", ascending=False, kind="stable").reset_index(drop=True)
    df["rank"] = np.arange(1, len(df) + 1)
    return df
